"""Render sample previews (middle axial slices) of the imaging benchmarks to one PNG.

Rows per dataset (32^3 CT phantoms; 32^3 crops of the real CT): real training volumes, then vae3d,
gan3d and ldm3d samples trained for the same CPU time (``benchmarks/realism.py``), then ldm3d image +
label-map pairs made from new masks (``benchmarks/augment.py --keep-samples``, label outlines in
colour). Intensities in HU on one window per dataset. Only the files present are drawn.

Usage::

    python benchmarks/previews.py            # writes docs/assets/imaging_samples.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
WINDOWS = {"phantom": (-250.0, 250.0), "ct": (-400.0, 600.0)}
TITLES = {"phantom": "CT phantoms 32^3", "ct": "real CT crops 32^3"}


def rows_for(data: str, n: int) -> list[tuple[str, list[np.ndarray], list[np.ndarray] | None]]:
    rows: list[tuple[str, list[np.ndarray], list[np.ndarray] | None]] = []
    real = RESULTS / "realism" / f"{data}_samples.npz"
    if real.is_file():
        with np.load(real) as z:
            for key, name in (("real", "real"), ("vae3d", "vae3d"), ("gan3d", "gan3d"), ("ldm3d", "ldm3d")):
                if key in z.files:
                    rows.append((name, [v[:, :, v.shape[2] // 2] for v in z[key][:n]], None))
    pairs = sorted((RESULTS / "augment").glob(f"{data}_seed*_samples.npz"))
    if pairs:
        with np.load(pairs[0]) as z:
            imgs, labs = z["image"][:n], z["label"][:n]
            rows.append(("ldm3d pairs", [v[:, :, v.shape[2] // 2] for v in imgs], [v[:, :, v.shape[2] // 2] for v in labs]))
    return rows


def render(out: Path, n: int = 4) -> Path:
    from matplotlib.figure import Figure

    blocks = [(d, rows_for(d, n)) for d in ("phantom", "ct")]
    blocks = [(d, r) for d, r in blocks if r]
    if not blocks:
        raise SystemExit("no samples found: run benchmarks/realism.py and benchmarks/augment.py --keep-samples first")
    fig = Figure(figsize=(1.6 * n * len(blocks), 1.6 * max(len(r) for _, r in blocks) + 0.4), dpi=90)
    for b, (data, rows) in enumerate(blocks):
        lo, hi = WINDOWS[data]
        for r, (name, slices, labels) in enumerate(rows):
            for c, img in enumerate(slices):
                ax = fig.add_subplot(max(len(rr) for _, rr in blocks), n * len(blocks), r * n * len(blocks) + b * n + c + 1)
                ax.imshow(img.T, cmap="gray", vmin=lo, vmax=hi, origin="lower")
                if labels is not None:
                    ax.contour(labels[c].T, levels=np.arange(0.5, labels[c].max() + 0.5), linewidths=0.5, cmap="autumn", origin="lower")
                ax.set_axis_off()
                if c == 0:
                    ax.set_title(name, fontsize=7, loc="left")
                if r == 0 and c == 0:
                    ax.text(0, 1.35, TITLES[data], transform=ax.transAxes, fontsize=8, weight="bold")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "docs" / "assets" / "imaging_samples.png"))
    ap.add_argument("--n", type=int, default=4)
    args = ap.parse_args()
    print(f"wrote {render(Path(args.out), args.n)}")


if __name__ == "__main__":
    main()
