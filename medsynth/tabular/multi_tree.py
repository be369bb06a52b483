"""Sampling a fitted DP-MST tree given some of its columns (exact, by belief propagation on the tree).

DP-MST (:mod:`medsynth.tabular.mst`) models a table as a tree of coarse marginals,
``P(x) = P(root) * prod P(child | parent)``, and samples it ancestrally from the root. A child table's
model is such a tree over the child's columns *and* its parent's columns, and at sampling time the
parent's columns are known (evidence). Conditioning a tree on observed nodes is exact and cheap: an
upward pass sends each node's likelihood of the evidence below it to its parent (one matrix product per
edge), then a downward pass samples every node from ``P(x | its parent's value) * likelihood below``.
This is post-processing of the fitted model: it costs no privacy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from medsynth.io.schema import DISCRETE_TYPES, ColumnSchema
from medsynth.tabular.encoding import Frame

if TYPE_CHECKING:  # pragma: no cover
    from medsynth.tabular.mst import DPMST

#: Rows per block of the passes (memory: block x sum of node sizes floats).
CHUNK = 65_536


def fine_code(model: DPMST, col: ColumnSchema, values: np.ndarray) -> np.ndarray:
    """A column's values in model space (u in [0, 1] or NaN; category codes, -1 missing) -> fine cells."""
    if col.type in DISCRETE_TYPES:
        k = model.codec.n_categories(col.name)  # type: ignore[union-attr]
        c = np.asarray(values, dtype=np.int64)
        return np.where(c < 0, k, c)
    g, per_value = model._fine_spec(col)
    u = np.asarray(values, dtype=float)
    miss = np.isnan(u)
    uu = np.clip(np.where(miss, 0.0, u), 0.0, 1.0)
    edges = getattr(model, "_edges", {}).get(col.name)  # cells given by edges (a reused 1-way's grid): as fitted
    if edges is not None:
        idx = np.clip(np.searchsorted(edges, uu, side="right") - 1, 0, g - 1)
    else:
        idx = np.rint(uu * (g - 1)).astype(np.int64) if per_value else np.minimum((uu * g).astype(np.int64), g - 1)
    if col.missing:
        return np.where(miss, g, idx)
    return idx  # no missing state: a missing value is read as the nearest present one


def coarse_code(model: DPMST, col: ColumnSchema, values: np.ndarray) -> np.ndarray:
    """A column's values in model space -> the coarse states of the fitted tree."""
    m = model._maps[col.name]
    return m[np.minimum(fine_code(model, col, values), m.size - 1)]


class TreeSampler:
    """Conditional sampling of a fitted :class:`~medsynth.tabular.mst.DPMST` (its tree and tables)."""

    def __init__(self, model: DPMST) -> None:
        self.model = model
        self.order: list[str] = list(model._order)
        self.parents: dict[str, str | None] = dict(model._parents)
        self.children: dict[str, list[str]] = {c: [] for c in self.order}
        for c, p in self.parents.items():
            if p is not None:
                self.children[p].append(c)
        self.sizes = {c: int(model._maps[c].max()) + 1 for c in self.order}
        self.cdf = {c: np.cumsum(model._conds[c], axis=1) for c in self.order[1:]}
        self.columns = {c.name: c for c in [*model.codec.numeric, *model.codec.discrete]}  # type: ignore[union-attr]

    def sample_states(self, n: int, evidence: dict[str, np.ndarray], rng: np.random.Generator, *,
                      groups: np.ndarray | None = None, group_evidence: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Coarse states of every column for ``n`` rows, given the coarse states of the ``evidence`` columns.

        Args:
            n: rows to draw.
            evidence: per-row coarse states of observed columns.
            rng: the sampling generator.
            groups: optional sorted group index per row (e.g. the row's parent) for ``group_evidence``.
            group_evidence: coarse states of observed columns shared by every row of a group (one per
                group): the part of the upward pass below them runs once per group, not once per row.
        """
        group_evidence = group_evidence or {}
        if group_evidence and groups is None:
            raise ValueError("group_evidence needs groups")
        out = {c: np.empty(n, dtype=np.int64) for c in self.order}
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            if group_evidence:
                g = groups[start:stop]  # type: ignore[index]
                g0, g1 = int(g[0]), int(g[-1]) + 1
                part = self._chunk(stop - start, {k: v[start:stop] for k, v in evidence.items()}, rng,
                                   {k: v[g0:g1] for k, v in group_evidence.items()}, g - g0)
            else:
                part = self._chunk(stop - start, {k: v[start:stop] for k, v in evidence.items()}, rng)
            for c in self.order:
                out[c][start:stop] = part[c]
        return out

    def _up(self, c: str, like: np.ndarray | None, obs: np.ndarray | None) -> np.ndarray:
        """Message from node ``c`` to its parent: P(evidence below c | parent state), per row (max-normalised)."""
        cond = self.model._conds[c]
        k = self.sizes[c]
        if obs is not None:  # an observed node sends one column of its conditional table
            e = np.clip(obs, 0, k - 1)
            msg = cond[:, e].T
            return msg if like is None else msg * like[np.arange(len(e)), e][:, None]
        msg = like @ cond.T  # type: ignore[operator]
        top = msg.max(axis=1, keepdims=True)
        return msg / np.where(top > 0, top, 1.0)

    def _chunk(self, n: int, evidence: dict[str, np.ndarray], rng: np.random.Generator,
               gev: dict[str, np.ndarray] | None = None, grp: np.ndarray | None = None) -> dict[str, np.ndarray]:
        gev = gev or {}
        row_below = {c: c in evidence for c in self.order}  # per-row evidence in the subtree
        grp_below = {c: c in gev for c in self.order}  # group evidence in the subtree
        for c in reversed(self.order):
            row_below[c] = row_below[c] or any(row_below[ch] for ch in self.children[c])
            grp_below[c] = grp_below[c] or any(grp_below[ch] for ch in self.children[c])
        lam: dict[str, np.ndarray | None] = {}  # per-row likelihood of the evidence below each node
        lam_g: dict[str, np.ndarray | None] = {}  # per-group one, for nodes with group evidence only below
        up: dict[str, np.ndarray] = {}
        up_g: dict[str, np.ndarray] = {}
        for c in reversed(self.order):
            if not (row_below[c] or grp_below[c]):
                continue
            kids = [ch for ch in self.children[c] if row_below[ch] or grp_below[ch]]
            if not row_below[c]:  # group level: once per group
                like = None
                for ch in kids:
                    like = up_g[ch] if like is None else like * up_g[ch]
                lam_g[c] = like
                if self.parents[c] is not None:
                    up_g[c] = self._up(c, like if like is not None or c in gev else np.ones((len(next(iter(gev.values()))), self.sizes[c])),
                                       gev.get(c))
                continue
            like = None
            for ch in kids:
                msg = up[ch] if row_below[ch] else up_g[ch][grp]  # type: ignore[index]
                like = msg if like is None else like * msg
            lam[c] = like
            if self.parents[c] is not None:
                up[c] = self._up(c, like if like is not None or c in evidence else np.ones((n, self.sizes[c])), evidence.get(c))
        states: dict[str, np.ndarray] = {}
        for c in self.order:
            p = self.parents[c]
            if c in evidence:
                states[c] = np.clip(evidence[c], 0, self.sizes[c] - 1).astype(np.int64)
                continue
            if c in gev:
                states[c] = np.clip(gev[c][grp], 0, self.sizes[c] - 1).astype(np.int64)  # type: ignore[index]
                continue
            like = lam.get(c) if row_below[c] else (lam_g[c][grp] if lam_g.get(c) is not None else None)  # type: ignore[index]
            if p is None:
                if like is None:
                    cdf = np.cumsum(self.model._root_p)
                    states[c] = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), cdf.size - 1)
                else:
                    states[c] = self._pick(np.broadcast_to(self.model._root_p, (n, self.sizes[c])), like, rng)
            elif like is None:
                states[c] = self._from_prior(c, states[p], rng)
            else:
                states[c] = self._pick(self.model._conds[c][states[p]], like, rng)
        return states

    def _from_prior(self, c: str, parent_state: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draws from P(c | parent) alone, by inverse CDF per parent state (no n x k arrays)."""
        cdf = self.cdf[c]
        u = rng.random(parent_state.size)
        out = np.empty(parent_state.size, dtype=np.int64)
        order = np.argsort(parent_state, kind="stable")
        sorted_states = parent_state[order]
        bounds = np.flatnonzero(np.diff(sorted_states)) + 1
        for rows in np.split(order, bounds):
            if rows.size == 0:
                continue
            row = cdf[parent_state[rows[0]]]
            out[rows] = np.searchsorted(row, u[rows] * row[-1], side="right")
        return np.minimum(out, cdf.shape[1] - 1)

    @staticmethod
    def _pick(prior: np.ndarray, like: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draws from prior * likelihood per row (rows whose product has no mass: from the prior alone)."""
        cum = np.cumsum(prior * like, axis=1)
        dead = cum[:, -1] <= 0  # the evidence below has no mass under this prior: fall back on the prior alone
        if dead.any():
            cum[dead] = np.cumsum(prior[dead], axis=1)
        u = rng.random(cum.shape[0]) * cum[:, -1]
        return np.minimum((cum <= u[:, None]).sum(axis=1), cum.shape[1] - 1)

    def decode(self, states: dict[str, np.ndarray], columns: list[str], rng: np.random.Generator) -> Frame:
        """Model-space values (u / codes) of ``columns`` from their coarse states (a value drawn within the
        coarse cell by the noisy fine histogram, as DP-MST decodes)."""
        n = len(next(iter(states.values()))) if states else 0
        frame = Frame(n=n)
        for name in columns:
            col = self.columns[name]
            if col.type in DISCRETE_TYPES:
                k = self.model.codec.n_categories(name)  # type: ignore[union-attr]
                frame.cat[name] = np.where(states[name] >= k, -1, states[name]).astype(np.int64)
            else:
                frame.num[name] = self.model._decode_number(col, states[name], rng)
        return frame


__all__ = ["TreeSampler", "coarse_code", "fine_code"]
