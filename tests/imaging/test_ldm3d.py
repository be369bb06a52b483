"""ldm3d at 16^3 on CPU: stages, guidance, samplers, resume across stages, a given first stage, image + mask pairs."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from imaging_helpers import tiny_config

from medsynth.cli.main import main
from medsynth.core.errors import ConfigError, DataValidationError
from medsynth.imaging.ldm3d import LDM3D
from medsynth.imaging.vae3d import VAE3D
from medsynth.io.nifti import read_nifti
from medsynth.io.volume import Volume

PHANTOM_MASKS = {"organ_label": 3, "lesion_label": 5, "label_names": ["air", "fat", "soft_tissue", "organ", "bone", "lesion"]}


@pytest.fixture(scope="module")
def pairs_run(phantom_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A class-conditional, mask-conditioned ldm3d: autoencoder 2, diffusion 3, controlnet 2 steps."""
    run = tmp_path_factory.mktemp("ldm") / "run"
    cfg = tiny_config("ldm3d", train={"max_steps": 7, "checkpoint_every": 2}, stages={"autoencoder": 0.3, "diffusion": 0.4, "controlnet": 0.3},
                      masks=PHANTOM_MASKS)
    model = LDM3D(cfg).fit(phantom_dir / "ct", out=run, labels_csv=phantom_dir / "labels.csv", labels_dir=phantom_dir / "labels")
    return {"model": model, "run": run, "config": cfg}


def test_stages_run_dir_and_metadata(pairs_run: dict[str, Any]):
    model, run = pairs_run["model"], pairs_run["run"]
    assert model.stage_steps == {"autoencoder": 2, "diffusion": 3, "controlnet": 2}
    for stage, last in model.stage_steps.items():
        assert (run / "checkpoints" / stage / "LATEST").read_text().strip() == f"step_{last:08d}.pt"
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["stage"] for r in lines] == ["autoencoder"] * 2 + ["diffusion"] * 3 + ["controlnet"] * 2
    assert [r["step"] for r in lines] == list(range(1, 8)) and all(np.isfinite(r["loss"]) for r in lines)
    meta = json.loads((run / "model" / "meta.json").read_text())
    assert meta["model"] == "ldm3d" and meta["mask_classes"] == 6 and meta["label_names"] == ["lesion", "no_lesion"]
    assert meta["latent_shape"] == [2, 8, 8, 8] and 0.05 < meta["latent_scale_factor"] < 50
    assert meta["mask_label_names"]["5"] == "lesion"
    state = torch.load(run / "model" / "weights.pt", map_location="cpu", weights_only=True)
    assert set(state) == {"vae", "unet", "controlnet"}
    with np.load(run / "private" / "training_masks.npz") as z:
        assert len(z.files) == 6 and set(np.unique(z[z.files[0]])) <= set(range(6))


def test_same_seed_same_sample_and_load(pairs_run: dict[str, Any], tmp_path: Path):
    model, run = pairs_run["model"], pairs_run["run"]
    a = model.sample(2, seed=3, label="lesion")
    b = LDM3D.load(run).sample(2, seed=3, label="lesion")
    assert all(np.array_equal(x.array, y.array) for x, y in zip(a, b))
    assert a[0].spatial_shape == (16, 16, 16) and a[0].meta["label"] == "lesion"
    c = model.sample(1, seed=4, label="lesion")
    assert not np.array_equal(a[0].array, c[0].array)


def test_guidance_and_ddim_change_the_sampler(pairs_run: dict[str, Any]):
    model = pairs_run["model"]
    z = torch.stack([model._noise(1)])
    y = torch.tensor([0])
    with_cfg = model._decode(z, y)
    model.config.diffusion.guidance_scale = 1.0
    try:
        without = model._decode(z, y)
    finally:
        model.config.diffusion.guidance_scale = 2.0
    assert not torch.allclose(with_cfg, without)
    cfg = tiny_config("ldm3d", diffusion={"scheduler": "ddim", "inference_steps": 3})
    from monai.networks.schedulers import DDIMScheduler

    m = LDM3D(cfg)
    m.build()
    assert isinstance(m.scheduler, DDIMScheduler) and len(m.scheduler.timesteps) == 3


def test_pairs_from_given_and_new_masks(pairs_run: dict[str, Any], phantom_dir: Path, tmp_path: Path):
    from medsynth.imaging.jobs import read_masks

    model = pairs_run["model"]
    given = read_masks(phantom_dir / "labels")[:2]
    pairs = model.sample_pairs(given, seed=0)
    assert len(pairs) == 2
    for p, m in zip(pairs, given):
        assert p.image.same_grid(p.label) and p.image.modality == "CT" and p.label.modality == "SEG"
        np.testing.assert_array_equal(p.label.array, m.array)  # already on the training grid: the same map
    new = model.new_masks(5, seed=2)
    again = model.new_masks(5, seed=2)
    assert all(np.array_equal(a.array, b.array) for a, b in zip(new, again))
    assert any(not np.array_equal(n.array, given[0].array) for n in new)
    for n in new:
        assert set(np.unique(n.array)) <= set(range(6))
        lesion = n.array == 5
        if lesion.any():  # lesions stay inside the organ region of the source anatomy (never in air)
            assert not np.any(lesion & (n.array == 0))


def test_lesion_insertion_inside_the_organ():
    from medsynth.imaging.config import MaskConfig
    from medsynth.imaging.masks import insert_lesion, new_mask

    m = np.zeros((20, 20, 20), dtype=np.int64)
    m[4:16, 4:16, 4:16] = 3
    rng = np.random.default_rng(0)
    assert insert_lesion(m, 3, 5, 2.0, rng)
    lesion = np.argwhere(m == 5)
    assert len(lesion) >= 19 and np.ptp(lesion, axis=0).min() >= 3  # at least 3 voxels across
    assert lesion.min() >= 4 and lesion.max() <= 15
    thin = np.zeros((10, 10, 10), dtype=np.int64)
    thin[5, :, :] = 3
    assert not insert_lesion(thin, 3, 5, 2.0, rng)  # no room: nothing painted
    cfg = MaskConfig(organ_label=3, lesion_label=5, insert_probability=0.0, remove_probability=1.0, elastic_magnitude=(0.0, 0.0), flip_axes=())
    src = m.copy()
    out, log = new_mask(src, cfg, 0)
    assert log["lesion_removed"] and not (out == 5).any() and (out == 3).sum() == (src > 0).sum()
    with pytest.raises(ConfigError):
        tiny_config("ldm3d", masks={"organ_label": 3})


def test_cli_writes_pairs_monai_can_read(pairs_run: dict[str, Any], phantom_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from monai.data import Dataset
    from monai.transforms import Compose, LoadImaged

    run = pairs_run["run"]
    out = tmp_path / "pairs"
    assert main(["image", "sample", str(run), "--new-masks", "3", "--out", str(out), "--seed", "1", "--label", "lesion"]) == 0
    ds = json.loads((out / "dataset.json").read_text())
    assert ds["numTraining"] == 3 and ds["labels"]["lesion"] == 5 and ds["channel_names"] == {"0": "CT"}
    assert sorted(p.name for p in (out / "image").iterdir()) == [f"case_{i:05d}_0000.nii.gz" for i in range(3)]
    rows = list(csv.DictReader(open(out / "manifest.csv", encoding="utf-8")))
    assert [r["seed"] for r in rows] == ["1", "2", "3"] and all(r["mask_source"].startswith("new:") for r in rows)
    items = [{k: str(out / v) for k, v in d.items()} for d in ds["training"]]
    loaded = Dataset(items, transform=Compose([LoadImaged(keys=["image", "label"], ensure_channel_first=True)]))[0]
    assert tuple(loaded["image"].shape) == (1, 16, 16, 16) and tuple(loaded["label"].shape) == (1, 16, 16, 16)
    assert np.allclose(loaded["image"].affine, loaded["label"].affine)
    # one image per given mask
    out2 = tmp_path / "given"
    assert main(["image", "sample", str(run), "--masks", str(phantom_dir / "labels"), "--out", str(out2)]) == 0
    assert json.loads((out2 / "dataset.json").read_text())["numTraining"] == 6
    lab = read_nifti(out2 / "label" / "case_00000.nii.gz", modality="SEG")
    np.testing.assert_array_equal(lab.array, read_nifti(phantom_dir / "labels" / "case_000.nii.gz").array)
    # errors: --n with masks; a model without label maps
    assert main(["image", "sample", str(run), "--n", "2", "--new-masks", "2", "--out", str(tmp_path / "x")]) == 2
    assert "--n does not go with" in capsys.readouterr().err


def test_resume_across_stages_equals_an_uninterrupted_run(phantom_dir: Path, tmp_path: Path):
    cfg = tiny_config("ldm3d", train={"max_steps": 6, "checkpoint_every": 1}, stages={"autoencoder": 0.5, "diffusion": 0.5})
    straight = LDM3D(cfg).fit(phantom_dir / "ct", out=tmp_path / "straight", labels_csv=phantom_dir / "labels.csv")
    crashing = LDM3D(cfg)
    stages = crashing.stages

    def crash_in_diffusion(train_data):  # wrap the diffusion stage's step: crash at its 2nd step
        out = stages(train_data)
        step = out[1].step

        def crash(k: int):
            if k == 2:
                raise KeyboardInterrupt("simulated crash")
            return step(k)

        out[1] = out[1].__class__(**{**out[1].__dict__, "step": crash})
        return out

    crashing.stages = crash_in_diffusion  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        crashing.fit(phantom_dir / "ct", out=tmp_path / "resumed", labels_csv=phantom_dir / "labels.csv")
    resumed = LDM3D(cfg).fit(phantom_dir / "ct", out=tmp_path / "resumed", resume=True, labels_csv=phantom_dir / "labels.csv")
    for name in ("vae", "unet"):
        a, b = straight.nets[name].state_dict(), resumed.nets[name].state_dict()
        assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a), name
    assert resumed.scale_factor == pytest.approx(straight.scale_factor)
    steps = [json.loads(line)["step"] for line in (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 7))


def test_a_trained_vae3d_as_the_first_stage(phantom_dir: Path, tmp_path: Path):
    vae_cfg = tiny_config("vae3d", data={"conditional": False}, model={"channels": [8, 16], "norm_num_groups": 4, "latent_channels": 2})
    VAE3D(vae_cfg).fit(phantom_dir / "ct", out=tmp_path / "vae")
    cfg = tiny_config("ldm3d", model={"autoencoder": str(tmp_path / "vae")}, train={"max_steps": 2})
    ldm = LDM3D(cfg).fit(phantom_dir / "ct", out=tmp_path / "ldm")
    assert ldm.stage_steps == {"diffusion": 2}
    assert not (tmp_path / "ldm" / "checkpoints" / "autoencoder").exists()
    vae = VAE3D.load(tmp_path / "vae")
    a, b = vae.nets["vae"].state_dict(), ldm.nets["vae"].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # the given first stage, untouched
    assert LDM3D.load(tmp_path / "ldm").sample(1, seed=0)[0].spatial_shape == (16, 16, 16)
    # a class-conditional vae3d, or one on another grid, is refused with the reason
    VAE3D(tiny_config("vae3d")).fit(phantom_dir / "ct", out=tmp_path / "cvae", labels_csv=phantom_dir / "labels.csv")
    with pytest.raises(ConfigError, match="class-conditional"):
        LDM3D(tiny_config("ldm3d", model={"autoencoder": str(tmp_path / "cvae")})).fit(phantom_dir / "ct")
    with pytest.raises(ConfigError, match="preprocessing.spacing"):
        LDM3D(tiny_config("ldm3d", model={"autoencoder": str(tmp_path / "vae")}, preprocessing={"spacing": [3.0, 3.0, 3.0]})).fit(phantom_dir / "ct")


def test_mask_errors(phantom_dir: Path, tmp_path: Path, trained: dict[str, Any]):
    from medsynth.imaging.gan3d import GAN3D

    with pytest.raises(ConfigError, match="does not train on image \\+ label-map pairs"):
        GAN3D(tiny_config("gan3d")).fit(phantom_dir / "ct", labels_dir=phantom_dir / "labels")
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "case_000.nii.gz").write_bytes((phantom_dir / "labels" / "case_000.nii.gz").read_bytes())
    with pytest.raises(DataValidationError, match="'case_001.nii.gz' has no label map"):
        LDM3D(tiny_config("ldm3d")).fit(phantom_dir / "ct", labels_dir=partial)
    assert main(["image", "sample", str(trained["vae3d"]["run"]), "--new-masks", "2", "--out", str(tmp_path / "o")]) == 2


def test_api_loads_a_pairs_run_and_samples_pairs(pairs_run: dict[str, Any], phantom_dir: Path):
    import medsynth.image as mi

    model = mi.load(pairs_run["run"])
    assert model.kind == "ldm3d" and model.mask_conditioned and "label maps with 6 labels" in repr(model)
    pairs = model.sample_pairs(new_masks=2, seed=3, label="lesion")
    assert len(pairs) == 2 and all(p.image.spatial_shape == p.label.spatial_shape == (16, 16, 16) for p in pairs)
    assert [p.image.meta["seed"] for p in pairs] == [3, 4] and pairs[0].image.units == "HU" and pairs[0].label.modality == "SEG"
    given = model.sample_pairs(phantom_dir / "labels", seed=0)
    assert len(given) == 6 and set(np.unique(given[0].label.array)) <= set(range(6))
    with pytest.raises(ConfigError, match="give masks"):
        model.sample_pairs()


def _tissue_medians(images: list[np.ndarray], masks: list[np.ndarray], window: tuple[float, float]) -> dict[int, float]:
    """Median HU per label over all volumes, real HU clipped to the model's window (what it is trained on)."""
    out = {}
    for k in range(6):
        vals = np.concatenate([np.clip(im, *window)[np.rint(m) == k] for im, m in zip(images, masks)])
        if vals.size:
            out[k] = float(np.median(vals))
    return out


def test_window_round_trip_keeps_tissue_hu(pairs_run: dict[str, Any], phantom_dir: Path):
    """Preprocessing (HU -> [-1, 1]) and to_volume ([-1, 1] -> HU) are exact inverses inside the window."""
    from medsynth.imaging.jobs import read_masks

    model = pairs_run["model"]
    cts = [read_nifti(p, modality="CT") for p in sorted((phantom_dir / "ct").iterdir())]
    masks = [model.mask_on_grid(m)[0].numpy() for m in read_masks(phantom_dir / "labels")]
    on_grid = [model.preprocessor(v).tensor for v in cts]
    back = [model.to_volume(t.as_tensor() if hasattr(t, "as_tensor") else t, seed=None, label=None).array for t in on_grid]
    grid_hu = [(np.asarray(t)[0] + 1.0) / 2.0 * 2048.0 - 1024.0 for t in on_grid]
    real, rt = _tissue_medians(grid_hu, masks, model.window), _tissue_medians(back, masks, model.window)
    assert set(real) == set(range(6)) and real[0] < -900  # air stays air: the window [-1024, 1024] holds it
    assert all(abs(rt[k] - real[k]) < 1.0 for k in real), (real, rt)


def test_pair_samples_keep_tissue_hu(pairs_run: dict[str, Any], phantom_dir: Path):
    """Generated pairs hold each tissue's training HU (per-tissue calibration); without it a small model does not.

    Bound: 10 HU, a third of the smallest tissue contrast that matters here (lesion vs organ, ~30 HU in
    the phantoms), so a lesion rendered at the organ's intensity fails. Calibrated medians differ from
    the training ones only by quantile interpolation (65 quantiles per tissue) and the tissues' share
    of each volume.
    """
    from medsynth.imaging.jobs import read_masks

    model, run = pairs_run["model"], pairs_run["run"]
    given = read_masks(phantom_dir / "labels")
    cts = [read_nifti(p, modality="CT") for p in sorted((phantom_dir / "ct").iterdir())]
    on_grid = [np.asarray(model.preprocessor(v).tensor)[0] for v in cts]
    real = _tissue_medians([(x + 1.0) / 2.0 * 2048.0 - 1024.0 for x in on_grid], [model.mask_on_grid(m)[0].numpy() for m in given],
                           model.window)
    assert len(model.tissue_quantiles) == 6 and all(len(q) == 65 for q in model.tissue_quantiles)
    pairs = model.sample_pairs(given, seed=0)
    synth = _tissue_medians([p.image.array for p in pairs], [p.label.array for p in pairs], model.window)
    assert all(abs(synth[k] - real[k]) < 10.0 for k in real), (real, synth)
    loaded = LDM3D.load(run)  # the quantiles travel in meta.json
    assert loaded.tissue_quantiles == model.tissue_quantiles
    assert all(np.array_equal(a.image.array, b.image.array) for a, b in zip(loaded.sample_pairs(given, seed=0), pairs))
    raw = LDM3D.load(run)
    raw.config = raw.config.model_copy(update={"masks": raw.config.masks.model_copy(update={"calibrate": False})})
    unc = _tissue_medians([p.image.array for p in raw.sample_pairs(given, seed=0)], [p.label.array for p in pairs], model.window)
    assert max(abs(unc[k] - real[k]) for k in real) > 10.0, unc  # 7 training steps: far from the tissues' HU


def test_images_given_as_masks_are_named_before_sampling(pairs_run: dict[str, Any], phantom_dir: Path):
    """`image sample RUN --masks` pointed at the brain MR NRRDs instead of their label maps said only 'label map holds
    label 2450' (which file?); now every bad map is named with its values, before any sampling."""
    model = pairs_run["model"]
    image = read_nifti(phantom_dir / "ct" / "case_000.nii.gz")
    image.meta["mask_source"] = "case_000.nii.gz"
    good = read_nifti(phantom_dir / "labels" / "case_001.nii.gz", modality="SEG")
    with pytest.raises(DataValidationError, match=r"'case_000.nii.gz' holds values .*labels 0\.\.5") as exc:
        model.sample_pairs([good, image], seed=0)
    assert "1 of 2 label maps" in str(exc.value)


def test_the_elastic_deformation_of_a_new_mask_moves_its_edges_by_the_voxels_asked():
    """An imaging researcher: `--new-masks` handed back training label maps unchanged: MONAI's magnitude (1, 3) is no
    displacement in voxels, and moved the map by 0.02 voxel (0 of 73,728 voxels changed). The configured magnitude is
    now the displacement's deviation per axis in voxels."""
    from medsynth.imaging.config import MaskConfig
    from medsynth.imaging.masks import new_mask

    m = np.zeros((40, 40, 32), dtype=np.int64)
    m[8:32, 8:32, 6:26] = 1
    m[16:24, 16:24, 12:20] = 2
    boundary = int(np.count_nonzero(np.diff(m, axis=0)) + np.count_nonzero(np.diff(m, axis=1)) + np.count_nonzero(np.diff(m, axis=2)))
    for seed in range(3):
        out, log = new_mask(m, MaskConfig(flip_axes=()), seed)
        changed = int(np.count_nonzero(out != m))
        assert changed == log["elastic"]["voxels_changed"] and changed > 0.5 * boundary, (changed, boundary, log)
        assert set(np.unique(out)) == {0, 1, 2} and abs(int((out == 2).sum()) - 512) < 0.5 * 512
    still, _ = new_mask(m, MaskConfig(flip_axes=(), elastic_magnitude=(0.0, 0.0)), 0)
    assert np.array_equal(still, m)


def test_a_given_label_map_whose_structure_the_training_grid_loses_is_warned_of(pairs_run: dict[str, Any], phantom_dir: Path):
    """An imaging researcher's brain tumour of 453 voxels came out as 1 voxel of its pair on an 8 mm training grid, with
    no word of it. Each label keeping less than half its volume (mm3) on the training grid is now named."""
    import warnings

    from medsynth.core.errors import DataWarning
    from medsynth.imaging.jobs import read_masks

    model = pairs_run["model"]
    given = read_masks(phantom_dir / "labels")[:1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        model.sample_pairs(given, seed=0)  # already on the training grid: nothing lost, no warning
    fine = given[0]
    arr = np.zeros_like(np.asarray(fine.array))
    arr[5:7, 5:7, 5:7] = 5  # a lesion of 8 voxels at a quarter of the training spacing, between its grid points
    tiny = Volume(arr, fine.affine @ np.diag([0.25, 0.25, 0.25, 1.0]), modality="SEG", meta={"mask_source": "tiny.nii.gz"})
    with pytest.warns(DataWarning, match=r"'tiny.nii.gz' label 5 keeps 0%"):
        model.sample_pairs([tiny], seed=0)
