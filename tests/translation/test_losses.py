"""Loss helpers: LSGAN targets, the image pool's bookkeeping, the linear LR decay, MIND and histogram terms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medsynth.translation.losses import ImagePool, histogram_loss, linear_decay, lsgan_loss, mind, structure_loss


def test_lsgan_targets():
    assert lsgan_loss(torch.ones(2, 1, 4, 4), True) == 0
    assert lsgan_loss(torch.zeros(2, 1, 4, 4), False) == 0
    assert lsgan_loss(torch.zeros(3), True) == 1


def test_linear_decay():
    f = linear_decay(100, 0.5)
    assert [f(0), f(49), f(50)] == [1.0, 1.0, 1.0]
    assert f(75) == 0.5 and f(100) == 0.0


def test_image_pool_fills_then_mixes_and_round_trips():
    pool = ImagePool(3)
    rng = np.random.default_rng(0)
    first = torch.arange(3.0).view(3, 1, 1)
    assert torch.equal(pool.query(first, rng), first)  # filling: returned as given
    later = torch.full((8, 1, 1), 9.0)
    out = pool.query(later, rng)
    assert out.shape == later.shape and (out != 9.0).any()  # some old images come back
    clone = ImagePool(3)
    clone.load_state_dict(pool.state_dict())
    assert torch.equal(torch.cat(clone.images), torch.cat(pool.images))
    assert torch.equal(ImagePool(0).query(later, rng), later)


def test_mind_is_contrast_invariant_and_sees_structure():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 12, 10)
    assert mind(x).shape == (2, 12, 12, 10)
    assert mind(torch.rand(1, 1, 6, 6, 6)).shape == (1, 6, 6, 6, 6)
    # an inverted, rescaled and shifted image has the same structure (MR->CT inverts fat and bone)
    assert float(structure_loss(x, 1.0 - 2.0 * x)) < 1e-5
    assert float(structure_loss(x, torch.rand_like(x))) > 0.05
    # a shifted edge is a different structure
    a = torch.zeros(1, 1, 8, 8)
    a[..., 4:] = 1.0
    assert float(structure_loss(a, torch.roll(a, 2, dims=3))) > 0.01


def test_histogram_loss_sees_levels_not_positions():
    torch.manual_seed(0)
    real = torch.rand(2, 1, 8, 8) * 2 - 1
    shuffled = real.flatten()[torch.randperm(real.numel())].reshape(real.shape).requires_grad_(True)
    assert float(histogram_loss(shuffled, real).detach()) == 0.0  # same values anywhere: same histogram
    darker = (real - 0.1).requires_grad_(True)
    loss = histogram_loss(darker, real)
    assert abs(float(loss.detach()) - 0.1) < 1e-6  # W1 of a shift is the shift
    loss.backward()
    assert (darker.grad < 0).all()  # every value is pushed up
    with pytest.raises(ValueError, match="equal size"):
        histogram_loss(real, real[:1])
