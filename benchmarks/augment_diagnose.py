"""Where do the augment benchmark's synthetic pairs lose their HU? Per-tissue medians at each step.

On the 8 training phantoms of one seed of ``benchmarks/augment.py`` (its generator config and window):

* ``real_in_window``: real HU clipped to the generator's window (what it is trained on);
* ``window_round_trip``: preprocessing then ``to_volume`` with no network (the intensity transform and
  its inverse; any gap here would be a pipeline bug);
* ``vae_round_trip``: encode (posterior mean) + decode through the trained first stage;
* ``samples_uncalibrated`` / ``samples``: ControlNet samples from the same 8 label maps, before and
  after the per-tissue calibration (:mod:`medsynth.imaging.calibration`).

Writes ``benchmarks/results/augment/diagnosis_<data>_seed<k>.json``. ~25-30 minutes on the shared
2-core machine with the default generator steps (300/200/500)::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/augment_diagnose.py --seed 0
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from augment import WINDOW, generator_config  # noqa: E402
from imaging_data import PHANTOM_TISSUES, ROOT, machine, phantom, write_json  # noqa: E402


def medians(images: list[np.ndarray], labels: list[np.ndarray]) -> dict[str, float | None]:
    """Median HU per phantom tissue, pooled over volumes."""
    out: dict[str, float | None] = {}
    for k, name in enumerate(PHANTOM_TISSUES):
        vals = np.concatenate([im[lab == k] for im, lab in zip(images, labels)])
        out[name] = round(float(np.median(vals)), 1) if vals.size else None
    return out


def diagnose(seed: int, gen_steps: tuple[int, int, int], inference_steps: int, run: Path | None = None) -> dict[str, Any]:
    """Per-tissue medians of the real phantoms, the window and VAE round trips and the samples.

    ``run``: a run folder of this same generator config trained on these phantoms (``fit(real, out=run)``)
    to diagnose instead of training one; if it predates calibration, the quantiles are taken from the
    same 8 phantoms as fit takes them.
    """
    import torch

    from medsynth.imaging.calibration import tissue_quantiles
    from medsynth.imaging.ldm3d import LDM3D

    lo, hi = WINDOW["phantom"]
    real = [phantom(100 * seed + i) for i in range(8)]
    labels = [np.asarray(p.label.array) for p in real]
    t0 = time.perf_counter()
    if run is None:
        ldm = LDM3D(generator_config("phantom", gen_steps, seed, inference_steps=inference_steps)).fit(real)
    else:
        ldm = LDM3D.load(run)
        if ldm.tissue_quantiles is None:
            def grid(v: Any) -> Any:
                t = ldm.preprocessor(v).tensor
                return t.as_tensor() if hasattr(t, "as_tensor") else t

            ldm.tissue_quantiles = tissue_quantiles([grid(p.image) for p in real], [ldm.mask_on_grid(p.label) for p in real],
                                                    ldm.mask_classes)
    fit_s = time.perf_counter() - t0
    row: dict[str, Any] = {"seed": seed, "generator_stage_steps": ldm.stage_steps, "inference_steps": ldm.config.diffusion.inference_steps,
                           "fit_seconds": round(fit_s, 1) if run is None else None, "latent_scale_factor": round(ldm.scale_factor, 4),
                           "trained_run": str(run) if run is not None else None}
    hu: dict[str, Any] = {"real": medians([p.image.array for p in real], labels),
                          "real_in_window": medians([np.clip(p.image.array, lo, hi) for p in real], labels)}
    vae = ldm.nets["vae"].eval()
    window_rt, vae_rt = [], []
    with torch.no_grad():
        for p in real:
            t = ldm.preprocessor(p.image).tensor
            x = (t.as_tensor() if hasattr(t, "as_tensor") else t).float()
            window_rt.append(ldm.to_volume(x, seed=None, label=None).array)
            mu, _ = vae.encode(x[None])
            vae_rt.append(ldm.to_volume(vae.ae.decode_stage_2_outputs(mu).clamp(-1, 1)[0], seed=None, label=None).array)
    hu["window_round_trip"] = medians(window_rt, labels)
    hu["vae_round_trip"] = medians(vae_rt, labels)
    for name, calibrate in (("samples_uncalibrated", False), ("samples", True)):
        ldm.config = ldm.config.model_copy(update={"masks": ldm.config.masks.model_copy(update={"calibrate": calibrate})})
        pairs = ldm.sample_pairs([p.label for p in real], seed=0)
        hu[name] = medians([q.image.array for q in pairs], [np.asarray(q.label.array) for q in pairs])
    row["tissue_median_hu"] = hu
    row["lesion_minus_organ_hu"] = {k: round(v["lesion"] - v["organ"], 1) for k, v in hu.items() if v["lesion"] is not None}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gen-steps", nargs=3, type=int, default=[300, 200, 500], metavar=("AE", "DIFFUSION", "CONTROLNET"))
    ap.add_argument("--inference-steps", type=int, default=20)
    ap.add_argument("--run", type=Path, default=None, help="diagnose this trained run of the same config instead of training")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    row = diagnose(args.seed, tuple(args.gen_steps), args.inference_steps, args.run)
    row["machine"] = machine("benchmarks/augment_diagnose.py")
    write_json(ROOT / "benchmarks" / "results" / "augment" / f"diagnosis_phantom_seed{args.seed}.json", row)
    print(row["tissue_median_hu"])


if __name__ == "__main__":
    main()
