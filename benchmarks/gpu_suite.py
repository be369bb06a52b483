"""One prepared GPU check: run it whenever a GPU is lent (it is sized for < 8 minutes on one GPU).

What it does, in order, each part stopped early (and said so) if the time budget runs out:

1. runs the ``gpu``-marked tests (``pytest -m gpu``);
2. training speed of vae3d, gan3d and ldm3d (its diffusion stage; its autoencoder is a vae3d) at
   64^3 and 128^3, with fp32 and with bf16 autocast: steps/s, TFLOP per step (torch's
   FlopCounterMode on the first, warm-up step), achieved TFLOP/s and its share of the device's dense
   bf16 peak (a small table of known GPUs; "null" for others), peak GPU memory;
3. sampling volumes/s of each model at 64^3 and 128^3 (bf16 autocast; ldm3d: its configured sampler
   steps, with classifier-free guidance);
4. MR->CT translation of one 256x256x128 volume with the 2D and 3D CycleGAN configs (untrained
   generators: the speed does not depend on the weights);

and writes one JSON. Networks are those of the ready-made configs (configs/ct_vae3d_64.yaml,
ct_gan3d_128.yaml, ct_ldm3d_64.yaml, mr2ct_cyclegan_{2d,3d}.yaml) at the measured size, on random
volumes. ``--device cpu --tiny`` runs the same code at toy sizes (16^3/32^3 volumes, tiny networks,
a 64x64x32 translation), so the script is known to work before a GPU comes.

Usage::

    python benchmarks/gpu_suite.py                                   # on the GPU machine
    OMP_NUM_THREADS=1 python benchmarks/gpu_suite.py --device cpu --tiny   # dry run (a few minutes)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {"vae3d": "ct_vae3d_64.yaml", "gan3d": "ct_gan3d_128.yaml", "ldm3d": "ct_ldm3d_64.yaml"}
#: Dense bf16 tensor-core peaks (TFLOP/s, without sparsity), from the vendors' data sheets.
BF16_PEAK_TFLOPS = {"H200": 989.4, "H100 SXM": 989.4, "H100 80GB HBM3": 989.4, "H100 PCIe": 756.0, "H100": 756.0,
                    "A100": 312.0, "L40S": 362.1, "L4": 121.0, "A10G": 70.0, "RTX 4090": 165.2}
#: Tiny networks for the CPU dry run (the same keys the tests use).
TINY = {
    "vae3d": ["model.channels=[8,16]", "model.norm_num_groups=4", "model.latent_channels=2", "loss.adv_weight=0.0"],
    "gan3d": ["model.latent_dim=16", "model.gen_channels=[16,8]", "model.disc_channels=[8,16]", "model.norm_num_groups=4"],
    "ldm3d": ['model.vae={"channels": [8, 16], "norm_num_groups": 4, "latent_channels": 2}',
              'model.unet={"channels": [16, 32], "attention_levels": [false, true], "norm_num_groups": 8, "num_head_channels": 8, "num_res_blocks": 1}',
              "diffusion.inference_steps=4"],
}


def bf16_peak(name: str | None) -> float | None:
    if not name:
        return None
    for key, peak in BF16_PEAK_TFLOPS.items():
        if key.lower() in name.lower():
            return peak
    return None


class Budget:
    def __init__(self, seconds: float) -> None:
        self.t0, self.seconds = time.perf_counter(), seconds

    @property
    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.t0)


def sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def build(kind: str, size: int, device: str, precision: str, batch: int, tiny: bool) -> tuple[Any, Any]:
    """A synthesizer of ``kind`` from its ready-made config at ``size``^3, and random two-class training data."""
    import torch

    from medsynth.core.config import load_config
    from medsynth.core.registry import SYNTHESIZERS, config_schema, resolve
    from medsynth.core.runtime import resolve_device
    from medsynth.imaging.data import TrainingData

    sets = [f"preprocessing.spatial_size=[{size},{size},{size}]", f"train.batch_size={batch}", f"train.device={device}",
            f"train.precision={precision}", "train.checkpoint_every=1000000", "train.log_every=1000000", f"sample.batch_size={batch}"]
    if kind == "ldm3d":
        sets.append(f"diffusion.batch_size={2 * batch}")
    if device == "cpu":
        sets.append("train.num_threads=" + os.environ.get("OMP_NUM_THREADS", "1"))
    cfg = load_config(config_schema(kind), ROOT / "configs" / CONFIGS[kind], overrides=sets + (TINY[kind] if tiny else []))
    n = max(4, 2 * batch)
    gen = torch.Generator().manual_seed(0)
    data = TrainingData(images=[torch.rand(1, size, size, size, generator=gen) * 2 - 1 for _ in range(n)], labels=[i % 2 for i in range(n)],
                        label_names=["a", "b"], window=(-1024.0, 2048.0), fingerprint="gpu-suite", n_volumes=n,
                        label_counts={"a": n // 2, "b": n - n // 2})
    synth = resolve(SYNTHESIZERS, kind)(cfg)
    synth.label_names, synth.label_counts, synth.window = ["a", "b"], dict(data.label_counts), (-1024.0, 2048.0)
    synth.device = resolve_device(device)
    synth.build()
    return synth, data


def train_case(kind: str, size: int, device: str, precision: str, batch: int, steps: int, tiny: bool) -> dict[str, Any]:
    """Time ``steps`` optimisation steps of the model's main training stage (through the shared loop's hooks)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from medsynth.core.training import TrainSession

    synth, data = build(kind, size, device, precision, batch, tiny)
    stages = synth.stages(data)
    stage = next(s for s in stages if s.name == ("diffusion" if kind == "ldm3d" else kind))
    with tempfile.TemporaryDirectory(prefix="gpu-suite-") as tmp:
        session = TrainSession(synth.config.train, Path(tmp) / "run")
        stage.setup(session)
        stage.start(0)
        dev = session.device
        with FlopCounterMode(display=False) as fc:  # warm-up step (allocations, cuDNN autotuning), FLOPs counted
            stage.step(1)
        flops = int(fc.get_total_flops())
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        sync(dev)
        t0 = time.perf_counter()
        for k in range(2, steps + 2):
            stage.step(k)
        sync(dev)
        step_s = (time.perf_counter() - t0) / steps
        session.close()
    peak = torch.cuda.max_memory_allocated() / 2**30 if dev.type == "cuda" else None
    achieved = flops / 1e12 / step_s
    ref = bf16_peak(torch.cuda.get_device_name(dev) if dev.type == "cuda" else None)
    return {"model": kind, "stage": stage.name, "size": size, "precision": precision, "batch": batch, "timed_steps": steps,
            "steps_per_s": round(1.0 / step_s, 3), "step_s": round(step_s, 4), "step_tflop": round(flops / 1e12, 4),
            "achieved_tflops": round(achieved, 3), "share_of_bf16_peak": round(achieved / ref, 4) if ref else None,
            "peak_gpu_gib": round(peak, 2) if peak is not None else None}


def sample_case(kind: str, size: int, device: str, batch: int, n: int, tiny: bool) -> dict[str, Any]:
    import torch

    synth, _ = build(kind, size, device, "auto", batch, tiny)
    for net in synth.nets.values():
        net.eval()
    synth.sample(1, seed=0)  # warm-up
    if synth.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    sync(synth.device)
    t0 = time.perf_counter()
    synth.sample(n, seed=1, batch_size=batch)
    sync(synth.device)
    s = time.perf_counter() - t0
    out = {"model": kind, "size": size, "volumes": n, "batch": batch, "volumes_per_s": round(n / s, 3), "seconds": round(s, 2),
           "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if synth.device.type == "cuda" else None}
    if kind == "ldm3d":
        out["sampler"] = f"{synth.config.diffusion.scheduler}, {synth.config.diffusion.inference_steps} steps, guidance {synth.config.diffusion.guidance_scale}"
    return out


def translation_case(config: str, shape: tuple[int, int, int], device: str, tiny: bool) -> dict[str, Any]:
    """Translate one MR volume of ``shape`` with untrained generators of ``config`` (speed only)."""
    import numpy as np
    import torch

    from medsynth.core.config import load_config
    from medsynth.core.runtime import resolve_device
    from medsynth.io.volume import Volume, grid_affine
    from medsynth.translation.config import CycleGANConfig
    from medsynth.translation.cyclegan import CycleGANTranslator, CycleGenerators

    sets = [f"train.device={device}"] + (["generator.base_channels=8"] if tiny else [])
    cfg = load_config(CycleGANConfig, ROOT / "configs" / config, overrides=sets)
    tr = CycleGANTranslator(cfg)
    tr.device = resolve_device(device)
    torch.manual_seed(0)
    tr.generators = CycleGenerators(cfg).to(tr.device).eval()
    rng = np.random.default_rng(0)
    arr = (rng.random(shape, dtype=np.float32) * 800.0).astype(np.float32)
    vol = Volume(arr, grid_affine((1.0, 1.0, 1.5), shape), modality="MR", meta={"source": "random MR"})
    if tr.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    sync(tr.device)
    t0 = time.perf_counter()
    ct = tr.translate(vol)
    sync(tr.device)
    s = time.perf_counter() - t0
    return {"config": config, "shape": list(shape), "seconds": round(s, 2), "output_shape": list(ct.spatial_shape),
            "precision": cfg.train.precision, "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if tr.device.type == "cuda" else None}


def run_gpu_tests(timeout: float) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), "MEDSYNTH_PROGRESS": "0"}
    cmd = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider", str(ROOT / "tests")]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=max(10.0, timeout), env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"command": " ".join(cmd[2:]), "status": "timed out", "seconds": round(time.perf_counter() - t0, 1)}
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|skipped|error|errors|deselected)", tail)}
    return {"command": " ".join(cmd[2:]), "returncode": proc.returncode, "summary": tail, "counts": counts,
            "seconds": round(time.perf_counter() - t0, 1), "failures": proc.stdout[-3000:] if proc.returncode not in (0, 5) else None}


def guarded(fn: Any, *args: Any) -> dict[str, Any]:
    """Run one case; an error (e.g. out of memory) is recorded, not fatal."""
    import torch

    try:
        return fn(*args)
    except Exception as exc:  # any failure of one case is reported in the JSON and the suite goes on
        return {"args": [str(a) for a in args[:3]], "error": f"{type(exc).__name__}: {str(exc)[:400]}"}
    finally:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto", help="auto (CUDA when present), cuda, cuda:N or cpu")
    ap.add_argument("--tiny", action="store_true", help="toy sizes and networks (the CPU dry run)")
    ap.add_argument("--budget-s", type=float, default=450.0, help="stop starting new cases after this many seconds")
    ap.add_argument("--steps", type=int, default=None, help="timed training steps per case (default 10 on GPU, 2 on CPU)")
    ap.add_argument("--skip-tests", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    import torch

    from medsynth.core.runtime import resolve_device

    dev = resolve_device(args.device)
    device = str(dev)
    cuda = dev.type == "cuda"
    if not cuda:
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    budget = Budget(args.budget_s)
    sizes = (16, 32) if args.tiny else (64, 128)
    steps = args.steps or (10 if cuda else 2)
    precisions = ("fp32", "bf16")
    result: dict[str, Any] = {
        "benchmark": "gpu_suite", "mode": ("tiny " if args.tiny else "") + ("gpu" if cuda else "cpu dry run"),
        "device": torch.cuda.get_device_name(dev) if cuda else platform.processor() or "cpu",
        "bf16_peak_tflops": bf16_peak(torch.cuda.get_device_name(dev)) if cuda else None,
        "torch": torch.__version__, "cuda": torch.version.cuda, "skipped_for_time": [],
    }
    if not args.skip_tests:
        result["gpu_tests"] = run_gpu_tests(min(150.0, budget.left - 60))
        print(json.dumps({"gpu_tests": result["gpu_tests"].get("summary")}), flush=True)
    result["training"], result["sampling"], result["translation"] = [], [], []
    for size in sizes:
        for kind in ("vae3d", "gan3d", "ldm3d"):
            for precision in precisions:
                if budget.left < 60:
                    result["skipped_for_time"].append(f"train {kind} {size} {precision}")
                    continue
                batch = (2 if size <= 64 else 1) if cuda else 1
                row = guarded(train_case, kind, size, device, precision, batch, steps, args.tiny)
                print(json.dumps(row), flush=True)
                result["training"].append(row)
    for size in sizes:
        for kind in ("vae3d", "gan3d", "ldm3d"):
            if budget.left < 40:
                result["skipped_for_time"].append(f"sample {kind} {size}")
                continue
            batch = (4 if size <= 64 else 1) if cuda else 1
            n = (8 if size <= 64 else 2) if cuda else 2
            row = guarded(sample_case, kind, size, device, batch, n, args.tiny)
            print(json.dumps(row), flush=True)
            result["sampling"].append(row)
    shape = (64, 64, 32) if args.tiny else (256, 256, 128)
    for config in ("mr2ct_cyclegan_2d.yaml", "mr2ct_cyclegan_3d.yaml"):
        if budget.left < 20:
            result["skipped_for_time"].append(f"translate {config}")
            continue
        row = guarded(translation_case, config, shape, device, args.tiny)
        print(json.dumps(row), flush=True)
        result["translation"].append(row)
    result["seconds"] = round(time.perf_counter() - budget.t0, 1)
    result["machine"] = {"platform": platform.platform(), "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
                         "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None}
    if not cuda:
        result["note"] = "CPU dry run: proves the suite runs end to end; its figures are not GPU figures (those are 'not measured' until a GPU runs it)."
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / ("gpu_suite.json" if cuda else "gpu_suite_cpu_tiny.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, out)
    print(f"wrote {out} in {result['seconds']} s")
    with contextlib.suppress(Exception):
        errors = [r for part in ("training", "sampling", "translation") for r in result[part] if "error" in r]
        if errors:
            print(f"{len(errors)} case(s) failed: see 'error' entries", file=sys.stderr)


if __name__ == "__main__":
    main()
