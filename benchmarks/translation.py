"""MRI -> CT CycleGAN benchmark: accuracy in HU on phantoms, 2D vs 2.5D continuity, speed, real data.

Parts (each writes ``benchmarks/results/translation_<part>.json``; ``all`` also writes
``translation.json`` with everything):

* ``phantom``: paired procedural phantoms (``medsynth.io.phantoms``), 64^3 at 2 mm, T1-like MR,
  seeds 1000+i. Training is *unpaired* and on disjoint subjects: MR of cases 0-9 and 24-43, CT of
  cases 10-19 and 44-63 (``--train-cases 30`` per domain; 10 = cases 0-9 / 10-19, the first version
  of this benchmark); cases 20-23 are held out and scored against their own CT inside the body
  (label > 0): MAE, PSNR (4024 HU peak), SSIM, MAE per tissue, and the slice-to-slice discontinuity
  along k (mean |jump| between neighbouring slices that the reference does not have), with the
  config's test-time mirroring (``inference.mirror_axes``, default left-right) and without it.
  The ready-made configs' recipe, and the run reported in the README::

      python benchmarks/translation.py phantom --modes 2 --steps 3600 --structure 2 --histogram 3 \
          --ema 0.999 --threads 2 --name phantom_recipe_3600_2d [--seed 1]

  i.e. 2D, 3600 steps (~0.22 s each on 2 threads: inside the 15-minute budget) of 4 patches of 64x64, the structure-consistency term (``loss.structure: 2``, MIND
  descriptors of input and output, still unpaired), the intensity-histogram term
  (``loss.histogram: 3``), an EMA of the generators (``optim.ema: 0.999``), identity off
  (``loss.identity: 0``): MR->CT inverts the order of fat (bright on T1, dark on CT) and bone (dark on
  T1, bright on CT), and G_mr2ct(CT) = CT pulls the generator towards keeping bright things bright.
  History: with 10 cases per domain, no structure term and CycleGAN's identity weight (5), 2D reached
  88.5 HU (``translation_phantom_identity5.json``); 88.2 HU without identity
  (``translation_phantom_v1.json``); structure 2 and 30 cases, 900 steps: 69.1 HU (2D) / 71.6 HU
  (2.5D) (``translation_phantom.json``); 3200 steps: 62.7 HU (``translation_phantom_s2_3200_2d.json``).
  With an EMA, runs also score the last (not averaged) weights.
* ``rescore``: score a finished phantom run's saved model again (``--work`` its folder, ``--name`` its
  result name), e.g. after an inference change; the JSON is updated in place.
* ``paired``: the 2D model trained on registered pairs (MR and CT of cases 0-19) with the paired L1
  term (``data.paired``, ``loss.paired: 10``), scored on the same held-out cases (not part of ``all``).
* ``windows`` / ``speed`` (``translation_windows.py``): accuracy and seams of inference windows on
  phantoms larger than the training patch; the whole-slice window against training-patch windows on a
  256x256x128 volume.
* ``real-anatomy`` (``translation_anatomy.py``): the known-answer benchmark on real anatomy: MR
  simulated with MR physics from the real CTs in ``../shared/data``, unpaired training on MR of some
  regions and CT of others, held-out regions and a held-out subject scored against their real CT
  (MAE, PSNR, MS-SSIM, bone Dice, per-tissue MAE, slice discontinuity, spread maps) for each
  ``--modes`` and ``--seeds``, each model trained for ``--budget`` CPU seconds with the shipped recipe
  (``configs/mr2ct_cyclegan_*.yaml`` at CPU size)::

      OMP_NUM_THREADS=1 nice -n 10 python benchmarks/translation.py real-anatomy --modes 2 2.5 3 --seeds 0 1 \
          --budget 900 --work /tmp/anatomy --name real_anatomy
      python benchmarks/translation_figures.py --name real_anatomy --work /tmp/anatomy   # the PNGs

  The registered-pairs recipe (``configs/mr2ct_paired_2d.yaml`` is the 2D config with these overrides), one
  seed per process, then one table (``translation_real_anatomy_bonehead_9k_900.json``; without the two bone-head
  overrides and at 6000 steps, the L1 recipe before it: ``translation_real_anatomy_paired_bone_900.json``)::

      OMP_NUM_THREADS=1 nice -n 10 python benchmarks/translation.py real-anatomy --modes 2 --seeds 0 --anatomy-steps 9000 \
          --budget 900 --work /tmp/anatomy --name real_anatomy_bonehead_9k_900_s0 --set data.paired=true --set loss.paired=10 \
          --set loss.cycle=0 --set loss.paired_bone_weight=5 --set data.mr_intensity_augment=0.2 \
          --set loss.bone_segmentation=1 --set loss.bone_hu=250
      python benchmarks/translation.py anatomy-table --from real_anatomy_bonehead_9k_900_s0 real_anatomy_bonehead_9k_900_s1 \
          --name real_anatomy_bonehead_9k_900

* ``anatomy-diagnosis`` / ``anatomy-physics`` / ``anatomy-rescore`` (``translation_diagnosis.py``): why bone vanishes
  (pipeline facts, intensity-only and local-context oracles, Dice bounds; no training), the simulation against
  the issue's physics (pure-tissue signals, MR per CT HU bin, with and without its smoothing), and an earlier real-anatomy
  result's saved models scored again with changed ``--set inference.*`` settings; ``anatomy-table``
  gathers the runs of several real-anatomy results (``--from``) into one table.
* ``real-unpaired`` (also ``real``): the shipped recipe trained on the real unpaired abdominal MR and
  CT (different subjects) for ``--budget`` CPU seconds; the translated MR's bone share against the real
  CT's. (``translation_real.json`` is the first version: 250 steps of the earlier recipe, 0.17% bone vs 3.0%.)

Run (CPU, 2 cores shared, about 40 minutes for ``all``)::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/translation.py all
    python benchmarks/translation.py phantom --steps 50    # a smoke run
    python benchmarks/translation.py windows --work DIR    # after the phantom part, in the same DIR
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED = Path(os.environ.get("MEDSYNTH_SHARED_DATA", ROOT.parent / "shared" / "data"))

PHANTOM = {"shape": [64, 64, 64], "spacing_mm": [2.0, 2.0, 2.0], "seed": 1000, "mr_train": list(range(0, 10)),
           "ct_train": list(range(10, 20)), "test": list(range(20, 24)), "contrast": "T1"}


def set_training_cases(per_domain: int) -> None:
    """MR and CT training cases, disjoint, ``per_domain`` each: 0-9 / 10-19 first, then from case 24 on
    (cases 20-23 stay the held-out test set whatever the size)."""
    extra = per_domain - 10
    PHANTOM["mr_train"] = list(range(0, 10)) + list(range(24, 24 + max(0, extra)))
    PHANTOM["ct_train"] = list(range(10, 20)) + list(range(24 + max(0, extra), 24 + 2 * max(0, extra)))
    if per_domain < 10:
        PHANTOM["mr_train"], PHANTOM["ct_train"] = list(range(per_domain)), list(range(10, 10 + per_domain))


def model_config(spatial_dims: float, steps: int, threads: int, seed: int = 0, identity: float = 0.0,
                 structure: float = 0.0, histogram: float = 0.0, ema: float = 0.0) -> dict[str, Any]:
    """The benchmark's CPU-sized CycleGAN (the same networks for 2D and 2.5D)."""
    return {
        "spatial_dims": spatial_dims,
        "generator": {"arch": "resnet", "base_channels": 16, "n_down": 2, "n_res_blocks": 3},
        "discriminator": {"channels": 32, "num_layers": 3},
        "loss": {"adversarial": 1.0, "cycle": 10.0, "identity": identity, "structure": structure, "histogram": histogram},
        "optim": {"pool_size": 50, "decay_start": 0.5, "ema": ema},
        "data": {"patch_size": [64, 64], "context_slices": 1, "foreground_fraction": 0.9},
        "inference": {"overlap": 0.5, "sw_batch_size": 8},
        "train": {"max_steps": steps, "batch_size": 4, "lr": 2e-4, "device": "cpu", "num_threads": threads,
                  "checkpoint_every": max(1, steps // 4), "log_every": 25, "seed": seed},
    }


def environment(threads: int) -> dict[str, Any]:
    import torch

    return {
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": threads,
        "load_average_at_start": os.getloadavg(),
        "gpu": "none lent to this session: GPU figures not measured",
        "note": "CPU shared with other jobs during the run; timings are upper bounds for an idle machine",
    }


def _write(name: str, data: dict[str, Any]) -> Path:
    from medsynth.core.files import write_json

    RESULTS.mkdir(parents=True, exist_ok=True)
    return write_json(RESULTS / f"translation_{name}.json", data)


def _phantoms(work: Path) -> dict[str, list[Path]]:
    from medsynth.io.phantoms import PhantomConfig, write_phantoms

    cfg = PhantomConfig(shape=tuple(PHANTOM["shape"]), spacing=tuple(PHANTOM["spacing_mm"]), mr_contrast=PHANTOM["contrast"])
    n = max(PHANTOM["test"] + PHANTOM["mr_train"] + PHANTOM["ct_train"]) + 1
    return write_phantoms(work / "phantoms", n, seed=PHANTOM["seed"], config=cfg)


def score_phantoms(translator, paths: dict[str, list[Path]]) -> dict[str, Any]:
    """Scores on the held-out phantoms (mean over cases, and per case)."""
    from medsynth.evaluation import hu_metrics as metrics
    from medsynth.io.loading import load_volume
    from medsynth.io.phantoms import TISSUES

    cases = []
    for i in PHANTOM["test"]:
        mr = load_volume(paths["mr"][i])
        ref = load_volume(paths["ct"][i], modality="CT").array
        labels = load_volume(paths["labels"][i], modality="SEG").array.astype(int)
        t0 = time.perf_counter()
        sct = translator.translate(mr).array
        seconds = time.perf_counter() - t0
        body = labels > 0
        r = metrics.report(sct, ref, body)
        r["mae_by_tissue_hu"] = {t: float(np.abs(sct - ref)[labels == k].mean()) for k, t in enumerate(TISSUES) if (labels == k).any()}
        r["bias_by_tissue_hu"] = {t: float((sct - ref)[labels == k].mean()) for k, t in enumerate(TISSUES) if (labels == k).any()}
        r["translate_seconds"] = seconds
        r["case"] = i
        cases.append(r)
    keys = ["mae_hu", "psnr_db", "ssim", "discontinuity_pred_mad", "discontinuity_ref_mad", "discontinuity_excess_mad", "translate_seconds"]
    mean = {k: float(np.mean([c[k] for c in cases])) for k in keys}
    mean["mae_by_tissue_hu"] = {t: float(np.mean([c["mae_by_tissue_hu"][t] for c in cases if t in c["mae_by_tissue_hu"]]))
                                for t in cases[0]["mae_by_tissue_hu"]}
    return {"mean": mean, "cases": cases}


def _last_weights_scores(tr, run: Path, paths: dict[str, list[Path]]) -> dict[str, Any]:
    """Scores of the run's last (not averaged) generator weights, from its final checkpoint."""
    import copy

    from medsynth.core.rundir import RunDir

    state = RunDir(run).load_checkpoint()["generators"]
    raw = copy.copy(tr)
    raw.generators = copy.deepcopy(tr.generators)
    raw.generators.load_state_dict(state)
    return score_phantoms(raw, paths)


def mirroring_scores(tr, paths: dict[str, list[Path]]) -> dict[str, Any]:
    """Scores with the config's test-time mirroring (``inference.mirror_axes``) switched off, for comparison."""
    axes = list(tr.config.inference.mirror_axes)
    tr.configure_inference(["inference.mirror_axes=[]"])
    try:
        plain = score_phantoms(tr, paths)
    finally:
        tr.configure_inference([f"inference.mirror_axes={axes}"])
    return {"inference_mirror_axes": axes, "without_mirroring": plain}


def part_rescore(work: Path, name: str) -> dict[str, Any]:
    """Score a finished phantom run's saved model again (inference changes only), updating its JSON."""

    from medsynth.translation.cyclegan import CycleGANTranslator

    path = RESULTS / f"translation_{name}.json"
    out = json.loads(path.read_text())
    paths = {k: sorted((work / "phantoms" / k).glob("*.nii.gz")) for k in ("mr", "ct", "labels")}
    for dims, entry in out["modes"].items():
        tr = CycleGANTranslator.load(work / f"run_{dims}" / "model")
        entry.update(score_phantoms(tr, paths))
        entry.update(mirroring_scores(tr, paths))
        entry["rescored"] = "inference re-run on the saved model after training (same weights)"
        m, m0 = entry["mean"], entry["without_mirroring"]["mean"]
        print(f"[rescore] {name} spatial_dims {dims}: MAE {m['mae_hu']:.1f} HU with mirror_axes "
              f"{entry['inference_mirror_axes']}, {m0['mae_hu']:.1f} HU without", flush=True)
    _write(name, out)
    return out


def part_phantom(work: Path, steps: int, threads: int, identity: float = 0.0, seed: int = 0, modes: tuple[float, ...] = (2, 2.5),
                 structure: float = 0.0, name: str | None = None, histogram: float = 0.0, ema: float = 0.0) -> dict[str, Any]:
    from medsynth.translation.cyclegan import CycleGANTranslator

    paths = _phantoms(work)
    mr_train = [paths["mr"][i] for i in PHANTOM["mr_train"]]
    ct_train = [paths["ct"][i] for i in PHANTOM["ct_train"]]
    name = name or ("phantom" if seed == 0 else f"phantom_seed{seed}")
    out: dict[str, Any] = {"benchmark": name, "phantom": PHANTOM, "steps": steps, "environment": environment(threads), "modes": {}}
    for dims in modes:
        cfg = model_config(dims, steps, threads, seed=seed, identity=identity, structure=structure, histogram=histogram, ema=ema)
        t0 = time.perf_counter()
        tr = CycleGANTranslator(cfg).fit(mr_train, ct_train, out=work / f"run_{dims}", force=True)
        train_s = time.perf_counter() - t0
        res = score_phantoms(tr, paths)
        out["modes"][str(dims)] = {"config": cfg, "train_seconds": train_s, "seconds_per_step": train_s / steps, **res,
                                   **mirroring_scores(tr, paths)}
        if ema > 0:
            last = _last_weights_scores(tr, work / f"run_{dims}", paths)
            out["modes"][str(dims)]["last_weights_without_ema"] = last
            print(f"[phantom] spatial_dims {dims}: last weights (no EMA) MAE {last['mean']['mae_hu']:.1f} HU", flush=True)
        m = res["mean"]
        print(f"[phantom] spatial_dims {dims}: train {train_s:.0f} s, MAE {m['mae_hu']:.1f} HU, PSNR {m['psnr_db']:.2f} dB, "
              f"SSIM {m['ssim']:.3f}, excess discontinuity {m['discontinuity_excess_mad']:.1f} HU", flush=True)
        _write(name, out)
    if set(modes) != {2, 2.5}:
        return out
    d2, d25 = out["modes"]["2"]["mean"], out["modes"]["2.5"]["mean"]
    out["targets"] = {
        "mae_below_60_hu": {"2": d2["mae_hu"] < 60, "2.5": d25["mae_hu"] < 60},
        "train_within_15_min": {k: v["train_seconds"] <= 900 for k, v in out["modes"].items()},
        "2.5d_less_discontinuity_than_2d": d25["discontinuity_excess_mad"] < d2["discontinuity_excess_mad"],
    }
    _write(name, out)
    return out


def part_paired(work: Path, steps: int, threads: int, weight: float = 10.0) -> dict[str, Any]:
    """The 2D model with registered pairs: MR and CT of cases 0-19 and the paired L1 term (pix2pix-style)."""
    from medsynth.translation.cyclegan import CycleGANTranslator

    paths = _phantoms(work) if not (work / "phantoms").is_dir() else {
        k: sorted((work / "phantoms" / k).glob("*.nii.gz")) for k in ("mr", "ct", "labels")}
    train = PHANTOM["mr_train"] + PHANTOM["ct_train"]
    cfg = model_config(2, steps, threads)
    cfg["data"]["paired"] = True
    cfg["loss"]["paired"] = weight
    t0 = time.perf_counter()
    tr = CycleGANTranslator(cfg).fit([paths["mr"][i] for i in train], [paths["ct"][i] for i in train], out=work / "run_paired", force=True)
    train_s = time.perf_counter() - t0
    res = score_phantoms(tr, paths)
    out = {"benchmark": "phantom_paired", "phantom": PHANTOM, "training_cases": train, "steps": steps, "config": cfg,
           "train_seconds": train_s, "environment": environment(threads), **res}
    m = res["mean"]
    print(f"[paired] train {train_s:.0f} s, MAE {m['mae_hu']:.1f} HU, PSNR {m['psnr_db']:.2f} dB, SSIM {m['ssim']:.3f}", flush=True)
    _write("phantom_paired", out)
    return out


def part_real_anatomy(work: Path, modes: tuple[float, ...], seeds: list[int], budget: float, threads: int, steps: int | None,
                      overrides: list[str], name: str, append: bool = False) -> dict[str, Any]:
    """The real-anatomy known-answer benchmark (``translation_anatomy.py``): each mode trained with the shipped
    recipe for ``budget`` CPU seconds (process time, one thread: steps calibrated on a short probe run, so the budget
    does not shrink when other jobs share the machine) or ``steps``, scored on the held-out cases. ``append`` adds
    the runs to those of an earlier invocation with the same ``name`` (and reuses its calibration), so the runs of
    a table can be made one at a time."""
    import translation_anatomy as ta  # beside this script

    cases = ta.build_cases(work)
    if not cases:
        out = {"benchmark": name, "skipped": f"real CT not found in {ta.DATA}"}
        print(f"[real-anatomy] skipped: {out['skipped']} (set MEDSYNTH_SHARED_DATA)", flush=True)
        _write(name, out)
        return out
    out: dict[str, Any] = {"benchmark": name, "protocol": ta.PROTOCOL, "budget_seconds": budget, "environment": environment(threads),
                           "cases": {c: {"source": v["source"], "shape": v["shape"]} for c, v in cases.items()}, "runs": {}}
    previous = RESULTS / f"translation_{name}.json"
    if append and previous.is_file():  # add runs to an earlier invocation's (same protocol, budget and calibration)
        old = json.loads(previous.read_text(encoding="utf-8"))
        if old.get("budget_seconds") != budget or old.get("protocol") != ta.PROTOCOL:
            raise SystemExit(f"--append: {previous} has another budget or protocol; use another --name")
        out["runs"], out["calibration"] = old.get("runs", {}), old.get("calibration", {})
        out["environment_earlier_invocations"] = [*old.get("environment_earlier_invocations", []), old["environment"]]
    for mode in modes:
        n = steps
        if n is None and str(mode) in out.get("calibration", {}):
            n = out["calibration"][str(mode)]["steps"]
        elif n is None:
            sps = ta.seconds_per_step(mode, cases, threads, overrides, work)
            n = max(10, int(budget / sps))
            out.setdefault("calibration", {})[str(mode)] = {"seconds_per_step": sps, "steps": n}
            print(f"[real-anatomy] spatial_dims {mode}: {sps:.3f} CPU s/step -> {n} steps in {budget:.0f} CPU s", flush=True)
        for seed in seeds:
            r = ta.run_mode(work, cases, mode, seed, n, threads, overrides, tag=name)
            out["runs"][f"{mode}_s{seed}"] = r
            m = r["mean"]
            print(f"[real-anatomy] {name} spatial_dims {mode} seed {seed}: train {r['train_cpu_seconds']:.0f} CPU s "
                  f"({r['train_seconds']:.0f} s wall, {n} steps), "
                  f"MAE {m['mae_hu']:.1f} HU, PSNR {m['psnr_db']:.2f} dB, MS-SSIM {m['ms_ssim']:.3f}, bone Dice {m['bone_dice']:.3f}, "
                  f"bone share {100 * m['bone_share_pred']:.2f}% (ref {100 * m['bone_share_ref']:.2f}%), "
                  f"slice jumps {m['discontinuity_pred_mad']:.1f} HU (ref {m['discontinuity_ref_mad']:.1f})", flush=True)
            _write(name, out)
    table = {}
    for mode in sorted({r["spatial_dims"] for r in out["runs"].values()}):
        runs = [r for r in out["runs"].values() if r["spatial_dims"] == mode]
        keys = ["mae_hu", "psnr_db", "ms_ssim", "bone_dice", "bone_mae_hu", "discontinuity_pred_mad", "discontinuity_ref_mad",
                "discontinuity_excess_mad"]
        row = {k: float(np.mean([r["mean"][k] for r in runs])) for k in keys}
        row["train_seconds"] = float(np.mean([r["train_seconds"] for r in runs]))
        row["train_cpu_seconds"] = float(np.mean([r["train_cpu_seconds"] for r in runs]))
        row["mae_by_tissue_hu"] = {t: float(np.mean([r["mean"]["mae_by_tissue_hu"][t] for r in runs]))
                                   for t in runs[0]["mean"]["mae_by_tissue_hu"]}
        row["seeds"] = [r["seed"] for r in runs]
        table[str(mode)] = row
    out["table_mean_over_seeds"] = table
    out["targets"] = {m: {"mae_below_80_hu": t["mae_hu"] < 80, "bone_dice_at_least_0.70": t["bone_dice"] >= 0.70,
                          "train_cpu_within_budget": t["train_cpu_seconds"] <= 1.1 * budget} for m, t in table.items()}
    _write(name, out)
    return out


def part_real_unpaired(work: Path, budget: float, threads: int, steps: int | None, overrides: list[str], name: str,
                       mode: float = 2, seed: int = 0) -> dict[str, Any]:
    """The shipped recipe on the real unpaired MR and CT: the translated bone share against the real CT's."""
    import translation_anatomy as ta  # beside this script

    cases = ta.build_cases(work)
    n = steps
    calib = None
    if n is None and cases:
        sps = ta.seconds_per_step(mode, cases, threads, overrides, work)
        n, calib = max(10, int(budget / sps)), sps
    out = {"benchmark": name, "environment": environment(threads), "calibrated_seconds_per_step": calib,
           **ta.real_unpaired_bone_share(work, n or 250, threads, seed, mode, overrides)}
    print(f"[real-unpaired] bone share sCT {out.get('bone_share_translated_mr')} vs CT {out.get('bone_share_real_ct')}", flush=True)
    _write(name, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["phantom", "paired", "windows", "speed", "real", "all", "rescore", "real-anatomy", "real-unpaired",
                                         "anatomy-diagnosis", "anatomy-physics", "anatomy-rescore", "anatomy-table",
                                         "anatomy-checkpoints"])
    parser.add_argument("--steps", type=int, default=900, help="training steps per phantom model")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for training")
    parser.add_argument("--seed", type=int, default=0, help="train.seed of the phantom models (results go to translation_phantom_seedN.json)")
    parser.add_argument("--modes", type=float, nargs="+", default=[2, 2.5], help="spatial_dims to train in the phantom part")
    parser.add_argument("--identity", type=float, default=0.0, help="loss.identity weight (see the docstring)")
    parser.add_argument("--structure", type=float, default=2.0, help="loss.structure (MIND consistency) weight")
    parser.add_argument("--histogram", type=float, default=0.0, help="loss.histogram (intensity-distribution matching) weight")
    parser.add_argument("--ema", type=float, default=0.0, help="optim.ema decay of the generators' weight average (0 = off)")
    parser.add_argument("--train-cases", type=int, default=30, help="MR and CT training cases per domain (disjoint)")
    parser.add_argument("--name", default=None, help="result name of the phantom part (translation_<name>.json)")
    parser.add_argument("--speed-threads", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (kept; default a temp dir)")
    parser.add_argument("--budget", type=float, default=900.0, help="real-anatomy/real-unpaired: training seconds per model")
    parser.add_argument("--anatomy-steps", type=int, default=None, help="real-anatomy: fixed steps instead of --budget")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="real-anatomy: train.seed of each run")
    parser.add_argument("--append", action="store_true", help="real-anatomy: add the runs to the earlier result of --name")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="real-anatomy: extra config override (repeatable)")
    parser.add_argument("--from", dest="sources", nargs="+", default=[], help="anatomy-table: the real-anatomy result names to gather")
    parser.add_argument("--prefer", default=None, help="anatomy-table: use each run's rescored figures of this key when present")
    parser.add_argument("--runs", nargs="+", type=Path, default=[], help="anatomy-checkpoints: run folders")
    parser.add_argument("--fraction", type=float, default=0.5, help="anatomy-checkpoints: checkpoint nearest this share of the schedule")
    parser.add_argument("--sps", nargs="+", default=[], help="anatomy-checkpoints: MODE=CPU_SECONDS_PER_STEP (calibrated)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="medsynth-bench-translation-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"[bench] work folder {work}", flush=True)
    results: dict[str, Any] = {}
    if args.part in ("phantom", "all"):
        modes = tuple(int(m) if m == int(m) else m for m in args.modes)
        set_training_cases(args.train_cases)
        results["phantom"] = part_phantom(work, args.steps, args.threads, args.identity, args.seed, modes, args.structure, args.name,
                                          args.histogram, args.ema)
    if args.part == "rescore":
        if args.work is None or args.name is None:
            parser.error("rescore needs --work (the phantom run's folder) and --name (its result name)")
        results["rescore"] = part_rescore(work, args.name)
    if args.part == "paired":
        results["paired"] = part_paired(work, args.steps, args.threads)
    if args.part == "windows":
        from translation_windows import part_windows

        results["windows"] = part_windows(work, args.threads)
    if args.part in ("speed", "all"):
        from translation_windows import part_speed

        results["speed"] = part_speed(work, args.speed_threads)
    if args.part == "real-anatomy":
        modes = tuple(int(m) if m == int(m) else m for m in args.modes)
        results["real_anatomy"] = part_real_anatomy(work, modes, args.seeds, args.budget, args.threads, args.anatomy_steps,
                                                    args.sets, args.name or "real_anatomy", args.append)
    if args.part == "anatomy-diagnosis":
        from translation_diagnosis import diagnose

        results["diagnosis"] = _write(args.name or "real_anatomy_diagnosis", diagnose(work))
    if args.part == "anatomy-physics":
        from translation_diagnosis import physics_check

        results["physics"] = _write(args.name or "real_anatomy_physics", physics_check(work))
    if args.part == "anatomy-rescore":
        from translation_diagnosis import rescore

        if args.name is None or not args.sets:
            parser.error("anatomy-rescore needs --name (an earlier real-anatomy result) and --set inference.KEY=VALUE")
        results["rescore"] = _write(args.name, rescore(work, RESULTS / f"translation_{args.name}.json", args.sets))
    if args.part == "anatomy-table":
        from translation_diagnosis import table

        if not args.sources or args.name is None:
            parser.error("anatomy-table needs --from (result names) and --name")
        found = [RESULTS / f"translation_{n}.json" for n in args.sources]
        if missing := [p.name for p in found if not p.is_file()]:
            parser.error(f"no such results: {missing}")
        results["table"] = _write(args.name, table(found, args.prefer))
    if args.part == "anatomy-checkpoints":
        from translation_diagnosis import merge_checkpoints, score_checkpoints

        if args.sources and args.name:  # merge earlier anatomy-checkpoints results (scored in parallel)
            out = {"benchmark": args.name, **merge_checkpoints([RESULTS / f"translation_{n}.json" for n in args.sources])}
        elif not args.runs or args.name is None or not args.sps:
            parser.error("anatomy-checkpoints needs --runs, --sps MODE=SECONDS and --name (or --from earlier results and --name)")
        else:
            sps = {k: float(v) for k, v in (a.split("=", 1) for a in args.sps)}
            out = {"benchmark": args.name, "environment": environment(args.threads), **score_checkpoints(args.runs, work, args.fraction, sps)}
        results["checkpoints"] = _write(args.name, out)
    if args.part in ("real-unpaired", "real", "all"):
        mode = args.modes[0]
        results["real_unpaired"] = part_real_unpaired(work, args.budget, args.threads, args.anatomy_steps, args.sets,
                                                      args.name or "real_unpaired", int(mode) if mode == int(mode) else mode, args.seeds[0])
    if args.part == "all":
        from medsynth.core.files import write_json

        write_json(RESULTS / "translation.json", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
