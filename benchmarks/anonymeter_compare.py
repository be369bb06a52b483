"""Linkability side by side: medsynth's ``audit tabular`` attack and Anonymeter 1.1's, same data, same split.

Data: flchain (``$MEDSYNTH_SHARED_DATA/tabular/flchain.csv``, 7874 rows x 11 columns), shuffled with
seed 0 into disjoint real train (3000 rows), control/holdout (2000) and an unseen real rest, the split of
the evaluation tests. The synthetic tables judged:

- ``independent_real``: 2000 unseen real rows (no leak: the risk should be ~0),
- ``half_copied``: 1000 training rows + 1000 unseen real rows (a known leak: the risk must show it),
- ``gaussian_copula``: medsynth's SDV GaussianCopula fitted on train, 3000 rows (not private),
- ``dp_mst_eps1``: medsynth's DP-MST at epsilon 1 with public domains (read from the whole table, as in
  ``benchmarks/tabular.py``), 3000 rows.

Both tools get the same auxiliary columns (A: age, sex, sample.yr, flc.grp, mgus; B: kappa, lambda,
creatinine, futime, death, chapter), 1000 attacked rows per side and 1 neighbour. Anonymeter runs in
its own venv (``--peer-python``, default /work/venv-anonymeter/bin/python; see
``benchmarks/anonymeter_peer.py``) through a subprocess; it draws its targets unseeded, so it is
repeated (``--repeats``); medsynth is repeated over its evaluation seeds 0..repeats-1.

Risk definitions: both are (attack - control) / (1 - control). Anonymeter's rates are Wilson centres
and its CI propagates their errors; medsynth reports the raw rates and judges the 95% lower bound
(attack's Wilson lower vs control's Wilson upper). Writes ``benchmarks/results/anonymeter_linkability.json``.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/anonymeter_compare.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from tabular import DATA, RESULTS, machine, public_schema  # noqa: E402

AUX_A = ["age", "sex", "sample.yr", "flc.grp", "mgus"]
AUX_B = ["kappa", "lambda", "creatinine", "futime", "death", "chapter"]
ATTACKS, NEIGHBOURS = 1000, 1


def split() -> dict[str, pd.DataFrame]:
    df = pd.read_csv(DATA).sample(frac=1.0, random_state=0).reset_index(drop=True)
    train, holdout, rest = df.iloc[:3000], df.iloc[3000:5000], df.iloc[5000:]
    return {"full": df, "train": train, "holdout": holdout, "rest": rest}


def synthetic_tables(parts: dict[str, pd.DataFrame]) -> dict[str, tuple[pd.DataFrame, dict[str, Any]]]:
    from medsynth.core.registry import SYNTHESIZERS, resolve

    train, rest = parts["train"], parts["rest"]
    out: dict[str, tuple[pd.DataFrame, dict[str, Any]]] = {
        "independent_real": (rest.iloc[:2000], {"what": "2000 unseen real rows (no leak)"}),
        "half_copied": (pd.concat([train.sample(1000, random_state=1), rest.iloc[2000:2874]]).sample(frac=1.0, random_state=2),
                        {"what": "1000 training rows + 874 unseen real rows (a known leak)"}),
    }
    for name, model, eps, schema in (("gaussian_copula", "gaussian-copula", None, None),
                                     ("dp_mst_eps1", "dp-mst", 1.0, public_schema(parts["full"]))):
        klass = resolve(SYNTHESIZERS, model)
        synth = klass({}, privacy={"epsilon": eps, "delta": 1e-5}, seed=0, device="cpu")
        t0 = time.perf_counter()
        synth.fit(train, schema)
        syn = synth.sample(len(train), seed=0)
        out[name] = (syn, {"what": f"medsynth {model}" + (f" epsilon {eps}, public domains" if eps else " (not private)"),
                           "fit_and_sample_seconds": round(time.perf_counter() - t0, 2)})
    return out


def medsynth_linkability(train: pd.DataFrame, holdout: pd.DataFrame, syn: pd.DataFrame, repeats: int) -> list[dict[str, Any]]:
    from medsynth.evaluation import evaluate_tabular
    from medsynth.evaluation.config import EvaluationConfig

    runs = []
    for seed in range(repeats):
        cfg = EvaluationConfig(seed=seed, metrics=["linkability"])
        cfg.tabular.linkability_columns = (AUX_A, AUX_B)
        cfg.tabular.linkability_neighbors = NEIGHBOURS
        cfg.tabular.linkability_attacks = ATTACKS
        t0 = time.perf_counter()
        (m,) = evaluate_tabular(train, holdout, syn, config=cfg, mode="audit").results
        runs.append({"seed": seed, "risk": m.value, "risk_lower_95": m.details["risk_lower_95"], "verdict": m.verdict,
                     "attack_rate": m.details["success_rate_train"], "control_rate": m.details["success_rate_holdout"],
                     "baseline_rate": m.details["success_rate_random_guess"], "seconds": round(time.perf_counter() - t0, 2)})
    return runs


def anonymeter_linkability(peer: str, files: dict[str, Path], repeats: int) -> dict[str, Any]:
    cmd = [peer, str(Path(__file__).with_name("anonymeter_peer.py")), "--train", str(files["train"]), "--control",
           str(files["holdout"]), "--synthetic", str(files["synthetic"]), "--aux-a", ",".join(AUX_A), "--aux-b", ",".join(AUX_B),
           "--attacks", str(ATTACKS), "--neighbors", str(NEIGHBOURS), "--repeats", str(repeats)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"anonymeter failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    risks = np.array([r["risk"] for r in runs], dtype=float)
    return {"risk_mean": round(float(risks.mean()), 4), "risk_min": round(float(risks.min()), 4),
            "risk_max": round(float(risks.max()), 4),
            "attack_rate_mean": round(float(np.mean([r["attack_rate"] for r in runs])), 4),
            "control_rate_mean": round(float(np.mean([r["control_rate"] for r in runs])), 4)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--peer-python", default="/work/venv-anonymeter/bin/python")
    ap.add_argument("--out", default=str(RESULTS / "anonymeter_linkability.json"))
    args = ap.parse_args(argv)
    if not Path(args.peer_python).is_file():
        raise SystemExit(f"no Anonymeter venv at {args.peer_python}: see benchmarks/anonymeter_peer.py for its setup")
    parts = split()
    rows = []
    with tempfile.TemporaryDirectory(prefix="anonymeter-") as tmp:
        files = {"train": Path(tmp) / "train.csv", "holdout": Path(tmp) / "holdout.csv", "synthetic": Path(tmp) / "synthetic.csv"}
        parts["train"].to_csv(files["train"], index=False)
        parts["holdout"].to_csv(files["holdout"], index=False)
        for name, (syn, info) in synthetic_tables(parts).items():
            syn.to_csv(files["synthetic"], index=False)
            ours = medsynth_linkability(parts["train"], parts["holdout"], pd.read_csv(files["synthetic"]), args.repeats)
            peer = anonymeter_linkability(args.peer_python, files, args.repeats)
            rows.append({"synthetic": name, **info, "rows": len(syn),
                         "medsynth": {"summary": summary(ours), "runs": ours},
                         "anonymeter": {"version": peer["version"], "summary": summary(peer["runs"]), "runs": peer["runs"]}})
            print(f"{name:<18} medsynth risk {rows[-1]['medsynth']['summary']['risk_mean']:.3f}  "
                  f"anonymeter risk {rows[-1]['anonymeter']['summary']['risk_mean']:.3f}", flush=True)
    result = {
        "benchmark": "linkability: medsynth audit tabular vs Anonymeter",
        "data": "flchain.csv (7874 x 11), shuffled seed 0: train 3000, control/holdout 2000, unseen rest 2874",
        "aux_columns": [AUX_A, AUX_B], "attacks_per_side": ATTACKS, "neighbours": NEIGHBOURS, "repeats": args.repeats,
        "machine": {**machine(), "note": "2 shared vCPUs, other sessions running (nice 10): timings are load-dependent"},
        "results": rows,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
