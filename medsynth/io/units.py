"""Units and values a number column is recorded in, read without noise: the public candidate units (1, 2, 2.5 and 5
times a power of ten within a range), the codes hospital exports write for "unknown", and what a non-private fit (or
``schema infer``, for the data's holder) reads from the data: the unit every value sits on and the values held often.
A DP fit decides both with noise instead (:mod:`medsynth.privacy.steps`, which builds on the candidates here)."""

from __future__ import annotations

import math

import numpy as np

#: Mantissas of the candidate units (times a power of ten).
MANTISSAS = (1.0, 2.0, 2.5, 5.0)
#: The finest candidate is the range's width over this.
FINEST = 1e5
#: The coarsest candidate is the range's width over this: a unit leaving three points (a 0/1 flag on the range
#: [0, 2) a DP fit found for it) is kept only where the values sit on them.
COARSEST = 2.0


def candidates(low: float, high: float, *, integer: bool) -> np.ndarray:
    """The public candidate units for a column whose (DP or declared) range is [low, high], finest first."""
    width = float(high) - float(low)
    if not (math.isfinite(width) and width > 0):
        return np.zeros(0)
    # (finer than a thousand float steps of the range's largest magnitude, every value would look on it)
    lo = max(width / FINEST, 1e3 * float(np.spacing(max(abs(float(low)), abs(float(high)), 1.0))))
    hi = width / COARSEST
    if integer:
        lo = max(lo, 1.0)
    if lo > hi:
        return np.zeros(0)
    out = [float(f"{m}e{k}") for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
           for m in MANTISSAS]
    # an integer column's units are whole (2.5 would write 7.5 and round it)
    return np.array(sorted(c for c in out if lo <= c <= hi and (not integer or c.is_integer())))


def on_unit(values: np.ndarray, unit: float) -> np.ndarray:
    """Whether each value is a whole multiple of ``unit``, to an absolute tolerance (a relative one took every
    YYYYMMDD date as a multiple of 25, and epoch milliseconds of 2.5e6)."""
    off = np.abs(values - np.round(values / unit) * unit)
    return off <= 1e-9 * unit + 4 * np.spacing(np.abs(values))


#: Values a hospital export writes for "missing", "unknown" or "not done" (99, 999, -99, -1, 888 ...): a range's cell
#: holding one of them is tested for it as an atom too (the roundest value of its cell, 1000 for a 999 in [896, 1024),
#: is not it). A 999 in 6% of 2,000 rows was written as values drawn across 512-1023, none of them 999, by dp-mst at
#: epsilon 1. Public: a fixed list, as the candidate units are.
SENTINELS = tuple(sorted({float(s * v) for s in (1, -1) for k in range(2, 7) for v in
                          (10 ** k - 1, 10 ** k - 2, 8 * (10 ** k - 1) // 9, 7 * (10 ** k - 1) // 9)}
                         | {-1.0, -7.0, -8.0, -9.0}))
#: A code of :data:`SENTINELS` is a value held often where it holds this share of the values (a DP fit: of a range's
#: noisy count, in its fullest cells).
SENTINEL_SHARE = 0.01


#: A non-private fit's atoms (:func:`exact_atoms`): at most this many values, each held by this share of the values
#: (exact counts: no noise to stand above, unlike a DP fit's ``ATOM_CELLS`` and ``ATOM_SHARE``).
EXACT_ATOMS = 8
EXACT_ATOM_SHARE = 0.05


def exact_atoms(x: np.ndarray) -> list[float]:
    """The values a non-private fit writes as themselves (``atoms``) in a continuous column: at most
    ``EXACT_ATOMS`` values each held by ``EXACT_ATOM_SHARE`` of the present values, the commonest first, and the
    :data:`SENTINELS` held by ``SENTINEL_SHARE`` and ten times a typical value's count. RandHIE's 23% zero spending came
    out as values drawn across the model's lowest cell (0.003-0.15): no synthetic row spent nothing, and a flag of any
    spending disagreed with the amount in a quarter of the rows; DoctorContacts' log coinsurance of 4 values (41%, 32%,
    20%, 7%) was written as hundreds (data scientists)."""
    v = np.asarray(x, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return []
    vals, counts = np.unique(v, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:EXACT_ATOMS]
    out = {float(vals[i]) for i in order if counts[i] >= EXACT_ATOM_SHARE * v.size}
    typical = float(np.median(counts))  # (a sentinel stands out: 1 value in 100 distinct ones holds 1% too)
    out |= {float(a) for a, c in zip(vals, counts, strict=True)
            if a in SENTINELS and c >= SENTINEL_SHARE * v.size and c >= 10 * typical}
    return sorted(out)


def exact_step(x: np.ndarray, low: float, high: float, *, integer: bool) -> float | None:
    """The coarsest public candidate unit (:func:`~medsynth.privacy.steps.candidates`) every finite value of ``x`` is a
    whole multiple of, or None (an integer's unit of 1 is none): a non-private fit writes its numbers in it. They were
    written unrounded: day counts recorded as 748.0 and 6777.5 came out 12226.187793 (past the follow-up of 12,226
    they ended), a first time of 0 as 2.5e-05, a bmi of two decimals with eight, Karnofsky scores of tens as 89.48 (data
    scientists). A copy of a real value stays exact."""
    v = np.asarray(x, dtype=float)
    v = v[np.isfinite(v) & (v != 0)]
    if v.size < 2 or not (math.isfinite(low) and math.isfinite(high)):
        return None
    for g in candidates(low, high, integer=integer)[::-1]:
        if integer and g <= 1.0:
            return None
        if bool(on_unit(v, float(g)).all()):
            return float(g)
    return None


__all__ = ["COARSEST", "EXACT_ATOMS", "EXACT_ATOM_SHARE", "FINEST", "MANTISSAS", "SENTINELS", "SENTINEL_SHARE",
           "candidates", "exact_atoms", "exact_step", "on_unit"]
