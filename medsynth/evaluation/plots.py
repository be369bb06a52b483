"""Report figures: matplotlib (Agg) to base64 PNG, so that report.html carries them inline.

Text from the data (column and category names) only ever reaches a figure as plain text: math
parsing is switched off, so a category named ``$x$`` or ``<script>`` is drawn literally.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

REAL, SYN, HOLD = "#1f77b4", "#d62728", "#7f7f7f"


@contextmanager
def figure(*size: float) -> Iterator[Any]:
    """A matplotlib figure in a safe style; yields (fig, plt)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"text.parse_math": False, "font.size": 8, "axes.titlesize": 9, "figure.dpi": 80}):
        fig = plt.figure(figsize=size)
        fig.subplots_adjust(left=0.07, right=0.97, bottom=0.14, top=0.9, wspace=0.35, hspace=0.75)
        try:
            yield fig, plt
        finally:
            plt.close(fig)


def to_png(fig: Any) -> str:
    """Base64 PNG of a figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _short(text: Any, n: int = 18) -> str:
    s = str(text).replace("\x00<missing>", "(missing)")
    return s if len(s) <= n else s[: n - 1] + "~"


def _stairs(ax: Any, values: np.ndarray, bins: np.ndarray, color: str, label: str) -> None:
    """A filled density histogram drawn as one polygon (much faster than one patch per bar)."""
    counts, edges = np.histogram(values, bins)
    if counts.sum() == 0:  # an empty synthetic column (DP left it out), or no value in the real range: no stairs
        ax.plot([], [], color=color, label=f"{label} (no values in range)")
        return
    ax.stairs(counts / (counts.sum() * np.diff(edges)), edges, fill=True, alpha=0.45, color=color, label=label)


def marginals(train: pd.DataFrame, synthetic: pd.DataFrame, types: dict[str, str], *, max_columns: int = 16) -> str:
    """Real vs synthetic distribution of each column (bars for categories, histograms for numbers)."""
    cols = list(types)[:max_columns]
    ncol = 4
    nrow = max(1, (len(cols) + ncol - 1) // ncol)
    with figure(12, 2.4 * nrow) as (fig, plt):
        for i, c in enumerate(cols):
            ax = fig.add_subplot(nrow, ncol, i + 1)
            if types[c] == "categorical":
                pr = train[c].fillna("(missing)").astype(str).value_counts(normalize=True)
                ps = synthetic[c].fillna("(missing)").astype(str).value_counts(normalize=True)
                cats = list(pr.index[:10])
                x = np.arange(len(cats))
                ax.bar(x - 0.2, [pr.get(k, 0) for k in cats], 0.4, color=REAL, label="real")
                ax.bar(x + 0.2, [ps.get(k, 0) for k in cats], 0.4, color=SYN, label="synthetic")
                ax.set_xticks(x, [_short(k, 10) for k in cats], rotation=45, ha="right")
            else:
                a, b = train[c].dropna().to_numpy(float), synthetic[c].dropna().to_numpy(float)
                both = np.r_[a, b]
                if both.size:
                    lo, hi = np.percentile(both, [0.5, 99.5])
                    bins = np.linspace(lo, hi if hi > lo else lo + 1, 30)
                    _stairs(ax, a, bins, REAL, "real")
                    _stairs(ax, b, bins, SYN, "synthetic")
            ax.set_title(_short(c, 30))
            if i == 0:
                ax.legend(fontsize=7)
        return to_png(fig)


def heatmaps(real: pd.DataFrame, synthetic: pd.DataFrame, *, max_columns: int = 25) -> str:
    """Association matrices, real | synthetic | absolute difference."""
    r, s = real.iloc[:max_columns, :max_columns], synthetic.iloc[:max_columns, :max_columns]
    labels = [_short(c, 14) for c in r.index]
    with figure(13, 4.4) as (fig, plt):
        for i, (m, title, cmap, lim) in enumerate(((r, "real", "RdBu_r", (-1, 1)), (s, "synthetic", "RdBu_r", (-1, 1)),
                                                    ((r - s).abs(), "|difference|", "Reds", (0, 1)))):
            ax = fig.add_subplot(1, 3, i + 1)
            im = ax.imshow(m.to_numpy(float), cmap=cmap, vmin=lim[0], vmax=lim[1])
            ax.set_xticks(range(len(labels)), labels, rotation=90)
            ax.set_yticks(range(len(labels)), labels if i == 0 else [""] * len(labels))
            ax.set_title(title)
            fig.colorbar(im, ax=ax, fraction=0.046)
        return to_png(fig)


def histograms(series: dict[str, np.ndarray], *, title: str, xlabel: str, colors: list[str] | None = None) -> str:
    """Overlaid histograms of a few named samples (DCR, attack scores)."""
    with figure(6, 3) as (fig, plt):
        ax = fig.add_subplot(1, 1, 1)
        finite = [np.asarray(v, float)[np.isfinite(v)] for v in series.values()]
        allv = np.concatenate([f for f in finite if f.size]) if any(f.size for f in finite) else np.zeros(1)
        lo, hi = np.percentile(allv, [0.5, 99.5])
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 40)
        for (name, _), v, col in zip(series.items(), finite, colors or [REAL, SYN, HOLD, "#2ca02c"]):
            _stairs(ax, np.clip(v, lo, hi), bins, col, f"{name} (n={len(v)})")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.legend(fontsize=7)
        return to_png(fig)


def roc_curves(curves: dict[str, tuple[np.ndarray, np.ndarray, float]]) -> str:
    """ROC curves of the membership attacks (log-scaled FPR shows the low-FPR regime)."""
    with figure(9, 3.4) as (fig, plt):
        for j, log in enumerate((False, True)):
            ax = fig.add_subplot(1, 2, j + 1)
            for name, (fpr, tpr, auc) in curves.items():
                ax.plot(np.maximum(fpr, 1e-4) if log else fpr, tpr, label=f"{name} (AUC {auc:.3f})")
            grid = np.logspace(-4, 0, 50) if log else np.linspace(0, 1, 50)
            ax.plot(grid, grid, "k--", lw=0.8, label="chance")
            if log:
                ax.set_xscale("log")
                ax.set_xlim(1e-3, 1)
            ax.set_xlabel("false positive rate (non-members accused)")
            ax.set_ylabel("true positive rate (members caught)")
            ax.set_title("ROC, log FPR" if log else "ROC")
            ax.legend(fontsize=7, loc="lower right")
        return to_png(fig)


def slice_grid(rows: list[tuple[str, list[np.ndarray]]], *, vmin: float | None = None, vmax: float | None = None, titles: list[str] | None = None) -> str:
    """Rows of 2D slices (e.g. real / synthetic; or synthetic / nearest training volume)."""
    ncol = max(len(r[1]) for r in rows) if rows else 1
    with figure(1.9 * ncol + 0.8, 2.0 * len(rows)) as (fig, plt):
        for i, (label, slices) in enumerate(rows):
            for j, sl in enumerate(slices):
                ax = fig.add_subplot(len(rows), ncol, i * ncol + j + 1)
                ax.imshow(np.rot90(sl), cmap="gray", vmin=vmin, vmax=vmax)
                ax.set_xticks([])
                ax.set_yticks([])
                if j == 0:
                    ax.set_ylabel(_short(label, 24))
                if titles and i == 0 and j < len(titles):
                    ax.set_title(_short(titles[j], 24))
        return to_png(fig)


def bars(values: dict[str, float], *, title: str, ylabel: str) -> str:
    """A bar chart of named values (per-tissue MAE)."""
    with figure(6, 3) as (fig, plt):
        ax = fig.add_subplot(1, 1, 1)
        ax.bar([_short(k, 14) for k in values], list(values.values()), color=REAL)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        return to_png(fig)


__all__ = ["bars", "figure", "heatmaps", "histograms", "marginals", "roc_curves", "slice_grid", "to_png"]
