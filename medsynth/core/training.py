"""Training machinery shared by the imaging and translation models: one stage-aware loop and its parts.

A model does not write a training loop. It describes each phase of its training as a :class:`Stage`
(hooks: ``setup`` builds and wraps networks and returns what a checkpoint holds, ``step`` runs one
optimisation step, optional ``start``/``preview``/``finish``) and hands the list to
:func:`train_stages`, which owns the loop: seeding every step, resume, checkpoints in one folder per
stage (``RUN/checkpoints/<stage>/``), ``metrics.jsonl`` (a ``stage`` field on every line, steps
numbered across stages), previews, divergence checks and progress bars. A one-network model has one
stage; a latent diffusion model has two or three (autoencoder, diffusion, controlnet).

* :class:`TrainConfig`: the knobs every training run has (steps, batch, accumulation, precision,
  checkpoint/sample/log cadence, device, seed).
* :class:`TrainSession`: device + torchrun-aware distributed context + run directory (rank 0
  writes) + progress bar + ``metrics.jsonl``.
* :class:`Stage`, :func:`train_stages`, :func:`split_steps`: the loop and its hooks.
* :func:`batches`: an endless, seeded, DistributedSampler-aware batch iterator.
* :func:`accumulation`: DDP ``no_sync`` on all but the last micro-batch of an accumulation.
* :class:`~medsynth.core.ema.EMA`: an exponential moving average of a module's weights.

Porting a trainer that still has its own loop (the translation CycleGAN) means moving its loop body
into hooks, nothing else::

    def setup(session):            # what _train did before its loop: build, session.wrap, optimizers,
        ...                        # schedulers, image pools, EMA
        return objects             # the same dict it passes to session.restore/maybe_checkpoint today
    def step(k):
        rng = np.random.default_rng([tc.seed, session.dist.rank, k])
        losses = self._step(session, gens, discs, ...); ema.update(gens, k); sched_g.step(); sched_d.step()
        return losses
    train_stages(session, [Stage("cyclegan", tc.max_steps, setup, step,
                                 preview=lambda path, k: self._write_preview(...), finish=keep_the_generators)])

Its checkpoints then live in ``RUN/checkpoints/cyclegan/``; runs written before keep resuming from
``RUN/checkpoints/`` (a one-stage run falls back to it).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from medsynth.core.config import ConfigModel
from medsynth.core.ema import EMA
from medsynth.core.progress import progress
from medsynth.core.rundir import RunDir
from medsynth.core.runtime import (
    DistributedContext,
    Precision,
    autocast,
    check_stop,
    init_distributed,
    resolve_device,
    seed_everything,
)

if TYPE_CHECKING:
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
        try:
            load_state(objects, ckpt)
        except RuntimeError as exc:  # (torch's "Error(s) in loading state_dict": another architecture)
            from medsynth.core.errors import RunDirectoryError

            first = str(exc).strip().splitlines()[0][:300]
            raise RunDirectoryError(
                f"cannot resume the run in '{self.run.path}': its checkpoint does not fit the networks this config builds "
                f"({first}). Resume with the config the run was started with (its config.yaml, or the same --set "
                "options), or start a new run") from None
        step = int(ckpt["step"])
        self.run.truncate_metrics(step)
        return step

    def steps(self, start: int = 0, *, total: int | None = None, stage: int = 0, desc: str = "train") -> Iterator[int]:
        """Steps ``start+1 .. total`` (``train.max_steps`` by default) with a progress bar on rank 0.

        Before each step torch's generators are seeded with ``step_seed(seed, rank, step, stage)``, so
        a step's random draws (noise, latents, dropout, augmentation) do not depend on where the run
        was started from: a resumed run draws what an uninterrupted one would.
        """
        import torch

        total = self.train.max_steps if total is None else total
        iterable = range(start + 1, total + 1)
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self.is_main:
            self._bar = progress(iterable, total=total, desc=desc, initial=start)
            iterable = self._bar
        for step in iterable:
            check_stop()  # a SIGTERM whose KeyboardInterrupt was swallowed still stops the run here
            torch.manual_seed(step_seed(self.train.seed, self.dist.rank, step, stage))
            yield step

    def log(self, step: int, metrics: Mapping[str, float], *, last: int | None = None, **extra: Any) -> None:
        """Log to metrics.jsonl every ``log_every`` steps (and at step ``last``, default max_steps) and show on the bar.

        ``extra`` fields (e.g. ``stage``, ``stage_step``) are written as they are.
        """
        if self._bar is not None:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in metrics.items()}, refresh=False)
        last = self.train.max_steps if last is None else last
        if step % self.train.log_every == 0 or step == last:
            self.run.log_metrics(step, metrics, elapsed_s=round(time.perf_counter() - self._t0, 2), **extra)

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


def step_seed(seed: int, rank: int, step: int, stage: int = 0) -> int:
    """A seed for the random draws of one training step on one rank (noise, latents, augmentation).

    Seeding each step from (seed, rank, step, stage) makes a resumed run draw what an uninterrupted
    one would. Stage 0 (every one-stage model) keeps the seeds of (seed, rank, step).
    """
    import numpy as np

    entropy = [int(seed), int(rank), int(step)] + ([int(stage)] if stage else [])
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0] >> 1)


# -- the stage-aware loop -------------------------------------------------------------------------
@dataclass
class Stage:
    """One phase of a training run, described by hooks; :func:`train_stages` runs the loop.

    Attributes:
        name: the stage's name: its checkpoints go to ``RUN/checkpoints/<name>/`` and its metrics
            lines carry ``"stage": name``.
        max_steps: optimisation steps of this stage (see :func:`split_steps`).
        setup: ``setup(session) -> objects``: build and wrap the networks (``session.wrap``), make the
            optimizers; return every object a checkpoint must hold (modules, optimizers, schedulers,
            scalers, EMA, image pools: anything with ``state_dict``/``load_state_dict``).
        step: ``step(step) -> metrics``: one optimisation step (stage-local numbering from 1); the
            loop has already seeded torch for it. Every value must be finite.
        start: ``start(first)``: called once after restoring, with the stage-local step the stage
            continues from (0 on a fresh run): position data iterators here.
        preview: ``preview(path, step)``: write a PNG (rank 0 only, every ``train.sample_every`` steps).
        finish: ``finish()``: after the last step, and for a stage that a resumed run finds already
            done (its last checkpoint restored): put the networks in eval mode, keep the weights.
        batches_per_step: batches a step draws per rank (for resuming data iterators).
        diverged_hint: what the divergence error suggests besides resuming.
    """

    name: str
    max_steps: int
    setup: Callable[[TrainSession], Mapping[str, Any]]
    step: Callable[[int], Mapping[str, float]]
    start: Callable[[int], None] | None = None
    preview: Callable[[Path, int], None] | None = None
    finish: Callable[[], None] | None = None
    diverged_hint: str = "lower train.lr or use precision fp32"


class StageCheckpoints:
    """``RUN/checkpoints/<stage>/step_XXXXXXXX.pt`` (stage-local step) and a ``LATEST`` pointer per stage.

    Args:
        run: the run directory.
        stage: the stage's name.
        legacy: also accept checkpoints directly in ``RUN/checkpoints/`` (runs written before stages).
    """

    def __init__(self, run: RunDir, stage: str, *, legacy: bool = False) -> None:
        self.run = run
        self.stage = stage
        self.folder = run.checkpoint_dir / stage
        self.legacy = legacy

    def save(self, state: Mapping[str, Any], step: int, *, keep: int = 2) -> Path | None:
        """Atomically save ``state`` at stage-local ``step``; keep the newest ``keep`` (rank 0 only)."""
        import torch

        from medsynth.core.files import atomic_path, write_text

        if not self.run.is_main:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        dest = self.folder / f"step_{int(step):08d}.pt"
        with atomic_path(dest) as tmp:
            torch.save({"step": int(step), "stage": self.stage, **state}, tmp)
        write_text(self.folder / "LATEST", dest.name + "\n")
        for old in sorted(self.folder.glob("step_*.pt"))[:-keep] if keep > 0 else []:
            old.unlink(missing_ok=True)
        return dest

    def latest(self) -> Path | None:
        """The newest complete checkpoint of this stage (or, for a legacy run, of the run), or None."""
        pointer = self.folder / "LATEST"
        if pointer.is_file():
            cand = self.folder / pointer.read_text().strip()
            if cand.is_file():
                return cand
        found = sorted(self.folder.glob("step_*.pt")) if self.folder.is_dir() else []
        if found:
            return found[-1]
        return self.run.latest_checkpoint() if self.legacy else None

    def load(self, path: Path, *, map_location: Any = "cpu") -> dict[str, Any]:
        """Read one checkpoint (``weights_only``); an unreadable file is a RunDirectoryError naming it."""
        return self.run.load_checkpoint(path, map_location=map_location)


def split_steps(total: int, shares: Mapping[str, float]) -> dict[str, int]:
    """Split ``total`` steps between stages in proportion to ``shares`` (each stage gets at least 1).

    Example:
        >>> split_steps(1000, {"autoencoder": 0.4, "diffusion": 0.6})
        {'autoencoder': 400, 'diffusion': 600}

    Raises:
        ConfigError: fewer steps than stages, or no positive share.
    """
    from medsynth.core.errors import ConfigError

    names = list(shares)
    weight = sum(max(0.0, float(v)) for v in shares.values())
    if weight <= 0:
        raise ConfigError(f"stage shares {dict(shares)} must include a positive value")
    if total < len(names):
        raise ConfigError(f"train.max_steps={total} cannot be split between {len(names)} stages ({', '.join(names)}); "
                          f"give at least {len(names)}")
    out, used = {}, 0
    for i, n in enumerate(names):
        if i == len(names) - 1:
            k = total - used
        else:
            k = int(round(total * max(0.0, float(shares[n])) / weight))
            k = min(max(1, k), total - used - (len(names) - 1 - i))
        out[n] = k
        used += k
    return out


def train_stages(session: TrainSession, stages: Sequence[Stage]) -> dict[str, int]:
    """Run ``stages`` in order: the one training loop of medsynth.

    On a fresh run every stage runs from step 1. With ``session.resume``, each stage's latest
    checkpoint is restored; a stage followed by one that has checkpoints is complete (frozen as
    saved), the first incomplete stage continues from its checkpoint, and the metrics logged after
    that point are dropped so no step appears twice. Metrics lines are numbered across stages
    (``step``) and carry ``stage`` and ``stage_step``. A non-finite metric stops the run with an error
    naming the stage, the step and the values.

    Returns:
        Steps trained per stage (as saved), e.g. ``{"autoencoder": 400, "diffusion": 600}``.

    Raises:
        RunDirectoryError: a metric became NaN/inf, or a checkpoint does not fit the stage's objects.
    """
    from medsynth.core.errors import RunDirectoryError

    names = [s.name for s in stages]
    if len(set(names)) != len(names):
        raise ValueError(f"stage names must be unique, got {names}")
    stores = [StageCheckpoints(session.run, s.name, legacy=len(stages) == 1) for s in stages]
    found = [store.latest() if session.resume else None for store in stores]
    last_with_ckpt = max((i for i, f in enumerate(found) if f is not None), default=-1)
    tc = session.train
    done: dict[str, int] = {}
    offset = 0
    truncated = not session.resume
    for i, stage in enumerate(stages):
        objects = stage.setup(session)
        start = 0
        if found[i] is not None:
            state = stores[i].load(found[i], map_location=session.device)
            load_state(objects, state)
            start = int(state["step"])
        frozen = i < last_with_ckpt  # a later stage has begun: this one is complete as saved
        end = start if frozen else max(start, stage.max_steps)
        if stage.start is not None:
            stage.start(start)
        if not truncated and end > start:
            session.run.truncate_metrics(offset + start)
            truncated = True
        for step in session.steps(start, total=end, stage=i, desc=stage.name):
            metrics = dict(stage.step(step))
            bad = {k: v for k, v in metrics.items() if not math.isfinite(float(v))}
            if bad:
                raise RunDirectoryError(
                    f"stage '{stage.name}', step {step}: {sorted(bad)} became {list(bad.values())}; training diverged. "
                    f"{stage.diverged_hint[:1].upper() + stage.diverged_hint[1:]}, or resume from the last checkpoint "
                    f"in {stores[i].folder}"
                )
            session.log(offset + step, metrics, last=offset + end, stage=stage.name, stage_step=step)
            every = tc.sample_every
            if every and step % every == 0 and session.is_main and stage.preview is not None:
                stage.preview(session.run.path / "previews" / f"{stage.name}_step_{step:08d}.png", step)
            if step % tc.checkpoint_every == 0 or step == end:
                stores[i].save(collect_state(objects), step)
        if stage.finish is not None:
            stage.finish()
        done[stage.name] = end
        offset += end
    if session._bar is not None:
        session._bar.close()
        session._bar = None
    return done


def accumulation(module: nn.Module, micro_step: int, n_micro: int) -> contextlib.AbstractContextManager:
    """Skip DDP's gradient all-reduce on all but the last micro-batch of an accumulation."""
    if micro_step < n_micro - 1 and hasattr(module, "no_sync"):
        return module.no_sync()
    return contextlib.nullcontext()


__all__ = [
    "EMA",
    "Stage",
    "StageCheckpoints",
    "TrainConfig",
    "TrainSession",
    "accumulation",
    "batches",
    "collect_state",
    "load_state",
    "split_steps",
    "step_seed",
    "train_stages",
    "unwrap",
]
