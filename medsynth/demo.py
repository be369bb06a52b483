"""``medsynth demo``: the main jobs end to end, offline, on data the package makes or ships.

The demo is a list of steps; each takes the shared :class:`DemoContext` and returns a summary dict
(figures and output paths). Steps run in order and later ones may use earlier outputs (the
evaluation step audits what the others generated). Everything lands in one run directory with a
``summary.json``.
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
from medsynth.evaluation.demo_step import step_evaluation
from medsynth.imaging.demo_step import step_image_synthesis
from medsynth.tabular.demo_step import step_tabular
from medsynth.translation.demo_step import step_translation


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
    files = write_dicom_series(src, dicom_dir, series_description="demo phantom CT")
    back = read_dicom_series(dicom_dir)
    write_nifti(back, ctx.out / "io" / "case_000_roundtrip.nii.gz")
    ds = pydicom.dcmread(files[0], stop_before_pixels=True)
    return {
        "dicom_series": str(dicom_dir),
        "slices": len(files),
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


def run_demo(out: str | Path, config: DemoConfig | None = None, *, force: bool = False, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every demo step into the run directory ``out`` and return the summary."""
    from medsynth.core.runtime import seed_everything

    cfg = config or DemoConfig()
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
        run.write_json("summary.json", summary)
    run.finish()
    return summary


__all__ = ["STEPS", "DemoConfig", "DemoContext", "run_demo"]
