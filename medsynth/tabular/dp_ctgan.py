"""DP-CTGAN: a CTGAN-style conditional GAN whose discriminator is trained with DP-SGD.

Only the discriminator sees real rows, so only it is trained privately (opacus: Poisson sampling,
per-sample clipping, ghost clipping, calibrated noise); the generator learns from the discriminator's
outputs on its own samples, which is post-processing. As in CTGAN, the generator takes a
conditional vector (one category of one discrete column) and is pushed to honour it; unlike
CTGAN's training-by-sampling (which picks real rows by category, outside what DP-SGD accounts for),
a real row is paired with its *own* category of a randomly chosen column, and the generator's
conditions are drawn from category frequencies measured with the Gaussian mechanism (a small,
ledgered part of the budget). Each private "sample" is a (real row, fake row) pair scored together
(a ``[B, 2, features]`` input), so one row's influence is clipped as one unit. No BatchNorm, no
PacGAN, no gradient penalty: they are not per-sample operations.
"""

from __future__ import annotations

import math
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
from medsynth.tabular.neural import DPTrainConfig, _gen_for, mlp, sample_outputs, train_model


class DPCTGANConfig(ConfigModel):
    """DP-CTGAN hyperparameters.

    Attributes:
        embedding_dim: size of the generator's noise input.
        generator_dim: widths of the generator's residual layers.
        discriminator_dim: widths of the discriminator's hidden layers.
        generator_lr: the generator's Adam learning rate (``train.lr`` is the discriminator's).
        dropout: discriminator dropout.
        condition_budget: share of the budget spent measuring category frequencies for the conditions.
        train: optimisation and DP-SGD settings (for the discriminator).
    """

    embedding_dim: int = Field(64, ge=1)
    generator_dim: list[int] = Field(default_factory=lambda: [128, 128])
    discriminator_dim: list[int] = Field(default_factory=lambda: [128, 128])
    generator_lr: float = Field(2e-4, gt=0)
    dropout: float = Field(0.25, ge=0, lt=1)
    condition_budget: float = Field(0.05, ge=0, lt=1)
    train: DPTrainConfig = Field(default_factory=lambda: DPTrainConfig(epochs=30, batch_size=256, lr=2e-4))


class Residual(nn.Module):
    """CTGAN's residual block (Linear + ReLU, output concatenated to the input), without BatchNorm."""

    def __init__(self, i: int, o: int) -> None:
        super().__init__()
        self.fc = nn.Linear(i, o)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.relu(self.fc(x)), x], dim=1)


class Generator(nn.Module):
    """(noise, condition) -> pre-activation outputs over the one-hot layout."""

    def __init__(self, in_dim: int, dims: list[int], out_dim: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        d = in_dim
        for h in dims:
            blocks.append(Residual(d, h))
            d += h
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(d, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class PairLoss(nn.Module):
    """Per-pair discriminator loss ``softplus(-D(real)) + softplus(D(fake))`` (reduction as opacus needs)."""

    def __init__(self) -> None:
        super().__init__()
        self.reduction = "mean"

    def forward(self, out: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        per = nn.functional.softplus(-out[:, 0, 0]) + nn.functional.softplus(out[:, 1, 0])
        return per if self.reduction == "none" else per.mean()


class DPCTGAN(TabularSynthesizer):
    """CTGAN-style conditional GAN with a DP-SGD discriminator. ``epsilon: null`` trains without DP."""

    name: ClassVar[str] = "dp-ctgan"
    private: ClassVar[bool] = True
    allows_non_private: ClassVar[bool] = True
    Config: ClassVar[type[ConfigModel]] = DPCTGANConfig
    config: DPCTGANConfig

    def _build(self) -> None:
        from medsynth.core.runtime import resolve_device

        self.layout = OneHotLayout(self.codec)  # type: ignore[arg-type]
        self.torch_device = resolve_device(self.device)
        self.cond_spans = [s for s in self.layout.spans if s.kind == "cat"]
        self.cond_dim = sum(s.width for s in self.cond_spans)
        cfg = self.config
        self.generator = Generator(cfg.embedding_dim + self.cond_dim, cfg.generator_dim, self.layout.dim).to(self.torch_device)
        self.discriminator = mlp([self.layout.dim + self.cond_dim, *cfg.discriminator_dim, 1],
                                 act=lambda: nn.LeakyReLU(0.2), dropout=cfg.dropout).to(self.torch_device)
        self.cond_probs = torch.zeros(self.cond_dim, device=self.torch_device)

    # -- conditions ----------------------------------------------------------------------------------
    def _measure_frequencies(self, x: np.ndarray, rng: np.random.Generator) -> None:
        counts = x[:, [i for s in self.cond_spans for i in range(s.start, s.start + s.width)]].sum(axis=0)
        if self.is_private and self.cond_spans:
            rho = self.config.condition_budget * self.rho_left()
            sigma = math.sqrt(len(self.cond_spans) / (2 * rho))  # one row adds 1 to each column's histogram
            counts = counts + rng.normal(0, sigma, counts.shape)
            self.ledger.record("category frequencies of the discrete columns (generator conditions)",  # type: ignore[union-attr]
                               "Gaussian mechanism (zCDP)", rho=rho, columns=[s.column for s in self.cond_spans], sigma=sigma)
        probs = np.zeros(self.cond_dim)
        off = 0
        for s in self.cond_spans:
            c = np.maximum(counts[off : off + s.width], 0.0)
            probs[off : off + s.width] = c / c.sum() if c.sum() > 0 else 1.0 / s.width
            off += s.width
        self.cond_probs = torch.tensor(probs, dtype=torch.float32, device=self.torch_device)

    def _fake_conditions(self, m: int, gen: torch.Generator | None = None) -> torch.Tensor:
        cond = torch.zeros((m, self.cond_dim), device=self.torch_device)
        if not self.cond_spans:
            return cond
        which = torch.randint(0, len(self.cond_spans), (m,), generator=gen, device=self.torch_device)
        off = 0
        for j, s in enumerate(self.cond_spans):
            rows = (which == j).nonzero().squeeze(1)
            if rows.numel():
                p = self.cond_probs[off : off + s.width]
                cat = torch.multinomial(p, rows.numel(), replacement=True, generator=gen)
                cond[rows, off + cat] = 1.0
            off += s.width
        return cond

    def _real_conditions(self, xb: torch.Tensor) -> torch.Tensor:
        cond = torch.zeros((xb.shape[0], self.cond_dim), device=xb.device)
        if not self.cond_spans:
            return cond
        which = torch.randint(0, len(self.cond_spans), (xb.shape[0],), device=xb.device)
        off = 0
        for j, s in enumerate(self.cond_spans):
            rows = (which == j).nonzero().squeeze(1)
            cond[rows, off : off + s.width] = xb[rows, s.start : s.start + s.width]
            off += s.width
        return cond

    def _activate(self, raw: torch.Tensor) -> torch.Tensor:
        parts = []
        for s in self.layout.spans:
            block = raw[:, s.start : s.start + s.width]
            parts.append(torch.tanh(block) if s.kind == "num" else nn.functional.gumbel_softmax(block, tau=0.2))
        return torch.cat(parts, dim=1)

    # -- fit -----------------------------------------------------------------------------------------
    def _fit_frame(self, frame: Frame, gens: Generators) -> None:
        self._build()
        x = self.layout.encode(frame)
        g_opt = torch.optim.Adam(self.generator.parameters(), lr=self.config.generator_lr, betas=(0.5, 0.9))
        self._g_opt = g_opt
        if self.resume_state is not None:  # the condition frequencies were measured (and paid for) already
            extra = self.resume_state["extra"]
            self.cond_probs = extra["cond_probs"].to(self.torch_device)
            self.generator.load_state_dict(extra["generator"])
            g_opt.load_state_dict(extra["generator_optimizer"])
        else:
            self._measure_frequencies(x, gens.noise)
        emb = self.config.embedding_dim

        def d_step(model: Any, crit: Any, xb: torch.Tensor) -> Any:
            b = xb.shape[0]
            real = torch.cat([xb, self._real_conditions(xb)], dim=1)
            cond = self._fake_conditions(b)
            with torch.no_grad():
                fake = self._activate(self.generator(torch.cat([torch.randn(b, emb, device=xb.device), cond], dim=1)))
            pair = torch.stack([real, torch.cat([fake, cond], dim=1)], dim=1)
            return crit(model(pair), xb)

        def g_step(model: Any) -> None:
            hooks = hasattr(model, "disable_hooks")
            if hooks:
                model.disable_hooks()
            for p in self.discriminator.parameters():
                p.requires_grad_(False)
            b = self.config.train.batch_size
            cond = self._fake_conditions(b)
            raw = self.generator(torch.cat([torch.randn(b, emb, device=self.torch_device), cond], dim=1))
            fake = self._activate(raw)
            loss = nn.functional.softplus(-self.discriminator(torch.cat([fake, cond], dim=1))).mean()
            off = 0
            for s in self.cond_spans:  # CTGAN's condition loss: generate the asked-for category
                mask = cond[:, off : off + s.width].sum(dim=1) > 0
                if mask.any():
                    target = cond[mask, off : off + s.width].argmax(dim=1)
                    loss = loss + nn.functional.cross_entropy(raw[mask, s.start : s.start + s.width], target) * mask.float().mean()
                off += s.width
            g_opt.zero_grad(set_to_none=True)
            loss.backward()
            g_opt.step()
            for p in self.discriminator.parameters():
                p.requires_grad_(True)
            if hooks:
                model.enable_hooks()

        self.generator.train()
        info = train_model(model=self.discriminator, criterion=PairLoss(), data=x, train=self.config.train,
                           private=self.is_private, ledger=self.ledger, n_rows=self.rows_noisy or len(x),  # type: ignore[arg-type]
                           device=self.torch_device,
                           what="dp-ctgan discriminator" if self.is_private else "ctgan-style GAN (no DP)",
                           on_log=getattr(self, "on_log", None), step_fn=d_step, after_step=g_step,
                           checkpoint=self._checkpoint, resume=(self.resume_state or {}).get("train"))
        self.meta.update(info)
        self.generator.eval()

    def _extra_state(self) -> dict[str, Any]:
        return {"generator": self.generator.state_dict(), "generator_optimizer": self._g_opt.state_dict(),
                "cond_probs": self.cond_probs.cpu()}

    @torch.no_grad()
    def _sample_frame(self, n: int, rng: np.random.Generator) -> Frame:
        gen = _gen_for(self.torch_device, rng)
        vals, chs = [], []
        for start in range(0, n, 65536):
            m = min(65536, n - start)
            cond = self._fake_conditions(m, gen)
            z = torch.randn((m, self.config.embedding_dim), generator=gen, device=self.torch_device)
            v, c = sample_outputs(self.layout, self.generator(torch.cat([z, cond], dim=1)), None, gen)
            vals.append(v)
            chs.append(c)
        keys = [f"{s.kind}:{s.column}" for s in self.layout.softmax_spans]
        values = np.concatenate(vals) if vals else np.zeros((0, self.layout.dim), np.float32)
        choices = {k: (np.concatenate([c[k] for c in chs]) if chs else np.zeros(0, np.int64)) for k in keys}
        return self.layout.decode(values, choices)

    def _save_state(self, folder: Path) -> dict[str, Any]:
        torch.save({"generator": self.generator.state_dict(), "cond_probs": self.cond_probs.cpu()}, folder / "weights.pt")
        return {"weights.pt": "generator state_dict + condition frequencies (torch.load weights_only=True)"}

    def _load_state(self, folder: Path, device: str) -> None:
        self._build()
        state = torch.load(folder / "weights.pt", map_location=self.torch_device, weights_only=True)
        self.generator.load_state_dict(state["generator"])
        self.cond_probs = state["cond_probs"].to(self.torch_device)
        self.generator.eval()


__all__ = ["DPCTGAN", "DPCTGANConfig"]
