"""Training machinery shared by the imaging and translation models.

Not a framework: a few composable pieces a model's own ``fit`` uses.

* :class:`TrainConfig`: the knobs every training run has (steps, batch, accumulation, precision,
  checkpoint/sample/log cadence, device, seed).
* :class:`TrainSession`: device + torchrun-aware distributed context + run directory (rank 0
  writes) + resume from the last checkpoint + progress bar + ``metrics.jsonl``.
* :func:`batches`: an endless, seeded, DistributedSampler-aware batch iterator.
* :func:`accumulation`: DDP ``no_sync`` on all but the last micro-batch of an accumulation.
* :class:`EMA`: an exponential moving average of a module's weights (for GAN generators).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from medsynth.core.config import ConfigModel
from medsynth.core.progress import progress
from medsynth.core.rundir import RunDir
from medsynth.core.runtime import (
    DistributedContext,
    Precision,
    autocast,
    init_distributed,
    resolve_device,
    seed_everything,
)

if TYPE_CHECKING:
    import torch
    from torch import nn


class TrainConfig(ConfigModel):
    """Knobs shared by every training run.

    Attributes:
        max_steps: optimisation steps (each may accumulate several micro-batches).
        batch_size: volumes per micro-batch per process.
        grad_accum_steps: micro-batches per optimisation step.
        lr: base learning rate (models may scale it per network).
        precision: "auto" = bf16 autocast on CUDA, fp32 on CPU.
        checkpoint_every: steps between checkpoints (a crash loses at most this many).
        sample_every: steps between PNG preview slices (0 = never).
        log_every: steps between metrics.jsonl lines.
        device: "auto", "cpu", "cuda", "cuda:N".
        seed: global seed: each epoch's data order comes from (seed, epoch), sharded by rank, and each
            step's random draws from step_seed(seed, rank, step) (see TrainSession.steps).
        deterministic: force deterministic kernels (slower on GPU).
        num_threads: CPU threads for torch (None keeps torch's default).
    """

    max_steps: int = Field(1000, ge=1)
    batch_size: int = Field(2, ge=1)
    grad_accum_steps: int = Field(1, ge=1)
    lr: float = Field(2e-4, gt=0)
    precision: Precision = "auto"
    checkpoint_every: int = Field(200, ge=1)
    sample_every: int = Field(0, ge=0)
    log_every: int = Field(10, ge=1)
    device: str = "auto"
    seed: int = Field(0, ge=0)
    deterministic: bool = False
    num_threads: int | None = Field(None, ge=1)


class TrainSession:
    """Everything around a training loop except the model's own step.

    Example:
        >>> session = TrainSession(cfg.train, out, resume=resume, force=force, config=cfg)
        >>> start = session.restore({"gen": gen, "opt_g": opt_g})
        >>> for step in session.steps(start):
        ...     losses = my_step(next(data))
        ...     session.log(step, losses)
        ...     session.maybe_checkpoint(step, {"gen": gen, "opt_g": opt_g})
        >>> session.close({"gen": gen, "opt_g": opt_g})
    """

    def __init__(
        self,
        train: TrainConfig,
        out: str | Path,
        *,
        config: Any = None,
        resume: bool = False,
        force: bool = False,
        command: str | None = None,
    ) -> None:
        from medsynth.core.runtime import set_threads

        set_threads(train.num_threads)
        self.train = train
        self.device = resolve_device(train.device)
        self.dist: DistributedContext = init_distributed(self.device)
        seed_everything(train.seed + self.dist.rank, deterministic=train.deterministic)
        self.run = self._create_run(out, force=force, resume=resume, command=command)
        if config is not None:
            self.run.write_config(config)
        self.resume = resume
        self._bar = None
        self._t0 = time.perf_counter()

    def _create_run(self, out: str | Path, *, force: bool, resume: bool, command: str | None) -> RunDir:
        """Rank 0 creates the run directory; the others wait and share its outcome (or its error)."""
        from medsynth.core.errors import RunDirectoryError

        error: str | None = None
        run: RunDir | None = None
        if self.dist.is_main:
            try:
                run = RunDir.create(out, force=force, resume=resume, command=command)
            except RunDirectoryError as exc:
                error = str(exc)
        if self.dist.is_distributed:
            import torch.distributed as dist

            box = [error]
            dist.broadcast_object_list(box, src=0)
            error = box[0]
        if error is not None:
            raise RunDirectoryError(error)
        return run if run is not None else RunDir(out, is_main=False)

    @property
    def is_main(self) -> bool:
        """True on the process that writes (rank 0)."""
        return self.dist.is_main

    def autocast(self) -> contextlib.AbstractContextManager:
        """The mixed-precision context of this run (bf16 on CUDA when enabled, a no-op on CPU)."""
        return autocast(self.device, self.train.precision)

    def wrap(self, module: nn.Module, **ddp_kwargs: Any) -> nn.Module:
        """Move to the device and wrap in DistributedDataParallel when running under torchrun."""
        module = module.to(self.device)
        if not self.dist.is_distributed:
            return module
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids, **ddp_kwargs)

    def restore(self, objects: Mapping[str, Any]) -> int:
        """Load the latest checkpoint into ``objects`` when resuming; return the step to start at."""
        if not self.resume:
            return 0
        ckpt = self.run.load_checkpoint(map_location=self.device)
        load_state(objects, ckpt)
        step = int(ckpt["step"])
        self.run.truncate_metrics(step)
        return step

    def steps(self, start: int = 0) -> Iterator[int]:
        """Steps ``start+1 .. max_steps`` with a progress bar on rank 0 (quiet in CI).

        Before each step torch's generators are seeded with ``step_seed(seed, rank, step)``, so a
        step's random draws (noise, latents, dropout, augmentation) do not depend on where the run
        was started from: a resumed run draws what an uninterrupted one would.
        """
        import torch

        total = self.train.max_steps
        iterable = range(start + 1, total + 1)
        if self.is_main:
            self._bar = progress(iterable, total=total, desc="train", initial=start)
            iterable = self._bar
        for step in iterable:
            torch.manual_seed(step_seed(self.train.seed, self.dist.rank, step))
            yield step

    def log(self, step: int, metrics: Mapping[str, float]) -> None:
        """Log to metrics.jsonl every ``log_every`` steps (and the last) and show on the bar."""
        if self._bar is not None:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in metrics.items()}, refresh=False)
        if step % self.train.log_every == 0 or step == self.train.max_steps:
            self.run.log_metrics(step, metrics, elapsed_s=round(time.perf_counter() - self._t0, 2))

    def maybe_checkpoint(self, step: int, objects: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Path | None:
        """Checkpoint every ``checkpoint_every`` steps and at the last step."""
        if step % self.train.checkpoint_every == 0 or step == self.train.max_steps:
            return self.run.save_checkpoint({**collect_state(objects), **(extra or {})}, step)
        return None

    def close(self, status: str = "completed") -> None:
        """Close the progress bar, mark the run ``status`` and wait for the other ranks."""
        if self._bar is not None:
            self._bar.close()
        self.run.finish(status)  # type: ignore[arg-type]
        if self.dist.is_distributed:
            import torch.distributed as dist

            dist.barrier()


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside DDP (or itself)."""
    return getattr(module, "module", module)


def collect_state(objects: Mapping[str, Any]) -> dict[str, Any]:
    """``{name: obj.state_dict()}`` for modules, optimizers, schedulers, scalers, EMA."""
    return {name: unwrap(obj).state_dict() for name, obj in objects.items() if obj is not None}


def load_state(objects: Mapping[str, Any], state: Mapping[str, Any]) -> None:
    """Load ``state[name]`` into each object; a missing entry is an error naming it."""
    from medsynth.core.errors import RunDirectoryError

    missing = [n for n, o in objects.items() if o is not None and n not in state]
    if missing:
        raise RunDirectoryError(f"checkpoint lacks {missing}; it was written by a different model or config")
    for name, obj in objects.items():
        if obj is not None:
            unwrap(obj).load_state_dict(state[name])


def batches(dataset: Any, batch_size: int, dist: DistributedContext, *, seed: int = 0, drop_last: bool = True,
            skip: int = 0) -> Iterator[Any]:
    """Endless shuffled batches; each rank gets its own shard (DistributedSampler) every epoch.

    The order is a pure function of ``seed``, the epoch and the rank (epoch e is DistributedSampler's
    permutation for ``seed + e``, also with one process), so ``skip`` = the batches this rank already
    drew makes a resumed run see exactly the batches an uninterrupted one would, without reading
    the skipped ones.
    """
    from torch.utils.data import DistributedSampler, default_collate

    from medsynth.core.errors import DataValidationError

    world = max(1, dist.world_size)
    sampler = DistributedSampler(dataset, num_replicas=world, rank=dist.rank if dist.is_distributed else 0,
                                 shuffle=True, seed=seed, drop_last=True)
    per_rank = len(sampler)
    if per_rank == 0:
        raise DataValidationError(
            f"{len(dataset)} training item(s) for {world} processes: every rank needs at least one; "
            "add data or start fewer processes (torchrun --nproc_per_node)"
        )
    bs = min(batch_size, per_rank)
    per_epoch = per_rank // bs if drop_last else -(-per_rank // bs)
    epoch, offset = divmod(max(0, skip), per_epoch)
    while True:
        sampler.set_epoch(epoch)
        order = list(sampler)
        for b in range(offset, per_epoch):
            yield default_collate([dataset[i] for i in order[b * bs:(b + 1) * bs]])
        offset = 0
        epoch += 1


def step_seed(seed: int, rank: int, step: int) -> int:
    """A seed for the random draws of one training step on one rank (noise, latents, augmentation).

    Seeding each step from (seed, rank, step) makes a resumed run draw what an uninterrupted one would.
    """
    import numpy as np

    return int(np.random.SeedSequence([int(seed), int(rank), int(step)]).generate_state(1, dtype=np.uint64)[0] >> 1)


def accumulation(module: nn.Module, micro_step: int, n_micro: int) -> contextlib.AbstractContextManager:
    """Skip DDP's gradient all-reduce on all but the last micro-batch of an accumulation."""
    if micro_step < n_micro - 1 and hasattr(module, "no_sync"):
        return module.no_sync()
    return contextlib.nullcontext()


class EMA:
    """Exponential moving average of a module's parameters and buffers (kept on its device).

    Args:
        module: the network to track (unwrapped from DDP automatically).
        decay: weight of the old average per update (0.999 typical).

    ``update(module, step)`` warms up: the decay at step t is min(decay, (1 + t) / (10 + t)), so the
    average forgets the random initial weights in short runs (at t = 150 it spans ~18 steps) and is
    the full ``decay`` average from t ~ 9000 on (0.9978 at t = 4000).
    """

    def __init__(self, module: nn.Module, decay: float = 0.999) -> None:
        import copy

        import torch

        self.decay = decay
        self.shadow = copy.deepcopy(unwrap(module)).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)
        self._torch = torch

    def update(self, module: nn.Module, step: int | None = None) -> None:
        """Move the average towards ``module``'s weights (with warm-up when ``step`` is given)."""
        torch = self._torch
        decay = self.decay if step is None else min(self.decay, (1.0 + step) / (10.0 + step))
        with torch.no_grad():
            src = unwrap(module)
            for s, p in zip(self.shadow.parameters(), src.parameters()):
                s.lerp_(p.detach(), 1.0 - decay)
            for s, b in zip(self.shadow.buffers(), src.buffers()):
                s.copy_(b)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The averaged weights, for a checkpoint."""
        return self.shadow.state_dict()

    def load_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Restore the averaged weights from a checkpoint."""
        self.shadow.load_state_dict(state)


__all__ = [
    "EMA",
    "TrainConfig",
    "TrainSession",
    "accumulation",
    "batches",
    "collect_state",
    "load_state",
    "step_seed",
    "unwrap",
]
