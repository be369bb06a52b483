"""Contribution bounds of the multi-table DP model: the default K, weighted rows, weighted marginals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from multitable_helpers import make_dataset, public_schema

from medsynth.tabular.multi_counts import dp_count_distribution
from medsynth.tabular.multi_mst import MultiTableDPMST

TINY = {"bins": 6, "fine_bins": 16}


def _many_visits(n: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """make_dataset's patients, each with 5 to 10 visits (its visits repeated, days spread, in order)."""
    tables = make_dataset(n, seed=seed)
    rng = np.random.default_rng(seed)
    rows = []
    for pid, g in tables["visits"].groupby("id"):
        k = int(rng.integers(5, 11))
        pick = g.iloc[rng.integers(0, len(g), k)].copy()
        fut = int(tables["patients"].loc[tables["patients"]["id"] == pid, "futime"].iloc[0])
        pick["day"] = np.sort(rng.choice(np.arange(fut), size=k, replace=False))
        pick["visit"] = np.arange(1, k + 1)
        rows.append(pick)
    visits = pd.concat(rows, ignore_index=True)
    visits["visit_id"] = np.arange(1, len(visits) + 1)
    return {"patients": tables["patients"], "visits": visits}


def test_default_bound_keeps_every_row_and_more_than_one_per_parent(seeded_dp_noise):
    """Parents with 5-10 children: the DP-chosen K is above 1, every visit is measured, a patient's visits
    weigh min(1, K/n) each (at most K together), and the visit model is charged at sensitivity K."""
    tables = _many_visits(200)
    model = MultiTableDPMST(TINY, privacy={"epsilon": 3.0, "delta": 1e-5}).fit(tables, public_schema(tables))
    bounds = model.meta["contribution_bounds"]["visits"]
    k = bounds["max_children"]
    assert 2 <= k <= 10 and bounds["rows_measured"] == "all" and bounds["rows_per_patient"] == k
    w = model.models["visits"].row_weights
    n = tables["visits"].groupby("id").size().sort_index().to_numpy()
    assert w is not None and len(w) == n.sum(), "every visit is measured"
    per_patient = np.add.reduceat(w, np.r_[0, np.cumsum(n)[:-1]])
    np.testing.assert_allclose(per_patient, np.minimum(n, k))
    assert f"K = {k} row-equivalent(s) per 'patients' row" in model.privacy_ledger.contribution_bound
    assert "weighing min(1, K/n)" in model.privacy_ledger.contribution_bound
    assert any(e.details.get("sensitivity_rows_per_unit") == float(k) for e in model.privacy_ledger.entries)
    assert model.privacy_ledger.total_epsilon <= 3.0 * (1 + 1e-9)


def test_sample_contribution_keeps_at_most_k_rows_per_parent(seeded_dp_noise):
    tables = _many_visits(120, seed=1)
    model = MultiTableDPMST({**TINY, "max_children": 3, "contribution": "sample"},
                            privacy={"epsilon": 2.0, "delta": 1e-5}).fit(tables, public_schema(tables))
    assert model.models["visits"].row_weights is None  # kept rows weigh 1
    assert model.meta["contribution_bounds"]["visits"]["rows_measured"] == "at most 3 per parent"
    assert "at most K random rows per parent measured" in model.privacy_ledger.contribution_bound
    assert model.privacy_ledger.total_epsilon <= 2.0 * (1 + 1e-9)


def test_weighted_count_distribution_and_marginals():
    counts = np.array([1, 1, 2, 3])
    cm = dp_count_distribution(counts, None, np.random.default_rng(0), weights=np.array([1.0, 1.0, 0.5, 0.5]))
    np.testing.assert_allclose(cm.probs, [2 / 3, 1 / 6, 1 / 6])
    assert cm.parents == pytest.approx(3.0)
    # the marginal engine measures weighted counts: a category on rows of weight ~0 is (almost) never sampled
    from medsynth.tabular.mst import DPMST

    df = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 50, "x": np.r_[np.zeros(50), np.ones(50)]})
    schema = None
    m = DPMST({"bins": 4, "fine_bins": 8})
    m.row_weights = np.r_[np.ones(50), np.full(50, 1e-6)]
    out = m.fit(df, schema).sample(400, seed=0)
    assert (out["c"] == "a").mean() > 0.99
    m2 = DPMST({"bins": 4, "fine_bins": 8}).fit(df).sample(400, seed=0)
    assert 0.35 < (m2["c"] == "a").mean() < 0.65


def test_times_increase_within_a_parent_whose_first_time_the_model_left_missing():
    """A parent whose sampled first time is missing borrows one other parent's first time for all its rows
    (it was drawn per row: a patient's visit days could then decrease)."""
    from medsynth.tabular.multi_features import group_rank, t0_col
    from medsynth.tabular.multi_sampling import _counts_of, _decode_child, _draw_rows, _sample_root

    tables = make_dataset(80, seed=5)
    model = MultiTableDPMST(TINY).fit(tables, public_schema(tables))
    rng = np.random.default_rng(0)
    values, own, _ = _sample_root(model, 40, rng)
    values[t0_col("visits")][::2] = np.nan  # every other patient: first time missing
    counts = _counts_of(model, "patients", "visits", values)
    prow = np.repeat(np.arange(40), counts)
    vals = _draw_rows(model, "visits", values, prow, group_rank(prow), rng)
    _, df = _decode_child(model, "visits", vals, prow, values, own, rng)
    day = df["day"].to_numpy(dtype=float)
    same = prow[1:] == prow[:-1]
    assert same.sum() > 20 and (np.diff(day)[same] >= 0).all()


def test_count_share_auto_spends_most_on_few_patients_and_little_on_many():
    """count_share null: the count histogram gets the capped 55% where the patients are few for the noise, 5%
    where they are many (the share follows the noisy patient count and the budget, both public here)."""
    from medsynth.tabular.multi_mst import COUNT_SHARE_RANGE

    tables = make_dataset(150, seed=2)
    schema = public_schema(tables)
    shares = {}
    for eps in (1.0, 40.0):
        m = MultiTableDPMST(TINY, privacy={"epsilon": eps, "delta": 1e-5}).fit(tables, schema)
        led = m.privacy_ledger
        counts = next(e for e in led.entries if "number of rows per 'patients' row" in e.access)
        shares[eps] = counts.rho / led.rho_budget
        assert m.meta["count_share"] == pytest.approx(shares[eps], rel=1e-3)
    assert shares[1.0] == pytest.approx(COUNT_SHARE_RANGE[1], rel=1e-6)
    assert shares[40.0] == pytest.approx(COUNT_SHARE_RANGE[0], rel=1e-6)
    fixed = MultiTableDPMST({**TINY, "count_share": 0.2}, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(tables, schema)
    entry = next(e for e in fixed.privacy_ledger.entries if "number of rows per 'patients' row" in e.access)
    assert entry.rho / fixed.privacy_ledger.rho_budget == pytest.approx(0.2, rel=1e-6)


def test_a_child_columns_range_that_leaves_out_values_is_named():
    """A data scientist's rwm visits: doctor visits 0-121 came out the code 0-11 (6% of the values out) and the fit's
    list of ranges that leave values out never named a child table's column (its row count, the patients, is only an
    upper bound of the rows measured). Where that bound says a range leaves values out, the rows are counted with DP
    and the column is named against them."""
    from medsynth.io.dataset_infer import infer_dataset_schema
    from medsynth.privacy.noise import insecure_noise_for_audit
    from medsynth.tabular.multi_mst import MultiTableDPMST

    rs = np.random.default_rng(0)
    n = 1500
    patients = pd.DataFrame({"id": np.arange(n), "age": rs.integers(30, 80, n)})
    k = rs.integers(1, 4, n)
    ids = np.repeat(np.arange(n), k)
    lab = np.where(rs.random(ids.size) < 0.8, rs.integers(0, 8, ids.size), rs.integers(40, 4000, ids.size)).astype(float)
    days = np.concatenate([np.sort(rs.integers(0, 300, j)) for j in k])
    real = {"patients": patients, "visits": pd.DataFrame({"id": ids, "day": days, "lab": lab})}
    with insecure_noise_for_audit(1):
        m = MultiTableDPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(real, infer_dataset_schema(real))
    # (since the forty-fourth session a count's tail past its keys that stands out is kept: a range, 18% of the
    # synthetic values in 40-4,000 against the real 20%; the note is tested on a tail of the other sign, still left out)
    assert m.schema.tables["visits"].column("lab").type == "integer"
    assert 0.1 < (m.sample(1500, seed=0)["visits"]["lab"].dropna() >= 40).mean() < 0.3
    real = {"patients": patients, "visits": pd.DataFrame({"id": ids, "day": days, "lab": np.where(lab >= 40, -lab, lab)})}
    with insecure_noise_for_audit(1):
        m = MultiTableDPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(real, infer_dataset_schema(real))
    assert m.schema.tables["visits"].column("lab").categories == list(range(8))  # (a code: the 20% in -4,000..-40 left out)
    assert any("columns 'lab' (at least about" in note for note in m.ledger.notes), m.ledger.notes
    entry = next(e for e in m.ledger.entries if e.access.startswith("table 'visits': domains of columns"))
    assert entry.details["rows_with_values"]["rho"] > 0, entry.details
