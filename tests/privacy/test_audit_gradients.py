"""Gradient canaries (``medsynth audit dp --attack gradients``): the audit-only DP-SGD hook, its scores,
and the audit catching 10x too little DP-SGD noise in DP-TVAE/DP-CTGAN while passing the real models.

The end-to-end bounds vary with the fit's OS-entropy noise; the margins are wide by design: in the
simulation at the test's sizes (q = 1/4, 20 steps, 500 canaries) the real noise gave bounds of at
most ~0.3 over 50 audits and 10x less noise at least ~2.
"""

from __future__ import annotations

import contextlib
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from medsynth.core.errors import ConfigError, RunDirectoryError
from medsynth.privacy.audit import audit_dp
from medsynth.privacy.audit import stats as st
from medsynth.privacy.audit.attacks import gradient_scores
from medsynth.privacy.dpsgd import DPSGDPlan, calibrate_noise, ghost_backward, make_private, quiet_opacus
from medsynth.privacy.dpsgd_audit import GradientCanaries, canaries_active, gradient_canaries_for_audit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tabular"))
from tabular_helpers import make_schema, make_table  # noqa: E402

# 64 rows, batch 16: sample rate ~1/4, 20 steps; ~700 (VAE) and ~1000 (discriminator) parameters
TVAE_GC = {"latent_dim": 4, "hidden": [16], "train": {"epochs": 5, "batch_size": 16}}
CTGAN_GC = {"embedding_dim": 8, "generator_dim": [16], "discriminator_dim": [32], "train": {"epochs": 5, "batch_size": 16}}


def _train_tiny(mode: str, sigma: float, canaries: GradientCanaries | None, steps: int = 150) -> nn.Module:
    """A tiny regression trained with opacus (our make_private), 40 rows Poisson-sampled at 1/4."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    plan = DPSGDPlan(epsilon=1.0, delta=1e-5, accountant="rdp", noise_multiplier=sigma, sample_rate=0.25, steps=steps,
                     max_grad_norm=0.5, grad_sample_mode=mode, planned_epsilon=1.0)  # type: ignore[arg-type]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(40, 1)), batch_size=10)
    x, y = torch.randn(40, 5), torch.randn(40, 1)
    with quiet_opacus():
        with gradient_canaries_for_audit(canaries) if canaries is not None else contextlib.nullcontext():
            mod, dp_opt, crit, _, _ = make_private(module=model, optimizer=opt, data_loader=loader, plan=plan,
                                                   criterion=nn.MSELoss())
        for _ in range(steps):  # training outside the block: the hook lives on the optimizer it attached to
            mask = torch.rand(40) < 0.25
            mask[0] = True  # never an empty batch here
            dp_opt.zero_grad(set_to_none=True)
            loss = crit(mod(x[mask]), y[mask])
            ghost_backward(loss) if mode == "ghost" else loss.backward()
            dp_opt.step()
    return mod


# -- the hook ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["ghost", "hooks"])
def test_without_noise_each_observation_is_exactly_the_canarys_poisson_sample(mode):
    """sigma = 0: a canary's observed coordinate minus the real rows' clipped sum is C x (sampled and included)."""
    inc = np.arange(40) % 2 == 0
    gc = GradientCanaries(included=inc, seed=1)
    _train_tiny(mode, 0.0, gc)
    obs = gc.observed()
    assert obs.shape == (150, 40) and gc.observations and gc.planned_steps == 150
    assert np.abs(obs[:, ~inc]).max() < 1e-4  # excluded canaries leave no trace
    assert np.allclose(obs.sum(axis=0), gc.times_sampled, atol=1e-3)  # 0/1 per step, summed
    assert np.allclose(obs, np.round(obs), atol=1e-4)
    rate = gc.times_sampled[inc].mean() / 150
    assert 0.2 < rate < 0.3 and len(set(gc.coordinates.tolist())) == 40  # Poisson at the plan's rate; distinct


@pytest.mark.parametrize("mode", ["ghost", "hooks"])
def test_with_noise_the_observations_carry_the_optimizers_gaussian_noise(mode):
    inc = np.arange(40) % 2 == 0
    gc = GradientCanaries(included=inc, seed=2)
    _train_tiny(mode, 2.0, gc)
    obs = gc.observed()
    assert obs[:, ~inc].std() == pytest.approx(2.0, rel=0.08)  # sigma, in units of C
    assert obs[:, inc].mean() == pytest.approx(0.25, abs=0.12)


def test_the_hook_is_active_only_in_its_block_and_marks_the_fit_insecure(tmp_path):
    from medsynth.tabular.config import PrivacyConfig, TabularConfig
    from medsynth.tabular.run import export_run, fit_run

    gc = GradientCanaries(included=np.ones(20, bool))
    cfg = TabularConfig(model="dp-tvae", privacy=PrivacyConfig(epsilon=1.0, delta=1e-4), params=TVAE_GC, seed=0)
    with gradient_canaries_for_audit(gc):
        assert canaries_active()
        with pytest.raises(ConfigError, match="already active"):
            with gradient_canaries_for_audit(GradientCanaries(included=[True])):
                pass
        run, model = fit_run(make_table(), tmp_path / "audit", cfg, schema=make_schema())
    assert not canaries_active() and gc.attached and len(gc.observations) == model.meta["steps"]
    assert model.ledger.status.startswith("insecure") and "gradient canaries" in model.ledger.status
    with pytest.raises(RunDirectoryError, match="insecure"):
        export_run(run.path, tmp_path / "out")
    run2, model2 = fit_run(make_table(), tmp_path / "real", cfg, schema=make_schema())  # after the block: a real fit
    assert model2.ledger.status == "complete" and len(gc.observations) == model.meta["steps"]  # nothing more recorded
    assert export_run(run2.path, tmp_path / "out2")


def test_an_exception_in_the_block_leaves_nothing_active():
    with pytest.raises(ValueError):
        with gradient_canaries_for_audit(GradientCanaries(included=[True, False])):
            raise ValueError("boom")
    assert not canaries_active()
    from medsynth.privacy.noise import insecure_audit_reasons

    assert insecure_audit_reasons() == []


def test_more_canaries_than_parameters_is_a_config_error_naming_both():
    with pytest.raises(ConfigError, match="500 gradient canaries need as many parameters, but the DP-trained module has 57"):
        _train_tiny("ghost", 1.0, GradientCanaries(included=np.ones(500, bool)), steps=1)


# -- the scores and their statistics ---------------------------------------------------------------------------
def _simulated_bounds(sigma: float, reps: int, seed: int, q: float = 0.25, steps: int = 20, m: int = 500) -> list[float]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(reps):
        inc = rng.random(m) < 0.5
        obs = ((rng.random((steps, m)) < q) & inc) + sigma * rng.standard_normal((steps, m))
        out.append(st.one_run_audit(gradient_scores(obs, sigma, q), inc, 1e-5, 0.05 / 3).epsilon)
    return out


def test_gradient_scores_on_the_ideal_mechanism_stay_below_a_calibrated_claim_and_catch_a_tenth_of_the_noise():
    """The Gaussian mechanism the hook exposes, simulated: sigma calibrated for eps 1 vs a tenth of it."""
    sigma, eps = calibrate_noise(epsilon=1.0, delta=1e-5, sample_rate=0.25, steps=20, accountant="rdp")
    assert eps <= 1.0
    assert max(_simulated_bounds(sigma, 30, 0)) < 0.5
    assert min(_simulated_bounds(sigma / 10, 10, 1)) > 1.5


def test_gradient_scores_are_the_likelihood_ratio():
    o = np.array([[0.0, 1.0], [2.0, -1.0]])
    q, s = 0.3, 0.8
    expect = np.log(1 - q + q * np.exp((o - 0.5) / s**2)).sum(axis=0)
    assert np.allclose(gradient_scores(o, s, q), expect)
    assert np.allclose(gradient_scores(o, s, 1.0), ((o - 0.5) / s**2).sum(axis=0))
    with pytest.raises(ConfigError, match="steps, canaries"):
        gradient_scores(np.zeros(3), 1.0, 0.5)


# -- end to end: the audit -----------------------------------------------------------------------------------
def test_dp_tvae_with_ten_times_less_noise_is_flagged_by_gradient_canaries():
    """Default canaries (500); the fit is given the budget of a tenth of the noise while claiming eps 1."""
    r = audit_dp("dp-tvae", make_table(), schema=make_schema(), params=TVAE_GC, epsilon=1.0, broken="noise",
                 attacks=("gradients",))
    a = r.attacks[0]
    assert r.verdict == "fail" and r.epsilon_lower_bound > 1.0, r.attacks
    assert a.attack == "gradients" and a.method == "one-run" and a.details["canaries"] == 500
    assert a.details["observed_steps"] == a.details["planned_steps"] > 0
    assert any("noise x0." in n for n in r.notes)


def test_real_dp_tvae_is_not_flagged_by_gradient_canaries():
    r = audit_dp("dp-tvae", make_table(), schema=make_schema(), params=TVAE_GC, epsilon=1.0, attacks=("gradients",))
    a = r.attacks[0]
    assert r.verdict == "pass" and r.epsilon_lower_bound <= 1.0, r.attacks
    assert a.details["best_possible"] > 3  # the audit could have refuted eps 1 by far, had the noise been short
    assert a.details["observed_steps"] == a.details["planned_steps"] > 0
    # no check of correct/guesses here: at epsilon 1 a top-10 guess set is 10/10 right in a few % of real
    # runs (each guess right with probability up to e/(1+e)); the bound above is what accounts for it


def test_real_dp_ctgan_is_not_flagged_by_gradient_canaries():
    r = audit_dp("dp-ctgan", make_table(), schema=make_schema(), params=CTGAN_GC, epsilon=1.0, attacks=("gradients",),
                 canaries=300)
    assert r.verdict == "pass" and r.epsilon_lower_bound <= 1.0, r.attacks
    assert r.attacks[0].details["best_possible"] > 3


def test_gradients_attack_is_refused_for_dp_mst():
    with pytest.raises(ConfigError, match=r"apply only to \['dp-ctgan', 'dp-tvae'\]"):
        audit_dp("dp-mst", make_table(), schema=make_schema(), attacks=("gradients",))


@pytest.mark.slow
def test_dp_ctgan_with_ten_times_less_noise_is_flagged_by_gradient_canaries():
    r = audit_dp("dp-ctgan", make_table(), schema=make_schema(), params=CTGAN_GC, epsilon=1.0, broken="noise",
                 attacks=("gradients",), canaries=300)
    assert r.verdict == "fail" and r.epsilon_lower_bound > 1.0, r.attacks


@pytest.mark.slow
def test_distinguishing_test_with_one_gradient_canary_flags_ten_times_less_noise():
    r = audit_dp("dp-tvae", make_table(), schema=make_schema(), params=TVAE_GC, epsilon=1.0, broken="noise",
                 attacks=("gradients",), method="distinguish", trials=100)
    assert r.verdict == "fail" and r.epsilon_lower_bound > 1.0, r.attacks
    assert math.isfinite(r.attacks[0].details["threshold"])
