"""The real-anatomy known-answer benchmark of MR -> CT translation (``translation.py real-anatomy``).

No public paired human MR/CT is available offline, so the answer is built from real anatomy: the real
CTs in ``../shared/data/imaging/totalsegmentator`` (the 122x101x112 abdominal/pelvic NIfTI at 3 mm, and
the 20-slice 512x512 DICOM series of another subject, resampled to 3 mm) are split into cases, and
each case's registered MR is simulated from its CT with MR physics (:func:`medsynth.io.phantoms.simulate_mr`:
tissue fractions by HU, 1.5 T relaxation times, spin-echo T1 weighting, bias field, Rician noise,
partial volume). The real CT is the answer.

Cases: the NIfTI CT's 112 slices in 8 slabs of 14 (42 mm), ``a0`` (hips, with a hip prosthesis)
to ``a7`` (liver, kidneys), and ``b`` (the DICOM subject: upper abdomen, arms beside the trunk, the
couch under it). ``example_ct_sm.nii.gz`` is slices 82-111 of the same NIfTI CT, so it adds nothing.
Unpaired protocol: MR of ``a0 a3 a6``, CT of ``a1 a4 a7`` (disjoint regions, each domain from pelvis
to upper abdomen); held out (never seen, as MR or as CT): ``a2 a5`` and the other subject ``b``.
Each held-out MR is translated and scored against its real CT inside the CT's body mask (with the
arms, without the couch), SynthRAD conventions: MAE, PSNR (4024 HU peak) and masked MS-SSIM, plus
bone Dice (HU > 250 in both), the HU error inside the reference's bone, MAE per tissue, the share of
bone, and the slice-to-slice discontinuity against the reference CT's own.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEDSYNTH_SHARED_DATA", ROOT.parent / "shared" / "data"))
DATA = SHARED / "imaging" / "totalsegmentator"

PROTOCOL: dict[str, Any] = {
    "slab_slices": 14,
    "spacing_mm": [3.0, 3.0, 3.0],
    "mr_train": ["a0", "a3", "a6"],
    "ct_train": ["a1", "a4", "a7"],
    "test": ["a2", "a5", "b"],
    "mr_seed": 500,  # case i's MR uses seed mr_seed + i (relaxation jitter, bias field, noise)
    "mr_contrast": "T1",
}
#: CPU sizes for the shipped configs (only network width/depth, patch and run length change).
CPU_NETS: dict[float, list[str]] = {
    2: ["generator.base_channels=16", "generator.n_res_blocks=3", "discriminator.channels=32", "data.patch_size=[64,64]",
        "inference.roi_size=[64,64]"],
    2.5: ["generator.base_channels=16", "generator.n_res_blocks=3", "discriminator.channels=32", "data.patch_size=[64,64]",
          "inference.roi_size=[64,64]"],
    3: ["generator.base_channels=8", "generator.n_res_blocks=2", "generator.stem_kernel=3", "discriminator.channels=16", "discriminator.num_layers=2",
        "data.patch_size=[48,48,12]", "train.batch_size=2", "inference.roi_size=[48,48,12]"],
}
CONFIG_FILES = {2: "mr2ct_cyclegan_2d.yaml", 2.5: "mr2ct_cyclegan_25d.yaml", 3: "mr2ct_cyclegan_3d.yaml"}


def _resample(volume, spacing: tuple[float, float, float]):
    """``volume`` (CT, HU) on a grid of ``spacing`` mm, same orientation and extent (MONAI Spacing, bilinear)."""
    from medsynth.io.transforms import PreprocessConfig, VolumePreprocessor
    from medsynth.io.volume import Volume

    pre = VolumePreprocessor(PreprocessConfig(orientation=None, spacing=spacing, ct_window=(-1024.0, 3071.0)))
    prepared = pre(volume)
    t = prepared.tensor
    hu = pre.to_intensity(t.as_tensor() if hasattr(t, "as_tensor") else t, prepared.low, prepared.high)[0]
    return Volume(hu.astype(np.float32), np.asarray(t.affine, dtype=np.float64), modality="CT", meta=dict(volume.meta))


def real_cts() -> dict[str, Any]:
    """The cases' real CTs (HU, 3 mm), by case name; empty when the shared data is absent."""
    from medsynth.io.loading import load_volume
    from medsynth.io.volume import Volume

    nifti, dicom = DATA / "example_ct.nii.gz", DATA / "example_ct_dicom"
    if not (nifti.is_file() and dicom.is_dir()):
        return {}
    a = load_volume(nifti, modality="CT")
    n = PROTOCOL["slab_slices"]
    out = {}
    for s in range(a.array.shape[2] // n):
        shift = np.eye(4)
        shift[2, 3] = s * n
        out[f"a{s}"] = Volume(np.ascontiguousarray(a.array[:, :, s * n : (s + 1) * n]), a.affine @ shift, modality="CT",
                              meta={"source": f"{nifti.name} slices {s * n}-{(s + 1) * n - 1}"})
    b = _resample(load_volume(dicom, modality="CT"), tuple(PROTOCOL["spacing_mm"]))
    b.meta["source"] = f"{dicom.name} resampled to 3 mm"
    out["b"] = b
    return out


def build_cases(work: Path) -> dict[str, dict[str, Any]]:
    """Write every case as ``work/anatomy/{ct,mr,labels,body}/<case>.nii.gz`` (+ ``labels/tissues.json``).

    Returns:
        case name -> {"ct", "mr", "labels", "body": paths, "source": str, "shape": [...]}.
    """
    from medsynth.io.nifti import write_nifti
    from medsynth.io.phantoms import ANATOMY_TISSUES, AnatomyMRConfig, simulate_mr
    from medsynth.io.volume import Volume
    from medsynth.translation.data import ct_body_mask

    root = work / "anatomy"
    cts = real_cts()
    if not cts:
        return {}
    cfg = AnatomyMRConfig(contrast=PROTOCOL["mr_contrast"])
    out: dict[str, dict[str, Any]] = {}
    for i, (name, ct) in enumerate(cts.items()):
        paths = {k: root / k / f"{name}.nii.gz" for k in ("ct", "mr", "labels", "body")}
        if not all(p.is_file() for p in paths.values()):
            body = ct_body_mask(ct.array, ct.affine)
            case = simulate_mr(ct, PROTOCOL["mr_seed"] + i, cfg, body=body)
            write_nifti(case.ct, paths["ct"])
            write_nifti(case.mr, paths["mr"], dtype="float32")
            write_nifti(case.labels, paths["labels"])
            write_nifti(Volume(body.astype(np.uint8), ct.affine, modality="SEG"), paths["body"])
        out[name] = {**paths, "source": ct.meta.get("source", name), "shape": list(ct.array.shape)}
    (root / "labels" / "tissues.json").write_text(json.dumps({str(i): t for i, t in enumerate(ANATOMY_TISSUES)}), encoding="utf-8")
    return out


def model_config(mode: float, steps: int, threads: int, seed: int, overrides: list[str] | None = None):
    """The shipped config of ``mode`` (configs/mr2ct_cyclegan_*.yaml) at CPU size, ``steps`` long."""
    from medsynth.core.config import load_config
    from medsynth.translation.config import CycleGANConfig

    sets = [*CPU_NETS[mode], f"train.max_steps={steps}", "train.device=cpu", f"train.num_threads={threads}",
            f"train.seed={seed}", f"train.checkpoint_every={max(1, steps // 4)}", "train.log_every=25", "train.sample_every=0",
            *(overrides or [])]
    return load_config(CycleGANConfig, ROOT / "configs" / CONFIG_FILES[mode], overrides=sets)


def training_domains(cases: dict[str, dict[str, Any]], paired: bool) -> tuple[list[Path], list[Path]]:
    """MR and CT training files: unpaired (MR of ``mr_train``, CT of ``ct_train``), or, ``paired``, the registered
    MR and CT of all six training regions (what a site with registered pairs would train on)."""
    if paired:
        both = PROTOCOL["mr_train"] + PROTOCOL["ct_train"]
        return [cases[c]["mr"] for c in both], [cases[c]["ct"] for c in both]
    return [cases[c]["mr"] for c in PROTOCOL["mr_train"]], [cases[c]["ct"] for c in PROTOCOL["ct_train"]]


def seconds_per_step(mode: float, cases: dict[str, dict[str, Any]], threads: int, overrides: list[str] | None, work: Path,
                     probe: int = 24) -> float:
    """Measured CPU seconds (process time: what the machine's other jobs do not change) per training step of
    ``mode``, from a short run of ``probe`` steps minus a 2-step run (data loading, run folder and save), both
    after an untimed warm-up run."""
    from medsynth.translation.cyclegan import CycleGANTranslator

    cfg = model_config(mode, probe, threads, 0, overrides)
    mr, ct = training_domains(cases, cfg.data.paired)
    two = cfg.model_copy(update={"train": cfg.train.model_copy(update={"max_steps": 2})})
    CycleGANTranslator(two).fit(mr, ct, out=work / f"probe_{mode}", force=True)  # warm-up: imports, first kernels (not timed)
    t0 = time.process_time()
    CycleGANTranslator(two).fit(mr, ct, out=work / f"probe_{mode}", force=True)
    warm = time.process_time() - t0
    t0 = time.process_time()
    CycleGANTranslator(cfg).fit(mr, ct, out=work / f"probe_{mode}", force=True)
    total = time.process_time() - t0
    # the fixed cost (data loading, run folder, save) is about the 2-step run's
    return max(1e-3, (total - warm) / (probe - 2))


def score_case(translator, case: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    """All figures of one held-out case (see the module docstring)."""
    from medsynth.evaluation import hu_metrics as hm
    from medsynth.io.loading import load_volume

    mr = load_volume(case["mr"])
    ref = load_volume(case["ct"], modality="CT").array
    labels = load_volume(case["labels"], modality="SEG").array.astype(int)
    body = load_volume(case["body"], modality="SEG").array > 0
    cfg = translator.config
    has_spread = cfg.spatial_dims != 2 or bool(cfg.inference.mirror_axes)  # else one prediction per voxel
    t0 = time.perf_counter()
    if has_spread:
        sct, spread = translator.translate(mr, return_spread=True)
        spread_arr = spread.array
    else:
        sct, spread_arr = translator.translate(mr), None
    seconds = time.perf_counter() - t0
    pred = sct.array
    r: dict[str, Any] = hm.report(pred, ref, body)
    per = hm.tissue_errors(pred, ref, labels, names, mask=body)
    r["mae_by_tissue_hu"], r["bias_by_tissue_hu"] = per["mae"], per["bias"]
    bone = body & (ref > hm.BONE_HU)
    err = np.clip(pred, *hm.HU_RANGE) - np.clip(ref, *hm.HU_RANGE)
    r["bone_mae_hu"] = float(np.abs(err[bone]).mean()) if bone.any() else None
    r["bone_bias_hu"] = float(err[bone].mean()) if bone.any() else None
    if spread_arr is not None:
        s, e = spread_arr[body], np.abs(err[body])
        top = s >= np.quantile(s, 0.9)
        r["spread"] = {
            "mean_hu": float(s.mean()),
            "corr_with_abs_error": float(np.corrcoef(s, e)[0, 1]) if s.std() > 0 else 0.0,
            "mae_in_top10pct_spread_hu": float(e[top].mean()),
            "mae_elsewhere_hu": float(e[~top].mean()),
        }
    r["translate_seconds"] = seconds
    return r


def summarise(cases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Means over the held-out cases (per-tissue: over the cases that have the tissue)."""
    keys = ["mae_hu", "psnr_db", "ms_ssim", "ssim", "bone_dice", "bone_share_pred", "bone_share_ref", "bone_mae_hu",
            "bone_bias_hu", "discontinuity_pred_mad", "discontinuity_ref_mad", "discontinuity_excess_mad", "discontinuity_ratio",
            "translate_seconds"]
    vals = list(cases.values())
    mean = {k: float(np.mean([v[k] for v in vals if v.get(k) is not None])) for k in keys}
    tissues = sorted({t for v in vals for t in v["mae_by_tissue_hu"]})
    mean["mae_by_tissue_hu"] = {t: float(np.mean([v["mae_by_tissue_hu"][t] for v in vals if t in v["mae_by_tissue_hu"]])) for t in tissues}
    if all("spread" in v for v in vals):
        mean["spread"] = {k: float(np.mean([v["spread"][k] for v in vals])) for k in vals[0]["spread"]}
    return mean


def run_mode(work: Path, cases: dict[str, dict[str, Any]], mode: float, seed: int, steps: int, threads: int,
             overrides: list[str] | None = None, tag: str = "") -> dict[str, Any]:
    """Train one model of ``mode`` with the shipped recipe and score it on the held-out cases."""
    from medsynth.io.phantoms import ANATOMY_TISSUES
    from medsynth.translation.cyclegan import CycleGANTranslator

    cfg = model_config(mode, steps, threads, seed, overrides)
    run = work / f"run_{tag or 'anatomy'}_{mode}_s{seed}"
    load0 = os.getloadavg()
    mr, ct = training_domains(cases, cfg.data.paired)
    samples: list[float] = []
    done = threading.Event()

    def sample_load() -> None:  # the 1-minute load average every 30 s while the model trains
        while not done.wait(30.0):
            samples.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample_load, daemon=True)
    sampler.start()
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        tr = CycleGANTranslator(cfg).fit(mr, ct, out=run, force=True)
    finally:
        done.set()
        sampler.join()
    train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0
    load1 = os.getloadavg()
    names = dict(enumerate(ANATOMY_TISSUES))
    per_case = {c: score_case(tr, cases[c], names) for c in PROTOCOL["test"]}
    return {
        "spatial_dims": mode,
        "seed": seed,
        "steps": steps,
        "train_seconds": train_s,
        "train_cpu_seconds": train_cpu,
        "cpu_seconds_per_step": train_cpu / steps,
        "load_average_before_after": [load0, load1],
        "load_average_1min_during_training": {"mean": float(np.mean(samples)) if samples else load1[0],
                                              "max": float(np.max(samples)) if samples else load1[0], "samples": len(samples),
                                              "cores": os.cpu_count()},
        "run_dir": str(run),
        "overrides": overrides or [],
        "training_data": "registered pairs of the six training regions" if cfg.data.paired else "unpaired (protocol)",
        "config": cfg.model_dump(mode="json"),
        "mean": summarise(per_case),
        "cases": per_case,
    }


def real_unpaired_bone_share(work: Path, steps: int, threads: int, seed: int = 0, mode: float = 2,
                             overrides: list[str] | None = None) -> dict[str, Any]:
    """The shipped recipe trained on the real unpaired MR and CT (different subjects), the MR translated.

    Bone share = voxels above 250 HU among the body voxels (the MR's body mask for the sCT, the CT's for the
    CT), and the share in the 200-1500 HU range (the definition behind the 0.17% vs 3.0% of the first report).
    """
    from medsynth.evaluation import hu_metrics as hm
    from medsynth.io.loading import load_volume
    from medsynth.translation.cyclegan import CycleGANTranslator
    from medsynth.translation.data import ct_body_mask, mr_body_mask

    mr_path, ct_path = DATA / "example_mr_sm.nii.gz", DATA / "example_ct.nii.gz"
    if not (mr_path.is_file() and ct_path.is_file()):
        return {"skipped": f"real data not found in {DATA}"}
    cfg = model_config(mode, steps, threads, seed, overrides)
    t0 = time.perf_counter()
    tr = CycleGANTranslator(cfg).fit([mr_path], [ct_path], out=work / f"run_real_{mode}_s{seed}", force=True)
    train_s = time.perf_counter() - t0
    mr, ct = load_volume(mr_path), load_volume(ct_path, modality="CT")
    sct = tr.translate(mr).array
    mb, cb = mr_body_mask(mr.array, mr.affine), ct_body_mask(ct.array, ct.affine)
    upper = np.zeros_like(cb)
    upper[:, :, -PROTOCOL["slab_slices"] * 2 :] = True  # the CT's upper abdomen, the region the MR shows

    def shares(x: np.ndarray, m: np.ndarray) -> dict[str, float]:
        v = x[m]
        return {"above_250_hu": hm.bone_share(x, m), "in_200_1500_hu": float(((v >= 200) & (v < 1500)).mean())}

    s, c, cu = shares(sct, mb), shares(ct.array, cb), shares(ct.array, cb & upper)
    return {
        "data": {"mr": mr_path.name, "ct": ct_path.name, "note": "unpaired: different subjects; only distributions compare"},
        "spatial_dims": mode, "seed": seed, "steps": steps, "train_seconds": train_s, "overrides": overrides or [],
        "bone_share_translated_mr": s,
        "bone_share_real_ct": c,
        "bone_share_real_ct_upper_abdomen": cu,
        "ratio_ct_to_sct_above_250": c["above_250_hu"] / max(s["above_250_hu"], 1e-9),
        "within_factor_2": {k: 0.5 <= s[k] / max(c[k], 1e-9) <= 2.0 for k in s},
        "peaks_translated_mr": hm.hu_peaks(sct[mb]),
        "peaks_real_ct": hm.hu_peaks(ct.array[cb]),
    }


__all__ = ["CPU_NETS", "PROTOCOL", "build_cases", "model_config", "real_cts", "real_unpaired_bone_share", "run_mode",
           "score_case", "seconds_per_step", "summarise"]
