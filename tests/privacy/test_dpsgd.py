"""DP-SGD: accounting against opacus' own accountants, clipping against a one-sample-at-a-time loop."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from medsynth.core.errors import ConfigError, PrivacyBudgetError
from medsynth.privacy.dpsgd import (
    DPSGDPlan,
    calibrate_noise,
    compute_epsilon,
    ghost_backward,
    make_private,
    plan_dpsgd,
    validate_module,
)


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_plan_matches_opacus_accountant(accountant):
    from opacus.accountants import PRVAccountant, RDPAccountant

    plan = plan_dpsgd(n=1000, batch_size=100, epochs=3, epsilon=1.0, delta=1e-5, accountant=accountant)
    assert plan.steps == 30 and plan.sample_rate == pytest.approx(0.1)
    acc = {"rdp": RDPAccountant, "prv": PRVAccountant}[accountant]()
    for _ in range(plan.steps):
        acc.step(noise_multiplier=plan.noise_multiplier, sample_rate=plan.sample_rate)
    independent = acc.get_epsilon(delta=1e-5)
    assert plan.planned_epsilon == pytest.approx(independent, rel=1e-6)
    assert independent <= 1.0 and independent > 0.98  # calibrated, not wastefully noisy
    assert compute_epsilon(plan.noise_multiplier * 0.8, plan.sample_rate, plan.steps, 1e-5, accountant) > 1.0


def test_plan_rejects_bad_budgets():
    with pytest.raises(PrivacyBudgetError, match="positive"):
        plan_dpsgd(n=100, batch_size=10, epochs=1, epsilon=0.0, delta=1e-5)
    with pytest.raises(PrivacyBudgetError, match=r"1/n"):
        plan_dpsgd(n=100, batch_size=10, epochs=1, epsilon=1.0, delta=0.01)


def test_batchnorm_is_refused():
    with pytest.raises(ConfigError, match="BatchNorm"):
        validate_module(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))


class _Crit(nn.Module):
    def __init__(self):
        super().__init__()
        self.reduction = "mean"

    def forward(self, out, target):
        per = ((out - target) ** 2).sum(dim=1)
        return per if self.reduction == "none" else per.mean()


@pytest.mark.parametrize("mode", ["ghost", "ghost-fast", "hooks"])
def test_clipping_matches_per_sample_loop(mode):
    """One DP-SGD step with zero noise moves the weights by -lr * sum(clip(g_i)) / expected batch size."""
    torch.manual_seed(0)
    n, C = 16, 0.5
    x, y = torch.randn(n, 3), torch.randn(n, 2) * 3
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    ref = [p.detach().clone() for p in model.parameters()]
    # expected update, one sample at a time
    total = [torch.zeros_like(p) for p in model.parameters()]
    for i in range(n):
        model.zero_grad()
        ((model(x[i : i + 1]) - y[i : i + 1]) ** 2).sum().backward()
        grads = [p.grad.detach().clone() for p in model.parameters()]
        norm = torch.sqrt(sum((g**2).sum() for g in grads))
        factor = min(1.0, C / (norm.item() + 1e-6))
        total = [t + g * factor for t, g in zip(total, grads, strict=True)]
    plan = DPSGDPlan(epsilon=1.0, delta=1e-5, accountant="rdp", noise_multiplier=0.0, sample_rate=1.0, steps=1,
                     max_grad_norm=C, grad_sample_mode=mode.split("-")[0], planned_epsilon=0.0)  # type: ignore[arg-type]
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    loader = DataLoader(TensorDataset(x, y), batch_size=n)
    m, o, crit, _, _ = make_private(module=model, optimizer=opt, data_loader=loader, plan=plan, criterion=_Crit())
    o.zero_grad()
    out = m(x)
    loss = crit(out, y)
    if mode == "ghost-fast":
        ghost_backward(loss, output=out)
    else:
        loss.backward()
    o.step()
    for before, after, t in zip(ref, model.parameters(), total, strict=True):
        torch.testing.assert_close(before - after.detach(), t / n, rtol=1e-4, atol=1e-6)


def _private_copy(model, *, noise=0.0, C=0.5, batch=32):
    plan = DPSGDPlan(epsilon=1.0, delta=1e-5, accountant="rdp", noise_multiplier=noise, sample_rate=0.5, steps=1,
                     max_grad_norm=C, grad_sample_mode="ghost", planned_epsilon=0.0)
    x = torch.zeros(2 * batch, model[0].in_features)
    return make_private(module=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                        data_loader=DataLoader(TensorDataset(x), batch_size=batch), plan=plan, criterion=_Crit())


@pytest.mark.parametrize("with_output", [False, True])
def test_ghost_backward_matches_opacus_backward(with_output):
    """The cheaper passes give opacus' own clipped update (LayerNorm and a bias-free layer included)."""
    import copy

    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 16), nn.LayerNorm(16), nn.Tanh(),
                         nn.Linear(16, 3, bias=False))
    x, y = torch.randn(3, 40, 5), torch.randn(3, 40, 3) * 3
    runs = []
    for fast in (False, True):
        model = copy.deepcopy(base)
        m, o, crit, _, _ = _private_copy(model)
        for step in range(3):
            o.zero_grad()
            out = m(x[step])
            loss = crit(out, y[step])
            if fast:
                ghost_backward(loss, output=out if with_output else None)
            else:
                loss.backward()
            o.step()
        runs.append([p.detach().clone() for p in model.parameters()])
    moved = sum(float((a - b).abs().sum()) for a, b in zip(runs[0], base.parameters(), strict=True))
    assert moved > 0.1
    for a, b in zip(*runs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_fused_noise_step_has_the_calibrated_noise():
    """Zero gradients: each coordinate of the update is noise with std sigma * C / expected batch size."""
    torch.manual_seed(0)

    class _Zero(_Crit):
        def forward(self, out, target):
            per = (out * 0).sum(dim=1)
            return per if self.reduction == "none" else per.mean()

    model = nn.Sequential(nn.Linear(50, 200), nn.Linear(200, 100))
    plan = DPSGDPlan(epsilon=1.0, delta=1e-5, accountant="rdp", noise_multiplier=1.5, sample_rate=0.5, steps=1,
                     max_grad_norm=2.0, grad_sample_mode="ghost", planned_epsilon=0.0)
    x = torch.randn(64, 50)
    m, o, crit, _, _ = make_private(module=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
                                    data_loader=DataLoader(TensorDataset(x), batch_size=32), plan=plan, criterion=_Zero())
    assert "pre_step" in o.__dict__  # the fused step is installed
    o.zero_grad()
    out = m(x[:30])
    ghost_backward(crit(out, x[:30]), output=out)
    o.step()
    g = torch.cat([p.grad.flatten() for p in model.parameters()])
    assert g.numel() == 30300
    assert float(g.std()) == pytest.approx(1.5 * 2.0 / 32, rel=0.03)
    assert abs(float(g.mean())) < 3 * 1.5 * 2.0 / 32 / g.numel() ** 0.5 + 1e-9


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_calibrate_noise_meets_opacus_contract(accountant):
    """Within 0.01 below the target, never above, like opacus' get_noise_multiplier (epsilon_tolerance=0.01)."""
    for eps, q, steps in [(1.0, 0.1, 30), (3.0, 1 / 22, 660), (0.5, 0.02, 200)]:
        sigma, got = calibrate_noise(epsilon=eps, delta=1e-5, sample_rate=q, steps=steps, accountant=accountant)
        assert eps - 0.01 <= got <= eps
        assert got == compute_epsilon(sigma, q, steps, 1e-5, accountant)
