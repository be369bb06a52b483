"""Why DP-TVAE learned nothing at epsilon 1, and what its defaults are now (issue 11, item 3).

DP-SGD adds noise of the same norm to every parameter, so a step's noise grows with the square root of
the model's size while the clipped signal does not. This compares TVAE's own sizes (hidden [128, 128],
latent 32, batches of 256, 20 epochs, lr 2e-3: medsynth's defaults before) with the small defaults
(hidden [32], latent 4, batches of 1,024, 150 epochs, lr 0.01) on flchain at epsilon 1, 4 and 1000 (no
noise to speak of: how far the steps alone get), and on the 47-column PBC-visits table at epsilon 1
(public bounds), each with two seeds (DP noise is fresh OS entropy in each fit). Same split, covariates
and TSTR classifier as ``benchmarks/tabular.py``; writes ``results/tabular_dp_tvae_sizes.json``.

    python benchmarks/dp_tvae_sizes.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SIZES = {
    "tvae sizes (old defaults)": {"hidden": [128, 128], "latent_dim": 32,
                                  "train": {"epochs": 20, "batch_size": 256, "lr": 2e-3}},
    "small (defaults)": {},
}
CASES = [("flchain", 1.0, "public"), ("flchain", 4.0, "public"), ("flchain", 1000.0, "public"), ("wide", 1.0, "public")]
SEEDS = (0, 1)


def main() -> int:
    import tabular as bench
    import torch

    from medsynth.core.files import write_json

    torch.set_num_threads(1)
    rows = []
    for label, params in SIZES.items():
        bench.QUALITY_MODELS["dp-tvae"] = params
        for dataset, eps, domains in CASES:
            for seed in SEEDS:
                r = bench.quality_row(dataset, "dp-tvae", eps, domains, quick=False, seed=seed)
                r["sizes"] = label
                print(json.dumps({k: r.get(k) for k in ("sizes", "dataset", "epsilon_target", "seed", "tstr_auroc",
                                                         "two_way_tvd", "fit_seconds", "error")}), flush=True)
                rows.append(r)
    write_json(HERE / "results" / "tabular_dp_tvae_sizes.json",
               {"protocol": __doc__.split("\n\n")[1].replace("\n", " "), "machine": bench.machine(),
                "shared_machine": "yes: 2 cores shared with other sessions (load 6-9)", "results": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
