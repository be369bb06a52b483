"""Completing a schema's domains before a fit: declared public, read from the data, or estimated with DP.

Differential privacy covers everything taken from the data. For a DP fit, a column whose domain is
public (``public: true`` with bounds or categories) costs nothing. A column whose domain was read
from the data (``public: false``, what ``schema infer`` writes) or is incomplete gets its domain
re-estimated with DP from ``privacy.domain_budget`` of the budget: numbers by staged noisy histograms
(:mod:`medsynth.privacy.locate`: located on powers of two with small whole codes as buckets of their
own, looked at again from a reserve while unlocated, then refined; a small code becomes categorical),
category lists by a thresholded noisy histogram (:func:`~medsynth.privacy.mechanisms.dp_categories`). Whether such a column has missing
values is read from the data too, so it is released with DP as well: the count of missing values is
one more bucket of the same noisy histogram (no extra cost) and the column keeps a "missing" state
only when that count stands ``PRESENCE_SIGMAS`` noise deviations above zero. When it does not, the
few missing values (and, likewise, values of unreleased rare categories) are imputed at random within
the domain before training (see :meth:`~medsynth.tabular.encoding.TableCodec.fill_unmodelled`), so
the model never spends mass on a state that DP could not confirm. A column whose domain is public
keeps the missingness its schema declares. With ``domain_budget: 0`` the fit refuses and says how to
declare the domains public. Non-DP fits read domains from the data freely.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from medsynth.core.errors import DataValidationError, PrivacyBudgetError
from medsynth.io.dataset_infer import year_named
from medsynth.io.schema import OTHER_CATEGORY, boolean_keys, fields_read
from medsynth.privacy.ledger import PrivacyLedger
from medsynth.privacy.locate import (
    FLAG_PARTNER_SIGMAS,
    locate_by_family,
    locate_present,
    refine,
    share_family_scale,
)
from medsynth.privacy.mechanisms import (
    PRESENCE_SIGMAS,
    category_threshold,
    gaussian_sigma,
    noisy_counts,
)
from medsynth.privacy.steps import (
    SENTINEL_SHARE,
    SENTINELS,
    SPARSE_LEFT,
    SPARSE_POINTS,
    candidates,
    on_unit,
)
from medsynth.tabular.config import PrivacyConfig
from medsynth.tabular.domain_numbers import (
    AGE_TOP,
    AGE_TOP_SIGMAS,
    CLIP_NOTE_SIGMAS,
    MAX_LEVELS,
    SPARSE_SHARE,
    OneWay,
    _age_in_years,
    _as_code,
    _code_step,
    _cut_at_top,
    _epoch_days,
    _keys_on,
    _left_out,
    _locate_numbers,
    _maybe_sparse,
    _numbers,
    _numeric_oneway,
    _PresentRows,
    _range_noise,
    _released_points,
    _released_step,
    _retyped_flag,
    _set_bounds,
    _within_calendar,
    _within_lifespan,
    _within_present,
    stage1_share,
    year_top,
)
from medsynth.tabular.domain_words import (
    FAMILY_LIST_SHARE,
    PUBLIC_KEY_COLUMNS,
    PUBLIC_KEYS,
    TEXT_CODE_SHARE,
    FamilyList,
    _canonical,
    _flag_text,
    _sorted_categories,
    _text_beside_code,
    category_families,
    family_counts,
    hand_written,
    number_families,
    other_rows,
    release_family_lists,
    thresholded_release,
    unsure_kinds,
)
from medsynth.tabular.schema import (
    DISCRETE_TYPES,
    NUMERIC_TYPES,
    ColumnSchema,
    TableSchema,
    category_key,
    category_keys,
)
from medsynth.tabular.structure import (
    ROUND_SHARES,
    decide_structure,
    needs_decision,
    sex_named,
)

#: The update of a column about which DP released nothing: every field read from the data is cleared too
#: (bounds, categories, transform, missingness), so the released schema holds nothing of it.
OMITTED: dict[str, Any] = {"omitted": True, "min": None, "max": None, "categories": None, "transform": "none",
                           "missing": False, "resolution": None}


def _native_categories(s: pd.Series, keys: list[str]) -> list[Any]:
    """Map released keys back to the column's own values (first occurrence), in key order."""
    first: dict[str, Any] = {}
    for v in s.dropna().unique():
        first.setdefault(category_key(v), v)
    out = []
    for k in keys:
        v = first[k]
        if isinstance(v, (np.integer,)):
            v = int(v)
        elif isinstance(v, (np.floating, float)):
            v = int(v) if float(v).is_integer() else float(v)
        elif isinstance(v, np.bool_):
            v = bool(v)
        out.append(v)
    return out


def complete_from_data(schema: TableSchema, df: pd.DataFrame) -> TableSchema:
    """Fill missing bounds/categories from the data (non-private fits only), and the unit a number's values are
    recorded in where every value sits on one (:func:`exact_step`)."""
    cols = []
    for col in schema.columns:
        upd: dict[str, Any] = {}
        if col.type in NUMERIC_TYPES and not col.has_domain:
            x = _numbers(col, df[col.name])
            lo = col.bounds()[0] if col.min is not None else float(np.nanmin(x))
            hi = col.bounds()[1] if col.max is not None else float(np.nanmax(x))
            upd = _set_bounds(col, lo, hi)
        if col.type == "continuous" and col.atoms is None and col.name in df.columns:
            atoms = exact_atoms(_numbers(col, df[col.name]))
            if atoms:
                upd["atoms"] = atoms
                upd["read_from_data"] = sorted({*col.read_from_data, "atoms"})
        if col.type in ("continuous", "integer") and col.step is None and col.name in df.columns:
            lo, hi = (upd["min"], upd["max"]) if "min" in upd else col.bounds()
            step = exact_step(_numbers(col, df[col.name]), lo, hi, integer=col.type == "integer")
            if step is not None:
                upd["step"] = step
                upd["read_from_data"] = sorted({*upd.get("read_from_data", col.read_from_data), "step"})
        elif col.type in DISCRETE_TYPES and not col.has_domain:
            keys = sorted({category_key(v) for v in df[col.name].dropna()})
            upd = {"categories": _sorted_categories(_native_categories(df[col.name], keys))}
        if col.type != "identifier" and df[col.name].isna().any() and not col.missing:
            upd["missing"] = True
        cols.append(col.model_copy(update=upd) if upd else col)
    return schema.model_copy(update={"columns": cols})


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


def _without_read_values(schema: TableSchema) -> TableSchema:
    """The schema without the units (``step``) and atoms read from the data (a non-private fit's, listed in
    ``read_from_data``): no declaration, and a DP fit decides them anew (an adversary reused a non-private model's schema,
    and the DP model kept an exact value DP never measured)."""
    read = ("atoms", "step")
    return schema.model_copy(update={"columns": [c.model_copy(update={
        **{f: None for f in read if f in c.read_from_data},
        "read_from_data": [f for f in c.read_from_data if f not in read]})
        if set(read) & set(c.read_from_data) else c for c in schema.columns]})


def reopen_inferred_omissions(schema: TableSchema) -> TableSchema:
    """A DP fit does not take "this column holds no value" from the data: ``schema infer`` marks an entirely
    missing column ``omitted`` (read from the data), and one row with a value would change that, so a DP fit
    makes it a private number again and lets its domain release decide (nothing stands above the noise:
    it is left empty, with a ledger note, as any unlocatable column)."""
    cols = [ColumnSchema(name=c.name, type="continuous", missing=True, target=c.target,
                         read_from_data=fields_read(ColumnSchema(name=c.name, type="continuous")))
            if c.omitted and "omitted" in c.read_from_data and not c.public else c for c in schema.columns]
    return schema.model_copy(update={"columns": cols})


def plan_domain_budget(schema: TableSchema, *, privacy: PrivacyConfig, ledger: PrivacyLedger) -> None:
    """Reserve the delta that DP category lists need (their threshold), before any rho is budgeted."""
    if privacy.private and privacy.domain_budget > 0 and (
            schema.private_domain_columns() or any(needs_decision(c) for c in schema.columns)):
        ledger.reserve_delta(privacy.delta * privacy.domain_budget / 2)


#: Least share of the domain budget spent re-deciding types and formats read from the data ...
STRUCTURE_SHARE = 0.25
#: Share of a located number's stage-2 budget that measures the unit its values are recorded in
#: (:mod:`medsynth.privacy.steps`: a coinsurance rate of 0/25/50/95/100 was written as 114 values).
STEP_SHARE = 0.1
#: ... and most, when a small table needs more for its decisions to stand above the noise.
STRUCTURE_MAX_SHARE = 0.5

#: A number column whose whole-or-not count the noise hid (a small table: 200 ICU rows at epsilon 1, where 3 sigma of
#: that count was 730) is written as whole numbers when its DP range is at least this wide and linear: rounding then
#: moves a value by at most 1% of the range (ages 32-96, pulse 64-128 had been written as 89.6 and 117.3), while a
#: narrow range (pH, creatinine, temperature) keeps its decimals. Post-processing of DP outputs (the range, the
#: undecided mark); the ledger says which columns it made whole.
WHOLE_WIDTH = 50.0
#: ... or on a log scale, from at least this low end (rounding moves a value by at most 3% of it: myeloid's days to
#: relapse, 32-1024 on a log scale at epsilon 1, were written as 146.6 and 90% fractional).
WHOLE_LOG_LOW = 16.0
#: ... or, named like an age in years (:func:`_age_in_years`), at least this wide: an age is recorded in whole years
#: more often than not, and rounding a fractional one moves it by half a year (a data scientist's indo_rct, 481 rows at
#: epsilon 1: ages 16-64 written 43.27, 99% of them fractional, the range under 50 wide).
WHOLE_AGE_WIDTH = 10.0
#: A category held by this share of the rows should survive the DP category release (budget by need).
SURVIVE_SHARE = 0.03
#: Most of a fit's budget (share of rho) that columns not located by stage 1 may share for more looks.
LOCATE_RESERVE = 0.4
#: ... and at most this share of what the model keeps after its 1-way marginals (a larger domain_budget shrinks it).
RESERVE_MODEL_SHARE = 0.75
#: ... and at most this many times an even share of the whole budget (budget / modelled columns): with few
#: number columns among many (indo_rct: 3 of 34), the first cap let a column 95% missing take 27% of the
#: fit's budget in looks and still be left empty.
RESERVE_CAP_TOTAL = 2.0
MECH_NUMBER = ("noisy histogram on powers of two + small whole values -1..15 (+ missing): located, re-measured "
               "while unlocated, then refined linearly (a small code's values become categories)")
#: Most budget a category list gets, in multiples of an even share of the domain budget.
MAX_NEED_FACTOR = 4.0
#: The prediction target's (``target: true``) weight is this many times its type's: a model that lost its
#: outcome (a binary class below the noise) is useless to the user whatever else it keeps.
TARGET_WEIGHT = 4.0
#: ... and, for a categorical target where that is less, what lets a class of ``TARGET_SURVIVE_SHARE`` of the rows
#: through the category threshold (as a category list's need, :data:`SURVIVE_SHARE`), up to ``TARGET_MAX_SHARE`` of
#: the pool: on a small wide table 4 even shares are
#: little (modeldata::ad_data, 333 rows, 132 columns, epsilon 1: the target Class kept only 'Control', its threshold
#: ~138 rows against the 91 of 'Impaired'), and a model that cannot tell the classes apart is useless for the
#: prediction it was marked for. On a table with rows enough (the 1,367-row wide table) 4 shares already do it, and
#: a fixed fifth there cost the other columns' 1-way marginals (2-way TVD 0.389 vs 0.372, 6 fits each).
TARGET_SURVIVE_SHARE = 0.2
TARGET_MAX_SHARE = 0.2


def _allocate(todo: list[ColumnSchema], pool: float, rows: float, z_cat: float, time_weight: float = 1.0) -> dict[str, float]:
    """Split ``pool`` (rho) over the columns by need: an even share each, and category lists (whose
    threshold must let a category of ``SURVIVE_SHARE`` of the rows through) up to ``MAX_NEED_FACTOR``
    times as much, the prediction target ``TARGET_WEIGHT`` times its type's weight (or, for a categorical target where
    that is less, what lets a class of ``TARGET_SURVIVE_SHARE`` of the rows through, up to ``TARGET_MAX_SHARE`` of the
    pool), a number or date named like a time (:func:`~medsynth.io.dataset_infer.time_named`) ``time_weight`` times. Depends only on public
    facts (types, names, the target flag, the noisy row count, the budget)."""
    from medsynth.io.dataset_infer import time_named

    even = pool / len(todo)
    weights = {}
    for col in todo:
        w = 1.0
        if col.type == "categorical":
            # (no delta reserved for categories, z_cat infinite: a column the DP type decision made categorical where
            # none was planned; only public keys can be released, at the most a column may get)
            sigma_need = max(SURVIVE_SHARE * rows - 1.0, 1.0) / (z_cat + 1.5) if math.isfinite(z_cat) else 0.0
            w = float(np.clip(1.0 / (2 * sigma_need**2) / even, 1.0, MAX_NEED_FACTOR)) if sigma_need > 0 else MAX_NEED_FACTOR
        timed = time_weight if col.type in ("continuous", "integer", "datetime") and time_named(col.name) else 1.0
        weights[col.name] = w * (TARGET_WEIGHT if col.target else 1.0) * timed
    # a categorical target's share of the pool by need (its classes through the category threshold), capped; the
    # targets' shares are set together against the other columns' weights (order-free, exact after normalising)
    boost = {c.name: min(1.0 / (2 * (max(TARGET_SURVIVE_SHARE * rows - 1.0, 1.0) / (z_cat + 1.5)) ** 2) / pool,
                         TARGET_MAX_SHARE)
             for c in todo if c.target and c.type == "categorical" and math.isfinite(z_cat) and z_cat > 0}
    rest = sum(w for k, w in weights.items() if k not in boost)
    if boost and rest > 0 and sum(boost.values()) < 1:
        scale = rest / (1 - sum(boost.values()))
        for name, want in boost.items():
            weights[name] = max(weights[name], want * scale)
    total = sum(weights.values())
    return {k: pool * w / total for k, w in weights.items()}


def resolve_domain(
    schema: TableSchema, df: pd.DataFrame, *, privacy: PrivacyConfig, ledger: PrivacyLedger, rng: np.random.Generator,
    rows: float | None = None, oneway_rho: float = 0.0, oneways: dict[str, OneWay] | None = None,
    reserve_rho: float = 0.0, rows_sigma: float | None = None, time_weight: float = 1.0, other: bool = False,
    times: frozenset[str] = frozenset(),
) -> TableSchema:
    """Return the schema with every modelled column's domain complete, recording the cost in ``ledger``.

    For a DP fit, ``public: false`` columns get their type and date format re-decided under DP
    (:func:`~medsynth.tabular.structure.decide_structure`), then their domain estimated with DP; the
    log transform comes from the DP range estimate (post-processing). The budget is split by need
    (:func:`_allocate`): category lists get enough for categories of 3% of the rows to be released; a
    number's share pays its location (stage 1) and its 1-way marginal (stage 2, reused by the model), and
    numbers not located by stage 1 share ``reserve_rho`` for more looks (:func:`_locate_numbers`). The
    ledger records what was spent (a column omitted after its looks pays only for them).
    A column about which nothing can be released at the budget is omitted from the model (the
    synthetic table holds it empty) with a note in the ledger: the fit never refuses for it.

    Args:
        rows: the noisy row count of a DP fit (decision thresholds are shares of it).
        oneway_rho: rho per column that a marginal model would spend on its 1-way marginal; added to the
            domain measurement, whose noisy counts (categories or grid cells, and missing values) the
            model then reuses as that marginal (``oneways`` receives them).
        oneways: filled with the reusable 1-way measurements (when given).
        reserve_rho: rho that number columns not located by their first measurement may share for a
            second one (only what they use is spent and recorded; the rest stays with the model).
        rows_sigma: the noise of ``rows``, a noisy count of ``df``'s rows or of more (the patients, for a child
            table's one row per patient with rows): a number still unlocated after its looks whose present count
            (rows less its noisy missing count) stands out is then located tentatively, and kept where stage 2 alone
            confirms it (:func:`~medsynth.privacy.locate.locate_present`); None never guesses.
        time_weight: the budget weight of a number or date column named like a time, in multiples of its type's (a
            multi-table fit's times carry each patient's order, gaps and follow-up; 1 for a single table).
        other: ``rows`` counts ``df``'s own rows (not a child table's sample): a released category list gets
            :data:`~medsynth.io.schema.OTHER_CATEGORY` where the rows its released counts and missing count leave
            over stand above their noise (:func:`other_rows`), so values of unreleased categories keep their mass
            instead of becoming missing values.
        times: number columns that stay whole numbers over their range where DP finds a small code (a child
            table's visit numbered 1-4, which may order a patient's rows), not categories; their 1-way marginal is
            then the model's own.

    Raises:
        PrivacyBudgetError: for a DP fit with domains read from the data when ``domain_budget`` is 0.
    """
    if not privacy.private:
        ledger.record("domains (bounds, categories, missingness) read from the data", "none (non-private fit)",
                      columns=schema.names)
        return complete_from_data(schema, df)
    schema = _without_read_values(_without_read_formats(schema, ledger))
    needs_struct = [c for c in schema.columns if needs_decision(c)]
    todo = [schema.column(n) for n in schema.private_domain_columns()]
    if not todo and not needs_struct:
        return schema
    needs_domain = [c for c in todo if c.type != "boolean"]  # a boolean's domain {False, True} is known
    if privacy.domain_budget <= 0:
        if needs_domain or needs_struct:
            raise PrivacyBudgetError(
                "a differentially private fit cannot use types or domains read from the data, and domain_budget is 0. "
                f"Columns {[c.name for c in (needs_domain or needs_struct)]} have public: false (or no bounds/categories). "
                "Either declare them public in the schema (set the type, min/max or categories from public knowledge, "
                "e.g. clinical reference ranges, and public: true), or set privacy.domain_budget (e.g. 0.1) to estimate "
                "them with DP from the budget."
            )
        # only booleans: their missingness is not released; the model learns its rate under DP
        return _with_missing(schema, {c.name for c in todo})
    rho_domain = privacy.domain_budget * ledger.rho_budget
    small_ints: set[str] = set()
    unsure_kind: set[str] = set()  # columns whose kind (numbers or text) the noise decided
    undecided: list[str] = []  # numbers whose whole-or-not count the noise hid (their DP range decides)
    if needs_struct:
        # by need: enough for 3 noise deviations to stay under half the (noisy) row count, so "whole numbers or
        # not" is decided rather than left to the noise (ages 18-95 on 400 rows were written with decimals), at least
        # STRUCTURE_SHARE of the domain budget, at most STRUCTURE_MAX_SHARE of what the domains may spend: it and the 1-way
        # marginals the domain release pays for (a column's type matters more than its 1-way marginal's precision;
        # depends only on the noisy count and the schema)
        n_struct = float(rows or len(df))
        need = 1.2 * 18.0 * len(needs_struct) / (ROUND_SHARES[1] * max(n_struct, 1.0) ** 2)
        base = rho_domain + oneway_rho * len(needs_struct)
        rho_struct = STRUCTURE_SHARE * rho_domain
        if need <= STRUCTURE_MAX_SHARE * base:  # more only where more buys the decision (else it is undecided anyway)
            rho_struct = max(rho_struct, need)
        before = len(ledger.entries)
        schema, small_ints, spent_struct, undecided = decide_structure(schema, df, rho=rho_struct, rows=n_struct,
                                                                       rng=rng, ledger=ledger)
        unsure_kind = set(unsure_kinds(ledger.entries[before:]))
        # what the type decision took beyond the domain budget came out of the 1-way marginals of the columns it
        # decided; where many became identifiers (not modelled, no marginal) the pool below keeps a floor, paid from
        # the model's budget (its rho_left), so the release never gets a negative budget (14 text ids on 500 rows)
        rho_domain -= spent_struct
        todo = [schema.column(n) for n in schema.private_domain_columns()]
    if not todo:
        return schema
    n_rows = float(rows or len(df))
    n_cat = sum(c.type == "categorical" for c in todo)
    # small whole-number codes whose type was read from the data may hold text answers beside their numbers (yrbss'
    # hours of TV 1-4 beside "<1", "do not watch" and "5+" in 41% of the rows): each may release a category list
    # (:data:`TEXT_CODE_SHARE`), so their delta is reserved with the category columns' (public facts only)
    text_codes = {c.name for c in todo if c.type == "integer" and c.name in small_ints and "type" in c.read_from_data}
    n_lists = n_cat + len(text_codes)
    delta_cat = ledger.reserved_delta / n_lists if n_lists else 0.0
    z_cat = math.sqrt(2) * float(special.erfinv(1 - 2 * delta_cat)) if n_lists else 0.0
    pool = max(rho_domain + oneway_rho * len(todo), STRUCTURE_SHARE * privacy.domain_budget * ledger.rho_budget)
    share = _allocate(todo, pool, n_rows, z_cat, time_weight)
    updates: dict[str, dict[str, Any]] = {}
    detail: dict[str, Any] = {}
    spent: dict[str, float] = {}
    floors: list[float] = []  # rows a value needs to stand above the noise, per category column and small code
    miss_floors: list[float] = []  # missing values a column written without any may have held (3 noise deviations)
    range_floors: list[float] = []  # values a number's range may leave out before the fit can tell (CLIP_NOTE_SIGMAS)
    texted: dict[str, int] = {}  # number columns whose text cells (noisy count) become missing values
    made_whole: list[str] = []  # undecided numbers written as whole numbers on their DP range's width
    stepped_whole: list[str] = []  # continuous numbers whose DP-decided unit is whole
    clipped: dict[str, float] = {}  # number columns whose range leaves out a share of their values (DP estimate)
    families = category_families(todo)
    family_of = release_family_lists(
        df, families, {stem: FAMILY_LIST_SHARE * sum(share[n] for n in names) for stem, names in families.items()},
        delta_cat, rng) if families else {}
    numbers = [c for c in todo if c.type in NUMERIC_TYPES]
    completed: list[str] = []  # flags of which DP released one value: the other joined
    paired: list[str] = []  # flags of which DP released neither value alone, but both together
    by_family: list[str] = []  # number columns located where their family's average histogram located, confirmed
    retyped: list[str] = []  # decided numbers, released as a flag's categories (text stood above the noise)
    text_coded: list[str] = []  # small codes released as category lists (text stood beside their keys)
    lumped: dict[str, float] = {}  # columns given "(other)": the DP estimate of its share of the rows
    first = {c.name: stage1_share(share[c.name], oneway_rho) for c in numbers}
    present = _PresentRows(len(df), rows, rows_sigma, other, rng)
    located = _locate_numbers(numbers, df, share, first, reserve_rho, rng,
                              total_cap=RESERVE_CAP_TOTAL * ledger.rho_budget / max(len(todo), 1),
                              present=present)
    families_n = number_families(numbers)
    for names in families_n.values():  # a family of codes (questionnaire items) locates its unlocated members first,
        locate_by_family([located[n] for n in names], kinds=("code",))  # and its members share its scale
        share_family_scale([located[n] for n in names])
    tentative = []  # unlocated after every look, but DP says most rows hold a value: the block standing out most
    if rows is not None and rows_sigma is not None:  # (the noisy count of df's rows and its noise; none, no guess)
        for name, loc in located.items():
            if present.short(loc):  # still a code whose keys leave most values out: a number, tentatively
                loc.kind, loc.keys = "unlocated", np.zeros(0, dtype=np.int64)
                loc.family_keys = np.zeros(0, dtype=np.int64)  # (no longer a code: no family scale)
            if loc.kind == "unlocated" and _flag_text(loc) is None:
                miss, sigma_miss = loc.missing_noisy()
                if locate_present(loc, float(rows) - miss, math.hypot(sigma_miss, rows_sigma)):
                    tentative.append(name)
    for names in families_n.values():  # members still unlocated after all that: where their family is
        locate_by_family([located[n] for n in names])

    def release_categories(col: ColumnSchema, s: pd.Series, rho: float, delta: float,
                           family: FamilyList | None = None) -> dict[str, Any] | None:
        """A thresholded noisy histogram of the column's values (flag spellings public keys, no threshold) and its
        missing bucket: the schema update, or None when no category stands above the noise. A member of a
        ``family`` (:func:`release_family_lists`) counts its values on the family's released list instead (keys
        released already, no threshold) with ``rho``, the rest of its share."""
        sigma = gaussian_sigma(rho)
        if family is None:
            floors.append(category_threshold(sigma, delta))
            keys = category_keys(s.dropna()).to_numpy(dtype=str)
            released, noisy_of, noisy_missing, with_partner, grouped = thresholded_release(
                keys, int(s.isna().sum()), rho, delta, rng, allowed=hand_written(col),
                rate_scale=min(1.0, PUBLIC_KEY_COLUMNS / max(n_cat, 1)), sex=sex_named(col.name),
                unsure=col.name in unsure_kind)
            if with_partner:
                completed.append(col.name)
            if grouped:
                paired.append(col.name)
            entry = {"mechanism": "thresholded noisy histogram (+ missing bucket)", "rho": rho, "delta": delta}
        else:
            allowed = hand_written(col)  # (never a list read from the data: it would tell which family values it holds)
            released = [k for k in family.keys if allowed is None or k in allowed or k in PUBLIC_KEYS]
            # (every family value stays the member's: its own noisy counts of a value it does not hold are near zero
            # in its marginal; dropping values whose own count stood under 1 deviation lost a real value in most of
            # 300-row items, 32 of 72 kept all three)
            noisy_of, noisy_missing = family_counts(s, released, sigma, rng)
            entry = {"mechanism": "noisy counts on its family's category list (+ missing bucket)",
                     "rho": rho / (1 - FAMILY_LIST_SHARE), "rho_family_list": rho / (1 - FAMILY_LIST_SHARE) - rho,
                     "family": family.stem, "family_columns": family.size}
        missing = bool(noisy_missing > PRESENCE_SIGMAS * sigma) or (
            family is not None and family.missing and noisy_missing > 0)
        if not missing:
            miss_floors.append(PRESENCE_SIGMAS * sigma)
        detail[col.name] = {**entry, "released": len(released), "missing": missing}
        # a column none of whose values stands out alone is "(other)" where its rows together do (who's country, iso2 and
        # iso3, 219 values of 33 rows each and never missing, were written all blank), else it is left empty
        cats = _sorted_categories([_canonical(k) for k in released])
        upd: dict[str, Any] = {"missing": missing, "categories": cats}
        if released and set(released) <= {"False", "True"}:  # booleans' keys (public): written back as booleans
            cats = [False, True]
            upd = {"type": "boolean", "missing": missing, "categories": cats}
        counts = [noisy_of[category_key(c)] for c in cats]
        sigmas = [sigma] * len(counts)
        # (a column the noise decided was text, numbers and text within 3 deviations, is no lump of rare values where
        # none stood out: mgus1's age and creat, 223 rows at epsilon 1, came out '(other)' in every row; left empty)
        rest = other_rows(float(rows), rows_sigma, counts, noisy_missing, sigma) if (
            other and rows is not None and rows_sigma is not None and upd.get("type") != "boolean"
            and OTHER_CATEGORY not in cats and (released or col.name not in unsure_kind)) else None  # (a table that holds
        # "(other)" itself: already the lump)
        if rest is None and not released:
            return None
        if rest is not None:
            cats = [*cats, OTHER_CATEGORY]
            upd["categories"] = cats
            counts.append(rest[0])
            sigmas.append(rest[1])
            lumped[col.name] = rest[0] / max(float(rows), 1.0)  # type: ignore[arg-type]
            detail[col.name]["other"] = True
        if oneways is not None:
            counts += [noisy_missing] if missing else []
            sigmas += [sigma] if missing else []
            oneways[col.name] = OneWay(np.array(counts, dtype=float), np.array(sigmas, dtype=float))
        return upd

    for col in todo:
        s = df[col.name]
        rho_each = share[col.name]
        spent[col.name] = rho_each
        if col.type in NUMERIC_TYPES:
            loc = located[col.name]
            if col.name in text_codes and loc.kind == "code" and _text_beside_code(loc):
                # DP decided numbers, a small code, but text stands beside its keys in the same histogram: the text
                # answers would be written as missing (yrbss: 41% of hours of TV). The rest of its share releases the
                # column's category list, numbers and text alike.
                rest = rho_each * (1 - first[col.name])
                spent[col.name] = loc.rho + rest
                as_cat = col.model_copy(update={"type": "categorical", "min": None, "max": None, "categories": None,
                                                "transform": "none", "step": None, "atoms": None})
                upd = release_categories(as_cat, s, rest, delta_cat)
                if upd is None:
                    updates[col.name] = dict(OMITTED)
                    ledger.notes.append(f"column '{col.name}': its text answers stood out beside its numbers, but no "
                                        "value is frequent enough to release with DP at this budget; the synthetic "
                                        "column is empty (declare its categories public, or give more budget)")
                    continue
                detail[col.name] = {**detail.get(col.name, {}), "mechanism": MECH_NUMBER + "; text stood above the "
                                    "noise beside its keys: released as a category list", "rho": spent[col.name]}
                updates[col.name] = {"type": "categorical", "min": None, "max": None, "transform": "none",
                                     "step": None, "atoms": None, **upd}
                text_coded.append(col.name)
                continue
            if loc.kind == "unlocated" and _flag_text(loc) is not None and "type" in col.read_from_data:
                # DP decided numbers, but no number stands above the noise and a flag's text does (the same
                # histogram): a yes/no column of a small, wide table whose type the noise got wrong. The rest of its
                # share measures the flag's two values (public keys, no delta). A type written by hand is kept.
                rest = rho_each * (1 - first[col.name])
                got = _retyped_flag(col, s, loc, rest, rng)
                if got is False:
                    spent[col.name] = loc.rho + rest
                    updates[col.name] = dict(OMITTED)
                    ledger.notes.append(
                        f"column '{col.name}': no value range stands above the DP noise at this budget, and the flag text "
                        "its first measurement showed was not confirmed by a second; the synthetic column is empty "
                        "(declare its bounds public, or give more budget)")
                    detail[col.name] = {"mechanism": MECH_NUMBER + "; a flag pair's text bucket stood above the noise but "
                                        "its two values' measurement did not confirm it", "rho": spent[col.name],
                                        "rounds": loc.rounds, "omitted": True}
                    continue
                if got is not None:
                    spent[col.name] = loc.rho + rest
                    updates[col.name], ow = got
                    if oneways is not None:
                        oneways[col.name] = ow
                    detail[col.name] = {"mechanism": MECH_NUMBER + "; a flag pair's text bucket stood above the "
                                        "noise: its two values and missing ones measured", "rho": spent[col.name],
                                        "categories": updates[col.name]["categories"]}
                    retyped.append(col.name)
                    continue
            rest = rho_each * (1 - first[col.name])
            rho_step = STEP_SHARE * rest if (loc.kind == "number" and col.type in ("integer", "continuous")
                                             and col.step is None and col.name not in times) else 0.0
            try:
                res = refine(loc, rest - rho_step, rng, time=col.name in times)
            except PrivacyBudgetError as err:
                spent[col.name] = getattr(err, "rho_spent", loc.rho)  # stage 2 was spent where it refused a tentative block
                updates[col.name] = dict(OMITTED)
                ledger.notes.append(f"column '{col.name}': no value range stands above the DP noise at this budget "
                                    f"({loc.rounds} measurement(s) to locate it, rho {spent[col.name]:.3g} in all); the synthetic column is "
                                    "empty (declare its bounds public, or give more budget)")
                detail[col.name] = {"mechanism": MECH_NUMBER, "rho": spent[col.name], "rounds": loc.rounds, "omitted": True}
                continue
            spent[col.name] = res.rho
            if not res.missing and res.sigma_missing > 0:
                miss_floors.append(PRESENCE_SIGMAS * float(res.sigma_missing))
            other_text = float(loc.text_noisy[-1]) if loc.text_noisy.size else 0.0  # (stage 1's bucket of other text)
            if rows and other_text > TEXT_NOTE_SIGMAS * loc.sigma and other_text >= TEXT_NOTE_SHARE * rows:
                texted[col.name] = round(other_text)
            left_out = _left_out(res, rows, rows_sigma) if res.codes is None or col.name not in times else None
            if left_out is not None and not present.own:  # (rows count the patients, an upper bound of a child table's
                # one row per patient with rows: nothing is said below it, and above it the rows are counted; a data
                # scientist's rwm visits wrote doctor visits 0-121 as a code 0-11, 6% of the values out, and said nothing)
                left_out = _left_out(res, *present.counted())
            if left_out is not None:
                clipped[col.name] = left_out
            noise = _range_noise(res, rows, rows_sigma) if present.own and res.codes is None else None
            if noise is not None:  # what a range may leave out unseen (a data scientist: ais's weights cut to 64-80, half
                # the values out, Pima's ages to 16-29, and the fit said nothing: the note cannot tell under this noise)
                range_floors.append(CLIP_NOTE_SIGMAS * noise[1])
            if loc.by_family:
                by_family.append(col.name)
            if col.name in tentative:
                ledger.notes.append(f"column '{col.name}': no block of its values stood above the noise alone; located where "
                                    "they stand out most, as most rows hold a value, and confirmed by a second measurement "
                                    "(a coarse range)")
            if res.codes is not None and col.name in times and len(res.codes) >= 2:  # a time: whole numbers
                upd = {"type": "integer", "categories": None, "min": int(res.codes[0]), "max": int(res.codes[-1]),
                       "missing": res.missing, "transform": "none"}
                if len(res.codes) < int(res.codes[-1]) - int(res.codes[0]) + 1:  # a schedule (weeks 0, 2, 4, 6, 11):
                    upd["atoms"] = [int(k) for k in res.codes]  # its released keys are the times rows are written at
                detail[col.name] = {"mechanism": MECH_NUMBER, "rho": res.rho, "rounds": loc.rounds,
                                    "min": upd["min"], "max": upd["max"], "missing": res.missing}
                updates[col.name] = upd
                continue
            if res.codes is not None:  # a small code: its values are categories
                floors.append(PRESENCE_SIGMAS * float(res.sigma))  # (a value beside the run's; a lone one needs more)
                res, dropped = _within_calendar(col.name, res)
                if year_named(col.name) and res.codes is not None and res.counts is not None:  # no year after the fit's
                    # where its count is within the noise (as a range's cells: a reviewer)
                    late = [k >= year_top() and float(c) <= AGE_TOP_SIGMAS * float(res.sigma)
                            for k, c in zip(res.codes, res.counts, strict=True)]
                    keep = [i for i, x in enumerate(late) if not x]
                    if keep and len(keep) < len(res.codes):
                        ledger.notes.append(f"column '{col.name}': code(s) {[int(k) for k, x in zip(res.codes, late, strict=True) if x]} "
                                            "after the year of the fit left out (a calendar year by its name; within the noise)")
                        res = replace(res, codes=tuple(res.codes[i] for i in keep),
                                      counts=np.asarray(res.counts, dtype=float)[keep])
                if dropped:
                    ledger.notes.append(f"column '{col.name}': code(s) {dropped} left out: outside the values its name "
                                        "allows (a calendar's), lifted by the noise")
                # the keys on a unit only: a declared one (public), or one their released counts say
                res = _keys_on(res, col.step if col.step is not None else _code_step(res))
                updates[col.name], detail[col.name], ow = _as_code(res, MECH_NUMBER, res.rho, loc.rounds)
                if oneways is not None:
                    oneways[col.name] = ow
                continue
            res, cut = _within_lifespan(col.name, res)
            if cut:
                ledger.notes.append(f"column '{col.name}': its DP range stops at {AGE_TOP:g} (an age in years by its "
                                    "name; no mass above it stood out of the noise)")
            res, cut = _within_present(col.name, res)
            if cut:
                ledger.notes.append(f"column '{col.name}': its DP range stops at the year of the fit, {res.high - 1:g} (a "
                                    "calendar year by its name; no mass above it stood out of the noise)")
            if col.type == "datetime":  # dates likewise stop at the end of the fit's year (epa2021's release dates of
                # 2020-2021 were written to 2024-2026 in 3 fits of 3 at epsilon 1: a data scientist)
                res, cut = _cut_at_top(res, _epoch_days(year_top()))
                if cut:
                    ledger.notes.append(f"column '{col.name}': its DP date range stops at the end of the fit's year, "
                                        f"{int(year_top()) - 1} (no mass after it stood out of the noise)")
            if (col.name in undecided and col.type == "continuous" and (not res.log_scale or res.low >= WHOLE_LOG_LOW)
                    and res.high - res.low >= (WHOLE_AGE_WIDTH if _age_in_years(col.name) else WHOLE_WIDTH)):
                col = col.model_copy(update={"type": "integer"})  # see WHOLE_WIDTH (post-processing of DP outputs)
                made_whole.append(col.name)
            step, atoms, atom_counts = None, [], {}
            if rho_step:
                whole = col.type == "integer" or col.name in made_whole
                step, atoms = _released_step(s, res.low, res.high, whole, rho_step, rng, res, atom_counts)
                spent[col.name] = res.rho + rho_step
                if (step is not None and not whole and float(step).is_integer() and not res.log_scale
                        and "type" in col.read_from_data):  # (a type written by hand stays)
                    # the values sit on a unit of whole numbers: whole numbers (a 0/1 flag whose whole-or-not count
                    # the noise hid was written with 230 fractional values up to 1.997); post-processing of DP outputs
                    col = col.model_copy(update={"type": "integer"})
                    stepped_whole.append(col.name)
            upd = _set_bounds(col, res.low, res.high, half_open=True)
            upd["missing"] = res.missing
            if col.name in made_whole or col.name in stepped_whole:
                upd["type"] = "integer"
            upd["transform"] = "log" if res.log_scale and col.type != "datetime" else "none"
            declared = col.step if col.step is not None and float(col.step).is_integer() else None
            unit = int(step if step is not None else declared or 1) if col.type == "integer" else 1
            lowest = -(-int(upd["min"]) // unit) * unit if col.type == "integer" else 0
            n_points = (int(upd["max"]) - lowest) // unit + 1 if col.type == "integer" else 0
            points = list(range(lowest, int(upd["max"]) + 1, unit)) if 0 < n_points <= MAX_LEVELS else []
            sparse = None
            if (col.name not in times and col.type == "integer" and MAX_LEVELS < n_points <= SPARSE_POINTS
                    and not res.log_scale and res.range_count is not None and _maybe_sparse(res, unit)):
                rho_sparse = SPARSE_SHARE * rest
                spent[col.name] += rho_sparse
                off_grid = {a: c for a, c in atom_counts.items() if (a - lowest) % unit}  # (kept atoms off the points)
                sparse = _released_points(s, lowest, int(upd["max"]), unit, rho_sparse, res, rng, off_grid)
            if sparse is not None:  # a code recorded as large whole numbers: its values are categories
                cats, counts, sigma_p, needs = sparse
                if off_grid:  # (a kept atom off the points: a category of its own, its count the step histogram's)
                    pairs = sorted([*zip(cats, counts), *((int(a), c) for a, c in off_grid.items())])
                    cats, counts = [k for k, _ in pairs], np.array([c for _, c in pairs], dtype=float)
                floors.append(needs)
                ledger.notes.append(f"column '{col.name}': its values counted one by one on its DP range stand out as "
                                    f"{len(cats)} value(s) (a code); the values off them, at most about "
                                    f"{SPARSE_LEFT:.0%} of its values by a noisy count, are written as missing")
                code = replace(res, codes=tuple(cats), counts=counts, sigma=sigma_p, edges=None, count_sigmas=None)
                updates[col.name], detail[col.name], ow = _as_code(
                    code, MECH_NUMBER + "; its values counted one by one on its range (a code)", spent[col.name], loc.rounds)
                if oneways is not None:
                    oneways[col.name] = ow
                continue
            if (col.name not in times and col.type == "integer" and points
                    and (col.name in small_ints or col.name in stepped_whole or unit > 1)):
                upd = {"type": "categorical", "categories": points, "min": None, "max": None, "missing": res.missing,
                       "transform": "none"}  # (a few whole values: categories, as a small code's)
            else:
                if step is not None:
                    upd["step"] = step
                if atoms:  # (with any declared by hand: public)
                    upd["atoms"] = sorted({*atoms, *(col.atoms or [])})
            detail[col.name] = {"mechanism": MECH_NUMBER + ("; its unit from a noisy count of the values on each "
                                                            "candidate unit, and the atoms of its fullest cells from "
                                                            "a noisy count of their roundest values" if rho_step else ""),
                                "rho": spent[col.name], "rounds": loc.rounds,
                                **({"rho_step": rho_step} if rho_step and spent[col.name] > res.rho else {}),
                                **{k: v for k, v in upd.items() if v is not None}}
            if oneways is not None:
                ow = _numeric_oneway({**col.model_dump(), **upd}, res)
                if ow is not None:
                    oneways[col.name] = ow
        else:
            sigma = gaussian_sigma(rho_each)
            n_missing = int(s.isna().sum())
            if col.type == "boolean":
                cats = col.categories or [False, True]
                keys = boolean_keys(s.dropna())  # 'true'/'FALSE' text too: the type decision counted it as boolean
                counts = np.array([float((keys == category_key(c)).sum()) for c in cats] + [float(n_missing)])
                noisy = noisy_counts(counts, sigma, rng)
                missing = bool(noisy[-1] > PRESENCE_SIGMAS * sigma)
                if not missing:
                    miss_floors.append(PRESENCE_SIGMAS * sigma)
                upd = {"missing": missing, "categories": cats}
                if oneways is not None:
                    kept = noisy if missing else noisy[:-1]
                    oneways[col.name] = OneWay(kept, np.full(kept.size, sigma))
                detail[col.name] = {"mechanism": "noisy counts of the two values and of missing values", "rho": rho_each,
                                    "missing": missing}
            elif (fam := family_of.get(col.name)) is not None and not fam.keys:
                spent[col.name] = FAMILY_LIST_SHARE * rho_each  # (the rest of its share stays with the model)
                updates[col.name] = dict(OMITTED)
                detail[col.name] = {"mechanism": "its family's pooled category list", "rho": spent[col.name],
                                    "family": fam.stem, "family_columns": fam.size, "released": 0}
                ledger.notes.append(
                    f"column '{col.name}': no category of its family ('{fam.stem}', {fam.size} columns, released "
                    "together) is frequent enough to release with DP at this budget; the synthetic column is empty "
                    "(declare its categories public, or give more budget)")
                continue
            else:
                own = rho_each * (1 - FAMILY_LIST_SHARE) if fam is not None else rho_each
                upd = release_categories(col, s, own, delta_cat, fam)
                if upd is None:
                    updates[col.name] = dict(OMITTED)
                    ledger.notes.append(
                        f"column '{col.name}': no category is frequent enough to release with DP at this budget; the "
                        "synthetic column is empty (declare its categories public, or give more budget)")
                    continue
        updates[col.name] = upd
    if families:
        listed = ", ".join(f"'{stem}' ({len(names)})" for stem, names in families.items())
        ledger.notes.append(
            f"column families {listed}: category columns whose names differ only in their numbers had one category "
            f"list released for the family (a histogram of all their values, noise scaled to the family's size; "
            f"{FAMILY_LIST_SHARE:.0%} of their budget), then each column's counts on that list")
    if by_family:
        ledger.notes.append(
            f"columns {by_family}: no value range stood above the noise in their own histogram; located where the average "
            "histogram of their family (number columns whose names differ only in their numbers) did, and confirmed by "
            "a second measurement of their own values")
    if text_coded:
        ledger.notes.append(
            f"columns {text_coded}: DP decided that they hold a small code of whole numbers, but text stood above the "
            f"noise beside them (at least {TEXT_CODE_SHARE:.0%} of the values): released as category lists, numbers "
            "and text alike, so that text answers are not written as missing")
    if retyped:
        ledger.notes.append(
            f"columns {retyped}: DP decided that they hold numbers, but their domain histogram found no number above "
            "the noise and text above it; their flag values (no/yes, n/y, false/true) were released as categories")
    if paired:
        ledger.notes.append(
            f"columns {paired}: neither value of a flag (no/yes, n/y, false/true, 0/1), or of a group of common words "
            "(female/male, negative/positive, race, marital status...), stood above the noise alone but the group "
            "together did, or one word did and the other words of its group stood 1 noise deviation above zero "
            "(public keys counted in the same release): kept")
    if lumped:
        shares = ", ".join(f"'{k}' ({min(v, 1.0):.0%})" for k, v in lumped.items())  # (noisy: 111% was written)
        ledger.notes.append(
            f"columns {shares}: values of categories too rare to release with DP hold rows (a DP estimate of their share, "
            f"from the released counts); they are written as the category '{OTHER_CATEGORY}' instead of missing values")
    if completed:
        ledger.notes.append(
            f"columns {completed}: DP released one value of a flag (no/yes, n/y, false/true, 0/1) and the other, "
            f"a public key counted in the same release, stood {FLAG_PARTNER_SIGMAS:g} noise deviation above zero: both kept")
    if texted and rows:
        listed = ", ".join(f"'{c}' (about {n} rows, {_share(n / rows)})" for c, n in texted.items())
        ledger.notes.append(
            f"columns {listed}: DP typed them numbers, and their cells that are no numbers (text such as '<1', '5+', "
            "'do not watch') are written as missing values; declare such a column categorical in the schema (type: "
            "categorical, public: true, with its categories) to keep its text answers")
    if clipped:
        listed = ", ".join(f"'{c}' (at least about {_share(v)})" for c, v in clipped.items())
        ledger.notes.append(
            f"columns {listed}: their DP ranges leave out that share of their values or more (a DP estimate's lower bound, "
            "the noisy rows less the noisy counts of missing values and of the range; low where values lie past the "
            "powers of two measured); the synthetic values stay inside the range, so those real values have no "
            "counterpart: at this budget the noise hides a thin tail; declare their bounds public in the schema (a data dictionary's ranges cost no budget) or give "
            "a larger epsilon")
    if made_whole:
        ledger.notes.append(
            f"columns {made_whole}: DP could not confirm whether they hold whole numbers; as their DP ranges span "
            f"{WHOLE_WIDTH:.0f} units or more ({WHOLE_AGE_WIDTH:.0f} for an age in years), they are written as whole numbers "
            f"(rounding moves a value by at most 1% of its range, or 3% of it on a log scale from {WHOLE_LOG_LOW:g} up, or "
            "half a year of an age). To keep decimals, declare the type: take 'type' out of the column's read_from_data (type: "
            "continuous) or set public: true with public bounds")
    miss_floor = [round(min(miss_floors)), round(max(miss_floors))] if miss_floors and rows else None
    range_floor = [round(min(range_floors)), round(max(range_floors))] if range_floors and rows else None
    if miss_floor:
        ledger.notes.append(
            f"missing values: at this budget a column needs about {_span(*miss_floor)} of them "
            f"({_span(_share(miss_floor[0] / rows), _share(miss_floor[1] / rows))} of about {round(rows)} rows) for DP to confirm "
            "that it has any; a column written without missing values may have held up to that many (declare "
            "missing: true in the schema where the data dictionary says a value may be absent)")
    floor = None
    if floors and rows:
        floor = [round(min(floors)), round(max(floors))]
        held = "rows" if present.own else "patients' rows (a child table's values are counted on one random row of each patient)"
        ledger.notes.append(
            f"category lists: at this budget a category (or a small code's value) needs about {_span(*floor)} {held} "
            f"({_span(_share(floor[0] / rows), _share(floor[1] / rows))} of about {round(rows)}) to stand above the noise; rarer "
            f"values are left out of the synthetic columns (written '{OTHER_CATEGORY}' where their rows together stand out)")
    ledger.record(
        "domains of columns read from the data (ranges, category lists, whether values are missing)",
        "Gaussian noisy histograms (zCDP), budget split by need; category lists thresholded (extra delta)",
        rho=sum(spent.values()) + present.rho, delta=delta_cat * n_lists if n_lists else None, columns=[c.name for c in todo],
        per_column=detail, planned_rho=pool, locate_reserve_rho=reserve_rho,
        **({"rows_with_values": {"mechanism": "Gaussian noisy count of the rows measured (a code's keys, or a range's values, were short of "
                                              "the patients)", "rho": present.rho}} if present.rho else {}),
        reused_as_one_way_marginals=sorted(oneways) if oneways else [],
        **({"category_floor_rows": floor} if floor else {}),
        **({"missing_floor_rows": miss_floor} if miss_floor else {}),
        **({"range_floor_rows": range_floor} if range_floor else {}),
        **({"rows_noisy": round(float(rows))} if floor or miss_floor or range_floor else {}),
        **({"text_as_missing": texted} if texted else {}),
        **({"range_leaves_out": clipped} if clipped else {}),
        **({"whole_by_range": made_whole} if made_whole else {}),
    )
    cols = []
    for c in schema.columns:
        if c.name not in updates:
            cols.append(c)
            continue
        data = c.model_dump()
        data.update(updates[c.name])
        cols.append(ColumnSchema.model_validate(data))
    out = schema.model_copy(update={"columns": cols})
    if oneways is not None:  # a column that changed kind or was omitted cannot reuse its counts
        for name in list(oneways):
            c = out.column(name)
            if c.omitted or (c.type in DISCRETE_TYPES) != (oneways[name].edges is None):
                oneways.pop(name)
    _check_complete(out)
    return out


#: A number column whose cells that are no numbers (stage 1's noisy count of other text) reach this share of the rows
#: is named in the ledger and the fit's warning: yrbss's hours of TV, '<1', '5+' and 'do not watch' beside 1-4 (42% of
#: 13,583 rows), were written as missing with no word of it.
TEXT_NOTE_SHARE = 0.01
#: ... and stands this many deviations above zero (at 3 a clean 0/1 column of a 45-column table was said to write
#: 7% of its rows' text as missing: one column in twenty at that noise; yrbss's 41% stand dozens of deviations out).
TEXT_NOTE_SIGMAS = 4.0


def _share(x: float) -> str:
    return f"{x:.0%}" if x >= 0.1 else f"{x:.1%}"


def _span(a: object, b: object) -> str:
    """``a-b``, or ``a`` alone where the two read alike (a ledger said 'needs about 59-59 (42%-42%)')."""
    return f"{a}" if f"{a}" == f"{b}" else f"{a}-{b}"


def _without_read_formats(schema: TableSchema, ledger: PrivacyLedger) -> TableSchema:
    """A DP fit's datetimes whose type is declared (not re-decided under DP) but whose ``format`` or ``resolution``
    ``schema infer`` read from the data: those fields are left out (values are read one by one and written as ISO
    dates, to the second), with a ledger note; one row can change what was read."""
    cols, dropped = [], []
    for c in schema.columns:
        read = {k for k in ("format", "resolution") if k in c.read_from_data and getattr(c, k) is not None}
        if c.type == "datetime" and not c.public and not c.omitted and not needs_decision(c) and read:
            cols.append(c.model_copy(update=dict.fromkeys(read)))
            dropped.append(c.name)
        else:
            cols.append(c)
    if not dropped:
        return schema
    ledger.notes.append(
        f"columns {dropped}: their type is declared, but their date format or resolution was read from the data, which a "
        "DP fit does not use: values are read one by one and written as ISO dates to the second (take format and "
        "resolution out of read_from_data, or set public: true, to declare them)")
    return schema.model_copy(update={"columns": cols})


def _with_missing(schema: TableSchema, names: set[str]) -> TableSchema:
    cols = [c.model_copy(update={"missing": True, "categories": c.categories or [False, True]}) if c.name in names else c
            for c in schema.columns]
    return schema.model_copy(update={"columns": cols})


def _check_complete(schema: TableSchema) -> None:
    bad = [c.name for c in schema.modelled if not c.has_domain]
    if bad:
        raise DataValidationError([f"column '{b}' still has no domain" for b in bad])


__all__ = ["OneWay", "complete_from_data", "plan_domain_budget", "resolve_domain"]
