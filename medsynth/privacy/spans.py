"""A DP release of how far a group's values reach beyond a released range (multi-table child times).

:func:`span_widened`: each group's (a patient's) largest and smallest value, by their distance beyond the ends of a
range DP released from one row per group, counted in one Gaussian release over public cells (:func:`span_cells`,
functions of the released range): a range end moves out to where those stand above the noise. A child table's domain
release sees one random row per patient, so a schedule's first and last visits are one row in ten and its range came
out cut short (:meth:`medsynth.tabular.multi_domains.DomainsMixin._span_ranges` calls it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from medsynth.privacy.locate import FALSE_RATE
from medsynth.privacy.mechanisms import _union_threshold, gaussian_sigma

#: A span release's cells beyond each end of a released range: whole numbers one wide up to ``SPAN_CELLS``, then
#: doubling; other numbers doubling from a 64th of the range's width; up to this many widths, then three wider cells
#: (the last open). Linear cells a quarter of the range wide moved an end to the near edge of a cell holding patients'
#: first values up to a quarter of the range further (KosteckiDillon's diary, days -29 to 99 released from 2: its 98
#: patients' first days, -30 to 1, all in the cell [1, 32), moved it to 1); doubling cells move it at least half as far
#: as the patients reach ...
SPAN_REACH = 2.0
#: ... and whole numbers reach at least this many units, in cells one wide (a range one day wide: still 16 days each
#: side; sleepstudy's days exactly).
SPAN_CELLS = 16


def span_cells(lo: float, hi: float, *, whole: bool) -> np.ndarray:
    """Edges ``[a, b)`` of a span release's cells, as distances beyond an end of the released range ``[lo, hi]``:
    public, functions of the range (a DP output) and of whether its values are whole (then from 1: a whole cell holds
    the distances ``a .. b - 1``); the last cell is open (``b`` infinite)."""
    w = max(hi - lo, 1.0 if whole else 0.0) or max(abs(hi), 1.0)
    reach = max(SPAN_REACH * w, float(SPAN_CELLS) if whole else 0.0)
    cuts = [float(k) for k in range(1, SPAN_CELLS + 1)] if whole else [0.0, w / 64]
    while cuts[-1] < reach:
        cuts.append(cuts[-1] * 2)
    cuts += [cuts[-1] + SPAN_REACH * w, cuts[-1] + 3 * SPAN_REACH * w, math.inf]
    return np.array([(cuts[i], cuts[i + 1]) for i in range(len(cuts) - 1)], dtype=float)


def _span_index(d: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """The cell of each distance beyond the range (-1: within it, or missing)."""
    out = np.full(len(d), -1, dtype=np.int64)
    for i, (a, b) in enumerate(cells):
        out[(d > 0) & (d >= a) & (d < b)] = i
    return out


#: A range from 0 or above is widened below 0 only to cells whose noisy count stands this many noise deviations above
#: the threshold too (a false rate of about 1e-7 instead of 1e-3): times before the origin are real (KosteckiDillon's
#: headache diary keeps 4 weeks before the treatment, 18% of the rows, 42% of the patients; lmec's UTIdata has every
#: patient's first visit before day 0), and all of them were cut at 0 in every fit, while a false cell would write
#: days before an origin a table has none before.
CROSS_ZERO_SIGMAS = 2.0


def span_widened(values: np.ndarray, groups: np.ndarray, lo: float, hi: float, *, whole: bool, rho: float,
                 rng: np.random.Generator, floor: bool = True, log_scale: bool = False) -> tuple[float, float, dict[str, Any]]:
    """A released range ``[lo, hi]`` widened where patients' first or last values stand beyond it (zCDP ``rho``).

    One Gaussian release of two histograms over :func:`span_cells`: each patient's largest value by its distance
    above ``hi``, and its smallest by its distance below ``lo`` (a patient changes one cell of each: L2 sensitivity
    sqrt(2)). Each end moves to the near edge of the farthest cell whose noisy count clears the threshold for the
    number of cells (false rate 1e-3): some patients reach at least that far (a whole cell one wide: exactly; a doubling
    cell: at least half as far as they do), and a cell's middle wrote days before the first visit (sleepstudy's [7, 10]
    became [-3, 10]). Values within the range
    count nowhere: only where the range left patients' ends out does it move. With ``floor`` (not for days since 1970),
    a range from 0 or above is widened below 0 only on cells that clear :data:`CROSS_ZERO_SIGMAS` more (a 60-patient
    interval table's ``stop`` reached -3,786 on a false cell), and never on a ``log_scale`` (it needs 0 or above)."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    ends = pd.DataFrame({"g": np.asarray(groups)[ok], "v": v[ok]}).groupby("g")["v"].agg(["min", "max"])
    cells = span_cells(lo, hi, whole=whole)
    counts = np.concatenate([np.bincount(i[i >= 0], minlength=len(cells)) for i in (
        _span_index(ends["max"].to_numpy() - hi, cells), _span_index(lo - ends["min"].to_numpy(), cells))]).astype(float)
    sigma = gaussian_sigma(rho, math.sqrt(2.0))
    noisy = counts + rng.normal(0.0, sigma, len(counts))
    found = noisy > _union_threshold(len(counts), FALSE_RATE) * sigma
    reach = []
    for hits in (found[: len(cells)], found[len(cells):]):
        if not hits.any():
            reach.append(0.0)
            continue
        reach.append(float(cells[int(np.flatnonzero(hits)[-1])][0]))
    new_lo, new_hi = lo - reach[1], hi + reach[0]
    if floor and lo >= 0 and new_lo < 0:  # below the origin: only on strong cells, and never on a log scale
        z = _union_threshold(len(counts), FALSE_RATE)
        strong = np.flatnonzero(noisy[len(cells):] > (z + CROSS_ZERO_SIGMAS) * sigma)
        past = [float(cells[i][0]) for i in strong if lo - cells[i][0] < 0]
        new_lo = lo - max(past) if past and not log_scale else 0.0
    if whole:
        new_lo, new_hi = float(math.floor(new_lo)), float(math.ceil(new_hi))
    return new_lo, new_hi, {"sigma": sigma, "cells": 2 * len(cells),
                            "widened": [new_lo, new_hi] if (new_lo, new_hi) != (lo, hi) else None}


__all__ = ["CROSS_ZERO_SIGMAS", "SPAN_CELLS", "SPAN_REACH", "span_cells", "span_widened"]
