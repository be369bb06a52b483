"""DP-SGD: accounting against opacus' own accountants, clipping against a one-sample-at-a-time loop."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from medsynth.core.errors import ConfigError, PrivacyBudgetError
from medsynth.privacy.dpsgd import DPSGDPlan, compute_epsilon, make_private, plan_dpsgd, validate_module


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


@pytest.mark.parametrize("mode", ["ghost", "hooks"])
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
                     max_grad_norm=C, grad_sample_mode=mode, planned_epsilon=0.0)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    loader = DataLoader(TensorDataset(x, y), batch_size=n)
    m, o, crit, _, _ = make_private(module=model, optimizer=opt, data_loader=loader, plan=plan, criterion=_Crit())
    o.zero_grad()
    loss = crit(m(x), y)
    loss.backward()
    o.step()
    for before, after, t in zip(ref, model.parameters(), total, strict=True):
        torch.testing.assert_close(before - after.detach(), t / n, rtol=1e-4, atol=1e-6)
