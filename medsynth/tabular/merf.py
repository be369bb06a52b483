"""DP-MERF: a generator trained against one DP release of random-Fourier-feature mean embeddings.

Harder, Adamczewski and Park (2021): the data are touched once. Each row, in the one-hot layout of
the neural models (:class:`~medsynth.tabular.encoding.OneHotLayout`), is mapped to random Fourier
features ``phi(x) = sqrt(2/m) [cos(W x), sin(W x)]`` (``m`` features, ``W`` Gaussian with a fixed,
data-independent bandwidth per block of features, so ``||phi(x)|| = 1``); with a ``target: true``
column, to ``phi(x) (x) onehot(y)``, which keeps each class's embedding apart (the paper's labelled
variant). The sum of the embeddings gets Gaussian noise once (sensitivity 1 under add/remove) beside
a noisy count per class; then a generator is trained for as many steps as one likes to match the
released mean embedding (maximum mean discrepancy with the random-feature kernel), which is
post-processing: the training loop never sees the data and is not DP-SGD.

``epsilon: null`` measures the embedding exactly (labelled non-private).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import Field
from torch import nn

from medsynth.core.config import ConfigModel
from medsynth.core.runtime import check_stop
from medsynth.privacy.mechanisms import gaussian_sigma
from medsynth.privacy.noise import Generators
from medsynth.tabular.base import TabularSynthesizer
from medsynth.tabular.encoding import Frame, OneHotLayout
from medsynth.tabular.neural import _gen_for, mlp

#: Share of the budget spent on the class counts of a labelled embedding.
LABEL_SHARE = 0.1


class DPMERFConfig(ConfigModel):
    """DP-MERF hyperparameters.

    Attributes:
        features: random Fourier features (``m``; cos and sin of ``m/2`` frequencies).
        bandwidths: kernel bandwidths (on the one-hot layout, numbers in [-1, 1]), each with an equal
            share of the features; fixed, not read from the data.
        latent_dim: size of the generator's noise input.
        hidden: widths of the generator's hidden layers.
        steps: generator training steps (free: the data were used once).
        batch_size: generated rows per step.
        lr: Adam learning rate.
        tau: temperature of the one-hot blocks' softmax while training.
    """

    features: int = Field(1500, ge=2)
    bandwidths: list[float] = Field(default_factory=lambda: [0.5, 1.0, 2.0])
    latent_dim: int = Field(16, ge=1)
    hidden: list[int] = Field(default_factory=lambda: [128, 128])
    steps: int = Field(1000, ge=1)
    batch_size: int = Field(512, ge=2)
    lr: float = Field(1e-3, gt=0)
    tau: float = Field(0.5, gt=0)


class MERFGenerator(nn.Module):
    """(noise, class one-hot) -> pre-activation outputs over the one-hot layout."""

    def __init__(self, in_dim: int, hidden: list[int], out_dim: int) -> None:
        super().__init__()
        self.net = mlp([in_dim, *hidden, out_dim])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DPMERF(TabularSynthesizer):
    """DP-MERF: one noisy release of random-feature mean embeddings, then a generator fitted to it for free."""

    name: ClassVar[str] = "dp-merf"
    private: ClassVar[bool] = True
    allows_non_private: ClassVar[bool] = True
    Config: ClassVar[type[ConfigModel]] = DPMERFConfig
    config: DPMERFConfig

    def _build(self) -> None:
        from medsynth.core.runtime import resolve_device

        self.layout = OneHotLayout(self.codec)  # type: ignore[arg-type]
        self.torch_device = resolve_device(self.device)
        targets = [c.name for c in self.codec.discrete if c.target]  # type: ignore[union-attr]
        self.target = targets[0] if targets else None
        self.span = next((s for s in self.layout.softmax_spans if s.kind == "cat" and s.column == self.target), None)
        self.n_class = self.span.width if self.span is not None else 1
        self.generator = MERFGenerator(self.config.latent_dim + self.n_class, self.config.hidden,
                                       self.layout.dim).to(self.torch_device)
        self.class_probs = torch.full((self.n_class,), 1.0 / self.n_class)

    def _features(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        proj = x @ w
        return torch.cat([torch.cos(proj), torch.sin(proj)], dim=1) * math.sqrt(2.0 / (2 * w.shape[1]))

    def _frequencies(self, rng: np.random.Generator) -> torch.Tensor:
        half = max(1, self.config.features // 2)
        bws = self.config.bandwidths
        per = [half // len(bws) + (1 if i < half % len(bws) else 0) for i in range(len(bws))]
        cols = [rng.normal(0.0, 1.0 / bw, size=(self.layout.dim, k)) for bw, k in zip(bws, per, strict=True) if k]
        return torch.tensor(np.concatenate(cols, axis=1), dtype=torch.float32)

    def _activate(self, raw: torch.Tensor, tau: float) -> torch.Tensor:
        parts = []
        for s in self.layout.spans:
            block = raw[:, s.start : s.start + s.width]
            parts.append(torch.tanh(block) if s.kind == "num" else torch.softmax(block / tau, dim=1))
        return torch.cat(parts, dim=1)

    def _fit_frame(self, frame: Frame, gens: Generators) -> None:
        self._build()
        x = torch.from_numpy(self.layout.encode(frame))
        w = self._frequencies(gens.init)  # data-independent: seeded, not DP noise
        phi = self._features(x, w)  # (n, m), rows of norm 1
        if self.span is not None:
            y = x[:, self.span.start : self.span.start + self.span.width]
            emb = phi.T @ y  # (m, classes): sum of phi(x) (x) onehot(y); each row adds norm 1
            counts = y.sum(dim=0)
        else:
            emb = phi.sum(dim=0, keepdim=True).T
            counts = torch.tensor([float(x.shape[0])])
        emb_np, counts_np = emb.numpy().astype(float), counts.numpy().astype(float)
        if self.is_private:
            rho = self.rho_left()
            r_label = LABEL_SHARE * rho if self.span is not None else 0.0
            sigma = gaussian_sigma(rho - r_label)
            emb_np = emb_np + gens.noise.normal(0.0, sigma, emb_np.shape)
            if self.span is not None:
                counts_np = counts_np + gens.noise.normal(0.0, gaussian_sigma(r_label), counts_np.shape)
            else:
                counts_np = np.array([float(self.rows_noisy or x.shape[0])])
            self.ledger.record(  # type: ignore[union-attr]
                "random-feature mean embedding of the rows" + (f" per class of '{self.target}'" if self.target else ""),
                "Gaussian mechanism (zCDP), one release", rho=rho,
                columns=[c.name for c in self.schema.modelled],  # type: ignore[union-attr]
                sigma=sigma, features=int(w.shape[1] * 2), class_counts_rho=r_label)
            self.meta["accountant"] = "zcdp"
        else:
            self.ledger.record("random-feature mean embedding (exact)", "none (non-private)")  # type: ignore[union-attr]
        counts_np = np.maximum(counts_np, 1.0)
        target = torch.tensor(emb_np / counts_np[None, :], dtype=torch.float32)  # per-class mean embedding
        self.class_probs = torch.tensor(counts_np / counts_np.sum(), dtype=torch.float32)
        self.meta.update(self._train(target, w, gens))
        self.generator.eval()

    def _train(self, target: torch.Tensor, w: torch.Tensor, gens: Generators) -> dict[str, Any]:
        """Fit the generator to the released embedding (post-processing: no data, no DP-SGD)."""
        cfg = self.config
        gen = torch.Generator().manual_seed(int(gens.init.integers(0, 2**62)))
        opt = torch.optim.Adam(self.generator.parameters(), lr=cfg.lr)
        self.generator.train()
        t0 = time.perf_counter()
        target, w = target.to(self.torch_device), w.to(self.torch_device)
        probs = self.class_probs.to(self.torch_device)
        for _ in range(cfg.steps):
            check_stop()
            labels = torch.multinomial(probs, cfg.batch_size, replacement=True, generator=gen)
            onehot = nn.functional.one_hot(labels, self.n_class).float()
            z = torch.randn(cfg.batch_size, cfg.latent_dim, generator=gen)
            raw = self.generator(torch.cat([z, onehot], dim=1))
            xs = self._activate(raw, cfg.tau)
            if self.span is not None:  # the generated label is the conditioning one
                xs = torch.cat([xs[:, : self.span.start], onehot, xs[:, self.span.start + self.span.width :]], dim=1)
            phi = self._features(xs, w)
            # per class: mean of phi over generated rows of that class, weighted by the class share
            sums = phi.T @ onehot / cfg.batch_size  # (m, classes) = E[phi 1{y=k}]
            loss = ((sums - target * probs[None, :]) ** 2).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return {"steps": cfg.steps, "train_seconds": round(time.perf_counter() - t0, 3),
                "training": "generator fitted to the released embedding (post-processing, no DP-SGD)"}

    @torch.no_grad()
    def _sample_frame(self, n: int, rng: np.random.Generator) -> Frame:
        gen = _gen_for(self.torch_device, rng)
        values, choices = [], {f"{s.kind}:{s.column}": [] for s in self.layout.softmax_spans}
        for start in range(0, n, 65536):
            m = min(65536, n - start)
            labels = torch.multinomial(self.class_probs, m, replacement=True, generator=gen)
            onehot = nn.functional.one_hot(labels, self.n_class).float()
            z = torch.randn((m, self.config.latent_dim), generator=gen)
            raw = self.generator(torch.cat([z, onehot], dim=1))
            v = raw.clone()
            for s in self.layout.num_spans:
                v[:, s.start] = torch.tanh(raw[:, s.start])
            for s in self.layout.softmax_spans:
                if self.span is not None and s is self.span:
                    idx = labels
                else:
                    p = torch.softmax(raw[:, s.start : s.start + s.width] / self.config.tau, dim=1)
                    u = torch.rand((m, 1), generator=gen)
                    idx = (torch.cumsum(p, dim=1) < u).sum(dim=1).clamp(max=s.width - 1)
                choices[f"{s.kind}:{s.column}"].append(idx.numpy())
            values.append(v.numpy())
        vals = np.concatenate(values) if values else np.zeros((0, self.layout.dim), np.float32)
        ch = {k: (np.concatenate(v) if v else np.zeros(0, np.int64)) for k, v in choices.items()}
        return self.layout.decode(vals, ch)

    def _save_state(self, folder: Path) -> dict[str, Any]:
        torch.save({"generator": self.generator.state_dict(), "class_probs": self.class_probs}, folder / "weights.pt")
        return {"weights.pt": "generator state_dict + released class shares (torch.load weights_only=True)"}

    def _load_state(self, folder: Path, device: str) -> None:
        self._build()
        state = torch.load(folder / "weights.pt", map_location=self.torch_device, weights_only=True)
        self.generator.load_state_dict(state["generator"])
        self.class_probs = state["class_probs"]
        self.generator.eval()


__all__ = ["DPMERF", "DPMERFConfig"]
