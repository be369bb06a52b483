"""Zero-config multi-table dp-mst on pbcseq at epsilon 1: empty columns per table, visit 2-way TVD, visits per patient.

Writes (merges into) ``benchmarks/results/multitable_zeroconfig.json`` under ``--label``.

Protocol: ``pbcseq_patients.csv`` + ``pbcseq_visits.csv`` (312 patients, 1,945 visits) copied to a folder as
``patients.csv`` and ``visits.csv``; the schema is ``schema infer`` on that folder with nothing declared public
(every domain read from the data, so every domain is released with DP); ``fit`` at epsilon 1, delta 1e-5, all
defaults; one sample of as many patients as the real table. Per fit: the synthetic columns with no value, per table;
the mean 2-way TVD of the visit table (:func:`medsynth.evaluation.multitable.table_metrics`, numbers in real
deciles); the visits-per-patient TVD; the visit days (:func:`visit_times`: day empty, visits on another visit's day,
on or past futime, on day 0); the contribution bound chosen; the rho spent and the budget. DP noise is
fresh each fit: report every draw, not one.

Run from a checkout: ``PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/multitable_zeroconfig.py --label after
[--fits 3]`` (PYTHONPATH pointing at another checkout measures that code under another label).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tabular"
OUT = Path(__file__).resolve().parent / "results" / "multitable_zeroconfig.json"


def one_fit(folder: Path, schema: Path, real: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Fit, sample and measure once."""
    import medsynth.tabular as tab
    from medsynth.evaluation.config import EvaluationConfig
    from medsynth.evaluation.multitable import table_metrics
    from medsynth.evaluation.multitable_data import children_per_parent, count_tvd

    model = tab.fit(str(folder), model="dp-mst", epsilon=1.0, delta=1e-5, schema=str(schema))
    syn = model.sample(len(real["patients"]))
    rec: dict[str, Any] = {"empty_columns": {t: sorted(c for c in df.columns if df[c].isna().all()) for t, df in syn.items()}}
    rec["n_empty"] = {t: len(v) for t, v in rec["empty_columns"].items()}
    for rel in model.schema.relations:
        rec[f"children_per_parent_tvd_{rel.child}"] = round(count_tvd(children_per_parent(real, rel), children_per_parent(syn, rel)), 4)
    res = table_metrics("visits", real["visits"], real["visits"], syn["visits"], model.schema, EvaluationConfig())
    rec["patients_without_visits_share"] = round(float((~syn["patients"]["id"].isin(syn["visits"]["id"])).mean()), 4)
    rec["visits_two_way_tvd"] = round(float(next(r.value for r in res if "two_way_tvd" in r.name)), 4)
    rec.update(visit_times(real, syn))
    rec["max_children"] = {t: b["max_children"] for t, b in model.meta.get("contribution_bounds", {}).items()}
    rec["rho_spent"], rec["rho_budget"] = model.ledger.rho_spent, model.ledger.rho_budget
    return rec


def visit_times(real: dict[str, pd.DataFrame], syn: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """How the synthetic visit days sit, beside the real ones: ``day`` empty; shares of visits (with a day) on another
    visit's day of the same patient, on the patient's ``futime`` or later, and on day 0."""
    out: dict[str, Any] = {"day_empty": bool(syn["visits"]["day"].isna().all())}
    for name, d in (("real", real), ("synthetic", syn)):
        m = d["visits"].merge(d["patients"][["id", "futime"]], on="id")
        m = m.assign(day=pd.to_numeric(m["day"], errors="coerce"), futime=pd.to_numeric(m["futime"], errors="coerce"))
        m = m.dropna(subset=["day"])
        day = m["day"].round()
        out[f"same_day_share_{name}"] = round(float(m.assign(day=day).duplicated(["id", "day"]).mean()), 4) if len(m) else None
        out[f"at_or_past_futime_share_{name}"] = round(float((day >= m["futime"].round()).mean()), 4) if len(m) else None
        out[f"day_zero_share_{name}"] = round(float((day == 0).mean()), 4) if len(m) else None
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--label", required=True, help="key of these fits in the JSON (e.g. before/after and a commit)")
    ap.add_argument("--fits", type=int, default=3)
    ap.add_argument("--note", default="", help="the machine and its load")
    args = ap.parse_args(argv)
    from medsynth.io.dataset import read_dataset
    from medsynth.io.dataset_infer import infer_dataset_schema

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pbcseq"
        folder.mkdir()
        for t in ("patients", "visits"):
            shutil.copy(DATA / f"pbcseq_{t}.csv", folder / f"{t}.csv")
        real = read_dataset(folder)
        schema = Path(tmp) / "schema.yaml"
        infer_dataset_schema(read_dataset(folder)).save(schema)  # as `medsynth schema infer FOLDER`
        fits = [one_fit(folder, schema, real) for _ in range(args.fits)]
    for f in fits:
        print(json.dumps({k: f[k] for k in ("n_empty", "visits_two_way_tvd", "children_per_parent_tvd_visits", "day_empty",
                                            "same_day_share_synthetic", "at_or_past_futime_share_synthetic",
                                            "day_zero_share_synthetic", "patients_without_visits_share")}), flush=True)
    doc = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {"protocol": __doc__.split("\n\n")[1]}
    doc.setdefault("runs", {})[args.label] = {"machine": f"{os.cpu_count()} CPU(s); {args.note}", "fits": fits}
    OUT.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
