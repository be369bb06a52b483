"""Exponential moving average of a module's weights (GAN generators, CycleGAN generators)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from torch import nn


def _unwrap(module: nn.Module) -> nn.Module:
    return getattr(module, "module", module)


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
        self.shadow = copy.deepcopy(_unwrap(module)).eval()
        for p in self.shadow.parameters():
            p.requires_grad_(False)
        self._torch = torch

    def update(self, module: nn.Module, step: int | None = None) -> None:
        """Move the average towards ``module``'s weights (with warm-up when ``step`` is given)."""
        torch = self._torch
        decay = self.decay if step is None else min(self.decay, (1.0 + step) / (10.0 + step))
        with torch.no_grad():
            src = _unwrap(module)
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


__all__ = ["EMA"]
