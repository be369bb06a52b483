"""The demo's last step: evaluation reports on whatever the earlier demo steps generated.

It reads ``ctx.results`` (each earlier step's returned dict) and judges what is there, through the
public evaluation API (:func:`medsynth.evaluate_tabular` and the others):

* ``tabular`` (``cases``: name -> ``train_csv``, ``holdout_csv``, ``synthetic_csv``, ``run_dir``, ``target``,
  ``why``): one full tabular report per case, with the producer's privacy ledger;
* ``image_synthesis`` (``samples_dir``, ``train_dir``): synthetic vs training CT volumes, against a
  holdout of fresh phantoms from the same generator (the demo trains on every phantom it made);
* ``translation`` (``predicted_dir``, ``reference_dir``, ``labels_dir``): HU accuracy per tissue.

Anything absent is listed as skipped, with the reason, in the returned summary and in
``evaluation/index.json``. ``jobs`` lists each report with its verdict and what the verdict means here.
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


#: What each job's verdict means in this demo, by job and verdict (printed by the summary).
MEANING = {
    "images": {
        "pass": "the synthetic CTs are hard to tell from real ones and copy none of them",
        "review": "a person should look at the flagged metrics before using the samples",
        "fail": "a CPU-minute model: its CTs are told from real ones; train the 64^3 config on a GPU for real use",
    },
    "translation": {
        "pass": "the synthetic CT is within the HU and bone limits",
        "review": "close, but a person should look at the flagged metrics",
        "fail": "a CPU-minute CycleGAN: not usable as it is; train longer (see the translation guide)",
    },
}


def _flagged(report: Any) -> str:
    """The metrics that set the verdict, e.g. ``fail: translation_bone_dice 0.32; review: translation_mae_hu 122``."""
    parts = []
    for verdict in ("fail", "review"):
        names = [f"{m.name} {m.value:.3g}" for m in report.results if m.verdict == verdict and m.value is not None]
        if names:
            parts.append(f"{verdict}: " + ", ".join(names))
    return "; ".join(parts)


def _tabular_meaning(verdict: str, why: str) -> str:
    head = {"pass": "usable: fidelity, utility and privacy within limits", "review": "mostly usable; look at the REVIEW metrics",
            "fail": "not usable as it is"}[verdict]
    return f"{head} ({why})"


def step_evaluation(ctx: Any) -> dict[str, Any]:
    """Evaluation and privacy reports (report.html + report.json) on what the demo generated."""
    import medsynth

    out = Path(ctx.out) / "evaluation"
    res = ctx.results
    summary: dict[str, Any] = {"reports": {}, "skipped": {}, "jobs": []}
    cfg: dict[str, Any] = {"seed": int(ctx.config.seed), "tabular": {"max_holdout_overlap": 0.05}}
    if ctx.quick:
        cfg["images"] = {"feature_size": 16, "msssim_max_pairs": 6, "detection_steps": 40}

    cases = res.get("tabular", {}).get("cases", {})
    for name, tab in cases.items():
        # the admissions table is mostly discrete, so it naturally repeats rows between train and holdout
        report = medsynth.evaluate_tabular(tab["train_csv"], tab["holdout_csv"], tab["synthetic_csv"], target=tab.get("target"),
                                           schema=tab.get("schema"), run_dir=tab.get("run_dir"), config=cfg,
                                           out=out / f"tabular_{name}")
        key = f"tabular_{name}"
        summary["reports"][key] = _summarise(report, out / key)
        summary["jobs"].append(_job(f"private EHR: {name} ({tab['model']}, eps {tab['epsilon']:g})", report, out / key,
                                    _tabular_meaning(report.verdict, tab["why"])))
    if not cases:
        summary["skipped"]["tabular"] = "no tabular step output"

    img = res.get("image_synthesis", {})
    if "samples_dir" in img and "phantoms" in res:
        train = Path(img.get("train_dir") or Path(res["phantoms"]["folder"]) / "ct")
        holdout = _holdout_phantoms(ctx, out / "images_holdout_phantoms")
        report = medsynth.evaluate_images(train, holdout, img["samples_dir"], config=cfg, modality="CT",
                                          run_dir=img.get("run_dir") if _has_ledger(img.get("run_dir")) else None)
        report.notes.append("Holdout: fresh phantoms from the same generator (seeds the demo never trained on), since the demo trains on every phantom it made.")
        report.save(out / "images")
        summary["reports"]["images"] = _summarise(report, out / "images")
        flagged = _flagged(report)
        summary["jobs"].append(_job(f"image synthesis ({img.get('model', 'vae3d')})", report, out / "images",
                                    MEANING["images"][report.verdict] + (f" ({flagged})" if flagged else "")))
    else:
        summary["skipped"]["images"] = "no image synthesis step output (samples_dir)"

    tr = res.get("translation", {})
    if "predicted_dir" in tr and "reference_dir" in tr:
        report = medsynth.evaluate_translation(tr["predicted_dir"], tr["reference_dir"], labels=tr.get("labels_dir"), config=cfg,
                                               out=out / "translation")
        summary["reports"]["translation"] = _summarise(report, out / "translation")
        flagged = _flagged(report)
        meaning = MEANING["translation"][report.verdict] + (f" ({flagged})" if flagged else "")
        summary["jobs"].append(_job("MR -> CT translation (CycleGAN)", report, out / "translation", meaning))
    else:
        summary["skipped"]["translation"] = "no translation step output (predicted_dir/reference_dir)"
    write_json(out / "index.json", summary)
    return summary


def _has_ledger(run_dir: str | None) -> bool:
    return run_dir is not None and (Path(run_dir) / "privacy_ledger.json").is_file()


def _summarise(report: Any, folder: Path) -> dict[str, Any]:
    return {
        "verdict": report.verdict,
        "sections": {k: v["verdict"] for k, v in report.sections.items()},
        "html": str(folder / "report.html"),
        "json": str(folder / "report.json"),
    }


def _job(job: str, report: Any, folder: Path, meaning: str) -> dict[str, str]:
    return {"job": job, "verdict": report.verdict, "meaning": meaning, "html": str(folder / "report.html")}


__all__ = ["MEANING", "step_evaluation"]
