"""Multi-table synthesizers: keys and integrity, time consistency, determinism, save/load, patient-level DP."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from multitable_helpers import make_dataset, public_schema

from medsynth.core.errors import ConfigError, DataValidationError, PrivacyBudgetError
from medsynth.privacy.ledger import PrivacyLedger
from medsynth.tabular.multi_base import MultiTableSynthesizer
from medsynth.tabular.multi_counts import LedgerView, bound_rows, choose_bound, dp_count_distribution
from medsynth.tabular.multi_mst import MultiTableDPMST

TINY = {"bins": 6, "fine_bins": 16}


def _integrity(out: dict[str, pd.DataFrame]) -> float:
    return float(out["visits"]["id"].isin(set(out["patients"]["id"])).mean())


def _check_shape(out: dict[str, pd.DataFrame], n: int, fut_max: float = math.inf) -> None:
    p, v = out["patients"], out["visits"]
    assert len(p) == n and list(p["id"]) == list(range(1, n + 1))
    assert list(v["visit_id"]) == list(range(1, len(v) + 1))
    assert _integrity(out) == 1.0
    assert list(v.columns) == ["id", "visit_id", "day", "lab", "grade", "visit"]
    merged = v.merge(p[["id", "futime"]], on="id")
    assert (merged["day"] <= merged["futime"]).all(), "a visit after the patient's follow-up"
    assert (v.groupby("id")["day"].diff().dropna() >= 0).all(), "visit days decrease within a patient"
    seq = v.groupby("id").cumcount() + 1
    assert (v["visit"].to_numpy() == seq.to_numpy()).all(), "the visit number is not 1, 2, ... within a patient"


def test_non_private_fit_samples_whole_patients_with_consistent_keys_and_times():
    tables = make_dataset(60)
    model = MultiTableDPMST(TINY).fit(tables, public_schema(tables))
    out = model.sample(40, seed=1)
    _check_shape(out, 40)
    assert out["visits"]["grade"].isin(["a", "b", "c"]).all()
    counts = out["visits"].groupby("id").size()
    assert 1 <= counts.min() and counts.max() <= 6
    assert model.meta["rows"] == {"patients": 60, "visits": len(tables["visits"])}


def test_same_seed_same_sample_and_save_load_round_trip(tmp_path):
    tables = make_dataset(50)
    model = MultiTableDPMST(TINY).fit(tables, public_schema(tables))
    a, b = model.sample(30, seed=5), model.sample(30, seed=5)
    assert all(a[t].equals(b[t]) for t in a)
    assert not a["visits"].equals(model.sample(30, seed=6)["visits"])
    model.save(tmp_path / "m")
    again = MultiTableSynthesizer.load(tmp_path / "m")
    c = again.sample(30, seed=5)
    assert all(a[t].equals(c[t]) for t in a)


def test_dp_fit_is_patient_level_within_budget_and_states_its_bounds(seeded_dp_noise):
    tables = make_dataset(200, seed=3)
    model = MultiTableDPMST({**TINY, "max_children": 3}, privacy={"epsilon": 2.0, "delta": 1e-5}).fit(tables, public_schema(tables))
    led = model.privacy_ledger
    assert led.private and led.total_epsilon <= 2.0 * (1 + 1e-9)
    assert "one row of 'patients' with every row linked to it" in led.unit
    assert "'visits': K = 3 row-equivalent(s) per 'patients' row" in led.contribution_bound
    assert led.contribution_bound.endswith("root rows sharing a key are one patient: one of them, chosen at random")
    scaled = [e for e in led.entries if e.details.get("sensitivity_rows_per_unit") == 3.0]
    assert scaled, "the visits model's mechanisms must be charged at sensitivity 3 (K rows per patient)"
    assert "rows" not in model.meta and isinstance(model.meta["rows_noisy"], int)
    out = model.sample(100, seed=0)
    _check_shape(out, 100)


def test_dp_fits_draw_fresh_noise_for_the_same_seed():
    tables = make_dataset(120, seed=4)
    schema = public_schema(tables)
    arrays = []
    for _ in range(2):
        m = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5}, seed=0).fit(tables, schema)
        arrays.append(m.models["visits"]._root_p.copy())
    assert arrays[0].shape != arrays[1].shape or not np.allclose(arrays[0], arrays[1])


def test_delta_above_one_over_patients_is_refused():
    tables = make_dataset(40)
    with pytest.raises(PrivacyBudgetError, match=r"delta 0.1 must be below 1/n, n = 'patients' rows \(patients\).* too small"):
        MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 0.1}).fit(tables, public_schema(tables))


def test_a_domain_budget_leaving_the_models_too_little_is_refused_before_any_domain_is_measured():
    """Domain budget, counts and the patient count planned past 90% of the budget: a named error giving the largest
    domain budget that works, and nothing measured but the patient count (0.95 had measured every domain and then
    refused past its epsilon; 0.6 with count_share 0.4 planned the models nothing)."""
    from medsynth.io.dataset_infer import infer_dataset_schema

    tables = make_dataset(200, seed=3)
    schema = infer_dataset_schema(tables)
    for domain_budget, count_share, most in ((0.95, None, "0.57"), (0.6, 0.4, "0.42")):  # (DECISION_EXTRA 0.055)
        model = MultiTableDPMST({**TINY, "count_share": count_share},
                                privacy={"epsilon": 1.0, "delta": 1e-5, "domain_budget": domain_budget})
        with pytest.raises(ConfigError, match=rf"domain_budget {domain_budget} leaves the models 0% .* at least 10%\. "
                                              rf"Give at most {most} \(--set privacy.domain_budget={most}\)"):
            model.fit(tables, schema)
        assert [e.access for e in model.ledger.entries] == ["number of rows of 'patients' (patients)"]
    ok = MultiTableDPMST({**TINY, "count_share": 0.4}, privacy={"epsilon": 1.0, "delta": 1e-5, "domain_budget": 0.42})
    assert ok.fit(tables, schema).privacy_ledger.total_epsilon <= 1.0 + 1e-9


def test_a_folder_too_large_for_its_delta_gets_a_lower_level_instead_of_a_refusal():
    tables = make_dataset(3000, seed=1)
    model = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-3}).fit(tables, public_schema(tables))
    led = model.privacy_ledger
    assert led.target_delta == pytest.approx(1e-4) and led.total_delta <= led.target_delta * (1 + 1e-9)
    assert led.total_epsilon <= 1.0 + 1e-6 and "delta 0.0001 instead of the 0.001 asked" in led.notes[0]
    from medsynth.tabular.multi_base import model_card

    assert "(1, 0.001)-DP" in model_card(model)
    _check_shape(model.sample(30, seed=0), 30)


def test_bad_inputs_are_named_errors():
    tables = make_dataset(30)
    schema = public_schema(tables)
    from medsynth.tabular.multi_hma import HMA

    with pytest.raises(ConfigError, match="not differentially private"):
        HMA(privacy={"epsilon": 1.0})
    broken = {"patients": tables["patients"], "visits": tables["visits"].assign(id=tables["visits"]["id"] + 1000)}
    with pytest.raises(DataValidationError, match="no row of a child table has a parent"):  # (a few are left out)
        MultiTableDPMST(TINY).fit(broken, schema)
    doubled = {"patients": pd.concat([tables["patients"], tables["patients"].iloc[[0]].assign(age=99)], ignore_index=True),
               "visits": tables["visits"]}
    with pytest.raises(DataValidationError, match="duplicated value"):  # without DP: the user's data to mend
        MultiTableDPMST(TINY).fit(doubled, schema)
    # a table no other table links to, its key repeated and missing: regenerated keys that link nothing, so a DP fit
    # takes it (a refusal would turn on one row: the known gap); without DP it is named
    loose = tables["visits"].copy()
    loose.loc[3, "visit_id"], loose.loc[5, "visit_id"] = loose.loc[2, "visit_id"], np.nan
    with pytest.raises(DataValidationError, match="primary key 'visit_id' is missing"):
        MultiTableDPMST(TINY).fit({"patients": tables["patients"], "visits": loose}, schema)
    dp = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5}).fit({"patients": tables["patients"], "visits": loose}, schema)
    assert dp.sample(10, seed=0)["visits"]["visit_id"].is_unique
    with pytest.raises(DataValidationError, match=r"table\(s\) \['visits'\] are in the schema but not in the data"):
        MultiTableDPMST(TINY).fit({"patients": tables["patients"]}, schema)
    model = MultiTableDPMST(TINY).fit(tables, schema)
    with pytest.raises(DataValidationError, match="not supported for multi-table"):
        model.sample(5, where={"sex": "F"})


def test_ledger_view_charges_sensitivity_squared():
    led = PrivacyLedger(private=True, target_epsilon=1.0, target_delta=1e-5)
    view = LedgerView(led, 0.01, sensitivity=4.0, label="table 'v'")
    assert view.rho_budget == pytest.approx(0.01 / 16)
    view.record("marginals", "Gaussian", rho=view.rho_remaining())
    assert led.entries[-1].rho == pytest.approx(0.01) and led.entries[-1].access.startswith("table 'v': ")
    assert view.rho_remaining() == pytest.approx(0.0)


def test_count_distribution_and_bound():
    counts = np.repeat([1, 2, 3, 5, 8], [200, 300, 250, 150, 100])
    exact = dp_count_distribution(counts, None, np.random.default_rng(0))
    assert exact.low == 1 and exact.high == 8 and exact.probs[1] == pytest.approx(0.3)
    noisy = dp_count_distribution(counts, 50.0, np.random.default_rng(0))  # tiny noise
    assert 0 <= noisy.low <= 1 and 8 <= noisy.high <= 15
    p = np.zeros(20)
    p[noisy.low:noisy.low + len(noisy.probs)] = noisy.probs
    assert 0.5 * np.abs(p[:9] - np.bincount(counts, minlength=9) / len(counts)).sum() < 0.05
    assert choose_bound(noisy, quantile=0.9, sigma_unit=0.01) == noisy.quantile(0.9)
    assert choose_bound(noisy, quantile=0.9, sigma_unit=1e4) == 1  # noise dominates: one row per parent measures best


def test_sampled_child_counts_hold_the_count_distribution_up_to_one_parent_per_count():
    counts = np.repeat([1, 2, 3, 5, 8], [200, 300, 250, 150, 100])
    cm = dp_count_distribution(counts, None, np.random.default_rng(0))
    for seed in range(5):
        got = np.bincount(cm.sample(37, np.random.default_rng(seed), stratified=True) - cm.low, minlength=cm.probs.size)
        assert np.abs(got - 37 * cm.probs).max() < 1, (got, 37 * cm.probs)
    spread = [np.abs(np.bincount(cm.sample(37, np.random.default_rng(s)) - cm.low, minlength=8) - 37 * cm.probs).max()
              for s in range(5)]
    assert max(spread) >= 1  # independent draws do spread (the stratified bound above is not trivial)
    tables = make_dataset(60)
    model = MultiTableDPMST(TINY).fit(tables, public_schema(tables))
    n = 41
    out = model.sample(n, seed=3)
    per = out["visits"].groupby("id").size().reindex(out["patients"]["id"], fill_value=0).to_numpy()
    cm = model.counts["visits"]
    got = np.bincount(per - cm.low, minlength=cm.probs.size)
    assert np.abs(got - n * cm.probs).max() < 1, (got, n * cm.probs)


def test_bound_rows_keeps_at_most_k_random_rows_per_group():
    groups = np.repeat(np.arange(50), 10)
    keep = bound_rows(groups, 3, np.random.default_rng(0))
    assert (np.bincount(groups[keep]) == 3).all()
    first = np.tile(np.arange(10), 50)[keep]
    assert len(set(first)) > 3, "the kept rows must be random, not the first ones"


def test_conditional_sampling_once_per_parent_matches_per_row():
    from medsynth.tabular.multi_features import EVIDENCE
    from medsynth.tabular.multi_tree import TreeSampler

    tables = make_dataset(80, seed=2)
    model = MultiTableDPMST(TINY).fit(tables, public_schema(tables))
    mst = model.models["visits"]
    sampler = TreeSampler(mst)
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(20), 3)
    group_ev = {e: rng.integers(0, sampler.sizes[e], 20) for e in model.plans["visits"].evidence if e.startswith(EVIDENCE)}
    pos = {"pos:": np.tile([0, 1, 2], 20)}
    a = sampler.sample_states(60, pos, np.random.default_rng(7), groups=groups, group_evidence=group_ev)
    b = sampler.sample_states(60, {**pos, **{e: v[groups] for e, v in group_ev.items()}}, np.random.default_rng(7))
    assert all((a[c] == b[c]).all() for c in a)


def test_three_levels_with_a_key_to_the_grandparent_and_intervals():
    """patients -> admissions (dates, an interval end) -> labs, labs also keyed to the patient: every key
    consistent along the chain, admissions end after they start, bounds multiply down the levels."""
    rng = np.random.default_rng(0)
    adm, labs, hid = [], [], 1
    for s in range(1, 81):
        t = pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(0, 300)))
        for _ in range(int(rng.integers(1, 4))):
            t += pd.Timedelta(days=int(rng.integers(5, 100)))
            adm.append({"hadm_id": hid, "subject_id": s, "admittime": t.strftime("%Y-%m-%d"),
                        "dischtime": (t + pd.Timedelta(days=int(rng.integers(1, 10)))).strftime("%Y-%m-%d"),
                        "type": rng.choice(["EMER", "ELECT"])})
            labs += [{"subject_id": s, "hadm_id": hid, "value": round(float(rng.normal(1, 0.3)), 2)} for _ in range(int(rng.integers(0, 5)))]
            hid += 1
    tables = {"patients": pd.DataFrame({"subject_id": np.arange(1, 81), "age": rng.integers(20, 90, 80)}),
              "admissions": pd.DataFrame(adm), "labevents": pd.DataFrame(labs)}
    model = MultiTableDPMST({**TINY, "max_children": 2}).fit(tables)
    rel = next(r for r in model.schema.relations if r.child == "admissions")
    assert rel.order_by == "admittime" and rel.ends == ["dischtime"]
    assert model.plans["labevents"].sensitivity == 4.0  # 2 admissions x 2 labs per patient
    out = model.sample(30, seed=0)
    a, lab = out["admissions"], out["labevents"]
    assert a["subject_id"].isin(out["patients"]["subject_id"]).all() and lab["hadm_id"].isin(a["hadm_id"]).all()
    joined = lab.merge(a[["hadm_id", "subject_id"]], on="hadm_id", suffixes=("", "_adm"))
    assert (joined["subject_id"] == joined["subject_id_adm"]).all()
    assert (pd.to_datetime(a["admittime"]) <= pd.to_datetime(a["dischtime"])).all()


def test_without_dp_a_childs_number_set_by_its_parent_is_learnt_as_its_deviation():
    """Oxboys (a data scientist): a non-private fit learnt each boy's heights as values tied to his mean through the
    tree, so within a boy height no longer followed age (correlation 0.16, real 0.99). Without DP a child number whose
    parents' levels hold most of its variance (and no point mass) is learnt as its deviation from the level; a DP fit
    keeps values (its domain release doubles as their 1-way marginals)."""
    from medsynth.io.dataset_infer import infer_dataset_schema

    rng = np.random.default_rng(0)
    n, k = 40, 9
    age = np.tile(np.linspace(-1, 1, k).round(4), n)
    level = np.repeat(rng.normal(150, 8, n), k)
    boys = {"boys": pd.DataFrame({"boy_id": range(1, n + 1), "school": rng.choice(["a", "b"], n)}),
            "measurements": pd.DataFrame({"boy_id": np.repeat(np.arange(1, n + 1), k), "Occasion": np.tile(np.arange(1, k + 1), n),
                                          "age": age, "height": (level + 6 * age + rng.normal(0, 0.5, n * k)).round(1),
                                          "zeros": np.where(rng.random(n * k) < 0.5, 0.0, rng.gamma(2, 1, n * k)).round(2)})}
    schema = infer_dataset_schema(boys)
    m = MultiTableDPMST().fit(boys, schema)
    plan = m.plans["measurements"]
    assert plan.numbers == "mixed" and plan.deviations == ["height"], (plan.numbers, plan.deviations)
    out = m.sample(n, seed=0)["measurements"]
    r = out.groupby("boy_id").apply(lambda d: d["age"].corr(d["height"]), include_groups=False).mean()
    assert r > 0.8, r
    assert MultiTableDPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(boys, schema).plans["measurements"].numbers == "value"


def test_hma_rows_keep_what_their_relation_says():
    """A data scientist's folders through SDV's HMA (which draws each child row alone): survival's bladder2 intervals
    were chained in 1.5% of the rows (real all) and its start <= stop broken in 16%; a patient's repeated columns and
    ages at surveys varied freely. After the rows are put in time order, a relation's constant columns take the first
    row's value, advancing ones the anchor plus the rate times the time, and a chained end the next row's start."""
    from medsynth.io.dataset_infer import infer_dataset_schema
    from medsynth.tabular.multi_hma import HMA

    rng = np.random.default_rng(3)
    n = 80
    k = rng.integers(1, 5, n)
    ids = np.repeat(np.arange(n), k)
    cuts = np.concatenate([np.cumsum(rng.integers(1, 20, j)) for j in k])
    start = np.concatenate([np.r_[0, c[:-1]] for c in np.split(cuts, np.cumsum(k)[:-1])])
    base = np.repeat(rng.integers(30, 70, n), k)
    occ = np.concatenate([np.arange(j) for j in k])
    rx = rng.integers(1, 3, n)
    rows = pd.DataFrame({"id": ids, "start": start, "stop": cuts, "age_days": base * 365 + start,
                         "smoker": np.repeat(rng.choice(["no", "yes"], n), k), "rx": np.repeat(rx, k),
                         "event": rng.integers(0, 2, len(ids)), "occ": occ})
    data = {"patients": pd.DataFrame({"id": np.arange(n), "rx": rx}), "intervals": rows}
    schema = infer_dataset_schema(data)
    rel = schema.relations[0].model_copy(update={"advancing": {"age_days": 1.0}, "constant": ["smoker"],
                                                 "copied": ["rx"], "chained": "stop", "ends": ["stop"],
                                                 "order_by": "start", "sequence": None})
    schema = schema.model_copy(update={"relations": [rel]})
    out = HMA().fit(data, schema).sample(n, seed=0)
    v, pats = out["intervals"], out["patients"]
    nxt = v.groupby("id")["start"].shift(-1)
    assert len(v) > 40 and bool((v["stop"][nxt.notna()] == nxt[nxt.notna()]).all())
    assert int(v.groupby("id")["smoker"].nunique().max()) == 1
    assert float((v["age_days"] - v["start"]).groupby(v["id"]).agg(lambda a: a.max() - a.min()).max()) < 1e-6
    assert (v["rx"].to_numpy() == pats.set_index("id").loc[v["id"], "rx"].to_numpy()).all()
