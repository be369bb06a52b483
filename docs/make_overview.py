"""Draw the README's picture from a ``medsynth demo`` run: ``python docs/make_overview.py DEMO_DIR``.

One figure, four panels rows: a real CT phantom beside synthetic CTs the demo's image model sampled,
an MR phantom beside its synthetic CT and the true CT, the length-of-stay and age distributions of
the real and the DP synthetic admissions (epsilon 1), and each job's verdict from the demo's reports.
Written to ``docs/assets/overview.png``; everything in it comes from the run it is given, so the
picture is regenerated, never drawn by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

HERE = Path(__file__).resolve().parent
COLOURS = {"pass": "#1a7f37", "review": "#9a6700", "fail": "#cf222e"}


def _at(demo: Path, summary: dict, path: str) -> Path:
    """A path the demo recorded, found under ``demo`` wherever the demo was run from."""
    p = Path(path)
    if p.is_absolute() and p.exists():
        return p
    return demo / p.relative_to(summary.get("out", p.parts[0]))


def _mid(arr: np.ndarray) -> np.ndarray:
    return np.asarray(arr)[:, :, arr.shape[2] // 2].T


def draw(demo: Path, out: Path) -> Path:
    """Compose the overview of the demo run ``demo`` into ``out`` (PNG)."""
    from medsynth.io.loading import load_volume

    summary = json.loads((demo / "summary.json").read_text(encoding="utf-8"))
    steps = summary["steps"]
    fig = plt.figure(figsize=(12, 5.2))
    grid = fig.add_gridspec(2, 6, height_ratios=[1, 1], hspace=0.2, wspace=0.15)
    ct_kw = {"cmap": "gray", "origin": "lower", "vmin": -400, "vmax": 400}

    real = load_volume(sorted((demo / "phantoms" / "ct").glob("*.nii.gz"))[0], modality="CT").array
    samples = sorted(_at(demo, summary, steps["image_synthesis"]["samples_dir"]).glob("*.nii.gz"))[:2]
    panels = [(real, "real CT (phantom)")] + [(load_volume(p, modality="CT").array, f"synthetic CT {i + 1}")
                                               for i, p in enumerate(samples)]
    for i, (arr, title) in enumerate(panels):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(_mid(arr), **ct_kw)
        ax.set_title(title, fontsize=9)
        ax.axis("off")

    tr = steps["translation"]
    case = tr["held_out"][0]
    mr = load_volume(demo / "phantoms" / "mr" / case).array
    sct = load_volume(_at(demo, summary, tr["predicted_dir"]) / case, modality="CT").array
    ref = load_volume(_at(demo, summary, tr["reference_dir"]) / case, modality="CT").array
    for i, (arr, title, kw) in enumerate([(mr, "MR (input)", {"cmap": "gray", "origin": "lower"}),
                                          (sct, "synthetic CT (CycleGAN)", ct_kw), (ref, "true CT", ct_kw)]):
        ax = fig.add_subplot(grid[0, 3 + i])
        ax.imshow(_mid(arr), **kw)
        ax.set_title(title, fontsize=9)
        ax.axis("off")

    case = steps["tabular"]["cases"]["admissions"]
    train, syn = pd.read_csv(_at(demo, summary, case["train_csv"])), pd.read_csv(_at(demo, summary, case["synthetic_csv"]))
    for i, col in enumerate(["length_of_stay", "age"]):
        ax = fig.add_subplot(grid[1, 2 * i: 2 * i + 2])
        bins = np.linspace(train[col].min(), train[col].max(), 25)
        ax.hist(train[col], bins=bins, alpha=0.6, density=True, label="real admissions", color="#1f77b4")
        ax.hist(syn[col], bins=bins, alpha=0.6, density=True, label=f"DP synthetic (epsilon {case['epsilon']:g})", color="#d62728")
        ax.set_title(col.replace("_", " "), fontsize=9)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=7)

    ax = fig.add_subplot(grid[1, 4:])
    ax.axis("off")
    ax.set_title("report verdicts (medsynth demo)", fontsize=9)
    for k, job in enumerate(summary.get("jobs", [])):
        y = 0.9 - k * 0.2
        ax.text(0.0, y, job["job"], fontsize=8, va="center", transform=ax.transAxes)
        ax.text(1.0, y, job["verdict"].upper(), fontsize=8, va="center", ha="right", color="white", weight="bold",
                transform=ax.transAxes, bbox={"facecolor": COLOURS.get(job["verdict"], "gray"), "pad": 2})
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python docs/make_overview.py DEMO_DIR   (a finished `medsynth demo --out DEMO_DIR`)")
    print(draw(Path(sys.argv[1]), HERE / "assets" / "overview.png"))
