"""DP domains from an inferred schema versus hand-declared public bounds (issue 11, item 1).

For each table (pbc, wide, flchain), model (dp-mst, dp-aim) and epsilon, fits the model several times
with the schema exactly as ``schema infer`` writes it ("inferred") and with the same schema declared
public ("public"), and records TSTR AUROC, 2-way TVD, the omitted columns and the type decisions of
the DP structure step. DP noise comes from OS entropy, so repeated fits differ: the JSON gives every
run and, per cell, the mean and spread (min, max) of TSTR. Writes
``benchmarks/results/tabular_domains.json`` (``--label`` names the code version, e.g. ``before`` /
``after``; rows of other labels already in the file are kept, so the file holds the before/after table).
"inferred+target" is the inferred schema with ``target: true`` on the target column, the one flag the
public schema also carries (dp-aim adds the target's 3-way marginals to its workload): it separates the
effect of DP domains from that of the workload. Public-bounds fits never run the domain release, so the
code change cannot move them: they are measured under ``before`` and hold for both.

Run: ``PYTHONPATH=$PWD OMP_NUM_THREADS=1 nice -n 10 python benchmarks/tabular_domains.py --label after``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _schemas(dataset: str) -> tuple[pd.DataFrame, pd.DataFrame, str, Any, Any]:
    import tabular_data as T
    from tabular import _with_target

    from medsynth.tabular.schema import infer_schema

    train, test, target = T.DATASETS[dataset]()
    inferred = infer_schema(train)  # exactly as `medsynth schema infer` writes it
    full = pd.concat([train, test], ignore_index=True)
    public = _with_target(infer_schema(full, rules=False), target, public=True)
    return train, test, target, inferred, public


def run(dataset: str, model: str, eps: float, domains: str, seed: int, cache: dict[str, Any]) -> dict[str, Any]:
    """One fit and its scores (an error is recorded, not raised)."""
    import tabular_data as T

    from medsynth.core.registry import SYNTHESIZERS, resolve

    if dataset not in cache:
        cache[dataset] = _schemas(dataset)
    train, test, target, inferred, public = cache[dataset]
    schema = inferred if domains == "inferred" else public
    if domains == "inferred+target":  # as inferred, plus the one flag the public run also has (target: true)
        schema = inferred.model_copy(update={"columns": [c.model_copy(update={"target": c.name == target})
                                                         for c in inferred.columns]})
    row: dict[str, Any] = {"dataset": dataset, "model": model, "epsilon": eps, "domains": domains, "seed": seed}
    try:
        m = resolve(SYNTHESIZERS, model)({}, privacy={"epsilon": eps, "delta": 1e-5}, seed=seed, device="cpu")
        t0 = time.perf_counter()
        m.fit(train, schema)
        row["fit_seconds"] = round(time.perf_counter() - t0, 2)
        syn = m.sample(len(train), seed=seed)
        row["tstr_auroc"] = round(T.tstr(syn, test, target, train), 4)
        row["two_way_tvd"] = round(T.two_way_tvd(syn, train), 4)
        row["omitted"] = [c.name for c in m.schema.columns if c.omitted]
        led = m.privacy_ledger
        row["rho_spent_over_budget"] = round(sum(e.rho or 0.0 for e in led.entries) / led.rho_budget, 6)
        for e in led.entries:
            if "decisions" in e.details:
                before = {c.name: c.type for c in schema.columns}  # the DP type decision never reads it (since 2026-12-03)
                row["type_changes"] = {k: f"{before.get(k)} -> {v}" for k, v in e.details["decisions"].items()
                                       if not (v.startswith("kept") or v.split(" ")[0] == before.get(k))}
    except Exception as exc:  # noqa: BLE001 - a benchmark records a failed fit as a result
        row["error"] = f"{type(exc).__name__}: {exc}"[:300]
    return row


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and spread of TSTR / TVD per (label, dataset, model, epsilon, domains)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["label"], r["dataset"], r["model"], r["epsilon"], r["domains"]), []).append(r)
    out = []
    for (label, ds, model, eps, dom), rs in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        t = [r["tstr_auroc"] for r in rs if "tstr_auroc" in r]
        v = [r["two_way_tvd"] for r in rs if "two_way_tvd" in r]
        out.append({"label": label, "dataset": ds, "model": model, "epsilon": eps, "domains": dom, "runs": len(rs),
                    "errors": sum("error" in r for r in rs),
                    "tstr_mean": round(float(np.mean(t)), 4) if t else None,
                    "tstr_min": round(float(np.min(t)), 4) if t else None,
                    "tstr_max": round(float(np.max(t)), 4) if t else None,
                    "tvd_mean": round(float(np.mean(v)), 4) if v else None,
                    "omitted_mean": round(float(np.mean([len(r.get("omitted", [])) for r in rs])), 2)})
    return out


def merge(specs: list[str], out_name: str) -> int:
    """Join runs of several result files into ``out_name`` under new labels (see ``--merge``)."""
    from medsynth.core.files import write_json

    path = RESULTS / out_name
    out = json.loads(path.read_text()) if path.is_file() else {"runs": []}
    for spec in specs:
        name, _, pairs = spec.partition(":")
        relabel = dict(p.split("=", 1) for p in pairs.split(",") if p)
        src = json.loads((RESULTS / name).read_text())
        for r in src["runs"]:
            if r["label"] in relabel:
                out["runs"].append({**r, "label": relabel[r["label"]], "merged_from": f"{name}:{r['label']}"})
    out["summary"] = summarise(out["runs"])
    write_json(path, out)
    for row in out["summary"]:
        print(json.dumps(row))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--label", help="code version of these rows (e.g. before, after); required unless --merge")
    ap.add_argument("--datasets", default="pbc,wide,flchain")
    ap.add_argument("--models", default="dp-mst,dp-aim")
    ap.add_argument("--domains", default="inferred,public", help="inferred, public, inferred+target")
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default="tabular_domains.json")
    ap.add_argument("--tune", action="append", default=[], metavar="NAME=VALUE",
                    help="ablation: set a constant of medsynth.tabular.domain (or locate.NAME of medsynth.privacy.locate), recorded")
    ap.add_argument("--merge", nargs="+", metavar="FILE:OLD=NEW,...",
                    help="instead of running: add the runs of other result files (in benchmarks/results), relabelled "
                         "OLD -> NEW (runs of labels not named are left out), to --out and re-summarise")
    args = ap.parse_args(argv)
    if args.merge:
        return merge(args.merge, args.out)
    if not args.label:
        ap.error("--label is required (unless --merge)")
    import importlib

    tune = {}
    for item in args.tune:
        name, value = item.split("=", 1)
        if name.startswith("locate."):
            mod, const = importlib.import_module("medsynth.privacy.locate"), name.split(".", 1)[1]
        else:
            mod, const = importlib.import_module("medsynth.tabular.domain"), name
        if not hasattr(mod, const):
            ap.error(f"{mod.__name__} has no constant {const}")
        tune[name] = type(getattr(mod, const))(float(value))
        setattr(mod, const, tune[name])
    from tabular import machine

    from medsynth.core.files import write_json

    path = RESULTS / args.out
    old = json.loads(path.read_text()) if path.is_file() else {}
    keep = [r for r in old.get("runs", []) if not (
        r["label"] == args.label and r["dataset"] in args.datasets.split(",") and r["model"] in args.models.split(",")
        and r["epsilon"] == args.epsilon and r["domains"] in args.domains.split(","))]
    out: dict[str, Any] = {"protocol": __doc__.split("\n\n")[1].replace("\n", " "),
                           "shared_machine": "yes: 2 cores shared with other sessions (nice 10, OMP_NUM_THREADS=1)",
                           "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "runs": keep}
    cache: dict[str, Any] = {}
    for ds in args.datasets.split(","):
        for model in args.models.split(","):
            for dom in args.domains.split(","):
                for seed in range(args.runs):
                    r = {"label": args.label, **run(ds, model, args.epsilon, dom, seed, cache), **({"tune": tune} if tune else {})}
                    print(json.dumps(r), flush=True)
                    out["runs"].append(r)
                    out["summary"] = summarise(out["runs"])
                    out["machine"] = machine()
                    write_json(path, out)
    for s in out.get("summary", []):
        print(json.dumps(s))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
