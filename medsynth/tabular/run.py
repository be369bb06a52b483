"""Tabular runs: fit a synthesizer into a run directory, sample from one, export its release.

A fit run directory holds ``run.json``, ``config.yaml`` (the resolved :class:`TabularConfig`),
``privacy_ledger.json`` (also for non-private runs, with ``"private": false``), ``privacy.json``,
``model/`` (the saved synthesizer: weights, schema, meta.json, ledger, MODEL_CARD.md) and
``release_manifest.json``. The training losses go to ``metrics.jsonl`` for a non-private run and to
``private/metrics.jsonl`` for a DP run (a raw loss is not a DP output), beside ``private/fit.json``
and ``private/input_schema.yaml``. :func:`export_run` copies exactly the manifest.

A DP fit that fails after it touched the data (e.g. a budget too small for what it must estimate)
still leaves its run folder, marked failed, with the ledger of what it spent: a retry on the same
data composes with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from medsynth.core.errors import DataValidationError, MedsynthError
from medsynth.core.rundir import RunDir
from medsynth.io.schema import TableSchema
from medsynth.io.tables import normalise_frame, read_table, write_table
from medsynth.privacy.ledger import LEDGER_FILE
from medsynth.tabular.base import TabularSynthesizer, _jsonable
from medsynth.tabular.config import TabularConfig


def build_synthesizer(config: TabularConfig, schema: TableSchema | None = None, *,
                      columns: int | None = None, names: list[str] | None = None,
                      frame: pd.DataFrame | None = None) -> TabularSynthesizer:
    """Instantiate the configured synthesizer (``params`` validated against the model's own config).

    With no model named, whether the table has a target picks the default (:meth:`TabularConfig.model_for`):
    the schema's ``target: true``, or, without a schema, the one :func:`~medsynth.io.schema.propose_target`
    reads from the column ``names`` (as the schema the fit infers will mark). ``frame`` gives both ``columns``
    and ``names`` (all of its columns: whether one holds a value is read from the data, and a DP fit's choice of
    model must not depend on one row; an empty target is simply not modelled).

    Raises:
        ConfigError: unknown model (with a did-you-mean), bad params, or epsilon on a non-private model.
    """
    from medsynth.core.registry import SYNTHESIZERS, resolve
    from medsynth.io.schema import propose_target
    from medsynth.tabular import TABULAR_MODELS

    if frame is not None:
        columns, names = frame.shape[1], list(frame.columns)
    if schema is not None:
        target: bool | None = any(c.target for c in schema.columns)
    else:
        target = None if names is None else propose_target([str(n) for n in names]) is not None
    name = config.model_for(dataset=False, columns=columns, target=target)
    klass = resolve({k: v for k, v in SYNTHESIZERS.items() if k in TABULAR_MODELS}, name, what="tabular model")
    return klass(config.params, privacy=config.privacy, schema=schema, seed=config.seed, device=config.device)


CHECKPOINT = "checkpoints/fit_state.pt"


def fit_run(
    data: str | Path | pd.DataFrame,
    out: str | Path,
    config: TabularConfig,
    *,
    schema: str | Path | TableSchema | None = None,
    force: bool = False,
    resume: bool = False,
    command: str | None = None,
) -> tuple[RunDir, TabularSynthesizer]:
    """Fit ``config.model`` on a table and write the run directory ``out``.

    A DP-SGD fit checkpoints its training state under ``private/`` every
    ``params.train.checkpoint_every`` steps (the run folder is created at the first checkpoint); with
    ``resume=True`` a killed fit continues from its last checkpoint, with the run's own config, without
    measuring (or paying for) its noisy count and domains again: the ledger at the end equals an
    uninterrupted fit's.

    Args:
        data: a CSV/Parquet path or a DataFrame (for ``resume``, the same table).
        out: the run directory to create (or to resume).
        config: the resolved tabular config (ignored by ``resume``: the run's ``config.yaml`` holds it).
        schema: a schema YAML path or object; ``None`` infers one (every field then counts as read
            from the data: a DP fit re-decides it under DP).
        force: overwrite an earlier run at ``out``.
        resume: continue the killed fit at ``out``.

    Raises:
        DataValidationError, ConfigError, PrivacyBudgetError: for bad inputs, before anything is written.
        RunDirectoryError: ``resume`` without a checkpoint, or with a different table.
    """
    import torch

    from medsynth.core.config import load_config
    from medsynth.core.errors import RunDirectoryError
    from medsynth.core.files import atomic_path
    from medsynth.core.runtime import set_threads

    df = read_table(data, private=config.privacy.private) if not isinstance(data, pd.DataFrame) else normalise_frame(data)
    state = None
    if resume:
        run = RunDir.create(out, resume=True, command=command)
        ckpt = run.private_dir / CHECKPOINT
        if not ckpt.is_file():
            raise RunDirectoryError(f"cannot resume '{out}': it holds no checkpoint ({ckpt}); a fit checkpoints only "
                                    "DP-SGD training (dp-tvae, dp-ctgan) every params.train.checkpoint_every steps")
        config = load_config(TabularConfig, run.path / "config.yaml")
        schema = TableSchema.load(run.private_dir / "input_schema.yaml")
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
    elif isinstance(schema, (str, Path)):
        schema = TableSchema.load(schema)
    set_threads(config.threads)
    model = build_synthesizer(config, schema, frame=df)
    if not resume and Path(out).exists() and (not Path(out).is_dir() or any(Path(out).iterdir())) and not force:
        RunDir.create(out, force=False, command=command, resumable=False)  # raises the usual message
    earlier = _earlier_spend(out) if force and not resume and model.is_private else None
    holder: dict[str, RunDir] = {"run": run} if resume else {}
    pending: list[tuple[int, dict[str, float]]] = []

    def open_run() -> RunDir:
        if "run" not in holder:
            holder["run"] = RunDir.create(out, force=force, command=command, resumable=True)
            holder["run"].write_config(config.model_copy(update={"model": model.name}))  # the model actually fitted
            if model.input_schema is not None:  # what a resume reads back
                model.input_schema.save(holder["run"].private_dir / "input_schema.yaml")
        return holder["run"]

    def log(step: int, metrics: dict[str, float]) -> None:
        if "run" in holder:  # live once the run exists (a resumed fit keeps its earlier lines)
            holder["run"].log_metrics(step, metrics, private=model.is_private)
        else:
            pending.append((step, dict(metrics)))

    def checkpoint(ckpt_state: dict) -> None:
        run = open_run()
        for step, metrics in pending:
            run.log_metrics(step, metrics, private=model.is_private)
        pending.clear()
        with atomic_path(run.private_dir / CHECKPOINT) as tmp:
            torch.save(ckpt_state, tmp)

    model.on_log = log  # type: ignore[attr-defined]
    model.checkpoint_to = checkpoint
    model.resume_state = state
    if resume:
        holder["run"].truncate_metrics(int(state["train"]["step"]))  # type: ignore[index]
    try:
        model.fit(df, schema)  # every input error is raised here, before anything is written
    except Exception as exc:
        spent = getattr(exc, "spent_ledger", None)
        if spent is None:
            if "run" in holder:
                holder["run"].finish("failed")
            raise
        run = holder.get("run") or RunDir.create(out, force=force, command=command, resumable=False)
        run.write_config(config.model_copy(update={"model": model.name}))
        _note_earlier(spent, earlier)
        spent.save(run.path / LEDGER_FILE)
        run.finish("failed")
        if not isinstance(exc, MedsynthError):  # (a bug: its own error, the spend recorded all the same)
            raise
        raise type(exc)(f"{exc}\n(this attempt spent part of the budget before failing; its ledger is in "
                        f"{run.path / LEDGER_FILE}: a retry on the same data composes with it)") from None
    _note_earlier(model.ledger, earlier)  # (before the model card is written)
    run = open_run() if "run" in holder else RunDir.create(out, force=force, command=command, resumable=False)
    with run.marks_failure():
        if not resume:
            run.write_config(config.model_copy(update={"model": model.name}))
        for step, metrics in pending:
            run.log_metrics(step, metrics, private=model.is_private)
        model.save(run.path / "model", private_dir=run.private_dir if model.is_private else None, overwrite=resume)
        model.ledger.save(run.path / LEDGER_FILE)  # type: ignore[union-attr]
        run.write_json("privacy.json", _jsonable(model.privacy_spent().to_dict()))
        (run.private_dir / CHECKPOINT).unlink(missing_ok=True)  # the finished model replaces it
        run.seal_release()
    run.finish()
    _note_nothing_usable(run, model)
    return run, model


def _note_nothing_usable(run: RunDir, model: Any) -> None:
    """A DP fit that released nothing usable says so in run.json (``warning``; ``medsynth runs`` shows it): its status
    said "completed" like any other's, and ``tabular sample`` wrote tables of empty cells from it (a data scientist)."""
    from medsynth.tabular.api import NOTHING_USABLE, nothing_usable

    if getattr(model, "is_private", False) and nothing_usable(model):
        run.record(warning=f"{NOTHING_USABLE}: every column is empty or keeps a single value (see the fit's warning)")


def _earlier_spend(out: str | Path) -> Any:  # noqa: ANN401 - a PrivacyLedger or None
    """The ledger of a DP fit at ``out`` that spent budget (failed or finished, about to be overwritten by
    ``--force``), or None."""
    from medsynth.privacy.ledger import PrivacyLedger

    p = Path(out) / LEDGER_FILE
    try:
        if not p.is_file():
            return None
        led = PrivacyLedger.load(p)
    except (OSError, ValueError, TypeError, MedsynthError):
        return None
    return led if led.private and (led.entries or led.earlier_entries) else None


def _note_earlier(ledger: Any, earlier: Any) -> None:  # noqa: ANN401
    """Say in ``ledger`` what the DP runs it overwrote at its run directory had spent, and all of them composed with it
    (their entries kept as ``earlier_entries``, so that a chain of retries composes): a failed attempt's ledger went with
    the folder (``--force``), and a retry's ledger said epsilon 1.0 where the data had given 1.165 (an adversary; a
    reviewer: three attempts composed to 1.118 where the note said 0.9)."""
    if earlier is None or ledger is None or not getattr(ledger, "private", False):
        return
    before = [*earlier.earlier_entries, *earlier.entries]
    ledger.earlier_entries = before
    both = ledger.epsilon_of(before)
    what = "failed after spending" if earlier.status == "failed" else "spent"
    ledger.notes.append(
        f"an earlier DP run written to this run directory {what} epsilon "
        f"{_epsilon_alone(ledger, before):.3g}{' (with the runs it overwrote)' if earlier.earlier_entries else ''}, and "
        f"was overwritten (--force): fitted on the same data, that data has given epsilon {both:.3g} in all with this "
        "fit (composed; a run written elsewhere composes likewise, which this ledger cannot see)")


def _epsilon_alone(ledger: Any, entries: list[Any]) -> float:  # noqa: ANN401
    """The composed epsilon of ``entries`` alone, at ``ledger``'s conversion delta."""
    from medsynth.privacy.ledger import PrivacyLedger

    alone = PrivacyLedger(private=True, target_epsilon=ledger.target_epsilon, target_delta=ledger.target_delta)
    alone.entries = list(entries)
    return float(alone.total_epsilon)


def export_run(run: str | Path, out: str | Path, *, non_private: bool = False, force: bool = False) -> list[str]:
    """Copy the releasable part of a tabular run (exactly its ``release_manifest.json``) into ``out``; with ``force``, in
    place of an earlier export there (a folder holding a release manifest, never any other folder).

    Returns:
        The copied files (paths relative to the run).

    Raises:
        RunDirectoryError: not a finished tabular run, no manifest, a file changed since the fit, or a
            run whose noise was made insecure for an audit.
        PrivacyBudgetError: a non-private run without ``non_private=True``.
    """
    import json
    import os
    import shutil
    import time

    from medsynth.core.errors import PrivacyBudgetError, RunDirectoryError
    from medsynth.core.files import atomic_dir, fingerprint_file
    from medsynth.core.rundir import MARKER, PRIVATE_DIR, RELEASE_MANIFEST
    from medsynth.privacy.ledger import PrivacyLedger

    src = RunDir.open(run).path
    if src.resolve() in Path(out).resolve().parents or Path(out).resolve() == src.resolve():
        raise RunDirectoryError(f"--out '{out}' lies inside the run '{src}'; export to a folder outside it")
    manifest_path = src / RELEASE_MANIFEST
    ledger_path = src / LEDGER_FILE
    status = json.loads((src / MARKER).read_text()).get("status") if (src / MARKER).is_file() else None
    if status == "failed":  # (a failed fit was told to refit "with this version of medsynth": a data scientist)
        raise RunDirectoryError(f"'{src}' is a fit that failed (run.json: failed): nothing of it may be released; its "
                                f"ledger ({LEDGER_FILE}) records what it spent. Fit again (a retry into the same --out "
                                "with --force composes with that spend)")
    if not manifest_path.is_file() or not ledger_path.is_file():
        raise RunDirectoryError(f"'{src}' has no {RELEASE_MANIFEST} (or no {LEDGER_FILE}): it is not a finished "
                                "`medsynth tabular fit` run; refit it with this version of medsynth")
    ledger = PrivacyLedger.load(ledger_path)
    if ledger.status != "complete":
        raise RunDirectoryError(f"'{src}': the fit's ledger says '{ledger.status}'; nothing of it may be released")
    if not ledger.private and not non_private:
        raise PrivacyBudgetError(f"'{src}' is NOT differentially private: its model may reveal individual rows. "
                                 "Pass --non-private to export it anyway (it stays labelled non-private)")
    files = json.loads(manifest_path.read_text(encoding="utf-8"))["files"]
    changed = [rel for rel, digest in files.items()
               if not (src / rel).is_file() or fingerprint_file(src / rel) != digest]
    if changed:
        raise RunDirectoryError(f"'{src}': {changed[:5]} changed or vanished since the fit sealed its release manifest; "
                                "refit instead of editing a run")
    # every exported file is dated the fit's start, the time the ledger releases: copied with their times (copy2), the
    # files' times less the ledger's told the fit's duration, a private fact (an adversary read 1.8 s off a flchain fit)
    stamp = time.mktime(time.strptime(ledger.created, "%Y-%m-%dT%H:%M:%S"))
    earlier = Path(out).is_dir() and any(Path(out).iterdir())
    # (a run folder holds a release manifest too: an export over one deleted its private/ and run.json, a reviewer found)
    if force and earlier and (not (Path(out) / RELEASE_MANIFEST).is_file() or (Path(out) / MARKER).exists()
                              or (Path(out) / PRIVATE_DIR).exists()):
        raise RunDirectoryError(f"--out '{out}' is not an earlier export (a run, or a folder without {RELEASE_MANIFEST}): "
                                "--force replaces only an export; choose another path")
    with atomic_dir(out, overwrite=force) as tmp:
        for rel in [*files, RELEASE_MANIFEST]:
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(manifest_path if rel == RELEASE_MANIFEST else src / rel, tmp / rel)
            os.utime(tmp / rel, (stamp, stamp))
        for folder in [*(p for p in tmp.rglob("*") if p.is_dir()), tmp]:  # (its folders too, a reviewer found)
            os.utime(folder, (stamp, stamp))
    return sorted(files)


def parse_where(items: list[str] | None) -> dict[str, Any]:
    """``["death=1", "sex=F"]`` -> ``{"death": "1", "sex": "F"}``.

    Raises:
        DataValidationError: for an item without ``=`` or with an empty column name, and for two
            different values of one column (a row has one value per column), all listed at once.
    """
    out: dict[str, Any] = {}
    problems: list[str] = []
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            problems.append(f"--where '{item}' must look like column=value (e.g. --where death=1)")
        elif key in out and out[key] != value:
            problems.append(
                f"--where {key}={out[key]} and --where {key}={value} contradict each other: a row has one value of "
                f"'{key}'; sample once per value and concatenate the tables"
            )
        else:
            out[key] = value
    if problems:
        raise DataValidationError(problems, context="sampling conditions")
    return out


def sample_run(
    run: str | Path,
    n: int,
    out: str | Path | None = None,
    *,
    seed: int | None = None,
    where: Mapping[str, Any] | None = None,
    overwrite: bool = True,
) -> pd.DataFrame:
    """Sample ``n`` rows from a fitted run (or a saved model folder), optionally writing CSV/Parquet."""
    model = TabularSynthesizer.load(run)
    df = model.sample(n, seed=seed, where=dict(where or {}))
    if out is not None:
        write_table(df, out, overwrite=overwrite)
    return df


__all__ = ["build_synthesizer", "export_run", "fit_run", "parse_where", "sample_run"]
