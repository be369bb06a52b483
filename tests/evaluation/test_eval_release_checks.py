"""Verdicts a privacy officer relies on, from a review that fed the report synthetic tables whose right answer was
known: a holdout given as synthetic, a few verbatim copies, a target in other words, one unusable column, and a point
estimate past the fail limit on a small holdout."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from medsynth.cli.main import app
from medsynth.evaluation import EvaluationConfig, evaluate_tabular
from medsynth.evaluation.config import Threshold
from medsynth.evaluation.results import judge


def _table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 10, n).round(2)
    return pd.DataFrame({"age": age, "kappa": rng.lognormal(0, 0.5, n).round(3), "sex": rng.choice(["F", "M"], n),
                         "status": np.where(age + rng.normal(0, 8, n) > 65, 2, rng.choice([0, 1], n))})


def test_point_past_the_fail_limit_is_never_a_pass() -> None:
    th = Threshold(review=0.05, fail=0.10)
    r = judge("attribute_inference_risk", "privacy", 0.237, "minimize", "", threshold=th, judged=0.0)
    assert r.verdict == "review" and "inconclusive" in r.note and "0.237" in r.note
    assert judge("a", "privacy", 0.08, "minimize", "", threshold=th, judged=0.0).verdict == "pass"  # below fail: the bound judges
    assert judge("a", "privacy", 0.3, "minimize", "", threshold=th, judged=0.2).verdict == "fail"


def test_holdout_given_as_synthetic_fails_and_utility_is_not_measured_on_it() -> None:
    train, holdout = _table(300, 0), _table(150, 1)
    rep = evaluate_tabular(train, holdout, holdout.copy(), target="status")
    m = rep.metric("holdout_copy_share")
    assert m.value == 1.0 and m.verdict == "fail"
    assert rep.metric("utility_auroc_gap").verdict == "skipped"
    assert "copied verbatim" in rep.metric("utility_auroc_gap").note
    # a third of the holdout leaked: utility is measured on the other rows, and says so
    mixed = pd.concat([_table(200, 12), holdout.iloc[:50]], ignore_index=True)
    rep = evaluate_tabular(train, holdout, mixed, target="status")
    gap = rep.metric("utility_auroc_gap")
    assert gap.details["test_rows"] == 100 and "tested on the other holdout rows" in gap.note
    # copies of training rows only: no holdout leak
    assert evaluate_tabular(train, holdout, train.copy(), target="status").metric("holdout_copy_share").verdict == "pass"


def test_two_percent_verbatim_copies_fail_and_audit_can_gate_on_review(tmp_path) -> None:
    train, holdout = _table(1000, 2), _table(500, 3)
    honest = _table(1000, 4)
    syn = pd.concat([honest.iloc[:980], train.iloc[:20]], ignore_index=True)
    cfg = EvaluationConfig(metrics=["exact_copies"])
    assert evaluate_tabular(train, holdout, syn, mode="audit", config=cfg).metric("exact_copy_share").verdict == "fail"
    for name, df in (("train", train), ("holdout", holdout), ("syn", honest)):
        df.to_csv(tmp_path / f"{name}.csv", index=False)
    args = ["audit", "tabular", "--train", str(tmp_path / "train.csv"), "--holdout", str(tmp_path / "holdout.csv"),
            "--synthetic", str(tmp_path / "syn.csv"), "--out", str(tmp_path / "a")]
    bad = CliRunner().invoke(app, [*args, "--fail-on", "sometimes"])
    assert bad.exit_code == 2 and "expected 'fail' or 'review'" in bad.output and not (tmp_path / "a").exists()
    ok = CliRunner().invoke(app, [*args, "--fail-on", "review", "--set", "privacy.dcr_share_train.review=0.0"])
    verdict = json.loads((tmp_path / "a" / "report.json").read_text())["verdict"]
    assert verdict == "review" and ok.exit_code == 1, ok.output


def test_target_in_other_words_fails_utility_with_a_reason_not_a_traceback() -> None:
    train, holdout = _table(300, 5), _table(150, 6)
    syn = _table(300, 7)
    syn["status"] = syn["status"].map({0: "censored", 1: "transplant", 2: "dead"})
    rep = evaluate_tabular(train, holdout, syn, target="status")
    gap = rep.metric("utility_auroc_gap")
    assert gap.verdict == "fail" and "'censored'" in gap.note and "recode" in gap.note


def test_one_unusable_column_fails_fidelity_on_its_own() -> None:
    train, holdout = _table(400, 8), _table(200, 9)
    syn = _table(400, 10)
    syn["sex"] = syn["sex"].str.lower()
    m = evaluate_tabular(train, holdout, syn).metric("marginal_distance_max")
    assert m.verdict == "fail" and m.details["column"] == "sex" and "'f'" in m.note
    assert evaluate_tabular(train, holdout, _table(400, 11)).metric("marginal_distance_max").verdict == "pass"
    # a quarter of one column's mass misplaced is for a human to look at (MedExp's lc, KS 0.293 against the holdout's
    # 0.010, passed): every synthetic age moved up by two thirds of a standard deviation (KS about 0.27)
    shifted = _table(400, 12)
    shifted["age"] = shifted["age"] + 0.65 * train["age"].std()
    m = evaluate_tabular(train, holdout, shifted).metric("marginal_distance_max")
    assert m.verdict == "review" and m.details["column"] == "age" and 0.22 < m.value < 0.35, (m.value, m.verdict)


def test_copies_in_another_format_are_still_copies() -> None:
    """A copy of the training rows re-cased ('f' for 'F'), read back with every column as text ('2.0' for 2), or written
    with fewer decimals scored exact_copy_share 0.0 (PASS) and passed the distance-to-closest-record ratio: the
    categories did not match, so every distance was large. Categories are read as the real ones case aside (with a
    note), whole numbers written as text as numbers, and numbers compared at 8 significant digits."""
    train, holdout = _table(300, 0), _table(150, 1)
    kinds = {"recased": train.assign(sex=train["sex"].str.lower()),
             "as_text": train.astype(str),
             "fewer_decimals": train.assign(kappa=train["kappa"] * (1 + 1e-9)),
             # (a frame with another index: the re-cased columns were assigned by label, all NaN: a review)
             "recased_reindexed": train.assign(sex=train["sex"].str.lower()).set_axis(train.index + 1000)}
    for name, syn in kinds.items():
        rep = evaluate_tabular(train, holdout, syn)
        assert rep.metric("exact_copy_share").value == 1.0 and rep.metric("exact_copy_share").verdict == "fail", name
        assert rep.metric("dcr_p5_ratio").verdict == "fail", name
    rep = evaluate_tabular(train, holdout, kinds["recased"])
    assert any("only in case" in n and "'f' as 'F'" in n for n in rep.notes), rep.notes


def test_a_lumped_code_is_compared_as_categories_even_where_the_schema_says_numeric(tmp_path) -> None:
    """medsynth's own release of openintro::hfi wrote '(other)' (values too rare to release) in a score column the
    schema calls numeric, and `evaluate --schema` refused it: 'non-numeric values'."""
    from medsynth.io.schema import OTHER_CATEGORY
    from medsynth.tabular.schema import infer_schema

    train, holdout = _table(300, 0), _table(150, 1)
    syn = _table(300, 2).astype({"age": object})
    syn.loc[::3, "age"] = OTHER_CATEGORY
    schema = tmp_path / "s.yaml"
    infer_schema(pd.concat([train, holdout])).save(schema)
    rep = evaluate_tabular(train, holdout, syn, schema=schema)
    assert any("'(other)'" in n and "age" in n for n in rep.notes), rep.notes


def test_losing_the_strong_relations_fails_though_the_mean_passes() -> None:
    """nhefs at epsilon 1: association_difference_mean passed (0.067 over about 2,000 pairs) while sbp-dbp 0.56 and
    height-weight 0.50 went to zero. The strong pairs are judged on their own."""
    def table(n: int, seed: int, tied: bool = True) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        cols = {f"x{i}": rng.normal(0, 1, n) for i in range(12)}  # many unrelated pairs dilute a mean
        h = rng.normal(170, 10, n)
        cols["height"], cols["weight"] = h, (0.9 * (h - 170) if tied else rng.normal(0, 9, n)) + 70 + rng.normal(0, 4, n)
        return pd.DataFrame(cols)

    train, holdout = table(600, 0), table(300, 1)
    broken = evaluate_tabular(train, holdout, table(600, 2, tied=False))
    m = broken.metric("strong_association_loss_share")
    assert broken.metric("association_difference_mean").verdict == "pass"
    assert m.value == 1.0 and m.verdict == "fail" and "height~weight" in m.note
    assert evaluate_tabular(train, holdout, table(600, 3)).metric("strong_association_loss_share").verdict == "pass"


def test_a_column_that_gives_the_target_away_is_named() -> None:
    """nhefs: a year of death, present only for the dead, predicted death with AUROC 1.0 and the utility section passed
    without a word; the note names the columns that alone separate the classes."""
    def table(n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        death = rng.random(n) < 0.3
        return pd.DataFrame({"age": rng.normal(60, 10, n).round(), "sex": rng.choice(["F", "M"], n),
                             "yrdth": np.where(death, rng.integers(83, 93, n), np.nan), "death": death.astype(int)})

    rep = evaluate_tabular(table(400, 0), table(200, 1), table(400, 2), target="death")
    note = rep.metric("utility_auroc_gap").note
    assert "predict the target almost perfectly" in note and "'yrdth' (1.00)" in note and "'age'" not in note
    honest = evaluate_tabular(_table(400, 0), _table(200, 1), _table(400, 2), target="status")
    assert "almost perfectly" not in honest.metric("utility_auroc_gap").note


def test_one_very_strong_relation_lost_among_many_kept_is_a_review_at_least() -> None:
    """nwtco at epsilon 1: institution and central histology (0.73) went to 0.04 and the metric passed, 1 pair lost of
    the strong ones (under its 25%); a very strong pair (0.5 or more, here 0.6; from 0.8 a loss fails) lost is a
    review at least."""
    def table(n: int, seed: int, tied: bool = True) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        base = {f"z{i}": rng.normal(0, 1, n) for i in range(5)}
        cols = {}
        for i in range(5):  # five strong pairs that survive
            cols[f"a{i}"], cols[f"b{i}"] = base[f"z{i}"], base[f"z{i}"] + rng.normal(0, 0.8, n)
        h = rng.normal(170, 10, n)
        cols["height"], cols["weight"] = h, (0.9 * (h - 170) if tied else rng.normal(0, 9, n)) + 70 + rng.normal(0, 12, n)
        return pd.DataFrame(cols)

    train, holdout = table(600, 0), table(300, 1)
    m = evaluate_tabular(train, holdout, table(600, 2, tied=False)).metric("strong_association_loss_share")
    assert m.value < 0.25 and m.verdict == "review" and "very strong association lost: height~weight" in m.note, m.note
    assert evaluate_tabular(train, holdout, table(600, 3)).metric("strong_association_loss_share").verdict == "pass"


def test_an_association_the_synthetic_table_makes_up_is_a_review_at_least() -> None:
    """blood_storage at epsilon 1: recurrence by red cell age group, flat in the real rows (Cramer's V 0.008), came out
    graded (V 0.39: 11%, 0% and 34% by group), a study's key exposure given an effect it does not have; only losses of
    real associations were judged."""
    def table(n: int, seed: int, made_up: bool = False) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        group = rng.choice(["young", "middle", "old"], n)
        p = np.where(group == "old", 0.6, np.where(group == "middle", 0.02, 0.2)) if made_up else np.full(n, 0.2)
        return pd.DataFrame({"group": group, "recurrence": (rng.random(n) < p).astype(int).astype(str),
                             "age": rng.integers(40, 80, n)})

    train, holdout = table(300, 0), table(150, 1)
    m = evaluate_tabular(train, holdout, table(300, 2, made_up=True)).metric("strong_association_loss_share")
    assert m.verdict == "review" and "no real sample holds: group~recurrence" in m.note, (m.verdict, m.note)
    assert evaluate_tabular(train, holdout, table(300, 3)).metric("strong_association_loss_share").verdict == "skipped"


def test_negative_values_where_no_real_value_is_are_a_review() -> None:
    """pneumon's child age in months (0.5-12): a DP fit wrote 50 ages of -1 (1.998% of the rows), under the 2% review
    limit of values outside the real range, and the report passed it."""
    train, holdout = _table(400, 13), _table(200, 14)
    for t in (train, holdout):
        t["months"] = np.random.default_rng(len(t)).uniform(0.5, 12, len(t)).round(1)
    syn = _table(400, 15)
    syn["months"] = np.random.default_rng(3).uniform(0.5, 12, 400).round(1)
    ok = evaluate_tabular(train, holdout, syn).metric("values_outside_real_range_max")
    syn.loc[:5, "months"] = -1.0  # 6 of 400: 1.5%
    m = evaluate_tabular(train, holdout, syn).metric("values_outside_real_range_max")
    assert ok.verdict == "pass" and m.verdict == "review" and "negative" in m.note, (ok.verdict, m.verdict, m.note)


def test_the_top_categories_line_shows_a_synthetic_value_no_real_row_holds() -> None:
    """A data scientist: '(other)' filled 13-16% of a two-valued synthetic column, and the per-column line of real /
    synthetic shares left it out (only the real values were listed)."""
    train, holdout = _table(400, 16), _table(200, 17)
    syn = _table(400, 18)
    syn.loc[:59, "sex"] = "(other)"  # 15%
    rows = evaluate_tabular(train, holdout, syn).metric("marginal_distance_mean").details["columns"]
    line = next(r["top_categories_real_vs_synthetic"] for r in rows if r["column"] == "sex")
    assert "(other): 0 / 0.150" in line, line


def test_an_other_lump_where_no_real_value_is_lacking_is_an_unseen_value() -> None:
    """A data scientist: DoctorContacts' sex (female/male) took '(other)' in 73 synthetic rows and the report said 0%
    unseen values: the lump stands for no real value where the synthetic column lacks none. Where it lacks one, the
    lump may hold it and is excepted as before."""
    train, holdout = _table(400, 16), _table(200, 17)
    syn = _table(400, 18)
    syn.loc[:19, "sex"] = "(other)"  # 5%, both real values still held
    m = evaluate_tabular(train, holdout, syn).metric("unseen_category_values_max")
    assert m.value >= 0.05 and "'(other)'" in m.note, (m.value, m.note)
    lumped = syn.copy()
    lumped.loc[lumped["sex"] == sorted(set(train["sex"]))[0], "sex"] = "(other)"  # a real value lumped away
    rows = evaluate_tabular(train, holdout, lumped).metric("unseen_category_values_max").details["columns"]
    assert next(r for r in rows if r["column"] == "sex")["synthetic"] == 0.0


def test_values_inside_a_declared_public_range_are_not_outside() -> None:
    """The demo's admissions: length of stay written up to 59 days inside its public 1-60 (real up to 44) flipped the
    report between PASS and REVIEW from fit to fit. A range a medsynth schema declares public counts as real; without
    the schema the same values are past the real range."""
    from medsynth.tabular.schema import ColumnSchema, TableSchema

    rng = np.random.default_rng(0)
    train = pd.DataFrame({"los": rng.integers(1, 45, 600), "ward": rng.choice(["a", "b"], 600)})
    holdout = pd.DataFrame({"los": rng.integers(1, 45, 300), "ward": rng.choice(["a", "b"], 300)})
    syn = pd.DataFrame({"los": np.r_[rng.integers(1, 45, 580), rng.integers(50, 60, 20)], "ward": rng.choice(["a", "b"], 600)})
    schema = TableSchema(columns=[ColumnSchema(name="los", type="integer", min=1, max=60, public=True),
                                  ColumnSchema(name="ward", type="categorical", categories=["a", "b"], public=True)])
    plain = evaluate_tabular(train, holdout, syn).metric("values_outside_real_range_max")
    declared = evaluate_tabular(train, holdout, syn, schema=schema).metric("values_outside_real_range_max")
    assert plain.verdict != "pass" and plain.value > 0.03, (plain.verdict, plain.value)
    assert declared.verdict == "pass" and declared.value == 0.0, (declared.verdict, declared.note)


def _covid(n: int, seed: int, ct: str = "real") -> pd.DataFrame:
    """medicaldata::covid_testing's shape: a test result and its Ct value, 45 (nothing found) unless positive."""
    rng = np.random.default_rng(seed)
    result = np.where(rng.random(n) < 0.12, "positive", "negative")
    values = np.where(result == "positive", rng.uniform(15, 40, n).round(2), 45.0)
    if ct == "constant":
        values = np.full(n, 45.0)
    return pd.DataFrame({"age": rng.normal(40, 15, n).round(1), "sex": rng.choice(["female", "male"], n),
                         "result": result, "ct_result": values})


def test_a_column_collapsed_to_one_value_and_a_near_deterministic_pair_lost_fail() -> None:
    """covid_testing at epsilon 1: the synthetic Ct value was 45 in every row while real positives have Ct < 45 (582 of
    584). Its KS distance is the real share under 45 (0.07), which marginal_distance_max passed, and result~ct_result
    (0.90 -> 0.00), 4 lost pairs of 19, only made strong_association_loss_share a review. Both fail now; a table drawn
    like the real one passes both."""
    train, holdout = _covid(300, 0), _covid(200, 1)
    rep = evaluate_tabular(train, holdout, _covid(300, 2, ct="constant"))
    assert rep.metric("marginal_distance_max").verdict == "pass"  # the blind spot: the distance cannot see it
    m = rep.metric("columns_collapsed_to_one_value")
    assert m.value == 1 and m.verdict == "fail" and "'ct_result': 45.0" in m.note, m.note
    s = rep.metric("strong_association_loss_share")
    assert s.verdict == "fail" and "near-deterministic association lost: result~ct_result" in s.note, s.note
    good = evaluate_tabular(train, holdout, _covid(300, 3))
    assert good.metric("columns_collapsed_to_one_value").verdict == "pass"
    assert good.metric("strong_association_loss_share").verdict == "pass"
    # a rare value (3% of rows) left out is the lost-categories check's, not a collapse
    rare = _covid(300, 4)
    rare["sex"] = np.where(np.random.default_rng(5).random(300) < 0.03, "unknown", rare["sex"])
    syn = _covid(300, 6)
    assert evaluate_tabular(rare, holdout, syn).metric("columns_collapsed_to_one_value").verdict == "pass"
