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
CHUNK = 32_768


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
    idx = np.rint(uu * (g - 1)).astype(np.int64) if per_value else np.minimum((uu * g).astype(np.int64), g - 1)
    if col.missing:
        return np.where(miss, g, idx)
    return idx  # no missing state: a missing value is read as the nearest present one


def coarse_code(model: DPMST, col: ColumnSchema, values: np.ndarray) -> np.ndarray:
    """A column's values in model space -> the coarse states of the fitted tree."""
    m = model._maps[col.name]
    return m[np.minimum(fine_code(model, col, values), m.size - 1)]


def _draw(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    cum = np.cumsum(p, axis=1)
    u = rng.random(p.shape[0])[:, None] * cum[:, -1:]
    return np.minimum((cum <= u).sum(axis=1), p.shape[1] - 1)


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
        self.columns = {c.name: c for c in [*model.codec.numeric, *model.codec.discrete]}  # type: ignore[union-attr]

    def sample_states(self, n: int, evidence: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Coarse states of every column for ``n`` rows, given the coarse states of the ``evidence`` columns."""
        out = {c: np.empty(n, dtype=np.int64) for c in self.order}
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            part = self._chunk(stop - start, {k: v[start:stop] for k, v in evidence.items()}, rng)
            for c in self.order:
                out[c][start:stop] = part[c]
        return out

    def _chunk(self, n: int, evidence: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
        model = self.model
        below = {c: c in evidence for c in self.order}  # evidence in the subtree
        for c in reversed(self.order):
            below[c] = below[c] or any(below[ch] for ch in self.children[c])
        lam: dict[str, np.ndarray] = {}
        up: dict[str, np.ndarray] = {}
        for c in reversed(self.order):
            if not below[c]:
                continue
            k = self.sizes[c]
            if c in evidence:
                like = np.zeros((n, k))
                like[np.arange(n), np.clip(evidence[c], 0, k - 1)] = 1.0
            else:
                like = np.ones((n, k))
            for ch in self.children[c]:
                if below[ch]:
                    like = like * up[ch]
            lam[c] = like
            if self.parents[c] is not None:
                msg = like @ model._conds[c].T
                top = msg.max(axis=1, keepdims=True)
                up[c] = msg / np.where(top > 0, top, 1.0)
        states: dict[str, np.ndarray] = {}
        root = self.order[0]
        states[root] = self._pick(root, np.broadcast_to(model._root_p, (n, self.sizes[root])), lam.get(root), evidence, rng)
        for c in self.order[1:]:
            prior = model._conds[c][states[self.parents[c]]]  # type: ignore[index]
            states[c] = self._pick(c, prior, lam.get(c), evidence, rng)
        return states

    def _pick(self, c: str, prior: np.ndarray, like: np.ndarray | None, evidence: dict[str, np.ndarray],
              rng: np.random.Generator) -> np.ndarray:
        if c in evidence:
            return np.clip(evidence[c], 0, self.sizes[c] - 1).astype(np.int64)
        p = prior if like is None else prior * like
        total = p.sum(axis=1)
        dead = total <= 0  # the evidence below has no mass under this prior: fall back on the prior alone
        if dead.any():
            p = np.where(dead[:, None], prior, p)
        return _draw(p, rng)

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
