"""Speed and memory of vae3d / gan3d: training steps/s, volumes/s, sampling volumes/s, peak memory.

Each case (model x size x device x precision) runs in its own subprocess, so peak memory is that
case's own: ``ru_maxrss`` on CPU, ``torch.cuda.max_memory_allocated`` on CUDA. The networks are the
ready-made configs' (configs/ct_vae3d_64.yaml and, for the GAN, configs/mr_gan3d_64.yaml at 64^3 and
configs/ct_gan3d_128.yaml at 128^3); the VAE at 128^3 uses the 64^3 widths with one more level of
data. Conv FLOPs per step are counted with torch's FlopCounterMode, so the achieved TFLOP/s can be
set against the device's peak.

Usage (2-core CPU: a few minutes; GPU branch runs only where CUDA is present)::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/imaging_speed.py            # CPU, 64^3 and 128^3
    python benchmarks/imaging_speed.py --device cuda --sizes 64 128 --batch 4  # fp32 and bf16 AMP
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    ("vae3d", 64): "ct_vae3d_64.yaml",
    ("vae3d", 128): "ct_vae3d_64.yaml",
    ("gan3d", 64): "mr_gan3d_64.yaml",
    ("gan3d", 128): "ct_gan3d_128.yaml",
}


def run_case(model: str, size: int, device: str, precision: str, batch: int, steps: int, n_sample: int) -> dict[str, Any]:
    """One case in this process: time training steps and sampling, report peak memory."""
    import resource

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from medsynth.core.config import load_config
    from medsynth.core.registry import SYNTHESIZERS, config_schema, resolve
    from medsynth.imaging.data import TrainingData

    cfg_path = ROOT / "configs" / CONFIGS[(model, size)]
    sets = [f"preprocessing.spatial_size=[{size},{size},{size}]", f"train.batch_size={batch}",
            f"train.device={device}", f"train.precision={precision}", f"train.max_steps={steps + 1}",
            f"train.checkpoint_every={steps + 1}", "train.log_every=1", "loss.augment=true" if model == "gan3d" else "loss.adv_weight=0.0",
            f"sample.batch_size={batch}"]
    if device == "cpu":
        sets.append("train.num_threads=" + os.environ.get("OMP_NUM_THREADS", "1"))
    cfg = load_config(config_schema(model), cfg_path, overrides=sets)
    torch.manual_seed(0)
    n_vol = max(4, 2 * batch)
    data = TrainingData(
        images=[torch.rand(1, size, size, size) * 2 - 1 for _ in range(n_vol)], labels=[i % 2 for i in range(n_vol)],
        label_names=["a", "b"], window=(-1024.0, 2048.0), fingerprint="benchmark", n_volumes=n_vol,
        label_counts={"a": n_vol // 2, "b": n_vol - n_vol // 2},
    )
    synth = resolve(SYNTHESIZERS, model)(cfg)
    times: list[float] = []
    flops: list[int] = []
    original = synth._train_step

    def timed(session, it, step):  # first step is warm-up (allocations, cudnn autotune); counted for FLOPs
        if step == 1:
            with FlopCounterMode(display=False) as fc:
                out = original(session, it, step)
            flops.append(int(fc.get_total_flops()))
            return out
        if session.device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = original(session, it, step)
        if session.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        return out

    synth._train_step = timed  # type: ignore[method-assign]
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    synth.fit(data)
    train_peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None
    step_s = sum(times) / len(times)
    synth.sample(batch, seed=0)  # warm-up
    t0 = time.perf_counter()
    synth.sample(n_sample, seed=1)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    sample_s = time.perf_counter() - t0
    params = {k: sum(p.numel() for p in n.parameters()) for k, n in synth.nets.items()}
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    return {
        "model": model, "size": size, "device": device, "precision": precision, "batch": batch,
        "grad_accum_steps": cfg.train.grad_accum_steps, "timed_steps": len(times),
        "step_s": round(step_s, 3), "steps_per_s": round(1 / step_s, 4),
        "train_volumes_per_s": round(batch * cfg.train.grad_accum_steps / step_s, 3),
        "sample_volumes_per_s": round(n_sample / sample_s, 3),
        "step_tflop": round(flops[0] / 1e12, 3) if flops else None,
        "achieved_tflops": round(flops[0] / 1e12 / step_s, 4) if flops else None,
        "peak_gpu_gib": round(train_peak, 2) if train_peak is not None else None,
        "peak_rss_gib": round(peak_rss, 2),
        "params_m": {k: round(v / 1e6, 2) for k, v in params.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--models", nargs="+", default=["vae3d", "gan3d"])
    ap.add_argument("--sizes", nargs="+", type=int, default=[64, 128])
    ap.add_argument("--batch", type=int, default=None, help="default: 2 at 64^3 and 1 at 128^3 on CPU, 4 on GPU")
    ap.add_argument("--steps", type=int, default=None, help="timed steps (default 2 on CPU at 64^3, 1 at 128^3, 20 on GPU)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "imaging_speed_cpu.json"))
    ap.add_argument("--one", nargs=4, metavar=("MODEL", "SIZE", "PRECISION", "BATCH"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.one:
        model, size, precision, batch = args.one[0], int(args.one[1]), args.one[2], int(args.one[3])
        steps = args.steps or (20 if args.device.startswith("cuda") else (2 if size <= 64 else 1))
        n_sample = 4 * batch if args.device.startswith("cuda") else batch
        print("RESULT " + json.dumps(run_case(model, size, args.device, precision, batch, steps, n_sample)))
        return

    import torch

    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        sys.exit("--device cuda: no CUDA GPU here; run on CPU or where a GPU is present")
    precisions = ["fp32", "bf16"] if cuda else ["fp32"]
    results = []
    for size in args.sizes:
        for model in args.models:
            for precision in precisions:
                batch = args.batch or (4 if cuda else (2 if size <= 64 else 1))
                cmd = [sys.executable, __file__, "--device", args.device, "--one", model, str(size), precision, str(batch)]
                if args.steps:
                    cmd += ["--steps", str(args.steps)]
                t0 = time.perf_counter()
                proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "MEDSYNTH_PROGRESS": "0"})
                line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
                if proc.returncode != 0 or line is None:
                    res = {"model": model, "size": size, "device": args.device, "precision": precision, "batch": batch,
                           "error": (proc.stderr or proc.stdout)[-800:]}
                else:
                    res = json.loads(line[len("RESULT "):])
                res["wall_s"] = round(time.perf_counter() - t0, 1)
                print(json.dumps(res), flush=True)
                results.append(res)
    info = {
        "benchmark": "imaging_speed",
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
                    "threads": os.environ.get("OMP_NUM_THREADS"), "gpu": torch.cuda.get_device_name() if cuda else None},
        "note": ("CPU: real networks of the configs, random volumes, synthetic labels; step = one optimisation step "
                 "(GAN: one D and one G update; accumulation per config). achieved_tflops counts conv/matmul FLOPs "
                 "(FlopCounterMode) over the timed step. No GPU was available for this run, so the CUDA/AMP branch "
                 "did not run." if not cuda else "GPU run: fp32 vs bf16 autocast."),
        "results": results,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
