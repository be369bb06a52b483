"""``medsynth demo``: every job end to end, offline, on data the package makes or ships, through the
public Python API (:mod:`medsynth.tabular`, :mod:`medsynth.image`, :mod:`medsynth.translate`,
:func:`medsynth.evaluate_tabular` ...), so the demo is also the API's worked example.

The demo is a list of steps; each takes the shared :class:`DemoContext` and returns a summary dict
(figures and output paths). Steps run in order and later ones may use earlier outputs (the
evaluation step judges what the others generated). Everything lands in one run directory with a
``summary.json``; :func:`format_summary` is the one screen the CLI prints at the end.

Python::

    from medsynth.demo import run_demo, format_summary
    print(format_summary(run_demo("medsynth-demo", quick=True)))
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from medsynth.core.config import ConfigModel
from medsynth.core.rundir import RunDir
from medsynth.demo.evaluation import step_evaluation
from medsynth.demo.imaging import step_image_synthesis
from medsynth.demo.tabular import step_tabular
from medsynth.demo.translation import step_translation


class DemoConfig(ConfigModel):
    """Settings of ``medsynth demo`` (``configs/demo.yaml``; ``--quick`` shrinks them).

    Attributes:
        seed: seeds the phantoms, the models and the sampling of every step.
        device: "auto", "cpu" or "cuda" for the models the demo trains.
        n_phantoms: paired CT/MR phantoms to make (the imaging steps' training data).
        phantom_shape: cubic size of the phantoms in voxels.
        quick: the smallest sizes and fewest steps (``--quick``).
    """

    kind: Literal["demo"] = "demo"
    seed: int = Field(0, ge=0)
    device: str = "auto"
    n_phantoms: int = Field(6, ge=2)
    phantom_shape: int = Field(32, ge=16)
    quick: bool = False


@dataclass
class DemoContext:
    """What every demo step sees."""

    out: Path
    config: DemoConfig
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def quick(self) -> bool:
        """Whether the demo runs its smallest variant."""
        return self.config.quick


def step_phantoms(ctx: DemoContext) -> dict[str, Any]:
    """Make paired CT/MR phantoms (the imaging steps' training data)."""
    from medsynth.io.phantoms import PhantomConfig, write_phantoms

    s = ctx.config.phantom_shape
    cfg = PhantomConfig(shape=(s, s, s), spacing=(64.0 / s * 2.0,) * 3)
    paths = write_phantoms(ctx.out / "phantoms", ctx.config.n_phantoms, seed=ctx.config.seed, config=cfg)
    return {"folder": str(ctx.out / "phantoms"), "cases": len(paths["ct"]), "shape": [s, s, s]}


def step_io_roundtrip(ctx: DemoContext) -> dict[str, Any]:
    """NIfTI -> synthetic-safe DICOM series -> NIfTI: values and geometry must survive."""
    import pydicom

    from medsynth.io.dicom import read_dicom_series, write_dicom_series
    from medsynth.io.nifti import read_nifti, write_nifti

    src = read_nifti(ctx.out / "phantoms" / "ct" / "case_000.nii.gz", modality="CT")
    dicom_dir = ctx.out / "io" / "case_000_dicom"
    files = write_dicom_series(src, dicom_dir, series_description="demo phantom CT", synthetic=True)
    back = read_dicom_series(dicom_dir)
    write_nifti(back, ctx.out / "io" / "case_000_roundtrip.nii.gz")
    ds = pydicom.dcmread(files[0], stop_before_pixels=True)
    stored = back.orientation  # DICOM slices are stored as a viewer draws them (LPS), the NIfTI is RAS
    back = back.reoriented(src.orientation)
    return {
        "dicom_series": str(dicom_dir),
        "slices": len(files),
        "stored_orientation": stored,
        "max_abs_error_hu": float(np.abs(back.array - src.array).max()),
        "max_affine_error_mm": float(np.abs(back.affine - src.affine).max()),
        "synthetic_marker": str(ds.get("SyntheticData", "")),
        "image_type": list(ds.ImageType),
    }


#: The demo's steps, in order. Later work appends its own (tabular, imaging, translation, report).
STEPS: list[tuple[str, Callable[[DemoContext], dict[str, Any]]]] = [
    ("phantoms", step_phantoms),
    ("io_roundtrip", step_io_roundtrip),
    ("translation", step_translation),
    ("image_synthesis", step_image_synthesis),
    ("tabular", step_tabular),
    ("evaluation", step_evaluation),
]


def demo_config(config: str | Path | DemoConfig | None = None, *, quick: bool = False,
                sets: list[str] | None = None) -> DemoConfig:
    """The demo's settings: a YAML path or a DemoConfig, ``quick`` and ``key=value`` overrides.

    ``quick`` also shrinks the phantoms (24^3, 4 cases) unless ``phantom_shape`` / ``n_phantoms`` are set.
    """
    from medsynth.core.config import load_config

    if isinstance(config, DemoConfig):
        cfg = config.model_copy(deep=True)
        if quick:
            cfg.quick = True
    else:
        cfg = load_config(DemoConfig, config, overrides=[*(["quick=true"] if quick else []), *(sets or [])])
    given = {s.split("=", 1)[0].strip() for s in sets or []}
    if cfg.quick:
        if "phantom_shape" not in given:
            cfg.phantom_shape = min(cfg.phantom_shape, 24)
        if "n_phantoms" not in given:
            cfg.n_phantoms = min(cfg.n_phantoms, 4)
    return cfg


def run_demo(out: str | Path, config: str | Path | DemoConfig | None = None, *, quick: bool = False,
             sets: list[str] | None = None, force: bool = False, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every demo step into the run directory ``out`` and return the summary.

    Args:
        out: the run directory to create (an earlier demo run is replaced only with ``force``).
        config: a demo YAML (``kind: demo``) or a :class:`DemoConfig`; defaults without it.
        quick: the smallest sizes and fewest steps (about a minute on 2 CPU cores).
        sets: ``key=value`` overrides of the config.
        force: overwrite ``out`` if it is an earlier demo run.
        echo: where progress lines go.

    Returns:
        The summary (``summary.json``): each step's result, seconds per step, and ``jobs``, one entry per
        job with its verdict, what the verdict means here and its report's path.
    """
    from medsynth.core.runtime import seed_everything

    cfg = demo_config(config, quick=quick, sets=sets)
    run = RunDir.create(out, force=force, command="medsynth demo", resumable=False)
    run.write_config(cfg)
    seed_everything(cfg.seed)
    ctx = DemoContext(out=run.path, config=cfg)
    summary: dict[str, Any] = {"steps": {}, "seconds": {}}
    t_all = time.perf_counter()
    with run.marks_failure():  # run.json says "failed" if a step raises
        for name, fn in STEPS:
            doc = (fn.__doc__ or "").strip().splitlines()
            echo(f"[demo] {name}: {doc[0] if doc else ''}")
            # If this step dies, summary.json keeps what finished and names the step that did not.
            run.write_json("summary.json", {**summary, "last_started_step": name})
            t0 = time.perf_counter()
            result = fn(ctx)
            ctx.results[name] = result
            summary["steps"][name] = result
            summary["seconds"][name] = round(time.perf_counter() - t0, 2)
        summary["seconds"]["total"] = round(time.perf_counter() - t_all, 2)
        summary["jobs"] = summary["steps"].get("evaluation", {}).get("jobs", [])
        summary["out"] = str(run.path)
        run.write_json("summary.json", summary)
    run.finish()
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    """One screen: each job's verdict, what it means in this demo, and where its report is."""
    from medsynth.evaluation.report import VERDICT_MEANING

    total = summary.get("seconds", {}).get("total")
    lines = [f"medsynth demo finished in {total:.0f} s; everything is in {summary.get('out', '.')}/" if total is not None
             else "medsynth demo"]
    jobs = summary.get("jobs") or []
    if jobs:
        width = max(len(j["job"]) for j in jobs)
        lines.append("")
        for j in jobs:
            lines.append(f"  {j['job']:<{width}}  {j['verdict'].upper():<6}  {j['html']}")
            lines.append(f"  {'':<{width}}          {j['meaning']}")
    rt = summary.get("steps", {}).get("io_roundtrip")
    if rt:
        lines.append("")
        lines.append(f"  NIfTI -> DICOM -> NIfTI round trip: max error {rt['max_abs_error_hu']:g} HU, "
                     f"{rt['max_affine_error_mm']:.1e} mm ({rt['dicom_series']})")
    lines.append("")
    lines.append("Verdicts: " + "; ".join(f"{v.upper()} = {m}" for v, m in VERDICT_MEANING.items()) + ".")
    lines.append(f"Open a report.html in a browser; summary.json holds every figure ({summary.get('out', '.')}/summary.json).")
    return "\n".join(lines)


__all__ = ["STEPS", "DemoConfig", "DemoContext", "demo_config", "format_summary", "run_demo"]
