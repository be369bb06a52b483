"""``medsynth evaluate ...`` and ``medsynth audit ...``: reports on synthetic data from any tool.

Thin: options -> :mod:`medsynth.evaluation` -> report.json + report.html. ``audit`` runs the privacy
part alone and exits with code 1 when its verdict is fail, so a release pipeline can gate on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medsynth.cli.common import SET_OPTION, done, say

evaluate_app = typer.Typer(help="Fidelity, utility and privacy report of synthetic data vs real data.", no_args_is_help=True)
audit_app = typer.Typer(help="Privacy audit of synthetic data (exit code 1 when the verdict is fail).", no_args_is_help=True)

_OUT = typer.Option(..., "--out", "-o", help="Folder for report.json and report.html (existing reports are replaced).")
_CONFIG = typer.Option(None, "--config", "-c", help="YAML with evaluation settings and thresholds (see the README).")
_RUN_DIR = typer.Option(None, "--run-dir", help="The producer's medsynth run directory: its privacy ledger is shown in the report.")


def _check_out(out: Path) -> None:
    from medsynth.core.files import check_output

    check_output(out, kind="dir", what="--out")


_FAIL_ON = typer.Option("fail", "--fail-on", help="Exit with code 1 when the verdict is this or worse: fail (default), or review to stop "
                        "a release pipeline on anything a person should look at (e.g. a few verbatim copies, an inconclusive attack).",
                        case_sensitive=False)


def _finish(report, out: Path, *, gate: bool, fail_on: str = "fail") -> None:
    paths = report.save(out)
    colour = {"pass": typer.colors.GREEN, "review": typer.colors.YELLOW, "fail": typer.colors.RED}[report.verdict]
    for name, sec in report.sections.items():
        why = [m.name for m in report.results if m.section == name and m.verdict == sec["verdict"]] if sec["verdict"] in (
            "fail", "review") else []  # the metrics that set it (their notes are in the report)
        typer.echo(f"  {sec['title']:<22} {sec['verdict'].upper()}" + (f"  ({', '.join(why[:4])}"
                                                                       f"{', ...' if len(why) > 4 else ''})" if why else "")
                   + (f"  ({sec['reason']})" if sec.get("reason") else ""))
    say(f"verdict: {report.verdict.upper()}", fg=colour, bold=True)
    done("wrote report.json and report.html", paths["html"].parent)
    if gate and (report.verdict == "fail" or fail_on.lower() == "review" and report.verdict == "review"):
        raise typer.Exit(code=1)


def _tabular(mode: str, train: Path, holdout: Path, synthetic: Path, out: Path, target: Optional[str], schema: Optional[Path],
             sensitive: Optional[list[str]], quasi: Optional[list[str]], run_dir: Optional[Path], config: Optional[Path],
             sets: Optional[list[str]], fail_on: str = "fail") -> None:
    from medsynth.evaluation import evaluate_tabular

    if fail_on.lower() not in ("fail", "review"):
        raise typer.BadParameter(f"{fail_on!r}: expected 'fail' or 'review'", param_hint="--fail-on")
    _check_out(out)
    report = evaluate_tabular(train, holdout, synthetic, target=target, schema=schema, sensitive=sensitive,
                              quasi_identifiers=quasi, config=config, sets=sets, run_dir=run_dir, mode=mode)  # type: ignore[arg-type]
    _finish(report, out, gate=mode == "audit", fail_on=fail_on)


_TRAIN_T = typer.Option(..., "--train", help="Real rows the generator was fitted on (CSV or Parquet), or a folder of related tables (one file each).")
_HOLD_T = typer.Option(..., "--holdout", help="Real rows of the same population the generator never saw (CSV or Parquet), or a folder: real patients never seen, with all their rows.")
_SYN_T = typer.Option(..., "--synthetic", help="Synthetic rows, from any tool (CSV or Parquet), or a folder of synthetic tables.")
_TARGET = typer.Option(None, "--target", help="Column to predict for utility (train-on-synthetic, test-on-real); also the default sensitive column. For folders: a root-table column (COL or ROOT.COL), or COL=VALUE for a binary outcome (e.g. status=2), or CHILD.COL=VALUE for an outcome recorded as a child row (events.event=death: whether a patient has one); by default the column the schema marks target: true (without --schema, the one schema infer would mark: named like an outcome).")
_SCHEMA = typer.Option(None, "--schema", help="The schema YAML from `medsynth schema infer` (identifier columns are left out; for folders, the dataset schema with keys and relations); inferred when absent.")
_SENSITIVE = typer.Option(None, "--sensitive", help="Sensitive column for attribute inference (repeatable).")
_QUASI = typer.Option(None, "--quasi-identifier", help="Column the attacker knows (repeatable; default: every other column).")


@evaluate_app.command("tabular")
def evaluate_tabular_cmd(
    train: Path = _TRAIN_T, holdout: Path = _HOLD_T, synthetic: Path = _SYN_T, out: Path = _OUT,
    target: Optional[str] = _TARGET, schema: Optional[Path] = _SCHEMA, sensitive: Optional[list[str]] = _SENSITIVE,
    quasi: Optional[list[str]] = _QUASI, run_dir: Optional[Path] = _RUN_DIR, config: Optional[Path] = _CONFIG,
    sets: Optional[list[str]] = SET_OPTION,
) -> None:
    """Fidelity, utility (with --target) and privacy of a synthetic table.

    Folders of related tables get a multi-table report: relations (integrity, children per parent,
    parent-child associations, trajectories), one section per table, and utility and privacy at patient level.

    Example:
        medsynth evaluate tabular --train train.csv --holdout holdout.csv --synthetic syn.csv --target death --out report/
        medsynth evaluate tabular --train real/train --holdout real/holdout --synthetic syn/ --target status=2 --out report/
    """
    _tabular("evaluate", train, holdout, synthetic, out, target, schema, sensitive, quasi, run_dir, config, sets)


@audit_app.command("tabular")
def audit_tabular_cmd(
    train: Path = _TRAIN_T, holdout: Path = _HOLD_T, synthetic: Path = _SYN_T, out: Path = _OUT,
    target: Optional[str] = _TARGET, schema: Optional[Path] = _SCHEMA, sensitive: Optional[list[str]] = _SENSITIVE,
    quasi: Optional[list[str]] = _QUASI, run_dir: Optional[Path] = _RUN_DIR, config: Optional[Path] = _CONFIG,
    sets: Optional[list[str]] = SET_OPTION, fail_on: str = _FAIL_ON,
) -> None:
    """Privacy attacks on a synthetic table (DCR, NNDR, copies, membership, attribute inference, singling out, linkability).

    Exits with code 1 when the verdict is fail (with --fail-on review, also when it is review).

    Example:
        medsynth audit tabular --train train.csv --holdout holdout.csv --synthetic syn.csv --out audit/ --fail-on review || echo "do not release"
    """
    _tabular("audit", train, holdout, synthetic, out, target, schema, sensitive, quasi, run_dir, config, sets, fail_on)


_TRAIN_I = typer.Option(..., "--train", help="Folder of real training volumes (NIfTI files or DICOM series folders).")
_HOLD_I = typer.Option(..., "--holdout", help="Folder of real volumes the generator never saw.")
_SYN_I = typer.Option(..., "--synthetic", help="Folder of synthetic volumes.")
_WEIGHTS = typer.Option(None, "--weights", help="Local weights of the 3D feature network (MedicalNet resnet_10.pth layout); default: fixed random features.")
_MODALITY = typer.Option(None, "--modality", help="CT or MR for every volume (default: decided from the training volumes as a "
                                                     "whole; the report says which and how).")


def _images(mode: str, train: Path, holdout: Path, synthetic: Path, out: Path, weights: Optional[Path], modality: Optional[str],
            run_dir: Optional[Path], config: Optional[Path], sets: Optional[list[str]], labels: Optional[dict] = None,
            fail_on: str = "fail") -> None:
    from medsynth.evaluation import evaluate_images

    if fail_on.lower() not in ("fail", "review"):
        raise typer.BadParameter(f"{fail_on!r}: expected 'fail' or 'review'", param_hint="--fail-on")
    _check_out(out)
    report = evaluate_images(train, holdout, synthetic, modality=modality, weights=weights, config=config, sets=sets,
                             run_dir=run_dir, mode=mode, **(labels or {}))  # type: ignore[arg-type]
    _finish(report, out, gate=mode == "audit", fail_on=fail_on)


@evaluate_app.command("images")
def evaluate_images_cmd(
    train: Path = _TRAIN_I, holdout: Path = _HOLD_I, synthetic: Path = _SYN_I, out: Path = _OUT, weights: Optional[Path] = _WEIGHTS,
    modality: Optional[str] = _MODALITY, run_dir: Optional[Path] = _RUN_DIR, config: Optional[Path] = _CONFIG,
    sets: Optional[list[str]] = SET_OPTION,
    train_labels: Optional[Path] = typer.Option(None, "--train-labels", help="Label maps of the training volumes (same file names): per-tissue intensities."),
    holdout_labels: Optional[Path] = typer.Option(None, "--holdout-labels", help="Label maps of the holdout volumes (the per-tissue baseline)."),
    synthetic_labels: Optional[Path] = typer.Option(None, "--synthetic-labels", help="Label maps of the synthetic volumes (default: SYNTHETIC/label/ of a pairs folder)."),
) -> None:
    """Realism (real-vs-synthetic detection), intensities, feature distances, diversity and memorisation of synthetic volumes.

    Example:
        medsynth evaluate images --train real/train --holdout real/holdout --synthetic samples/ --out report/
    """
    labels = {"train_labels": train_labels, "holdout_labels": holdout_labels, "synthetic_labels": synthetic_labels}
    _images("evaluate", train, holdout, synthetic, out, weights, modality, run_dir, config, sets, labels)


@audit_app.command("images")
def audit_images_cmd(
    train: Path = _TRAIN_I, holdout: Path = _HOLD_I, synthetic: Path = _SYN_I, out: Path = _OUT,
    modality: Optional[str] = _MODALITY, run_dir: Optional[Path] = _RUN_DIR, config: Optional[Path] = _CONFIG,
    sets: Optional[list[str]] = SET_OPTION, fail_on: str = _FAIL_ON,
) -> None:
    """Memorisation audit of synthetic volumes (near copies of training scans, membership inference).

    Exits with code 1 when the verdict is fail (with --fail-on review, also when it is review).
    """
    _images("audit", train, holdout, synthetic, out, None, modality, run_dir, config, sets, fail_on=fail_on)


@evaluate_app.command("translation")
def evaluate_translation_cmd(
    predicted: Path = typer.Option(..., "--predicted", help="Folder of translated CTs: <case>.nii.gz or <case>_sct.nii.gz (translate apply's names)."),
    reference: Path = typer.Option(..., "--reference", help="Folder of reference CTs on the same grids."),
    out: Path = _OUT,
    mask: Optional[Path] = typer.Option(None, "--mask", help="Folder of body masks (default: reference CT > -500 HU)."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="Folder of tissue label maps for per-tissue MAE (names from its tissues.json, e.g. {\"0\": \"air\"})."),
    config: Optional[Path] = _CONFIG,
    sets: Optional[list[str]] = SET_OPTION,
) -> None:
    """MAE (HU), PSNR, MS-SSIM and bone Dice in the body, and per-tissue MAE, of MR->CT translations (SynthRAD style).

    Example:
        medsynth translate apply runs/mr2ct mr/ --out sct/
        medsynth evaluate translation --predicted sct/ --reference ct/ --labels labels/ --out report/
    """
    from medsynth.evaluation import evaluate_translation

    _check_out(out)
    report = evaluate_translation(predicted, reference, mask=mask, labels=labels, config=config, sets=sets)
    _finish(report, out, gate=False)
