"""Realism of synthetic volumes, judged without downloaded weights.

* ``detection_auc_image``: can a small 3D CNN, trained from scratch inside the evaluation, tell real
  training volumes from synthetic ones? The protocol is the shared one of
  :mod:`medsynth.evaluation.detection` (balanced sets, stratified folds, out-of-fold AUC with its
  standard error). The CNN sees random ``detection_patch``-sized patches at the common grid's own
  resolution (flipped at random along each axis), so texture, noise, sharpness and local anatomy
  count; a volume's score is its mean logit over a fixed set of patches that tile it. The same
  experiment on training vs holdout volumes is the real-vs-real baseline (about 0.5). The verdict
  judges the one-sided 95% lower bound of the AUC, so that a few volumes' sampling noise alone does
  not flag real-looking data, while blurred or blob-like volumes (AUC near 1) are flagged.
* ``tissue_intensity_shift`` (when label maps are given for training and synthetic volumes): per
  tissue label, the distance between the real and synthetic intensity distributions of that
  tissue's voxels: the shift of the median in units of the real tissue's interquartile range
  (the worst tissue), and the Wasserstein distance (HU for CT) in the details. It is judged against
  the same shift of the holdout volumes (their label maps given), i.e. on its excess over what real
  scans show; without holdout label maps it is information only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from medsynth.evaluation.results import MetricResult, judge, skipped

if TYPE_CHECKING:
    import torch

    from medsynth.evaluation.image_context import ImageContext
    from medsynth.evaluation.images import ImageSet


def high_pass(x: torch.Tensor) -> torch.Tensor:
    """A fixed high-pass view of (B, 1, *spatial) patches: the image minus its 3x3x3 local mean, scaled x4."""
    import torch.nn.functional as F

    return 4.0 * (x - F.avg_pool3d(F.pad(x, (1, 1, 1, 1, 1, 1), mode="replicate"), 3, stride=1))


def _detector(in_channels: int = 2) -> torch.nn.Module:
    """A small 3D CNN without normalisation layers (they would hide intensity differences).

    Its input is the patch and a fixed high-pass view of it (:func:`high_pass`), so that texture,
    noise and sharpness are visible from the first step, as in image-forensics detectors; its head
    pools the mean and the standard deviation of every feature map (statistics pooling), so energy
    and contrast are read directly.
    """
    from torch import nn

    class Detector(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            act = nn.LeakyReLU(0.2)
            self.body = nn.Sequential(
                nn.Conv3d(in_channels, 8, 3, padding=1), act,
                nn.Conv3d(8, 16, 3, stride=2, padding=1), act,
                nn.Conv3d(16, 32, 3, stride=2, padding=1), act,
                nn.Conv3d(32, 32, 3, padding=1), act,
            )
            self.head = nn.Linear(64, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.body(x).flatten(2)
            return self.head(torch.cat([h.mean(2), h.std(2)], dim=1))

    import torch

    return Detector()


#: Patch positions per axis at most when scoring a volume (evenly spread, the centre included where the volume allows).
MAX_PER_AXIS = 4


def patch_starts(shape: Sequence[int], patch: Sequence[int], per_axis: int | None = None) -> list[tuple[int, ...]]:
    """Start corners of a fixed set of patches over a volume: ``per_axis`` positions per axis, by default as many as
    tile it (at most :data:`MAX_PER_AXIS`), evenly spread from edge to edge. Two positions per axis were the corners
    alone, air in a body CT: noise in the central 128 mm of a 64^3 abdomen scored as real (AUC 0.5, pass)."""
    import itertools

    axes = []
    for s, p in zip(shape, patch):
        n = 1 if s <= p else per_axis or min(MAX_PER_AXIS, max(2, -(-int(s) // int(p))))
        axes.append(sorted({int(round(v)) for v in np.linspace(0, s - p, n)}))
    return list(itertools.product(*axes))


#: A volume's score is the mean of its patches' scores in this top share: an artefact in part of a volume (a block of
#: noise in the abdomen) shows, where the mean over every patch diluted it with the realistic rest.
TOP_PATCH_SHARE = 0.25


class CNNDetector:
    """``fit_predict`` for :func:`~medsynth.evaluation.detection.detection_auc` on volumes (n, i, j, k).

    Args:
        patch: cubic patch size (capped at each volume size).
        steps: optimisation steps per fold.
        batch: patches per step (half real, half synthetic).
        lr: Adam learning rate.
        seed: seeds the network and the patch draws (with the fold).
    """

    def __init__(self, *, patch: int = 16, steps: int = 200, batch: int = 16, lr: float = 1e-3, seed: int = 0) -> None:
        self.patch, self.steps, self.batch, self.lr, self.seed = patch, steps, batch, lr, seed

    def _patch_size(self, shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(min(self.patch, int(s)) for s in shape)

    def __call__(self, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, fold: int) -> np.ndarray:
        import torch

        self.__dict__.pop("_std", None)
        gen = torch.Generator().manual_seed(int(self.seed) * 1000 + int(fold))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.seed) * 1000 + int(fold))
            net = _detector()
        x = torch.from_numpy(np.ascontiguousarray(X_train, dtype=np.float32))
        y = torch.from_numpy(np.asarray(y_train, dtype=np.float32))
        shape = tuple(x.shape[1:])
        p = self._patch_size(shape)
        idx = {c: torch.nonzero(y == c).flatten() for c in (0.0, 1.0)}
        # Each input view standardised with this fold's training volumes (the high-pass view is small).
        with torch.no_grad():
            v = self._views(x[:, None])
            self._mean = v.mean(dim=(0, 2, 3, 4), keepdim=True)[0]
            self._std = v.std(dim=(0, 2, 3, 4), keepdim=True)[0].clamp_min(1e-6)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        lossf = torch.nn.BCEWithLogitsLoss()
        half = max(1, self.batch // 2)
        net.train()
        for _ in range(self.steps):
            pick = torch.cat([idx[c][torch.randint(len(idx[c]), (half,), generator=gen)] for c in (0.0, 1.0)])
            xb = torch.stack([self._crop(x[i], p, gen) for i in pick.tolist()])[:, None]
            loss = lossf(net(self._views(xb)).squeeze(1), y[pick])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        net.eval()
        starts = patch_starts(shape, p)

        def score(volumes: np.ndarray) -> np.ndarray:
            out = []
            with torch.no_grad():
                for vol in torch.from_numpy(np.ascontiguousarray(volumes, dtype=np.float32)):
                    tiles = torch.stack([vol[tuple(slice(s, s + q) for s, q in zip(st, p))] for st in starts])[:, None]
                    logits = net(self._views(tiles)).flatten()
                    top = max(1, int(round(TOP_PATCH_SHARE * logits.numel())))
                    out.append(float(torch.topk(logits, top).values.mean()))
            return np.asarray(out)

        # Each fold trains its own network, whose logits have their own offset and scale: calibrate
        # them on this fold's training volumes (0 = midway between the class means, 1 = their gap),
        # so out-of-fold scores from different folds are comparable when pooled into one AUC.
        own = score(X_train)
        lo, hi = own[np.asarray(y_train) == 0].mean(), own[np.asarray(y_train) == 1].mean()
        return (score(X_test) - (lo + hi) / 2.0) / max(abs(hi - lo), 1e-6)

    def _views(self, x: torch.Tensor) -> torch.Tensor:
        import torch

        v = torch.cat([x, high_pass(x)], dim=1)
        return (v - self._mean) / self._std if hasattr(self, "_std") else v

    @staticmethod
    def _crop(vol: torch.Tensor, p: Sequence[int], gen: torch.Generator) -> torch.Tensor:
        import torch

        st = [int(torch.randint(0, s - q + 1, (1,), generator=gen)) for s, q in zip(vol.shape, p)]
        out = vol[tuple(slice(a, a + q) for a, q in zip(st, p))]
        flips = [d for d in range(3) if bool(torch.rand(1, generator=gen) < 0.5)]
        return out.flip(flips) if flips else out


class RealismDetection:
    """Real-vs-synthetic detection AUC of a 3D CNN trained inside the evaluation."""

    name = "detection_image"
    direction = "minimize"
    section = "fidelity"

    def compute(self, real: dict[str, ImageSet], synthetic: ImageSet, *, context: ImageContext) -> list[MetricResult]:
        """Cross-validated real-vs-synthetic AUC of the CNN detector, with the real-vs-real baseline."""
        from medsynth.evaluation.detection import balance, detection_auc

        cfg = context.config
        ic = cfg.images
        desc = ("Cross-validated AUC of a small 3D CNN (trained from scratch on patches, no downloaded weights) telling real training "
                "volumes from synthetic ones: 0.5 = indistinguishable, 1.0 = every synthetic volume recognisable. Judged on its "
                "one-sided 95% lower bound.")
        folds = ic.detection_folds
        tr, sy = balance(real["train"].arrays, synthetic.arrays, context.rng("detection"))
        if len(tr) < folds:
            return [skipped("detection_auc_image", "fidelity", "minimize", desc,
                            f"{len(tr)} volume(s) per class cannot fill {folds} cross-validation folds (images.detection_folds)")]
        detector = CNNDetector(patch=ic.detection_patch, steps=ic.detection_steps, seed=cfg.seed)
        found = detection_auc(tr, sy, detector, folds=folds, seed=cfg.seed)
        baseline = 0.5
        details: dict[str, Any] = {**found.details(), "patch": list(detector._patch_size(tr.shape[1:])), "steps_per_fold": ic.detection_steps,
                                   "classifier": "3D CNN (4 conv layers, 8-32 channels, no normalisation), trained from scratch"}
        ho = real["holdout"]
        if ic.detection_baseline and min(len(ho), len(real["train"])) >= folds:
            a, b = balance(real["train"].arrays, ho.arrays, context.rng("detection_baseline"))
            base = detection_auc(a, b, detector, folds=folds, seed=cfg.seed)
            baseline = base.auc
            details["real_vs_real_auc"] = base.auc
            details["real_vs_real_auc_standard_error"] = base.auc_se
        enough = found.n_per_class >= min(cfg.min_samples_for_verdict, 2 * folds)
        context.figure("fidelity", "Real-vs-synthetic detector scores", _score_plot(found), (
            f"Out-of-fold scores of the 3D CNN detector (AUC {found.auc:.3f} +- {found.auc_se:.3f}); well separated = recognisable."))
        res = judge("detection_auc_image", "fidelity", found.auc, "minimize", desc, threshold=cfg.fidelity.image_detection_auc,
                    baseline=baseline, judged=found.lower_bound(), enough=enough, details=details)
        if ("real_vs_real_auc" in details and baseline >= cfg.fidelity.image_detection_auc.fail and res.verdict == "fail"
                and found.lower_bound() <= baseline):  # (synthetic volumes surely easier to tell than the holdout still fail)
            # the detector tells the real holdout from the real training volumes as well: it tells any two sets apart
            # here, so its fail says nothing of the synthetic volumes (an imaging researcher's blurred and noisy copies of
            # real CTs: baseline 1.0, no word of it); a person must look
            res.verdict = "review"
            res.note = ((res.note + "; ") if res.note else "") + (
                f"uninformative: the detector also tells the real holdout from the real training volumes (AUC {baseline:.2f}), "
                "so it tells these sets apart whatever the synthetic volumes are; give a holdout drawn like the training "
                "volumes (same scanners, regions and preprocessing) for a verdict")
        return [res]


def _score_plot(found: Any) -> str:
    from medsynth.evaluation import plots

    return plots.histograms({"real": found.scores[found.labels == 0], "synthetic": found.scores[found.labels == 1]},
                            title="detector score (out of fold)", xlabel="logit", colors=[plots.REAL, plots.SYN])


class TissueIntensities:
    """Per-tissue intensity distributions of real vs synthetic volumes (needs label maps)."""

    name = "tissue_intensities"
    direction = "minimize"
    section = "fidelity"

    def compute(self, real: dict[str, ImageSet], synthetic: ImageSet, *, context: ImageContext) -> list[MetricResult]:
        """Per-tissue median shift (in real IQRs) and Wasserstein distance of the intensities."""
        from scipy.stats import wasserstein_distance

        cfg = context.config
        desc = ("Worst tissue's shift of the median synthetic intensity from the real one, in units of the real tissue's "
                "interquartile range (0 = same; label maps give the tissues).")
        tr = real["train"]
        if tr.labels is None or synthetic.labels is None:
            return [skipped("tissue_intensity_shift", "fidelity", "minimize", desc,
                            "needs label maps of the training and synthetic volumes (--train-labels, --synthetic-labels, "
                            "or a synthetic folder with image/ and label/)")]
        ho = real.get("holdout")
        per: dict[str, dict[str, float]] = {}
        shifts, base_shifts = [], []
        unit = "HU" if tr.window is not None else "normalised units"
        values = [int(v) for v in np.unique(tr.labels) if v > 0]
        for v in values:
            a = tr.to_units(tr.arrays[tr.labels == v])
            b = synthetic.to_units(synthetic.arrays[synthetic.labels == v])
            if a.size < 10 or b.size < 10:
                continue
            q1, med, q3 = np.percentile(a, [25, 50, 75])
            iqr = max(float(q3 - q1), 1e-6 * max(1.0, abs(float(med))))
            shift = abs(float(np.median(b)) - float(med)) / iqr
            row = {"real_median": float(med), "synthetic_median": float(np.median(b)), "real_iqr": float(q3 - q1),
                   "median_shift_iqr": shift, "wasserstein": float(wasserstein_distance(a[::7], b[::7])),
                   "real_voxels": int(a.size), "synthetic_voxels": int(b.size)}
            if ho is not None and ho.labels is not None:
                c = ho.to_units(ho.arrays[ho.labels == v])
                if c.size >= 10:
                    row["holdout_median_shift_iqr"] = abs(float(np.median(c)) - float(med)) / iqr
                    base_shifts.append(row["holdout_median_shift_iqr"])
            per[context.tissue_name(v)] = row
            shifts.append(shift)
        if not shifts:
            return [skipped("tissue_intensity_shift", "fidelity", "minimize", desc, "no tissue label has voxels in both sets")]
        worst = max(shifts)
        context.figure("fidelity", "Intensity per tissue", _tissue_plot(per, unit),
                       f"Median and interquartile range of each tissue's voxel values ({unit}), real vs synthetic.")
        if not base_shifts:
            # Real scans differ per tissue too (scanner, contrast phase): without the holdout's own shift
            # there is no reference for what is natural, so the value is shown without a verdict.
            return [judge("tissue_intensity_shift", "fidelity", worst, "minimize", desc, baseline=None,
                          note="give the holdout's label maps (--holdout-labels) for a verdict against real-vs-real",
                          details={"unit": unit, "tissues": per})]
        return [judge("tissue_intensity_shift", "fidelity", worst, "minimize", desc, threshold=cfg.fidelity.tissue_intensity_shift,
                      baseline=max(base_shifts), details={"unit": unit, "tissues": per})]


def _tissue_plot(per: dict[str, dict[str, float]], unit: str) -> str:
    from medsynth.evaluation import plots

    with plots.figure(6.0, 3.2) as (fig, _plt):
        ax = fig.add_subplot(1, 1, 1)
        names = list(per)
        xs = np.arange(len(names))
        for off, key, color in ((-0.15, "real", plots.REAL), (0.15, "synthetic", plots.SYN)):
            med = [per[n][f"{key}_median"] for n in names]
            ax.scatter(xs + off, med, color=color, label=key, s=18)
        ax.errorbar(xs - 0.15, [per[n]["real_median"] for n in names], yerr=[per[n]["real_iqr"] / 2 for n in names],
                    fmt="none", ecolor=plots.REAL, capsize=3)
        ax.set_xticks(xs, [plots._short(n) for n in names], rotation=30, fontsize=7)
        ax.set_ylabel(unit)
        ax.legend(fontsize=7)
        return plots.to_png(fig)


__all__ = ["MAX_PER_AXIS", "CNNDetector", "RealismDetection", "TissueIntensities", "patch_starts"]
