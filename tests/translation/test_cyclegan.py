"""CycleGAN MR->CT: each mode trains and translates, geometry is kept, save/load and resume are exact."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from medsynth.core.protocols import Translator
from medsynth.io.loading import read_volume
from medsynth.io.volume import Volume
from medsynth.translation.cyclegan import CycleGANTranslator
from medsynth.translation.data import AIR_OUTSIDE_HU, mr_body_mask


@pytest.mark.parametrize("dims", [2, 2.5, 3])
def test_each_mode_trains_and_keeps_geometry(make_config, dims: float, phantom_dir: Path, mr_volume: Volume, tmp_path: Path):
    tr = CycleGANTranslator(make_config(dims)).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "run")
    assert isinstance(tr, Translator)
    ct = tr.translate(mr_volume)
    assert ct.array.shape == mr_volume.array.shape
    np.testing.assert_array_equal(ct.affine, mr_volume.affine)
    assert (ct.modality, ct.units) == ("CT", "HU")
    assert np.isfinite(ct.array).all()
    assert ct.array.min() >= -1024 and ct.array.max() <= 3000
    outside = ~mr_body_mask(mr_volume.array, mr_volume.affine)
    assert outside.any() and np.all(ct.array[outside] == AIR_OUTSIDE_HU)
    assert (tmp_path / "run" / "model" / "weights.pt").is_file()  # fit(out=) saves the model there
    lines = [json.loads(s) for s in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [1, 2, 3]
    assert {"cycle_mr", "cycle_ct", "g_adv_ct", "d_ct", "idt_ct", "lr"} <= set(lines[-1])


def test_translate_is_deterministic_and_save_load_identical(trained_2d: CycleGANTranslator, mr_volume: Volume, tmp_path: Path):
    a = trained_2d.translate(mr_volume)
    np.testing.assert_array_equal(a.array, trained_2d.translate(mr_volume).array)
    trained_2d.save(tmp_path / "model")
    assert {p.name for p in (tmp_path / "model").iterdir()} == {"config.yaml", "weights.pt", "meta.json"}
    state = torch.load(tmp_path / "model" / "weights.pt", weights_only=True)  # plain tensors only
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    meta = json.loads((tmp_path / "model" / "meta.json").read_text())
    assert meta["model"] == "cyclegan" and meta["steps"] == 3 and "torch" in meta["versions"]
    loaded = CycleGANTranslator.load(tmp_path / "model", device="cpu")
    np.testing.assert_array_equal(loaded.translate(mr_volume).array, a.array)


def test_resume_continues_from_the_saved_step(make_config, phantom_dir: Path, tmp_path: Path):
    # with the weight average and the histogram term on: both must resume exactly too
    cfg = make_config(2, train={"max_steps": 4, "checkpoint_every": 2}, optim={"ema": 0.5}, loss={"histogram": 1.0})
    straight = CycleGANTranslator(cfg).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "straight")

    broken = CycleGANTranslator(cfg)
    calls = {"n": 0}
    step = broken._step

    def crash_at_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("simulated crash at step 3")
        return step(*args, **kwargs)

    broken._step = crash_at_third  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        broken.fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "run")
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "failed"
    assert (tmp_path / "run" / "checkpoints" / "step_00000002.pt").is_file()

    resumed = CycleGANTranslator(cfg).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "run", resume=True)
    assert resumed.meta["resumed_from_step"] == 2
    steps = [json.loads(s)["step"] for s in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    for (name, a), b in zip(straight.generators.state_dict().items(), resumed.generators.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=f"{name} differs after resume")


def test_ema_weights_are_what_translates_and_histogram_term_is_logged(make_config, phantom_dir: Path, tmp_path: Path):
    cfg = make_config(2, optim={"ema": 0.5}, loss={"histogram": 2.0, "identity": 0.0}, train={"max_steps": 2})
    tr = CycleGANTranslator(cfg).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "run")
    last = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["hist_ct"] > 0 and last["hist_mr"] > 0
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "step_00000002.pt", weights_only=True)
    used = tr.generators.state_dict()
    assert all(torch.equal(used[k], ckpt["ema_generators"][k]) for k in used)
    assert not all(torch.equal(used[k], ckpt["generators"][k]) for k in used)  # the average, not the last weights
    loaded = CycleGANTranslator.load(tmp_path / "run").generators.state_dict()
    assert loaded.keys() == used.keys()
    assert all(torch.equal(a, b) for a, b in zip(used.values(), loaded.values()))


def test_paired_term_is_used(make_config, phantom_dir: Path, tmp_path: Path):
    cfg = make_config(2, data={"paired": True}, loss={"paired": 10.0, "identity": 0.0}, train={"max_steps": 2})
    CycleGANTranslator(cfg).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "run")
    last = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["paired_l1"] > 0 and "idt_ct" not in last


def test_unet_generator_and_previews(make_config, phantom_dir: Path, tmp_path: Path):
    cfg = make_config(2, generator={"arch": "unet"}, train={"max_steps": 2, "sample_every": 2})
    tr = CycleGANTranslator(cfg).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "run")
    assert (tmp_path / "run" / "samples" / "step_00000002.png").is_file()
    assert tr.generators is not None


def test_fit_without_out_leaves_no_run(make_config, phantom_dir: Path):
    tr = CycleGANTranslator(make_config(2, train={"max_steps": 1})).fit(phantom_dir / "mr", phantom_dir / "ct")
    assert tr.run_dir is None and tr.generators is not None


def test_bias_correction_path_keeps_geometry(trained_2d: CycleGANTranslator, mr_volume: Volume, tmp_path: Path):
    trained_2d.save(tmp_path / "model")
    tr = CycleGANTranslator.load(tmp_path / "model")
    tr.config.data.bias_correction = True
    ct = tr.translate(mr_volume)
    assert ct.same_grid(mr_volume) and np.isfinite(ct.array).all()
    assert not np.array_equal(ct.array, trained_2d.translate(mr_volume).array)


@pytest.mark.parametrize("dims", [2.5, 3])
def test_structure_term_is_used(make_config, dims: float, phantom_dir: Path, tmp_path: Path):
    cfg = make_config(dims, loss={"structure": 1.0, "identity": 0.0}, train={"max_steps": 1, "checkpoint_every": 1})
    CycleGANTranslator(cfg).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "run")
    last = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["struct_ct"] > 0 and last["struct_mr"] > 0


def test_paired_without_cycle_trains_the_mr_to_ct_generator_only(make_config, phantom_dir, tmp_path):
    """loss.cycle 0 with registered pairs: a supervised (pix2pix-style) model; the CT->MR generator is untouched."""
    from medsynth.core.rundir import RunDir
    from medsynth.translation.config import CycleGANConfig

    cfg = make_config(2, data={"paired": True}, loss={"paired": 10.0, "cycle": 0.0, "identity": 0.0, "structure": 1.0, "histogram": 1.0})
    tr = CycleGANTranslator(cfg).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "run")
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    keys = set(lines[-1])
    assert {"paired_l1", "g_adv_ct", "struct_ct", "hist_ct"} <= keys
    assert not keys & {"cycle_mr", "cycle_ct", "g_adv_mr", "struct_mr", "hist_mr"}
    assert lines[-1]["d_mr"] == 0.0
    # Adam keeps state only for parameters that received gradients: exactly the MR->CT generator's
    ckpt = RunDir(tmp_path / "run").load_checkpoint()
    n_mr2ct = sum(1 for _ in tr.generators.mr2ct.parameters())
    assert len(ckpt["opt_g"]["state"]) == n_mr2ct < sum(1 for _ in tr.generators.parameters())
    with pytest.raises(Exception, match="unpaired training needs the cycle term"):
        CycleGANConfig.model_validate(make_config(2, loss={"cycle": 0.0}))


def test_stem_kernel_sets_the_first_and_last_convolution(make_config):
    """generator.stem_kernel 3 makes the 3D ResNet generator's stem and head 3-wide (CycleGAN's 7 by default)."""
    from medsynth.translation.config import CycleGANConfig
    from medsynth.translation.networks import build_generator

    def kernels(cfg: CycleGANConfig) -> list[tuple[int, ...]]:
        convs = [m for m in build_generator(cfg).modules() if isinstance(m, torch.nn.Conv3d)]
        return [convs[0].kernel_size, convs[-1].kernel_size]

    assert kernels(CycleGANConfig.model_validate(make_config(3))) == [(7, 7, 7)] * 2
    small = CycleGANConfig.model_validate(make_config(3, generator={"stem_kernel": 3}))
    assert kernels(small) == [(3, 3, 3)] * 2
    with pytest.raises(Exception, match="stem_kernel"):
        CycleGANConfig.model_validate(make_config(3, generator={"stem_kernel": 4}))


@pytest.mark.parametrize("dims", [2, 2.5])
def test_bone_head_is_trained_saved_and_mixed_into_one_image(make_config, dims: float, phantom_dir: Path, tmp_path: Path):
    """loss.bone_segmentation: the MR->CT generator gets a bone head (probability, bone value, the rest), its terms are
    logged, the output is their mixture sigmoid(logit - offset) * bone + (1 - that) * rest in [-1, 1], the offset the
    calibration chose on the training pairs is in meta and in the saved weights, and it changes the translation."""
    from medsynth.translation.config import CycleGANConfig
    from medsynth.translation.networks import BoneHeadGenerator

    cfg = make_config(dims, data={"paired": True}, loss={"paired": 10.0, "cycle": 0.0, "identity": 0.0,
                                                         "bone_segmentation": 1.0}, train={"max_steps": 2})
    tr = CycleGANTranslator(cfg).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "run")
    last = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["bone_seg"] > 0 and last["paired_l1"] > 0
    g = tr.generators.mr2ct
    assert isinstance(g, BoneHeadGenerator) and not isinstance(tr.generators.ct2mr, BoneHeadGenerator)
    calib = tr.meta["bone_head"]  # chosen on the training pairs (the image's bone), saved as the head's offset
    th = calib["probability_threshold"]
    assert th in CycleGANTranslator.BONE_THRESHOLDS and 0.0 <= calib["train_dice_at_0.5"] <= calib["train_dice"] <= 1.0
    assert float(g.offset) == pytest.approx(np.log(th / (1 - th)), abs=1e-6)
    x = torch.randn(2, tr.config.channels, 32, 32)
    with torch.no_grad():
        g.offset.fill_(0.7)  # by hand: the mixing must subtract it from the logit
        mixed, logit, bone = g.parts(x)
        raw = g.body.net(x)
    c = tr.config.channels
    p = torch.sigmoid(logit - 0.7)
    assert torch.allclose(logit, raw[:, 2 * c :]) and torch.allclose(bone, torch.tanh(raw[:, c : 2 * c]))
    assert torch.allclose(mixed, p * bone + (1 - p) * torch.tanh(raw[:, :c]), atol=1e-6)
    assert mixed.shape == (2, c, 32, 32) and float(mixed.abs().max()) <= 1.0
    mr = read_volume(next((phantom_dir / "mr").iterdir()))
    shifted = tr.translate(mr).array
    tr.save(tmp_path / "model")
    again = CycleGANTranslator.load(tmp_path / "model")
    assert float(again.generators.mr2ct.offset) == pytest.approx(0.7)
    assert np.allclose(again.translate(mr).array, shifted, atol=1e-3)
    with torch.no_grad():
        again.generators.mr2ct.offset.fill_(-3.0)  # much more bone: the image changes
    assert not np.allclose(again.translate(mr).array, shifted, atol=1.0)
    with pytest.raises(Exception, match="bone_segmentation 1 needs registered pairs"):
        CycleGANConfig.model_validate(make_config(2, loss={"bone_segmentation": 1.0}))
    with pytest.raises(Exception, match="loss.bone_hu 250 is outside preprocessing.ct_window"):
        CycleGANConfig.model_validate(make_config(2, data={"paired": True}, loss={"paired": 1.0, "bone_segmentation": 1.0,
                                                                                 "bone_hu": 250.0},
                                                  preprocessing={"ct_window": [-1024.0, 200.0]}))


def test_resuming_with_another_architecture_is_a_named_error(make_config, phantom_dir: Path, tmp_path: Path):
    """A run resumed with a config whose networks differ (a bone head added) names the problem, not torch's traceback."""
    from medsynth.core.errors import RunDirectoryError

    base = {"data": {"paired": True}, "train": {"max_steps": 1, "checkpoint_every": 1}}
    plain = make_config(2, loss={"paired": 10.0, "cycle": 0.0, "identity": 0.0}, **base)
    CycleGANTranslator(plain).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "run")
    headed = make_config(2, loss={"paired": 10.0, "cycle": 0.0, "identity": 0.0, "bone_segmentation": 1.0},
                         data={"paired": True}, train={"max_steps": 2, "checkpoint_every": 1})
    with pytest.raises(RunDirectoryError, match="does not fit the networks this config builds"):
        CycleGANTranslator(headed).fit(phantom_dir / "mr", phantom_dir / "ct", out=tmp_path / "run", resume=True)


def test_bone_head_calibration_scores_the_image_not_the_probability(make_config, phantom_dir: Path):
    """A head whose every voxel reads other -0.9, bone +0.9 and P(bone) 0.1: the image shows bone (above bone_hu, -0.42 on
    the network scale) where the mixture passes it, i.e. where the calibrated probability exceeds 0.27. Made the mixing's
    0.5, the thresholds 0.5-0.3 leave the image without bone (Dice 0), 0.2 and 0.1 mark the whole body: the first such is
    kept, and its training Dice is the whole body's against the registered CTs' bone."""
    from medsynth.translation.cyclegan import CycleGenerators

    cfg = make_config(2, data={"paired": True}, loss={"paired": 10.0, "cycle": 0.0, "identity": 0.0, "bone_segmentation": 1.0})
    tr = CycleGANTranslator(cfg)
    gens = CycleGenerators(tr.config).eval()
    last = gens.mr2ct.body.net[-1].conv
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([np.arctanh(-0.9), np.arctanh(0.9), np.log(0.1 / 0.9)], dtype=torch.float32))
    tr.generators = gens
    src, tgt = tr.training_data(phantom_dir / "mr", phantom_dir / "ct")
    lo, hi = tr.config.preprocessing.ct_window
    bone_t = (tr.config.loss.bone_hu - lo) / (hi - lo) * 2 - 1
    ref = sum(int(((t.tensor[0] > bone_t) & (s.mask | t.mask)).sum()) for s, t in zip(src, tgt))
    body = sum(int((s.mask | t.mask).sum()) for s, t in zip(src, tgt))
    out = tr.calibrate_bone_head(src, tgt)
    assert out["probability_threshold"] == 0.1 and out["train_dice_at_0.5"] == 0.0
    assert out["train_dice"] == pytest.approx(2 * ref / (body + ref), abs=1e-4) and ref > 0
    assert float(gens.mr2ct.offset) == pytest.approx(np.log(0.1 / 0.9)) and tr.meta["bone_head"] == out


def test_an_input_of_another_voxel_size_is_translated_at_the_learned_scale(trained_2d: CycleGANTranslator, phantom_dir: Path):
    from medsynth.core.errors import DataWarning
    from medsynth.io.nifti import read_nifti

    meta = trained_2d.meta["data"]["source_spacing_mm"]
    assert meta == {"min": [2.0, 2.0, 2.0], "max": [2.0, 2.0, 2.0]}  # the phantoms' 2 mm grid
    mr = read_nifti(phantom_dir / "mr" / "case_000.nii.gz", modality="MR")
    near = Volume(mr.array, np.diag([2.3, 1.8, 6.0, 1.0]), modality="MR", meta={"source": "near"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # within 1.25x in-plane; a 2D model ignores slice thickness
        assert "translated_at_mm" not in trained_2d.translate(near).meta
    fine = Volume(mr.array, np.diag([0.8, 0.8, 2.0, 1.0]), modality="MR", meta={"source": "fine_mr"})
    with pytest.warns(DataWarning, match=r"'fine_mr' has voxels of 0.8x0.8x2 mm, but the model learned on 2x2x2 to 2x2x2 mm"):
        ct = trained_2d.translate(fine)
    assert ct.meta["translated_at_mm"] == pytest.approx([2.0, 2.0, 2.0])
    assert ct.same_grid(fine) and np.isfinite(ct.array).all()  # back on the input's own grid
