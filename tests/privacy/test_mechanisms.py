"""zCDP conversions and the DP domain estimators."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medsynth.core.errors import PrivacyBudgetError
from medsynth.privacy.ledger import LEVEL_WINDOW, PrivacyLedger, delta_level, delta_text
from medsynth.privacy.mechanisms import cdp_delta, cdp_epsilon, cdp_rho, dp_bounds, dp_categories, dp_presence


@pytest.mark.parametrize("eps,delta", [(0.1, 1e-6), (1.0, 1e-5), (10.0, 1e-9)])
def test_cdp_conversions_are_consistent(eps, delta):
    rho = cdp_rho(eps, delta)
    assert cdp_delta(rho, eps) <= delta * (1 + 1e-6)
    assert cdp_delta(rho * 1.01, eps) > delta  # the largest such rho
    assert cdp_epsilon(rho, delta) == pytest.approx(eps, rel=1e-4)
    # the classical bound eps = rho + 2 sqrt(rho log(1/delta)) is looser
    assert rho + 2 * math.sqrt(rho * math.log(1 / delta)) >= eps


def test_cdp_rho_rejects_bad_budget():
    with pytest.raises(PrivacyBudgetError):
        cdp_rho(0.0, 1e-5)
    with pytest.raises(PrivacyBudgetError):
        cdp_rho(1.0, 1.5)


def test_dp_bounds_cover_the_bulk_and_cut_sparse_tails():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(50, 10, 20000), [1e6]])  # one outlier
    res = dp_bounds(x, rho=0.5, rng=rng)
    assert res.low <= np.quantile(x, 0.01) and res.high >= np.quantile(x, 0.99)
    assert res.high < 1000, "a single outlier must not be revealed"


def test_dp_bounds_refuse_without_budget():
    with pytest.raises(PrivacyBudgetError, match="declare min/max"):
        dp_bounds(np.arange(10.0), rho=1e-6, rng=np.random.default_rng(0))


def test_dp_categories_hide_rare_values():
    keys = np.array(["a"] * 5000 + ["b"] * 3000 + ["rare"])
    out = dp_categories(keys, rho=0.5, delta=1e-6, rng=np.random.default_rng(0))
    assert out == ["a", "b"]


def test_ledger_composes_in_rho_refuses_overspend_and_round_trips(tmp_path):
    led = PrivacyLedger(private=True, target_epsilon=1.0, target_delta=1e-5)
    led.reserve_delta(1e-6)
    rho = led.rho_budget
    assert rho == pytest.approx(cdp_rho(1.0, 9e-6))
    a = led.record("a", "gaussian", rho=0.4 * rho, delta=5e-7)
    led.record("b", "gaussian", rho=0.6 * rho)
    # composed in rho and converted once: the total is the target, while adding the parts' epsilons overshoots
    assert led.total_epsilon == pytest.approx(1.0, rel=1e-6) and led.total_delta == pytest.approx(9.5e-6)
    assert a.epsilon + led.entries[1].epsilon > 1.2
    with pytest.raises(PrivacyBudgetError, match="past the target"):
        led.record("c", "gaussian", rho=0.01 * rho)
    with pytest.raises(PrivacyBudgetError, match="reserved"):
        led.record("d", "threshold", delta=1e-6)
    back = PrivacyLedger.load(led.save(tmp_path))
    assert back.total_epsilon == pytest.approx(1.0, rel=1e-6) and len(back.entries) == 2
    assert back.reserved_delta == 1e-6 and back.unit.startswith("one row")
    open_led = PrivacyLedger(private=False)
    open_led.record("fit", "none", rho=5.0)
    assert open_led.to_dict()["private"] is False and open_led.entries[0].rho is None


@pytest.mark.parametrize("n", [1e5 + 600, 2.7e5, 499_800, 5e5, 1e6, 3.3e6])
def test_a_table_too_large_for_its_delta_claims_a_lower_level_that_covers_every_level_its_size_can_get(n):
    """delta 1e-5 on more than 100k rows: instead of a refusal, a power of ten the noisy count chooses. A table of n rows
    may get any level a count within LEVEL_WINDOW deviations of n chooses; whatever the count, the run claims at least
    the sum of those levels and the chance of a count further off, and that stays below 0.6/n."""
    sigma = 29.0
    reach = {delta_level(1e-5, c, sigma)[0] for c in np.linspace(n - LEVEL_WINDOW * sigma, n + LEVEL_WINDOW * sigma, 301)}
    for count in np.linspace(n - LEVEL_WINDOW * sigma, n + LEVEL_WINDOW * sigma, 41):
        used, claim, lowest = delta_level(1e-5, count, sigma)
        assert sum(reach) + 2.6e-12 <= claim * (1 + 1e-9) and claim < 0.6 / n and used in reach and lowest <= min(reach)


def test_delta_level_keeps_a_delta_below_one_over_n_and_refuses_where_it_cannot_choose():
    sigma = 29.0
    assert delta_level(1e-5, 50_000, sigma) is None and delta_level(1e-5, 99_900, sigma) is None
    with pytest.raises(PrivacyBudgetError, match=r"too close to 1/delta .* use e\.g\. --delta 1e-06"):
        delta_level(1e-5, 100_100, sigma)
    with pytest.raises(PrivacyBudgetError, match=r"delta 0\.1 must be below 1/n, n = rows .* too small"):
        delta_level(0.1, 40, sigma)
    with pytest.raises(PrivacyBudgetError, match="too small"):  # the claim would reach 1/n for a size the count allows
        delta_level(0.1, 760, 29.6)


def test_a_lower_delta_level_keeps_the_threshold_share_and_adds_the_level_part(tmp_path):
    led = PrivacyLedger(private=True, target_epsilon=1.0, target_delta=1e-5)
    led.reserve_delta(5e-7)  # 5% for category thresholds
    count = led.record("number of rows", "gaussian", rho=0.02 * led.rho_budget)
    assert led.take_delta_level(499_800, 29.0) == pytest.approx(1.1e-6 + 2.6e-12, rel=1e-9)
    assert led.reserved_delta == pytest.approx(5e-8) and led.conversion_delta == pytest.approx(9.5e-7)
    assert led.rho_budget == pytest.approx(cdp_rho(1.0, 9.5e-7))
    assert count.epsilon == pytest.approx(cdp_epsilon(count.rho, 9.5e-7))  # re-stated at the new conversion delta
    led.record("model", "gaussian", rho=led.rho_budget - led.rho_spent)
    assert led.total_epsilon == pytest.approx(1.0, rel=1e-6) and led.total_delta == pytest.approx(1.05e-6, rel=1e-5)
    assert "delta 1.1e-06 instead of the 1e-05 asked" in led.notes[0] and "(1, 1e-05)-DP" in led.notes[0]
    back = PrivacyLedger.load(led.save(tmp_path))
    assert back.level_delta == pytest.approx(1e-7, abs=1e-11) and back.total_delta == pytest.approx(1.05e-6, rel=1e-5)


def test_a_lower_delta_level_that_the_row_count_would_starve_is_refused_before_the_target_moves():
    """The count's rho is planned at the asked delta: at epsilon 0.1 and delta 0.5 it took 14 times a 1e-4 level's whole
    budget, the fit failed later with 'rho 0.0' and its ledger read an epsilon past its own target."""
    led = PrivacyLedger(private=True, target_epsilon=0.1, target_delta=0.5)
    led.record("number of rows", "gaussian", rho=0.02 * led.rho_budget)
    with pytest.raises(PrivacyBudgetError, match="too little budget after the count"):
        led.take_delta_level(2007, 1 / math.sqrt(2 * led.rho_spent))
    assert led.target_delta == 0.5 and led.level_delta == 0.0


def test_a_delta_is_printed_rounded_up():
    """Labels and model cards print the claim: never below it (1.05e-06 had printed as 1e-06)."""
    assert [delta_text(d) for d in (1e-5, 1.05e-6, 1e-6 + 2.6e-12, 9.5e-7)] == ["1e-05", "1.05e-06", "1.01e-06", "9.5e-07"]


def test_ledger_composes_dp_sgd_with_zcdp_against_opacus():
    """A DP-SGD entry alone converts like opacus' RDP accountant; with a zCDP entry beside it the total is
    the conversion of the summed curves (tighter than adding the two epsilons)."""
    from medsynth.privacy.dpsgd import compute_epsilon

    led = PrivacyLedger(private=True, target_epsilon=10.0, target_delta=1e-5)
    sgd = {"noise_multiplier": 1.0, "sample_rate": 0.01, "steps": 1000}
    led.record("sgd", "dp-sgd", sgd=sgd)
    assert led.total_epsilon == pytest.approx(compute_epsilon(1.0, 0.01, 1000, 1e-5, "rdp"), rel=0.01)
    led.record("count", "gaussian", rho=0.01)
    assert led.total_epsilon < led.entries[0].epsilon + led.entries[1].epsilon


def test_dp_bounds_release_missingness_with_the_same_histogram():
    rng = np.random.default_rng(0)
    x = rng.normal(50, 10, 5000)
    assert not dp_bounds(x, rho=0.05, rng=rng).missing, "no missing values: pure noise must not pass"
    x[:500] = np.nan
    assert dp_bounds(x, rho=0.05, rng=rng).missing


def test_dp_presence_false_positive_rate_is_small():
    rng = np.random.default_rng(1)
    hits = sum(dp_presence(0, rho=0.01, rng=rng) for _ in range(2000))
    assert hits <= 10  # 0.13% expected
    assert dp_presence(200, rho=0.01, rng=rng)  # sigma ~7: 200 clears 3 sigma


def test_dp_bounds_never_come_from_a_noise_only_bucket():
    """Ages 40-80 and a budget so small that pure noise in ~100 empty buckets would often clear 3 sigma: the
    union-corrected threshold and the shoulder rule keep every bound next to the data (200 noise draws)."""
    x = np.random.default_rng(0).normal(60, 6, 3000).clip(40, 80)
    for seed in range(200):
        try:
            res = dp_bounds(x, rho=2e-5, rng=np.random.default_rng(seed))
        except PrivacyBudgetError:
            continue
        assert 8 <= res.low and res.high <= 256, (seed, res.low, res.high)


def test_dp_bounds_refine_inside_the_power_of_two():
    """Sodium-like values 125-150 sit inside [64, 256): the range is cut inside the powers of two."""
    x = np.random.default_rng(1).normal(138, 4, 6000)
    res = dp_bounds(x, rho=0.01, rng=np.random.default_rng(2))
    assert 100 <= res.low <= 128 and 148 <= res.high <= 180
    assert res.counts is not None and res.counts.size == res.edges.size - 1


def test_dates_are_located_on_the_calendar_not_on_powers_of_two_of_days_since_1970():
    """survival's rhDNase: 450 follow-up ends of March-September 1992. Powers of two of days since 1970 cut the
    calendar at 1992-06-06 and 2014-11-09; at epsilon 1 the range released was 1992-06-06 to 2014-11-10 (a tenth of
    the dates clipped, the synthetic follow-up 380 days against the real 169). Relative to the DP-located years the
    dates lie in one or two powers of two of days, and the range is that of the data."""
    import pandas as pd

    from medsynth.privacy.locate import locate_date, refine

    rs = np.random.default_rng(0)
    days = pd.Timestamp("1992-03-20") + pd.to_timedelta(rs.gamma(2, 45, 450).clip(0, 180), unit="D")
    x = ((days - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(float)
    day = lambda s: (pd.Timestamp(s) - pd.Timestamp("1970-01-01")).days  # noqa: E731
    widths = []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        loc = locate_date(x, 0.0006, rng)
        res = refine(loc, 0.0014, rng)
        assert abs(res.rho - 0.002) < 1e-12  # the year histogram is paid from the date's budget
        assert day("1989-01-01") < res.low and res.high < day("1997-01-01"), seed
        assert np.mean((x < res.low) | (x > res.high)) <= 0.1, seed  # a tight range may cut a thin edge (up to 9% here)
        assert res.edges[0] == res.low and res.edges[-1] == res.high  # the reused 1-way's cells in days since 1970
        widths.append(res.high - res.low)
    assert np.median(widths) < 1.5 * 365  # the power of two of days holding them (512-1024 days after the origin)
    # one year's run lies in one power of two after the origin (from a run's length before it, a year lay across two:
    # 1849's cholera deaths came out with 8-20% of synthetic dates in another year, a data scientist)
    from medsynth.privacy.locate import _year_origin

    one_year = np.full(400, float(day("1849-06-01"))) + rs.integers(-150, 200, 400)
    got = [_year_origin(one_year, 0.01, np.random.default_rng(s), 1.0) for s in range(3)]
    assert got == [float(day("1849-01-01") - 512)] * 3, got
    with pytest.raises(PrivacyBudgetError, match="cannot locate the values with DP"):  # no rows: nothing located
        refine(locate_date(np.full(5, np.nan), 0.0006, np.random.default_rng(0)), 0.0014, np.random.default_rng(0))
