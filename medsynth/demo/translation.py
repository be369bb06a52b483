"""The translation step of ``medsynth demo``: a small 2D CycleGAN on the demo's phantoms, through
:mod:`medsynth.translate` (``train`` then ``apply`` on a case it never saw, as MR or as CT)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any


def step_translation(ctx: Any) -> dict[str, Any]:
    """Train a tiny MR->CT CycleGAN on phantoms (unpaired) and score a held-out case in HU."""
    import numpy as np

    import medsynth.translate as mt
    from medsynth.evaluation import hu_metrics as hm
    from medsynth.io.loading import load_volume, save_volume

    folder = Path(ctx.results["phantoms"]["folder"])
    mrs = sorted((folder / "mr").glob("*.nii.gz"))
    cts = sorted((folder / "ct").glob("*.nii.gz"))
    held_out = [mrs[-1].name]  # the last case is never seen in training, as MR or as CT
    shape = int(ctx.results["phantoms"]["shape"][0])
    patch = max(16, shape // 4 * 4)
    cfg = {
        "spatial_dims": 2,
        "generator": {"base_channels": 8, "n_res_blocks": 2},
        "discriminator": {"channels": 16, "num_layers": 3 if patch >= 24 else 2},
        "optim": {"pool_size": 20},
        "data": {"patch_size": [patch, patch]},
        "train": {
            "max_steps": 45 if ctx.quick else 300,
            "batch_size": 4,
            "log_every": 10,
            "checkpoint_every": 1000,
            "device": ctx.config.device,
            "seed": ctx.config.seed,
        },
    }
    out = ctx.out / "translation"
    run = out / "run"
    tr = mt.train(cfg, mrs[:-1], cts[:-1], run, force=True)
    dirs = {name: out / name for name in ("predicted", "reference", "labels")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    if (folder / "labels" / "tissues.json").is_file():  # the label names, for per-tissue MAE
        shutil.copyfile(folder / "labels" / "tissues.json", dirs["labels"] / "tissues.json")
    scores = []
    for name in held_out:
        sct = tr.apply(load_volume(folder / "mr" / name))
        save_volume(sct, dirs["predicted"] / name, format="nifti", overwrite=True, synthetic=True)
        shutil.copyfile(folder / "ct" / name, dirs["reference"] / name)
        shutil.copyfile(folder / "labels" / name, dirs["labels"] / name)
        ref = load_volume(folder / "ct" / name, modality="CT").array
        body = load_volume(folder / "labels" / name, modality="SEG").array > 0
        scores.append({"mae_hu": hm.mae_hu(sct.array, ref, body), "psnr_db": hm.psnr_hu(sct.array, ref, body),
                       "ssim": hm.ssim_hu(sct.array, ref, body)})
    return {
        "run_dir": str(run),
        "predicted_dir": str(dirs["predicted"]),
        "reference_dir": str(dirs["reference"]),
        "labels_dir": str(dirs["labels"]),
        "held_out": held_out,
        "steps": cfg["train"]["max_steps"],
        "mae_hu": round(float(np.mean([s["mae_hu"] for s in scores])), 1),
        "psnr_db": round(float(np.mean([s["psnr_db"] for s in scores])), 2),
        "ssim": round(float(np.mean([s["ssim"] for s in scores])), 3),
    }


__all__ = ["step_translation"]
