"""Pieces shared by the neural tabular synthesizers (DP-TVAE, DP-CTGAN): the training loop under
DP-SGD or plain SGD, output sampling, and the one-hot layout's losses.

The loop takes a model, a per-sample loss and the encoded table, and either trains it privately
(opacus: Poisson sampling, per-sample clipping, calibrated noise, ghost clipping by default) or
plainly (shuffled batches), for the same number of epochs, so that the two can be compared. It
never takes more steps than the DP plan paid for.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field
from torch import nn

from medsynth.core.config import ConfigModel
from medsynth.core.progress import progress
from medsynth.core.runtime import check_stop
from medsynth.privacy.dpsgd import DPSGDPlan, ghost_backward, make_private, plan_dpsgd, quiet_opacus
from medsynth.privacy.ledger import PrivacyLedger
from medsynth.tabular.encoding import OneHotLayout, Span


class DPTrainConfig(ConfigModel):
    """Training settings shared by the DP-SGD models.

    Attributes:
        epochs: passes over the data (the DP plan's steps are epochs x batches per epoch).
        batch_size: expected batch size (Poisson sampling rate = batch_size / n).
        lr: Adam learning rate.
        max_grad_norm: per-sample clipping norm C.
        grad_sample_mode: opacus per-sample gradient engine: "ghost" (fast), "hooks" or "functorch".
        max_steps: stop after this many steps (also shortens the DP plan, so the noise is calibrated for it).
        log_every: log the loss every this many steps.
        checkpoint_every: in a run directory, checkpoint the training state every this many steps
            (under ``private/``), so that ``--resume`` continues a killed fit; ``null`` never.
    """

    epochs: int = Field(20, ge=1)
    batch_size: int = Field(256, ge=2)
    lr: float = Field(2e-3, gt=0)
    max_grad_norm: float = Field(1.0, gt=0)
    grad_sample_mode: Literal["ghost", "hooks", "functorch"] = "ghost"
    max_steps: int | None = Field(None, ge=1)
    log_every: int = Field(50, ge=1)
    checkpoint_every: int | None = Field(200, ge=1)


def mlp(sizes: list[int], *, act: Callable[[], nn.Module] = nn.ReLU, dropout: float = 0.0) -> nn.Sequential:
    """Linear layers with activations between them (none after the last). No BatchNorm (DP-safe)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def span_log_likelihood(
    layout: OneHotLayout, out: torch.Tensor, x: torch.Tensor, log_sigma: torch.Tensor | None, *, min_sigma: float = 0.01
) -> torch.Tensor:
    """Per-row log-likelihood of ``x`` under decoder outputs ``out`` (numbers: Gaussian on tanh mean;
    one-hot blocks: categorical). Numbers of missing cells are not scored.

    Vectorised over columns (one gather per kind, a padded log-softmax for all one-hot blocks): the
    graph stays small, which matters twice under ghost clipping (two backward passes per step)."""
    idx = _span_index(layout, out.device)
    ll = torch.zeros(x.shape[0], device=x.device, dtype=out.dtype)
    if idx["num"].numel():
        mu = torch.tanh(out[:, idx["num"]])
        ls = log_sigma.clamp(math.log(min_sigma), 0.0) if log_sigma is not None else torch.zeros_like(mu)
        term = -0.5 * ((x[:, idx["num"]] - mu) / ls.exp()) ** 2 - ls
        term = term * (1.0 - x[:, idx["num_missing"]] * idx["num_has_missing"])  # missing cells not scored
        ll = ll + term.sum(dim=1)
    if idx["soft"].numel():
        logits = out[:, idx["soft"]].masked_fill(~idx["soft_valid"], float("-inf"))
        target = x[:, idx["soft"]] * idx["soft_valid"]
        logp = torch.log_softmax(logits, dim=2).masked_fill(~idx["soft_valid"], 0.0)
        ll = ll + (logp * target).sum(dim=(1, 2))
    return ll


def _span_index(layout: OneHotLayout, device: torch.device) -> dict[str, torch.Tensor]:
    """Index tensors of a layout's spans (cached on the layout per device)."""
    cache = layout.__dict__.setdefault("_torch_index", {})
    key = str(device)
    if key not in cache:
        miss_of = {s.column: s for s in layout.spans if s.kind == "miss"}
        nums = layout.num_spans
        num = [s.start for s in nums]
        num_missing = [miss_of[s.column].start + 1 if s.column in miss_of else 0 for s in nums]
        has = [1.0 if s.column in miss_of else 0.0 for s in nums]
        soft = layout.softmax_spans
        width = max((s.width for s in soft), default=0)
        sidx = [[s.start + min(j, s.width - 1) for j in range(width)] for s in soft]
        valid = [[j < s.width for j in range(width)] for s in soft]
        cache[key] = {
            "num": torch.tensor(num, dtype=torch.long, device=device),
            "num_missing": torch.tensor(num_missing, dtype=torch.long, device=device),
            "num_has_missing": torch.tensor(has, device=device),
            "soft": torch.tensor(sidx, dtype=torch.long, device=device).reshape(len(soft), width),
            "soft_valid": torch.tensor(valid, dtype=torch.bool, device=device).reshape(len(soft), width),
        }
    return cache[key]


def sample_outputs(
    layout: OneHotLayout, out: torch.Tensor, log_sigma: torch.Tensor | None, gen: torch.Generator, *, min_sigma: float = 0.01
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Draw a table from decoder/generator outputs: numbers ``tanh(mu) + sigma * noise`` (clipped to
    [-1, 1]), each one-hot block by sampling its softmax. Returns what :meth:`OneHotLayout.decode` takes."""
    values = out.detach().clone()
    for j, s in enumerate(layout.num_spans):
        mu = torch.tanh(out[:, s.start])
        if log_sigma is not None:
            sd = log_sigma[:, j].clamp(math.log(min_sigma), 0.0).exp()
            mu = mu + sd * torch.randn(mu.shape, generator=gen, device=mu.device, dtype=mu.dtype)
        values[:, s.start] = mu.clamp(-1, 1)
    choices: dict[str, np.ndarray] = {}
    for s in layout.softmax_spans:
        probs = torch.softmax(out[:, s.start : s.start + s.width].float(), dim=1)
        u = torch.rand((out.shape[0], 1), generator=gen, device=out.device)
        idx = (torch.cumsum(probs, dim=1) < u).sum(dim=1).clamp(max=s.width - 1)
        choices[f"{s.kind}:{s.column}"] = idx.cpu().numpy()
    return values.cpu().numpy(), choices


def _gen_for(device: torch.device, rng: np.random.Generator) -> torch.Generator:
    gen = torch.Generator(device=device)
    gen.manual_seed(int(rng.integers(0, 2**63 - 1)))
    return gen


def train_model(
    *,
    model: nn.Module,
    criterion: nn.Module,
    data: np.ndarray,
    train: DPTrainConfig,
    private: bool,
    ledger: PrivacyLedger,
    n_rows: float,
    device: torch.device,
    what: str,
    noise: torch.Generator | None = None,
    on_log: Callable[[int, dict[str, float]], None] | None = None,
    step_fn: Callable[[Any, Any, torch.Tensor], torch.Tensor] | None = None,
    after_step: Callable[[Any], None] | None = None,
    checkpoint: Callable[[dict[str, Any]], None] | None = None,
    resume: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train ``model`` to minimise ``criterion(model(x), x)`` on ``data``, privately or not.

    ``criterion`` returns per-row losses when its ``reduction`` is "none" and their mean otherwise
    (the contract of opacus' ghost clipping). ``step_fn(model, criterion, batch)`` may replace the
    forward+loss (e.g. the GAN's discriminator pairs); ``after_step(model)`` runs after each optimizer
    step (e.g. the generator's step, which never sees the data). Returns what the run's metadata records.

    Private training: the noise multiplier is calibrated so that the ledger's composed total (what it
    already holds plus this run) meets its target; ``n_rows`` is the *noisy* row count (under
    add/remove the exact count is private), which sets the sampling rate and the planned steps;
    Poisson masks and gradient noise come from ``noise`` (a generator seeded from OS entropy, see
    :mod:`medsynth.privacy.noise`); an empty Poisson batch still takes its step (noise only), as the
    accountant assumes. ``on_log`` receives raw training losses: they are not DP outputs, so a private
    run keeps them under ``private/``.

    ``checkpoint(state)`` receives the training state every ``train.checkpoint_every`` steps (module and
    optimizer state, the step, the noise multiplier); ``resume`` is such a state to continue from. A
    resumed private run re-plans from the same ledger and noisy count, so its noise multiplier, sampling
    rate and total steps, hence its ledger, equal an uninterrupted run's; its noise and Poisson masks are
    fresh draws (nothing of the noise is ever stored).
    """
    with quiet_opacus():
        return _train(model=model, criterion=criterion, data=data, train=train, private=private, ledger=ledger,
                      n_rows=n_rows, device=device, what=what, noise=noise, on_log=on_log, step_fn=step_fn,
                      after_step=after_step, checkpoint=checkpoint, resume=resume)


def _train(*, model: nn.Module, criterion: nn.Module, data: np.ndarray, train: DPTrainConfig, private: bool,
           ledger: PrivacyLedger, n_rows: float, device: torch.device, what: str, noise: torch.Generator | None,
           on_log: Callable[[int, dict[str, float]], None] | None,
           step_fn: Callable[[Any, Any, torch.Tensor], torch.Tensor] | None,
           after_step: Callable[[Any], None] | None, checkpoint: Callable[[dict[str, Any]], None] | None,
           resume: dict[str, Any] | None) -> dict[str, Any]:
    from torch.utils.data import DataLoader, TensorDataset

    from medsynth.privacy.noise import noise_torch_generator

    n = data.shape[0]
    tensor = torch.from_numpy(data).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=train.lr)  # its first use imports torch._dynamo (~2 s), untimed
    if resume is not None:  # before opacus wraps them: the user's module and optimizer
        model.load_state_dict(resume["model"])
        opt.load_state_dict(resume["optimizer"])
    if private:
        import opacus.privacy_engine  # noqa: F401  one-time import (~1.5 s), untimed like the optimizer's
    per_row = step_fn is None  # the default loss is per row: ghost clipping's second pass can start at the output
    t0 = time.perf_counter()
    info: dict[str, Any] = {"epochs": train.epochs, "batch_size": train.batch_size}
    if private:
        gen = noise if noise is not None else noise_torch_generator(tensor.device)  # Poisson masks: a DP mechanism
        n_plan = max(1, round(n_rows))
        plan: DPSGDPlan = plan_dpsgd(n=n_plan, batch_size=train.batch_size, epochs=train.epochs, ledger=ledger,
                                     max_grad_norm=train.max_grad_norm, grad_sample_mode=train.grad_sample_mode,
                                     max_steps=train.max_steps)
        # opacus sizes the optimizer's expected batch and the accountant's sample rate from this loader
        # (built on a stand-in of n_rows rows: the real count is private); the batches themselves come
        # from _poisson_batches (the same sampling, without per-row fetching)
        loader = DataLoader(TensorDataset(torch.zeros(n_plan, 1)), batch_size=train.batch_size)
        model_p, opt_p, crit_p, loader_p, engine = make_private(module=model, optimizer=opt, data_loader=loader,
                                                                plan=plan, criterion=criterion, noise_generator=gen)
        if abs(loader_p.sample_rate - plan.sample_rate) > 1e-12:  # pragma: no cover - opacus contract
            raise RuntimeError(f"opacus sample rate {loader_p.sample_rate} differs from the plan's {plan.sample_rate}")
        total = plan.steps
        batches = _poisson_batches(tensor, plan.sample_rate, gen)
    else:
        gen = torch.Generator(device=tensor.device)  # shuffling, seeded from torch's global RNG (seeded by fit)
        gen.manual_seed(int(torch.randint(0, 2**31 - 1, (1,)).item()))
        plan = None  # type: ignore[assignment]
        model_p, opt_p, crit_p = model, opt, criterion
        total = train.epochs * math.ceil(n / train.batch_size)
        if train.max_steps is not None:
            total = min(total, train.max_steps)
        batches = _shuffled_batches(tensor, train.batch_size, gen)
    if resume is not None and private and abs(float(resume["noise_multiplier"]) - plan.noise_multiplier) > 1e-9:
        from medsynth.core.errors import RunDirectoryError

        raise RunDirectoryError(f"cannot resume: the DP plan changed (noise multiplier {plan.noise_multiplier:.6g}, the "
                                f"run started with {float(resume['noise_multiplier']):.6g}); start a new run")
    model_p.train()
    steps, running, empty = (int(resume["step"]), [], int(resume.get("empty", 0))) if resume else (0, [], 0)
    bar = progress(total=total, desc=what, initial=steps)
    for xb in batches:
        if steps >= total:
            break
        if xb.shape[0] == 0:  # an empty Poisson batch: the mechanism still releases a noisy (zero-sum) update
            _noise_only_step(opt_p, plan)
            empty += 1
        else:
            opt_p.zero_grad(set_to_none=True)
            if per_row:
                out = model_p(xb)
                loss = crit_p(out, xb)
            else:
                out, loss = None, step_fn(model_p, crit_p, xb)
            if private:
                ghost_backward(loss, output=out)  # plain loss.backward() for the non-ghost modes
            else:
                loss.backward()
            opt_p.step()
            running.append(loss.detach())
        if after_step is not None:
            after_step(model_p)
        steps += 1
        bar.update(1)
        if checkpoint is not None and train.checkpoint_every and steps % train.checkpoint_every == 0 and steps < total:
            checkpoint({"step": steps, "model": unwrap(model_p).state_dict(), "optimizer": opt.state_dict(),
                        "noise_multiplier": plan.noise_multiplier if private else 0.0, "empty": empty})
        if running and (steps % train.log_every == 0 or steps == total):
            mean = float(torch.stack(running).mean())
            running = []
            if not private:  # a raw loss is not a DP output: never on a private run's terminal
                bar.set_postfix(loss=f"{mean:.3f}")
            if on_log is not None:
                on_log(steps, {"loss": mean})
    bar.close()
    info["train_seconds"] = round(time.perf_counter() - t0, 3)
    info["steps"] = steps
    if private:
        import opacus

        sgd = {"noise_multiplier": plan.noise_multiplier, "sample_rate": plan.sample_rate, "steps": steps}
        entry = ledger.record(f"DP-SGD training of {what}",
                              f"DP-SGD (opacus {opacus.__version__}, {plan.grad_sample_mode} clipping, Poisson sampling)",
                              sgd=sgd, max_grad_norm=plan.max_grad_norm, planned_steps=plan.steps,
                              rows_for_sampling_rate="noisy count (DP)")
        info["dpsgd"] = {**plan.to_dict(), "spent_epsilon": entry.epsilon, "opacus": opacus.__version__,
                         "poisson_sampling": True, "clipping": "flat per-sample",
                         "fast_path": {"ghost": "ghost clipping", "functorch": "functorch vmap per-sample gradients",
                                       "hooks": "hooks (per-sample gradients materialised)"}[plan.grad_sample_mode]}
        info["accountant"] = "rdp"
        info["private_stats"] = {"empty_batches": empty}  # data-dependent: kept under private/
        if hasattr(model_p, "_close"):
            model_p._close()
    else:
        ledger.record(f"training of {what}", "none (non-private SGD)", steps=steps)
    return info


def _noise_only_step(optimizer: Any, plan: DPSGDPlan) -> None:
    """The DP-SGD step of an empty Poisson batch: the clipped-gradient sum is zero, so the update is the
    Gaussian noise alone (std ``noise_multiplier * max_grad_norm``, divided by the expected batch size),
    drawn from the optimizer's noise generator; the accountant's hook fires as for any step."""
    optimizer.zero_grad(set_to_none=True)
    std = plan.noise_multiplier * plan.max_grad_norm
    for p in optimizer.params:
        p.grad = torch.normal(0.0, std, p.shape, generator=optimizer.generator, device=p.device, dtype=p.dtype)
        p.grad /= optimizer.expected_batch_size * optimizer.accumulated_iterations
    optimizer.original_optimizer.step()
    if optimizer.step_hook:
        optimizer.step_hook(optimizer)


def _poisson_batches(data: torch.Tensor, sample_rate: float, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless Poisson-sampled batches: each row joins each batch independently with ``sample_rate``
    (what opacus' ``UniformWithReplacementSampler`` draws, but indexing the tensor at once instead of
    fetching and collating rows one by one). Batches may be empty."""
    n = data.shape[0]
    while True:
        check_stop()  # one batch per step: a swallowed SIGTERM still stops the fit
        mask = torch.rand(n, generator=gen, device=data.device) < sample_rate
        yield data[mask]


def _shuffled_batches(data: torch.Tensor, batch_size: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless epochs of shuffled batches (the last one of an epoch may be smaller), for non-DP training."""
    n = data.shape[0]
    while True:
        perm = torch.randperm(n, generator=gen, device=data.device)
        for start in range(0, n, batch_size):
            check_stop()
            yield data[perm[start : start + batch_size]]


def unwrap(module: nn.Module) -> nn.Module:
    """The user's module inside an opacus wrapper (or the module itself)."""
    return getattr(module, "_module", module)


__all__ = ["DPTrainConfig", "Span", "mlp", "sample_outputs", "span_log_likelihood", "train_model", "unwrap"]
