"""How real do vae3d, gan3d and ldm3d samples look, at equal CPU training time?

Per dataset (``--data phantom``: 32^3 CT phantoms; ``--data ct``: 32^3 crops of the real CT, see
``imaging_data.py``), each model is trained on the same 16 real volumes for the same CPU time
(``--cpu-seconds`` of process CPU time: its steps are set from a timed calibration of its own
training steps; ldm3d shares them between its autoencoder and diffusion stages as its config says),
then samples 32 volumes, and ``medsynth.evaluation.evaluate_images`` judges them against the training
volumes with 16 holdout volumes as the real-vs-real reference:

* ``detection_auc_image``: the 3D CNN real-vs-synthetic detector (0.5 = indistinguishable), its
  one-sided 95% lower bound (what the verdict judges) and the real-vs-real baseline;
* FID / KID / MMD of random (untrained, seeded) 3D ResNet features: information only, since random
  features rank sets but are not comparable with published values.

Writes ``benchmarks/results/realism_<data>.json`` and, for the preview figure
(``benchmarks/previews.py``), 4 samples per model in ``benchmarks/results/realism/<data>_samples.npz``.

Usage (about 15 minutes of CPU per dataset with the default 180 s per model; longer on a shared machine)::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/realism.py --data phantom
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/realism.py --data ct
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imaging_data import ROOT, machine, phantom, real_ct_crops, write_json  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
WINDOW = {"phantom": [-1024.0, 1024.0], "ct": [-1024.0, 1500.0]}
SPACING = {"phantom": 4.0, "ct": 3.0}
MODELS: dict[str, dict[str, Any]] = {
    "vae3d": {"model": {"channels": [16, 32, 32], "latent_channels": 4, "norm_num_groups": 8},
              "loss": {"kl_weight": 0.5, "kl_warmup_steps": 100}, "train": {"lr": 1e-3}},
    "gan3d": {"model": {"latent_dim": 64, "gen_channels": [64, 32, 16], "disc_channels": [16, 32, 64], "norm_num_groups": 8},
              "train": {"lr": 2e-4}},
    "ldm3d": {"model": {"vae": {"channels": [8, 16, 32], "latent_channels": 8, "norm_num_groups": 8},
                        "unet": {"channels": [32, 64, 128], "attention_levels": [False, True, True], "norm_num_groups": 16,
                                 "num_head_channels": 16, "num_res_blocks": 1, "ema_decay": 0.99}},
              "loss": {"vae": {"kl_weight": 0.001, "kl_warmup_steps": 0}},
              "diffusion": {"inference_steps": 20, "batch_size": 8, "lr": 1e-3}, "stages": {"autoencoder": 0.45, "diffusion": 0.55},
              "train": {"lr": 2e-3}},
}


def config(kind: str, data: str, steps: int, seed: int) -> Any:
    from medsynth.core.config import validate_config
    from medsynth.core.registry import config_schema

    spec = json.loads(json.dumps(MODELS[kind]))
    train = {"max_steps": steps, "batch_size": 2, "device": "cpu", "seed": seed, "checkpoint_every": 10**6, "log_every": 50,
             "num_threads": 1, **spec.pop("train", {})}
    return validate_config(config_schema(kind), {
        "kind": kind, "modality": "CT", "data": {"conditional": False},
        "preprocessing": {"spacing": [SPACING[data]] * 3, "spatial_size": [32, 32, 32], "ct_window": WINDOW[data]},
        "train": train, **spec,
    })


def step_cpu_seconds(kind: str, data: str, volumes: list[Any], calib_steps: int) -> dict[str, float]:
    """Process CPU seconds per optimisation step of each training stage (timed on a few steps)."""
    from medsynth.core.registry import SYNTHESIZERS, resolve
    from medsynth.core.training import TrainSession
    from medsynth.imaging.data import load_training_data

    cfg = config(kind, data, 10**4, 0)
    synth = resolve(SYNTHESIZERS, kind)(cfg)
    train_data = load_training_data(volumes, cfg)
    synth.window = train_data.window
    synth.build()
    out = {}
    with tempfile.TemporaryDirectory(prefix="realism-") as tmp:
        session = TrainSession(cfg.train, Path(tmp) / "run")
        for stage in synth.stages(train_data):
            stage.setup(session)
            stage.start(0)
            stage.step(1)  # warm-up
            t0 = time.process_time()
            for k in range(2, calib_steps + 2):
                stage.step(k)
            out[stage.name] = (time.process_time() - t0) / calib_steps
        session.close()
    return out


def steps_for_budget(kind: str, per_step: dict[str, float], seconds: float) -> int:
    """train.max_steps whose stage split fits ``seconds`` of CPU time."""
    if kind != "ldm3d":
        return max(2, int(seconds / per_step[kind]))
    shares = MODELS["ldm3d"]["stages"]
    cost_per_total_step = sum(shares[s] / sum(shares.values()) * per_step[s] for s in shares)
    return max(2, int(seconds / cost_per_total_step))


def write_set(volumes: list[Any], folder: Path) -> Path:
    from medsynth.io.nifti import write_nifti

    for i, v in enumerate(volumes):
        write_nifti(getattr(v, "image", v), folder / f"vol_{i:03d}.nii.gz")
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", choices=["phantom", "ct"], default="phantom")
    ap.add_argument("--models", nargs="+", default=["vae3d", "gan3d", "ldm3d"])
    ap.add_argument("--cpu-seconds", type=float, default=180.0, help="process CPU seconds of training per model")
    ap.add_argument("--n-train", type=int, default=16)
    ap.add_argument("--n-holdout", type=int, default=16)
    ap.add_argument("--n-samples", type=int, default=32)
    ap.add_argument("--calib-steps", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch

    from medsynth.core.registry import SYNTHESIZERS, resolve
    from medsynth.evaluation import EvaluationConfig, evaluate_images

    torch.set_num_threads(1)
    t_all = time.perf_counter()
    if args.data == "phantom":
        train = [phantom(i) for i in range(args.n_train)]
        holdout = [phantom(50_000 + i) for i in range(args.n_holdout)]
    else:
        train = real_ct_crops(args.n_train, 0, half="train")
        holdout = real_ct_crops(args.n_holdout, 1, half="train")
    images = [p.image for p in train]
    eval_cfg = EvaluationConfig.model_validate({"metrics": ["detection_image", "feature_distances"], "images": {"feature_size": 32}})
    result: dict[str, Any] = {"benchmark": "realism", "data": args.data, "settings": vars(args), "models": {},
                              "features": "random (untrained, seeded) 3D ResNet-10 features: FID/KID/MMD rank sets, values are not comparable with published ones"}
    samples_keep: dict[str, np.ndarray] = {"real": np.rint(np.stack([v.array for v in images[:4]])).astype(np.int16)}
    with tempfile.TemporaryDirectory(prefix="realism-sets-") as tmp:
        root = Path(tmp)
        write_set(images, root / "train")
        write_set([p.image for p in holdout], root / "holdout")
        for kind in args.models:
            t0 = time.perf_counter()
            per_step = step_cpu_seconds(kind, args.data, images, args.calib_steps)
            steps = steps_for_budget(kind, per_step, args.cpu_seconds)
            cfg = config(kind, args.data, steps, args.seed)
            c0 = time.process_time()
            model = resolve(SYNTHESIZERS, kind)(cfg).fit(images)
            train_cpu = time.process_time() - c0
            s0 = time.perf_counter()
            syn = model.sample(args.n_samples, seed=1000)
            sample_s = time.perf_counter() - s0
            write_set(syn, root / kind)
            samples_keep[kind] = np.rint(np.stack([v.array for v in syn[:4]])).astype(np.int16)
            rep = evaluate_images(root / "train", root / "holdout", root / kind, config=eval_cfg, modality="CT")
            det = rep.metric("detection_auc_image")
            row = {
                "train_steps": steps, "stage_steps": getattr(model, "stage_steps", None), "calibrated_cpu_s_per_step": {k: round(v, 3) for k, v in per_step.items()},
                "train_cpu_seconds": round(train_cpu, 1), "sampling_seconds": round(sample_s, 1),
                "detection_auc": round(det.value, 4), "detection_auc_lower_95": round(det.judged_value, 4) if det.judged_value is not None else None,
                "detection_verdict": det.verdict, "real_vs_real_auc": round(det.details.get("real_vs_real_auc", float("nan")), 4),
                "fid": round(rep.metric("fid").value, 2), "fid_real_vs_real": round(rep.metric("fid").baseline, 2),
                "kid": round(rep.metric("kid").value, 4), "kid_real_vs_real": round(rep.metric("kid").baseline, 4),
                "mmd": round(rep.metric("mmd").value, 4), "mmd_real_vs_real": round(rep.metric("mmd").baseline, 4),
                "fidelity_verdict": rep.sections["fidelity"]["verdict"], "wall_seconds": round(time.perf_counter() - t0, 1),
            }
            result["models"][kind] = row
            print(kind, json.dumps(row), flush=True)
    result["seconds"] = round(time.perf_counter() - t_all, 1)
    result["machine"] = machine("equal process-CPU training time per model; 1 torch thread")
    write_json(RESULTS / f"realism_{args.data}.json", result)
    (RESULTS / "realism").mkdir(parents=True, exist_ok=True)
    np.savez_compressed(RESULTS / "realism" / f"{args.data}_samples.npz", **samples_keep)
    print(f"wrote {RESULTS / f'realism_{args.data}.json'}")


if __name__ == "__main__":
    main()
