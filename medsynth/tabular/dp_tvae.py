"""DP-TVAE: a TVAE-style variational autoencoder for tables, trained with DP-SGD (opacus).

Encoder and decoder are MLPs over the one-hot layout (:class:`~medsynth.tabular.encoding.OneHotLayout`);
the decoder gives, per number, a tanh mean and a log standard deviation, and logits per one-hot
block. The loss per row is ``loss_factor * (-log-likelihood) + KL``. The whole VAE is trained with
DP-SGD (Poisson sampling, per-sample clipping with ghost clipping, noise calibrated for the planned
steps); sampling runs the decoder on N(0, I) draws and never touches the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import Field
from torch import nn

from medsynth.core.config import ConfigModel
from medsynth.privacy.noise import Generators
from medsynth.tabular.base import TabularSynthesizer
from medsynth.tabular.encoding import Frame, OneHotLayout
from medsynth.tabular.neural import DPTrainConfig, _gen_for, mlp, sample_outputs, span_log_likelihood, train_model


class DPTVAEConfig(ConfigModel):
    """DP-TVAE hyperparameters.

    Attributes:
        latent_dim: size of the latent code.
        hidden: widths of the encoder's hidden layers (the decoder mirrors them).
        loss_factor: weight of the reconstruction term against the KL term.
        min_sigma: floor of a number's decoder standard deviation (on the [-1, 1] scale). TVAE uses
            0.01; under DP-SGD's per-sample clipping a small floor lets the 1/sigma^2 terms of the
            numbers swamp the categorical columns' gradients, so the default is higher.
        train: optimisation and DP-SGD settings.

    Why the defaults are small. DP-SGD adds noise of the same norm to every parameter, so the noise in a
    step grows with the square root of the model's size while the clipped signal does not. TVAE's own
    sizes (hidden [128, 128], latent 32: ~45k parameters, batches of 256, 20 epochs) learned only the
    marginals at epsilon 1 and 4 on flchain: the decoder ignored its latent code (synthetic correlation
    of age and death 0.03, real 0.54) and TSTR AUROC was 0.39-0.52 (a model that learned nothing scores 0.5);
    even without noise (epsilon 1000) those 430 steps reached only 0.70. A small VAE (hidden [32],
    latent 4: ~2k parameters) with batches of 1,024 (less noise per averaged gradient), lr 0.01 and
    150 epochs reaches 0.74-0.80 at epsilon 1 (4 runs) and 0.80-0.82 at epsilon 10 (4 runs) on flchain
    (benchmarks/results/tabular_quality.json, tabular_dp_tvae_sizes.json). Give wider layers only with a larger budget or many more rows.
    """

    latent_dim: int = Field(4, ge=1)
    hidden: list[int] = Field(default_factory=lambda: [32])
    loss_factor: float = Field(2.0, gt=0)
    min_sigma: float = Field(0.1, gt=0, le=1)
    train: DPTrainConfig = Field(default_factory=lambda: DPTrainConfig(epochs=150, batch_size=1024, lr=1e-2))


class TabularVAE(nn.Module):
    """Encoder + decoder. ``forward(x)`` returns ``[decoder outputs | log sigmas | mu | logvar]``."""

    def __init__(self, layout: OneHotLayout, latent_dim: int, hidden: list[int]) -> None:
        super().__init__()
        self.dim, self.latent_dim, self.n_num = layout.dim, latent_dim, len(layout.num_spans)
        self.encoder = mlp([layout.dim, *hidden, 2 * latent_dim])
        self.decoder = mlp([latent_dim, *reversed(hidden), layout.dim + self.n_num])

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode latents into the output means and the log-scales of the numeric spans."""
        out = self.decoder(z)
        return out[:, : self.dim], out[:, self.dim :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        mu, logvar = h[:, : self.latent_dim], h[:, self.latent_dim :].clamp(-10, 10)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return torch.cat([self.decoder(z), mu, logvar], dim=1)


class VAELoss(nn.Module):
    """Per-row ``loss_factor * NLL + KL`` (``reduction``: "mean" or "none", as opacus' ghost clipping needs)."""

    def __init__(self, layout: OneHotLayout, latent_dim: int, loss_factor: float, min_sigma: float = 0.01) -> None:
        super().__init__()
        self.layout, self.latent_dim, self.loss_factor, self.min_sigma = layout, latent_dim, loss_factor, min_sigma
        self.reduction = "mean"

    def forward(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        d, k, n_num = self.layout.dim, self.latent_dim, len(self.layout.num_spans)
        rec, log_sigma = out[:, :d], out[:, d : d + n_num]
        mu, logvar = out[:, d + n_num : d + n_num + k], out[:, d + n_num + k :]
        nll = -span_log_likelihood(self.layout, rec, x, log_sigma, min_sigma=self.min_sigma)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)
        per_row = self.loss_factor * nll + kl
        return per_row if self.reduction == "none" else per_row.mean()


class DPTVAE(TabularSynthesizer):
    """TVAE-style VAE trained with DP-SGD. ``epsilon: null``/``inf`` trains the same model without DP
    (labelled non-private), the baseline for DP's cost."""

    name: ClassVar[str] = "dp-tvae"
    private: ClassVar[bool] = True
    allows_non_private: ClassVar[bool] = True
    Config: ClassVar[type[ConfigModel]] = DPTVAEConfig
    config: DPTVAEConfig

    def _build(self) -> None:
        from medsynth.core.runtime import resolve_device

        self.layout = OneHotLayout(self.codec)  # type: ignore[arg-type]
        self.torch_device = resolve_device(self.device)
        self.model = TabularVAE(self.layout, self.config.latent_dim, self.config.hidden).to(self.torch_device)

    def _fit_frame(self, frame: Frame, gens: Generators) -> None:
        self._build()
        x = self.layout.encode(frame)
        crit = VAELoss(self.layout, self.config.latent_dim, self.config.loss_factor, self.config.min_sigma)
        info = train_model(model=self.model, criterion=crit, data=x, train=self.config.train, private=self.is_private,
                           ledger=self.ledger, n_rows=self.rows_noisy or len(x),  # type: ignore[arg-type]
                           device=self.torch_device, what="dp-tvae" if self.is_private else "tvae (no DP)",
                           on_log=getattr(self, "on_log", None), checkpoint=self._checkpoint,
                           resume=(self.resume_state or {}).get("train"))
        self.meta.update(info)
        self.model.eval()

    @torch.no_grad()
    def _sample_frame(self, n: int, rng: np.random.Generator) -> Frame:
        gen = _gen_for(self.torch_device, rng)
        values, choices = [], {}
        parts = []
        for start in range(0, n, 65536):
            m = min(65536, n - start)
            z = torch.randn((m, self.config.latent_dim), generator=gen, device=self.torch_device)
            out, log_sigma = self.model.decode(z)
            v, c = sample_outputs(self.layout, out, log_sigma, gen, min_sigma=self.config.min_sigma)
            parts.append((v, c))
        values = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, self.layout.dim), np.float32)
        for key in (parts[0][1] if parts else {f"{s.kind}:{s.column}": None for s in self.layout.softmax_spans}):
            choices[key] = np.concatenate([p[1][key] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
        return self.layout.decode(values, choices)

    def _save_state(self, folder: Path) -> dict[str, Any]:
        torch.save(self.model.state_dict(), folder / "weights.pt")
        return {"weights.pt": "TabularVAE state_dict (torch.load weights_only=True)"}

    def _load_state(self, folder: Path, device: str) -> None:
        self._build()
        state = torch.load(folder / "weights.pt", map_location=self.torch_device, weights_only=True)
        self.model.load_state_dict(state)
        self.model.eval()


__all__ = ["DPTVAE", "DPTVAEConfig", "TabularVAE", "VAELoss"]
