"""SDV GaussianCopula sampling through medsynth: the fast beta inverse CDF against scipy's."""

from __future__ import annotations

import numpy as np


def test_fast_beta_ppf_matches_scipy():
    """GaussianCopula's beta marginals through the spline: scipy's inverse CDF within 1e-11 of the range."""
    from scipy import stats

    from medsynth.tabular.sdv_models import _FastBetaPPF

    u = stats.norm.cdf(np.random.default_rng(0).standard_normal(20_000))
    u[:4] = [0.0, 1.0, 0.5, 1 - 1e-12]  # bounds and a far-tail value (scipy's path)
    for a, b in [(0.9, 3.2), (3.9, 852.0), (4.5, 3.7e9), (1.004, 0.997), (0.3, 0.4)]:
        f = _FastBetaPPF(a, b, 2.0, 50.0)
        assert f.spline is not None
        np.testing.assert_allclose(f(u), stats.beta.ppf(u, a, b, loc=2.0, scale=50.0), rtol=0, atol=50.0 * 1e-11)
