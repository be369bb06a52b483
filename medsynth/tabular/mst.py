"""DP-MST: the MST marginal-based synthesizer (McKenna, Miklau & Sheldon, 2021), on numpy.

Marginal-based methods are the strongest family at small epsilon in published comparisons; MST won
the NIST 2018 DP synthetic data challenge. The whole budget is one zCDP composition (rho), split in
three equal parts, as in the reference implementation (private-pgm ``mechanisms/mst.py``):

1. **1-way marginals** of every column, with Gaussian noise (the marginal engine,
   :mod:`medsynth.tabular.marginals`: fine grids merged into coarse bins of equal noisy mass; discrete
   columns whose domain was released with DP reuse that release's noisy counts).
2. **Selection**: a maximum spanning tree over the columns, each edge picked by the exponential
   mechanism with score = L1 distance between the pair's true 2-way marginal and the independence
   estimate from the noisy 1-ways, less the larger of the two 1-ways' own distances from the data
   (:func:`pair_score`, sensitivity 2; the reference's score, sensitivity 1, made a star of the column
   with the noisiest 1-way).
3. **2-way marginals** of the tree's edges, with Gaussian noise.

Estimation and sampling are the engine's: a graphical model fitted to all measurements by mirror
descent (:mod:`medsynth.tabular.pgm`), sampled ancestrally; numbers decoded within their fine bins.
DP-AIM (:mod:`medsynth.tabular.aim`) is the other selection strategy over the same engine.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from scipy.cluster.hierarchy import DisjointSet

from medsynth.core.config import ConfigModel
from medsynth.privacy.mechanisms import exponential_mechanism, gaussian_sigma
from medsynth.tabular.marginals import MarginalConfig, MarginalSynthesizer, marginal_counts, measure, project_simplex
from medsynth.tabular.pgm import Measurement

#: The exponential mechanism of a pick tells strong edges apart when ``epsilon_pick * n / (2 * sensitivity)`` (its
#: log-odds for an edge whose score is a whole unit of data mass higher) reaches this: an edge half the mass better (a
#: lab's value by its test) then stands e^5 = 150 times above another, about the number of candidate edges of 20
#: columns. Calibrated at sensitivity 1 (the reference score): multi-table child models on pbcseq (219 training
#: patients) sat at 3.5 (picks near uniform), a MIMIC-shaped labs table of 3,000 patients at 25, survival's nafld2
#: (17,549 patients) at 80-120; :func:`pair_score`'s sensitivity 2 halves them, so weak edges are joined up to twice
#: the patients they were.
SELECTION_INFORMATIVE = 10.0
#: How much one person (total row weight at most 1) changes :func:`pair_score`: 1 in the 2-way table's distance, 1 in
#: the larger 1-way distance subtracted from it.
PAIR_SCORE_SENSITIVITY = 2.0


def pair_score(true: np.ndarray, pa: np.ndarray, pb: np.ndarray, n_hat: float) -> float:
    """How much a pair's 2-way table (``true``, counts) tells beyond its two noisy 1-ways (``pa``, ``pb``: DP
    releases, probabilities): its L1 distance from ``n_hat * pa x pb`` (MST's score), less the larger of the two
    1-ways' own L1 distances from the data. MST's score alone counts a column's 1-way noise in every pair holding it (by
    the triangle inequality the distance is at least that noise): on AER's NMES1988 (3,525 rows, epsilon 1) the number
    column whose noisy 1-way stood farthest from its data, income (0.20 of the mass against 0.03-0.15), won every pick,
    the tree became a star on it (16 of 18 edges) and insurance~medicaid (Cramer's V 0.49) came out 0.04. Less that
    noise, two independent columns score at most the smaller of their 1-way distances, and the star is gone (4-6 edges
    on any one column, 3 fits). Sensitivity :data:`PAIR_SCORE_SENSITIVITY` (public 1-ways: each distance moves by at most one
    person's weight)."""
    est = n_hat * np.outer(pa, pb)
    t = true.reshape(est.shape)
    ea = float(np.abs(t.sum(axis=1) - n_hat * pa).sum())
    eb = float(np.abs(t.sum(axis=0) - n_hat * pb).sum())
    return float(np.abs(t - est).sum()) - max(ea, eb)


class DPMSTConfig(MarginalConfig):
    """DP-MST settings (see :class:`~medsynth.tabular.marginals.MarginalConfig`)."""


class DPMST(MarginalSynthesizer):
    """MST with Gaussian-mechanism marginals and a tree-structured model. ``epsilon: null`` measures
    exact marginals and picks the tree greedily (labelled non-private)."""

    name: ClassVar[str] = "dp-mst"
    oneway_share: ClassVar[float] = 1 / 3
    arrays_file: ClassVar[str] = "mst_arrays.npz"
    #: Share of the budget after the 1-ways spent on picking the tree (the rest measures its edges). A caller may
    #: set it per model (the multi-table models spend less on a selection their noise makes nearly random).
    selection_share: float = 0.5
    #: Pairs of columns joined in the tree before any selection (public structure set by a caller: the multi-table
    #: models join a declared target to the child table's own columns); the selection picks the remaining edges.
    forced: tuple[tuple[str, str], ...] = ()
    #: Pairs joined before selection only where the selection cannot tell edges apart (its log-odds for a whole
    #: unit of data mass, ``epsilon_pick * n / (2 * PAIR_SCORE_SENSITIVITY)``, below :data:`SELECTION_INFORMATIVE`;
    #: public: the budget and the noisy row count); elsewhere they are left to it.
    forced_weak: tuple[tuple[str, str], ...] = ()
    #: Measure the 2-way marginal of the declared target (``target: true``) with every column besides the tree's
    #: edges (a caller sets it where the model is sampled unconditionally: the multi-table root). The model is then
    #: no tree (cliques of the target and each edge) and cannot be conditioned by :class:`TreeSampler`.
    target_star: bool = False
    Config: ClassVar[type[ConfigModel]] = DPMSTConfig
    config: DPMSTConfig

    def _plan(self, rho: float, d: int) -> float:
        return math.sqrt(max(d - 1, 1) / (2 * max(rho, 1e-12) * (1 - self.selection_share)))

    def _select_and_measure(self, codes: dict[str, np.ndarray], sizes: dict[str, int], oneway: dict[str, Measurement],
                            n_hat: float, rho: float, rng: np.random.Generator) -> list[Measurement]:
        names = self._names
        d = len(names)
        private = self.is_private
        joined = DisjointSet(range(d))  # scipy's union-find: which columns the tree already connects

        edges: list[tuple[int, int]] = []

        def join(pairs: tuple[tuple[str, str], ...]) -> None:
            for a, b in pairs:  # public structure: joined first, without selection
                if a in names and b in names and a != b and not joined.connected(names.index(a), names.index(b)):
                    i, j = sorted((names.index(a), names.index(b)))
                    edges.append((i, j))
                    joined.merge(i, j)

        def plan() -> tuple[int, float, float, float]:
            picks = d - 1 - len(edges)
            r2 = rho * self.selection_share if picks > 0 else 0.0
            return picks, r2, rho - r2, (math.sqrt(8 * r2 / max(picks, 1)) if private else 0.0)

        join(self.forced)
        picks, r2, r3, eps_sel = plan()
        odds = eps_sel * n_hat / (2 * PAIR_SCORE_SENSITIVITY) if private else None  # non-private: exact greedy picks
        self.meta["selection_log_odds"] = odds
        self.meta["weak_edges_joined"] = bool(self.forced_weak) and odds is not None and odds < SELECTION_INFORMATIVE
        if self.meta["weak_edges_joined"]:
            join(self.forced_weak)
            picks, r2, r3, eps_sel = plan()
        if picks > 0:
            probs = {c: project_simplex(oneway[c].y, n_hat) / n_hat for c in names}
            scores: dict[tuple[int, int], float] = {}
            for i in range(d):
                for j in range(i + 1, d):
                    a, b = names[i], names[j]
                    if joined.connected(i, j):
                        continue
                    true = marginal_counts(codes, (a, b), sizes, self.row_weights)
                    scores[(i, j)] = pair_score(true, probs[a], probs[b], n_hat)
            for _ in range(picks):
                cand = [e for e in scores if not joined.connected(*e)]
                q = np.array([scores[e] for e in cand])
                pick = exponential_mechanism(q, eps_sel, PAIR_SCORE_SENSITIVITY, rng) if private else int(np.argmax(q))
                e = cand[pick]
                edges.append(e)
                joined.merge(*e)
        star: list[tuple[int, int]] = []
        tcols = [i for i, c in enumerate(names) if self.schema.column(c).target] if self.target_star else []  # type: ignore[union-attr]
        if tcols:  # the target with every column the tree does not join it to (public structure: the schema's flag)
            tgt = tcols[0]
            star = [tuple(sorted((tgt, x))) for x in range(d) if x != tgt and tuple(sorted((tgt, x))) not in edges]  # type: ignore[misc]
        out = []
        rho_edge = r3 / max(len(edges) + len(star), 1)
        for i, j in [*edges, *star]:
            t = marginal_counts(codes, (names[i], names[j]), sizes, self.row_weights)
            y, sigma = measure(t, rho_edge, rng) if private else (t, 0.0)
            out.append(Measurement((i, j), y, sigma))
        if private:
            self.ledger.record(  # type: ignore[union-attr]
                "MST: tree selection and 2-way marginals of the tree's edges",
                "exponential mechanism + Gaussian mechanism (zCDP)", rho=rho, columns=names,
                parts={"selection": {"rho": r2, "epsilon_per_pick": eps_sel, "log_odds_per_unit_mass": self.meta["selection_log_odds"],
                                     "joined_before_selection": [[names[i], names[j]] for i, j in edges[:d - 1 - picks]]},
                       "two_way": {"rho": r3, "sigma": gaussian_sigma(rho_edge) if edges else None, "edges": len(edges),
                                   "target_pairs": len(star)}},
            )
        else:
            self.ledger.record("MST marginals and tree (exact)", "none (non-private)", columns=names)  # type: ignore[union-attr]
        return out


    # -- the fitted model as a tree (the multi-table models condition it on evidence) -----------------
    def _tree_view(self) -> dict:
        """The fitted junction tree read as a tree of columns: a root, each column's parent, the root's
        marginal and each child's conditional table ``P(child | parent)`` (rows: parent states)."""
        cached = self.__dict__.get("_tree")
        if cached is not None and cached["model"] is self._model:
            return cached
        model, names = self._model, self._names
        d = len(names)
        adj: dict[int, list[int]] = {i: [] for i in range(d)}
        pairs: dict[tuple[int, int], np.ndarray] = {}
        for ci, cl in enumerate(model.tree.cliques):
            if len(cl) == 2:
                a, b = cl
                adj[a].append(b)
                adj[b].append(a)
                pairs[(a, b)] = model.beliefs[ci]
            elif len(cl) > 2:  # MST measures a tree; a junction tree with wider cliques is not one
                raise RuntimeError(f"the fitted model is not a tree (clique {[names[v] for v in cl]})")
        order: list[int] = []
        parents: dict[int, int] = {}
        for start in sorted(range(d), key=lambda i: -len(adj[i])):
            if start in parents:
                continue
            parents[start] = -1
            queue = [start]
            while queue:
                u = queue.pop(0)
                order.append(u)
                for v in sorted(adj[u]):
                    if v not in parents:
                        parents[v] = u
                        queue.append(v)
        root = order[0]
        conds: dict[str, np.ndarray] = {}
        marg = {i: model.marginal((i,)) for i in range(d)}
        for v in order[1:]:
            u = parents[v]
            if u < 0:  # another component: independent of the rest
                conds[names[v]] = np.broadcast_to(marg[v], (1, marg[v].size)).copy()
                continue
            t = pairs[(u, v)] if (u, v) in pairs else pairs[(v, u)].T
            rs = t.sum(axis=1, keepdims=True)
            conds[names[v]] = np.where(rs > 0, t / np.where(rs > 0, rs, 1.0), marg[v][None, :] / max(marg[v].sum(), 1e-300))
        view = {"model": model, "order": [names[i] for i in order], "conds": conds, "root_p": marg[root],
                "parents": {names[v]: (names[p] if p >= 0 and v != root and parents[v] >= 0 else None) for v, p in parents.items()}}
        self.__dict__["_tree"] = view
        return view

    @property
    def _order(self) -> list[str]:
        return self._tree_view()["order"]

    @property
    def _parents(self) -> dict[str, str | None]:
        return self._tree_view()["parents"]

    @property
    def _conds(self) -> dict[str, np.ndarray]:
        return self._tree_view()["conds"]

    @property
    def _root_p(self) -> np.ndarray:
        return self._tree_view()["root_p"]


__all__ = ["DPMST", "DPMSTConfig", "PAIR_SCORE_SENSITIVITY", "pair_score"]
