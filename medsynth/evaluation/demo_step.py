"""The demo's last step: evaluation reports on whatever the earlier demo steps generated.

It reads ``ctx.results`` (each earlier step's returned dict) and judges what is there:

* ``tabular`` (keys ``train_csv``, ``holdout_csv``, ``synthetic_csv``, ``run_dir``, ``target``): the full
  tabular report, with the producer's privacy ledger;
* ``image_synthesis`` (``samples_dir``, ``train_dir``): synthetic vs training CT volumes, against a
  holdout of fresh phantoms from the same generator (the demo trains on every phantom it made);
* ``translation`` (``predicted_dir``, ``reference_dir``, ``labels_dir``): HU accuracy per tissue.

Anything absent is listed as skipped, with the reason, in the returned summary and in
``evaluation/index.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medsynth.core.files import write_json


def _holdout_phantoms(ctx: Any, out: Path) -> Path:
    from medsynth.io.phantoms import PhantomConfig, write_phantoms

    s = int(ctx.results["phantoms"]["shape"][0])
    cfg = PhantomConfig(shape=(s, s, s), spacing=(64.0 / s * 2.0,) * 3)
    n = max(3, int(ctx.config.n_phantoms) // 2)
    write_phantoms(out, n, seed=int(ctx.config.seed) + 1000, config=cfg, overwrite=True)
    return out / "ct"


def step_evaluation(ctx: Any) -> dict[str, Any]:
    """Evaluation and privacy reports (report.html + report.json) on what the demo generated."""
    from medsynth.evaluation import (
        EvaluationConfig,
        evaluate_images,
        evaluate_tabular,
        evaluate_translation,
        write_report,
    )

    out = Path(ctx.out) / "evaluation"
    res = ctx.results
    summary: dict[str, Any] = {"reports": {}, "skipped": {}}
    cfg = EvaluationConfig(seed=int(ctx.config.seed))
    if ctx.quick:
        cfg.images.feature_size = 16
        cfg.images.msssim_max_pairs = 6
        cfg.images.detection_steps = 40

    tab = res.get("tabular", {})
    if all(k in tab for k in ("train_csv", "holdout_csv", "synthetic_csv")):
        report = evaluate_tabular(tab["train_csv"], tab["holdout_csv"], tab["synthetic_csv"], target=tab.get("target"),
                                  run_dir=tab.get("run_dir"), config=cfg)
        summary["reports"]["tabular"] = _summarise(report, write_report(report, out / "tabular"))
    else:
        summary["skipped"]["tabular"] = "no tabular step output (train_csv/holdout_csv/synthetic_csv)"

    img = res.get("image_synthesis", {})
    if "samples_dir" in img and "phantoms" in res:
        train = Path(img.get("train_dir") or Path(res["phantoms"]["folder"]) / "ct")
        holdout = _holdout_phantoms(ctx, out / "images_holdout_phantoms")
        report = evaluate_images(train, holdout, img["samples_dir"], config=cfg, modality="CT", run_dir=img.get("run_dir") if _has_ledger(img.get("run_dir")) else None)
        report.notes.append("Holdout: fresh phantoms from the same generator (seeds the demo never trained on), since the demo trains on every phantom it made.")
        summary["reports"]["images"] = _summarise(report, write_report(report, out / "images"))
    else:
        summary["skipped"]["images"] = "no image synthesis step output (samples_dir)"

    tr = res.get("translation", {})
    if "predicted_dir" in tr and "reference_dir" in tr:
        report = evaluate_translation(tr["predicted_dir"], tr["reference_dir"], labels=tr.get("labels_dir"), config=cfg)
        summary["reports"]["translation"] = _summarise(report, write_report(report, out / "translation"))
    else:
        summary["skipped"]["translation"] = "no translation step output (predicted_dir/reference_dir)"
    write_json(out / "index.json", summary)
    return summary


def _has_ledger(run_dir: str | None) -> bool:
    return run_dir is not None and (Path(run_dir) / "privacy_ledger.json").is_file()


def _summarise(report: Any, paths: dict[str, Path]) -> dict[str, Any]:
    return {
        "verdict": report.verdict,
        "sections": {k: v["verdict"] for k, v in report.sections.items()},
        "html": str(paths["html"]),
        "json": str(paths["json"]),
    }


__all__ = ["step_evaluation"]
