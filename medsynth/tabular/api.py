"""The Python face of the private-EHR job: infer a schema, fit, load, export.

Example::

    import medsynth.tabular as tab

    schema = tab.infer_schema("flchain.csv")              # review it; declare public what is public
    model = tab.fit("flchain.csv", model="dp-mst", epsilon=1.0, schema=schema, out="runs/flchain")
    synthetic = model.sample(5000, seed=0)                 # where={"sex": "F"} conditions rows
    model.privacy_ledger.total_epsilon                     # every access to the data, composed
    tab.export("runs/flchain", "release/")                 # only what may leave the hospital

``medsynth tabular fit/sample/export`` call these functions; errors are the same named errors.

A folder of tables, or ``{name: DataFrame}``, is a multi-table dataset (patients and their visits):
the same verbs fit, infer and load multi-table models (:mod:`medsynth.tabular.multi_run`), whose
``sample(n)`` returns ``{name: DataFrame}`` with ``n`` rows of the root table and all their children.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from medsynth.tabular.base import TabularSynthesizer
    from medsynth.tabular.config import TabularConfig
    from medsynth.tabular.schema import TableSchema


def _frame(data: str | Path | pd.DataFrame, private: bool = False) -> pd.DataFrame:
    import pandas as pd

    from medsynth.core.errors import DataValidationError
    from medsynth.io.tables import normalise_frame, read_table

    if isinstance(data, pd.DataFrame):
        return normalise_frame(data)
    if isinstance(data, (str, Path)):
        return read_table(data, private=private)
    raise DataValidationError(f"expected a DataFrame or the path of a .csv/.parquet table, got {type(data).__name__}")


def infer_schema(data: str | Path | pd.DataFrame | Mapping[str, pd.DataFrame], *, relations: list[str] | None = None,
                 keys: list[str] | None = None) -> Any:
    """The schema of a table as read from its data (every field marked ``public: false``).

    Review it before a DP fit: declare public (``public: true``, with bounds/categories from public
    knowledge) what is public; a DP fit re-decides everything else under DP and charges it to the budget.
    For a folder of tables (or ``{name: DataFrame}``) it is a dataset schema with primary keys and
    relations (``relations=["visits.id=patients.id"]``, ``keys=["patients.id"]`` give them explicitly).
    """
    from medsynth.tabular.multi_run import infer_dataset, is_dataset
    from medsynth.tabular.schema import infer_schema as _infer

    if is_dataset(data):
        return infer_dataset(data, relations=relations, keys=keys)  # type: ignore[arg-type]

    return _infer(_frame(data))


def resolve_config(
    config: str | Path | TabularConfig | None = None,
    *,
    model: str | None = None,
    epsilon: float | None = None,
    delta: float | None = None,
    seed: int | None = None,
    params: Mapping[str, Any] | None = None,
    sets: list[str] | None = None,
    max_steps: int | None = None,
    **privacy: Any,
) -> TabularConfig:
    """The TabularConfig of a fit: a YAML path or config (or the defaults), with the arguments given laid over it.

    Precedence: ``config`` < ``model``/``epsilon``/``delta``/``seed``/``params``/``privacy`` < ``sets``
    (``key.sub=value`` overrides) < ``max_steps``.

    Raises:
        ConfigError: an unknown key or value (with a did-you-mean), ``max_steps`` for a model that has
            no optimisation steps to cut.
    """
    from medsynth.core.config import apply_overrides, load_config, validate_config
    from medsynth.core.errors import ConfigError
    from medsynth.tabular.config import TabularConfig

    if isinstance(config, TabularConfig):
        data = config.model_dump(mode="json")
    else:
        data = load_config(TabularConfig, config).model_dump(mode="json") if config is not None else TabularConfig().model_dump(mode="json")
    for key, value in (("model", model), ("seed", seed)):
        if value is not None:
            data[key] = value
    if params:
        data["params"] = {**data.get("params", {}), **dict(params)}
    for key, value in (("epsilon", epsilon), ("delta", delta), *privacy.items()):
        if value is not None:
            data.setdefault("privacy", {})[key] = value
    data = apply_overrides(data, list(sets or []))
    cfg = validate_config(TabularConfig, data, source=str(config) if isinstance(config, (str, Path)) else "medsynth.tabular.fit")
    if max_steps is not None:
        from medsynth.core.registry import SYNTHESIZERS, resolve

        klass = resolve(SYNTHESIZERS, cfg.model_for(dataset=False), what="tabular model")
        if "train" not in getattr(getattr(klass, "Config", None), "model_fields", {}):
            named = cfg.model or "the default model (dp-aim or dp-mst)"
            raise ConfigError(f"max_steps {max_steps}: {named} has no optimisation steps to cut (it is fitted in one "
                              "pass, or by SDV's own epochs: params.epochs=N); leave max_steps out")
        # A DP plan is calibrated for the steps it will take: fewer steps, less noise, same epsilon.
        data = cfg.model_dump(mode="json")
        data.setdefault("params", {}).setdefault("train", {})["max_steps"] = max_steps
        cfg = validate_config(TabularConfig, data, source="medsynth.tabular.fit")
    return cfg


def fit(
    data: str | Path | pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    model: str | None = None,
    epsilon: float | None = None,
    delta: float | None = None,
    schema: str | Path | TableSchema | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
    params: Mapping[str, Any] | None = None,
    config: str | Path | TabularConfig | None = None,
    sets: list[str] | None = None,
    max_steps: int | None = None,
    resume: bool = False,
    **privacy: Any,
) -> TabularSynthesizer:
    """Fit a synthesizer on a table (or on related tables) and, with ``out``, write its run directory.

    Args:
        data: a DataFrame, the path of a .csv/.parquet file, or related tables (a folder with one file
            per table, or ``{name: DataFrame}``).
        model: a registered tabular model (``dp-aim``, ``dp-mst``, ``dp-merf``, ``dp-tvae``, ``dp-ctgan`` with an
            epsilon; ``gaussian-copula``, ``ctgan``, ``tvae`` without). ``None``: ``dp-aim`` for a table whose schema
            marks a target (``target: true``), else ``dp-mst`` (and for related tables; see ``TabularConfig.model_for``).
        epsilon: target epsilon of a DP fit (``None``: a non-private fit, labelled so).
        delta: target delta (below 1/rows; default 1e-5).
        schema: a reviewed schema (object or YAML path); ``None`` infers one (every field then counts
            as read from the data).
        seed: seeds initialisation and post-fit sampling; never the DP noise (default 0).
        out: a run directory to write (model, ledger, release manifest, private/); ``None`` fits in memory.
        force: overwrite an earlier run at ``out``.
        params: the model's own hyperparameters (see the configuration reference).
        config: a tabular YAML (``kind: tabular``) or TabularConfig that the arguments above override.
        sets: ``key.sub=value`` overrides laid over everything else (``["params.train.epochs=5"]``).
        max_steps: cut a DP-SGD fit to this many steps (its noise is calibrated for them).
        resume: continue the killed DP-SGD fit at ``out`` from its last checkpoint, with its own config
            and schema (give nothing else but ``data`` and ``out``).
        **privacy: further privacy settings, e.g. ``domain_budget=0.1``.

    Returns:
        The fitted model: ``.sample(n, where=None, seed=None)``, ``.privacy_ledger``, ``.save(path)``.
        For related tables: a multi-table model (``dp-mst`` with patient-level DP, or ``hma``) whose
        ``.sample(n)`` returns ``{name: DataFrame}``.

    Raises:
        ConfigError: bad settings, ``resume`` with other settings or without ``out``.
        DataValidationError: a table that does not match its schema, too few rows.
        PrivacyBudgetError: a budget that cannot pay for the fit.
    """
    from medsynth.core.errors import ConfigError
    from medsynth.tabular.config import TabularConfig
    from medsynth.tabular.multi_run import fit_dataset_run, is_dataset
    from medsynth.tabular.run import build_synthesizer, fit_run
    from medsynth.tabular.schema import TableSchema

    dataset = is_dataset(data)
    if dataset and max_steps is not None:
        raise ConfigError(f"max_steps {max_steps}: multi-table models are fitted in one pass; leave it out")
    if resume:
        given = [name for name, value in (("schema", schema), ("model", model), ("epsilon", epsilon), ("delta", delta),
                 ("config", config), ("sets", sets), ("seed", seed), ("max_steps", max_steps), ("params", params),
                 ("force", force), *privacy.items()) if value]
        if given or out is None:
            raise ConfigError("resume continues the run at out with its own config.yaml and schema; "
                              + (f"leave out {', '.join(given)}" if given else "give out, the run to continue"))
        return fit_run(data, out, TabularConfig(), resume=True)[1]  # type: ignore[arg-type]
    cfg = resolve_config(config, model=model, epsilon=epsilon, delta=delta, seed=seed, params=params, sets=sets,
                         max_steps=max_steps, **privacy)
    if dataset:
        if out is not None:
            fitted = fit_dataset_run(data, out, cfg, schema=schema, force=force)[1]
        else:
            from medsynth.tabular.multi_run import build_multitable, load_dataset_schema, read_tables

            loaded = load_dataset_schema(schema)  # type: ignore[arg-type]
            fitted = build_multitable(cfg, loaded).fit(read_tables(data, private=cfg.privacy.private), loaded)  # type: ignore[arg-type]
    elif out is not None:
        fitted = fit_run(data, out, cfg, schema=schema, force=force)[1]  # type: ignore[arg-type]
    else:
        if isinstance(schema, (str, Path)):
            schema = TableSchema.load(schema)
        frame = _frame(data, private=cfg.privacy.private)  # type: ignore[arg-type]
        fitted = build_synthesizer(cfg, schema, frame=frame).fit(frame, schema)  # type: ignore[arg-type]
    gaps = release_gaps(fitted)
    if gaps:
        import warnings

        from medsynth.core.errors import ReleaseWarning

        warnings.warn(gaps, ReleaseWarning, stacklevel=2)
    return fitted  # type: ignore[return-value]


#: A modelled column missing in at least this share of :data:`HOLLOW_ROWS` sampled rows is said to come out empty.
HOLLOW_SHARE = 0.98
HOLLOW_ROWS = 1000
#: A two-class target is said lost where one class is in none of this many sampled rows (:func:`_faint_targets`).
FAINT_ROWS = 20_000


def _probe_rows(model: Any) -> pd.DataFrame | None:
    """:data:`HOLLOW_ROWS` rows a single-table model samples (seed 0; post-processing of the released model), once per
    model: what :func:`_nearly_empty` and :func:`_faint_targets` read."""
    from medsynth.core.errors import DataValidationError
    from medsynth.tabular.schema import TableSchema

    if not hasattr(model, "_probe_rows_cache"):
        rows = None
        if isinstance(getattr(model, "output_schema", None) or model.schema, TableSchema):
            try:
                rows = model.sample(HOLLOW_ROWS, seed=0)
            except DataValidationError:  # (rows a kept rule refuses: said by the sample itself)
                rows = None
        model._probe_rows_cache = rows
    return model._probe_rows_cache


def _nearly_empty(model: Any) -> list[str]:
    """The modelled columns of a single-table model that come out missing in :data:`HOLLOW_SHARE` of
    :data:`HOLLOW_ROWS` rows it samples (:func:`_probe_rows`)."""
    rows = _probe_rows(model)
    if rows is None:
        return []
    schema = getattr(model, "output_schema", None) or model.schema
    return [c.name for c in schema.modelled if c.type != "identifier" and c.name in rows
            and float(rows[c.name].isna().mean()) >= HOLLOW_SHARE]


def _faint_targets(model: Any) -> list[str]:
    """Two-class target columns of a single-table model with a class that none of :data:`HOLLOW_ROWS` sampled rows
    (:func:`_probe_rows`), nor :data:`FAINT_ROWS` more, holds: the class is in the domain, but the model's noisy counts of it came out at about zero
    (pneumon's hospital = 1, 2% of the rows: 0 of 4,600 synthetic rows, ``--where hospital=1`` found none, and the fit
    was silent). A rare class of a many-class target may be absent from 1,000 rows and the target still usable."""
    from medsynth.core.errors import DataValidationError
    from medsynth.io.schema import OTHER_CATEGORY, category_key

    if getattr(model, "_faint_targets_cache", None) is not None:  # (release_gaps runs more than once per fit)
        return model._faint_targets_cache
    rows = _probe_rows(model)
    if rows is None:
        return []
    schema = getattr(model, "output_schema", None) or model.schema
    out: list[str] = []
    more = None
    for c in schema.modelled:
        classes = [category_key(k) for k in (c.categories or []) if k != OTHER_CATEGORY]
        if c.target and c.type in ("categorical", "boolean") and len(classes) == 2 and c.name in rows:
            if set(classes) <= {category_key(v) for v in rows[c.name].dropna()}:
                continue
            if more is None:  # (a rare class, 0.1% of the rows, is absent from 1,000 in a third of draws: a larger look
                # before calling it lost; a reviewer's 0.08% class, written at 0.048%, was said lost)
                try:
                    more = model.sample(FAINT_ROWS, seed=1)
                except DataValidationError:
                    more = rows
            if not set(classes) <= {category_key(v) for v in more[c.name].dropna()}:
                out.append(c.name)
    model._faint_targets_cache = out
    return out


def nothing_usable(model: Any) -> bool:
    """Whether a DP fit released nothing a user gets anything from: every column (keys aside, which are regenerated)
    empty or holding a single value (``release_gaps`` then begins by saying so; ``medsynth tabular fit`` exits 1)."""
    gaps = release_gaps(model)
    return bool(gaps and gaps.startswith(NOTHING_USABLE))


#: How the release gaps begin where nothing usable was released.
NOTHING_USABLE = "NOTHING USABLE WAS RELEASED"


def release_gaps(model: Any) -> str | None:
    """What a DP fit could not release at its budget, as one sentence (``None`` when nothing is missing or the
    fit is not private): columns left empty and columns left with a single value, counted and named per table,
    and, for a schema read from the data, where the fit's private records say what it decided otherwise, with what to do. :func:`fit` issues it as a :class:`~medsynth.core.errors.ReleaseWarning`; the CLI prints it.
    """
    if not model.privacy_spent().private:
        return None
    from medsynth.io.schema import OTHER_CATEGORY
    from medsynth.tabular.domain_locate import CLIP_NOTE_SHARE
    from medsynth.tabular.domain_words import unsure_kinds, unsure_whole
    from medsynth.tabular.schema import TableSchema

    schema = model.schema
    tables = ({t: schema.tables[t] for t in schema.order()} if not isinstance(schema, TableSchema) else {None: schema})
    parts = []
    usable = 0  # columns a user gets something from (keys are regenerated, so they do not count)
    lost_targets: list[str] = []
    for t, tab in tables.items():
        lost_targets += [c.name for c in tab.columns if c.target and not (c.public and len(c.categories or []) <= 1) and (
            c.omitted or (c.type == "categorical" and len(c.categories or []) <= 1))]  # (a public single class: declared)
        if t is None:
            lost_targets += [n for n in _faint_targets(model) if n not in lost_targets]
        usable += sum(not c.omitted and c.type != "identifier" and not (c.type == "categorical" and len(c.categories or []) == 1)
                      for c in tab.columns)
        empty = [c.name for c in tab.columns if c.omitted]
        single = [c.name for c in tab.modelled if c.type == "categorical" and len(c.categories or []) == 1
                  and OTHER_CATEGORY not in (c.categories or [])]
        lumped = [c.name for c in tab.modelled if not c.public and c.type == "categorical"
                  and OTHER_CATEGORY in (c.categories or [])]  # (one that is '(other)' throughout too: no data value)
        where = f"table '{t}': " if t is not None else ""
        if empty:
            unit = getattr(tab, "unit", None) if t is None else None  # (a data scientist's quinidine, 1,471 rows of 136
            # persons under unit: Subject, 8 of 14 columns empty: one row of each person is read, the rest are not)
            parts.append(f"{where}{len(empty)} of {len(tab.columns)} columns are left empty ({_names(empty)})" + (
                f" (with unit: {unit}, one random row of each person is read: where persons hold many rows, visits or "
                "doses, a folder of a persons table and a rows table has every row modelled with person-level DP: "
                "`medsynth schema infer DIR`)" if unit else ""))
        hollow = [n for n in _nearly_empty(model) if n not in empty] if t is None else []
        if hollow:  # (hepatoCellular with public domains: CD15TR, 46% present, came out all missing, the fit silent)
            parts.append(f"{len(hollow)} column{'s' if len(hollow) > 1 else ''} come{'' if len(hollow) > 1 else 's'} out "
                         f"(almost) all missing from the model ({_names(hollow)}: 98% or more of 1,000 sampled rows; where "
                         "the real ones are not, their values' counts fell under the noise)")
        if single:
            # (a survey's constant year is no loss: the fit cannot tell, its count of each value is noisy)
            parts.append(f"{where}{len(single)} column{'s' if len(single) > 1 else ''} keep{'' if len(single) > 1 else 's'} a single value ({_names(single)}: the data's only one, or the only "
                         "one above the noise)")
        if lumped:  # (an analyst found '(other)' in half the rows of a 3-value column with no word of it from the fit)
            parts.append(f"{where}{len(lumped)} column{'s' if len(lumped) > 1 else ''} write{'' if len(lumped) > 1 else 's'} "
                         f"the values too rare to release as '{OTHER_CATEGORY}' ({_names(lumped)})")
    unsure = unsure_kinds(getattr(model.privacy_ledger, "entries", []))
    if unsure:  # (mgus1, 223 rows at epsilon 1: every column's kind within 3 deviations; age came out text, pcdx numbers)
        parts.append(f"the noise decided whether {len(unsure)} column{'s' if len(unsure) > 1 else ''} "
                     f"hold{'' if len(unsure) > 1 else 's'} numbers or text ({_names(unsure)}: too few rows for the "
                     f"type decision at this budget; declare {'their types' if len(unsure) > 1 else 'its type'}, a data "
                     "dictionary's public facts, by taking 'type' out of read_from_data)")
    for t, tab in tables.items():  # (tidyr::who's counts written 36.36, 0.208 in 6-9 columns a fit, the console silent)
        undecided = set(unsure_whole(getattr(model.privacy_ledger, "entries", []), t))
        decimals = [c.name for c in tab.modelled if c.type == "continuous" and c.name in undecided]
        if decimals:
            parts.append(f"{f'table {t!r}: ' if t is not None else ''}{len(decimals)} number column"
                         f"{'s' if len(decimals) > 1 else ''} {'are' if len(decimals) > 1 else 'is'} written with decimals "
                         f"({_names(decimals)}: the noise could not confirm whole numbers at this budget; where they are "
                         "counts, declare them whole, a data dictionary's public fact: type integer, 'type' taken out of "
                         "read_from_data)")
    from medsynth.tabular.multi_decisions import NO_TIME_ORDER

    unordered = [n.split(":")[0].removeprefix("relation ") for n in getattr(model.privacy_ledger, "notes", [])
                 if n.startswith("relation ") and NO_TIME_ORDER in n]
    if unordered:  # (KosteckiDillon's headache diaries: the order_by 'time' left empty in 7 fits of 7, the fit silent)
        parts.append(f"no column orders the child rows of {', '.join(unordered)} under DP at this budget: they come out "
                     "in no time order (to keep it, declare the relation's order_by, and its ends where rows are "
                     "intervals, by taking them out of the relation's read_from_data: a study's design is public; "
                     "declaring only the time column's type and bounds public may leave another column ordering them: "
                     "rhDNase's infections were then ordered by their ends and overlapped in 60% of the patients)")
    from medsynth.io.dataset_infer import ends_named, follow_up_named, starts_named, time_point_named

    def expected(a: str, b: str) -> bool:  # a start before an end, or a time point before the end of follow-up (mgus2's
        # progression before the last follow-up, ptime <= futime, dropped in 3 fits of 5 at epsilon 1 with no word; a
        # consent beside a discharge may come after it: not said)
        return ((starts_named(a) and ends_named(b) and not starts_named(b))
                or (follow_up_named(b) and not ends_named(a) and time_point_named(a)))

    pairs_left = [tuple(p) for e in getattr(model.privacy_ledger, "entries", [])
                  for p in ((e.details or {}).get("orderings_unconfirmed") or [])]
    unconfirmed = list(dict.fromkeys(f"{a} <= {b}" for p in pairs_left for a, b in (p, p[::-1]) if expected(a, b)))
    if unconfirmed:  # (the pairs are public, names and types; that the test kept neither way is its DP output: named
        # where the names say an order a reader expects to hold. Never where schema infer read it: whether every row
        # keeps it is a fact of the table, and this warning holds DP outputs and names only, see below)
        parts.append(f"a DP test could not confirm {_names(unconfirmed)} (a start before an end, or a time point before "
                     "the end of follow-up, by the names): synthetic rows may break it; declare it in the schema (public: true) where it holds by "
                     "definition")
    crowded = _crowded_units(model)
    if crowded:  # (a data scientist's VietNam folder, communes as the root: 170 rows each, every child column coarse or
        # empty at epsilon 10, and the fit never said why)
        parts.append(f"each '{model.schema.roots[0]}' row holds many rows ({crowded}, by the DP count of rows per parent): "
                     "DP protects each with all its rows, so a child value needs as many parents, not rows, to stand above "
                     "the noise; where the root is a group (a site, a household), a table below it as the root keeps more")
    texted = {c: n for e in getattr(model.privacy_ledger, "entries", []) for c, n in ((e.details or {}).get("text_as_missing") or {}).items()}
    if texted:  # (yrbss: 42% of a column's answers written as missing, and the fit said nothing)
        parts.append(f"{len(texted)} number column(s) write their text cells as missing values ({_names(list(texted))}: "
                     "declare them categorical to keep their text answers)")
    left_out = {c: v for e in getattr(model.privacy_ledger, "entries", [])
                for c, v in ((e.details or {}).get("range_leaves_out") or {}).items()}
    if left_out:  # (injury's costs to 2.3M released as [60, 2,816], 17% of the values out, and the fit said nothing)
        worst = max(left_out, key=left_out.get)
        parts.append(f"{len(left_out)} column(s) have DP ranges (or codes) that leave out {CLIP_NOTE_SHARE:.0%} or more of "
                     f"their values, which the synthetic column does not hold ({_names(list(left_out))}; '{worst}' at least about "
                     f"{left_out[worst]:.0%}: declare their bounds public or give a larger epsilon)")
    floor = _category_floor(model)
    if floor is not None:  # (a data scientist found pbc's 'm', stage 2 and grade 1 of 11-22% missing with no word of it)
        share = f"{floor[1]:.0%} of them" if floor[1] < 1 else "more than the table's noisy row count"
        # (a folder's child values are counted on one random row per patient: a data scientist read 'rows' as the
        # table's, and nafld's stroke, 6.4% of the event rows, was lost under a stated 4%)
        from medsynth.tabular.multi_base import MultiTableSynthesizer

        held = ("patients (a child table's values counted on one random row of each)"
                if isinstance(model, MultiTableSynthesizer) else "rows")
        parts.append(f"categories held by fewer than about {floor[0]} {held} ({share}) cannot stand above "
                     "the noise and may be lost from the synthetic columns (those near that count about half the time)")
        # (medpar's type 3, 76 rows against a stated 72, was lost: the count is where a category survives half the fits)
    span = _category_floor(model, "range_floor_rows", RANGE_FLOOR_WARN_SHARE)
    if span is not None:
        share = (f"about {span[0]} of its values ({span[1]:.0%} of the rows)" if span[1] < 1 else
                 "as many values as the table has rows")
        parts.append(f"a number's DP range may leave out {share} before the fit can tell"
                     + (" (the columns named above are those where it can; others may leave out as many)" if left_out else "")
                     + ", or stretch past the values where the noise hides an empty stretch: compare the synthetic ranges "
                     "with the ones you know (declare bounds public; how many of yours each left out: private/fit.json)")
    miss = _category_floor(model, "missing_floor_rows")
    if miss is not None:  # (ncbirths' fage, 16.6% missing, written complete in 3 fits of 4 with no word of it)
        share = f"{miss[1]:.0%} of them" if miss[1] < 1 else "more than the table's noisy row count"
        parts.append(f"a column needs about {miss[0]} missing values ({share}) for DP to confirm it has any: columns "
                     "written without missing values may have held up to that many (declare missing: true where a value "
                     "may be absent)")
    # what DP decided otherwise than the schema read from the data (types, categories), and the rules read from the data
    # that were not accepted, are facts of every row: written to the run's private/fit.json, never said here, where
    # whether there are any is a bit of the table (an adversary's review: one row with recurrence before diagnosis, or
    # one age of 52.5, turned such a sentence off or on in every fit); the pointer is said for every schema read
    # from the data, whatever it holds
    read = _read_from_data(model)
    tested = (getattr(model, "meta", None) or {}).get("rules_tested") or []
    pairs = ([f"{t}.{a} <= {t}.{b}" for t, kept_t in tested.items() for a, b in kept_t] if isinstance(tested, dict)
             else [f"{a} <= {b}" for a, b in tested])  # (a folder's per table)
    pairs += [f"{c} = {b} - {a}" for c, b, a in (getattr(model, "meta", None) or {}).get("derived_tested") or []]
    pairs += [f"{r['columns'][0]} from {r['columns'][1]} cut at {', '.join(f'{e:g}' for e in r['edges'])}"
              for r in (getattr(model, "meta", None) or {}).get("bins_tested") or []]
    pairs += [f"{'exactly' if f['ones'][0] else 'at most'} one of {', '.join(f['columns'])} set (modelled as one column)"
              for f in (getattr(model, "meta", None) or {}).get("families_tested") or []]
    kept = (f"a DP test kept {', '.join(pairs)}: no synthetic row breaks them, though at this budget the test cannot tell "
            "a few percent of real rows breaking one from none (the ledger notes say how many)") if pairs else ""
    lone = ("dp-mst does not use the target (target: true): its tree may join it to a weak predictor only (a crash "
            "table's train-on-synthetic AUROC 0.47 against dp-aim's 0.94); dp-aim, the default where a target is "
            "marked, measures the target with the other columns") if (
        getattr(model, "name", "") == "dp-mst" and isinstance(schema, TableSchema)
        and not getattr(model, "target_star", False) and any(c.target for c in schema.columns)) else ""
    said = "; ".join(x for x in (
        lone,
        ("what schema infer read from the data (types, categories, rules) a DP fit decides anew or leaves unused until "
         "accepted (public: true): how it differs is in the run's private/fit.json, for your eyes only") if read else "",
        kept) if x)
    if not parts and not (lost_targets and usable):
        return said or None
    nothing = (f"{NOTHING_USABLE}: every column is empty or keeps a single value (too few rows for this "
               "epsilon); " if usable == 0 else "")
    gaps = (f"{nothing}at this budget DP could not release everything: {'; '.join(parts)}. The ledger notes say why; declare "
            "those domains public in the schema (categories and ranges from a data dictionary are public knowledge), "
            "give a larger epsilon, or model fewer columns") if parts else ""
    if lost_targets and usable:  # the column the user will predict (where nothing usable was released, that comes first)
        lost = (f"THE TARGET {', '.join(repr(n) for n in lost_targets)} WAS LOST (empty, a single class, or a class "
                "the model writes in none of 20,000 sampled rows: its other classes, if it has any, held too few rows to "
                "stand above the noise); if it holds one value in your data, mark your outcome target: true instead; else "
                "declare its classes public in the schema "
                "(categories: [...], public: true: an outcome's classes are public knowledge) or give a larger epsilon")
        gaps = f"{lost}. {gaps[:1].upper()}{gaps[1:]}" if gaps else lost
    return f"{gaps}. Also, {said}" if said else gaps


def _read_from_data(model: Any) -> bool:
    """Whether the schema a DP fit was given holds columns read from the data (any column's ``read_from_data``): every
    schema ``schema infer`` writes does, so this is no fact of the table's rows (whether it proposed a rule would be)."""
    given = getattr(model, "input_schema", None)
    if given is None:
        return False
    schemas = list(given.tables.values()) if hasattr(given, "tables") else [given]
    return any(c.read_from_data for sch in schemas for c in sch.columns)  # (not its rules: whether any is, is a fact)


def decided_otherwise(model: Any, data: pd.DataFrame | None = None) -> dict[str, Any]:
    """For a DP fit's private records (``private/fit.json``): the columns whose type DP decided otherwise than the
    schema it was given read it, the categorical columns whose released categories hold codes that schema lists
    none of (both compare with what was read from the data), and, given the fitted ``data``, how many of each number
    column's values lie outside its DP range (``values_outside_dp_ranges``: clipped to it when encoded; the record
    said ``clipped_to_bounds: {}`` where Melanoma's DP range of ``time`` left out 25 of 144 values, a data scientist)."""
    out: dict[str, Any] = {}
    outside = _outside_ranges(model, data) if data is not None else {}
    if outside:
        out["values_outside_dp_ranges"] = outside
    retyped = _retyped(model)
    if retyped:  # (Kakadu's bids 'lower'/'upper', categories of 13 amounts, became integers 0-1023)
        out["types_decided_otherwise"] = [{"column": c, "read": a, "decided": b} for c, a, b in retyped]
    added = _added_codes(model)
    if added:
        out["codes_added_by_noise"] = {c: v for c, v in added}
    return out


def _outside_ranges(model: Any, data: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per number column of the fitted schema whose range DP decided: the real values below its minimum and above its
    maximum (private: the data owner's records only)."""
    import numpy as np
    import pandas as pd

    decided = getattr(model, "schema", None)
    out: dict[str, dict[str, int]] = {}
    for col in getattr(decided, "columns", []):
        if col.type not in ("continuous", "integer") or col.public or col.name not in data.columns:
            continue
        lo, hi = col.bounds()
        x = pd.to_numeric(data[col.name], errors="coerce").to_numpy(dtype=float)
        below, above = int(np.sum(x < lo)), int(np.sum(x > hi))
        if below or above:
            out[col.name] = {"below_min": below, "above_max": above, "of": int(np.isfinite(x).sum())}
    return out


def _given_and_decided(model: Any, decided_attr: str = "schema") -> list[tuple[Any, Any]]:
    """Each column of the schema a single-table fit was given beside the same column as the fit decided it (its
    ``decided_attr`` schema; columns left out there are skipped): the pairs :func:`_retyped` and :func:`_added_codes`
    compare. Empty for a multi-table model or one loaded without the schema it was given."""
    given = getattr(model, "input_schema", None)
    decided = getattr(model, decided_attr, None) or getattr(model, "schema", None)
    if given is None or decided is None or not hasattr(given, "columns") or not hasattr(decided, "columns"):
        return []
    now = {c.name: c for c in decided.columns}
    return [(c, now[c.name]) for c in given.columns if c.name in now]


def _retyped(model: Any) -> list[tuple[str, str, str]]:
    """The columns of a single table whose type a DP fit decided otherwise than the schema it was given read it (type
    read from the data): (name, given, decided), the decided type as the sampled table writes it (a gapped date stays a
    date). A DP output: the decided types are released in the model's schema."""
    return [(c.name, c.type, d.type) for c, d in _given_and_decided(model, "output_schema")
            if not c.public and "type" in c.read_from_data and not d.omitted and c.type != d.type
            and "identifier" not in (c.type, d.type)]


def _added_codes(model: Any) -> list[tuple[str, list[str]]]:
    """The categorical columns of a single table whose DP-released categories hold values the schema it was given
    lists none of (categories read from the data): (name, the values added). A small code's neighbouring keys join at
    3 noise deviations, and a handful of columns take one in some fits (veteran's treatment 1/2 written 0 or -1 in 8%
    of the rows, an ICU's age group 1-3 written 5 in 14%). For the data owner's eyes (the schema it was given is
    private where read from the data): written to the run's private/fit.json, never in the ledger or a warning."""
    from medsynth.io.schema import OTHER_CATEGORY, category_key

    out = []
    for c, d in _given_and_decided(model):
        if c.public or not c.categories or not d.categories or d.omitted or "categories" not in c.read_from_data:
            continue
        known = {category_key(v) for v in c.categories} | {OTHER_CATEGORY}
        extra = [category_key(v) for v in d.categories if category_key(v) not in known]
        if extra:
            out.append((c.name, extra))
    return out


#: The share of the rows a category needs, at the budget, from which the fit's warning says categories may be lost (the
#: share of rows issue 11 asks every category to survive from at epsilon 1 on a 6,000-row table).
FLOOR_WARN_SHARE = 0.03
#: The share of the rows a number's DP range may leave out unseen (2.5 noise deviations of the count of values it leaves
#: out), from which the fit's warning says so: a fit says which ranges leave out 3% or more only where the noise lets it
#: tell, and ais's weights cut to 64-80 (half the values out) went unsaid on 202 rows; at 10%, HealthInsurance's ages
#: 18-22 (7.3% of 6,161 rows) were cut with no word of ranges at all (a data scientist).
RANGE_FLOOR_WARN_SHARE = 0.03


def _category_floor(model: Any, key: str = "category_floor_rows", warn: float = FLOOR_WARN_SHARE) -> tuple[int, float] | None:
    """The most rows a category (or a small code's value) of one of the fit's tables needs to stand above the noise
    (``key``: or the missing values a column needs for DP to confirm it has any), and that count's share of the table's
    noisy rows, when the share reaches ``warn`` (by default ``FLOOR_WARN_SHARE``); else None. Read from the ledger's
    domain entries (DP outputs and the budget: public)."""
    worst = None
    for e in getattr(model.privacy_ledger, "entries", []):
        d = e.details or {}
        if d.get(key) and d.get("rows_noisy"):
            hi, rows = d[key][1], d["rows_noisy"]
            if rows > 0 and (worst is None or hi / rows > worst[1]):
                worst = (int(hi), hi / rows)
    return worst if worst is not None and worst[1] >= warn else None


#: A folder's root rows holding this many rows of a child table on average (by the DP count distribution) are said.
CROWDED_ROWS = 50


def _crowded_units(model: Any) -> str:  # noqa: ANN401
    """The direct child tables of a folder's root whose mean rows per root row, by the released count distribution (a
    DP output), reach :data:`CROWDED_ROWS`: "about N 'table' rows" each, joined; "" for none (or a single table)."""
    import numpy as np

    counts = getattr(model, "counts", None) or {}
    schema = model.schema
    if not counts or not hasattr(schema, "roots"):
        return ""
    out = []
    for t, cm in counts.items():
        rel = next((r for r in schema.relations if r.child == t), None)
        if rel is None or rel.parent != schema.roots[0] or not len(cm.probs):
            continue
        mids = cm.values() + (cm.width - 1) / 2
        mean = float(np.dot(mids, cm.probs) / max(float(np.sum(cm.probs)), 1e-12))
        if mean >= CROWDED_ROWS:
            out.append(f"about {mean:,.0f} '{t}' rows")
    return ", ".join(out)


def _names(cols: list[str]) -> str:
    return ", ".join(cols[:8]) + (f" and {len(cols) - 8} more" if len(cols) > 8 else "")


def load(path: str | Path, *, device: str = "cpu") -> TabularSynthesizer:
    """A fitted model from a run directory (or its ``model/`` folder); multi-table runs give multi-table models."""
    from medsynth.tabular.base import TabularSynthesizer
    from medsynth.tabular.multi_base import MultiTableSynthesizer, is_multitable_model

    if is_multitable_model(path):
        return MultiTableSynthesizer.load(path, device=device)  # type: ignore[return-value]

    return TabularSynthesizer.load(path, device=device)


def export(run: str | Path, out: str | Path, *, non_private: bool = False, force: bool = False) -> list[str]:
    """Copy the releasable part of a run (its release manifest) to ``out`` (``force``: in place of an earlier export);
    see :func:`~medsynth.tabular.run.export_run`."""
    from medsynth.tabular.run import export_run

    return export_run(run, out, non_private=non_private, force=force)


def sample(run: str | Path, n: int, out: str | Path | None = None, *, seed: int | None = None,
           where: Mapping[str, Any] | None = None, fmt: str = "csv", force: bool = False) -> Any:
    """Sample from a fitted run directory (what ``medsynth tabular sample`` does), optionally writing ``out``.

    Args:
        run: a run directory from :func:`fit` (or its ``model/`` folder).
        n: rows to sample; for a multi-table run, rows of the root table (each with its child rows).
        out: a .csv/.parquet file to write (single table), or a folder that gets one file per table
            (multi-table; ``fmt`` picks csv or parquet). ``None`` writes nothing.
        seed: same seed, same rows.
        where: ``{column: value}`` conditions on categorical columns (single-table runs).
        force: overwrite ``out`` when it exists.

    Returns:
        A DataFrame, or ``{table: DataFrame}`` for a multi-table run.

    Raises:
        ConfigError: conditions on a multi-table run, a format other than csv/parquet.
        RunDirectoryError: ``run`` is not a tabular run.
        DataValidationError: ``out`` exists without ``force``, or has an unknown extension.
    """
    from medsynth.core.errors import ConfigError
    from medsynth.core.runs import check_run_kind
    from medsynth.tabular.multi_base import is_multitable_model

    check_run_kind(run, ("tabular", "multitable"), command="medsynth tabular sample")
    if not Path(run).is_dir() and (out is None or not Path(out).suffix):  # (a folder --out, a multi-table run's, was
        # refused for its extension, naming no run: a data scientist; a table --out is still checked first)
        from medsynth.core.errors import RunDirectoryError

        raise RunDirectoryError(f"run '{run}' does not exist; give the --out folder of `medsynth tabular fit`")
    if is_multitable_model(run):
        from medsynth.core.files import check_output
        from medsynth.tabular.multi_run import sample_dataset_run

        if where:
            raise ConfigError("conditions (--where) are not supported for multi-table runs yet; sample, then filter the "
                              "root table")
        if fmt not in ("csv", "parquet"):
            raise ConfigError(f"format '{fmt}' must be csv or parquet")
        if out is None:
            return load(run).sample(n, seed=seed)
        check_output(Path(out), kind="dir", what="--out")
        return sample_dataset_run(run, n, out, seed=seed, fmt=fmt, overwrite=force)  # type: ignore[arg-type]
    from medsynth.io.tables import check_table_output
    from medsynth.tabular.run import sample_run

    if out is not None:
        check_table_output(Path(out), overwrite=force, what="--out")
    return sample_run(run, n, out, seed=seed, where=where, overwrite=force)


__all__ = ["NOTHING_USABLE", "export", "fit", "infer_schema", "load", "nothing_usable", "release_gaps", "resolve_config", "sample"]
