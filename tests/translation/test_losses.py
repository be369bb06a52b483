"""Loss helpers: LSGAN targets, the image pool's bookkeeping, the linear LR decay, MIND and histogram terms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medsynth.translation.config import LossConfig
from medsynth.translation.losses import (
    ImagePool,
    generator_terms,
    histogram_loss,
    linear_decay,
    lsgan_loss,
    mind,
    paired_l1,
    structure_loss,
)


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


def test_bone_histogram_sees_only_the_bone_tail():
    from medsynth.translation.losses import bone_histogram_loss

    real = torch.full((1, 1, 10, 10), -0.5)
    real[..., :2] = 0.2  # 20% bone
    soft_shift = real.clone()
    soft_shift[..., 2:] = -0.6  # soft tissue darker: invisible above the threshold
    assert float(bone_histogram_loss(soft_shift, real, threshold=-0.3)) == 0.0
    no_bone = torch.full_like(real, -0.5)
    # 20% of the values lose 0.2 - (-0.3) = 0.5 above the threshold
    assert float(bone_histogram_loss(no_bone, real, threshold=-0.3)) == pytest.approx(0.2 * 0.5)


def test_paired_l1_weights_bone_voxels():
    # 3 soft voxels off by 0.1, 1 bone voxel off by 0.5
    target = torch.tensor([-0.5, -0.5, -0.5, 0.5])
    fake = torch.tensor([-0.4, -0.4, -0.4, 0.0])
    assert paired_l1(fake, target, 0.0) == pytest.approx((0.3 + 0.5) / 4)
    assert paired_l1(fake, target, 0.0, 5.0) == pytest.approx((0.3 + 5 * 0.5) / 8)  # bone counts 5x
    assert paired_l1(fake, target, 0.9, 5.0) == pytest.approx((0.3 + 0.5) / 4)  # nothing above the threshold
    # the weighted median moves to bone: one bone voxel among three soft ones at the same input
    x = torch.zeros(4, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        paired_l1(x.mean().expand(4), target, 0.0, 5.0).backward()
        opt.step()
    assert float(x.detach().mean()) > 0.4  # plain L1 would settle on the soft value (-0.5)


def test_generator_terms_use_the_bone_weight():
    out = {"fake_ct": torch.tensor([[-0.4, -0.4, -0.4, 0.0]])}
    target = torch.tensor([[-0.5, -0.5, -0.5, 0.5]])
    mr = torch.zeros(1, 4)
    plain = LossConfig(adversarial=0, cycle=0, identity=0, paired=1.0)
    weighted = LossConfig(adversarial=0, cycle=0, identity=0, paired=1.0, paired_bone_weight=5.0)
    t_plain, _ = generator_terms(out, mr, target, target, plain, None, 0.0)
    t_bone, _ = generator_terms(out, mr, target, target, weighted, None, 0.0)
    assert float(t_plain) == pytest.approx(0.2) and float(t_bone) == pytest.approx(2.8 / 8)
    with pytest.raises(ValueError):
        LossConfig(paired_bone_weight=0.5)


def test_flip_augmentation_mirrors_pairs_alike(make_config, phantom_dir):
    import numpy as np

    from medsynth.translation.cyclegan import CycleGANTranslator
    from medsynth.translation.data import PatchSampler, load_domain

    cfg = make_config(2, data={"paired": True, "flip_axes": [0]}, loss={"paired": 1.0})
    tr = CycleGANTranslator(cfg)
    mrs = sorted((phantom_dir / "mr").glob("*.nii.gz"))
    cts = sorted((phantom_dir / "ct").glob("*.nii.gz"))
    src = PatchSampler(load_domain(mrs, "MR", tr.preprocessor, cfg_obj := tr.config.data, what="mr"), tr.config.patch_3d, 0.9)
    tgt = PatchSampler(load_domain(cts, "CT", tr.preprocessor, cfg_obj, what="ct"), tr.config.patch_3d, 0.9)
    rng = np.random.default_rng(3)
    pos = src.positions(np.random.default_rng(3), tr.config.train.batch_size)
    mr, ct, paired = tr._batch(src, tgt, rng, torch.device("cpu"))
    plain_mr = src.crop(pos)[:, 0].permute(0, 3, 1, 2)
    plain_ct = tgt.crop(pos)[:, 0].permute(0, 3, 1, 2)
    flipped = 0
    for b in range(len(mr)):
        same = torch.equal(mr[b], plain_mr[b])
        mirrored = torch.equal(mr[b], torch.flip(plain_mr[b], [1]))
        assert same or mirrored
        flipped += (not same)
        # the registered CT is mirrored with its MR
        assert torch.equal(ct[b], plain_ct[b] if same else torch.flip(plain_ct[b], [1])) and torch.equal(paired[b], ct[b])
    assert flipped >= 1  # this seed flips at least one of the two samples


def test_windowed_ct_discriminators_see_their_window(make_config):
    from medsynth.translation.config import CycleGANConfig
    from medsynth.translation.cyclegan import CycleDiscriminators

    cfg = CycleGANConfig.model_validate(make_config(2, discriminator={"ct_windows": [[150, 1500]]}))
    discs = CycleDiscriminators(cfg)
    assert len(discs.ct_windows) == 1
    a, b = discs.windows[0]
    assert a == pytest.approx((150 + 1024) / 4024 * 2 - 1) and b == pytest.approx((1500 + 1024) / 4024 * 2 - 1)
    ct = torch.full((2, 1, 16, 16), -0.5)  # soft tissue only: all below the bone window
    bone = ct.clone()
    bone[:, :, 4:8, 4:8] = 0.0  # ~990 HU
    seen = {}
    discs.ct_windows[0].register_forward_hook(lambda m, i, o: seen.setdefault("x", i[0]))
    scores, _ = discs(torch.cat([ct, bone]), torch.zeros(4, 1, 16, 16))
    assert len(scores) == 2
    x = seen["x"]
    assert float(x[:2].max()) == -1.0  # soft tissue is black in the bone window
    assert float(x[2:].max()) == pytest.approx((988 - 150) / 1350 * 2 - 1, abs=1e-3)  # 988 HU bone inside it
    with pytest.raises(Exception, match="low < high"):
        CycleGANConfig.model_validate(make_config(2, discriminator={"ct_windows": [[300, 100]]}))


def test_mr_intensity_augmentation_changes_mr_only(make_config, phantom_dir):
    import numpy as np

    from medsynth.translation.cyclegan import CycleGANTranslator
    from medsynth.translation.data import PatchSampler, load_domain

    tr = CycleGANTranslator(make_config(2, data={"paired": True, "mr_intensity_augment": 0.3}, loss={"paired": 1.0}))
    mrs, cts = sorted((phantom_dir / "mr").glob("*.nii.gz")), sorted((phantom_dir / "ct").glob("*.nii.gz"))
    src = PatchSampler(load_domain(mrs, "MR", tr.preprocessor, tr.config.data, what="mr"), tr.config.patch_3d, 0.9)
    tgt = PatchSampler(load_domain(cts, "CT", tr.preprocessor, tr.config.data, what="ct"), tr.config.patch_3d, 0.9)
    pos = src.positions(np.random.default_rng(5), tr.config.train.batch_size)
    mr, ct, _ = tr._batch(src, tgt, np.random.default_rng(5), torch.device("cpu"))
    plain_mr = src.crop(pos)[:, 0].permute(0, 3, 1, 2)
    assert torch.equal(ct, tgt.crop(pos)[:, 0].permute(0, 3, 1, 2))  # the CT is never changed
    assert not torch.allclose(mr, plain_mr) and float(mr.min()) >= -1 and float(mr.max()) <= 1
    # a monotone map of each patch: the order of the voxels is kept
    for b in range(len(mr)):
        order = torch.argsort(plain_mr[b].flatten())
        assert bool((mr[b].flatten()[order].diff() >= -1e-6).all())
