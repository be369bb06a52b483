"""Run by test_ddp.py under ``torchrun --nproc_per_node=2``: trains tiny vae3d, gan3d and ldm3d (3 stages) with DDP.

Args: DATA LABELS_CSV RUNS_DIR REPORT_DIR. Each rank writes REPORT_DIR/{kind}_rank{r}.json (outside
the run directories) with a checksum of its trained weights, so the test can check DDP kept the
replicas equal and that only rank 0 wrote the run directories.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
from imaging_helpers import tiny_config

from medsynth.core.registry import SYNTHESIZERS, resolve


def main() -> None:
    data, labels, runs, report = (Path(a) for a in sys.argv[1:5])
    rank = int(os.environ["RANK"])
    for kind in ("vae3d", "gan3d", "ldm3d"):
        if kind == "ldm3d":  # image + label-map pairs: autoencoder, diffusion and controlnet stages
            cfg = tiny_config(kind, train={"batch_size": 1, "grad_accum_steps": 2, "max_steps": 3})
            model = resolve(SYNTHESIZERS, kind)(cfg).fit(data, out=runs / kind, labels_csv=labels, labels_dir=data.parent / "labels")
        else:
            cfg = tiny_config(kind, train={"batch_size": 1, "grad_accum_steps": 2, "sample_every": 2})
            model = resolve(SYNTHESIZERS, kind)(cfg).fit(data, out=runs / kind, labels_csv=labels)
        nets = {k: v for k, v in model.nets.items() if k != "generator_ema"} or model.nets
        checksum = {k: float(sum(p.double().sum() for p in net.parameters())) for k, net in nets.items()}
        (report / f"{kind}_rank{rank}.json").write_text(json.dumps({"rank": rank, "checksum": checksum, "steps": model.steps_trained}))
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
