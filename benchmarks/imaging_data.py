"""Data shared by the imaging benchmarks (augment.py, realism.py): labelled 32^3 phantoms and real CT crops.

* Phantoms: medsynth's CT phantoms at 32^3 (4 mm voxels) whose lesions are re-drawn to be at least
  3 voxels across (a sphere of radius 1.5-3 voxels inside the organ, see
  :func:`medsynth.imaging.masks.insert_lesion`), then rendered to HU by the phantom generator's own
  tissue model (:func:`medsynth.io.phantoms.labels_to_ct`) with 6 HU noise (the phantoms' default 12 HU
  left a segmenter trained on 8 volumes at chance on the lesions: the task must be neither at chance
  nor solved by real data alone). Tissue labels 0 air .. 5 lesion.
* Real CT crops: 32^3 crops (3 mm voxels) of the real abdominal CT in ``../shared/data`` with tissue
  maps made by HU thresholds after a 3-voxel median filter: 0 air (< -300 HU), 1 fat (-300..-30),
  2 soft tissue (-30..200), 3 bone (> 200). Training crops come from the upper half of the scan,
  test crops from the lower half, so a test crop never overlaps a training crop.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEDSYNTH_SHARED_DATA", ROOT.parent / "shared" / "data"))
REAL_CT = SHARED / "imaging" / "totalsegmentator" / "example_ct.nii.gz"
SIZE = 32
PHANTOM_TISSUES = ["air", "fat", "soft_tissue", "organ", "bone", "lesion"]
CT_TISSUES = ["air", "fat", "soft_tissue", "bone"]
CT_THRESHOLDS = (-300.0, -30.0, 200.0)


PHANTOM_NOISE_HU = 6.0


def phantom(seed: int, *, p_lesion: float = 0.6, size: int = SIZE, noise_hu: float = PHANTOM_NOISE_HU) -> Any:
    """One labelled CT phantom (LabelledVolume) whose lesion, if any, is >= 3 voxels across."""
    from medsynth.imaging.masks import insert_lesion
    from medsynth.imaging.pairs import LabelledVolume
    from medsynth.io.phantoms import labels_to_ct, make_labels
    from medsynth.io.volume import Volume, grid_affine

    rng = np.random.default_rng(seed)
    lab = make_labels(rng, (size,) * 3, lesion_probability=0.0)
    if rng.uniform() < p_lesion:
        insert_lesion(lab, 3, 5, float(rng.uniform(1.5, 3.0)), rng)
    ct = labels_to_ct(lab, rng, noise_hu=noise_hu)
    aff = grid_affine((4.0,) * 3, (size,) * 3)
    meta = {"source": f"phantom seed={seed}"}
    return LabelledVolume(Volume(ct, aff, modality="CT", meta=dict(meta)), Volume(lab.astype(np.int16), aff, modality="SEG", meta=dict(meta)))


def ct_tissues(hu: np.ndarray) -> np.ndarray:
    """HU -> tissue labels (see the module docstring)."""
    from scipy.ndimage import median_filter

    smooth = median_filter(hu, size=3)
    return np.digitize(smooth, CT_THRESHOLDS).astype(np.int16)


def real_ct_crops(n: int, seed: int, *, half: str, size: int = SIZE) -> list[Any]:
    """``n`` random crops (LabelledVolume) of the real CT from its upper ("train") or lower ("test") half."""
    from medsynth.imaging.pairs import LabelledVolume
    from medsynth.io.nifti import read_nifti
    from medsynth.io.volume import Volume, grid_affine

    if not REAL_CT.is_file():
        raise SystemExit(f"{REAL_CT} is absent: the real-CT protocol needs ../shared/data (or MEDSYNTH_SHARED_DATA)")
    vol = read_nifti(REAL_CT, modality="CT")
    hu = np.clip(vol.array.astype(np.float32), -1024, 3071)
    labels = ct_tissues(hu)
    z_mid = hu.shape[2] // 2
    z_lo, z_hi = (0, z_mid) if half == "train" else (z_mid, hu.shape[2])
    rng = np.random.default_rng([seed, 0 if half == "train" else 1])
    aff = grid_affine((3.0,) * 3, (size,) * 3)
    out = []
    while len(out) < n:
        i = int(rng.integers(0, hu.shape[0] - size + 1))
        j = int(rng.integers(0, hu.shape[1] - size + 1))
        k = int(rng.integers(z_lo, z_hi - size + 1))
        sl = (slice(i, i + size), slice(j, j + size), slice(k, k + size))
        crop, lab = hu[sl], labels[sl]
        if (lab > 0).mean() < 0.3:  # mostly air outside the body: not informative
            continue
        meta = {"source": f"real CT crop {half} {i},{j},{k}"}
        out.append(LabelledVolume(Volume(crop.copy(), aff, modality="CT", meta=dict(meta)), Volume(lab.copy(), aff, modality="SEG", meta=dict(meta))))
    return out


def machine(note: str = "") -> dict[str, Any]:
    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"platform": platform.platform(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "load_average_at_end": [round(x, 2) for x in load] if load else None,
            "shared": "yes: 2 cores shared with other jobs (load average above); times are wall-clock under that load",
            "note": note}


def write_json(path: Path, data: Any) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def t_interval(values: list[float], level: float = 0.95) -> dict[str, float]:
    """Mean and two-sided ``level`` t-interval of paired differences (one per seed)."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    n = len(v)
    mean = float(v.mean()) if n else float("nan")
    if n < 2:
        return {"mean": round(mean, 4), "low": None, "high": None, "n": n}
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / np.sqrt(n))
    return {"mean": round(mean, 4), "low": round(mean - half, 4), "high": round(mean + half, 4), "n": n}


__all__ = ["CT_TISSUES", "PHANTOM_TISSUES", "REAL_CT", "SIZE", "ct_tissues", "machine", "phantom", "real_ct_crops", "t_interval", "write_json"]
