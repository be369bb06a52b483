"""Window and speed parts of the translation benchmark (``translation.py windows`` / ``speed``).

* ``windows``: accuracy and seams of inference windows (training-patch windows with 50% overlap,
  the default whole-slice window, a 1.5-2 x patch window with 25% overlap) with the phantom part's
  models, on phantoms larger than the training patch (128x128x32 at 2 mm, 256x256x32 at 1x1x2 mm).
* ``speed``: a 256x256x128 phantom MR translated by the 2D model with the default whole-slice
  window, and with training-patch windows (64x64, 50% overlap, Gaussian blending: the old default).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from translation import _write, environment


def _seam_stats(pred: np.ndarray, ref: np.ndarray, body: np.ndarray, borders: list[int]) -> dict[str, float]:
    """Jumps between neighbouring columns/rows (both in-plane axes) at window borders, pred vs reference.

    ``borders`` are the indices j where a window of the default grid starts or ends; the jump there is
    |x[j] - x[j-1]| inside the body. A seam shows as a mean or max jump above the reference's.
    """
    jp, jr, jp_all, jr_all = [], [], [], []
    for axis in (0, 1):
        dp = np.abs(np.diff(pred, axis=axis))
        dr = np.abs(np.diff(ref, axis=axis))
        m = np.logical_and(np.take(body, range(1, body.shape[axis]), axis=axis),
                           np.take(body, range(0, body.shape[axis] - 1), axis=axis))
        jp_all.append(dp[m])
        jr_all.append(dr[m])
        for j in borders:
            mj = np.take(m, j - 1, axis=axis)
            jp.append(np.take(dp, j - 1, axis=axis)[mj])
            jr.append(np.take(dr, j - 1, axis=axis)[mj])
    jp_, jr_ = np.concatenate(jp), np.concatenate(jr)
    return {"border_mean_jump_pred_hu": float(jp_.mean()), "border_mean_jump_ref_hu": float(jr_.mean()),
            "border_max_jump_pred_hu": float(jp_.max()), "border_max_jump_ref_hu": float(jr_.max()),
            "all_mean_jump_pred_hu": float(np.concatenate(jp_all).mean()),
            "all_mean_jump_ref_hu": float(np.concatenate(jr_all).mean())}


def part_windows(work: Path, threads: int) -> dict[str, Any]:
    """Accuracy and seams of inference windows on phantoms larger than the training patch.

    The held-out 64^3 cases are one 64x64 window per slice whatever the setting, so the comparison
    uses larger phantoms with a known CT: 3 cases of 128x128x32 at 2 mm (the training spacing) and the
    speed benchmark's 256x256x128 case cut to its middle 32 slices (1 x 1 x 2 mm). Same trained
    models (``run_2``, ``run_2.5`` of the phantom part), only ``inference.*`` changes.
    """
    import torch

    from medsynth.evaluation import hu_metrics as metrics
    from medsynth.io.phantoms import PhantomConfig, make_phantom
    from medsynth.io.volume import Volume
    from medsynth.translation.cyclegan import CycleGANTranslator

    torch.set_num_threads(threads)
    cases = []
    for seed in (5000, 5001, 5002):
        cases.append((f"128x128x32 seed {seed}", make_phantom(seed, PhantomConfig(shape=(128, 128, 32)))))
    big = make_phantom(7, PhantomConfig(shape=(256, 256, 128), spacing=(1.0, 1.0, 2.0)))
    cases.append(("256x256x128 seed 7, slices 48-79", big))
    out: dict[str, Any] = {"benchmark": "windows", "environment": environment(threads), "results": {}}
    for dims in ("2", "2.5"):
        model = work / f"run_{dims}" / "model"
        if not (model / "weights.pt").is_file():
            continue
        tr = CycleGANTranslator.load(model)
        for name, ph in cases:
            n = ph.mr.array.shape[0]
            sl = slice(48, 80) if n == 256 else slice(None)
            mr = Volume(np.ascontiguousarray(ph.mr.array[..., sl]), ph.mr.affine, modality="MR")
            ref = ph.ct.array[..., sl]
            labels = ph.labels.array[..., sl].astype(int)
            body = labels > 0
            settings = {"training-patch windows 64x64, overlap 0.5": {"roi_size": [64, 64], "overlap": 0.5},
                        f"whole slice {n}x{n}, overlap 0 (the default)": {"roi_size": [n, n], "overlap": 0.0}}
            if n == 256:
                settings["128x128 (2 x patch), overlap 0.25"] = {"roi_size": [128, 128], "overlap": 0.25}
            else:
                settings["96x96 (1.5 x patch), overlap 0.25"] = {"roi_size": [96, 96], "overlap": 0.25}
            borders = list(range(32, n, 32))
            for label, inf in settings.items():
                tr.configure_inference([f"inference.{k}={json.dumps(v)}" for k, v in inf.items()] + ["inference.mirror_axes=[]"])
                t0 = time.perf_counter()
                sct = tr.translate(mr).array
                sec = time.perf_counter() - t0
                r = metrics.report(sct, ref, body)
                r.update(_seam_stats(sct, ref, body, borders))
                r["seconds"] = sec
                out["results"].setdefault(dims, {}).setdefault(name, {})[label] = r
                print(f"[windows] {dims} {name} {label}: MAE {r['mae_hu']:.1f} PSNR {r['psnr_db']:.2f} SSIM {r['ssim']:.3f} "
                      f"border jump {r['border_mean_jump_pred_hu']:.1f} (ref {r['border_mean_jump_ref_hu']:.1f}) "
                      f"max {r['border_max_jump_pred_hu']:.0f} (ref {r['border_max_jump_ref_hu']:.0f}) {sec:.1f} s", flush=True)
                _write("windows", out)
    return out


def part_speed(work: Path, threads_list: list[int]) -> dict[str, Any]:
    import torch

    from medsynth.io.phantoms import PhantomConfig, make_phantom
    from medsynth.translation.cyclegan import CycleGANTranslator

    model = work / "run_2" / "model"
    if not (model / "weights.pt").is_file():
        raise SystemExit(f"{model} is missing: run the phantom part first")
    shape = (256, 256, 128)
    ph = make_phantom(7, PhantomConfig(shape=shape, spacing=(1.0, 1.0, 2.0)))
    out: dict[str, Any] = {"benchmark": "speed", "volume_shape": list(shape), "model": str(model), "runs": []}
    settings = {
        "training-patch windows 64x64, overlap 0.5, gaussian, no mirroring (the default before whole slices)":
            {"roi_size": [64, 64], "overlap": 0.5, "mirror_axes": ()},
        "default: whole-slice window 256x256, left-right mirroring (inference.mirror_axes [0])":
            {"roi_size": None, "overlap": 0.25, "mirror_axes": (0,)},
        "whole-slice window 256x256, no mirroring (inference.mirror_axes [])":
            {"roi_size": None, "overlap": 0.25, "mirror_axes": ()},
    }
    slow = next(iter(settings))
    # The slow patch windows once (with the most threads); the whole-slice settings with each thread count.
    runs = [(max(threads_list), slow)] + [(t, label) for t in threads_list for label in settings if label != slow]
    tr = CycleGANTranslator.load(model)
    for threads, label in runs:
        torch.set_num_threads(threads)
        tr.configure_inference([f"inference.{k}={json.dumps(v)}" for k, v in settings[label].items()])
        t0 = time.perf_counter()
        sct = tr.translate(ph.mr)
        sec = time.perf_counter() - t0
        out["runs"].append({"threads": threads, "inference": label, "seconds": sec, "under_60_s": sec < 60,
                            "load_average": os.getloadavg()})
        print(f"[speed] {threads} thread(s), {label}: {sec:.1f} s (output {sct.array.shape})", flush=True)
        _write("speed", out)
    out["environment"] = environment(threads_list[-1])
    _write("speed", out)
    return out


__all__ = ["part_speed", "part_windows"]
