"""Graphical-model estimation from noisy marginals (Private-PGM on numpy): junction tree, mirror descent, sampling.

Given noisy measurements of marginals (a clique of columns, a noisy table, its noise scale), find the
distribution that best explains them, as Private-PGM does (McKenna, Sheldon and Miklau 2019): a Markov
random field whose cliques are the maximal cliques of a **junction tree** built over the measured
cliques (the measurement graph triangulated by greedy min-fill elimination, its maximal cliques joined
by a maximum spanning tree of their intersections). Its log-potentials are fitted by **mirror descent**
on the loss ``sum_m ||M_m(p) - y_m||^2 / (2 sigma_m)`` (marginals as counts of ``total`` rows), with
belief propagation (sum-product over the junction tree, tables rescaled) computing the clique marginals and
an Armijo backtracking step size (as mbi's ``mirror_descent``). Everything here is post-processing of
DP outputs: it never sees the data.

For the selection step of adaptive mechanisms (AIM) the model answers *any* small marginal: inside a
junction-tree clique by summing; across cliques by carrying an anchor column through the tree
(``P(a, C_child) = P(C_child) P(a, S) / P(S)``, exact because ``a`` and ``C_child \\ S`` are independent
given the separator ``S``); all pairs with one anchor in one pass. Three-way marginals with a fixed
column ``t`` condition the model on each value of ``t`` (evidence) and take the pairs of each.

Sampling is ancestral over the tree: the root clique from its marginal, then each clique's new columns
given its separator, by one vectorised inverse-CDF lookup per clique (``searchsorted`` on a flattened
table of cumulative conditionals with per-row offsets).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.cluster.hierarchy import DisjointSet

Clique = tuple[int, ...]


# -- table helpers ---------------------------------------------------------------------------------------
def align(values: np.ndarray, vars_: Clique, target: Clique, sizes: Sequence[int]) -> np.ndarray:
    """``values`` over ``vars_`` (axes in that order) reshaped to broadcast against a table over ``target``."""
    order = [v for v in target if v in vars_]
    vals = np.transpose(values, [vars_.index(v) for v in order]) if len(order) > 1 else values
    return vals.reshape([sizes[v] if v in vars_ else 1 for v in target])


def sum_to(values: np.ndarray, vars_: Clique, keep: Clique) -> np.ndarray:
    """Marginalise a table over ``vars_`` onto ``keep`` (axes in ``keep``'s order)."""
    axes = tuple(i for i, v in enumerate(vars_) if v not in keep)
    out = values.sum(axis=axes) if axes else values
    rem = [v for v in vars_ if v in keep]
    return np.transpose(out, [rem.index(v) for v in keep]) if len(keep) > 1 else out


def cells(clique: Sequence[int], sizes: Sequence[int]) -> int:
    """Number of cells of a clique's table."""
    return math.prod(int(sizes[v]) for v in clique)  # Python ints: exact, and 25x faster than np.prod on a few sizes


# -- junction tree ------------------------------------------------------------------------------------------
@dataclass
class JunctionTree:
    """Maximal cliques of a triangulated graph joined into a tree.

    Attributes:
        cliques: maximal cliques (sorted column indices).
        edges: tree edges (parent, child) in breadth-first order from clique 0.
        order: cliques in breadth-first order (root first).
        parent: parent clique of each clique (-1 for roots).
    """

    cliques: list[Clique]
    edges: list[tuple[int, int]]
    order: list[int]
    parent: list[int]

    def separator(self, child: int) -> Clique:
        """Columns a clique shares with its parent."""
        p = self.parent[child]
        if p < 0:
            return ()
        return tuple(v for v in self.cliques[child] if v in self.cliques[p])

    @property
    def size(self) -> int:
        """Cells of all clique tables (the model's size)."""
        return sum(int(np.prod([self._sizes[v] for v in c], dtype=np.int64)) for c in self.cliques)

    _sizes: Sequence[int] = field(default_factory=list, repr=False)


def triangulate(n_vars: int, cliques: Sequence[Sequence[int]], sizes: Sequence[int]) -> list[Clique]:
    """Maximal cliques of a chordal completion of the graph spanned by ``cliques`` (greedy min-fill,
    ties broken by the table size of the eliminated neighbourhood, then by the column's index).

    Each vertex's elimination key is kept and recomputed only where an elimination changed it (the
    eliminated vertex's neighbours, and the common neighbours of the edges it filled in): AIM's model-size
    check triangulates once per candidate it rejects, 10,000 times in one fit on 100 columns."""
    adj: list[set[int]] = [set() for _ in range(n_vars)]
    for cl in cliques:
        for a, b in itertools.combinations(cl, 2):
            adj[a].add(b)
            adj[b].add(a)

    def key(v: int) -> tuple[int, int, int]:
        nb = adj[v]
        return (sum(1 for a, b in itertools.combinations(nb, 2) if b not in adj[a]), cells([*nb, v], sizes), v)

    keys = {v: key(v) for v in range(n_vars)}
    formed: list[frozenset[int]] = []
    while keys:
        best = min(keys.values())[2]
        del keys[best]
        nb = adj[best]
        dirty = set(nb)
        for a, b in itertools.combinations(nb, 2):
            if b not in adj[a]:
                adj[a].add(b)
                adj[b].add(a)
                dirty |= adj[a] & adj[b]  # a new edge fills a pair of each common neighbour
        formed.append(frozenset([best, *nb]))
        for u in nb:
            adj[u].discard(best)
        for u in dirty:
            if u in keys:
                keys[u] = key(u)
    holding: dict[int, list[frozenset[int]]] = {}  # a strict superset holds every member, e.g. the first
    for c in formed:
        for v in c:
            holding.setdefault(v, []).append(c)
    maximal = [c for c in formed if not any(len(o) > len(c) and c < o for o in holding[next(iter(c))])]
    seen: set[frozenset[int]] = set()
    out = []
    for c in maximal:
        if c not in seen:
            seen.add(c)
            out.append(tuple(sorted(c)))
    return out


def junction_tree(n_vars: int, cliques: Sequence[Sequence[int]], sizes: Sequence[int]) -> JunctionTree:
    """Build a junction tree whose cliques cover every clique in ``cliques`` (and every column)."""
    maxc = triangulate(n_vars, [tuple(c) for c in cliques], sizes)
    k = len(maxc)
    pairs = sorted(((len(set(maxc[i]) & set(maxc[j])), i, j) for i in range(k) for j in range(i + 1, k)), reverse=True)
    joined = DisjointSet(range(k))

    adj: dict[int, list[int]] = {i: [] for i in range(k)}
    for _w, i, j in pairs:  # maximum spanning tree on intersection sizes (0-weight edges join components)
        if not joined.connected(i, j):
            joined.merge(i, j)
            adj[i].append(j)
            adj[j].append(i)
    parent = [-1] * k
    order: list[int] = []
    seen: set[int] = set()
    for start in range(k):
        if start in seen:
            continue
        seen.add(start)
        queue = [start]
        while queue:
            u = queue.pop(0)
            order.append(u)
            for v in sorted(adj[u]):
                if v not in seen:
                    seen.add(v)
                    parent[v] = u
                    queue.append(v)
    edges = [(parent[c], c) for c in order if parent[c] >= 0]
    return JunctionTree(cliques=maxc, edges=edges, order=order, parent=parent, _sizes=list(sizes))


def model_size(n_vars: int, cliques: Sequence[Sequence[int]], sizes: Sequence[int]) -> int:
    """Cells of the junction tree that a set of measured cliques would need."""
    return sum(cells(c, sizes) for c in triangulate(n_vars, cliques, sizes))


# -- measurements and the model ----------------------------------------------------------------------------
@dataclass
class Measurement:
    """A noisy marginal: ``y`` (counts over ``clique``, axes in clique order) with Gaussian noise ``sigma``.

    ``sigma`` may be an array broadcastable to ``y`` (cells that sum several noisy cells have more noise);
    ``sigma = 0`` marks an exact (non-private) measurement, weighted as sigma 1.
    """

    clique: Clique
    y: np.ndarray
    sigma: float | np.ndarray

    def weight(self) -> np.ndarray:
        """The loss weight of each cell: ``1 / sigma`` (1 for exact cells)."""
        s = np.asarray(self.sigma, dtype=float)
        return 1.0 / np.where(s > 0, s, 1.0)


class GraphicalModel:
    """A Markov random field over a junction tree, with calibrated clique marginals (as counts of ``total``)."""

    def __init__(self, sizes: Sequence[int], tree: JunctionTree, total: float,
                 potentials: list[np.ndarray] | None = None) -> None:
        self.sizes = list(sizes)
        self.tree = tree
        self.total = float(total)
        self.potentials = potentials or [np.zeros([self.sizes[v] for v in c]) for c in tree.cliques]
        self.beliefs: list[np.ndarray] = []  # probabilities per clique
        self.calibrate()

    # -- inference ----------------------------------------------------------------------------------------
    def calibrate(self, potentials: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """Sum-product over the tree (in probability space, each table rescaled to its maximum); sets and
        returns the clique marginals as probabilities."""
        pots = potentials if potentials is not None else self.potentials
        tree, sizes = self.tree, self.sizes
        children: dict[int, list[int]] = {i: [] for i in range(len(tree.cliques))}
        for p, c in tree.edges:
            children[p].append(c)
        up: dict[int, np.ndarray] = {}  # message child -> parent (over the separator)
        upward: dict[int, np.ndarray] = {}  # a clique's potential times its children's messages
        for c in reversed(tree.order):
            cl = tree.cliques[c]
            belief = np.exp(pots[c] - np.max(pots[c]))
            for ch in children[c]:
                belief = belief * align(up[ch], tree.separator(ch), cl, sizes)
            upward[c] = belief
            if tree.parent[c] >= 0:
                msg = sum_to(belief, cl, tree.separator(c))
                up[c] = msg / max(float(np.max(msg)), 1e-300)
        beliefs: dict[int, np.ndarray] = {}
        for c in tree.order:
            b = upward[c]
            p = tree.parent[c]
            if p >= 0:
                sep = tree.separator(c)
                down = np.divide(sum_to(beliefs[p], tree.cliques[p], sep), up[c], out=np.zeros_like(up[c]), where=up[c] > 0)
                b = b * align(down, sep, tree.cliques[c], sizes)
            total = float(b.sum())
            beliefs[c] = b / total if total > 0 else np.full(b.shape, 1.0 / b.size)
        self.beliefs = [beliefs[i] for i in range(len(tree.cliques))]
        return self.beliefs

    def clique_marginal(self, i: int) -> np.ndarray:
        """Probabilities of junction-tree clique ``i``."""
        return self.beliefs[i]

    def _clique_index(self) -> tuple[list[set[int]], dict[int, list[int]], list[int]]:
        """Per tree (cached while ``tree`` and ``sizes`` stay the same objects): each clique's columns as a set,
        the cliques holding each column (in index order) and each clique's cells."""
        cache = getattr(self, "_index_cache", None)
        if cache is None or cache[0] is not self.tree or cache[1] is not self.sizes:
            sets = [set(c) for c in self.tree.cliques]
            by_var: dict[int, list[int]] = {}
            for i, c in enumerate(self.tree.cliques):
                for v in c:
                    by_var.setdefault(v, []).append(i)
            cache = (self.tree, self.sizes, sets, by_var, [cells(c, self.sizes) for c in self.tree.cliques])
            self._index_cache = cache
        return cache[2], cache[3], cache[4]

    def containing(self, clique: Sequence[int]) -> int:
        """Index of the smallest junction-tree clique holding every column of ``clique`` (-1 if none; the
        first of equal ones)."""
        sets, by_var, ncells = self._clique_index()
        cand = by_var.get(clique[0], []) if len(clique) else range(len(sets))
        best, size = -1, None
        for i in cand:
            if all(v in sets[i] for v in clique):
                if size is None or ncells[i] < size:
                    best, size = i, ncells[i]
        return best

    def marginal(self, clique: Clique) -> np.ndarray:
        """Probabilities over ``clique`` (axes in clique order)."""
        i = self.containing(clique)
        if i >= 0:
            return sum_to(self.clique_marginal(i), self.tree.cliques[i], clique)
        if len(clique) == 2:
            return self.pairs_with(clique[0], [clique[1]])[clique[1]]
        t, rest = clique[0], clique[1:]
        out = np.zeros([self.sizes[v] for v in clique])
        for k, pm in enumerate(self.conditioned(t)):
            if pm is None:
                continue
            weight, model = pm
            if len(rest) == 1:
                out[k] = weight * model.marginal(rest)
            else:
                out[k] = weight * model.pairs_with(rest[0], [rest[1]])[rest[1]]
        return out

    def pairs_with(self, anchor: int, others: Sequence[int] | None = None) -> dict[int, np.ndarray]:
        """``P(anchor, b)`` for every other column ``b`` (or those in ``others``), in one pass over the tree."""
        tree, sizes = self.tree, self.sizes
        home = self.containing((anchor,))
        joint: dict[int, tuple[np.ndarray, Clique]] = {}  # clique -> (P(anchor, clique) table, its vars)
        p_home = self.clique_marginal(home)
        joint[home] = (p_home, tree.cliques[home])
        adj: dict[int, list[int]] = {i: [] for i in range(len(tree.cliques))}
        for p, c in tree.edges:
            adj[p].append(c)
            adj[c].append(p)
        queue, seen = [home], {home}
        while queue:
            u = queue.pop(0)
            tab_u, vars_u = joint[u]
            for v in adj[u]:
                if v in seen:
                    continue
                seen.add(v)
                cv = tree.cliques[v]
                if anchor in cv:
                    joint[v] = (self.clique_marginal(v), cv)
                else:
                    sep = tuple(x for x in cv if x in tree.cliques[u])
                    a_sep = sum_to(tab_u, vars_u, (anchor, *sep))
                    p_sep = a_sep.sum(axis=0)
                    cond = np.divide(a_sep, p_sep[None], out=np.zeros_like(a_sep), where=p_sep[None] > 0)
                    vars_v = (anchor, *cv)
                    tab = align(cond, (anchor, *sep), vars_v, sizes) * align(self.clique_marginal(v), cv, vars_v, sizes)
                    joint[v] = (tab, vars_v)
                queue.append(v)
        # cliques in other components (independent of the anchor)
        p_anchor = sum_to(p_home, tree.cliques[home], (anchor,))
        want = [b for b in (others if others is not None else range(len(sizes))) if b != anchor]
        out: dict[int, np.ndarray] = {}
        for b in want:
            i = self.containing((b,))
            if i in joint:
                tab, vars_ = joint[i]
                out[b] = sum_to(tab, vars_, (anchor, b))
            else:
                out[b] = np.outer(p_anchor, sum_to(self.clique_marginal(i), tree.cliques[i], (b,)))
        return out

    def conditioned(self, var: int) -> list[tuple[float, GraphicalModel] | None]:
        """For each value ``k`` of ``var``: (P(var = k), the model conditioned on var = k), or None if P = 0."""
        home = self.containing((var,))
        p_var = sum_to(self.clique_marginal(home), self.tree.cliques[home], (var,))
        out: list[tuple[float, GraphicalModel] | None] = []
        for k in range(self.sizes[var]):
            if p_var[k] <= 0:
                out.append(None)
                continue
            pots = [p.copy() for p in self.potentials]
            mask = np.full(self.sizes[var], -np.inf)
            mask[k] = 0.0
            pots[home] = pots[home] + align(mask, (var,), self.tree.cliques[home], self.sizes)
            model = GraphicalModel.__new__(GraphicalModel)
            model.sizes, model.tree, model.total, model.potentials = self.sizes, self.tree, self.total * p_var[k], pots
            model.calibrate()
            out.append((float(p_var[k]), model))
        return out

    # -- sampling -------------------------------------------------------------------------------------------
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` rows of codes (n x columns, each column contiguous), ancestrally over the tree."""
        tree, sizes = self.tree, self.sizes
        out = np.zeros((len(sizes), n), dtype=np.int64)  # one contiguous row per column
        for c in tree.order:
            cl = tree.cliques[c]
            sep = tree.separator(c)
            new = tuple(v for v in cl if v not in sep)
            if not new:
                continue
            p = self.beliefs[c]
            table = np.transpose(p, [cl.index(v) for v in (*sep, *new)]).reshape(cells(sep, sizes), cells(new, sizes))
            rows = table.sum(axis=1, keepdims=True)
            marg = table.sum(axis=0)
            table = np.where(rows > 0, table / np.where(rows > 0, rows, 1.0), marg / max(marg.sum(), 1e-300))
            if sep:
                s_idx = out[sep[0]].copy()
                for v in sep[1:]:
                    s_idx *= sizes[v]
                    s_idx += out[v]
            else:
                s_idx = np.zeros(n, np.int64)
            flat = draw_rows(table, s_idx, rng)
            for v in reversed(new):
                if v == new[0]:
                    out[v] = flat
                else:
                    out[v] = flat % sizes[v]
                    flat = flat // sizes[v]
        return out.T


def draw_rows(table: np.ndarray, row_idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each entry of ``row_idx``, draw a column of ``table`` (rows are distributions) by inverse CDF.

    Exact and vectorised: a lookup table gives, for each row and each of ``G`` equal slices of [0, 1), the
    first column the draw can be (the count of cumulative probabilities below the slice's start); a few
    vectorised steps then move each draw to its column (``cdf[j] <= u`` moves it on)."""
    r, k = table.shape
    cdf = np.cumsum(table, axis=1)
    cdf = cdf / np.where(cdf[:, -1:] > 0, cdf[:, -1:], 1.0)
    cdf[:, -1] = np.inf  # every draw ends in the last column at the latest
    u = rng.random(row_idx.size, dtype=np.float32).astype(np.float64)
    g = int(min(4096, max(16, 4 * k)))
    grid = np.arange(g) / g
    if r * g * k <= 4_000_000:
        lut = (cdf[:, None, :] <= grid[None, :, None]).sum(axis=2)
    else:
        lut = np.stack([np.searchsorted(cdf[i], grid, side="right") for i in range(r)])
    j = lut.ravel()[row_idx * g + (u * g).astype(np.int64)]
    flat = cdf.ravel()
    base = row_idx * k
    move = flat[base + j] <= u
    while move.any():
        j = j + move
        move = flat[base + j] <= u
    return j


# -- estimation ----------------------------------------------------------------------------------------------
def _loss_grad(model: GraphicalModel, meas: list[Measurement], homes: list[int]) -> tuple[float, list[np.ndarray]]:
    grads = [np.zeros_like(p) for p in model.potentials]
    loss = 0.0
    for m, h in zip(meas, homes, strict=True):
        cl_h = model.tree.cliques[h]
        mu = sum_to(model.clique_marginal(h), cl_h, m.clique) * model.total
        w = m.weight()
        diff = mu - m.y
        loss += 0.5 * float(np.sum(diff * diff * w))
        grads[h] = grads[h] + align(diff * w, m.clique, cl_h, model.sizes)
    return loss, grads


def estimate(sizes: Sequence[int], measurements: list[Measurement], total: float, *, iters: int = 300,
             cliques: Sequence[Clique] | None = None, warm: GraphicalModel | None = None,
             tol: float = 1e-7) -> GraphicalModel:
    """Fit a graphical model to noisy marginals by mirror descent (Private-PGM).

    Args:
        sizes: number of values of each column.
        measurements: the noisy marginals.
        total: the (noisy) number of rows; marginals are counts of this total.
        iters: mirror-descent iterations (each one belief propagation, plus one per backtracking step).
        cliques: extra cliques the model must hold (default: the measured ones).
        warm: a previous model whose potentials start this fit (AIM's rounds), when its tree still fits.
        tol: stop when the loss improves by less than this share for 10 iterations.
    """
    n_vars = len(sizes)
    cl_all = [m.clique for m in measurements] + list(cliques or [])
    tree = junction_tree(n_vars, cl_all, sizes)
    pots = None
    if warm is not None:
        pots = [np.zeros([sizes[v] for v in c]) for c in tree.cliques]
        for wc, wp in zip(warm.tree.cliques, warm.potentials, strict=True):  # each old clique into a new one holding it
            for i, c in enumerate(tree.cliques):
                if set(wc) <= set(c):
                    pots[i] = pots[i] + align(wp, wc, c, sizes)
                    break
    model = GraphicalModel(sizes, tree, total, pots)
    homes = [model.containing(m.clique) for m in measurements]
    loss, grads = _loss_grad(model, measurements, homes)
    w_mean = float(np.mean([np.mean(m.weight()) for m in measurements])) if measurements else 1.0
    alpha = 2.0 / max(total, 1.0) / max(w_mean, 1e-12)
    stall = 0
    for _ in range(iters):
        mu_old = [model.clique_marginal(i) * total for i in range(len(tree.cliques))]
        trial = [p - alpha * g for p, g in zip(model.potentials, grads, strict=True)]
        beliefs_old = model.beliefs
        model.calibrate(trial)
        new_loss, new_grads = _loss_grad(model, measurements, homes)
        mu_new = [model.clique_marginal(i) * total for i in range(len(tree.cliques))]
        decrease = 0.5 * alpha * sum(float(np.sum(g * (a - b))) for g, a, b in zip(grads, mu_old, mu_new, strict=True))
        if loss - new_loss >= decrease:
            model.potentials = trial
            improved = (loss - new_loss) / max(abs(loss), 1e-12)
            loss, grads = new_loss, new_grads
            alpha *= 1.2
            stall = stall + 1 if improved < tol else 0
            if stall >= 10:
                break
        else:
            model.beliefs = beliefs_old
            alpha *= 0.5
    model.calibrate()
    return model


def total_from(measurements: list[Measurement]) -> float:
    """Minimum-variance estimate of the number of rows from the measurements' sums."""
    num = den = 0.0
    for m in measurements:
        var = float(np.sum(np.broadcast_to(np.asarray(m.sigma, dtype=float) ** 2, m.y.shape)))
        if var <= 0:
            return float(m.y.sum())
        num += float(m.y.sum()) / var
        den += 1.0 / var
    return max(num / den, 1.0) if den else 1.0


__all__ = ["GraphicalModel", "JunctionTree", "Measurement", "draw_rows", "estimate", "junction_tree", "model_size",
           "total_from", "triangulate"]
