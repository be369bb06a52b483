"""Mid-slice figures of the real-anatomy benchmark: MR | synthetic CT | real CT | |error| | spread, as PNG.

Reads a finished ``translation.py real-anatomy`` result (``benchmarks/results/translation_<name>.json``),
loads each mode's seed-0 model from its run folder (``--work`` of that run), translates the held-out
cases again and renders one row per case (axial slice in the middle of the case; CT window -400..1000
HU, error 0..500 HU, spread 0..200 HU)::

    python benchmarks/translation_figures.py --name real_anatomy --work /tmp/anatomy --out docs/assets
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _oriented(a: np.ndarray) -> np.ndarray:
    """An (i, j) slice of a RAS-ish volume shown with anterior up, patient's right on the left."""
    return np.flipud(a.T)


def render(rows: list[tuple[str, dict[str, np.ndarray]]], title: str, dest: Path) -> Path:
    """One PNG: a row per case with the MR, the sCT, the CT, |error| and the spread."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    cols = [("MR (simulated from the CT)", "mr", "gray", None), ("synthetic CT", "sct", "gray", (-400, 1000)),
            ("real CT (the answer)", "ct", "gray", (-400, 1000)), ("|sCT - CT| (HU)", "err", "magma", (0, 500)),
            ("spread (SD, HU)", "spread", "viridis", (0, 200))]
    cols = [c for c in cols if all(c[1] in r for _, r in rows)]
    with matplotlib.rc_context({"text.parse_math": False, "font.size": 8}):
        fig, axes = plt.subplots(len(rows), len(cols), figsize=(2.4 * len(cols), 2.2 * len(rows)), squeeze=False)
        for r, (name, panels) in enumerate(rows):
            for c, (label, key, cmap, lim) in enumerate(cols):
                ax = axes[r, c]
                img = panels[key]
                vmin, vmax = lim if lim else (0.0, float(np.percentile(img, 99.5)))
                im = ax.imshow(_oriented(img), cmap=cmap, vmin=vmin, vmax=vmax)
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(label)
                if c == 0:
                    ax.set_ylabel(name)
                if key in ("err", "spread") and r == len(rows) - 1:
                    fig.colorbar(im, ax=axes[:, c].tolist(), orientation="horizontal", fraction=0.03, pad=0.02)
        fig.suptitle(title)
        dest.parent.mkdir(parents=True, exist_ok=True)
        from medsynth.core.files import atomic_path

        with atomic_path(dest) as tmp:
            fig.savefig(tmp, format="png", dpi=90, bbox_inches="tight")
        plt.close(fig)
    return dest


def figures(name: str, work: Path, out: Path, seed: int = 0) -> list[Path]:
    """Render every mode's figure of the result ``name`` (models from ``work``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import translation_anatomy as ta

    from medsynth.io.loading import load_volume
    from medsynth.translation.cyclegan import CycleGANTranslator

    result = json.loads((RESULTS / f"translation_{name}.json").read_text())
    cases = ta.build_cases(work)
    written = []
    for run in result["runs"].values():
        if run["seed"] != seed:
            continue
        model = Path(run["run_dir"]) / "model"
        if not (model / "weights.pt").is_file():
            model = work / Path(run["run_dir"]).name / "model"
        tr = CycleGANTranslator.load(model)
        rows = []
        for c in ta.PROTOCOL["test"]:
            mr = load_volume(cases[c]["mr"])
            ct = load_volume(cases[c]["ct"], modality="CT").array
            has_spread = tr.config.spatial_dims != 2 or bool(tr.config.inference.mirror_axes)
            sct, spread = tr.translate(mr, return_spread=True) if has_spread else (tr.translate(mr), None)
            k = ct.shape[2] // 2
            body = load_volume(cases[c]["body"], modality="SEG").array[:, :, k] > 0
            panels = {"mr": mr.array[:, :, k], "sct": sct.array[:, :, k], "ct": ct[:, :, k],
                      "err": np.where(body, np.abs(np.clip(sct.array, -1024, 3000) - np.clip(ct, -1024, 3000))[:, :, k], 0.0)}
            if spread is not None:
                panels["spread"] = spread.array[:, :, k]
            m = run["cases"][c]
            rows.append((f"{c}: MAE {m['mae_hu']:.0f} HU, bone Dice {m['bone_dice']:.2f}", panels))
        mean = run["mean"]
        title = (f"{name}, spatial_dims {run['spatial_dims']}, seed {seed}: held-out MAE {mean['mae_hu']:.1f} HU, "
                 f"MS-SSIM {mean['ms_ssim']:.3f}, bone Dice {mean['bone_dice']:.2f}")
        written.append(render(rows, title, out / f"translation_{name}_{str(run['spatial_dims']).replace('.', '')}d.png"))
        print(f"[figures] {written[-1]}", flush=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="real_anatomy", help="result name (benchmarks/results/translation_<name>.json)")
    parser.add_argument("--work", type=Path, required=True, help="the --work folder of that benchmark run (models, cases)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "assets", help="where the PNGs go")
    parser.add_argument("--seed", type=int, default=0, help="which seed's models to show")
    args = parser.parse_args(argv)
    figures(args.name, args.work, args.out, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
