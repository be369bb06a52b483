"""The marginal engine shared by DP-MST and DP-AIM: discretise, measure noisy marginals, estimate, decode.

A marginal-based synthesizer sees the table as discrete codes. Numbers are measured first on a fine
grid (``fine_bins`` equal-width bins of the scaled value, or one bin per value for small integer ranges)
and then merged into ``bins`` coarse bins of about equal *noisy* mass (post-processing, free), which
gives skewed labs fine bins where their data are and coarse ones in the tails; discrete columns keep
their categories; a column that may be missing has one more state. The engine then

1. measures the **1-way marginal** of every column with Gaussian noise (for a discrete column whose
   domain was released with DP in the same fit, the noisy counts of that release *are* its 1-way
   marginal: reused, not measured twice);
2. lets the model's **selection strategy** pick and measure higher-order marginals
   (:meth:`MarginalSynthesizer._select_and_measure`: MST's spanning tree, AIM's adaptive rounds), with
   :func:`measure` (Gaussian mechanism with a ``sensitivity`` for units contributing several rows and
   optional row ``weights``);
3. fits a graphical model to all measurements (:func:`medsynth.tabular.pgm.estimate`, Private-PGM's
   mirror descent over a junction tree) and samples it; numbers are decoded by drawing a fine bin
   within the coarse one (by the noisy fine histogram, cells below 2 noise deviations set to zero)
   and a value uniformly inside it, never the bin midpoint.

**Units with several rows** (patient-level DP over a parent table joined with its child rows): pass
``sensitivity=k`` when one unit holds at most ``k`` rows (its rows change a histogram by at most ``k``
in L2 norm, so the noise grows k-fold for the same rho), or ``weights`` (e.g. ``1/rows_of_its_unit``)
so that each unit's rows add up to at most 1 and the sensitivity stays 1.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from medsynth.core.config import ConfigModel
from medsynth.privacy.mechanisms import _LOG_MIN, gaussian_sigma
from medsynth.privacy.noise import Generators
from medsynth.tabular.base import TabularSynthesizer
from medsynth.tabular.encoding import Frame
from medsynth.tabular.pgm import GraphicalModel, JunctionTree, Measurement, estimate
from medsynth.tabular.schema import ColumnSchema

#: Rows per sampling chunk, and threads that sample chunks at once.
SAMPLE_CHUNK = 131_072
#: Half-width of the DP location histogram's bucket of zero (|x| < 2^-8): a released grid's cell within it is zero.
ZERO_BUCKET = 2.0**_LOG_MIN
SAMPLE_THREADS = 2

#: Decoding takes the projection of a number's noisy fine 1-way (see ``decode_weights``) only when it lowers the clipped
#: mass by at most this share; beyond it (300 rows over 32 cells at noise 30: the projection lost half the real mass,
#: clipping a third) the cells keep their clipped counts.
PROJECT_MAX_CUT = 1 / 3


def project_simplex(v: np.ndarray, total: float) -> np.ndarray:
    """Euclidean projection of ``v`` onto {x >= 0, sum x = total}: every entry lowered by one common amount and
    clipped at 0 (noise in empty cells is taken off, thin real mass keeps its share)."""
    if total <= 0:
        return np.zeros_like(v)
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - total
    ind = np.arange(1, v.size + 1)
    cond = u - css / ind > 0
    rho = ind[cond][-1] if cond.any() else 1
    theta = css[rho - 1] / rho
    return np.maximum(v - theta, 0.0)


#: Most of the budget left at the model's fit that its 1-way marginals measured there may take (the rest measures
#: the higher-order marginals).
ONEWAY_CAP = 0.5


#: A number's empty fine cells are filled from its smoothed 1-way marginal (:func:`_smoothed_within`) from this many
#: cells on, ...
SMOOTH_MIN_CELLS = 4
#: ... where they make a run of at most this many empty cells between cells with weight (a hole the noise made; a longer
#: run is a gap of the data: a sentinel -99 beside values 80-160).
HOLE_MAX_CELLS = 2
#: ... smoothed on this many cells each side of the hole (at 16, Cp on a few cells smoothed too little: mdvis kept 0-5 holes).
SMOOTH_WINDOW = 64


def _smoothed_within(noisy: np.ndarray, sigma: np.ndarray, weights: np.ndarray, group: np.ndarray,
                     edges: np.ndarray | None, fixed: np.ndarray) -> np.ndarray:
    """The fine cells' decoding weights with the noise's holes filled: a run of at most ``HOLE_MAX_CELLS`` cells the
    projection left empty between cells with weight takes the noisy 1-way's smoothed counts there
    (:func:`~medsynth.tabular.multi_counts.whittaker`, its strength by Mallows' Cp for the known noise, on cell densities
    where the cells differ in width), each coarse group scaled back to its weight. The projected counts zeroed every
    cell the noise put below a threshold: whole ages inside the synthetic range were never written (a data scientist:
    mdvis' ages 20-60 at epsilon 1 missed 4-7 of them, 8-13% of the real rows; rwm1984 1-2). Longer empty runs (a gap of
    the data, a cut tail) keep no weight, and ``fixed`` cells (an atom's, written as the atom) keep theirs.
    Post-processing of the DP 1-way marginal."""
    from medsynth.tabular.multi_counts import whittaker

    empty = weights <= 0
    held = np.flatnonzero(~empty)
    if held.size < 2:
        return weights
    holes = np.zeros(weights.size, dtype=bool)
    run_start = None
    for i in range(held[0], held[-1] + 1):
        if empty[i] and run_start is None:
            run_start = i
        elif not empty[i] and run_start is not None:
            if i - run_start <= HOLE_MAX_CELLS:
                holes[run_start:i] = True
            run_start = None
    if not holes.any():
        return weights
    width = np.diff(edges) if edges is not None and edges.size == noisy.size + 1 else np.ones(noisy.size)
    width = np.where(width > 0, width, 1.0)
    out = weights.astype(float).copy()
    # smoothed on a window around each hole (the smoother solves a dense system: 2,048 cells took 6 s, a reviewer)
    runs = np.split(np.flatnonzero(holes), np.flatnonzero(np.diff(np.flatnonzero(holes)) > 1) + 1)
    for run in runs:
        a, b = max(int(run[0]) - SMOOTH_WINDOW, 0), min(int(run[-1]) + SMOOTH_WINDOW + 1, noisy.size)
        w = width[a:b]
        scale = float(np.median(w))
        smooth = np.maximum(whittaker(noisy[a:b] / w * scale, float(np.median(sigma[a:b]))), 0.0) * w / scale
        out[run] = smooth[run - a]
    for k in np.unique(group[holes]):  # (an atom's cell keeps its weight: a sentinel's share is its own count's)
        cells = group == k
        free = cells & ~fixed
        total, got = float(weights[free].sum()), float(out[free].sum())
        if total > 0 and got > 0:
            out[free] *= total / got
    return out


class MarginalConfig(ConfigModel):
    """Discretisation and estimation settings shared by the marginal models.

    Attributes:
        bins: coarse bins per numeric column (the resolution of its higher-order marginals).
        fine_bins: fine grid of a numeric column's 1-way measurement (and of its decoded values).
        adaptive_bins: with DP, numbers get at most ``adaptive_bins * n / sigma1`` fine bins and
            ``sqrt(adaptive_bins * n / sigma2)`` coarse bins (sigma1, sigma2: noise of the 1-way and
            higher-order measurements), so small tables are not measured on grids the noise swamps; 0
            turns it off.
        iters: mirror-descent iterations of the final graphical-model fit.
        ipf_iters: unused (the tree-only DP-MST's proportional fitting, replaced by mirror descent); kept so
            that configs written for it still load.
    """

    bins: int = Field(12, ge=2, le=256)
    fine_bins: int = Field(64, ge=4, le=4096)
    adaptive_bins: float = Field(1.0, ge=0)
    iters: int = Field(400, ge=1)
    ipf_iters: int = Field(50, ge=1)


# -- functions for any caller (also the multi-table models) ---------------------------------------------------
def marginal_counts(codes: dict[str, np.ndarray], clique: tuple[str, ...], sizes: dict[str, int],
                    weights: np.ndarray | None = None) -> np.ndarray:
    """The exact (weighted) contingency table of ``clique`` (axes in clique order)."""
    shape = [sizes[c] for c in clique]
    idx = np.ravel_multi_index(tuple(codes[c] for c in clique), shape) if clique else np.zeros(0, np.int64)
    return np.bincount(idx, weights=weights, minlength=int(np.prod(shape))).astype(float).reshape(shape)


def measure(counts: np.ndarray, rho: float, rng: np.random.Generator, *, sensitivity: float = 1.0) -> tuple[np.ndarray, float]:
    """The Gaussian mechanism on a contingency table: ``rho``-zCDP when one unit changes the table by at
    most ``sensitivity`` in L2 norm (1 for one row per unit; ``k`` for up to ``k`` rows per unit, or 1
    with weights that sum to at most 1 per unit). Returns the noisy table and the noise scale."""
    sigma = gaussian_sigma(rho, sensitivity)
    return counts + rng.normal(0.0, sigma, counts.shape), sigma


#: :func:`cut_tail`: cells standing this many deviations above zero make a number's core ...
TAIL_SIGMAS = 3.0
#: ... a run of them may skip this many cells, and this many cells past the core's last are kept.
TAIL_GAP = 3


def cut_tail(noisy: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """A numeric column's noisy fine 1-way with the cells above its core set to 0 (post-processing): the core is the
    run of cells standing ``TAIL_SIGMAS`` deviations above zero (gaps of up to ``TAIL_GAP`` cells) that holds the most
    noisy mass, and every other such run of two cells or more; past the last of them and ``TAIL_GAP`` more, the cut comes at the first cell from which the remaining
    cells' noisy sum stays within ``TAIL_SIGMAS`` deviations of its noise. On a log grid of days up to a DP date range of a
    century, clipped noise in the empty top cells drew a tenth of the synthetic hospital stays over 60 days (real:
    under 9). Unchanged where no cell stands out or there is no noise."""
    strong = np.flatnonzero((sigma > 0) & (noisy > TAIL_SIGMAS * sigma))
    if strong.size == 0:
        return noisy
    runs = np.split(strong, np.flatnonzero(np.diff(strong) > TAIL_GAP + 1) + 1)
    main = max(runs, key=lambda r: float(noisy[r].sum()))
    # every run of two cells or more standing out is kept too (a second peak: inpatient stays of days beside visits of
    # minutes); a lone cell far up is pure noise 1 time in 12 over 64 cells, two near each other 1 in 2,500
    kept = [r for r in runs if r.size >= 2] + [main]
    main = max(kept, key=lambda r: int(r[-1]))
    # the cut is the first cell past the core from which the rest, summed, does not stand out of its noise (a real
    # thin spread is kept while what is left of it stands out)
    rest = np.cumsum(noisy[::-1])[::-1]
    rest_sigma = np.sqrt(np.cumsum((sigma**2)[::-1])[::-1])
    start = int(main[-1]) + TAIL_GAP + 1
    quiet = np.flatnonzero(rest[start:] <= TAIL_SIGMAS * rest_sigma[start:])
    if quiet.size == 0:
        return noisy
    out = noisy.copy()
    out[start + int(quiet[0]):] = 0.0
    return out


def equal_mass_groups(weights: np.ndarray, k: int) -> np.ndarray:
    """Group consecutive cells into at most ``k`` groups of about equal (noisy, non-negative) mass."""
    g = weights.size
    k = min(k, g)
    if weights.sum() <= 0:
        return (np.arange(g) * k) // g
    cum = np.cumsum(weights) / weights.sum()
    mid = cum - weights / (2 * weights.sum())
    group = np.minimum((mid * k).astype(np.int64), k - 1)
    return np.unique(group, return_inverse=True)[1]


class MarginalSynthesizer(TabularSynthesizer):
    """Base of the marginal models: the engine above; subclasses implement :meth:`_select_and_measure`."""

    private: ClassVar[bool] = True
    allows_non_private: ClassVar[bool] = True
    oneway_share: ClassVar[float] = 1 / 3
    #: The arrays file of a saved model (the privacy audit reads the noisy 1-ways, ``fine_w/*``, from it).
    arrays_file: ClassVar[str] = "marginal_arrays.npz"
    Config: ClassVar[type[ConfigModel]] = MarginalConfig
    config: MarginalConfig
    #: Optional weight of each row of the fitted frame (set by a caller before ``_fit_frame``): every marginal
    #: is a weighted count. With units of several rows, weights summing to at most ``s`` per unit keep a
    #: histogram's L2 sensitivity at ``s`` (the multi-table models pass ``min(1, K / rows_of_the_parent)``).
    row_weights: np.ndarray | None = None
    #: Numeric columns whose noisy fine 1-way is cut above its core (set by a caller; the multi-table models pass their
    #: time features, on log grids up to the whole date range): :func:`cut_tail`; below it too for an asinh scale.
    trim_tails: tuple[str, ...] = ()
    #: How a number's noisy fine 1-way becomes the weights of its values inside a coarse bin when decoding:
    #: "project": its projection onto non-negative counts with the same noisy total (:func:`project_simplex`);
    #: "clipped": the noisy counts clipped at 0 (every cell with positive noise keeps it: a caller on a few
    #: hundred units, where most real cells sit within the noise). The earlier rule, cells below two deviations
    #: counted as empty, piled a wide table's values into the few cells that cleared it (at epsilon 1 on a
    #: 47-column table 1-way TVD 0.25 against 0.21 with the projection, 2-way 0.43 against 0.37; ages 40-44 were the
    #: youngest synthetic people of openintro::smoking whose real fifth percentile is 22).
    decode_weights: str = "project"

    # -- discretisation ------------------------------------------------------------------------------
    def _fine_spec(self, col: ColumnSchema) -> tuple[int, bool]:
        """(number of fine value bins, whether they are one-per-integer)."""
        edges = getattr(self, "_edges", {}).get(col.name)
        if edges is not None:
            return edges.size - 1, False
        if col.type == "integer" and col.transform == "none":
            lo, hi = col.bounds()
            r = int(math.floor(hi) - math.ceil(lo) + 1)
            if r <= self._grid[0]:
                return max(r, 1), True
        return self._grid[0], False

    def _choose_grid(self, n: float, sigma1: float, sigma2: float) -> tuple[int, int]:
        """(fine bins, coarse bins) for numbers: the configured ones, made coarser when the noise would swamp
        them (a coarse bin sums its fine cells' noise; a 2-way table spreads the rows over coarse x coarse
        cells). Depends only on the noisy row count and the noise scales."""
        fine, coarse = self.config.fine_bins, self.config.bins
        if not self.config.adaptive_bins or sigma1 <= 0:
            return fine, coarse
        f = self.config.adaptive_bins
        fine = min(fine, max(2, int(f * n / sigma1)))
        coarse = min(coarse, fine, max(2, int(math.sqrt(f * n / max(sigma2, 1e-12)))))
        return fine, coarse

    def _fine_size(self, col: ColumnSchema) -> int:
        """Cells of a column's fine 1-way marginal: its values, plus a "missing" cell only when the column
        may be missing."""
        extra = 1 if col.missing else 0
        if col.type in ("categorical", "boolean"):
            return self.codec.n_categories(col.name) + extra  # type: ignore[union-attr]
        return self._fine_spec(col)[0] + extra

    def _atom_grid(self, col: ColumnSchema, g: int) -> np.ndarray:
        """Edges of ``g`` equal cells of the unit scale with each of the column's atoms (declared, or read by a
        non-private fit) in a cell of its own: values drawn in it are written as the atom, and its count is the
        atom's alone. Written as the whole cell holding it (a reviewer: 8 cells on 0-100, 10.6% zeros came out 20.9%,
        nothing left in 0-12.5 where 11.4% of the rows were), an atom took its neighbours' rows."""
        e = np.linspace(0.0, 1.0, g + 1)
        width = 1e-6 / g
        for a in self.codec.to_unit(col, np.asarray(col.atom_numbers(), dtype=float)):  # type: ignore[union-attr]
            if 0.0 <= a <= 1.0:
                e = np.r_[e, a, a + width] if a + width <= 1.0 else np.r_[e, a - width, a]
        e = np.unique(np.clip(e, 0.0, 1.0))
        return e[np.r_[True, np.diff(e) > 1e-15]]

    def _atom_cells(self, col: ColumnSchema, g: int) -> np.ndarray:
        """Which of a number's ``g`` fine cells hold one of its atoms alone (on an atom grid: :meth:`_atom_grid`)."""
        edges = self._edges.get(col.name)
        fixed = np.zeros(g, dtype=bool)
        if edges is not None and col.atoms:
            for a in self.codec.to_unit(col, np.asarray(col.atom_numbers(), dtype=float)):  # type: ignore[union-attr]
                fixed[int(np.clip(np.searchsorted(edges, a, side="right") - 1, 0, g - 1))] = True
        return fixed

    def _fine_codes(self, frame: Frame) -> dict[str, np.ndarray]:
        out = {}
        for col in self.codec.numeric:  # type: ignore[union-attr]
            g, per_value = self._fine_spec(col)
            u = frame.num[col.name]
            miss = np.isnan(u)
            uu = np.where(miss, 0.0, u)
            if col.name in self._edges:
                idx = np.clip(np.searchsorted(self._edges[col.name], uu, side="right") - 1, 0, g - 1)
            elif per_value:
                idx = np.rint(uu * (g - 1)).astype(np.int64)
            else:
                idx = np.minimum((uu * g).astype(np.int64), g - 1)
            out[col.name] = np.where(miss, g, idx) if col.missing else idx  # no missing state: as the first cell
        for col in self.codec.discrete:  # type: ignore[union-attr]
            k = self.codec.n_categories(col.name)  # type: ignore[union-attr]
            c = frame.cat[col.name]
            # missing (or a value outside the released categories, for callers other than fit) -> the missing
            # cell; a column without one has no such rows in a fit (imputed first), others get the last cell
            out[col.name] = np.where(c < 0, k if col.missing else k - 1, c)
        return out

    # -- the model's part ------------------------------------------------------------------------------
    def _plan(self, rho: float, d: int) -> float:
        """The noise scale of the higher-order marginals that budget ``rho`` buys (for the grid choice)."""
        raise NotImplementedError

    def _select_and_measure(self, codes: dict[str, np.ndarray], sizes: dict[str, int], oneway: dict[str, Measurement],
                            n_hat: float, rho: float, rng: np.random.Generator) -> list[Measurement]:
        """Pick and measure higher-order marginals with budget ``rho`` (0 for a non-private fit)."""
        raise NotImplementedError

    # -- fit -------------------------------------------------------------------------------------------
    def _fit_frame(self, frame: Frame, gens: Generators) -> None:
        if self.decode_weights not in ("project", "clipped"):
            raise ValueError(f"decode_weights must be 'project' or 'clipped', not {self.decode_weights!r}")
        rng = gens.noise  # every measurement and selection is a DP mechanism
        cols = [*self.codec.numeric, *self.codec.discrete]  # type: ignore[union-attr]
        names = [c.name for c in cols]
        d = len(cols)
        private = self.is_private
        reused = {c: m for c, m in (getattr(self, "domain_oneways", None) or {}).items() if c in names} if private else {}
        rho = self.rho_left() if private else 0.0
        self._edges = {}  # numbers whose fine cells are the DP domain release's grid (reused 1-way marginal)
        for col in self.codec.numeric:  # type: ignore[union-attr]
            ow = reused.get(col.name)
            if ow is not None and ow.edges is not None:
                e = self.codec.to_unit(col, ow.edges)  # type: ignore[union-attr]
                e[0], e[-1] = 0.0, 1.0
                if np.all(np.diff(e) > 0):
                    self._edges[col.name] = e
        # reusable: a category's counts, or a number's cells on the release's grid (sizes known before the grid)
        # (a number's counts are reusable only on the release's grid: without its edges they are no grid of this fit)
        usable = {c.name for c in cols if (ow := reused.get(c.name)) is not None
                  and (c.name in self._edges if c.type not in ("categorical", "boolean") else ow.edges is None)
                  and ow.counts.size == self._fine_size(c)}
        n_measured = d - len(usable)
        # each column's 1-way budget (paid by the domain release where reused; set by fit, else planned here)
        rho1 = getattr(self, "oneway_rho", 0.0) or (self.oneway_share * rho / max(d, 1) if private else 0.0)
        if private and n_measured and rho1 * n_measured > ONEWAY_CAP * rho:
            # the domain release paid the 1-way marginals it planned to hand over, but could not hand over those too
            # coarse to reuse (Ecdat::OCC1950, shares of 1e-4: 21 of 23 columns located in one small cell): measured
            # again, they take at most half of what is left (they took it all, and the fit refused for 1.008 > 1
            # epsilon in 1 fit of 3); fits where they take less are as before
            rho1 = ONEWAY_CAP * rho / n_measured
        sigma1 = gaussian_sigma(rho1) if private else 0.0
        sigma_hi = self._plan(rho - rho1 * n_measured, d) if private else 0.0
        self._grid = self._choose_grid(self.rows_noisy or frame.n, sigma1, sigma_hi)  # noisy n: the exact one is private
        for col in self.codec.numeric:  # type: ignore[union-attr]
            if col.atoms and col.name not in self._edges and not self._fine_spec(col)[1]:
                self._edges[col.name] = self._atom_grid(col, self._grid[0])
        fine = self._fine_codes(frame)

        # 1. noisy 1-way marginals on the fine grid (reused from the domain release where it measured them)
        fine_noisy: dict[str, np.ndarray] = {}
        fine_sigma: dict[str, np.ndarray] = {}
        measured = []
        for col in cols:
            size = self._fine_size(col)
            ow = reused.get(col.name)
            if col.name in usable:
                fine_noisy[col.name] = ow.counts.astype(float)  # type: ignore[union-attr]
                fine_sigma[col.name] = np.asarray(ow.sigma, dtype=float)
                continue
            counts = np.bincount(fine[col.name], weights=self.row_weights, minlength=size).astype(float)
            if private:
                fine_noisy[col.name], sig = measure(counts, rho1, rng)
                measured.append(col.name)
            else:
                fine_noisy[col.name], sig = counts, 0.0
            fine_sigma[col.name] = np.full(size, sig)
        if private and measured:
            self.ledger.record("1-way marginals of the columns not measured by the domain release",  # type: ignore[union-attr]
                               "Gaussian mechanism (zCDP)", rho=rho1 * len(measured), columns=measured,
                               parts={"one_way": {"rho": rho1 * len(measured), "sigma": gaussian_sigma(rho1)}})
        for c in self.trim_tails if private else ():
            col = next((x for x in cols if x.name == c and x.type not in ("categorical", "boolean")), None)
            if col is not None:
                g = self._fine_spec(col)[0]
                fine_noisy[c] = fine_noisy[c].copy()
                fine_noisy[c][:g] = cut_tail(fine_noisy[c][:g], fine_sigma[c][:g])
                if col.transform in ("asinh", "log"):  # noise in the empty cells below its core too: a signed offset's,
                    # and a log grid's, whose lowest cells are gaps of nothing (pbcseq at epsilon 1: a third of the
                    # synthetic visits fell on another visit's day, real none; mass that stands out there is kept)
                    fine_noisy[c][:g] = cut_tail(fine_noisy[c][:g][::-1], fine_sigma[c][:g][::-1])[::-1]
                elif col.type == "integer" and self._fine_spec(col)[1] and col.bounds()[0] == 0 and g > 1:
                    # a gap of whole steps: its cell 0 (a row on its previous row's step) is kept only where it stands
                    # out; noise there tied 9% of a 300-patient trial's visits at months 2, 4, 6, 8 (real none)
                    if fine_noisy[c][0] <= TAIL_SIGMAS * fine_sigma[c][0]:
                        fine_noisy[c][0] = 0.0
        n_hat = max(float(np.mean([v.sum() for v in fine_noisy.values()])), 1.0)

        # coarse bins of equal noisy mass (numbers); categories stay as they are
        maps: dict[str, np.ndarray] = {}
        fine_w: dict[str, np.ndarray] = {}
        self._oneway_w = {c: np.maximum(fine_noisy[c], 0.0) for c in names}  # the noisy 1-ways as released
        self._oneway_noisy = (fine_noisy, fine_sigma)  # unclipped, with their noise (a caller may reuse them; not saved)
        for col in cols:
            size = self._fine_size(col)
            clipped = np.maximum(fine_noisy[col.name], 0.0)
            fine_w[col.name] = clipped
            if col.type in ("categorical", "boolean"):
                maps[col.name] = np.arange(size)
                continue
            g = self._fine_spec(col)[0]
            total = float(fine_noisy[col.name][:g].sum())
            if self.decode_weights == "project" and total > (1 - PROJECT_MAX_CUT) * clipped[:g].sum():
                # (where the projection would take off more than PROJECT_MAX_CUT of the clipped mass, the noise swamps
                # the cells and zeroing most of them would lose real mass: the clipped counts are kept, as before)
                fine_w[col.name] = clipped.copy()
                fine_w[col.name][:g] = project_simplex(fine_noisy[col.name][:g], total)
            group = equal_mass_groups(fine_w[col.name][:g], min(self._grid[1], g))
            if private and g >= SMOOTH_MIN_CELLS and self.decode_weights == "project":  # ("clipped": as released)
                fine_w[col.name][:g] = _smoothed_within(fine_noisy[col.name][:g], fine_sigma[col.name][:g],
                                                        fine_w[col.name][:g], group, self._edges.get(col.name),
                                                        self._atom_cells(col, g))
            maps[col.name] = np.append(group, group.max() + 1) if col.missing else group  # missing: own state
        sizes = {c: int(maps[c].max() + 1) for c in names}
        coarse = {c: maps[c][fine[c]] for c in names}
        oneway = {}
        for c in names:
            y = np.bincount(maps[c], weights=fine_noisy[c], minlength=sizes[c])
            sig = np.sqrt(np.bincount(maps[c], weights=fine_sigma[c] ** 2, minlength=sizes[c]))
            oneway[c] = Measurement((names.index(c),), y, sig)

        # 2. the model's selection strategy
        rho_rest = max(rho - rho1 * len(measured), 0.0) if private else 0.0
        self._names = names

        # 3. graphical model
        size_list = [sizes[c] for c in names]
        self._warm = None
        higher = self._select_and_measure(coarse, sizes, oneway, n_hat, rho_rest, rng)
        self._model = estimate(size_list, [*oneway.values(), *higher], n_hat, iters=self.config.iters, warm=self._warm)
        self._maps = maps
        self._fine_w = fine_w
        self.meta.update({"cliques": [[names[i] for i in m.clique] for m in higher], "coarse_sizes": sizes, "steps": 0,
                          "grid": {"fine_bins": self._grid[0], "bins": self._grid[1]},
                          "junction_tree": [[names[i] for i in c] for c in self._model.tree.cliques]})
        if private:
            self.meta["accountant"] = "zcdp"

    # -- sample ----------------------------------------------------------------------------------------
    def _sample_table(self, m: int, rng: np.random.Generator, codes: dict[str, int]) -> Any:  # noqa: ANN401
        """Sample and decode in chunks of ``SAMPLE_CHUNK`` rows, two threads at a time (numpy releases the
        GIL): each chunk has its own generator drawn from ``rng`` in order, so a seed gives the same rows on
        any machine."""
        if m <= SAMPLE_CHUNK:
            return super()._sample_table(m, rng, codes)
        from concurrent.futures import ThreadPoolExecutor

        import pandas as pd

        sizes = [min(SAMPLE_CHUNK, m - s) for s in range(0, m, SAMPLE_CHUNK)]
        seeds = rng.integers(0, 2**63 - 1, size=len(sizes))
        base = super()._sample_table
        with ThreadPoolExecutor(max_workers=SAMPLE_THREADS) as pool:
            parts = list(pool.map(lambda a: base(int(a[0]), np.random.default_rng(int(a[1])), codes), zip(sizes, seeds)))
        return pd.concat(parts, ignore_index=True)

    def _sample_frame(self, n: int, rng: np.random.Generator) -> Frame:
        codes = self._model.sample(n, rng)
        coarse = {c: codes[:, i] for i, c in enumerate(self._names)}
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
        groups = m[:g]
        k = int(groups.max()) + 1
        # per coarse group, the fine cells' weights as a conditional table; uniform where all are empty
        table = np.zeros((k, g))
        table[groups, np.arange(g)] = w
        empty = table.sum(axis=1) == 0
        table[empty] = (groups[None, :] == np.arange(k)[empty][:, None]).astype(float)
        from medsynth.tabular.pgm import draw_rows

        u = np.full(codes.size, np.nan)
        present = codes != miss_state
        f = draw_rows(table, np.minimum(codes[present], k - 1), rng)
        edges = self._edges.get(col.name)
        if edges is not None:
            u[present] = edges[f] + rng.random(f.size) * (edges[f + 1] - edges[f])
            if col.type == "continuous":  # the DP release's cell of zero (|x| < 2^-8) holds exact zeros: written 0
                zero = self._zero_cells(col, edges)
                if zero.any():
                    at = np.flatnonzero(present)[zero[f]]
                    u[at] = float(self.codec.to_unit(col, np.array([0.0]))[0])  # type: ignore[union-attr]
            if col.atoms:  # a cell an atom holds alone (a sentinel, a detection limit): written as the atom
                where = np.flatnonzero(present)
                for a in self.codec.to_unit(col, np.asarray(col.atom_numbers(), dtype=float)):  # type: ignore[union-attr]
                    j = int(np.clip(np.searchsorted(edges, a, side="right") - 1, 0, g - 1))
                    u[where[f == j]] = a
        else:
            u[present] = f / max(g - 1, 1) if per_value else (f + rng.random(f.size)) / g
        return u

    def _zero_cells(self, col: ColumnSchema, edges: np.ndarray) -> np.ndarray:
        """Which cells of a DP-released grid are its bucket of zero (both ends within 2^-8 of 0, the location
        histogram's zero bucket): a cost or a dose column's exact zeros were written as values drawn inside it (0.002),
        which no real row holds and an ``== 0`` filter misses."""
        v = self.codec.from_unit(col, edges)  # type: ignore[union-attr]
        return (np.abs(v[:-1]) <= ZERO_BUCKET * (1 + 1e-9)) & (np.abs(v[1:]) <= ZERO_BUCKET * (1 + 1e-9))

    # -- save / load -------------------------------------------------------------------------------------
    def _save_state(self, folder: Path) -> dict[str, Any]:
        arrays: dict[str, np.ndarray] = {}
        for i, b in enumerate(self._model.beliefs):
            arrays[f"belief/{i}"] = b
        for c in self._names:
            arrays[f"map/{c}"] = self._maps[c]
            arrays[f"decode_w/{c}"] = self._fine_w[c]
            arrays[f"fine_w/{c}"] = self._oneway_w.get(c, self._fine_w[c])  # noisy 1-way (clipped at 0)
        for c, e in self._edges.items():
            arrays[f"edges/{c}"] = e
        np.savez(folder / self.arrays_file, **arrays)
        tree = self._model.tree
        structure = {"names": self._names, "sizes": self._model.sizes, "total": self._model.total,
                     "cliques": [list(c) for c in tree.cliques], "order": tree.order, "parent": tree.parent,
                     "grid": list(self._grid)}
        (folder / "marginal_model.json").write_text(json.dumps(structure, indent=2), encoding="utf-8")
        return {self.arrays_file: "clique marginals of the junction tree, noisy 1-way marginals (fine_w) and decoding "
                                  "tables (np.load allow_pickle=False)",
                "marginal_model.json": "junction tree: columns, cliques, sampling order"}

    def _load_state(self, folder: Path, device: str) -> None:
        st = json.loads((folder / "marginal_model.json").read_text(encoding="utf-8"))
        self._names = st["names"]
        self._grid = tuple(st["grid"])
        cliques = [tuple(c) for c in st["cliques"]]
        parent = list(st["parent"])
        order = list(st["order"])
        tree = JunctionTree(cliques=cliques, edges=[(parent[c], c) for c in order if parent[c] >= 0], order=order,
                            parent=parent, _sizes=list(st["sizes"]))
        model = GraphicalModel.__new__(GraphicalModel)
        model.sizes, model.tree, model.total = list(st["sizes"]), tree, float(st["total"])
        with np.load(folder / self.arrays_file, allow_pickle=False) as z:
            model.beliefs = [z[f"belief/{i}"] for i in range(len(cliques))]
            self._maps = {c: z[f"map/{c}"] for c in self._names}
            self._fine_w = {c: z[f"decode_w/{c}"] for c in self._names}
            self._oneway_w = {c: z[f"fine_w/{c}"] for c in self._names}
            self._edges = {c: z[f"edges/{c}"] for c in self._names if f"edges/{c}" in z.files}
        model.potentials = [np.log(np.maximum(b, 1e-300)) for b in model.beliefs]
        self._model = model


__all__ = ["MarginalConfig", "MarginalSynthesizer", "equal_mass_groups", "marginal_counts", "measure"]
