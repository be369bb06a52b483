"""Tabular synthesizers: quality (TSTR AUROC on flchain/death), fit and sampling speed, DP cost, scale.

Writes ``benchmarks/results/tabular_flchain.json`` and ``benchmarks/results/tabular_scale.json`` (the
original flchain protocol), and, for issue 11:

- ``tabular_quality.json`` (``--only quality``): every DP model (dp-mst, dp-aim, dp-merf, dp-tvae,
  dp-ctgan) at epsilon 0.5, 1, 4 and inf on flchain, pbc and the wide PBC-visits table
  (``tabular_data.py``), with the schema exactly as ``schema infer`` writes it and with public bounds
  (hand-declared: the whole table's ranges, ``public: true``, and the target marked ``target: true``):
  TSTR AUROC, 2-way TVD to the training rows, DCR share, fit and sample time;
- ``tabular_rules.json`` (``--only rules``): lymph_node with and without its accepted rules (violations,
  derived columns, TSTR);
- ``tabular_scale_1m.json`` (``--only scale1m``): 1M rows x 40 columns, dp-mst and dp-aim, fit time,
  sampling rows/s and peak memory, each model in its own process.

Quality protocol (as the peers' figures in PLATFORM.md): flchain, target ``death``, the 8 baseline
covariates (age, sex, sample.yr, kappa, lambda, flc.grp, creatinine, mgus), 70/30 stratified split
with seed 0; each synthesizer is fitted on the 70% (9 columns) and sampled to the same size; a
HistGradientBoostingClassifier trained on synthetic rows is scored (AUROC) on the real 30%, beside
the same classifier trained on the real 70%. Domains are declared public (bounds/categories of the
table), as in the peers' "public bounds" runs; one extra DP-MST row estimates them with DP instead.

Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular.py [--quick] [--only flchain|scale]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MEDSYNTH_SHARED_DATA", ROOT.parent / "shared" / "data")) / "tabular" / "flchain.csv"
RESULTS = ROOT / "benchmarks" / "results"
COVARIATES = ["age", "sex", "sample.yr", "kappa", "lambda", "flc.grp", "creatinine", "mgus"]
TARGET = "death"


def machine() -> dict[str, Any]:
    import torch

    return {"cpu_cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "platform": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__,
            "load_average_1_5_15_at_end": [round(x, 2) for x in os.getloadavg()]}


def features(df: pd.DataFrame) -> pd.DataFrame:
    x = df[COVARIATES].copy()
    x["sex"] = (x["sex"].astype(str) == "M").astype(float)
    return x.apply(pd.to_numeric, errors="coerce").astype(float)


def auroc(train: pd.DataFrame, test: pd.DataFrame) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    # binary whatever the synthetic rows hold, as tabular_data.label (a made-up -1 made column 1 that of class 0)
    y = (pd.to_numeric(train[TARGET], errors="coerce") == 1).astype(float).where(train[TARGET].notna())
    keep = y.notna()
    if y[keep].nunique() < 2:
        return 0.5
    clf = HistGradientBoostingClassifier(random_state=0).fit(features(train[keep]), y[keep].astype(int))
    return float(roc_auc_score(test[TARGET].astype(int), clf.predict_proba(features(test))[:, 1]))


def public_schema(df: pd.DataFrame):
    from medsynth.tabular.schema import infer_schema

    s = infer_schema(df)
    return s.model_copy(update={"columns": [c.model_copy(update={"public": True, "read_from_data": []}) for c in s.columns]})


def sample_seconds_threads(model: Any, threads: int, seed: int) -> float:
    """Seconds to sample 100k rows with ``threads`` torch threads (both cores of the 2-core machine; a
    user's default, since torch takes every core unless OMP_NUM_THREADS says otherwise)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        t0 = time.perf_counter()
        model.sample(100_000, seed=seed)
        return time.perf_counter() - t0
    finally:
        torch.set_num_threads(before)


def run_one(name: str, eps: float | None, params: dict, train: pd.DataFrame, test: pd.DataFrame, schema, *,
            domain_budget: float = 0.1, seed: int = 0, delta: float = 1e-5) -> dict[str, Any]:
    from medsynth.core.registry import SYNTHESIZERS, resolve

    klass = resolve(SYNTHESIZERS, name)
    model = klass(params, privacy={"epsilon": eps, "delta": delta, "domain_budget": domain_budget}, seed=seed, device="cpu")
    t0 = time.perf_counter()
    model.fit(train, schema)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    syn = model.sample(len(train), seed=seed)
    sample_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.sample(100_000, seed=seed + 1)
    s100k = time.perf_counter() - t0
    s100k_2 = sample_seconds_threads(model, 2, seed + 2)
    rep = model.privacy_spent()
    return {"model": name, "epsilon_target": eps, "seed": seed, "params": params, "fit_seconds": round(fit_s, 2),
            "train_seconds": model.meta.get("train_seconds"),
            "sample_seconds": round(sample_s, 3), "rows_per_second_100k": round(100_000 / s100k),
            "rows_per_second_100k_2_threads": round(100_000 / s100k_2),
            "tstr_auroc": round(auroc(syn, test), 4), "private": rep.private,
            "epsilon_spent": None if not rep.private else round(rep.epsilon, 4),
            "delta": None if not rep.private else rep.delta,
            "domains": "DP-estimated" if domain_budget and schema is None else "public"}


def flchain_split() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The protocol's data: the whole table (covariates + target), its 70% train and 30% test split.

    Also used by smartnoise_compare.py (which runs without medsynth: nothing here imports it)."""
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(DATA)[[*COVARIATES, TARGET]]
    train, test = train_test_split(df, test_size=0.3, random_state=0, stratify=df[TARGET])
    return df, train.reset_index(drop=True), test.reset_index(drop=True)


def sdv_rows(train: pd.DataFrame, test: pd.DataFrame, schema, trtr: float, quick: bool) -> list[dict[str, Any]]:
    """The non-private SDV models' rows."""
    ep = 3 if quick else 1
    rows = []
    for name, params in {"gaussian-copula": {}, "tvae": {"epochs": 100 // ep}, "ctgan": {"epochs": 50 // ep}}.items():
        r = run_one(name, None, params, train, test, schema)
        r["tstr_over_trtr"] = round(r["tstr_auroc"] / trtr, 4)
        print(json.dumps(r), flush=True)
        rows.append(r)
    return rows


def bench_flchain_sdv_only(quick: bool) -> dict[str, Any]:
    """Re-run only the SDV rows and put them into the existing tabular_flchain.json (others kept)."""
    path = RESULTS / "tabular_flchain.json"
    if not path.is_file():
        raise SystemExit(f"{path} is absent: run the full flchain part first")
    old = json.loads(path.read_text())
    df, train, test = flchain_split()
    new = sdv_rows(train, test, public_schema(df), old["trtr_auroc"], quick)
    for r in new:
        r["machine"] = machine()
    replaced = {r["model"] for r in new}
    return {**old, "results": [r for r in old["results"] if r["model"] not in replaced] + new}


def bench_flchain(quick: bool) -> dict[str, Any]:
    df, train, test = flchain_split()
    schema = public_schema(df)
    trtr = auroc(train, test)
    ep = 3 if quick else 1
    dp = {
        "dp-mst": {},
        "dp-tvae": {"train": {"epochs": 20 // ep, "batch_size": 512, "lr": 2e-3}},
        "dp-ctgan": {"train": {"epochs": 30 // ep, "batch_size": 256, "lr": 2e-4}},
    }
    rows = []
    for name, params in dp.items():
        for eps in (1.0, 3.0, 10.0, None):
            r = run_one(name, eps, params, train, test, schema)
            r["tstr_over_trtr"] = round(r["tstr_auroc"] / trtr, 4)
            print(json.dumps(r), flush=True)
            rows.append(r)
    for seed in (1, 2):  # seed spread of the strongest model at epsilon 1
        r = run_one("dp-mst", 1.0, {}, train, test, schema, seed=seed)
        r["tstr_over_trtr"] = round(r["tstr_auroc"] / trtr, 4)
        print(json.dumps(r), flush=True)
        rows.append(r)
    r = run_one("dp-mst", 1.0, {}, train, test, None, domain_budget=0.1)  # domains estimated with DP
    r["tstr_over_trtr"] = round(r["tstr_auroc"] / trtr, 4)
    print(json.dumps(r), flush=True)
    rows.append(r)
    rows += sdv_rows(train, test, schema, trtr, quick)
    best = max((r for r in rows if r["epsilon_target"] == 1.0 and r["seed"] == 0 and r["domains"] == "public"),
               key=lambda r: r["tstr_auroc"])
    return {"dataset": "flchain", "target": TARGET, "covariates": COVARIATES, "split": "70/30 stratified, seed 0",
            "classifier": "sklearn HistGradientBoostingClassifier(random_state=0)", "train_rows": len(train),
            "trtr_auroc": round(trtr, 4), "machine": machine(), "quick": quick, "results": rows,
            "best_at_epsilon_1": {"model": best["model"], "tstr_auroc": best["tstr_auroc"],
                                  "ratio_to_trtr": round(best["tstr_auroc"] / trtr, 4), "target_ratio": 0.92}}


def scale_table(n: int = 100_000, d: int = 40, seed: int = 0) -> pd.DataFrame:
    """A correlated mixed table: 20 continuous (latent-factor), 5 integer, 15 categorical columns."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 4))
    cols: dict[str, Any] = {}
    for i in range(20):
        cols[f"lab{i}"] = np.round(np.exp(0.5 * (z @ rng.normal(size=4)) / 2 + rng.normal(0, 0.3, n)), 3)
    for i in range(5):
        cols[f"int{i}"] = np.clip(np.round(50 + 10 * (z @ rng.normal(size=4)) / 2), 0, 120).astype(int)
    for i in range(d - 25):
        logits = z[:, i % 4][:, None] * rng.normal(size=4)[None, :]
        cols[f"cat{i}"] = np.array(list("abcd"))[np.argmax(logits + rng.gumbel(size=(n, 4)), axis=1)]
    return pd.DataFrame(cols)


def bench_scale(quick: bool) -> dict[str, Any]:
    n = 20_000 if quick else 100_000
    df = scale_table(n)
    schema = public_schema(df)
    rows = []
    for name, params, eps in [
        ("dp-mst", {}, 1.0),
        ("dp-tvae", {"train": {"epochs": 5, "batch_size": 1024}}, 1.0),
        ("dp-tvae", {"train": {"epochs": 5, "batch_size": 1024}}, None),
    ]:
        from medsynth.core.registry import SYNTHESIZERS, resolve

        model = resolve(SYNTHESIZERS, name)(params, privacy={"epsilon": eps, "delta": 1e-6}, device="cpu")
        t0 = time.perf_counter()
        model.fit(df, schema)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.sample(100_000, seed=0)
        s = time.perf_counter() - t0
        r = {"model": name, "rows": n, "columns": df.shape[1], "epsilon_target": eps, "params": params,
             "fit_seconds": round(fit_s, 1), "train_seconds": model.meta.get("train_seconds"),
             "sample_rows_per_second": round(100_000 / s), "epsilon_spent": model.privacy_spent().epsilon if eps else None}
        print(json.dumps(r), flush=True)
        rows.append(r)
    dp, plain = rows[1]["train_seconds"], rows[2]["train_seconds"]
    return {"machine": machine(), "quick": quick, "results": rows,
            "dp_tvae_dp_over_nondp_train_time": round(dp / plain, 2) if dp and plain else None}


# -- issue 11: every model x epsilon x table x domains -------------------------------------------------------
QUALITY_MODELS = {
    "dp-mst": {},
    "dp-aim": {},
    "dp-merf": {"features": 1000, "steps": 600},
    "dp-tvae": {},  # its defaults (small on purpose, see DPTVAEConfig); TVAE's sizes scored 0.42 at epsilon 1
    "dp-ctgan": {"train": {"epochs": 30, "batch_size": 256, "lr": 2e-4}},
}


def _with_target(schema, target: str, public: bool):  # noqa: ANN001, ANN202 - medsynth schema objects
    cols = [c.model_copy(update={"target": c.name == target, **({"public": True, "read_from_data": []} if public else {})})
            for c in schema.columns]
    return schema.model_copy(update={"columns": cols})


def quality_row(dataset: str, model: str, eps: float | None, domains: str, *, quick: bool, seed: int = 0) -> dict[str, Any]:
    """Fit one model on one table and score it (errors are recorded, not raised)."""
    import tabular_data as T

    from medsynth.core.registry import SYNTHESIZERS, resolve
    from medsynth.tabular.schema import infer_schema

    train, test, target = T.DATASETS[dataset]()
    if domains == "inferred":
        schema = infer_schema(train)  # exactly as `medsynth schema infer` writes it
    else:
        full = pd.concat([train, test], ignore_index=True)
        schema = _with_target(infer_schema(full, rules=False), target, public=True)
    params = json.loads(json.dumps(QUALITY_MODELS[model]))
    if quick and "train" in params:
        params["train"]["epochs"] = max(1, params["train"]["epochs"] // 4)
    if quick and model == "dp-merf":
        params = {"steps": 300}
    row: dict[str, Any] = {"dataset": dataset, "model": model, "epsilon_target": eps, "domains": domains, "seed": seed,
                           "rows_train": len(train), "columns": train.shape[1], "params": params}
    try:
        m = resolve(SYNTHESIZERS, model)(params, privacy={"epsilon": eps, "delta": 1e-5}, seed=seed, device="cpu")
        t0 = time.perf_counter()
        m.fit(train, schema)
        row["fit_seconds"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        syn = m.sample(len(train), seed=seed)
        row["sample_seconds"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        m.sample(100_000, seed=seed + 1)
        row["rows_per_second_100k"] = round(100_000 / (time.perf_counter() - t0))
        row["tstr_auroc"] = round(T.tstr(syn, test, target, train), 4)
        row["two_way_tvd"] = round(T.two_way_tvd(syn, train), 4)
        row["dcr_share"] = round(T.dcr_share(syn, train, test), 4)
        rep = m.privacy_spent()
        row["epsilon_spent"] = round(rep.epsilon, 4) if rep.private else None
        row["omitted_columns"] = [c.name for c in m.schema.columns if c.omitted]
        if model == "dp-aim":
            row["aim"] = m.meta.get("aim")
    except Exception as exc:  # noqa: BLE001 - a benchmark records a failed fit as a result
        row["error"] = f"{type(exc).__name__}: {exc}"[:300]
    return row


def bench_quality(quick: bool, datasets: list[str], models: list[str], eps_list: list[float | None],
                  name: str = "tabular_quality.json", domains_list: tuple[str, ...] = ("inferred", "public"),
                  seeds: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """Every model x epsilon x table x domains; the JSON is rewritten after each row (partial runs survive).
    Parts run in parallel write their own ``name``; ``--only merge`` joins ``tabular_quality*.json``."""
    import tabular_data as T

    from medsynth.core.files import write_json

    path = RESULTS / name
    old = json.loads(path.read_text()) if path.is_file() else {}
    keep = [r for r in old.get("results", []) if not (r["dataset"] in datasets and r["model"] in models
                                                     and r["epsilon_target"] in eps_list and r["domains"] in domains_list)]
    baselines = dict(old.get("baselines", {}))
    for ds in datasets:
        train, test, target = T.DATASETS[ds]()
        baselines[ds] = {"rows_train": len(train), "rows_test": len(test), "columns": train.shape[1],
                         "missing_share": round(float(train.isna().mean().mean()), 4),
                         "trtr_auroc": round(T.tstr(train, test, target, train), 4),
                         "holdout_two_way_tvd": round(T.two_way_tvd(test, train), 4), "target": target}
    out = {"protocol": __doc__.split("for issue 11:")[1].strip().split("\n\n")[0] if "for issue 11:" in __doc__ else "",
           "machine": machine(), "quick": quick, "shared_machine": "yes: 2 cores shared with other sessions",
           "baselines": baselines, "results": keep}
    for ds in datasets:
        for model in models:
            for eps in eps_list:
                for domains in domains_list:
                    for seed in seeds:  # DP noise is fresh OS entropy in every fit: seeds give the spread
                        r = quality_row(ds, model, eps, domains, quick=quick, seed=seed)
                        print(json.dumps(r), flush=True)
                        out["results"].append(r)
                        out["machine"] = machine()
                        write_json(path, out)
    return out


def merge_quality() -> dict[str, Any]:
    """Join the parts (``tabular_quality_*.json``) into ``tabular_quality.json`` (later rows win)."""
    out: dict[str, Any] = {}
    rows: dict[tuple, dict[str, Any]] = {}
    for p in sorted(RESULTS.glob("tabular_quality*.json")):
        part = json.loads(p.read_text())
        out.setdefault("protocol", part.get("protocol"))
        out["machine"], out["quick"], out["shared_machine"] = part["machine"], part["quick"], part["shared_machine"]
        out.setdefault("baselines", {}).update(part.get("baselines", {}))
        for r in part["results"]:
            rows[(r["dataset"], r["model"], r["epsilon_target"], r["domains"], r["seed"])] = r
    out["peers"] = {"note": "not rerun here (no time in this session to build their venvs): the figures PLATFORM.md "
                             "records for flchain at epsilon 1, same split, covariates and classifier",
                    "dpmm-aim public bounds": 0.822, "dpmm-mst public bounds": 0.801, "dpmm-aim DP bounds": 0.805,
                    "smartnoise-mst": 0.62, "smartnoise-aim": 0.65, "synthcity-dpgan": 0.55}
    out["results"] = sorted(rows.values(), key=lambda r: (r["dataset"], r["model"], r["domains"],
                                                          r["epsilon_target"] if r["epsilon_target"] is not None else 1e9))
    return out


def bench_rules() -> dict[str, Any]:
    """lymph_node with public bounds: dp-mst and dp-aim without rules and with the proposed rules accepted."""
    import tabular_data as T

    from medsynth.core.registry import SYNTHESIZERS, resolve
    from medsynth.tabular.schema import infer_schema

    train, test, target = T.lymph_node()
    full = pd.concat([train, test], ignore_index=True)
    pub = _with_target(infer_schema(full), target, public=True)
    accepted = pub.model_copy(update={"constraints": [c.model_copy(update={"public": True}) for c in pub.constraints]})
    variants = {"no rules": pub.model_copy(update={"constraints": []}), "rules accepted": accepted}
    rows = []
    for model in ("dp-mst", "dp-aim"):
        for eps in (1.0, None):
            for name, sch in variants.items():
                for seed in range(8 if eps is not None else 2):  # DP fits of 480 rows vary a lot: more runs
                    m = resolve(SYNTHESIZERS, model)(privacy={"epsilon": eps, "delta": 1e-5}, seed=seed).fit(train, sch)
                    syn = m.sample(len(train), seed=seed)
                    r = {"model": model, "epsilon_target": eps, "variant": name, "seed": seed,
                         "tstr_auroc": round(T.tstr(syn, test, target, train), 4),
                         "violations": {k: round(v, 4) for k, v in T.rule_violations(syn, accepted).items()}}
                    print(json.dumps(r), flush=True)
                    rows.append(r)
    summary = {}
    for model in ("dp-mst", "dp-aim"):
        for eps in (1.0, None):
            for name in variants:
                sel = [r for r in rows if r["model"] == model and r["epsilon_target"] == eps and r["variant"] == name]
                summary[f"{model} eps={eps} {name}"] = {
                    "tstr_auroc_mean": round(float(np.mean([r["tstr_auroc"] for r in sel])), 4),
                    "tstr_auroc_sd": round(float(np.std([r["tstr_auroc"] for r in sel])), 4), "runs": len(sel),
                    "max_violation_share": max(max(r["violations"].values()) for r in sel)}
    return {"dataset": "lymph_node", "target": target, "rules": [c.model_dump(mode="json") for c in accepted.constraints],
            "trtr_auroc": round(T.tstr(train, test, target, train), 4), "machine": machine(), "results": rows,
            "summary": summary}


def scale_one(model: str, rows: int) -> dict[str, Any]:
    """Fit ``model`` on ``rows`` x 40 rows at epsilon 1 (public bounds) and sample 1M rows: seconds, rows/s, peak RSS."""
    import resource

    df = scale_table(rows)
    schema = public_schema(df)
    from medsynth.core.registry import SYNTHESIZERS, resolve

    m = resolve(SYNTHESIZERS, model)(privacy={"epsilon": 1.0, "delta": 1e-7}, device="cpu")
    t0, c0 = time.perf_counter(), time.process_time()
    m.fit(df, schema)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    m.sample(1_000_000, seed=0)
    samp, samp_cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB
    load = os.getloadavg()[0]
    return {"model": model, "rows": rows, "columns": df.shape[1], "epsilon_target": 1.0, "fit_seconds": round(fit_s, 1),
            "fit_cpu_seconds": round(fit_cpu, 1), "sample_rows_per_second_1m": round(1_000_000 / samp),
            "sample_cpu_seconds_1m": round(samp_cpu, 2),
            "sample_rows_per_cpu_second": round(1_000_000 / max(samp_cpu, 1e-9)),
            "peak_rss_gib": round(peak, 2), "load_average_1min_at_end": round(load, 2),
            "epsilon_spent": round(m.privacy_spent().epsilon, 4), "sampling_threads": 2}


def bench_scale_1m(rows: int) -> dict[str, Any]:
    import subprocess

    out = []
    load0 = os.getloadavg()[0]  # wall-clock figures mean something only on an idle machine: record its load
    for model in ("dp-mst", "dp-aim"):
        proc = subprocess.run([sys.executable, __file__, "--scale-one", model, "--rows", str(rows)], capture_output=True,
                              text=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
        line = [x for x in proc.stdout.splitlines() if x.startswith("{")]
        r = json.loads(line[-1]) if line else {"model": model, "error": proc.stderr[-500:]}
        print(json.dumps(r), flush=True)
        out.append(r)
    return {"machine": machine(), "table": "scale_table(): 20 continuous, 5 integer, 15 categorical, correlated",
            "targets": {"fit_seconds": 300, "sample_rows_per_second": 500_000, "peak_rss_gib": 4},
            "shared_machine": f"load average {load0:.2f} at the start (2 cores; each result gives it at its end)",
            "results": out}


def main(argv: list[str] | None = None) -> int:
    import torch

    torch.set_num_threads(1)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer epochs, smaller scale table")
    ap.add_argument("--only", choices=["flchain", "scale", "sdv", "quality", "rules", "scale1m", "merge"], default=None,
                    help="one part; sdv: only the SDV rows of the flchain part, merged into its JSON")
    ap.add_argument("--datasets", default="flchain,pbc,wide")
    ap.add_argument("--models", default=",".join(QUALITY_MODELS))
    ap.add_argument("--eps", default="0.5,1,4,inf")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", default="tabular_quality.json", help="JSON of a quality part (run parts in parallel)")
    ap.add_argument("--domains", default="inferred,public")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds: one fit per seed (its DP noise is fresh each time)")
    ap.add_argument("--scale-one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    if args.scale_one:
        print(json.dumps(scale_one(args.scale_one, args.rows)), flush=True)
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    from medsynth.core.files import write_json

    if args.only in (None, "flchain"):
        if not DATA.is_file():
            print(f"skipping flchain: {DATA} is absent", file=sys.stderr)
        else:
            write_json(RESULTS / "tabular_flchain.json", bench_flchain(args.quick))
    if args.only == "sdv":
        write_json(RESULTS / "tabular_flchain.json", bench_flchain_sdv_only(args.quick))
    if args.only in (None, "scale"):
        write_json(RESULTS / "tabular_scale.json", bench_scale(args.quick))
    if args.only in (None, "quality"):
        eps = [None if e == "inf" else float(e) for e in args.eps.split(",")]
        bench_quality(args.quick, args.datasets.split(","), args.models.split(","), eps, args.out,
                      tuple(args.domains.split(",")), tuple(int(x) for x in args.seeds.split(",")))
    if args.only == "merge":
        write_json(RESULTS / "tabular_quality.json", merge_quality())
    if args.only in (None, "rules"):
        write_json(RESULTS / "tabular_rules.json", bench_rules())
    if args.only in (None, "scale1m"):
        write_json(RESULTS / "tabular_scale_1m.json", bench_scale_1m(args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
