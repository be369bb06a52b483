"""A/B of the stage-2 range cut (``medsynth.privacy.locate._cut``'s ``real`` check, 2026-12-06): dp-aim at epsilon 1 on
flchain and the wide table, the schema as inferred (zero configuration), with the check (``new``) and without it
(``old``: a cut dropping up to CUT_MAX of the mass is kept even where it drops a power of two standing out).

Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_range_cut_s30.py MODE DATASET MODEL N [--first SEED]``, one
line of JSON per fit; ``--summarize LOG...`` writes ``benchmarks/results/tabular_range_cut_s30.json`` from the lines.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def run(mode: str, dataset: str, model: str, n: int, first: int = 0) -> None:
    import tabular as B

    import medsynth.privacy.locate as L

    if mode == "old":  # (the check, dropped(...)[1], read as never true)
        orig = L._cut
        def without_check(noisy, sigma, dropped=None, *, sure=False):  # noqa: ANN001, ANN202 - the old rule
            return orig(noisy, sigma, dropped and (lambda a, b: (dropped(a, b)[0], False)), sure=sure)

        L._cut = without_check
    for s in range(first, first + n):
        r = B.quality_row(dataset, model, 1.0, "inferred", quick=False, seed=s)
        print(json.dumps({"mode": mode, "dataset": dataset, "model": model, "seed": s,
                          **{k: r.get(k) for k in ("tstr_auroc", "two_way_tvd", "fit_seconds", "error")}}), flush=True)


def summarize(logs: list[str]) -> None:
    import numpy as np

    rows = [json.loads(line) for f in logs for line in Path(f).read_text().splitlines() if line.startswith("{")]
    out: dict = {"benchmark": "tabular_range_cut_s30", "note": __doc__.split("\n\n")[0], "fits": rows, "summary": {}}
    for key in sorted({(r["dataset"], r["model"], r["mode"]) for r in rows}):
        got = [r for r in rows if (r["dataset"], r["model"], r["mode"]) == key and not r.get("error")]
        out["summary"]["/".join(key)] = {"fits": len(got), "tstr_mean": round(float(np.mean([r["tstr_auroc"] for r in got])), 4),
                                         "two_way_tvd_mean": round(float(np.mean([r["two_way_tvd"] for r in got])), 4)}
    out["machine"] = "2 shared CPU cores (load 3-6 from other jobs), torch 2.13.0+cpu, OMP_NUM_THREADS=1"
    (HERE / "results" / "tabular_range_cut_s30.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "--summarize":
        summarize(sys.argv[2:])
    else:
        first = int(sys.argv[sys.argv.index("--first") + 1]) if "--first" in sys.argv else 0
        run(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), first)
