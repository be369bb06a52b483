"""Networks and math of the imaging synthesizers, at tiny sizes, 2D and 3D through one code path."""

from __future__ import annotations

import pytest
import torch

from medsynth.core.errors import ConfigError
from medsynth.imaging.base import slerp
from medsynth.imaging.losses import d_loss, diff_augment, g_loss, kl_per_voxel
from medsynth.imaging.networks import ConditionalVAE, Discriminator, Generator, check_spatial_shape


def test_shape_message_says_how_to_fix():
    with pytest.raises(ConfigError) as exc:
        check_spatial_shape((1, 97, 96, 96), 3)
    assert str(exc.value).startswith(
        "in_shape (1, 97, 96, 96): spatial sizes must be divisible by 8 (2**3 downsamplings); crop to 96 or pad to 104"
    )
    check_spatial_shape((1, 96, 96, 96), 3)


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("n_classes", [0, 3])
def test_vae_shapes(dims: int, n_classes: int):
    net = ConditionalVAE(dims, (8, 16), latent_channels=2, num_res_blocks=1, norm_num_groups=4, n_classes=n_classes)
    x = torch.randn(2, 1, *([16] * dims))
    y = torch.tensor([0, 2]) if n_classes else None
    recon, mu, sigma = net(x, y)
    assert recon.shape == x.shape
    assert mu.shape == (2, *net.latent_shape([16] * dims)) == sigma.shape
    assert net.decode(torch.randn_like(mu), y).shape == x.shape


def test_conditional_vae_needs_labels():
    net = ConditionalVAE(3, (8, 16), 2, 1, 4, n_classes=2)
    with pytest.raises(ConfigError, match="class-conditional"):
        net(torch.randn(1, 1, 16, 16, 16))


def test_groupnorm_divisibility_is_a_config_error():
    with pytest.raises(ConfigError, match="norm_num_groups=16"):
        ConditionalVAE(3, (8, 16), 2, 1, 16)


@pytest.mark.parametrize("dims", [2, 3])
def test_gan_shapes_and_projection(dims: int):
    gen = Generator(dims, [16] * dims, latent_dim=8, channels=(16, 8), norm_num_groups=4, n_classes=2)
    disc = Discriminator(dims, (8, 16), n_classes=2)
    y = torch.tensor([0, 1])
    x = gen(torch.randn(2, 8), y)
    assert x.shape == (2, 1, *([16] * dims))
    assert float(x.detach().abs().max()) <= 1.0
    assert disc(x, y).shape == (2,)
    # spectral norm is on every weight of the discriminator
    assert all(hasattr(m, "parametrizations") for m in disc.modules() if isinstance(m, (torch.nn.Conv3d, torch.nn.Conv2d, torch.nn.Linear)))


def test_generator_rejects_bad_grid():
    with pytest.raises(ConfigError, match="divisible by 4"):
        Generator(3, [18, 16, 16], latent_dim=4, channels=(8, 8, 8))


def test_losses_and_kl():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])
    assert float(d_loss(real, fake)) == pytest.approx(0.25 + 0.5)
    assert float(g_loss(fake)) == pytest.approx(1.0)
    mu, sigma = torch.zeros(2, 2, 4, 4, 4), torch.ones(2, 2, 4, 4, 4)
    assert float(kl_per_voxel(mu, sigma, 4096)) == pytest.approx(0.0, abs=1e-7)
    assert float(kl_per_voxel(mu + 1, sigma, 4096)) == pytest.approx(0.5 * 128 / 4096)


def test_slerp_ends_and_diff_augment():
    a, b = torch.randn(16), torch.randn(16)
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-5)
    assert torch.allclose(slerp(a, b, 1.0), b, atol=1e-5)
    x = torch.rand(3, 1, 16, 16, 16, requires_grad=True)
    y = diff_augment(x)
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None
