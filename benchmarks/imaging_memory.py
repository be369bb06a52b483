"""Estimated GPU memory of one gan3d / vae3d training step, without a GPU: fake tensors, live storage bytes counted.

The issue's GPU goal is "a 128^3 GAN training step with batch 4 fits in 40 GB". Where no GPU is
lent, this script estimates the step's peak tensor memory by running it on *fake* tensors
(``torch._subclasses.FakeTensorMode``: shapes and dtypes, no data, no compute) under
a small dispatch mode (:class:`PeakMemory`) that adds up the bytes of every live tensor storage
(parameters, gradients, Adam states, activations kept for backward, temporaries) and records the
peak. The networks are those of the ready-made config (``configs/ct_gan3d_128.yaml``); the step is
the model's own recipe (one D update on [real, fake], one G update through the frozen D, Adam both,
EMA of G), with bf16 autocast as on a GPU (CPU autocast, the same op lists for convolutions) or fp32.
What it leaves out: the CUDA context (~0.5 GiB), cuDNN workspaces and allocator fragmentation
(typically +10-30%), and the discriminator's input augmentation (one input-sized temporary). It is an
estimate to set against the 40 GB goal, not a measurement; ``imaging_speed.py --device cuda``
measures ``torch.cuda.max_memory_allocated`` where a GPU is present.

Run (seconds, any machine): ``python benchmarks/imaging_memory.py`` -> ``results/imaging_memory_estimate.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import weakref
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {"gan3d": "ct_gan3d_128.yaml", "vae3d": "ct_vae3d_64.yaml"}


class PeakMemory(TorchDispatchMode):
    """Counts the bytes of live tensor storages (each once, freed when its storage is); ``peak`` is the maximum."""

    def __init__(self) -> None:
        super().__init__()
        self.current = 0
        self.peak = 0
        self._seen: set[int] = set()

    def _free(self, key: int, nbytes: int) -> None:
        self._seen.discard(key)
        self.current -= nbytes

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor):
                continue
            st = t.untyped_storage()
            key = id(st)
            if key in self._seen:
                continue
            nbytes = st.nbytes()
            self._seen.add(key)
            self.current += nbytes
            weakref.finalize(st, self._free, key, nbytes)
        self.peak = max(self.peak, self.current)
        return out


def _synth(model: str, size: int, batch: int) -> Any:
    from medsynth.core.config import load_config
    from medsynth.core.registry import SYNTHESIZERS, config_schema, resolve

    sets = [f"preprocessing.spatial_size=[{size},{size},{size}]", f"train.batch_size={batch}", "train.device=cpu"]
    cfg = load_config(config_schema(model), ROOT / "configs" / CONFIGS[model], overrides=sets)
    synth = resolve(SYNTHESIZERS, model)(cfg)
    synth.label_names = ["a", "b"]  # class-conditional, as the configs are
    return synth


def gan_step(synth: Any, batch: int, size: int, autocast: Any) -> None:
    """GAN3D's step (medsynth/imaging/gan3d.py) with its networks, optimizers and EMA, for one
    micro-batch (accumulation adds only the micro-batches' inputs) and without DiffAugment (input-sized
    temporaries; its per-sample integer shifts cannot run on fake tensors)."""
    from medsynth.core.training import EMA
    from medsynth.imaging.losses import d_loss, g_loss
    from medsynth.imaging.networks import Discriminator

    cfg = synth.config
    gen = synth._generator()
    disc = Discriminator(cfg.spatial_dims, cfg.model.disc_channels, n_classes=synth.n_classes)
    ema = EMA(gen, decay=cfg.model.ema_decay)
    betas = tuple(cfg.loss.betas)
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.train.lr, betas=betas)
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.train.lr * cfg.loss.disc_lr_scale, betas=betas)
    x = torch.rand(batch, 1, size, size, size) * 2 - 1
    y = torch.randint(0, 2, (batch,))
    for step in (1, 2):  # the second step has Adam's states allocated, as every later step does
        z = torch.randn(batch, cfg.model.latent_dim)
        with torch.no_grad(), autocast():
            fake = gen(z, y)
        with autocast():
            scores = disc(torch.cat([x, fake.to(x.dtype)]), torch.cat([y, y]))
        real_s, fake_s = scores.float().split(batch)
        d_loss(real_s, fake_s, cfg.loss.loss).backward()
        opt_d.step()
        opt_d.zero_grad(set_to_none=True)
        disc.requires_grad_(False)
        with autocast():
            scores = disc(gen(z, y), y)
        g_loss(scores.float(), cfg.loss.loss).backward()
        disc.requires_grad_(True)
        opt_g.step()
        opt_g.zero_grad(set_to_none=True)
        ema.update(gen, step)


def vae_step(synth: Any, batch: int, size: int, autocast: Any) -> None:
    """VAE3D's step without its optional PatchDiscriminator (ct_vae3d_64.yaml turns it on with a small
    weight: its D is a few MB of weights plus activations on one reconstruction, not counted here)."""
    import torch.nn.functional as F

    from medsynth.imaging.losses import kl_per_voxel
    from medsynth.imaging.networks import ConditionalVAE

    m = synth.config.model  # the networks synth.build() makes, without its .to(device) (fake tensors stay put)
    vae = ConditionalVAE(synth.config.spatial_dims, m.channels, m.latent_channels, m.num_res_blocks, m.norm_num_groups,
                         n_classes=synth.n_classes, embed_dim=m.label_embed_dim, use_checkpoint=m.use_checkpoint).train()
    opt = torch.optim.Adam(vae.parameters(), lr=1e-4)
    x = torch.rand(batch, 1, size, size, size) * 2 - 1
    y = torch.randint(0, 2, (batch,))
    for _ in range(2):
        with autocast():
            recon, mu, sigma = vae(x, y)
        loss = F.l1_loss(recon.float(), x) + 1e-6 * kl_per_voxel(mu.float(), sigma.float(), x[0].numel())
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)


def estimate(model: str, size: int, batch: int, precision: str) -> dict[str, Any]:
    import functools

    from torch._subclasses.fake_tensor import FakeTensorMode

    from medsynth.core.runtime import autocast as runtime_autocast

    synth = _synth(model, size, batch)
    # medsynth's own autocast: bf16 on CPU casts convolutions to bf16 as CUDA autocast does; fp32 = none
    autocast = functools.partial(runtime_autocast, torch.device("cpu"), precision)
    tracker = PeakMemory()
    with FakeTensorMode(allow_non_fake_inputs=True), tracker:
        (gan_step if model == "gan3d" else vae_step)(synth, batch, size, autocast)
    return {"model": model, "config": CONFIGS[model], "size": size, "batch": batch, "precision": precision,
            "estimated_peak_gib": round(tracker.peak / 2**30, 2)}


def validate() -> dict[str, Any]:
    """The same count on real tensors (gan3d, 32^3, batch 2, fp32, computed on the CPU) against the fake
    run, and the process's peak-RSS growth over that real step (allocator and library overheads)."""
    import contextlib
    import resource

    synth = _synth("gan3d", 32, 2)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    tracker = PeakMemory()
    with tracker:
        gan_step(synth, 2, 32, contextlib.nullcontext)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20 - before
    fake = estimate("gan3d", 32, 2, "fp32")["estimated_peak_gib"]  # after: the real step's RSS growth is its own
    return {"case": "gan3d 32^3 batch 2 fp32", "fake_estimate_gib": fake, "real_tensors_gib": round(tracker.peak / 2**30, 3),
            "process_peak_rss_growth_gib": round(grown, 3), "overhead_factor": round(grown / (tracker.peak / 2**30), 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=["gan3d:128:4:bf16", "gan3d:128:4:fp32", "gan3d:64:4:bf16",
                                                   "vae3d:128:4:bf16", "vae3d:64:4:bf16"],
                    help="MODEL:SIZE:BATCH:PRECISION")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "imaging_memory_estimate.json"))
    args = ap.parse_args(argv)
    import torch

    check = validate()
    print(json.dumps(check), flush=True)
    margin = max(1.25, check["overhead_factor"])
    results = []
    for case in args.cases:
        model, size, batch, precision = case.split(":")
        r = estimate(model, int(size), int(batch), precision)
        r["with_overhead_gib"] = round(r["estimated_peak_gib"] * margin, 2)
        r["fits_in_40_gb"] = r["with_overhead_gib"] + 0.5 <= 40 * 1e9 / 2**30  # + CUDA context
        print(json.dumps(r), flush=True)
        results.append(r)
    info = {"benchmark": "imaging_memory_estimate", "method": "FakeTensorMode + live-storage byte count (no data, no compute)",
            "machine": {"platform": platform.platform(), "torch": torch.__version__, "cpu_count": os.cpu_count()},
            "note": ("estimated_peak_gib: tensor memory only; with_overhead_gib multiplies it by the overhead measured "
                     "in validation (at least 1.25); fits_in_40_gb adds 0.5 GiB of CUDA context. Not a GPU measurement."),
            "validation": check, "results": results}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(info, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
