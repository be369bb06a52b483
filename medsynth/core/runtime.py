"""Runtime: device resolution, mixed precision, seeding, and torchrun-aware distributed setup.

CPU and GPU code differ in one place: :func:`autocast` (bf16 on CUDA, a no-op on CPU). Distributed
training is started by ``torchrun``; :func:`init_distributed` reads its environment (RANK,
WORLD_SIZE, LOCAL_RANK), picks NCCL on CUDA and gloo on CPU, and does nothing when not launched by
torchrun.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from medsynth.core.errors import ConfigError

if TYPE_CHECKING:
    import torch

DeviceName = str  # "auto", "cpu", "cuda", "cuda:1", "mps"


def resolve_device(name: DeviceName = "auto") -> torch.device:
    """Turn a config's ``device`` field into a torch.device.

    ``"auto"`` picks CUDA when present (the local rank's GPU under torchrun), else CPU.

    Raises:
        ConfigError: for an unknown name, or CUDA asked for on a machine without it.
    """
    import torch

    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)) % torch.cuda.device_count())
        return torch.device("cpu")
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        raise ConfigError(f"device '{name}' is not a device; use 'auto', 'cpu', 'cuda' or 'cuda:N'") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device '{name}' was asked for but this machine has no CUDA GPU (torch "
                f"{torch.__version__}); use device 'auto' or 'cpu'"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(
                f"device '{name}': only {torch.cuda.device_count()} CUDA device(s) are visible"
            )
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"device '{name}' is not available here; use 'auto' or 'cpu'")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"device '{name}' is not supported; use 'auto', 'cpu' or 'cuda'")
    return dev


Precision = Literal["auto", "bf16", "fp16", "fp32"]


def autocast(device: torch.device, precision: Precision = "auto") -> contextlib.AbstractContextManager:
    """The one mixed-precision helper: bf16 autocast on CUDA by default, a no-op on CPU.

    Args:
        device: where the computation runs.
        precision: "auto" (bf16 on CUDA, fp32 elsewhere), "bf16", "fp16" (CUDA only) or "fp32".
    """
    import torch

    if device.type == "cuda" and precision != "fp32":
        return torch.autocast(device_type="cuda", dtype=torch.float16 if precision == "fp16" else torch.bfloat16)
    if device.type == "cpu" and precision == "bf16":  # asked for explicitly: CPU bf16 autocast
        return torch.autocast(device_type="cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    """Seed python, numpy and torch (all devices); optionally force deterministic kernels.

    Deterministic mode sets ``torch.use_deterministic_algorithms(True)`` and the cuBLAS workspace
    variable it needs; some CUDA kernels become slower or raise if they have no deterministic version.
    """
    import torch

    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed {seed!r} must be a non-negative integer")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


@contextlib.contextmanager
def torch_rng(seed: int | None) -> Iterator[torch.Generator | None]:
    """A torch.Generator seeded with ``seed`` (``None`` when no seed: use the global RNG)."""
    import torch

    if seed is None:
        yield None
        return
    gen = torch.Generator()
    gen.manual_seed(int(seed))
    yield gen


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands in a (possibly single-process) run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def is_distributed(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes files (run directory, checkpoints, samples); the others only compute."""
        return self.rank == 0


def launched_by_torchrun() -> bool:
    """True when the environment variables torchrun sets are present."""
    return all(k in os.environ for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))


def init_distributed(device: torch.device | None = None) -> DistributedContext:
    """Join the process group that torchrun prepared; a no-op single-process context otherwise.

    Picks NCCL when ``device`` is CUDA and gloo otherwise, and pins the local GPU. Safe to call twice.
    The group is left at interpreter exit (an ``atexit`` hook, a no-op when the caller already left it):
    a process that exits holding a gloo/NCCL group can abort in the backend's threads ("terminate
    called without an active exception"), which torchrun reports as a failed run after the work is done.
    """
    import torch
    import torch.distributed as dist

    if not launched_by_torchrun():
        return DistributedContext()
    rank, world, local = (int(os.environ[k]) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    use_cuda = device is not None and device.type == "cuda"
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(local % torch.cuda.device_count())
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
        atexit.register(cleanup_distributed)
    return DistributedContext(rank=rank, world_size=world, local_rank=local, backend=backend)


def cleanup_distributed() -> None:
    """Leave the process group, if one was joined."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier(ctx: DistributedContext) -> None:
    """Wait for every rank (no-op when single-process)."""
    if ctx.is_distributed:
        import torch.distributed as dist

        dist.barrier()


def set_threads(n: int | None) -> None:
    """Set torch's intra-op CPU threads (``None`` keeps torch's default)."""
    import torch

    if n is not None:
        if n < 1:
            raise ConfigError(f"threads {n} must be >= 1")
        torch.set_num_threads(n)


__all__ = [
    "DistributedContext",
    "autocast",
    "barrier",
    "cleanup_distributed",
    "init_distributed",
    "launched_by_torchrun",
    "resolve_device",
    "seed_everything",
    "set_threads",
    "torch_rng",
]


#: Why the process was asked to stop (SIGTERM), or None. The CLI's handler raises KeyboardInterrupt at once
#: *and* records it here: a signal handler's exception can be swallowed where Python cannot raise it (a
#: finalizer or weakref callback running at that instant prints "Exception ignored" and goes on), and a
#: training run did go on for 6,500 steps after a ``kill``. Training loops call :func:`check_stop` each step.
_STOP_REQUESTED: str | None = None


def request_stop(reason: str) -> None:
    """Record that the process must stop (called from a signal handler)."""
    global _STOP_REQUESTED
    _STOP_REQUESTED = reason


def clear_stop() -> None:
    """Forget a stop request (the CLI's entry point does it when the command returns)."""
    global _STOP_REQUESTED
    _STOP_REQUESTED = None


def check_stop() -> None:
    """Raise KeyboardInterrupt (the run is then marked failed) when a stop was requested."""
    if _STOP_REQUESTED is not None:
        raise KeyboardInterrupt(_STOP_REQUESTED)
