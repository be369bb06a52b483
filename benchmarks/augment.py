"""Does synthetic data help a downstream model when real labelled volumes are scarce?

Protocol (issue 13), per seed:

1. Draw 8 real labelled volumes (``--data phantom``: 32^3 CT phantoms, lesions >= 3 voxels across;
   ``--data ct``: 32^3 crops of the real CT with HU-threshold tissue maps, see ``imaging_data.py``).
2. Train a mask-conditioned ldm3d on those 8 image + label-map pairs only (autoencoder, diffusion
   and ControlNet stages: ``--gen-steps``), then make 64 new label maps from the 8 (elastic
   deformation, left-right flips; phantoms also lesion insertion/removal inside the organ) and
   generate an image for each: 64 synthetic pairs. N = 16 uses the first 16.
3. Train the same small 3D segmentation network (MONAI UNet, Dice + cross-entropy) with the same
   budget (steps, batch, lr, flips) on the 8 real volumes alone (N = 0) and on real + N synthetic
   pairs (half of each batch real, half synthetic), N in ``--n-synth``. The baseline a generator must
   beat is also trained (``--classical-arm``, key ``<N>_classical``): real + N classically augmented
   copies of the real pairs (the same elastic deformation and flips as the new masks, on image and
   label map together; no lesion insertion), mixed the same way. The Dice term is pooled over the
   batch (``--seg-dice-batch``): per volume, a volume without a lesion pushes every lesion prediction
   to zero, which left the real-only lesion Dice at ~0.
   Phantoms: organ + lesion; real CT: fat, soft tissue, bone. Generator and downstream networks see
   the same HU window (phantoms: the soft-tissue window [-200, 400] HU).
4. Score Dice on a fixed held-out test set (``--n-test`` volumes never used for training).
5. Phantoms also: a classification task (lesion present / absent, read from each label map), the
   same small 3D CNN trained on real vs real + N synthetic volumes, AUROC on the test set.

Each seed writes ``benchmarks/results/augment/<data>_seed<k>.json``; the summary
(``benchmarks/results/augment_<data>.json``) is rebuilt from every seed file present: the mean of
each arm and the paired difference (arm minus real-only) with its 95% t-interval over seeds. The
answer is reported as it comes, gain or not.

Synthetic pairs are calibrated per tissue by the model (``masks.calibrate``); the largest N is also
trained on the same samples uncalibrated (``--no-uncalibrated-arm`` drops that arm).

Usage (default settings: 1677 s wall for one seed at load ~7 on the shared 2-core machine;
``--quick``, fewer generator steps and segmenter 600 steps: ~4.5 CPU-minutes of generator and ~5 of
segmenters + classifier per seed; 5 seeds took 85 minutes wall at load 6-13 in 5-6 processes)::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/augment.py --data phantom --quick --seeds 0 1 2

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/augment.py --data phantom --seeds 0
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/augment.py --data ct --seeds 0 1
    python benchmarks/augment.py --data phantom --summarize

``--pairs-cache DIR`` keeps each seed's synthetic pairs (keyed by the generator settings) so that
segmenter-side reruns skip generator training; ``--pairs-only`` fills it and stops.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from imaging_data import CT_TISSUES, PHANTOM_TISSUES, ROOT, machine, phantom, real_ct_crops, t_interval, write_json  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
#: HU mapped to [-1, 1] for the generator and the downstream networks alike. Phantoms: a soft-tissue
#: window (the lesion is 40 HU above the organ: 0.13 of the [-1, 1] range here, 0.04 on [-1024, 1024]);
#: real CT crops: air to bone (their tissue classes span it).
WINDOW = {"phantom": (-200.0, 400.0), "ct": (-1024.0, 1500.0)}
SPACING = {"phantom": 4.0, "ct": 3.0}


def generator_config(data: str, steps: tuple[int, int, int], seed: int, *, inference_steps: int = 20) -> Any:
    """A small mask-conditioned ldm3d for 32^3, sized for a shared 2-core CPU (VAE 4x downsampling: an 8^3 x 8 latent)."""
    from medsynth.core.config import validate_config
    from medsynth.imaging.config import LDM3DConfig

    ae, diff, cn = steps
    masks: dict[str, Any] = {"elastic_sigma": [4.0, 6.0], "elastic_magnitude": [1.0, 2.5], "flip_axes": [0]}
    if data == "phantom":
        masks.update(organ_label=3, lesion_label=5, lesion_radius=[1.5, 3.0], insert_probability=0.5, remove_probability=0.2,
                     label_names=PHANTOM_TISSUES)
    else:
        masks["label_names"] = CT_TISSUES
    return validate_config(LDM3DConfig, {
        "kind": "ldm3d", "modality": "CT",
        "preprocessing": {"spacing": [SPACING[data]] * 3, "spatial_size": [32, 32, 32], "ct_window": list(WINDOW[data])},
        "model": {"vae": {"channels": [8, 16, 32], "latent_channels": 8, "norm_num_groups": 8},
                  "unet": {"channels": [32, 64, 128], "attention_levels": [False, True, True], "norm_num_groups": 16,
                           "num_head_channels": 16, "num_res_blocks": 1, "controlnet_conditioning": 16, "ema_decay": 0.99}},
        "loss": {"vae": {"kl_weight": 0.001, "kl_warmup_steps": 0}},
        "diffusion": {"inference_steps": inference_steps, "batch_size": 8, "lr": 1e-3, "guidance_scale": 1.0},
        "stages": {"autoencoder": ae, "diffusion": diff, "controlnet": cn},
        "masks": masks,
        "train": {"max_steps": ae + diff + cn, "batch_size": 2, "lr": 2e-3, "device": "cpu", "seed": seed,
                  "checkpoint_every": 10**6, "log_every": 25, "num_threads": 1},
    })


def to_input(hu: np.ndarray, data: str) -> np.ndarray:
    lo, hi = WINDOW[data]
    return (np.clip((hu - lo) / (hi - lo), 0.0, 1.0) * 2.0 - 1.0).astype(np.float32)


def calibrated(pair: Any, quantiles: Any, data: str) -> Any:
    """The pair with its image calibrated per tissue (medsynth.imaging.calibration, on the generator's [-1, 1] scale)."""
    import torch

    from medsynth.imaging.calibration import calibrate

    lo, hi = WINDOW[data]
    x = calibrate(torch.from_numpy(to_input(pair.image.array, data))[None], torch.from_numpy(np.asarray(pair.label.array))[None], quantiles)
    hu = ((x[0].numpy() + 1.0) / 2.0 * (hi - lo) + lo).astype(np.float32)
    return dataclasses.replace(pair, image=pair.image.with_array(hu))


def seg_target(label: np.ndarray, data: str) -> np.ndarray:
    """Phantoms: 0 background, 1 organ, 2 lesion; CT: 0 air, 1 fat, 2 soft tissue, 3 bone."""
    if data == "phantom":
        out = np.zeros_like(label, dtype=np.int64)
        out[label == 3] = 1
        out[label == 5] = 2
        return out
    return label.astype(np.int64)


def stack(pairs: list[Any], data: str) -> tuple[Any, Any]:
    import torch

    x = torch.from_numpy(np.stack([to_input(p.image.array, data) for p in pairs]))[:, None]
    y = torch.from_numpy(np.stack([seg_target(np.asarray(p.label.array), data) for p in pairs]))[:, None]
    return x, y


def classical_pairs(x: Any, y: Any, n: int, *, seed: int) -> tuple[Any, Any]:
    """``n`` classically augmented copies of the real pairs: the same elastic deformation and left-right flips the
    generator's new masks get (:func:`generator_config`'s ``masks``), applied to image (trilinear) and label map
    (nearest) together. No lesion insertion: that needs a generator to paint the new lesion."""
    import torch
    from monai.transforms import Rand3DElasticd

    from medsynth.imaging.masks import _unit_shift

    rng = np.random.default_rng([seed, 11])
    xs, ys = [], []
    for _ in range(n):
        k = int(rng.integers(len(x)))
        # (MONAI's magnitude is no shift in voxels: (1, 2.5) moved the maps by 0.02 voxel, so until 2026-12-06 this arm,
        # like the generator's new masks, was flips only)
        sigma, shift = float(rng.uniform(4.0, 6.0)), float(rng.uniform(1.0, 2.5))
        elastic = Rand3DElasticd(keys=["image", "label"], sigma_range=(sigma, sigma), magnitude_range=(shift / _unit_shift(sigma),) * 2,
                                 prob=1.0, mode=("bilinear", "nearest"), padding_mode="border")
        elastic.set_random_state(seed=int(rng.integers(2**31)))
        out = elastic({"image": x[k], "label": y[k].float()})
        xi, yi = torch.as_tensor(out["image"]).float(), torch.round(torch.as_tensor(out["label"])).long()
        if rng.uniform() < 0.5:
            xi, yi = xi.flip(1), yi.flip(1)
        xs.append(xi)
        ys.append(yi)
    return torch.stack(xs), torch.stack(ys)


def train_segmenter(real: tuple[Any, Any], synth: tuple[Any, Any] | None, *, classes: int, steps: int, seed: int,
                    dice_batch: bool = False) -> Any:
    """MONAI UNet (16-32-64), DiceCE, Adam 2e-3, batch 4 (2 real + 2 synthetic when synthetic pairs are given), flips.

    ``dice_batch``: the Dice term pooled over the batch (MONAI ``batch=True``) rather than per volume: a volume without a
    lesion then does not push every lesion prediction to zero (per volume, its lesion Dice is 0 for any positive voxel).
    """
    import torch
    from monai.losses import DiceCELoss
    from monai.networks.nets import UNet

    torch.manual_seed(seed)
    net = UNet(spatial_dims=3, in_channels=1, out_channels=classes, channels=(16, 32, 64), strides=(2, 2), num_res_units=1, norm="instance")
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    lossf = DiceCELoss(to_onehot_y=True, softmax=True, batch=dice_batch)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        if synth is None:
            idx = torch.randint(0, len(real[0]), (4,), generator=gen)
            xb, yb = real[0][idx], real[1][idx]
        else:
            i = torch.randint(0, len(real[0]), (2,), generator=gen)
            j = torch.randint(0, len(synth[0]), (2,), generator=gen)
            xb, yb = torch.cat([real[0][i], synth[0][j]]), torch.cat([real[1][i], synth[1][j]])
        flip = torch.rand(len(xb), generator=gen) < 0.5  # left-right flips, the same in every arm
        xb = torch.where(flip.view(-1, 1, 1, 1, 1), xb.flip(2), xb)
        yb = torch.where(flip.view(-1, 1, 1, 1, 1), yb.flip(2), yb)
        loss = lossf(net(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()


def dice_scores(net: Any, x: Any, y: Any, classes: int) -> dict[str, Any]:
    """Per class: mean per-volume Dice over volumes where the class is present, and the pooled Dice."""
    import torch

    with torch.no_grad():
        pred = torch.cat([net(x[i:i + 8]).argmax(1) for i in range(0, len(x), 8)]).numpy()
    truth = y[:, 0].numpy()
    out: dict[str, Any] = {}
    for c in range(1, classes):
        p, t = pred == c, truth == c
        inter = (p & t).sum(axis=(1, 2, 3))
        size = p.sum(axis=(1, 2, 3)) + t.sum(axis=(1, 2, 3))
        has = t.sum(axis=(1, 2, 3)) > 0
        per = np.where(size > 0, 2 * inter / np.maximum(size, 1), 1.0)
        out[str(c)] = {"dice_mean": round(float(per[has].mean()), 4) if has.any() else None,
                       "dice_pooled": round(float(2 * inter.sum() / max(size.sum(), 1)), 4)}
    return out


def primary(scores: dict[str, Any]) -> float:
    """The headline number: mean over foreground classes of the per-volume Dice."""
    vals = [v["dice_mean"] for v in scores.values() if v["dice_mean"] is not None]
    return round(float(np.mean(vals)), 4)


def classifier() -> Any:
    from torch import nn

    def block(i: int, o: int) -> nn.Module:
        return nn.Sequential(nn.Conv3d(i, o, 3, padding=1), nn.GroupNorm(4, o), nn.LeakyReLU(0.1), nn.MaxPool3d(2))

    return nn.Sequential(block(1, 8), block(8, 16), block(16, 32), nn.AdaptiveMaxPool3d(1), nn.Flatten(), nn.Linear(32, 1))


def train_classifier(real: tuple[Any, Any], synth: tuple[Any, Any] | None, *, steps: int, seed: int) -> Any:
    import torch

    torch.manual_seed(seed)
    net = classifier()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    lossf = torch.nn.BCEWithLogitsLoss()
    for _ in range(steps):
        if synth is None:
            idx = torch.randint(0, len(real[0]), (8,), generator=gen)
            xb, yb = real[0][idx], real[1][idx]
        else:
            i = torch.randint(0, len(real[0]), (4,), generator=gen)
            j = torch.randint(0, len(synth[0]), (4,), generator=gen)
            xb, yb = torch.cat([real[0][i], synth[0][j]]), torch.cat([real[1][i], synth[1][j]])
        flip = torch.rand(len(xb), generator=gen) < 0.5
        xb = torch.where(flip.view(-1, 1, 1, 1, 1), xb.flip(2), xb)
        loss = lossf(net(xb).squeeze(1), yb.float())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()


def auroc(net: Any, x: Any, y: np.ndarray) -> float:
    import torch
    from sklearn.metrics import roc_auc_score

    with torch.no_grad():
        p = torch.sigmoid(net(x).squeeze(1)).numpy()
    return round(float(roc_auc_score(y, p)), 4)


def pairs_cache_file(args: argparse.Namespace, seed: int) -> Path | None:
    """Where this seed's synthetic pairs are kept with ``--pairs-cache DIR`` (keyed by every generator setting)."""
    if args.pairs_cache is None:
        return None
    ae, diff, cn = args.gen_steps
    return Path(args.pairs_cache) / (f"{args.data}_seed{seed}_real{args.n_real}_gen{ae}-{diff}-{cn}_inf{args.inference_steps}"
                                     f"_n{max(args.n_synth)}.npz")


def save_pairs(path: Path, raw: list[Any], synth: list[Any], meta: dict[str, Any]) -> None:
    """The synthetic pairs (HU before and after calibration, label maps) and the generator's figures, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez_compressed(tmp, raw=np.stack([p.image.array for p in raw]).astype(np.float32),
                        synth=np.stack([p.image.array for p in synth]).astype(np.float32),
                        label=np.stack([np.asarray(p.label.array) for p in raw]).astype(np.int16), meta=json.dumps(meta))
    tmp.replace(path)


def load_pairs(path: Path, like: Any) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """The pairs :func:`save_pairs` wrote, as LabelledVolumes on the grid of ``like`` (a real pair)."""
    with np.load(path) as z:
        raw, synth, label, meta = z["raw"], z["synth"], z["label"], json.loads(str(z["meta"]))

    def pairs(images: np.ndarray) -> list[Any]:
        return [dataclasses.replace(like, image=like.image.with_array(im), label=like.label.with_array(lab)) for im, lab in zip(images, label)]

    return pairs(raw), pairs(synth), {**meta, "cached": True}


def run_seed(args: argparse.Namespace, seed: int) -> dict[str, Any]:
    import torch

    from medsynth.imaging.ldm3d import LDM3D

    data = args.data
    t0 = time.perf_counter()
    if data == "phantom":
        real = [phantom(100 * seed + i) for i in range(args.n_real)]
        test = [phantom(100_000 + i) for i in range(args.n_test)]
        classes = 3
    else:
        real = real_ct_crops(args.n_real, seed, half="train")
        test = real_ct_crops(args.n_test, 12345, half="test")
        classes = 4
    n_max = max(args.n_synth)
    cache = pairs_cache_file(args, seed)
    if cache is not None and cache.is_file():
        raw_pairs, synth_pairs, gen_meta = load_pairs(cache, real[0])
    else:
        cfg = generator_config(data, tuple(args.gen_steps), seed, inference_steps=args.inference_steps)
        ldm = LDM3D(cfg).fit(real)
        gen_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        # One sampling pass without calibration; the calibrated pairs are the same samples after the model's per-tissue
        # calibration (what LDM3D.sample_pairs does by default), so the two arms differ by that step only.
        ldm.config = ldm.config.model_copy(update={"masks": ldm.config.masks.model_copy(update={"calibrate": False})})
        raw_pairs = ldm.sample_pairs(ldm.new_masks(n_max, seed=1000 * seed + 7), seed=1000 * seed) if n_max else []
        synth_pairs = [calibrated(p, ldm.tissue_quantiles, data) for p in raw_pairs]
        gen_meta = {"generator_seconds": round(gen_s, 1), "sampling_seconds": round(time.perf_counter() - t1, 1),
                    "generator_stage_steps": ldm.stage_steps, "latent_scale_factor": round(ldm.scale_factor, 4)}
        if cache is not None:
            save_pairs(cache, raw_pairs, synth_pairs, gen_meta)
    if args.pairs_only:
        return {"seed": seed, **gen_meta}
    x_real, y_real = stack(real, data)
    x_test, y_test = stack(test, data)
    xs, ys = stack(synth_pairs, data) if synth_pairs else (None, None)
    xr = stack(raw_pairs, data)[0] if raw_pairs else None
    from_cache = bool(gen_meta.pop("cached", False))
    row: dict[str, Any] = {"seed": seed, "data": data, **gen_meta, "pairs_from_cache": from_cache}
    # How far synthetic images are from real ones, per tissue (median HU), and how well they follow their masks.
    # "real_in_window": real HU clipped to the window the generator is trained on (it cannot go below or above it).
    tissues = PHANTOM_TISSUES if data == "phantom" else CT_TISSUES
    lo, hi = WINDOW[data]
    row["tissue_median_hu"] = {}
    for name, pairs, clip in (("real", real, False), ("real_in_window", real, True), ("synthetic_uncalibrated", raw_pairs, False),
                              ("synthetic", synth_pairs, False)):
        meds = {}
        for k, tname in enumerate(tissues):
            vals = np.concatenate([p.image.array[np.asarray(p.label.array) == k] for p in pairs]) if pairs else np.zeros(0)
            vals = np.clip(vals, lo, hi) if clip else vals
            meds[tname] = round(float(np.median(vals)), 1) if vals.size else None
        row["tissue_median_hu"][name] = meds
    seg: dict[str, Any] = {}
    real_only = None
    arms = [(str(n), n, xs, ys) for n in args.n_synth] + ([(f"{n_max}_uncalibrated", n_max, xr, ys)] if args.uncalibrated_arm and n_max else [])
    if args.classical_arm and n_max:
        # the classical-augmentation baseline: the same mixing, with elastic/flipped copies of the real pairs instead
        arms.append((f"{n_max}_classical", n_max, *classical_pairs(x_real, y_real, n_max, seed=seed)))
    for key, n, xsyn, ysyn in arms:
        if args.arms and key not in args.arms:
            continue
        t2 = time.perf_counter()
        syn = None if n == 0 else (xsyn[:n], ysyn[:n])
        net = train_segmenter((x_real, y_real), syn, classes=classes, steps=args.seg_steps, seed=seed, dice_batch=args.seg_dice_batch)
        scores = dice_scores(net, x_test, y_test, classes)
        seg[key] = {"dice": primary(scores), "per_class": scores, "seconds": round(time.perf_counter() - t2, 1)}
        if n == 0:
            real_only = net
    if real_only is not None and synth_pairs:
        # mask adherence: the real-only segmenter applied to synthetic pairs (high = images match their masks)
        row["real_only_segmenter_on_synthetic"] = primary(dice_scores(real_only, xs, ys, classes))
        row["real_only_segmenter_on_synthetic_uncalibrated"] = primary(dice_scores(real_only, xr, ys, classes))
    row["segmentation"] = seg
    if data == "phantom" and args.classification:
        lab_real = torch.tensor([int((np.asarray(p.label.array) == 5).any()) for p in real])
        lab_test = np.array([int((np.asarray(p.label.array) == 5).any()) for p in test])
        lab_syn = torch.tensor([int((np.asarray(p.label.array) == 5).any()) for p in synth_pairs]) if synth_pairs else None
        cls: dict[str, Any] = {"real_lesion_count": int(lab_real.sum()), "test_prevalence": round(float(lab_test.mean()), 3)}
        for n in args.n_synth:
            syn = None if n == 0 else (xs[:n], lab_syn[:n])
            net = train_classifier((x_real, lab_real), syn, steps=args.cls_steps, seed=seed)
            cls[str(n)] = {"auroc": auroc(net, x_test, lab_test)}
        row["classification"] = cls
    row["seconds"] = round(time.perf_counter() - t0, 1)
    if args.keep_samples and synth_pairs:
        (RESULTS / "augment").mkdir(parents=True, exist_ok=True)
        np.savez_compressed(RESULTS / "augment" / f"{data}_seed{seed}_samples.npz",
                            image=np.rint(np.stack([p.image.array for p in synth_pairs[:8]])).astype(np.int16),
                            label=np.stack([p.label.array for p in synth_pairs[:8]]).astype(np.uint8))
    return row


def summarize(data: str) -> dict[str, Any]:
    rows = [json.loads(p.read_text()) for p in sorted((RESULTS / "augment").glob(f"{data}_seed*.json"))]
    if not rows:
        raise SystemExit(f"no per-seed results for {data} in {RESULTS / 'augment'}")
    arms = sorted({k for r in rows for k in r["segmentation"]}, key=lambda a: (int(a.split("_")[0]), a))
    out: dict[str, Any] = {"benchmark": "augment", "data": data, "seeds": [r["seed"] for r in rows],
                           "task_segmentation": "organ + lesion (phantoms)" if data == "phantom" else "fat, soft tissue, bone (HU-threshold maps of real CT crops)",
                           "metric": "mean over foreground classes of per-volume Dice on the held-out test set"}
    seg = {}
    for a in arms:
        vals = [r["segmentation"][a]["dice"] for r in rows if a in r["segmentation"]]
        seg[a] = {"dice_mean": round(float(np.mean(vals)), 4), "dice_per_seed": vals}
        if a != "0":
            diffs = [r["segmentation"][a]["dice"] - r["segmentation"]["0"]["dice"] for r in rows if a in r["segmentation"] and "0" in r["segmentation"]]
            seg[a]["gain_vs_real_only_95ci"] = t_interval(diffs)
        base = f"{a}_classical"
        if a.isdigit() and a != "0" and any(base in r["segmentation"] for r in rows):
            # the synthetic arm against classical augmentation of the real pairs at the same N (where both were run)
            both = [r for r in rows if a in r["segmentation"] and base in r["segmentation"]]
            seg[a]["gain_vs_classical_95ci"] = t_interval([r["segmentation"][a]["dice"] - r["segmentation"][base]["dice"] for r in both])
    out["segmentation"] = seg
    per_class: dict[str, Any] = {}
    for a in arms:
        have = [r["segmentation"][a]["per_class"] for r in rows if a in r["segmentation"]]
        per_class[a] = {c: round(float(np.mean([pc[c]["dice_mean"] or 0.0 for pc in have])), 4) for c in have[0]}
    out["segmentation_per_class_dice"] = per_class
    if all("classification" in r for r in rows):
        cls = {}
        for a in [a for a in arms if all(a in r["classification"] for r in rows)]:
            vals = [r["classification"][a]["auroc"] for r in rows]
            cls[a] = {"auroc_mean": round(float(np.mean(vals)), 4), "auroc_per_seed": vals}
            if a != "0":
                cls[a]["gain_vs_real_only_95ci"] = t_interval([r["classification"][a]["auroc"] - r["classification"]["0"]["auroc"] for r in rows])
        out["classification"] = {"task": "lesion present / absent (phantoms)", "metric": "AUROC on the test set", **cls}
    target = seg.get("64", {}).get("gain_vs_real_only_95ci") or seg.get(arms[-1], {}).get("gain_vs_real_only_95ci")
    if target is not None:
        ok = target["mean"] >= 0.03 and (target["low"] or -1) > 0
        out["target"] = {"wanted": "Dice gain >= +0.03 with the 95% interval above 0 (N = 64)", "met": bool(ok)}
    hu = [r["tissue_median_hu"] for r in rows]
    out["synthetic_pair_quality"] = {
        "note": "median HU per tissue of the label maps; real_in_window: real HU clipped to the generator's window "
                "(it is trained on that window, so e.g. air can only come back at the window's floor); synthetic: "
                "the pairs used for training (per-tissue calibrated), synthetic_uncalibrated: the same samples before",
        "tissue_median_hu_mean_over_seeds": {
            name: {t: round(float(np.mean([h[name][t] for h in hu if h.get(name, {}).get(t) is not None])), 1)
                   for t in hu[0].get(name, {}) if any(h.get(name, {}).get(t) is not None for h in hu)}
            for name in hu[0]},
        "tissue_median_hu": hu,
        "real_only_segmenter_dice_on_synthetic_pairs": [r.get("real_only_segmenter_on_synthetic") for r in rows],
        "real_only_segmenter_dice_on_uncalibrated_pairs": [r.get("real_only_segmenter_on_synthetic_uncalibrated") for r in rows],
    }
    out["settings"] = rows[0].get("settings")
    out["per_seed_seconds"] = [r["seconds"] for r in rows]
    out["machine"] = rows[-1].get("machine")
    out["load_average_at_end_per_seed"] = [(r.get("machine") or {}).get("load_average_at_end") for r in rows]
    out["how_run"] = ("OMP_NUM_THREADS=1 nice -n 10, one process per seed on the shared 2-core machine with other sessions' jobs; "
                      "several seeds may have run at the same time in one session (sharing its CPU share): per_seed_seconds "
                      "are wall-clock under the load in load_average_at_end_per_seed")
    cached = [r["seed"] for r in rows if r.get("pairs_from_cache")]
    if cached:
        out["how_run"] += (f"; seeds {cached}: synthetic pairs from --pairs-cache (generators trained and sampled beforehand, "
                           "generator_seconds/sampling_seconds in the seed files), so per_seed_seconds are segmenter + classifier only")
    split = [r["seed"] for r in rows if "merged_from_part_b" in r]
    if split:
        out["how_run"] += (f"; seeds {split}: arms 0 and 16 (and the classifier) in one process, 64 and 64_classical in a second "
                           "(--arms, same cached pairs and settings), merged into one seed file; their seconds are the sum")
    notes = {f"augment_{data}.json": "before per-tissue calibration: generator steps 300/200/500, segmenter 600 steps "
                                      "(per-volume Dice term), classifier 300, 20 sampling steps, one seed",
             f"augment_{data}_quick300.json": "--quick with per-tissue calibration, segmenter 300 steps with a per-volume Dice "
                                              "term, no classical arm, 4 seeds (lesion Dice ~0 in every arm)"}
    previous = []
    for name, note in notes.items():
        prev = RESULTS / "augment" / "previous" / name
        if prev.is_file():
            old = json.loads(prev.read_text())
            previous.append({"file": str(prev.relative_to(ROOT)) if prev.is_relative_to(ROOT) else str(prev), "note": note,
                             **{k: old.get(k) for k in ("seeds", "segmentation", "segmentation_per_class_dice", "classification",
                                                         "per_seed_seconds")}})
    if previous:
        out["previous"] = previous
    return out


def main() -> None:
    global RESULTS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", choices=["phantom", "ct"], default="phantom")
    ap.add_argument("--seeds", nargs="*", type=int, default=[0])
    ap.add_argument("--n-real", type=int, default=8)
    ap.add_argument("--n-test", type=int, default=32)
    ap.add_argument("--n-synth", nargs="+", type=int, default=[0, 16, 64])
    ap.add_argument("--gen-steps", nargs=3, type=int, default=[300, 200, 500], metavar=("AE", "DIFFUSION", "CONTROLNET"))
    ap.add_argument("--seg-steps", type=int, default=600)
    ap.add_argument("--cls-steps", type=int, default=300)
    ap.add_argument("--inference-steps", type=int, default=20, help="generator sampling steps (rectified flow)")
    ap.add_argument("--uncalibrated-arm", action=argparse.BooleanOptionalAction, default=True,
                    help="also train on the largest N of the same samples without per-tissue calibration")
    ap.add_argument("--classical-arm", action=argparse.BooleanOptionalAction, default=True,
                    help="also train on real + N classically augmented real pairs (elastic + flips): the baseline a generator must beat")
    ap.add_argument("--seg-dice-batch", action=argparse.BooleanOptionalAction, default=True,
                    help="segmenter Dice term pooled over the batch (MONAI batch=True; seed 0, 600 steps, real only: "
                         "Dice 0.308 vs 0.286 per volume, lesion 0.086 vs 0.058)")
    ap.add_argument("--classification", action=argparse.BooleanOptionalAction, default=True,
                    help="phantoms: also the lesion classifier (--no-classification for a run that only adds segmentation arms)")
    ap.add_argument("--arms", nargs="*", default=None, help="train only these segmentation arms (keys as in the JSON; probes)")
    ap.add_argument("--quick", action="store_true",
                    help="the several-seed setting for a shared 2-core CPU: generator 200/100/250 steps, 10 sampling steps, "
                         "segmenter 600 steps, classifier 150 (overrides those flags)")
    ap.add_argument("--keep-samples", action="store_true", help="save 8 synthetic pairs per seed (for previews)")
    ap.add_argument("--results", type=Path, default=RESULTS, help="results folder (default benchmarks/results; a scratch folder for a dry run)")
    ap.add_argument("--pairs-cache", type=Path, default=None,
                    help="keep each seed's synthetic pairs here and reuse them when the generator settings match "
                         "(segmenter-only reruns skip generator training)")
    ap.add_argument("--pairs-only", action="store_true", help="only train the generators and fill --pairs-cache")
    ap.add_argument("--summarize", action="store_true", help="only rebuild the summary from the per-seed files")
    args = ap.parse_args()
    RESULTS = args.results
    if args.quick:
        args.gen_steps, args.inference_steps, args.seg_steps, args.cls_steps = [200, 100, 250], 10, 600, 150

    import torch

    torch.set_num_threads(1)
    if not args.summarize:
        if 0 not in args.n_synth:
            raise SystemExit("--n-synth must include 0 (the real-only arm)")
        for seed in args.seeds:
            row = run_seed(args, seed)
            if args.pairs_only:
                print(json.dumps(row, default=str), flush=True)
                continue
            row["settings"] = {k: v for k, v in vars(args).items() if k not in ("seeds", "summarize", "results", "pairs_cache", "pairs_only", "arms", "classification")}
            row["machine"] = machine("one seed of benchmarks/augment.py")
            write_json(RESULTS / "augment" / f"{args.data}_seed{seed}.json", row)
            print(json.dumps({k: row[k] for k in ("seed", "segmentation", "seconds")}, default=str)[:600], flush=True)
    if args.pairs_only:
        return
    summary = summarize(args.data)
    write_json(RESULTS / f"augment_{args.data}.json", summary)
    print(json.dumps({k: summary.get(k) for k in ("segmentation", "classification", "target")}, indent=1))


if __name__ == "__main__":
    main()
