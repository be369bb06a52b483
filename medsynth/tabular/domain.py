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
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from medsynth.core.errors import DataValidationError, PrivacyBudgetError
from medsynth.io.schema import bool_cells, fields_read
from medsynth.io.units import exact_atoms, exact_step
from medsynth.privacy.ledger import PrivacyLedger
from medsynth.privacy.locate import (
    PRESENT_SIGMAS,
    Location,
    family_fits,
    locate_by_family,
    locate_present,
    share_family_scale,
)
from medsynth.privacy.steps import (
    POINT_ATOM_TOTAL,
)
from medsynth.tabular.config import PrivacyConfig
from medsynth.tabular.domain_locate import _locate_numbers, _PresentRows, stage1_share
from medsynth.tabular.domain_numbers import OneWay, _numbers, _set_bounds
from medsynth.tabular.domain_release import ColumnRelease
from medsynth.tabular.domain_words import (
    FAMILY_LIST_SHARE,
    _flag_text,
    _sorted_categories,
    category_families,
    number_families,
    release_family_lists,
    unsure_kinds,
)
from medsynth.tabular.schema import (
    DISCRETE_TYPES,
    NUMERIC_TYPES,
    ColumnSchema,
    TableSchema,
    category_key,
)
from medsynth.tabular.structure import (
    DEEP_NOISE_SHARES,
    ROUND_SHARES,
    decide_structure,
    needs_decision,
)


def _native_categories(s: pd.Series, keys: list[str]) -> list[Any]:
    """Map released keys back to the column's own values (first occurrence), in key order."""
    first: dict[str, Any] = {}
    present = s.dropna()
    cells = bool_cells(present)  # (booleans apart from the 1s and 0s they hash as)
    parts = [present] if cells is None else [present[cells].map(bool), present[~cells]]
    for part in parts:
        for v in part.unique():
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
#: ... and most, when a small table needs more for its decisions to stand above the noise.
STRUCTURE_MAX_SHARE = 0.5
#: Deviations of round 1's noise (numbers or text) that a complete column's count stands from zero, where the budget
#: allows (:data:`STRUCTURE_MAX_SHARE`): a wrong kind is then a 0.13% chance a column (2.5% at one deviation of half the
#: rows, as 252 rows at epsilon 1 had; 5 of 120 columns in 6 fits of such a table, none now). At 4 deviations the
#: domains' smaller share lost a flag's minority value in 1 more of 16 (test_flags_keep_their_minority_value_...): the
#: type decision and the domains share one budget, and 3 deviations is this code's bar for a decision elsewhere.
KIND_SIGMAS = 3.0
#: ... taking at most this share of the domain budget: survival's cgd (173 patients, 15 columns) took 93% of it for
#: round 1 and lost its sex and inherit categories in the seeded releases of the equivalence set, while the columns
#: whose kind it mended stayed empty at that size.
KIND_MAX_SHARE = 0.5

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
        # numbers or text (round 1) at least KIND_SIGMAS deviations from a complete column: a wrong kind leaves the
        # column empty (numbers read as a list of categories, none frequent enough to release; text given a range), so it
        # is worth more than the 1-way marginals' precision it takes (mosaicData's HELPrct and medicaldata's blood_storage,
        # 252-362 rows at epsilon 1: one deviation of 128, half the rows, and age, PSA, sex in 1-2 columns a fit emptied)
        need_kind = KIND_SIGMAS**2 * len(needs_struct) / (2 * DEEP_NOISE_SHARES[0] * max(n_struct, 1.0) ** 2)  # (round
        # 1's share where round 2 is deep in noise, as on such tables; elsewhere ROUND_SHARES' 0.5: 2.4 deviations. At
        # 0.5 here the domains' smaller share lost a flag's minority value in 2 more of 16: test_flags_keep_...)
        if need_kind <= STRUCTURE_MAX_SHARE * base:  # (where more buys the decision: at epsilon 0.3 on 300 rows it
            # would not, and taking the cap anyway left nothing to model in a fit of 21 columns)
            rho_struct = max(rho_struct, min(need_kind, KIND_MAX_SHARE * rho_domain))
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
    families = category_families(todo)
    family_of = release_family_lists(
        df, families, {stem: FAMILY_LIST_SHARE * sum(share[n] for n in names) for stem, names in families.items()},
        delta_cat, rng) if families else {}
    numbers = [c for c in todo if c.type in NUMERIC_TYPES]
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
        for loc in located.values():
            if present.short(loc):  # still a code whose keys leave most values out: a number, tentatively
                loc.kind, loc.keys = "unlocated", np.zeros(0, dtype=np.int64)
                loc.family_keys = np.zeros(0, dtype=np.int64)  # (no longer a code: no family scale)
        # a member its own histogram cannot place, that DP says holds values, takes its family's run (the members'
        # average: sqrt(k) less noise) as a coarse range, kept without its own stage 2's confirmation: tidyr::who's
        # sparse count columns (1,020 values each over many powers of two) came out empty 5-9 at a time at epsilon 1,
        # their own best blocks unconfirmed
        def holds_values(loc: Location) -> bool:
            miss, sigma_miss = loc.missing_noisy()
            return float(rows) - miss > PRESENT_SIGMAS * math.hypot(sigma_miss, rows_sigma) and family_fits(loc)

        for names in families_n.values():
            locate_by_family([located[n] for n in names if _flag_text(located[n]) is None], kinds=("number",),
                             unconfirmed=holds_values)
        for name, loc in located.items():
            if loc.kind == "unlocated" and _flag_text(loc) is None:
                miss, sigma_miss = loc.missing_noisy()
                if locate_present(loc, float(rows) - miss, math.hypot(sigma_miss, rows_sigma)):
                    tentative.append(name)
    for names in families_n.values():  # members still unlocated after all that: where their family is
        locate_by_family([located[n] for n in names])

    release = ColumnRelease(df=df, rng=rng, ledger=ledger, rows=rows, rows_sigma=rows_sigma, other=other, oneways=oneways,
                            times=times, share=share, first=first, located=located, tentative=tentative, present=present,
                            n_cat=n_cat, delta_cat=delta_cat, families=families, family_of=family_of,
                            small_ints=small_ints, text_codes=text_codes, undecided=undecided, unsure_kind=unsure_kind,
                            point_cap=POINT_ATOM_TOTAL * max(ledger.rho_budget - pool, 0.0))
    for col in todo:
        release.release(col)
    release.finish(todo, pool, reserve_rho, n_lists)
    updates = release.updates
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


__all__ = ["complete_from_data", "plan_domain_budget", "resolve_domain"]
