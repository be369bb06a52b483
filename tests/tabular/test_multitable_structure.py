"""How the multi-table DP model spends its budget: forced tree edges, reused parent 1-ways, the
selection share, the count smoother, the decoding threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from multitable_helpers import make_dataset, public_schema

from medsynth.io.dataset import DatasetSchema
from medsynth.io.dataset_infer import infer_dataset_schema
from medsynth.privacy.noise import insecure_noise_for_audit
from medsynth.tabular.mst import DPMST
from medsynth.tabular.multi_counts import whittaker
from medsynth.tabular.multi_mst import MultiTableDPMST

TINY = {"bins": 6, "fine_bins": 16}


def _with_target(schema: DatasetSchema, table: str = "patients", column: str | None = "status") -> DatasetSchema:
    """The schema with ``column`` of ``table`` the only target (None: no target; schema infer proposes one by name)."""
    data = schema.to_dict()
    for t in data["tables"].values():
        for c in t["columns"]:
            c["target"] = False
    for c in data["tables"][table]["columns"]:
        if c["name"] == column:
            c["target"] = True
    return DatasetSchema.from_dict(data)


def _edges(model: MultiTableDPMST, table: str) -> set[frozenset[str]]:
    return {frozenset(c) for c in model.models[table].meta["cliques"]}


def test_target_edges_join_the_declared_target_to_every_own_column(seeded_dp_noise):
    """target_edges: the visit model's tree holds (^status, c) for each of the visit's own columns, picked
    without selection; without the flag (or without a declared target) they are left to selection."""
    tables = make_dataset(120, seed=2)
    schema = _with_target(public_schema(tables))
    model = MultiTableDPMST({**TINY, "target_edges": True}, privacy={"epsilon": 2.0, "delta": 1e-5}).fit(tables, schema)
    plan = model.plans["visits"]
    own = [*plan.numeric, *plan.discrete]
    assert own, "the visit table has own columns"
    assert {frozenset(("^status", c)) for c in own} <= _edges(model, "visits")
    assert model.privacy_ledger.total_epsilon <= 2.0 * (1 + 1e-9)
    plain = MultiTableDPMST({**TINY, "target_edges": True}, privacy={"epsilon": 2.0, "delta": 1e-5}).fit(
        tables, _with_target(public_schema(tables), column=None))
    assert not {frozenset(("^status", c)) for c in own} <= _edges(plain, "visits")


def _long_labs(n: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Patients and their lab results in long format (test, value): a test's values are its own (chol ~ 200,
    sbp ~ 130, fib4 ~ 2), as in survival's nafld2."""
    rng = np.random.default_rng(seed)
    patients = pd.DataFrame({"id": np.arange(1, n + 1), "age": rng.integers(30, 80, n), "status": rng.choice([0, 1], n)})
    level = {"chol": 200.0, "sbp": 130.0, "fib4": 2.0}
    rows = [{"id": i + 1, "test": t, "value": round(level[t] * float(np.exp(0.1 * rng.normal())), 1)}
            for i in range(n) for t in rng.choice(list(level), size=int(rng.integers(1, 5)))]
    return {"patients": patients, "labs": pd.DataFrame(rows)}


def _long_schema(tables: dict[str, pd.DataFrame]) -> DatasetSchema:
    data = infer_dataset_schema(tables).to_dict()
    for t in data["tables"].values():
        for c in t["columns"]:
            c["public"] = True
            c["target"] = c["name"] == "status"
            c.pop("read_from_data", None)
            if c["name"] == "value":
                c.update({"min": 0.0, "max": 300.0})
    return DatasetSchema.from_dict(data)


def test_target_edges_leave_a_long_tables_test_column_to_the_selection(seeded_dp_noise):
    """By default (``target_edges: numbers``) the target joins the child's numbers only: a long-format lab table
    keeps the edge between its test and its value, and each test's values stay its own; ``True`` joins every own
    column, so test and value only meet through the target (nafld2: one pooled distribution for every test)."""
    tables = _long_labs(1000)
    schema = _long_schema(tables)
    plain = {**TINY, "qualifier_edges": False}  # (the test's edge to its value left to the selection too)
    model = MultiTableDPMST(plain, privacy={"epsilon": 4.0, "delta": 1e-5}).fit(tables, schema)
    labs = model.models["labs"]
    assert set(labs.forced) == {("^status", "value")} and set(labs.forced_weak) == {("^status", "test")}
    assert not labs.meta["weak_edges_joined"], "1000 patients at epsilon 4: the selection tells edges apart"
    assert frozenset(("test", "value")) in _edges(model, "labs")
    syn = model.sample(1000, seed=0)["labs"]
    medians = syn.groupby("test")["value"].median()
    assert medians["chol"] > 150 and medians["fib4"] < 60, medians.to_dict()
    star = MultiTableDPMST({**plain, "target_edges": True}, privacy={"epsilon": 4.0, "delta": 1e-5}).fit(tables, schema)
    assert set(star.models["labs"].forced) == {("^status", "value"), ("^status", "test")}
    assert frozenset(("test", "value")) not in _edges(star, "labs")
    few = MultiTableDPMST(plain, privacy={"epsilon": 0.5, "delta": 1e-5}).fit(_long_labs(60), schema)
    assert few.models["labs"].meta["weak_edges_joined"], "60 patients at epsilon 0.5: picks near uniform, star kept"
    assert frozenset(("^status", "test")) in _edges(few, "labs")


@pytest.mark.parametrize("target", ["status", None])
def test_a_long_tables_result_is_joined_to_what_was_measured(seeded_dp_noise, target):
    """Zero-config survival::nafld at epsilon 1 (4,000 patients): the selection joined ``test`` to the time gap and
    ``value`` to the patient's mean in 3 fits of 3, and every test's values came from one pooled distribution (a data
    scientist: association 0.89 -> 0.01). A number named like a result is joined to the category naming what was
    measured before any selection (public names), first, so the target's edges cannot cut it, even where the selection
    cannot tell edges apart (60 patients at epsilon 0.5) and with every column joined to the target."""
    tables = _long_labs(60)
    data = _long_schema(tables).to_dict()
    for c in data["tables"]["patients"]["columns"]:
        c["target"] = c["name"] == target
    schema = DatasetSchema.from_dict(data)
    for eps, config in ((0.5, TINY), (0.5, {**TINY, "target_edges": True})):
        model = MultiTableDPMST(config, privacy={"epsilon": eps, "delta": 1e-5}).fit(tables, schema)
        labs = model.models["labs"]
        assert labs.forced[0] == ("test", "value"), labs.forced
        assert frozenset(("test", "value")) in _edges(model, "labs")
        sel = [e for e in model.privacy_ledger.entries if e.access == "table 'labs': MST: tree selection and 2-way "
               "marginals of the tree's edges"]
        assert ["value", "test"] in sel[0].details["parts"]["selection"]["joined_before_selection"]
    off = MultiTableDPMST({**TINY, "qualifier_edges": False}, privacy={"epsilon": 0.5, "delta": 1e-5}).fit(tables, schema)
    assert ("test", "value") not in off.models["labs"].forced


def test_qualifier_pairs_are_read_from_names():
    from medsynth.tabular.multi_mst import qualifier_pairs

    assert qualifier_pairs(["valuenum", "ref_range"], ["flag", "itemid"]) == [("itemid", "valuenum")]  # MIMIC
    assert qualifier_pairs(["value_as_number"], ["unit", "measurement_concept_id"]) == [
        ("measurement_concept_id", "value_as_number")]  # OMOP
    assert qualifier_pairs(["VALUE"], ["CODE", "UNITS"]) == [("CODE", "VALUE")]  # Synthea's observations
    assert qualifier_pairs(["result_value"], ["test_name", "flag"]) == [("test_name", "result_value")]
    assert qualifier_pairs(["lab"], ["grade"]) == []  # a visit's lab and grade: no name says one measures the other
    # (a reviewer: the first category holding any such word took the unit, the type, the site or the provider)
    assert qualifier_pairs(["value_as_number"], ["unit_concept_id", "measurement_type_concept_id",
                                                 "measurement_concept_id"]) == [("measurement_concept_id", "value_as_number")]
    assert qualifier_pairs(["reading_time", "value"], ["lab_site", "provider_name", "test_name"]) == [("test_name", "value")]
    assert qualifier_pairs(["value"], ["concept_name", "test"]) == [("test", "value")]  # the specific word first
    assert qualifier_pairs(["paid_value"], ["ward_code"]) == []
    assert qualifier_pairs(["interval", "valve"], ["test"]) == []  # ("val" a word, not a prefix)


def test_forced_edges_skip_selection():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({c: rng.integers(0, 3, 300).astype(str) for c in "abcde"})
    m = DPMST({"bins": 4, "fine_bins": 8}, privacy={"epsilon": 1.0, "delta": 1e-5})
    m.forced = (("a", "b"), ("a", "c"), ("a", "d"), ("a", "e"))
    m.fit(df)
    assert {frozenset(c) for c in m.meta["cliques"]} == {frozenset(("a", x)) for x in "bcde"}
    sel = [e for e in m.privacy_ledger.entries if "tree selection" in e.access]
    assert sel and sel[0].details["parts"]["selection"]["rho"] == 0.0, "no edge left to select: nothing spent on it"
    assert m.privacy_ledger.total_epsilon <= 1.0 * (1 + 1e-9)


def test_reused_parent_oneways_are_the_parent_models_noisy_counts(seeded_dp_noise):
    """K = 1: the visit model takes its evidence columns' 1-ways from the patient model (no second measurement):
    the 1-way entry of the visit model lists only its own columns, every 1-way it holds for ^c is the patient
    model's, and the budget adds up."""
    tables = make_dataset(150, seed=3)
    cfg = {**TINY, "max_children": 1, "reuse_parent_oneways": True}
    model = MultiTableDPMST(cfg, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(tables, public_schema(tables))
    visits, patients = model.models["visits"], model.models["patients"]
    evidence = [c for c in model.plans["visits"].evidence if c[1:] in patients._oneway_noisy[0]]
    assert evidence
    reused = [c for c in evidence if c in visits.domain_oneways]
    assert reused, "categorical evidence at least is reused"
    for c in reused:
        np.testing.assert_array_equal(visits._oneway_noisy[0][c], patients._oneway_noisy[0][c[1:]])
    entry = next(e for e in model.privacy_ledger.entries if e.access.startswith("table 'visits': 1-way"))
    assert not set(reused) & set(entry.columns), "reused 1-ways are not measured (nor charged) again"
    assert model.privacy_ledger.total_epsilon <= 1.0 * (1 + 1e-9)
    # with K > 1 a parent's rows weigh more than one in all: nothing is reused
    k2 = MultiTableDPMST({**cfg, "max_children": 2}, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(tables, public_schema(tables))
    assert not k2.models["visits"].domain_oneways


def test_selection_share_moves_budget_to_the_edges():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, 400)
    df = pd.DataFrame({"a": x.astype(str), "b": ((x + rng.integers(0, 2, 400)) % 3).astype(str),
                       "c": rng.integers(0, 2, 400).astype(str)})
    sigmas = {}
    for share in (0.5, 0.1):
        m = DPMST({"bins": 4, "fine_bins": 8}, privacy={"epsilon": 1.0, "delta": 1e-5})
        m.selection_share = share
        # the same noise draws for both: the domain release spends adaptively (a column re-measured while unlocated),
        # so with fresh noise the two fits could leave the tree different budgets (a clean-clone run: 7.89 vs 8.31)
        with insecure_noise_for_audit(11):
            m.fit(df)
        parts = next(e for e in m.privacy_ledger.entries if "tree selection" in e.access).details["parts"]
        assert parts["selection"]["rho"] == pytest.approx(share * (parts["selection"]["rho"] + parts["two_way"]["rho"]))
        sigmas[share] = parts["two_way"]["sigma"]
    assert sigmas[0.1] == pytest.approx(sigmas[0.5] * np.sqrt(0.5 / 0.9))


def test_whittaker_picks_first_differences_for_flat_counts_and_beats_the_raw_counts():
    rng = np.random.default_rng(0)
    truth = np.r_[np.full(10, 30.0), np.full(6, 12.0)]
    err = {"raw": 0.0, "both": 0.0, "second": 0.0}
    for _ in range(200):
        h = truth + rng.normal(0, 6.0, truth.size)
        err["raw"] += np.abs(h - truth).sum()
        err["both"] += np.abs(whittaker(h, 6.0) - truth).sum()
        err["second"] += np.abs(whittaker(h, 6.0, orders=(2,)) - truth).sum()
    assert err["both"] < 0.8 * err["raw"]
    assert err["both"] < err["second"], "a step-like histogram is smoothed better with first differences on offer"


def test_decode_weights_clipped_keeps_every_positive_cell_project_takes_the_noise_off():
    """Same noise (an insecure seeded source, for the comparison), two decodings of a number's noisy fine 1-way:
    "clipped" keeps every positive noisy cell, "project" lowers all by one amount (fewer cells, same noisy total)."""
    from medsynth.privacy.noise import insecure_noise_for_audit
    from medsynth.tabular.schema import TableSchema

    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.gamma(2.0, 1.0, 3000), "c": rng.integers(0, 2, 3000).astype(str)})
    schema = TableSchema.from_dict({"columns": [
        {"name": "x", "type": "continuous", "min": 0.0, "max": 20.0, "public": True},
        {"name": "c", "type": "categorical", "categories": ["0", "1"], "public": True}]})
    fine = {}
    for how in ("project", "clipped"):
        with insecure_noise_for_audit(7):
            m = DPMST({"bins": 4, "fine_bins": 32, "adaptive_bins": 0}, privacy={"epsilon": 0.3, "delta": 1e-5}, schema=schema)
            m.decode_weights = how
            m.fit(df, schema)
        fine[how] = m._fine_w["x"]
    noisy = m._oneway_noisy[0]["x"][:32]
    assert int((fine["clipped"] > 0).sum()) == int((noisy > 0).sum())
    assert 0 < (fine["project"] > 0).sum() < (fine["clipped"] > 0).sum()
    assert fine["project"][:32].sum() == pytest.approx(noisy.sum())


def test_first_times_at_the_start_of_follow_up_stay_there(seeded_dp_noise):
    """Every real first visit is on day 0: t0 is modelled on a log scale, so the synthetic first visits sit on
    day 0 too (on the unit scale, equal-width cells of a few hundred days put them anywhere in the first cell)."""
    tables = make_dataset(150, seed=4)
    assert (tables["visits"].groupby("id")["day"].min() == 0).all()
    for privacy in (None, {"epsilon": 2.0, "delta": 1e-5}):
        model = MultiTableDPMST(TINY, privacy=privacy).fit(tables, public_schema(tables))
        syn = model.sample(400, seed=0)
        first = syn["visits"].groupby("id")["day"].min()
        assert (first == 0).mean() > (0.8 if privacy is None else 0.3), privacy
        assert model.models["patients"].codec.schema.column("t0:visits").transform == "log"


def test_defaults_steer_child_models_by_the_declared_target(seeded_dp_noise):
    """The defaults join a declared target to the child's columns, reuse the parent's 1-ways at K = 1, spend a
    tenth of the tree budget on selection and keep every positive noisy cell when decoding; the ledger adds up."""
    tables = make_dataset(150, seed=5)
    model = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(tables, _with_target(public_schema(tables)))
    visits = model.models["visits"]
    assert visits.selection_share == pytest.approx(0.1) and visits.decode_weights == "clipped"
    assert visits.forced and all(a == "^status" for a, _ in visits.forced)
    if model.plans["visits"].bound == 1:
        assert visits.domain_oneways
    assert model.privacy_ledger.total_epsilon <= 1.0 * (1 + 1e-9)


def test_reused_grids_survive_save_and_load(tmp_path, seeded_dp_noise):
    """A DP fit with reused parent 1-ways (their grids) and target edges samples the same after save/load: the
    child model codes its evidence on the parent's cells in both."""
    from medsynth.tabular.multi_base import MultiTableSynthesizer

    tables = make_dataset(120, seed=6)
    model = MultiTableDPMST({**TINY, "max_children": 1}, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(
        tables, _with_target(public_schema(tables)))
    assert model.models["visits"]._edges, "numbers among the evidence are coded on the parent's grid"
    a = model.sample(40, seed=3)
    model.save(tmp_path / "m")
    b = MultiTableSynthesizer.load(tmp_path / "m").sample(40, seed=3)
    assert all(a[t].equals(b[t]) for t in a)


@pytest.mark.parametrize("root_model", ["auto", "dp-aim"])
def test_root_with_a_target_is_fitted_by_aim_with_the_same_budget(tmp_path, seeded_dp_noise, root_model):
    """root_model auto (with a declared target on the root) or dp-aim: the patient model is DP-AIM, the visit model
    DP-MST; the ledger names AIM and spends exactly the target epsilon, with the root model's entries summing to the
    same rho as DP-MST's would; the saved model records its class and samples the same after load."""
    from medsynth.tabular.aim import DPAIM
    from medsynth.tabular.multi_base import MultiTableSynthesizer

    tables = make_dataset(150, seed=5)
    schema = _with_target(public_schema(tables))
    privacy = {"epsilon": 1.0, "delta": 1e-5}
    model = MultiTableDPMST({**TINY, "root_model": root_model}, privacy=privacy).fit(tables, schema)
    assert isinstance(model.models["patients"], DPAIM) and isinstance(model.models["visits"], DPMST)
    assert model.meta["root_model"] == "dp-aim" and model.meta["tables"]["patients"]["model"] == "dp-aim"
    assert model.meta["root_aim"]["target"] == "status"
    led = model.privacy_ledger
    assert led.total_epsilon == pytest.approx(1.0, rel=1e-6)
    assert led.rho_spent == pytest.approx(led.rho_budget, rel=1e-6)
    aim = [e for e in led.entries if e.access.startswith("table 'patients': AIM")]
    assert len(aim) == 1 and not [e for e in led.entries if e.access.startswith("table 'patients': MST")]
    mst = MultiTableDPMST({**TINY, "root_model": "dp-mst"}, privacy=privacy).fit(tables, schema)
    root_rho = lambda m: sum(e.rho or 0.0 for e in m.privacy_ledger.entries if e.access.startswith("table 'patients'"))  # noqa: E731
    assert root_rho(model) == pytest.approx(root_rho(mst), rel=1e-9)
    a = model.sample(40, seed=3)
    assert a["visits"]["id"].isin(set(a["patients"]["id"])).all()
    model.save(tmp_path / "m")
    assert '"dp-aim"' in (tmp_path / "m" / "tables" / "patients" / "model.json").read_text()
    again = MultiTableSynthesizer.load(tmp_path / "m")
    assert isinstance(again.models["patients"], DPAIM) and isinstance(again.models["visits"], DPMST)
    b = again.sample(40, seed=3)
    assert all(a[t].equals(b[t]) for t in a)


def test_root_without_a_target_keeps_mst_under_auto(seeded_dp_noise):
    tables = make_dataset(120, seed=2)
    model = MultiTableDPMST({**TINY, "root_model": "auto"}, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(
        tables, _with_target(public_schema(tables), column=None))
    assert model.meta["root_model"] == "dp-mst" and type(model.models["patients"]) is DPMST
    assert not [e for e in model.privacy_ledger.entries if "AIM" in e.access]
    assert model.privacy_ledger.total_epsilon == pytest.approx(1.0, rel=1e-6)


def test_non_private_fit_with_an_aim_root_samples_whole_patients():
    from medsynth.tabular.aim import DPAIM

    tables = make_dataset(60)
    model = MultiTableDPMST({**TINY, "root_model": "dp-aim"}).fit(tables, _with_target(public_schema(tables)))
    assert isinstance(model.models["patients"], DPAIM)
    out = model.sample(30, seed=1)
    assert len(out["patients"]) == 30 and out["visits"]["id"].isin(set(out["patients"]["id"])).all()


def test_a_saved_model_without_model_json_loads_as_mst(tmp_path, seeded_dp_noise):
    """Saves written before root_model have no tables/<t>/model.json: every table loads as DP-MST."""
    from medsynth.tabular.multi_base import MultiTableSynthesizer

    tables = make_dataset(80, seed=1)
    model = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(tables, _with_target(public_schema(tables)))
    model.save(tmp_path / "m")
    for t in ("patients", "visits"):
        (tmp_path / "m" / "tables" / t / "model.json").unlink()
    again = MultiTableSynthesizer.load(tmp_path / "m")
    assert all(type(m) is DPMST for m in again.models.values())
    a, b = model.sample(20, seed=4), again.sample(20, seed=4)
    assert all(a[t].equals(b[t]) for t in a)


def test_a_zero_config_dp_fit_of_related_tables_with_flags_fits(seeded_dp_noise):
    """Review of a first version of the flag handling: any multi-table DP fit whose schema (as inferred) held a 0/1 or
    no/yes column stopped with AttributeError ('LedgerView' object has no attribute 'assume_public'). Flags in the
    root and the child table now go through the same DP releases as in one table."""
    from medsynth.io.dataset_infer import infer_dataset_schema

    tables = make_dataset(200, seed=6)
    rs = np.random.default_rng(6)
    tables["patients"]["hiv"] = (rs.random(len(tables["patients"])) < 0.2).astype(int)
    tables["visits"]["fever"] = np.where(rs.random(len(tables["visits"])) < 0.3, "yes", "no")
    schema = infer_dataset_schema(tables)
    model = MultiTableDPMST(TINY, privacy={"epsilon": 3.0, "delta": 1e-5}).fit(tables, schema)
    assert model.privacy_ledger.rho_spent == pytest.approx(model.privacy_ledger.rho_budget, rel=1e-6)
    out = model.sample(50, seed=0)
    assert set(out["patients"]["hiv"].dropna()) <= {0, 1} and set(out["visits"]["fever"].dropna()) <= {"no", "yes"}


def test_the_time_order_of_child_rows_is_decided_under_dp_not_read_from_one_patient():
    """Which child column orders a parent's rows (``order_by``) was read from the data by ``schema infer`` (the one
    column that never decreases within a parent) and used as it was: one patient whose rows are out of order made
    it None, so neighbouring datasets released different structures in every draw. A DP fit now decides it afresh
    from a noisy count, per number column, of the patients whose rows it does not order; neighbours get the same."""
    from medsynth.io.dataset_infer import infer_dataset_schema
    from medsynth.privacy.noise import insecure_noise_for_audit

    rs = np.random.default_rng(5)
    n = 800  # enough patients for the noisy counts to tell (fewer: the time column is taken on its name)
    patients = pd.DataFrame({"pid": np.arange(n), "age": rs.integers(40, 80, n), "sex": rs.choice(["F", "M"], n)})
    rows = []
    for i in range(n):
        days = np.sort(rs.integers(0, 900, 4))
        rows += [{"pid": i, "week": int(rs.integers(0, 120)), "day": int(x), "lab": round(float(rs.normal(5, 1)), 2)}
                 for x in days]
    visits = pd.DataFrame(rows)
    shuffled = visits.copy()
    shuffled.loc[[0, 1], "day"] = shuffled.loc[[1, 0], "day"].to_numpy()  # one patient's first two rows out of order
    one = {"patients": patients, "visits": visits}
    other = {"patients": patients, "visits": shuffled}
    from medsynth.io.dataset_infer import time_named

    # one vocabulary of time names for schema infer and the DP decision: words that start like a time, not 'protime'
    assert [time_named(n) for n in ("day", "visit_date", "tstart", "VisitDate", "protime", "alk.phos")] == [
        True, True, True, True, False, False]
    inferred = [infer_dataset_schema(d).relations[0] for d in (one, other)]
    # schema infer: where no column orders every patient's rows it falls back on names, then the finest (day, not week)
    assert inferred[0].order_by == "day" and inferred[1].order_by == "day"
    assert "order_by" in inferred[1].read_from_data  # ... and says so: a DP fit decides it again
    same = 0
    for seed in range(8):  # (about two fits in three: 8 of 12 noise seeds, as before a range's atoms moved the stream)
        got = []
        for d in (one, other):
            with insecure_noise_for_audit(5100 + seed):
                m = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(d, infer_dataset_schema(d))
            got.append(m.schema.relations[0].order_by)
            assert m.ledger.rho_spent == pytest.approx(m.ledger.rho_budget, rel=1e-6)
        same += got[0] == got[1] == "day"
    assert same >= 5, same


def test_neighbours_release_the_same_time_fields_whatever_schema_infer_read():
    """The review of the first version: what ``schema infer`` read still decided the release (whether a DP decision
    ran at all, and within/sequence/ends as read): one added patient with a missing day, with visit numbers out of
    step, or with two visits out of order changed the released relation in 10 of 10 draws. A DP fit now decides
    every time field the schema does not declare from public candidates and noisy counts alone."""
    from medsynth.privacy.noise import insecure_noise_for_audit

    base = make_dataset(300, seed=0)
    nxt = int(base["patients"]["id"].max()) + 1

    def plus(visits: list[dict]) -> dict[str, pd.DataFrame]:
        p = pd.concat([base["patients"], pd.DataFrame([{"id": nxt, "age": 60, "sex": "F", "futime": 2000, "status": 0}])],
                      ignore_index=True)
        v = pd.concat([base["visits"], pd.DataFrame([{"id": nxt, "visit_id": 10_000 + i, "lab": 1.0, "grade": "a", **r}
                                                      for i, r in enumerate(visits)])], ignore_index=True)
        return {"patients": p, "visits": v}

    neighbours = {"missing day": plus([{"day": np.nan, "visit": 1}]),
                  "visit numbers out of step": plus([{"day": 0, "visit": 2}, {"day": 50, "visit": 1}]),
                  "days out of order": plus([{"day": 50, "visit": 1}, {"day": 0, "visit": 2}])}

    spec = public_schema(base).to_dict()  # the same reviewed schema for both (days may be missing)
    for c in spec["tables"]["visits"]["columns"]:
        c["missing"] = c["missing"] or c["name"] == "day"

    def released(d: dict[str, pd.DataFrame], seed: int) -> tuple:
        from medsynth.io.dataset_infer import infer_dataset_schema

        own = {**spec, "relations": infer_dataset_schema(d).to_dict()["relations"]}  # as schema infer read each one
        with insecure_noise_for_audit(seed):
            m = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(d, DatasetSchema.from_dict(own))
        assert m.ledger.rho_spent == pytest.approx(m.ledger.rho_budget, rel=1e-6)
        r = m.schema.relations[0]
        return r.order_by, r.within, r.sequence, tuple(r.ends)

    # 300 patients at epsilon 1: the noise cannot tell, so nothing is measured and both take the time column and the
    # follow-up bound on their names alone (futime, named like an end; no visit number: declare it)
    for name, d in neighbours.items():
        for seed in range(2):
            a, b = released(base, 5200 + seed), released(d, 5200 + seed)
            assert a == b == ("day", "futime", None, ()), (name, a, b)
    # with enough patients every field is decided by its noisy count
    big = make_dataset(900, seed=1)
    got = [released(big, 5300 + seed) for seed in range(2)]
    assert all(g == ("day", "futime", "visit", ()) for g in got), got


@pytest.mark.parametrize("gap", ["spacing", "share"])
def test_time_gaps_rebuild_the_times_they_were_read_from(gap):
    """time_features and rebuild_times are inverse under a bound, in both scalings; rows spread evenly up to the
    bound are one spacing apart whatever their number (a share would grow along the sequence: 1/3, 1/2, ...)."""
    from medsynth.tabular.multi_features import GAP, TablePlan, rebuild_times, rows_to_come, time_features

    plan = TablePlan(name="labs", parent="patients", order_by="day", within="futime", gap=gap)
    parents = np.array([0, 0, 0, 1, 1, 2])
    bound = np.array([400.0, 400, 400, 90, 90, 50])
    days = np.array([-200.0, 0, 200, 30, 60, 7])  # patient 0 and 1: evenly spread up to the bound
    assert rows_to_come(parents).tolist() == [4, 3, 2, 3, 2, 2]
    g = time_features(days, parents, plan, bound=bound, ends={})[GAP]
    assert np.isnan(g[[0, 3, 5]]).all()
    if gap == "spacing":
        np.testing.assert_allclose(g[[1, 2, 4]], 1.0)
    else:
        np.testing.assert_allclose(g[[1, 2, 4]], [1 / 3, 1 / 2, 1 / 2])
    rebuilt, _ = rebuild_times(plan, parents, days[[0, 0, 0, 3, 3, 5]], g, {}, bound)
    np.testing.assert_allclose(rebuilt, days, atol=1e-9)


def test_a_dp_mst_root_measures_its_declared_target_with_every_column(seeded_dp_noise):
    """root_target_pairs (default): the root model holds the target with every column of its own (a tree alone joined
    nafld1.status to age in one fit of three: a rare outcome's L1 scores stay low); the ledger counts the pairs, the
    budget holds, and whole patients are sampled from the (no longer tree-shaped) root."""
    tables = make_dataset(150, seed=4)
    schema = _with_target(public_schema(tables))
    model = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(tables, schema)
    root = model.models["patients"]
    names = [c.name for c in root.schema.columns]
    together = {c for cl in root.meta["cliques"] if "status" in cl for c in cl}
    assert set(names) <= together, (names, root.meta["cliques"])
    entry = next(e for e in model.privacy_ledger.entries if e.access.startswith("table 'patients': MST"))
    assert entry.details["parts"]["two_way"]["target_pairs"] >= 1
    assert model.privacy_ledger.total_epsilon <= 1.0 * (1 + 1e-9)
    syn = model.sample(80, seed=0)
    assert len(syn["patients"]) == 80 and syn["visits"]["id"].isin(syn["patients"]["id"]).all()
    plain = MultiTableDPMST({**TINY, "root_target_pairs": False}, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(tables, schema)
    assert all(len(cl) == 2 for cl in plain.models["patients"].meta["cliques"])


def test_the_count_support_is_not_stretched_by_noise_far_up():
    """pbcseq's visits at 55% of epsilon 1: in 0.1% of draws the support reached 4,095-65,536 visits per patient
    (release TVD 0.65-0.90; a fit's visits-per-patient TVD 0.31 in one of 20): one pure-noise group far up spanned
    everything below it, or a random walk of pure-noise group sums crossed 3.5 deviations somewhere along 25 groups."""
    from medsynth.tabular.multi_counts import _core_span, _run_beyond

    gsig = np.full(30, 5.5)
    gsum = np.zeros(30)
    gsum[1:8] = 60.0
    gsum[20] = 24.0  # 4.4 deviations: clears the union threshold alone, far from the bulk
    assert _core_span(np.r_[np.arange(1, 8), 20], gsum, gsig) == (1, 7)
    gsum[20] = 60.0  # a real second mode
    assert _core_span(np.r_[np.arange(1, 8), 20], gsum, gsig) == (1, 20)
    walk = np.array([3.3, 2.7, -0.6, 3.5, 7.7, 3.1, 12.4, 1.6, 11.4, 0.8, 8.8, 6.7, 6.3, 5.7, 5.6])  # a draw that ran 14 groups
    assert _run_beyond(walk, np.full(walk.size, 5.5)) == 0
    bulk = np.r_[np.zeros(5), 80.0, 90.0]  # nafld's labs: patients without any, then the bulk further up
    assert _run_beyond(bulk, np.full(bulk.size, 5.5)) == 6


def test_times_past_the_top_of_their_range_shrink_per_parent_keeping_chained_intervals():
    """Without a bound, a parent whose sampled times run past the time column's top has its gaps and lengths shrunk
    by one factor (its last time lands on the top): its intervals stay chained and in order. Clipping each column on
    its own put the late starts at the top, before the previous interval's end."""
    from medsynth.tabular.multi_features import GAP, TablePlan, rebuild_times, time_features

    plan = TablePlan(name="infections", parent="patients", order_by="tstart", ends=["tstop"], length_scale=1.0)
    parents = np.array([0, 0, 0, 1, 1])
    days = np.array([0.0, 200, 350, 0, 100])
    ends = {"tstop": np.array([200.0, 350, 500, 100, 180])}  # chained: each start is the previous stop
    f = time_features(days, parents, plan, bound=None, ends=ends)
    np.testing.assert_allclose(f[GAP][[1, 2, 4]], 0.0)
    durs = {"tstop": f["dur:tstop"]}
    rebuilt, re_ends = rebuild_times(plan, parents, days[[0, 0, 0, 3, 3]], f[GAP], durs, None, top=280.0)
    np.testing.assert_allclose(rebuilt, [0, 160, 280, 0, 100])  # patient 0 shrunk by 0.8; patient 1 within the top
    np.testing.assert_allclose(re_ends["tstop"], [160, 280, 400, 100, 180])
    assert (rebuilt[1:3] == re_ends["tstop"][:2]).all()  # still chained
    same, _ = rebuild_times(plan, parents, days[[0, 0, 0, 3, 3]], f[GAP], durs, None)
    np.testing.assert_allclose(same, days)


def test_chained_intervals_past_their_parents_bound_shrink_and_never_end_where_they_start():
    """With a bound (the parent's follow-up, `within`), interval ends past it were clipped to it one by one: a chained
    last interval starting near the bound ended where it started (Stanford heart's transplant intervals 79.61-79.61 in
    40% of synthetic rows, none real; a zero-length interval is invalid survival data). The parent's times and ends now
    shrink together towards its first time: chained, in order, the last end at the bound, every length positive."""
    from medsynth.tabular.multi_features import TablePlan, rebuild_times

    plan = TablePlan(name="intervals", parent="patients", order_by="start", within="futime", ends=["stop"],
                     length_scale=1.0, chained="stop")
    parents = np.array([0, 0, 1, 1])
    bound = np.array([100.0, 100.0, 50.0, 50.0])
    gap = np.array([0.0, 1.0, 0.0, 0.5])  # shares of the time left: patient 0's second interval starts at its bound
    durs = {"stop": np.array([90.0, 60.0, 20.0, 10.0])}  # patient 0's last runs to 160, past its bound 100
    days, ends = rebuild_times(plan, parents, np.zeros(4), gap, durs, bound)
    stop = ends["stop"]
    assert stop[1] == pytest.approx(100.0) and days[1] == pytest.approx(62.5), (days, stop)  # shrunk by 100 / 160
    assert stop[1] > days[1]  # clipped, it ended where it started (100-100)
    np.testing.assert_allclose(days[2:], [0.0, 25.0])  # patient 1 within its bound: as sampled
    np.testing.assert_allclose(stop[2:], [20.0, 35.0])


def test_counting_process_intervals_stay_chained_within_their_range():
    """A counting-process child table (each interval starts where the previous one stopped, as survival's cgd and
    bladder2): the non-private fit samples chained intervals that never overlap and rarely start on the range's top."""
    rng = np.random.default_rng(0)
    pats, rows = [], []
    for i in range(120):
        pats.append({"id": i, "age": int(rng.integers(20, 80))})
        t, k = 0, int(rng.integers(1, 5))
        for j in range(k):
            stop = min(t + int(rng.integers(20, 160)), 400)
            if stop <= t:
                break
            rows.append({"id": i, "tstart": t, "tstop": stop, "enum": j + 1})
            t = stop
    tables = {"patients": pd.DataFrame(pats), "infections": pd.DataFrame(rows)}
    schema = infer_dataset_schema(tables)
    rel = schema.relations[0]
    assert (rel.order_by, rel.ends) == ("tstart", ["tstop"])
    syn = MultiTableDPMST(TINY, privacy=None).fit(tables, schema).sample(300, seed=0)["infections"]
    d = syn.sort_values(["id", "tstart"])
    prev = d.groupby("id")["tstop"].shift()
    has = prev.notna()
    assert has.sum() > 100
    assert (d["tstart"][has] < prev[has] - 1e-6).mean() == 0.0  # no interval starts before the previous one stopped
    assert (d["tstart"] == d["tstart"].max()).mean() < 0.1  # before: 15% of rows at the top


def _counting_process(n: int, seed: int = 0, *, chained: bool = True) -> dict[str, pd.DataFrame]:
    """Patients with a follow-up (futime) and 1-6 visits each as intervals (start, stop): each interval starts where
    the previous one stopped and the last stops at the follow-up (a counting-process table), or, with ``chained``
    False, each stops a few days before the next start."""
    rng = np.random.default_rng(seed)
    pats, rows = [], []
    for i in range(n):
        fu = int(rng.integers(300, 3000))
        pats.append({"id": i + 1, "futime": fu, "age": int(rng.integers(30, 80))})
        cuts = np.r_[0, np.sort(rng.choice(np.arange(10, fu - 10), size=int(rng.integers(0, 6)), replace=False)), fu]
        for j in range(len(cuts) - 1):
            stop = int(cuts[j + 1]) if chained or j == len(cuts) - 2 else int(cuts[j + 1]) - int(rng.integers(1, 8))
            rows.append({"id": i + 1, "start": int(cuts[j]), "stop": max(stop, int(cuts[j]) + 1),
                         "lab": round(float(rng.normal(10, 2)), 2)})
    return {"patients": pd.DataFrame(pats), "visits": pd.DataFrame(rows)}


def _chain_share(visits: pd.DataFrame) -> tuple[float, float]:
    d = visits.sort_values(["id", "start"])
    prev = d.groupby("id")["stop"].shift()
    has = prev.notna()
    return float((d["start"][has] == prev[has]).mean()), float((d["start"][has] < prev[has]).mean())


def test_schema_infer_finds_chained_intervals_and_only_those():
    """``chained`` is read from the data where every interval starts at its parent's previous stop; intervals with
    gaps between them are not chained; chained needs ends (a named error)."""
    from medsynth.core.errors import ConfigError

    s = infer_dataset_schema(_counting_process(80))
    rel = s.relations[0]
    assert (rel.order_by, rel.within, rel.ends, rel.chained) == ("start", "futime", ["stop"], "stop")
    assert "chained" in rel.read_from_data
    assert infer_dataset_schema(_counting_process(80, chained=False)).relations[0].chained is None
    tables = _counting_process(80)  # an end before the chained one in the file (review): chained names its end
    tables["visits"].insert(2, "first_stop", tables["visits"]["start"] + 1)  # (a number is an end by its name too)
    rel = infer_dataset_schema(tables).relations[0]
    assert rel.ends == ["first_stop", "stop"] and rel.chained == "stop"
    data = s.to_dict()
    data["relations"][0]["ends"] = []
    with pytest.raises(ConfigError, match="chained .stop. must be one of its ends"):
        DatasetSchema.from_dict(data)


def test_chained_intervals_stay_chained_when_sampled_and_dp_decides_them(seeded_dp_noise):
    """Under a within bound the start times are modelled as shares of the follow-up left and each stop as a length,
    so 49% of a counting-process table's synthetic intervals overlapped the next one (pbcseq as start/stop intervals);
    with ``chained`` a row's stop is the next row's start: none overlap, all follow each other. A DP fit decides
    chained from a noisy count of the patients contradicting it: kept on chained data, dropped on gapped data."""
    tables = _counting_process(150)
    syn = MultiTableDPMST(TINY, privacy=None).fit(tables, infer_dataset_schema(tables)).sample(200, seed=0)["visits"]
    assert _chain_share(syn) == (1.0, 0.0)
    assert (syn["stop"] > syn["start"]).mean() > 0.99  # no row at its bound (a share of 1: 2% of transfers before)
    big = _counting_process(2500, seed=1)
    schema = public_schema(big)
    data = schema.to_dict()
    data["relations"] = infer_dataset_schema(big).to_dict()["relations"]  # the time fields read from the data
    model = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(big, DatasetSchema.from_dict(data))
    assert model.schema.relations[0].chained
    assert _chain_share(model.sample(300, seed=0)["visits"])[0] == 1.0
    gapped = _counting_process(2500, seed=2, chained=False)
    data["relations"][0]["chained"] = "stop"  # read from the data: re-decided
    model = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(gapped, DatasetSchema.from_dict(data))
    assert not model.schema.relations[0].chained


def test_the_dp_fit_chains_the_end_the_data_chain_without_a_bound(seeded_dp_noise):
    """Review: an end listed before the chained one (`seen`) keeps its place, and the DP fit chains the end the data
    chain (`stop`), not the first one; every synthetic interval then starts where the previous one stopped, in whole
    days. (The rounding apart of a start and the previous stop decoded on their own ranges does not happen on this
    data; test_a_chained_end_is_written_as_the_next_rows_decoded_time guards the copy that mends it.)"""
    tables = _counting_process(1500, seed=3)
    tables["patients"] = tables["patients"].drop(columns=["futime"])
    tables["visits"].insert(2, "seen", tables["visits"]["start"] + 1)
    schema = public_schema(tables)
    data = schema.to_dict()
    data["relations"] = infer_dataset_schema(tables).to_dict()["relations"]
    assert data["relations"][0]["chained"] == "stop" and data["relations"][0].get("within") is None
    model = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(tables, DatasetSchema.from_dict(data))
    assert model.schema.relations[0].chained == "stop"
    syn = model.sample(1000, seed=0)["visits"]
    assert pd.api.types.is_integer_dtype(syn["stop"])
    assert _chain_share(syn) == (1.0, 0.0)


def test_a_chained_end_is_written_as_the_next_rows_decoded_time():
    """Review: start and end decoded on their own ranges rounded x.5 days apart (a gap of 1 day in 2% of DP-sampled
    integer pairs); the chained end is copied from the next row's decoded time, whole numbers stay whole, and a
    date written in another format is left as decoded."""
    from medsynth.tabular.multi_sampling import _copy_next_times
    from medsynth.tabular.schema import ColumnSchema, TableSchema

    df = pd.DataFrame({"start": [0, 13, 25, 0], "stop": [12, 24, 40, 7]})
    schema = TableSchema(columns=[ColumnSchema(name="start", type="integer", min=0, max=2987),
                                  ColumnSchema(name="stop", type="integer", min=1, max=3001)])
    _copy_next_times(df, np.array([0, 0, 0, 1]), "start", "stop", schema)
    assert df["stop"].tolist() == [13, 25, 40, 7] and pd.api.types.is_integer_dtype(df["stop"])
    dates = pd.DataFrame({"intime": ["2130-01-01 10:00:00", "2130-01-02 11:00:00"], "outtime": ["2130-01-02", "2130-01-03"]})
    other = TableSchema(columns=[ColumnSchema(name="intime", type="datetime", format="%Y-%m-%d %H:%M:%S"),
                                 ColumnSchema(name="outtime", type="datetime", format="%Y-%m-%d")])
    _copy_next_times(dates, np.array([0, 0]), "intime", "outtime", other)
    assert dates["outtime"].tolist() == ["2130-01-02", "2130-01-03"]


def test_chained_written_as_a_boolean_reads_as_the_first_end():
    """Review: `chained: true` (its first form on main) failed to load ('Input should be a valid string'), and a plan
    saved with it crashed sampling with KeyError: True."""
    from medsynth.io.dataset import Relation
    from medsynth.tabular.multi_features import TablePlan

    rel = Relation(child="v", column="id", parent="p", parent_column="id", order_by="start", ends=["stop", "x"],
                   chained=True)
    assert rel.chained == "stop"
    assert Relation(child="v", column="id", parent="p", parent_column="id", chained=False).chained is None
    plan = TablePlan.from_dict({"name": "v", "ends": ["stop"], "chained": True})
    assert plan.chained == "stop" and TablePlan.from_dict({"name": "v", "chained": False}).chained is None


def test_times_past_the_top_shrink_under_a_bound_too():
    """A bound may lie above the time column's released top (a dischtime above the intime range): the parent's times
    shrink towards its first time instead of the late ones being clipped onto the top, out of order with their ends."""
    from medsynth.tabular.multi_features import TablePlan, rebuild_times

    plan = TablePlan(name="transfers", parent="admissions", order_by="t", within="disch", gap="share")
    parents = np.array([0, 0, 0])
    days, _ = rebuild_times(plan, parents, np.zeros(3), np.array([np.nan, 0.5, 0.5]), {}, np.full(3, 100.0), top=60.0)
    np.testing.assert_allclose(days, [0, 40, 60])  # unshrunk: 0, 50, 75 (past the top of 60)
    same, _ = rebuild_times(plan, parents, np.zeros(3), np.array([np.nan, 0.5, 0.5]), {}, np.full(3, 100.0))
    np.testing.assert_allclose(same, [0, 50, 75])


def test_schema_infer_proposes_each_tables_rules_and_fits_use_only_accepted_ones():
    """A folder's tables get the rules that hold in every row, as a single table does (`le` between dates, derived
    columns), marked as read from the data; a fit, DP or not, ignores those not accepted (a note says so: a folder's
    models meet rules by redrawing rows, and Synthea's proposed START <= STOP could not be met), keeps an accepted
    ordering and computes an accepted derived column."""
    tables = _counting_process(120)
    tables["patients"]["enrolled"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(tables["patients"]["age"], unit="D")
    tables["patients"]["exited"] = tables["patients"]["enrolled"] + pd.to_timedelta(tables["patients"]["futime"], unit="D")
    tables["patients"]["stay"] = tables["patients"]["futime"]  # derived too, and no relation's time field
    schema = infer_dataset_schema(tables)
    rules = schema.tables["patients"].constraints
    assert {(c.kind, tuple(c.columns), c.public, c.read_from_data) for c in rules} >= {
        ("le", ("enrolled", "exited"), False, True), ("derived", ("stay", "exited", "enrolled"), False, True)}
    assert all("id" not in c.columns for t in schema.tables.values() for c in t.constraints)  # no rule on a key
    model = MultiTableDPMST(TINY, privacy=None).fit(tables, schema)
    assert model.schema.tables["patients"].constraints == []
    assert any("not accepted" in n for n in model.ledger.notes)
    dp = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(tables, schema)  # review: DP keeps it private
    assert not any("rule" in n for n in dp.ledger.notes) and dp.private_meta["rules_not_accepted"]
    data = schema.to_dict()
    for c in data["tables"]["patients"]["constraints"]:
        c["public"] = True  # accepted: the le rule is kept by redraws, the derived column computed
    model = MultiTableDPMST(TINY, privacy=None).fit(tables, DatasetSchema.from_dict(data))
    kept = {(c.kind, c.columns[0]) for c in model.schema.tables["patients"].constraints}
    assert ("le", "enrolled") in kept and ("derived", "stay") in kept
    assert ("derived", "futime") not in kept  # the visits' within bound: modelled (review: 18% of visits past it)
    assert any("relation time fields" in n for n in model.ledger.notes)
    assert any("accepted as public" in a for a in model.ledger.public_assumptions)
    syn = model.sample(100, seed=0)["patients"]
    enrolled, exited = pd.to_datetime(syn["enrolled"]), pd.to_datetime(syn["exited"])
    assert (enrolled <= exited).all()
    assert (syn["stay"] == (exited - enrolled).dt.days).all()  # computed, not learnt


def test_rows_without_a_time_stay_without_one():
    """Review: a lab table with 15% of its times missing came out with none missing and 12% of its times a copy of the
    previous one (a later row's gap drawn missing was written as 0); such rows are now written without a time."""
    tables = make_dataset(600, seed=5)
    rng = np.random.default_rng(0)
    v = tables["visits"]
    later = v.groupby("id").cumcount() > 0
    v.loc[later & (rng.random(len(v)) < 0.2), "day"] = np.nan
    real_missing = float(v["day"].isna().mean())
    schema = public_schema(tables)
    data = schema.to_dict()
    data["relations"][0].update({"order_by": "day", "within": "futime", "read_from_data": []})
    syn = MultiTableDPMST(TINY, privacy=None).fit(tables, DatasetSchema.from_dict(data)).sample(600, seed=0)["visits"]
    missing = float(syn["day"].isna().mean())
    assert 0.85 * real_missing < missing < 1.3 * real_missing, (missing, real_missing)  # under a bound too (review: 10% of 15%)
    timed = syn.dropna(subset=["day"])
    assert timed.duplicated(["id", "day"]).mean() < 0.03


def test_rows_still_breaking_an_accepted_ordering_are_brought_onto_it():
    """After every redraw, the last rows breaking an accepted `le` take b = a instead of the whole sample being refused
    (Synthea's START <= STOP: 1 row in 973 after 30 redraws)."""
    from medsynth.tabular.multi_sampling import _onto_orderings
    from medsynth.tabular.schema import ColumnSchema, Constraint, TableSchema

    schema = TableSchema(columns=[ColumnSchema(name=n, type="datetime", format="%Y-%m-%d") for n in ("a", "b", "c")])
    rules = [Constraint(kind="le", columns=["a", "b"]), Constraint(kind="le", columns=["b", "c"])]
    df = pd.DataFrame({"a": ["2020-01-05", "2020-01-01"], "b": ["2020-01-03", "2020-01-02"], "c": ["2020-01-04", None]})
    _onto_orderings(df, schema, rules, np.array([0]))
    assert df.iloc[0].tolist() == ["2020-01-05"] * 3 and df.iloc[1].tolist() == ["2020-01-01", "2020-01-02", None]
    # a derived column on the moved end is computed again (it kept the model's value: los 3 beside a stay of 0 days)
    schema = TableSchema(columns=[*schema.columns[:2], ColumnSchema(name="los", type="integer", min=0, max=30)])
    rules = [Constraint(kind="le", columns=["a", "b"]), Constraint(kind="derived", columns=["los", "b", "a"])]
    df = pd.DataFrame({"a": ["2020-01-05", "2020-01-01"], "b": ["2020-01-03", "2020-01-04"], "los": [3, 3]})
    _onto_orderings(df, schema, rules, np.array([0]))
    assert df["b"].tolist() == ["2020-01-05", "2020-01-04"] and df["los"].tolist() == [0, 3]


def test_accepted_rules_on_columns_dp_retyped_or_emptied_are_dropped_with_a_note():
    """Review: a rule whose column the DP domains re-typed (age_at_death became categorical) made the fit crash with a
    raw validation error, and no run folder, in 1 fit in 30 at epsilon 1."""
    from medsynth.privacy.ledger import PrivacyLedger
    from medsynth.tabular.schema import ColumnSchema, Constraint

    m = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5})
    m.ledger = PrivacyLedger(private=True, target_epsilon=1.0, target_delta=1e-5)
    cols = [ColumnSchema(name="dob", type="datetime"), ColumnSchema(name="dod", type="datetime"),
            ColumnSchema(name="age_at_death", type="categorical", categories=["1"]),
            ColumnSchema(name="gone", type="integer", omitted=True)]
    rules = [Constraint(kind="le", columns=["dob", "dod"], public=True),
             Constraint(kind="derived", columns=["age_at_death", "dod", "dob"], public=True),
             Constraint(kind="le", columns=["dob", "gone"], public=True)]
    kept = m._typed_rules("patients", cols, rules)
    assert [c.columns for c in kept] == [["dob", "dod"]]
    assert any("age_at_death" in n and "re-typed" in n for n in m.ledger.notes)


def test_a_positive_length_that_the_written_digits_would_erase_is_kept():
    """A last interval drawn 0.01 days long at day 326.3 was written 326.3-326.3 (4 significant digits): Stanford
    heart's synthetic intervals ended where they started. It now ends one written step later; a missing length, or a
    date's same-day interval, is left as it is."""
    from medsynth.tabular.multi_features import TablePlan
    from medsynth.tabular.multi_sampling import _keep_lengths
    from medsynth.tabular.schema import ColumnSchema, TableSchema

    plan = TablePlan(name="intervals", parent="patients", order_by="start", ends=["stop"], length_scale=1.0)
    cols = [ColumnSchema(name=n, type="continuous", min=0.0, max=2000.0, transform="log") for n in ("start", "stop")]
    df = pd.DataFrame({"start": [0.5, 326.3, 40.0], "stop": [60.0, 326.3, 40.0]})
    _keep_lengths(df, plan, TableSchema(columns=cols), {"stop": np.array([59.5, 0.01, np.nan])})
    np.testing.assert_allclose(df["stop"], [60.0, 326.4, 40.0])


def test_a_child_times_declared_range_is_not_widened_to_the_parents_follow_up(seeded_dp_noise):
    """Stanford heart's interval starts, declared public up to 310 days (a transplant's wait), were widened to the
    follow-up's 1,799 days, and 30-40% of later intervals started past 310: a range declared public is a fact, kept."""
    rng = np.random.default_rng(0)
    pats, rows = [], []
    for i in range(150):
        fu = int(rng.integers(300, 1500))
        pats.append({"id": i, "age": int(rng.integers(20, 70)), "futime": fu})
        wait = int(rng.integers(5, 300))
        rows.append({"id": i, "start": 0, "stop": wait})
        if rng.random() < 0.6:
            rows.append({"id": i, "start": wait, "stop": fu + 1})
    tables = {"patients": pd.DataFrame(pats), "intervals": pd.DataFrame(rows)}
    data = infer_dataset_schema(tables).to_dict()
    for t in data["tables"].values():
        for c in t["columns"]:
            c["public"] = True
            c.pop("read_from_data", None)
    for r in data["relations"]:
        r.pop("read_from_data", None)
    schema = DatasetSchema.from_dict(data)
    assert schema.tables["intervals"].column("start").max < 310
    model = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(tables, schema)
    syn = model.sample(150, seed=0)["intervals"]
    assert pd.to_numeric(syn["start"]).max() <= schema.tables["intervals"].column("start").max


def test_a_folders_category_floor_counts_patients(seeded_dp_noise):
    """A data scientist read the fit's 'categories held by fewer than about 144 rows (4% of them)' against nafld's event
    table and thought stroke (6.4% of the event rows) safe: a child table's values are counted on one random row per
    patient, so the warning and the ledger notes say patients."""
    from medsynth import tabular as tab

    tables = make_dataset(150, seed=1)
    model = MultiTableDPMST(TINY, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(tables, infer_dataset_schema(tables))
    gaps = tab.release_gaps(model) or ""
    assert "categories held by fewer than about" in gaps, gaps
    assert "patients (a child table's values counted on one random row of each)" in gaps, gaps
    notes = [n for n in model.ledger.notes if "category lists" in n]
    assert any("patients' rows (a child table's values are counted on one random row of each patient)" in n
               for n in notes), notes


def test_a_folders_counts_written_with_decimals_are_named_per_table(seeded_dp_noise):
    """A reviewer: the fit's warning named a single table's counts written with decimals (the noise not confirming them
    whole) but never a folder's: its ledger entries carry the table in their access."""
    from medsynth import tabular as tab

    rs = np.random.default_rng(0)
    n = 1500
    pat = pd.DataFrame({"pid": np.arange(n), "age": rs.integers(20, 90, n).astype(float),
                        **{f"count{i}": np.where(rs.random(n) < 0.3, rs.integers(0, 50, n).astype(float), np.nan)
                           for i in range(6)}})
    pid = np.repeat(np.arange(n), rs.integers(1, 4, n))
    vis = pd.DataFrame({"vid": np.arange(len(pid)), "pid": pid, "day": rs.integers(0, 300, len(pid)),
                        **{f"lab{i}": np.where(rs.random(len(pid)) < 0.3, rs.integers(0, 50, len(pid)).astype(float), np.nan)
                           for i in range(6)}})
    tables = {"patients": pat, "visits": vis}
    model = tab.fit(tables, epsilon=1.0, schema=tab.infer_schema(tables))
    gaps = tab.release_gaps(model) or ""
    for t in ("patients", "visits"):
        decimals = [c.name for c in model.schema.tables[t].modelled if c.type == "continuous" and c.name != "age"]
        if decimals:
            assert f"table '{t}': " in gaps and "written with decimals" in gaps and decimals[0] in gaps, (t, decimals, gaps)
    assert "written with decimals" in gaps


def test_a_visit_number_that_orders_the_rows_is_their_sequence():
    """geepack's respiratory: every patient's visits are 1, 2, 3, 4, the only time. It was the relation's order_by and
    so never its sequence (schema infer and the DP decision skipped it), and the time model wrote 1, 1, 2, 3 for 0-23%
    of the synthetic patients (a data scientist). Named as a numbering, the time is the sequence: computed."""
    rs = np.random.default_rng(0)
    n = 1200
    k = rs.integers(2, 6, n)
    pats = pd.DataFrame({"id": np.arange(n), "trt": rs.choice(["A", "P"], n), "age": rs.integers(18, 70, n)})
    vid = np.repeat(np.arange(n), k)
    visits = pd.DataFrame({"id": vid, "visit": np.concatenate([np.arange(1, j + 1) for j in k]),
                           "outcome": rs.integers(0, 2, vid.size)})
    d = {"patients": pats, "visits": visits}
    rel = infer_dataset_schema(d).relations[0]
    assert rel.order_by == "visit" and rel.sequence == "visit"
    with insecure_noise_for_audit(7):
        m = MultiTableDPMST(TINY, privacy={"epsilon": 4.0, "delta": 1e-5}).fit(d, infer_dataset_schema(d))
    assert m.schema.relations[0].sequence == "visit", m.schema.relations[0]
    out = m.sample(n, seed=0)["visits"]
    runs = out.groupby("id")["visit"].apply(list)
    assert all(v == list(range(1, len(v) + 1)) for v in runs), runs[runs.map(lambda v: v != list(range(1, len(v) + 1)))].head()
