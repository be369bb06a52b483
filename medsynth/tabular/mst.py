"""DP-MST: the MST marginal-based synthesizer (McKenna, Miklau & Sheldon, 2021), on numpy.

Marginal-based methods are the strongest family at small epsilon in published comparisons; MST won
the NIST 2018 DP synthetic data challenge. The whole budget is one zCDP composition (rho), split in
three equal parts, as in the reference implementation (private-pgm ``mechanisms/mst.py``):

1. **1-way marginals** of every column, with Gaussian noise. Numbers are measured on a fine grid
   (``fine_bins`` equal-width bins of the scaled value, or one bin per value for small integer
   ranges), and then merged into ``bins`` coarse bins of about equal *noisy* mass (post-processing,
   free), which gives skewed labs fine bins where their data are and coarse ones in the tails.
2. **Selection**: a maximum spanning tree over the columns, each edge picked by the exponential
   mechanism with score = L1 distance between the pair's true 2-way marginal and the independence
   estimate from the noisy 1-ways (sensitivity 1).
3. **2-way marginals** of the tree's edges, with Gaussian noise.

Inference (post-processing): each column's 1-way marginal combines its own measurement with the
sums of its edges' 2-way tables (inverse-variance weights), projected onto the simplex; each edge's
noisy table is made non-negative and fitted to those 1-ways by iterative proportional fitting. The
tree then gives ``P(x) = P(root) * prod P(child | parent)``, sampled ancestrally. Numbers are decoded
by drawing a fine bin within the coarse one (by the noisy fine histogram) and a value uniformly inside
it, never the bin midpoint. This replaces private-pgm's generic graphical-model estimation (which
needs JAX in mbi 2.x) by the exact-for-trees consistent estimate.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from medsynth.core.config import ConfigModel
from medsynth.privacy.mechanisms import exponential_mechanism
from medsynth.privacy.noise import Generators
from medsynth.tabular.base import TabularSynthesizer
from medsynth.tabular.encoding import Frame
from medsynth.tabular.schema import ColumnSchema


class DPMSTConfig(ConfigModel):
    """DP-MST settings.

    Attributes:
        bins: coarse bins per numeric column (the resolution of its 2-way marginals).
        fine_bins: fine grid of a numeric column's 1-way measurement (and of its decoded values).
        ipf_iters: iterations of proportional fitting per edge.
        adaptive_bins: with DP, numbers get at most ``adaptive_bins * n / sigma1`` fine bins and
            ``sqrt(adaptive_bins * n / sigma2)`` coarse bins (sigma1, sigma2: noise of the 1-way and 2-way
            measurements), so small tables are not measured on grids the noise swamps; 0 turns it off.
    """

    bins: int = Field(12, ge=2, le=256)
    fine_bins: int = Field(64, ge=4, le=4096)
    ipf_iters: int = Field(50, ge=1)
    adaptive_bins: float = Field(1.0, ge=0)


def _project_simplex(v: np.ndarray, total: float) -> np.ndarray:
    """Euclidean projection of ``v`` onto {x >= 0, sum x = total}."""
    if total <= 0:
        return np.zeros_like(v)
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - total
    ind = np.arange(1, v.size + 1)
    cond = u - css / ind > 0
    rho = ind[cond][-1] if cond.any() else 1
    theta = css[rho - 1] / rho
    return np.maximum(v - theta, 0.0)


def _ipf(table: np.ndarray, rows: np.ndarray, cols: np.ndarray, iters: int) -> np.ndarray:
    """Scale a non-negative table to the given row and column sums (cells with no mass get a floor)."""
    t = np.maximum(table, 0.0) + 1e-9 * max(rows.sum(), 1.0) / table.size
    for _ in range(iters):
        rs = t.sum(axis=1, keepdims=True)
        t = t * np.divide(rows[:, None], rs, out=np.zeros_like(rs), where=rs > 0)
        cs = t.sum(axis=0, keepdims=True)
        t = t * np.divide(cols[None, :], cs, out=np.zeros_like(cs), where=cs > 0)
    return t


class DPMST(TabularSynthesizer):
    """MST with Gaussian-mechanism marginals and a tree-structured model. ``epsilon: null`` measures
    exact marginals and picks the tree greedily (labelled non-private)."""

    name: ClassVar[str] = "dp-mst"
    private: ClassVar[bool] = True
    allows_non_private: ClassVar[bool] = True
    Config: ClassVar[type[ConfigModel]] = DPMSTConfig
    config: DPMSTConfig

    # -- discretisation ------------------------------------------------------------------------------
    def _fine_spec(self, col: ColumnSchema) -> tuple[int, bool]:
        """(number of fine value bins, whether they are one-per-integer)."""
        if col.type == "integer" and col.transform == "none":
            lo, hi = col.bounds()
            r = int(math.floor(hi) - math.ceil(lo) + 1)
            if r <= self._fine_bins:
                return max(r, 1), True
        return self._fine_bins, False

    @property
    def _fine_bins(self) -> int:
        return int(getattr(self, "_grid", (self.config.fine_bins, self.config.bins))[0])

    @property
    def _coarse_bins(self) -> int:
        return int(getattr(self, "_grid", (self.config.fine_bins, self.config.bins))[1])

    def _choose_grid(self, n: float, sigma1: float, sigma2: float) -> tuple[int, int]:
        """(fine bins, coarse bins) for numbers: the configured ones, made coarser when the noise would
        swamp them. A coarse bin sums its fine cells' noise, and a 2-way table spreads the rows over
        coarse x coarse cells, so with few rows for the noise (small tables, many columns, small
        epsilon) fewer, wider bins measure far better. Depends only on the row count (treated as
        public, as for DP-SGD's sampling rate) and the noise scales."""
        fine, coarse = self.config.fine_bins, self.config.bins
        if not self.config.adaptive_bins or sigma1 <= 0:
            return fine, coarse
        f = self.config.adaptive_bins
        fine = min(fine, max(2, int(f * n / sigma1)))
        coarse = min(coarse, fine, max(2, int(math.sqrt(f * n / max(sigma2, 1e-12)))))
        return fine, coarse

    def _fine_codes(self, frame: Frame) -> dict[str, np.ndarray]:
        out = {}
        for col in self.codec.numeric:  # type: ignore[union-attr]
            g, per_value = self._fine_spec(col)
            u = frame.num[col.name]
            miss = np.isnan(u)
            uu = np.where(miss, 0.0, u)
            idx = np.rint(uu * (g - 1)).astype(np.int64) if per_value else np.minimum((uu * g).astype(np.int64), g - 1)
            out[col.name] = np.where(miss, g, idx)
        for col in self.codec.discrete:  # type: ignore[union-attr]
            k = self.codec.n_categories(col.name)  # type: ignore[union-attr]
            c = frame.cat[col.name]
            out[col.name] = np.where(c < 0, k, c)
        return out

    def _fine_size(self, col: ColumnSchema) -> int:
        """Cells of a column's fine 1-way marginal: its values, plus a "missing" cell only when the
        column may be missing (a cell that cannot hold data would still collect noise, and the model
        would then sample missing values in a column that has none)."""
        extra = 1 if col.missing else 0
        if col.type in ("categorical", "boolean"):
            return self.codec.n_categories(col.name) + extra  # type: ignore[union-attr]
        return self._fine_spec(col)[0] + extra

    # -- fit -------------------------------------------------------------------------------------------
    def _fit_frame(self, frame: Frame, gens: Generators) -> None:
        rng = gens.noise  # every measurement and selection below is a DP mechanism
        cols = [*self.codec.numeric, *self.codec.discrete]  # type: ignore[union-attr]
        names = [c.name for c in cols]
        d = len(cols)
        private = self.is_private
        if private:
            rho = self.rho_left()
            r1 = r2 = r3 = rho / 3
            sigma1 = math.sqrt(d / (2 * r1))
            sigma2 = math.sqrt(max(d - 1, 1) / (2 * r3))
        else:
            sigma1 = sigma2 = 0.0
        self._grid = self._choose_grid(self.rows_noisy or frame.n, sigma1, sigma2)  # noisy n: the exact one is private
        fine = self._fine_codes(frame)

        # 1. noisy 1-way marginals on the fine grid
        fine_noisy: dict[str, np.ndarray] = {}
        for col in cols:
            size = self._fine_size(col)
            counts = np.bincount(fine[col.name], minlength=size).astype(float)
            fine_noisy[col.name] = counts + (rng.normal(0, sigma1, size) if private else 0.0)
        n_hat = max(float(np.mean([v.sum() for v in fine_noisy.values()])), 1.0)

        # coarse bins of equal noisy mass (numbers); categories stay as they are
        maps: dict[str, np.ndarray] = {}
        for col in cols:
            size = self._fine_size(col)
            if col.type in ("categorical", "boolean"):
                maps[col.name] = np.arange(size)
                continue
            g = self._fine_spec(col)[0]
            w = np.maximum(fine_noisy[col.name][:g], 0.0)
            k = min(self._coarse_bins, g)
            if w.sum() <= 0:
                group = (np.arange(g) * k) // g
            else:
                cum = np.cumsum(w) / w.sum()
                mid = cum - w / (2 * w.sum())
                group = np.minimum((mid * k).astype(np.int64), k - 1)
                _, group = np.unique(group, return_inverse=True)
            maps[col.name] = np.append(group, group.max() + 1) if col.missing else group  # missing: own state
        sizes = {c: int(maps[c].max() + 1) for c in names}
        coarse = {c: maps[c][fine[c]] for c in names}
        one_way = {}
        one_var = {}
        for c in names:
            one_way[c] = np.bincount(maps[c], weights=fine_noisy[c], minlength=sizes[c])
            one_var[c] = np.bincount(maps[c], minlength=sizes[c]).astype(float) * sigma1**2

        # 2. select a spanning tree
        edges: list[tuple[int, int]] = []
        if d > 1:
            probs = {c: _project_simplex(one_way[c], n_hat) / n_hat for c in names}
            scores: dict[tuple[int, int], float] = {}
            for i in range(d):
                for j in range(i + 1, d):
                    a, b = names[i], names[j]
                    true = np.bincount(coarse[a] * sizes[b] + coarse[b], minlength=sizes[a] * sizes[b]).astype(float)
                    est = n_hat * np.outer(probs[a], probs[b]).ravel()
                    scores[(i, j)] = float(np.abs(true - est).sum())
            parent = list(range(d))

            def find(x: int) -> int:
                while parent[x] != x:
                    parent[x] = parent[parent[x]]
                    x = parent[x]
                return x

            eps_sel = math.sqrt(8 * r2 / (d - 1)) if private else 0.0
            for _ in range(d - 1):
                cand = [e for e in scores if find(e[0]) != find(e[1])]
                q = np.array([scores[e] for e in cand])
                pick = exponential_mechanism(q, eps_sel, 1.0, rng) if private else int(np.argmax(q))
                e = cand[pick]
                edges.append(e)
                parent[find(e[0])] = find(e[1])

        # 3. noisy 2-way marginals of the edges
        tables: dict[tuple[int, int], np.ndarray] = {}
        for i, j in edges:
            a, b = names[i], names[j]
            t = np.bincount(coarse[a] * sizes[b] + coarse[b], minlength=sizes[a] * sizes[b]).astype(float)
            if private:
                t = t + rng.normal(0, sigma2, t.size)
            tables[(i, j)] = t.reshape(sizes[a], sizes[b])

        # inference: consistent 1-ways, then edge tables fitted to them
        est1 = {}
        for idx, c in enumerate(names):
            num = one_way[c] / np.maximum(one_var[c], 1e-12) if private else one_way[c].copy()
            den = 1.0 / np.maximum(one_var[c], 1e-12) if private else np.ones(sizes[c])
            if private:
                for (i, j), t in tables.items():
                    if idx in (i, j):
                        s = t.sum(axis=1) if idx == i else t.sum(axis=0)
                        other = t.shape[1] if idx == i else t.shape[0]
                        var = other * sigma2**2
                        num = num + s / var
                        den = den + 1.0 / var
            est1[c] = _project_simplex(num / den, n_hat)
        fitted = {e: _ipf(t, est1[names[e[0]]], est1[names[e[1]]], self.config.ipf_iters) for e, t in tables.items()}

        # tree -> root marginal and conditionals, in breadth-first order
        adj: dict[int, list[int]] = {i: [] for i in range(d)}
        for i, j in edges:
            adj[i].append(j)
            adj[j].append(i)
        root = max(range(d), key=lambda i: len(adj[i])) if d else 0
        order, parents, seen = [root], {root: -1}, {root}
        k = 0
        while k < len(order):
            u = order[k]
            k += 1
            for v in sorted(adj[u]):
                if v not in seen:
                    seen.add(v)
                    parents[v] = u
                    order.append(v)
        conds: dict[str, np.ndarray] = {}
        for v in order[1:]:
            u = parents[v]
            t = fitted[(u, v)] if (u, v) in fitted else fitted[(v, u)].T
            rs = t.sum(axis=1, keepdims=True)
            fallback = est1[names[v]] / max(est1[names[v]].sum(), 1e-12)
            conds[names[v]] = np.where(rs > 0, t / np.where(rs > 0, rs, 1.0), fallback[None, :])
        root_p = est1[names[root]] / max(est1[names[root]].sum(), 1e-12)

        self._names = names
        self._order = [names[i] for i in order]
        self._parents = {names[v]: (names[p] if p >= 0 else None) for v, p in parents.items()}
        self._root_p = root_p
        self._conds = conds
        self._maps = maps
        self._fine_w = {c: np.maximum(fine_noisy[c], 0.0) for c in names}
        self.meta.update({"edges": [[names[i], names[j]] for i, j in edges], "coarse_sizes": sizes, "steps": 0,
                          "grid": {"fine_bins": self._grid[0], "bins": self._grid[1]}})
        if private:
            self.meta["accountant"] = "zcdp"
            self.ledger.record(  # type: ignore[union-attr]
                "MST: 1-way marginals of every column, tree selection, 2-way marginals of the tree's edges",
                "Gaussian mechanism + exponential mechanism (zCDP)", rho=rho, columns=names,
                parts={"one_way": {"rho": r1, "sigma": sigma1}, "selection": {"rho": r2, "epsilon_per_pick": math.sqrt(8 * r2 / max(d - 1, 1))},
                       "two_way": {"rho": r3, "sigma": sigma2, "edges": len(edges)}},
            )
        else:
            self.ledger.record("MST marginals and tree (exact)", "none (non-private)", columns=names)  # type: ignore[union-attr]

    # -- sample ----------------------------------------------------------------------------------------
    def _sample_frame(self, n: int, rng: np.random.Generator) -> Frame:
        coarse: dict[str, np.ndarray] = {}
        for c in self._order:
            p = self._parents[c]
            if p is None:
                coarse[c] = np.searchsorted(np.cumsum(self._root_p), rng.random(n) * self._root_p.sum(), side="right")
                coarse[c] = np.minimum(coarse[c], self._root_p.size - 1)
                continue
            cond = self._conds[c]
            cdf = np.cumsum(cond, axis=1)
            out = np.empty(n, dtype=np.int64)
            pv = coarse[p]
            u = rng.random(n)
            for v in np.unique(pv):
                rows = np.nonzero(pv == v)[0]
                out[rows] = np.minimum(np.searchsorted(cdf[v], u[rows] * cdf[v, -1], side="right"), cdf.shape[1] - 1)
            coarse[c] = out
        frame = Frame(n=n)
        for col in self.codec.numeric:  # type: ignore[union-attr]
            frame.num[col.name] = self._decode_number(col, coarse[col.name], rng)
        for col in self.codec.discrete:  # type: ignore[union-attr]
            k = self.codec.n_categories(col.name)  # type: ignore[union-attr]
            c = coarse[col.name]
            frame.cat[col.name] = np.where(c >= k, -1, c).astype(np.int64)
        return frame

    def _decode_number(self, col: ColumnSchema, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        g, per_value = self._fine_spec(col)
        m = self._maps[col.name]
        w = self._fine_w[col.name][:g]
        miss_state = m[g] if m.size > g else -1  # no missing state: the column has no missing values
        u = np.full(codes.size, np.nan)
        for grp in np.unique(codes):
            if grp == miss_state:
                continue
            rows = np.nonzero(codes == grp)[0]
            members = np.nonzero(m[:g] == grp)[0]
            ww = w[members]
            ww = ww / ww.sum() if ww.sum() > 0 else np.full(members.size, 1.0 / members.size)
            f = members[np.minimum(np.searchsorted(np.cumsum(ww), rng.random(rows.size), side="right"), members.size - 1)]
            if per_value:
                u[rows] = f / max(g - 1, 1)
            else:
                u[rows] = (f + rng.random(rows.size)) / g
        return u

    # -- save / load -------------------------------------------------------------------------------------
    def _save_state(self, folder: Path) -> dict[str, Any]:
        arrays = {"root_p": self._root_p}
        for c, v in self._conds.items():
            arrays[f"cond/{c}"] = v
        for c in self._names:
            arrays[f"map/{c}"] = self._maps[c]
            arrays[f"fine_w/{c}"] = self._fine_w[c]
        np.savez(folder / "mst_arrays.npz", **arrays)
        structure = {"names": self._names, "order": self._order, "parents": self._parents, "grid": list(self._grid)}
        (folder / "mst_structure.json").write_text(json.dumps(structure, indent=2), encoding="utf-8")
        return {"mst_arrays.npz": "marginal model arrays (np.load allow_pickle=False)",
                "mst_structure.json": "tree: sampling order and parents"}

    def _load_state(self, folder: Path, device: str) -> None:
        structure = json.loads((folder / "mst_structure.json").read_text(encoding="utf-8"))
        self._names, self._order, self._parents = structure["names"], structure["order"], structure["parents"]
        self._grid = tuple(structure.get("grid", (self.config.fine_bins, self.config.bins)))
        with np.load(folder / "mst_arrays.npz", allow_pickle=False) as z:
            self._root_p = z["root_p"]
            self._conds = {c: z[f"cond/{c}"] for c in self._order if self._parents[c] is not None}
            self._maps = {c: z[f"map/{c}"] for c in self._names}
            self._fine_w = {c: z[f"fine_w/{c}"] for c in self._names}


__all__ = ["DPMST", "DPMSTConfig"]
