"""The ``medsynth demo`` step of the imaging synthesizers: a small class-conditional vae3d on phantoms,
through :mod:`medsynth.image` (``train``, ``sample``, ``write_volumes``).

Trains on the demo's CT phantoms (labelled lesion / no_lesion from their tissue maps) on the
phantoms' own grid, samples a few volumes as NIfTI (and one as a DICOM series), and reports where
they are so the evaluation step can audit them against the training volumes.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any

import numpy as np


def _label_csv(phantoms: Path, dest: Path) -> dict[str, int]:
    """Write file,label (lesion when the tissue map holds label 5) and return the class counts."""
    from medsynth.io.nifti import read_nifti

    rows = []
    for f in sorted((phantoms / "labels").glob("*.nii.gz")):
        rows.append((f.name, "lesion" if bool((read_nifti(f).array == 5).any()) else "no_lesion"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "label"])
        w.writerows(rows)
    counts: dict[str, int] = {}
    for _, lab in rows:
        counts[lab] = counts.get(lab, 0) + 1
    return counts


def step_image_synthesis(ctx: Any) -> dict[str, Any]:
    """Train a tiny class-conditional 3D VAE on the CT phantoms and sample NIfTI + DICOM."""
    import torch

    import medsynth.image as mi
    from medsynth.io.nifti import read_nifti

    phantoms = Path(ctx.results["phantoms"]["folder"])
    train_dir = phantoms / "ct"
    first = read_nifti(sorted(train_dir.glob("*.nii.gz"))[0], modality="CT")
    shape, spacing = first.spatial_shape, first.spacing
    levels = 3 if all(s % 4 == 0 for s in shape) else 2
    out = Path(ctx.out) / "image_synthesis"
    labels = _label_csv(phantoms, out / "labels.csv")
    steps = 20 if ctx.quick else 60
    cfg = {
        "kind": "vae3d",
        "modality": "CT",
        "data": {"label_names": sorted(labels)},
        "preprocessing": {"spacing": list(spacing), "spatial_size": list(shape), "ct_window": [-1024.0, 1024.0]},
        "model": {"channels": [8, 16, 32][:levels], "latent_channels": 4, "norm_num_groups": 8},
        "loss": {"kl_weight": 0.5, "kl_warmup_steps": steps // 2},
        "train": {"max_steps": steps, "batch_size": 2, "lr": 1e-3, "checkpoint_every": steps, "sample_every": steps,
                  "log_every": 5, "seed": ctx.config.seed, "device": ctx.config.device, "num_threads": 1},
    }
    threads = torch.get_num_threads()  # one thread is much faster for tiny 3D nets on few cores
    t0 = time.perf_counter()
    try:
        vae = mi.train(cfg, train_dir, out / "run", labels=out / "labels.csv", force=True)
        seconds_train = time.perf_counter() - t0
        n = max(4, ctx.config.n_phantoms)
        samples = vae.sample(n, seed=ctx.config.seed)
        mi.write_volumes(samples, out / "samples", format="nifti")
        mi.write_volumes(samples[:1], out / "samples_dicom", format="dicom")
    finally:
        torch.set_num_threads(threads)
    lines = (out / "run" / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    last = json.loads(lines[-1]) if lines else {}
    hu = np.stack([v.array for v in samples])
    return {
        "model": "vae3d",
        "run_dir": str(out / "run"),
        "samples_dir": str(out / "samples"),
        "dicom_dir": str(out / "samples_dicom" / "sample_00000"),
        "train_dir": str(train_dir),
        "labels_csv": str(out / "labels.csv"),
        "classes": labels,
        "n_samples": n,
        "steps": steps,
        "train_seconds": round(seconds_train, 1),
        "final_l1": round(float(last["l1"]), 4) if "l1" in last else None,
        "final_kl": round(float(last["kl"]), 4) if "kl" in last else None,
        "sample_hu_range": [round(float(hu.min()), 1), round(float(hu.max()), 1)],
        "preview": str(out / "run" / "previews" / f"vae3d_step_{steps:08d}.png"),
    }


__all__ = ["step_image_synthesis"]
