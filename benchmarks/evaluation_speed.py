"""Speed of the tabular privacy audit at scale: 100k training x 100k synthetic rows (plus a holdout).

Tables are bootstrapped from the real flchain.csv (../shared/data; mixed types, missing values) with
a little noise on the continuous columns, so that rows are distinct. Measured:

* ``full_nn_pass_s``: one exact nearest-neighbour pass of every synthetic row against every training
  row (100k x 100k, k=1) with the chunked encoder distance: the raw kernel;
* ``audit_default_s``: ``evaluate_tabular(..., mode="audit")`` with default settings (DCR/NNDR on a
  seeded sample of 20,000 query rows against complete reference sets, exact copies on every row,
  membership attacks on 5,000 + 5,000 candidates, attribute inference, singling out);
* ``audit_all_queries_s``: the same audit with ``tabular.max_query_rows: null`` (every synthetic and
  holdout row searched; the full 100k x 100k DCR).

Writes ``benchmarks/results/evaluation_speed.json``. Run with::

    python benchmarks/evaluation_speed.py [--rows 100000] [--threads 2] [--skip-all-queries]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--holdout", type=int, default=20_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-all-queries", action="store_true")
    ap.add_argument("--data", default=os.environ.get("MEDSYNTH_SHARED_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data")))
    ap.add_argument("--out", default=str(Path(__file__).with_name("results") / "evaluation_speed.json"))
    args = ap.parse_args()

    import numpy as np
    import pandas as pd
    import torch

    from medsynth.core.files import write_json
    from medsynth.evaluation import EvaluationConfig, evaluate_tabular
    from medsynth.evaluation.tabular_data import MixedEncoder, nearest, prepare_tables

    torch.set_num_threads(args.threads)
    src = pd.read_csv(Path(args.data) / "tabular" / "flchain.csv")
    rng = np.random.default_rng(0)

    def boot(n: int) -> pd.DataFrame:
        t = src.sample(n, replace=True, random_state=int(rng.integers(1 << 31))).reset_index(drop=True)
        for c in ("kappa", "lambda", "futime"):
            t[c] = (t[c] * (1 + rng.normal(0, 0.02, n))).round(3)
        return t

    train, holdout, synthetic = boot(args.rows), boot(args.holdout), boot(args.rows)
    result: dict = {"machine": f"{platform.machine()} {os.cpu_count()} cores", "torch_threads": args.threads,
                    "train_rows": len(train), "holdout_rows": len(holdout), "synthetic_rows": len(synthetic), "columns": src.shape[1]}

    data = prepare_tables(train, holdout, synthetic, max_holdout_overlap=1.0)
    enc = MixedEncoder(data)
    X_tr, X_sy = enc.transform(data.train), enc.transform(data.synthetic)
    result["encoded_width"] = int(X_tr.shape[1])
    t0 = time.perf_counter()
    nearest(X_sy, X_tr, 1, chunk=256)
    result["full_nn_pass_s"] = round(time.perf_counter() - t0, 1)
    print(f"full 1-NN pass {len(X_sy)} x {len(X_tr)}: {result['full_nn_pass_s']} s", flush=True)

    # Natural duplicates between bootstrap samples are expected here, hence the overlap limit of 1.
    cfg = EvaluationConfig.model_validate({"tabular": {"max_holdout_overlap": 1.0}})
    t0 = time.perf_counter()
    rep = evaluate_tabular(train, holdout, synthetic, target="death", mode="audit", config=cfg)
    result["audit_default_s"] = round(time.perf_counter() - t0, 1)
    result["audit_default_verdict"] = rep.verdict
    print(f"audit (default sampling): {result['audit_default_s']} s", flush=True)
    if not args.skip_all_queries:
        cfg.tabular.max_query_rows = None
        t0 = time.perf_counter()
        evaluate_tabular(train, holdout, synthetic, target="death", mode="audit", config=cfg)
        result["audit_all_queries_s"] = round(time.perf_counter() - t0, 1)
        print(f"audit (every row searched): {result['audit_all_queries_s']} s", flush=True)
    result["load_average_1min_at_end"] = os.getloadavg()[0]
    write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
