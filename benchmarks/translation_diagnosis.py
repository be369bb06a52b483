"""Why bone vanishes on the real-anatomy benchmark: pipeline facts, what the MR can tell, what Dice forgives.

``translation.py anatomy-diagnosis`` writes ``translation_real_anatomy_diagnosis.json`` with three parts,
none of which trains a network:

* ``pipeline``: per case, the CT's HU range, the voxels the CT window clips, the bone share (HU > 250 in
  the body), where 250 HU and soft tissue land on the networks' [-1, 1] scale, and the simulated MR's
  signal per tissue and inside bone (raw and after the preprocessor's percentile scaling): is bone in the
  training CT at all, is it clipped, is it dark on the MR like air?
* ``oracles``: what the MR intensity alone (the median HU of each MR intensity bin, fitted on the
  registered pairs of all six training regions: more than the unpaired models get) and MR intensity with
  local context (gradient-boosted trees on 3/5/9-voxel in-plane means and variances) can predict on the
  held-out cases: MAE, bone Dice and bone share. A bone Dice near 0 there means bone is not recoverable
  from the MR's intensity or local texture, only from anatomical shape.
* ``dice_bounds``: the bone Dice of the real CT against itself shifted by one voxel (3 mm) or smoothed
  (Gaussian, 0.5 and 1 voxel): how much of the >= 0.70 target a thin cortical shell at 3 mm leaves.

``translation.py anatomy-physics`` writes ``translation_real_anatomy_physics.json``: the simulation checked against
the issue's physics (cortical bone and air dark, fat bright, marrow fat-bright on T1): each pure tissue's
spin-echo signal from its published relaxation times, and the simulated MR's mean signal per CT HU bin in the
body, for the shipped simulation and with its two smoothing steps (the CT denoising before tissue mixing, the
MR point spread) switched off: what makes 250-900 HU voxels read above soft tissue (marrow, a partial volume
fact at 3 mm) and what is smoothing.

``translation.py anatomy-rescore --name N --work W --set inference.KEY=VALUE`` scores the saved models of
an earlier ``real-anatomy`` result again with changed inference settings (no training) and records the
figures under each run's ``rescored`` entry, e.g. the whole-slice window against the training-patch one.

``translation.py anatomy-table --from A B ... --name N [--prefer KEY]`` gathers the runs of several
``real-anatomy`` results (one per mode and seed, made in parallel) into one table (means over seeds).
``translation.py anatomy-checkpoints --runs DIR ... --fraction F --name N`` scores the checkpoints at the
same fraction of an equal budget of runs that could not finish on a shared machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def _load(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from medsynth.io.loading import load_volume

    mr = load_volume(case["mr"]).array.astype(np.float32)
    ct = load_volume(case["ct"], modality="CT").array.astype(np.float32)
    labels = load_volume(case["labels"], modality="SEG").array.astype(int)
    body = load_volume(case["body"], modality="SEG").array > 0
    return mr, ct, labels, body


def _scaled(mr: np.ndarray, percentiles: tuple[float, float]) -> np.ndarray:
    """The MR on [0, 1] as the preprocessor scales it (per-volume percentiles, clipped)."""
    lo, hi = np.percentile(mr, percentiles)
    return np.clip((mr - lo) / max(hi - lo, 1e-6), 0.0, 1.0)


def pipeline_facts(cases: dict[str, dict[str, Any]], ct_window: tuple[float, float], mr_percentiles: tuple[float, float]) -> dict[str, Any]:
    """Per case: HU range, clipping by the CT window, bone share, MR signal per tissue (see the module docstring)."""
    from medsynth.evaluation.hu_metrics import BONE_HU
    from medsynth.io.phantoms import ANATOMY_TISSUES

    lo, hi = ct_window
    to_net = lambda hu: (hu - lo) / (hi - lo) * 2.0 - 1.0  # noqa: E731
    out: dict[str, Any] = {
        "ct_window": list(ct_window),
        "bone_hu_on_net_scale": to_net(BONE_HU),
        "soft_tissue_40hu_on_net_scale": to_net(40.0),
        "cases": {},
    }
    for name, case in cases.items():
        mr, ct, labels, body = _load(case)
        scaled = _scaled(mr, mr_percentiles)
        bone = body & (ct > BONE_HU)
        tissues = {t: int((body & (labels == i)).sum()) for i, t in enumerate(ANATOMY_TISSUES)}
        out["cases"][name] = {
            "hu_min_max": [float(ct.min()), float(ct.max())],
            "body_voxels_above_window_top": int((body & (ct > hi)).sum()),
            "bone_share": float(bone.sum() / max(1, body.sum())),
            "bone_voxels": int(bone.sum()),
            "tissue_voxels": tissues,
            "mr_mean_by_tissue": {t: float(mr[body & (labels == i)].mean()) for i, t in enumerate(ANATOMY_TISSUES) if tissues[t] >= 50},
            "mr_scaled_mean_by_tissue": {t: float(scaled[body & (labels == i)].mean())
                                         for i, t in enumerate(ANATOMY_TISSUES) if tissues[t] >= 50},
            "mr_in_bone_mean": float(mr[bone].mean()) if bone.any() else None,
            "mr_scaled_in_bone_mean": float(scaled[bone].mean()) if bone.any() else None,
        }
    return out


def _context_features(scaled: np.ndarray) -> np.ndarray:
    """(..., 7): the voxel's MR, and its in-plane 3/5/9-voxel mean and variance."""
    from scipy.ndimage import uniform_filter

    feats = [scaled]
    for s in (3, 5, 9):
        m = uniform_filter(scaled, (s, s, 1))
        feats += [m, uniform_filter(scaled**2, (s, s, 1)) - m**2]
    return np.stack(feats, -1)


def intensity_oracles(cases: dict[str, dict[str, Any]], train: list[str], test: list[str], mr_percentiles: tuple[float, float],
                      seed: int = 0) -> dict[str, Any]:
    """MAE, bone Dice and bone share of the pointwise and the local-context MR -> HU regressions (module docstring)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    from medsynth.evaluation import hu_metrics as hm

    bins = np.linspace(0.0, 1.0, 65)
    xs, ys, fs = [], [], []
    for c in train:
        mr, ct, _, body = _load(cases[c])
        scaled = _scaled(mr, mr_percentiles)
        xs.append(scaled[body])
        ys.append(ct[body])
        fs.append(_context_features(scaled)[body])
    x, y = np.concatenate(xs), np.concatenate(ys)
    idx = np.clip(np.digitize(x, bins) - 1, 0, 63)
    table = np.array([float(np.median(y[idx == i])) if (idx == i).any() else -1000.0 for i in range(64)])
    gbm = HistGradientBoostingRegressor(max_iter=200, loss="absolute_error", random_state=seed).fit(np.concatenate(fs), y)
    out: dict[str, Any] = {"train_regions": train, "bin_median_hu": table.round(1).tolist(), "cases": {}}
    for c in test:
        mr, ct, _, body = _load(cases[c])
        scaled = _scaled(mr, mr_percentiles)
        point = np.full_like(ct, -1024.0)
        point[body] = table[np.clip(np.digitize(scaled[body], bins) - 1, 0, 63)]
        context = np.full_like(ct, -1024.0)
        context[body] = gbm.predict(_context_features(scaled)[body])
        row = {}
        for key, pred in (("pointwise", point), ("local_context", context)):
            r = hm.report(pred, ct, body)
            row[key] = {k: r[k] for k in ("mae_hu", "bone_dice", "bone_share_pred", "bone_share_ref")}
        out["cases"][c] = row
    out["mean"] = {k: {m: float(np.mean([v[k][m] for v in out["cases"].values()])) for m in ("mae_hu", "bone_dice", "bone_share_pred")}
                   for k in ("pointwise", "local_context")}
    return out


def dice_bounds(cases: dict[str, dict[str, Any]], test: list[str]) -> dict[str, Any]:
    """Bone Dice of each held-out real CT against itself shifted by one voxel or smoothed in-plane."""
    from scipy.ndimage import gaussian_filter, shift

    from medsynth.evaluation import hu_metrics as hm

    out: dict[str, Any] = {}
    for c in test:
        _, ct, _, body = _load(cases[c])
        out[c] = {
            "shift_1_voxel": hm.bone_dice(shift(ct, (1, 0, 0), order=0, mode="nearest"), ct, body),
            "smooth_0.5_voxel": hm.bone_dice(gaussian_filter(ct, (0.5, 0.5, 0)), ct, body),
            "smooth_1_voxel": hm.bone_dice(gaussian_filter(ct, (1.0, 1.0, 0)), ct, body),
        }
    out["mean"] = {k: float(np.mean([out[c][k] for c in test])) for k in out[test[0]]}
    return out


def diagnose(work: Path) -> dict[str, Any]:
    """All three parts on the benchmark's cases (built in ``work`` when missing)."""
    import translation_anatomy as ta  # beside this script

    cases = ta.build_cases(work)
    if not cases:
        return {"skipped": f"real CT not found in {ta.DATA}"}
    pre = ta.model_config(2, 1, 1, 0).preprocessing  # the shipped 2D config's scaling
    window, pct = tuple(pre.ct_window), tuple(pre.mr_percentiles)
    p = ta.PROTOCOL
    return {
        "protocol": p,
        "pipeline": pipeline_facts(cases, window, pct),
        "oracles": intensity_oracles(cases, p["mr_train"] + p["ct_train"], p["test"], pct),
        "dice_bounds": dice_bounds(cases, p["test"]),
    }


#: CT HU bin edges of :func:`physics_check` (the body's voxels by their real CT value).
HU_BINS = (-200, -50, 0, 50, 100, 150, 250, 400, 600, 900, 1500, 4000)


def physics_check(work: Path) -> dict[str, Any]:
    """Pure-tissue signals and the simulated MR's mean per CT HU bin (shipped simulation and without smoothing)."""
    import translation_anatomy as ta  # beside this script

    from medsynth.io.loading import load_volume
    from medsynth.io.phantoms import ANATOMY_TISSUES, RELAXATION_1P5T, AnatomyMRConfig, simulate_mr, spin_echo_signal

    cases = ta.build_cases(work)
    if not cases:
        return {"skipped": f"real CT not found in {ta.DATA}"}
    base = AnatomyMRConfig(contrast=ta.PROTOCOL["mr_contrast"])
    variants = {"shipped": base, "no_ct_denoise": base.model_copy(update={"denoise_voxels": 0.0}),
                "no_mr_blur": base.model_copy(update={"blur_voxels": 0.0}),
                "no_smoothing": base.model_copy(update={"denoise_voxels": 0.0, "blur_voxels": 0.0})}
    pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {k: [] for k in variants}
    for i, case in enumerate(cases.values()):
        ct = load_volume(case["ct"], modality="CT")
        body = load_volume(case["body"], modality="SEG").array > 0
        for k, cfg in variants.items():
            mr = load_volume(case["mr"]).array if k == "shipped" else simulate_mr(ct, ta.PROTOCOL["mr_seed"] + i, cfg, body=body).mr.array
            pooled[k].append((ct.array[body], mr[body]))
    by_bin: dict[str, dict[str, Any]] = {}
    for k, parts in pooled.items():
        hu = np.concatenate([p[0] for p in parts])
        sig = np.concatenate([p[1] for p in parts])
        idx = np.digitize(hu, HU_BINS)
        rows = {}
        for b in range(1, len(HU_BINS)):
            v = sig[idx == b]
            if v.size:
                rows[f"{HU_BINS[b - 1]}..{HU_BINS[b]}"] = {"voxels": int(v.size), "mr_mean": float(v.mean()), "mr_sd": float(v.std())}
        by_bin[k] = rows
    return {
        "protocol": ta.PROTOCOL,
        "pure_tissue_signal": {c: {t: spin_echo_signal(RELAXATION_1P5T[t], c) for t in ANATOMY_TISSUES} for c in ("T1", "T2")},
        "relaxation_1p5t": {t: {"pd": v.pd, "t1_ms": v.t1_ms, "t2_ms": v.t2_ms} for t, v in RELAXATION_1P5T.items()},
        "mr_by_ct_hu_bin": by_bin,
        "variants": {k: {"denoise_voxels": v.denoise_voxels, "blur_voxels": v.blur_voxels} for k, v in variants.items()},
        "note": "signals in a.u. (T1-weighted fat ~900); the variants without smoothing are sensitivity checks, not shipped",
    }


def rescore(work: Path, result: Path, overrides: list[str]) -> dict[str, Any]:
    """Score every run of ``result`` again from its saved model with inference ``overrides``; updates the runs."""
    import translation_anatomy as ta  # beside this script

    from medsynth.io.phantoms import ANATOMY_TISSUES
    from medsynth.translation.cyclegan import CycleGANTranslator

    data = json.loads(result.read_text(encoding="utf-8"))
    cases = ta.build_cases(work)
    names = dict(enumerate(ANATOMY_TISSUES))
    key = ";".join(overrides) or "as trained"
    for run in data.get("runs", {}).values():
        model = Path(run["run_dir"]) / "model"
        if not model.is_dir():
            raise SystemExit(f"{model} is gone: give the --work folder of the run that wrote {result.name}")
        tr = CycleGANTranslator.load(model)
        tr.configure_inference(overrides)
        per_case = {c: ta.score_case(tr, cases[c], names) for c in ta.PROTOCOL["test"]}
        run.setdefault("rescored", {})[key] = {"inference": tr.config.inference.model_dump(mode="json"), "mean": ta.summarise(per_case),
                                                "cases": per_case}
    return data




def table(results: list[Path], prefer: str | None = None) -> dict[str, Any]:
    """One table from the runs of several ``real-anatomy`` results (e.g. one per mode and seed, made in parallel).

    Each run counts with its ``rescored[prefer]`` figures when it has them (a model scored again with the
    inference settings ``prefer`` names), else with the figures it was scored with at the end of training.
    """
    rows: dict[str, Any] = {}
    sources = {}
    for path in results:
        data = json.loads(path.read_text(encoding="utf-8"))
        sources[path.name] = {"budget_seconds": data.get("budget_seconds"), "environment": data.get("environment")}
        for run in data.get("runs", {}).values():
            scored = run.get("rescored", {}).get(prefer) if prefer else None
            mean = (scored or run)["mean"]
            key = f"{run['spatial_dims']}_s{run['seed']}"
            if key in rows:
                raise SystemExit(f"{key} is in two of the results ({path.name}); give each mode and seed once")
            rows[key] = {
                "spatial_dims": run["spatial_dims"], "seed": run["seed"], "steps": run["steps"],
                "train_cpu_seconds": run["train_cpu_seconds"], "train_wall_seconds": run["train_seconds"],
                "load_average_1min_during_training": run.get("load_average_1min_during_training"),
                "inference": (scored or {}).get("inference", run["config"]["inference"]),
                "overrides": run.get("overrides", []), "from": path.name, **mean,
            }
    modes = sorted({r["spatial_dims"] for r in rows.values()})
    keys = ["mae_hu", "psnr_db", "ms_ssim", "bone_dice", "bone_share_pred", "bone_share_ref", "bone_mae_hu", "bone_bias_hu",
            "discontinuity_pred_mad", "discontinuity_ref_mad", "discontinuity_excess_mad", "train_cpu_seconds", "train_wall_seconds"]
    means: dict[str, Any] = {}
    for m in modes:
        runs = [r for r in rows.values() if r["spatial_dims"] == m]
        row: dict[str, Any] = {k: float(np.mean([r[k] for r in runs])) for k in keys}
        row["mae_hu_per_seed"] = [r["mae_hu"] for r in runs]
        row["bone_dice_per_seed"] = [r["bone_dice"] for r in runs]
        row["mae_by_tissue_hu"] = {t: float(np.mean([r["mae_by_tissue_hu"][t] for r in runs if t in r["mae_by_tissue_hu"]]))
                                   for t in sorted({t for r in runs for t in r["mae_by_tissue_hu"]})}
        row["seeds"] = [r["seed"] for r in runs]
        means[str(m)] = row
    return {
        "runs": rows,
        "table_mean_over_seeds": means,
        "targets": {m: {"mae_below_80_hu": t["mae_hu"] < 80, "bone_dice_at_least_0.70": t["bone_dice"] >= 0.70} for m, t in means.items()},
        "sources": sources,
        "prefer_rescored": prefer,
    }


def score_checkpoints(run_dirs: list[Path], work: Path, fraction: float, seconds_per_step: dict[str, float]) -> dict[str, Any]:
    """Score each run's checkpoint nearest ``fraction`` of its schedule (its EMA weights) on the held-out cases.

    For runs that could not finish their budget on a shared machine: every mode's checkpoint at the same
    fraction of an equal CPU budget is still an equal-budget comparison, mid-schedule (the learning rate
    has not decayed). CPU seconds at the checkpoint are estimated as step x the mode's calibrated CPU
    seconds per step (``seconds_per_step``, by mode).
    """
    import torch
    import translation_anatomy as ta  # beside this script

    from medsynth.core.config import read_yaml, validate_config
    from medsynth.io.phantoms import ANATOMY_TISSUES
    from medsynth.translation.config import CycleGANConfig
    from medsynth.translation.cyclegan import CycleGANTranslator, CycleGenerators

    cases = ta.build_cases(work)
    names = dict(enumerate(ANATOMY_TISSUES))
    rows: dict[str, Any] = {}
    for run in run_dirs:
        cfg = validate_config(CycleGANConfig, read_yaml(run / "config.yaml"), source=str(run / "config.yaml"))
        want = fraction * cfg.train.max_steps
        ckpts = sorted((run / "checkpoints").glob("step_*.pt"), key=lambda p: abs(int(p.stem.split("_")[1]) - want))
        if not ckpts:
            raise SystemExit(f"{run} has no checkpoint")
        step = int(ckpts[0].stem.split("_")[1])
        state = torch.load(ckpts[0], map_location="cpu", weights_only=True)
        gens = CycleGenerators(cfg)
        gens.load_state_dict(state["ema_generators"] if "ema_generators" in state else state["generators"])
        tr = CycleGANTranslator(cfg)
        tr.generators = gens.eval()
        per_case = {c: ta.score_case(tr, cases[c], names) for c in ta.PROTOCOL["test"]}
        mode = cfg.spatial_dims
        rows[f"{mode}_s{cfg.train.seed}"] = {
            "spatial_dims": mode, "seed": cfg.train.seed, "run_dir": str(run), "checkpoint_step": step, "max_steps": cfg.train.max_steps,
            "cpu_seconds_estimated": step * seconds_per_step[str(mode)], "weights": "EMA" if "ema_generators" in state else "last",
            "mean": ta.summarise(per_case), "cases": per_case,
        }
    return {"fraction_of_schedule": fraction, "seconds_per_step": seconds_per_step, "runs": rows, "table_mean_over_seeds": checkpoint_means(rows)}


def checkpoint_means(rows: dict[str, Any]) -> dict[str, Any]:
    """Means over seeds, by mode, of :func:`score_checkpoints` rows."""
    means = {}
    for m in sorted({r["spatial_dims"] for r in rows.values()}):
        runs = [r for r in rows.values() if r["spatial_dims"] == m]
        means[str(m)] = {k: float(np.mean([r["mean"][k] for r in runs])) for k in
                         ("mae_hu", "psnr_db", "ms_ssim", "bone_dice", "bone_share_pred", "bone_share_ref", "discontinuity_pred_mad",
                          "discontinuity_ref_mad")}
        means[str(m)]["cpu_seconds_estimated"] = float(np.mean([r["cpu_seconds_estimated"] for r in runs]))
        means[str(m)]["mae_hu_per_seed"] = [r["mean"]["mae_hu"] for r in runs]
        means[str(m)]["bone_dice_per_seed"] = [r["mean"]["bone_dice"] for r in runs]
        tissues = sorted({t for r in runs for t in r["mean"]["mae_by_tissue_hu"]})
        means[str(m)]["mae_by_tissue_hu"] = {t: float(np.mean([r["mean"]["mae_by_tissue_hu"][t] for r in runs
                                                                if t in r["mean"]["mae_by_tissue_hu"]])) for t in tissues}
        means[str(m)]["seeds"] = [r["seed"] for r in runs]
    return means


def merge_checkpoints(results: list[Path]) -> dict[str, Any]:
    """One table from several :func:`score_checkpoints` results (scored in parallel, one run each)."""
    parts = [json.loads(p.read_text(encoding="utf-8")) for p in results]
    rows = {k: v for part in parts for k, v in part["runs"].items()}
    fractions = {part["fraction_of_schedule"] for part in parts}
    if len(fractions) != 1:
        raise SystemExit(f"the results were scored at different fractions of their schedules: {sorted(fractions)}")
    return {"fraction_of_schedule": fractions.pop(), "seconds_per_step": parts[0]["seconds_per_step"], "runs": rows,
            "table_mean_over_seeds": checkpoint_means(rows), "merged_from": [p.name for p in results],
            "environments": [part.get("environment") for part in parts]}


__all__ = ["diagnose", "dice_bounds", "intensity_oracles", "pipeline_facts", "rescore", "checkpoint_means", "merge_checkpoints", "score_checkpoints", "table"]
