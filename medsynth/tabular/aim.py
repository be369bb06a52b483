"""DP-AIM: the adaptive and iterative mechanism (McKenna, Mullins, Sheldon and Miklau 2022), on numpy.

AIM is the other selection strategy over the marginal engine (:mod:`medsynth.tabular.marginals`): it
starts from the noisy 1-way marginals and then, round after round, picks the marginal of the workload
that the current model gets most wrong, measures it and refits the model, all inside a zCDP budget.

- **Workload**: every pair of columns (weight 1) whose table has at most ``max_marginal_cells`` cells;
  a column marked ``target: true`` in the schema adds its 3-way marginal with every pair of other
  columns. Candidates are the workload's marginals and their subsets, each weighted by how much it
  overlaps the workload (``w_r = sum_q |r & q|``).
- **Rounds** (``T = rounds_per_column * columns`` at most): each round spends ``rho / T`` (split 0.9 for
  the Gaussian measurement, 0.1 for the exponential-mechanism selection). The selection score of a
  candidate ``r`` is ``w_r (||M_r(data) - M_r(model)||_1 - sqrt(2/pi) sigma |r|)``: its error minus the
  error its measurement would bring, with sensitivity ``max w``. Only candidates that keep the
  junction tree within ``max_model_cells * rho_used / rho`` cells (and never less than the current model plus
  the workload's largest pair, so that wide tables with many rounds can start) are eligible (the eligible set depends
  only on DP outputs; drawing from the exponential mechanism and redrawing when an ineligible candidate
  comes up is the exponential mechanism on the eligible set). When a measurement changes the model by
  less than the noise it carries, sigma halves and epsilon doubles (the paper's budget annealing); the
  last round spends whatever is left.
- **Estimation**: Private-PGM's mirror descent over a junction tree of the measured cliques (non-tree
  models), warm-started each round; the model's answer for a marginal that spans several cliques is
  exact (:meth:`~medsynth.tabular.pgm.GraphicalModel.pairs_with`, conditioning on the target for its
  3-way marginals).

``epsilon: null`` runs the same rounds on exact marginals with greedy selection (labelled non-private).
"""

from __future__ import annotations

import itertools
import math
from typing import ClassVar

import numpy as np
from pydantic import Field

from medsynth.core.config import ConfigModel
from medsynth.core.runtime import check_stop
from medsynth.privacy.mechanisms import exponential_mechanism_order
from medsynth.tabular.marginals import MarginalConfig, MarginalSynthesizer, marginal_counts, measure
from medsynth.tabular.pgm import GraphicalModel, Measurement, cells, estimate, model_size

#: Share of each round's budget spent on the measurement (the rest selects), as in the paper.
MEASURE_SHARE = 0.9


class DPAIMConfig(MarginalConfig):
    """DP-AIM settings.

    Attributes:
        rounds_per_column: at most this many rounds per column (the paper's ``T = 16 d``); fewer rounds
            measure each marginal with less noise.
        max_model_cells: cells of the junction tree the model may grow to (the paper's model size
            limit, 80 MB = 10M cells; smaller is faster).
        max_marginal_cells: workload marginals with more cells are left out.
        round_iters: mirror-descent iterations per round (warm-started).
    """

    bins: int = Field(10, ge=2, le=256)
    rounds_per_column: float = Field(4.0, gt=0)
    max_model_cells: int = Field(100_000, ge=1000)
    max_marginal_cells: int = Field(20_000, ge=4)
    round_iters: int = Field(60, ge=1)


def _workload(d: int, sizes: list[int], target: int | None, max_cells: int) -> dict[tuple[int, ...], float]:
    """Candidates (sorted column tuples) and their weights: the workload's marginals and their subsets."""
    work = [(i, j) for i in range(d) for j in range(i + 1, d)]
    if target is not None:
        others = [i for i in range(d) if i != target]
        work += [tuple(sorted((target, a, b))) for k, a in enumerate(others) for b in others[k + 1 :]]
    work = [q for q in work if cells(q, sizes) <= max_cells]
    # a candidate's weight is sum over workload queries q of |r & q| = sum over its columns of the number of
    # queries holding that column (O(W), not O(W^2): 40k x 40k set intersections on 200 columns)
    holding = np.zeros(d)
    for q in work:
        holding[list(q)] += 1
    subsets = dict.fromkeys(sub for q in work for r in range(1, len(q) + 1) for sub in itertools.combinations(q, r))
    return {r: float(holding[list(r)].sum()) for r in subsets if len(r) > 1}


class DPAIM(MarginalSynthesizer):
    """AIM: workload-adaptive selection of 2- and 3-way marginals under zCDP, with a graphical model."""

    name: ClassVar[str] = "dp-aim"
    oneway_share: ClassVar[float] = 1 / 3
    arrays_file: ClassVar[str] = "aim_arrays.npz"
    Config: ClassVar[type[ConfigModel]] = DPAIMConfig
    config: DPAIMConfig

    def _plan(self, rho: float, d: int) -> float:
        rounds = max(1, int(self.config.rounds_per_column * d))
        return math.sqrt(rounds / (2 * MEASURE_SHARE * max(rho, 1e-12)))

    def _estimates(self, model: GraphicalModel, cands: list[tuple[int, ...]], target: int | None) -> dict[tuple[int, ...], np.ndarray]:
        """The model's answer (probabilities) for every candidate, exactly, in few passes over the tree."""
        out: dict[tuple[int, ...], np.ndarray] = {}
        pairs = [c for c in cands if len(c) == 2]
        by_anchor: dict[int, list[int]] = {}
        for a, b in pairs:
            by_anchor.setdefault(a, []).append(b)
        for a, bs in by_anchor.items():
            res = model.pairs_with(a, bs)
            for b in bs:
                out[(a, b)] = res[b]
        triples = [c for c in cands if len(c) == 3]
        if triples and target is not None:
            want: dict[int, set[int]] = {}
            for c in triples:
                a, b = [v for v in c if v != target]
                want.setdefault(a, set()).add(b)
            parts: dict[tuple[int, int], list[np.ndarray]] = {}
            for k, pm in enumerate(model.conditioned(target)):
                for a, bs in want.items():
                    res = model.pairs_with(a, sorted(bs)) if pm is None else pm[1].pairs_with(a, sorted(bs))
                    for b in bs:
                        tab = np.zeros_like(res[b]) if pm is None else pm[0] * res[b]
                        parts.setdefault((a, b), [None] * model.sizes[target])[k] = tab  # type: ignore[list-item]
            for c in triples:
                a, b = [v for v in c if v != target]
                stack = np.stack(parts[(a, b)])  # (target, a, b)
                order = [target, a, b]
                out[c] = np.transpose(stack, [order.index(v) for v in c])
        for c in cands:
            if c not in out:
                out[c] = model.marginal(c)
        return out

    def _select_and_measure(self, codes: dict[str, np.ndarray], sizes: dict[str, int], oneway: dict[str, Measurement],
                            n_hat: float, rho: float, rng: np.random.Generator) -> list[Measurement]:
        names = self._names
        d = len(names)
        size_list = [sizes[c] for c in names]
        private = self.is_private
        tcols = [i for i, c in enumerate(names) if self.schema.column(c).target]  # type: ignore[union-attr]
        target = tcols[0] if tcols else None
        cand_w = _workload(d, size_list, target, self.config.max_marginal_cells) if d > 1 else {}
        answers = {r: marginal_counts(codes, tuple(names[i] for i in r), sizes, self.row_weights) for r in cand_w}
        measurements: list[Measurement] = list(oneway.values())
        chosen: list[Measurement] = []
        rounds = max(1, int(self.config.rounds_per_column * d))
        if private:
            sigma = math.sqrt(rounds / (2 * MEASURE_SHARE * max(rho, 1e-300)))
            epsilon = math.sqrt(8 * (1 - MEASURE_SHARE) * rho / rounds)
        else:
            sigma, epsilon = 0.0, 0.0
        rho_used = 0.0
        model = estimate(size_list, measurements, n_hat, iters=self.config.round_iters)
        max_w = max(cand_w.values(), default=1.0)
        t = 0
        annealed = 0
        terminate = not cand_w
        cands = list(cand_w)
        cand_cells = np.array([cells(r, size_list) for r in cands], dtype=float)
        max_pair = max((cand_cells[k] for k, r in enumerate(cands) if len(r) == 2), default=0.0)
        while not terminate:
            check_stop()  # minutes of rounds on wide tables: a swallowed SIGTERM stops here
            t += 1
            if private:
                if rho - rho_used < 2 * (0.5 / sigma**2 + epsilon**2 / 8) or t >= rounds:
                    remaining = max(rho - rho_used, 1e-300)
                    sigma = math.sqrt(1 / (2 * MEASURE_SHARE * remaining))
                    epsilon = math.sqrt(8 * (1 - MEASURE_SHARE) * remaining)
                    terminate = True
                rho_used += epsilon**2 / 8 + 0.5 / sigma**2
                # AIM's size schedule, but never below the current model plus one pair of the workload: on 201
                # columns (804 rounds) the first limit was 124 cells, no pair fit, and the fit stopped after the
                # 1-way marginals with two thirds of its budget unused (the limit depends only on public sizes)
                limit = min(self.config.max_model_cells,
                            max(self.config.max_model_cells * min(rho_used / rho, 1.0), model.tree.size + max_pair))
            else:  # exact marginals: one greedy pick per column at most
                terminate = t >= min(rounds, d)
                limit = self.config.max_model_cells
            est = self._estimates(model, cands, target)
            scores = np.array([cand_w[r] * (float(np.abs(answers[r] - est[r] * model.total).sum())
                                            - math.sqrt(2 / math.pi) * sigma * cand_cells[k]) for k, r in enumerate(cands)])
            measured = [m.clique for m in chosen]
            pick = None
            alive = np.ones(len(cands), dtype=bool)
            # a table larger than the limit cannot fit (the model needs a clique holding it) unless the model holds it
            # already: struck before drawing, as the redraws below would (same distribution, without triangulating
            # for each; on 100 columns the redraws were 10,000 triangulations and 70% of the fit)
            big = np.nonzero(cand_cells > limit)[0]
            if big.size:
                together = np.zeros((d, d), dtype=bool)  # columns sharing a clique of the model: needed to be held
                for c in model.tree.cliques:
                    together[np.ix_(c, c)] = True
                for j in big:
                    r = cands[j]
                    alive[j] = all(together[a, b] for a, b in itertools.combinations(r, 2)) and model.containing(r) >= 0
            # the first eligible candidate in this order is the exponential mechanism's draw on the eligible set
            order = (exponential_mechanism_order(scores, epsilon, max_w, rng) if private
                     else np.argsort(-scores, kind="stable"))  # exact: the best eligible
            for j in order:
                if not alive[j]:
                    continue
                r = cands[j]
                free = model.containing(r) >= 0
                if free or model_size(d, [*measured, r, *[(i,) for i in range(d)]], size_list) <= limit:
                    pick = r
                    break
            if pick is None:
                break
            x = answers[pick]
            y, sig = measure(x, 0.5 / sigma**2, rng) if private else (x, 0.0)
            before = est[pick] * model.total
            chosen.append(Measurement(pick, y, sig))
            model = estimate(size_list, [*measurements, *chosen], n_hat, iters=self.config.round_iters, warm=model)
            after = model.marginal(pick) * model.total
            if private and not terminate and float(np.abs(after - before).sum()) <= sigma * math.sqrt(2 / math.pi) * x.size:
                sigma /= 2
                epsilon *= 2
                annealed += 1
        self._warm = model
        self.meta["aim"] = {"rounds": t, "annealed": annealed, "max_rounds": rounds, "workload_candidates": len(cand_w),
                            "target": names[target] if target is not None else None}
        if private:
            self.ledger.record(  # type: ignore[union-attr]
                "AIM: adaptive selection and measurement of 2-/3-way marginals",
                "exponential mechanism + Gaussian mechanism per round (zCDP)", rho=rho, columns=names,
                rounds=t, annealed=annealed, final_sigma=sigma, measured=[[names[i] for i in m.clique] for m in chosen])
        else:
            self.ledger.record("AIM marginals (exact, greedy selection)", "none (non-private)", columns=names)  # type: ignore[union-attr]
        return chosen


__all__ = ["DPAIM", "DPAIMConfig"]
