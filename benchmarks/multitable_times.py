"""Zero-config multi-table dp-mst on hospital stays of MIMIC's shape at epsilon 1: lab times against their admission.

Writes (merges into) ``benchmarks/results/multitable_times.json`` under ``--label``.

Protocol: :func:`medsynth.tabular.example_data.hospital_stays` (``--patients``, default 3,000, seed 0: patients,
1-3 admissions each with admit and discharge times, 2-8 labs per stay stored by lab id; a tenth of the stays have a
first lab 1-6 hours before the admission time), split by patient 70/30 (seed 0) into train and holdout folders; the
schema is ``schema infer`` on the train folder with nothing declared public; ``fit`` at epsilon 1, delta 1e-5, all
defaults; one sample of as many patients as the train folder. Per fit: the time fields the DP fit decided for
``labevents -> admissions``; the shares of synthetic labs before their admission's admit time and after its
discharge; the medians of a lab's days since admission and of the stay; ``time_offset_tvd`` and the other Relations
metrics of ``medsynth evaluate tabular`` on the folders (the holdout's value is the baseline). DP noise is fresh each
fit: report every draw, not one.

Run from a checkout: ``PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/multitable_times.py --label after [--fits 3]``
(PYTHONPATH pointing at another checkout measures that code under another label).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "results" / "multitable_times.json"
RELATIONS = ("referential_integrity", "children_per_parent_tvd", "parent_child_association_difference",
             "trajectory_difference", "time_offset_tvd")


def split(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Train and holdout, 70/30 by patient (seed 0)."""
    ids = tables["patients"]["subject_id"].to_numpy()
    train_ids = set(np.random.default_rng(0).choice(ids, int(0.7 * len(ids)), replace=False))

    def part(keep: Any) -> dict[str, pd.DataFrame]:
        adm = tables["admissions"][keep(tables["admissions"]["subject_id"])]
        return {"patients": tables["patients"][keep(tables["patients"]["subject_id"])].reset_index(drop=True),
                "admissions": adm.reset_index(drop=True),
                "labevents": tables["labevents"][tables["labevents"]["hadm_id"].isin(adm["hadm_id"])].reset_index(drop=True)}
    return part(lambda s: s.isin(train_ids)), part(lambda s: ~s.isin(train_ids))


def lab_summary(tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    from medsynth.tabular.example_data import lab_times

    lt = lab_times(tables)
    return {"labs": len(tables["labevents"]), "share_before_admit": round(float((lt["after"] < 0).mean()), 4),
            "share_after_discharge": round(float((lt["left"] < 0).mean()), 4),
            "median_days_since_admit": round(float(lt["after"].median()), 3),
            "p90_days_since_admit": round(float(lt["after"].quantile(0.9)), 3),
            "median_stay_days": round(float(lt["stay"].median()), 3)}


def one_fit(train: dict[str, pd.DataFrame], holdout: dict[str, pd.DataFrame], made: Path | None = None) -> dict[str, Any]:
    """One fit and its sample (or, with ``made``, a synthetic folder another tool or version wrote), measured."""
    import medsynth.tabular as tab
    from medsynth.evaluation.multitable import evaluate_multitable
    from medsynth.io.dataset import read_dataset
    from medsynth.io.dataset_infer import infer_dataset_schema

    schema = infer_dataset_schema(train)  # as `medsynth schema infer FOLDER`, nothing declared public
    rec: dict[str, Any] = {}
    if made is None:
        model = tab.fit(train, model="dp-mst", epsilon=1.0, delta=1e-5, schema=schema)
        syn = model.sample(len(train["patients"]))
        rel = next(r for r in model.schema.relations if r.child == "labevents")
        rec["decided"] = {"order_by": rel.order_by, "within": rel.within, "after": getattr(rel, "after", None),
                          "ends_of_admissions": next(r.ends for r in model.schema.relations if r.child == "admissions")}
        rec["rho_spent"], rec["rho_budget"] = model.ledger.rho_spent, model.ledger.rho_budget
        if rel.order_by is None:  # (1 fit in 6 of one run; 0 in 80 fits since: keep what the ledger says)
            rec["ledger_notes_on_labevents"] = [n for n in model.ledger.notes if "labevents" in n or "charttime" in n]
            col = model.schema.tables["labevents"].column("charttime")
            rec["charttime_released"] = {"type": col.type, "omitted": col.omitted, "min": col.min, "max": col.max}
    else:
        syn, rec["synthetic_folder"] = dict(read_dataset(made)), made.name
    rec["synthetic"] = lab_summary(syn)
    rep = evaluate_multitable(train, holdout, syn, schema=schema)
    rec["report"] = {r.name: {"value": None if r.value is None else round(float(r.value), 4),
                              "baseline": None if r.baseline is None else round(float(r.baseline), 4), "verdict": r.verdict}
                     for r in rep.results if r.name in RELATIONS}
    return rec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--label", required=True, help="key of these fits in the JSON (e.g. before/after and a commit)")
    ap.add_argument("--fits", type=int, default=3)
    ap.add_argument("--patients", type=int, default=3000)
    ap.add_argument("--note", default="", help="the machine and its load")
    ap.add_argument("--synthetic", nargs="*", type=Path, default=[],
                    help="measure these synthetic folders (e.g. written by another version with --write) instead of fitting")
    ap.add_argument("--write", type=Path, help="write the train and holdout folders here and stop")
    args = ap.parse_args(argv)
    from medsynth.tabular.example_data import hospital_stays

    warnings.filterwarnings("ignore")
    train, holdout = split(hospital_stays(args.patients, seed=0))
    if args.write:
        from medsynth.io.dataset import write_dataset

        write_dataset(train, args.write / "train")
        write_dataset(holdout, args.write / "holdout")
        return 0
    fits = []
    for made in args.synthetic or [None] * args.fits:
        fits.append(one_fit(train, holdout, made))
        print(json.dumps({k: fits[-1].get(k) for k in ("decided", "synthetic")}), json.dumps(fits[-1]["report"].get("time_offset_tvd")),
              flush=True)
    doc = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {"protocol": __doc__.split("\n\n")[1]}
    doc["real_train"] = lab_summary(train)
    doc.setdefault("runs", {})[args.label] = {
        "machine": f"{os.cpu_count()} CPU(s); load {os.getloadavg()[0]:.2f}; {args.note}", "patients": args.patients,
        "fits": fits,
        "mean_time_offset_tvd": round(float(np.mean([f["report"]["time_offset_tvd"]["value"] for f in fits
                                                     if f["report"].get("time_offset_tvd", {}).get("value") is not None]
                                                    or [np.nan])), 4)}
    OUT.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
