"""Evaluate or audit a synthetic table against real train and holdout tables."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from medsynth.core.config import config_hash
from medsynth.evaluation.config import EvaluationConfig, Threshold
from medsynth.evaluation.registry import TABULAR_METRICS, selected
from medsynth.evaluation.report import Report, fingerprint_input, ledger_notes, read_privacy_ledger
from medsynth.evaluation.results import MetricResult, judge
from medsynth.evaluation.tabular_data import prepare_tables, read_schema, read_table, row_hashes, schema_kinds
from medsynth.evaluation.tabular_privacy import TabularContext

TableLike = str | Path | pd.DataFrame


def _load(t: TableLike, role: str) -> tuple[pd.DataFrame, dict]:
    if isinstance(t, pd.DataFrame):
        import hashlib

        from medsynth.io.tables import normalise_frame

        t = normalise_frame(t, role=role)
        digest = hashlib.sha256(row_hashes(t.rename(columns=str), exact=True).tobytes()
                                + ",".join(map(str, t.columns)).encode()).hexdigest()
        return t, {"role": role, "path": None, "sha256": digest, "rows": len(t), "columns": t.shape[1]}
    df = read_table(t, role=role)
    return df, {"role": role, "path": str(t), "sha256": fingerprint_input(t), "rows": len(df), "columns": df.shape[1]}


def _table_schema(schema: Any) -> Any | None:
    """The medsynth TableSchema a ``schema`` argument names (YAML path or TableSchema), or None (a kinds dict, none)."""
    if schema is None or isinstance(schema, dict):
        return None
    if isinstance(schema, (str, Path)):
        from medsynth.core.registry import FORMATS, resolve

        return resolve(FORMATS, "table_schema", what="format").load(schema)
    return schema


def _schema_target(schema: Any) -> str | None:
    """The column a medsynth schema (YAML path or TableSchema) marks ``target: true``, if any."""
    return next((c.name for c in getattr(_table_schema(schema), "columns", []) if getattr(c, "target", False)), None)


def _public_bounds(schema: Any) -> dict[str, tuple[float, float]]:
    """The number columns' ranges a medsynth schema (YAML path or TableSchema) declares public (``public: true`` with a
    min and a max), by column."""
    out = {}
    for c in getattr(_table_schema(schema), "columns", []):
        if getattr(c, "public", False) and c.type in ("integer", "continuous") and c.min is not None and c.max is not None:
            out[str(c.name)] = (float(c.min), float(c.max))
    return out


def _unit(schema: Any, train: pd.DataFrame) -> str | None:
    """The column whose equal values are one person: the schema's ``unit``; without a medsynth schema, the column
    ``schema infer`` would make the unit (a person's key by its name: ``patient_id``, else a plain ``id``)."""
    from medsynth.io.schema import table_unit

    table = _table_schema(schema)
    if table is not None:
        return getattr(table, "unit", None)
    return table_unit(train)


def evaluate_tabular(
    train: TableLike,
    holdout: TableLike,
    synthetic: TableLike,
    *,
    target: str | None = None,
    schema: str | Path | dict[str, str] | Any | None = None,
    config: EvaluationConfig | None = None,
    run_dir: str | Path | None = None,
    mode: Literal["evaluate", "audit"] = "evaluate",
) -> Report:
    """Judge a synthetic table: fidelity, utility and privacy (``mode="audit"``: privacy only).

    Args:
        train: real rows the generator was fitted on (CSV/Parquet path or DataFrame).
        holdout: real rows of the same population it never saw (the attacks' non-members).
        synthetic: the synthetic rows, from any tool.
        target: column for train-on-synthetic-test-on-real utility (and the default sensitive
            column of attribute inference); None takes the column a schema (path or TableSchema) marks
            ``target: true``, as ``schema infer`` does for a column named like an outcome.
        schema: column types: the schema YAML ``medsynth schema infer`` writes (a path), a
            :class:`~medsynth.tabular.schema.TableSchema`, or ``{column: kind}`` with kinds numeric,
            categorical, datetime or id; inferred when None (columns named like an id with distinct
            values are recognised as identifiers).
        config: thresholds and sizes (defaults documented in :mod:`medsynth.evaluation.config`).
        run_dir: the producer's medsynth run directory, whose privacy ledger is shown.
        mode: "evaluate" or "audit".

    Raises:
        DataValidationError: mismatched columns, empty tables, overlapping train/holdout, bad values.
    """
    t0 = time.perf_counter()
    cfg = config or EvaluationConfig()
    tr, i_tr = _load(train, "train")
    ho, i_ho = _load(holdout, "holdout")
    sy, i_sy = _load(synthetic, "synthetic")
    types = read_schema(schema) if isinstance(schema, (str, Path)) else schema_kinds(schema) if schema is not None else None
    from_schema = target is None and (target := _schema_target(schema)) is not None
    by_name = False
    if target is None and schema is None:
        # no schema: the column schema infer would mark target: true, from its name (public), so a report on a pair
        # that `schema infer` and `fit` took with a target has utility too (it said 'no target column')
        from medsynth.io.schema import propose_target

        by_name = from_schema = (target := propose_target([str(c) for c in tr.columns])) is not None
    unusable: tuple[str, str] | None = None
    if from_schema and (target not in tr.columns or tr[target].nunique(dropna=True) < 2):
        # a column the schema proposed from its name (Gestation's 'outcome' is 'live birth' in every row): no utility
        # target, said in the notes, rather than a refused report; a --target the user gives is still checked
        why = "is not a column of the train table" if target not in tr.columns else "holds a single value in the train table"
        unusable, target, from_schema = (str(target), why), None, False  # (by_name: said as the schema's would be)
    data = prepare_tables(tr, ho, sy, target=target, schema=types, max_categories=cfg.tabular.max_categories,
                          max_holdout_overlap=cfg.tabular.max_holdout_overlap, unit=_unit(schema, tr))
    ledger = read_privacy_ledger(run_dir) if run_dir is not None else None
    inputs = [i_tr, i_ho, i_sy]
    if run_dir is not None:
        inputs.append({"role": "privacy_ledger", "path": str(run_dir), "sha256": fingerprint_input(Path(run_dir) / "privacy_ledger.json" if Path(run_dir).is_dir() else run_dir)})
    context = TabularContext(data, cfg, public_bounds=_public_bounds(schema))
    results: list[MetricResult] = []
    for cls in selected(TABULAR_METRICS, cfg.metrics, privacy_only=mode == "audit"):
        results.extend(cls().compute(data, data.attacked if cls.section == "privacy" else data.synthetic, context=context))
    if data.shared_people and any(r.section == "privacy" for r in results):
        # the attacks ask whether train rows are closer than unseen ones: with the same people on both sides the
        # answer says too little, so the privacy section cannot pass on it (a row split of 312 patients' visits did)
        key, share = max(data.shared_people_share.items(), key=lambda kv: kv[1])
        results.append(judge(
            "holdout_people_in_train", "privacy", share, "minimize",
            "Share of the holdout's persons (values of a repeating person's key) who also have rows in train: the "
            "attacks compare train rows with unseen ones, and the same people's other rows are not unseen.",
            threshold=Threshold(review=0.0, fail=1.0), note=data.shared_people[key]))
    notes = ledger_notes(ledger)
    notes.append(
        f"Column types: {len(data.numeric)} numeric, {len(data.categorical)} categorical"
        + (f"; left out: {', '.join(f'{c} ({why})' for c, why in data.dropped.items())}" if data.dropped else "") + "."
    )
    notes.extend(f"Train and holdout share people: {note}." for note in data.shared_people.values())
    if data.people is not None:
        n_tr, n_ho = (len(set(g)) for g in data.people)
        notes.append(f"Membership attacks at person level: '{data.unit}' repeats (a person has several rows), so a "
                     f"member is a training person with all their rows ({n_tr} persons; holdout {n_ho}), scored by how "
                     "unlikely their highest row is among as many rows, as the privacy unit of a DP fit with this unit "
                     "is the person.")
    if data.retyped:
        notes.append("Compared as categories: " + "; ".join(f"{c} ({why})" for c, why in data.retyped.items()) + ".")
    if data.recased:
        notes.append("Privacy attacks read synthetic categories as the real ones, case aside (fidelity as written): " + "; ".join(f"{c} ({why})" for c, why in data.recased.items()) + ".")
    if data.lumped:
        notes.append("Compared as categories, numbers as their text: " + "; ".join(f"{c} ({why})" for c, why in data.lumped.items()) + ".")
    if from_schema:
        notes.append(f"Utility target '{target}': " + ("named like an outcome, the column schema infer marks target: true"
                                                       if by_name else "the column the schema marks target: true")
                     + " (give --target to choose another).")
    if unusable:
        notes.append(f"{'Schema infer would mark' if by_name else 'The schema marks'} '{unusable[0]}' target: true, but it "
                     f"{unusable[1]}: train-on-synthetic utility needs a target with at least two values (give --target).")
    cap = cfg.tabular.max_query_rows
    if cap is not None and max(len(data.synthetic), len(data.holdout)) > cap:
        notes.append(f"DCR and NNDR are estimated on a seeded random sample of {cap} synthetic (and holdout) rows; every "
                     "training row is searched, and exact copies are checked on every row.")
    if len(data.holdout) < 2 * cfg.min_samples_for_verdict:
        notes.append(f"The holdout has {len(data.holdout)} rows: membership attacks need at least "
                     f"{2 * cfg.min_samples_for_verdict} for a verdict (half is the density reference).")
    report = Report(kind="tabular", mode=mode, results=results, inputs=inputs, config=cfg.model_dump(mode="json"),
                    config_hash=config_hash(cfg), notes=notes, privacy_ledger=ledger)
    report.tables["types"] = dict(data.types)
    report.tables["data"] = data
    report.seconds = time.perf_counter() - t0
    return report


__all__ = ["evaluate_tabular"]
