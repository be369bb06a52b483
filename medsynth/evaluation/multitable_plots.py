"""Figures of a multi-table report: the relation graph, children per parent, trajectories over time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsynth.evaluation.multitable_data import children_per_parent, trajectories
from medsynth.evaluation.plots import REAL, SYN, figure, to_png
from medsynth.io.dataset import DatasetSchema


def _fig(section: str, title: str, png: str, caption: str) -> dict[str, str]:
    return {"section": section, "title": title, "png": png, "caption": caption}


def relation_graph(schema: DatasetSchema) -> str:
    """Tables as boxes by depth (root on top), an arrow from each child to its parent labelled by the key."""
    order = schema.order()
    depth: dict[str, int] = {}
    for t in order:
        depth[t] = 1 + max((depth[r.parent] for r in schema.parents_of(t)), default=-1)
    levels: dict[int, list[str]] = {}
    for t in order:
        levels.setdefault(depth[t], []).append(t)
    pos = {t: ((i + 1) / (len(ts) + 1), 1 - (d + 0.5) / (max(levels) + 1)) for d, ts in levels.items() for i, t in enumerate(ts)}
    with figure(7.5, 1.2 + 1.1 * len(levels)) as (fig, _plt):
        ax = fig.add_subplot(111)
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        for r in schema.relations:
            (x0, y0), (x1, y1) = pos[r.child], pos[r.parent]
            ax.annotate("", xy=(x1, y1 - 0.06), xytext=(x0, y0 + 0.06), arrowprops={"arrowstyle": "->", "color": "#555"})
            label = f"{r.column} -> {r.parent_column}" + (f"\nordered by {r.order_by}" if r.order_by else "")
            ax.text((x0 + x1) / 2 + 0.01, (y0 + y1) / 2, label, fontsize=7, color="#333")
        for t, (x, y) in pos.items():
            tab = schema.tables[t]
            key = f"\nkey: {tab.primary_key}" if tab.primary_key else ""
            ax.text(x, y, f"{t}\n{len(tab.columns)} columns{key}", ha="center", va="center", fontsize=8,
                    bbox={"boxstyle": "round", "facecolor": "#eef3fb", "edgecolor": "#1f4e99"})
        return to_png(fig)


def children_plot(train: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame], schema: DatasetSchema) -> str:
    """Distribution of the number of child rows per parent, real vs synthetic, one panel per relation."""
    rels = schema.relations[:6]
    with figure(3.2 * max(len(rels), 1), 2.4) as (fig, _plt):
        for i, r in enumerate(rels):
            ax = fig.add_subplot(1, len(rels), i + 1)
            a, b = children_per_parent(train, r), children_per_parent(synthetic, r)
            top = int(max(a.max(initial=0), b.max(initial=0))) + 1
            x = np.arange(top)
            w = 0.4
            ax.bar(x - w / 2, np.bincount(a, minlength=top) / max(len(a), 1), w, color=REAL, label="real")
            ax.bar(x + w / 2, np.bincount(b, minlength=top) / max(len(b), 1), w, color=SYN, label="synthetic")
            ax.set_title(f"{r.child} per {r.parent}")
            ax.set_xlabel("rows per parent")
            if i == 0:
                ax.legend(fontsize=7)
        return to_png(fig)


def trajectory_plot(train: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame], schema: DatasetSchema) -> str | None:
    """Mean of numeric child columns over time since the parent's first row, real vs synthetic."""
    panels = []
    for r in schema.relations:
        real, edges = trajectories(train, schema, r)
        syn, _ = trajectories(synthetic, schema, r, edges)
        panels += [(r, c, real[c], syn[c] if c in syn else pd.Series(dtype=float)) for c in list(real.columns)[:4]]
    panels = panels[:8]
    if not panels:
        return None
    ncol = min(4, len(panels))
    nrow = (len(panels) + ncol - 1) // ncol
    with figure(3.0 * ncol, 2.3 * nrow) as (fig, _plt):
        for i, (r, c, a, b) in enumerate(panels):
            ax = fig.add_subplot(nrow, ncol, i + 1)
            ax.plot(a.index, a.to_numpy(), "o-", color=REAL, label="real")
            ax.plot(b.index, b.to_numpy(), "s--", color=SYN, label="synthetic")
            ax.set_title(f"{r.child}.{c}")
            ax.set_xlabel("time bin (quintiles)" if r.order_by else "row position")
            if i == 0:
                ax.legend(fontsize=7)
        return to_png(fig)


def multitable_figures(train: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame], schema: DatasetSchema) -> list[dict[str, str]]:
    """The figures of a multi-table evaluation (relation graph, children per parent, trajectories)."""
    figs = [_fig("relations", "Relation graph", relation_graph(schema),
                 "Tables (root on top) and their relations: each arrow goes from a child table's foreign key to its parent's primary key.")]
    if schema.relations:
        figs.append(_fig("relations", "Children per parent", children_plot(train, synthetic, schema),
                         "Share of parents with 0, 1, 2, ... child rows, real training data (blue) vs synthetic (red)."))
        traj = trajectory_plot(train, synthetic, schema)
        if traj is not None:
            figs.append(_fig("relations", "Trajectories over time", traj,
                             "Mean of each numeric child column per quintile of time since the parent's first row (or per row position), real vs synthetic."))
    return figs


__all__ = ["children_plot", "multitable_figures", "relation_graph", "trajectory_plot"]
