"""What every tabular synthesizer shares: schema checks, domains, the ledger, sampling, save/load.

A subclass sets ``name``, ``private`` and ``Config`` (its typed hyperparameters, each default once)
and implements four hooks on :class:`~medsynth.tabular.encoding.Frame` data:

- ``_fit_frame(frame, budget)``: learn from the encoded table, recording its accesses in ``self.ledger``;
- ``_sample_frame(n, rng)``: draw ``n`` encoded rows using only ``rng`` (so a seed fixes the sample);
- ``_save_state(folder)`` / ``_load_state(folder, device)``: weights (state_dict / arrays), no pickles.

The base class turns frames into tables in the schema's types, applies ``--where`` conditions and
the schema's constraints by rejection (only rows that satisfy them are returned), and writes
``config.yaml``, ``schema.yaml`` (resolved domains), ``input_schema.yaml``, ``meta.json`` and
``privacy_ledger.json`` beside the weights.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import yaml

from medsynth.core.config import ConfigModel, validate_config
from medsynth.core.errors import ConfigError, DataValidationError, NotFittedError, PrivacyBudgetError, RunDirectoryError
from medsynth.core.files import atomic_dir, fingerprint_array, write_json, write_text
from medsynth.core.protocols import PrivacyReport
from medsynth.privacy.ledger import LEDGER_FILE, PrivacyLedger
from medsynth.tabular.config import PrivacyConfig
from medsynth.tabular.domain import resolve_domain
from medsynth.tabular.encoding import Frame, TableCodec
from medsynth.tabular.schema import TableSchema, check_constraints, infer_schema, validate_table

FORMAT_VERSION = 1


def table_fingerprint(df: pd.DataFrame) -> str:
    """A short SHA-256 of a table's contents (row order included)."""
    return fingerprint_array(pd.util.hash_pandas_object(df, index=False).to_numpy())


class TabularSynthesizer:
    """Base of the tabular synthesizers. See the module docstring for the subclass hooks.

    Args:
        config: the model's hyperparameters (its ``Config`` class, or a mapping validated against it).
        privacy: the budget; ``None`` or ``epsilon: null`` for a non-private fit.
        schema: the table's schema; ``None`` infers it at fit time (all domains then count as read
            from the data).
        seed: seeds the fit (weights, noise, DP mechanisms).
        device: "auto", "cpu" or "cuda" (torch models).
    """

    name: ClassVar[str] = "base"
    #: True for models that can give a DP guarantee (they need an epsilon).
    private: ClassVar[bool] = False
    Config: ClassVar[type[ConfigModel]] = ConfigModel

    def __init__(
        self,
        config: ConfigModel | Mapping[str, Any] | None = None,
        *,
        privacy: PrivacyConfig | Mapping[str, Any] | None = None,
        schema: TableSchema | None = None,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        if config is None or isinstance(config, Mapping):
            config = validate_config(self.Config, dict(config or {}), source=f"{self.name} params")
        elif not isinstance(config, self.Config):
            raise ConfigError(f"{self.name} expects a {self.Config.__name__}, got {type(config).__name__}")
        if privacy is None or isinstance(privacy, Mapping):
            privacy = validate_config(PrivacyConfig, dict(privacy or {}), source="privacy")
        if privacy.private and not self.private:
            raise ConfigError(
                f"'{self.name}' is not differentially private and cannot honour epsilon {privacy.epsilon:g}; "
                "remove --epsilon (its outputs are labelled non-private) or use dp-mst, dp-tvae or dp-ctgan"
            )
        if self.private and not privacy.private and not getattr(self, "allows_non_private", False):
            raise ConfigError(f"'{self.name}' needs a target epsilon (e.g. --epsilon 1)")
        if not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed {seed!r} must be a non-negative integer")
        self.config = config
        self.privacy = privacy
        self.input_schema = schema
        self.schema: TableSchema | None = None
        self.codec: TableCodec | None = None
        self.ledger: PrivacyLedger | None = None
        self.seed = seed
        self.device = device
        self.meta: dict[str, Any] = {}
        self.data_fingerprint: str | None = None  # set by fit; kept out of DP models' files

    # -- fit ---------------------------------------------------------------------------------------
    @property
    def is_private(self) -> bool:
        """Whether this fit is differentially private (a DP model with a finite epsilon)."""
        return self.private and self.privacy.private

    def fit(self, data: pd.DataFrame, schema: TableSchema | None = None) -> TabularSynthesizer:
        """Learn from a table (checked against its schema first).

        Raises:
            DataValidationError: the table is empty, has an all-missing column, or does not match the schema.
            PrivacyBudgetError: delta >= 1/n, or domains read from the data with no budget to estimate them.
        """
        if not isinstance(data, pd.DataFrame):
            raise DataValidationError(f"fit expects a pandas DataFrame, got {type(data).__name__}")
        schema = schema or self.input_schema or infer_schema(data)
        self.input_schema = schema
        clipped = validate_table(data, schema)
        n = len(data)
        if self.is_private and not self.privacy.delta < 1.0 / n:
            raise PrivacyBudgetError(
                f"delta {self.privacy.delta:g} must be below 1/n = {1.0 / n:.3g} for this table of {n} rows "
                f"(a larger delta allows leaking whole records); use e.g. --delta {10 ** math.floor(math.log10(0.1 / n)):g}"
            )
        from medsynth.core.runtime import seed_everything

        seed_everything(self.seed)
        rng = np.random.default_rng(self.seed)
        self.ledger = PrivacyLedger(private=self.is_private, target_epsilon=self.privacy.epsilon,
                                    target_delta=self.privacy.delta if self.is_private else None)
        t0 = time.perf_counter()
        self.schema = resolve_domain(schema, data, privacy=self.privacy if self.is_private else PrivacyConfig(),
                                     ledger=self.ledger, rng=rng)
        self.codec = TableCodec(self.schema)
        if self.is_private:  # categories released with DP may leave rare values out: they become "missing"
            self.codec.unknown_as_missing = set(schema.private_domain_columns())
        frame = self.codec.encode(data)
        self.codec.fill_unmodelled(frame, rng)  # cells of columns without a missing state (DP fits only)
        self.meta = {
            "rows": n,
            "columns": len(schema.columns),
            # A plain hash of the table would let anyone holding candidate tables tell which one was
            # used, which DP forbids: DP fits keep it out of the model (see data_fingerprint below).
            "data_fingerprint": None if self.is_private else table_fingerprint(data),
            "private_domain_columns": schema.private_domain_columns() if self.is_private else [],
        }
        if not self.is_private:  # data-dependent facts (which values were clipped, ...) stay out of DP outputs
            self.meta["clipped_to_bounds"] = clipped
        elif self.meta["private_domain_columns"]:
            self.meta["domain_note"] = ("values outside the DP-estimated bounds are clipped; values of unreleased "
                                        "categories, and missing values where DP did not confirm a missing state, "
                                        "are imputed at random within the domain")
        self.data_fingerprint = table_fingerprint(data)  # for the data owner's private records only
        if self.is_private:
            self.meta["data_fingerprint_note"] = (
                "withheld from DP outputs; the run directory keeps it in private/data_fingerprint.json "
                "(do not release that folder)")
        self._fit_frame(frame, rng)
        self.meta["fit_seconds"] = round(time.perf_counter() - t0, 3)
        return self

    def _fit_frame(self, frame: Frame, rng: np.random.Generator) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sample_frame(self, n: int, rng: np.random.Generator) -> Frame:  # pragma: no cover - abstract
        raise NotImplementedError

    def _save_state(self, folder: Path) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _load_state(self, folder: Path, device: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _require_fitted(self) -> None:
        if self.codec is None or self.schema is None or self.ledger is None:
            raise NotFittedError(f"{self.name} is not fitted; call fit(table) or load(folder) first")

    def budget(self) -> tuple[float, float]:
        """(epsilon, delta) left for the model after the domain estimates."""
        self._require_fitted()
        return self.ledger.remaining()  # type: ignore[union-attr]

    # -- sample --------------------------------------------------------------------------------------
    def sample(self, n: int, *, seed: int | None = None, conditions: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Draw ``n`` synthetic rows in the table's own types.

        Args:
            n: rows to draw.
            seed: fixes the sample (same seed, same rows); ``None`` draws fresh ones.
            conditions: ``{column: value}`` that every row must have (categorical/boolean columns).

        Raises:
            NotFittedError: before fit/load.
            DataValidationError: for a condition outside the domain, or one too rare to sample.
        """
        self._require_fitted()
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise DataValidationError(f"n {n!r} must be a non-negative integer")
        codes = {k: self.codec.category_code(k, v) for k, v in (conditions or {}).items()}  # type: ignore[union-attr]
        rng = np.random.default_rng(seed)
        parts: list[pd.DataFrame] = []
        got, drawn, kept, rounds = 0, 0, 0, 0
        while got < n:
            rate = max(kept / drawn, 1e-3) if drawn else 1.0
            m = int(min(max(math.ceil((n - got) / rate * 1.1), 64), 2_000_000))
            frame = self._sample_frame(m, rng)
            if codes:
                mask = np.ones(frame.n, dtype=bool)
                for col, code in codes.items():
                    mask &= frame.cat[col] == code
                frame = frame.take(np.nonzero(mask)[0])
            df = self.codec.decode(frame)  # type: ignore[union-attr]
            if self.schema.constraints and len(df):  # type: ignore[union-attr]
                df = df[check_constraints(df, self.schema)]  # type: ignore[arg-type]
            drawn += m
            kept += len(df)
            got += len(df)
            parts.append(df)
            rounds += 1
            if rounds >= 30 and got < n:
                what = f"conditions {dict(conditions or {})}" if codes else "the schema's constraints"
                raise DataValidationError(
                    f"only {kept} of {drawn} sampled rows satisfy {what}; the model gives them too little "
                    "probability to sample efficiently: relax them or check the schema"
                )
        out = pd.concat(parts, ignore_index=True).iloc[:n].reset_index(drop=True) if parts else self.codec.decode(Frame(n=0, num={c.name: np.zeros(0) for c in self.codec.numeric}, cat={c.name: np.zeros(0, dtype=np.int64) for c in self.codec.discrete}))  # type: ignore[union-attr]
        for col in self.schema.columns:  # type: ignore[union-attr]
            if col.type == "identifier":
                out[col.name] = np.array([f"syn-{i:07d}" for i in range(1, len(out) + 1)], dtype=object)
        return out

    # -- privacy ---------------------------------------------------------------------------------------
    def privacy_spent(self) -> PrivacyReport:
        """What the fit spent (``private=False`` and infinite epsilon for non-private fits)."""
        self._require_fitted()
        led = self.ledger
        train = self.meta.get("dpsgd") or {}
        if not led.private:  # type: ignore[union-attr]
            return PrivacyReport(epsilon=float("inf"), delta=1.0, accountant="none", steps=int(self.meta.get("steps", 0)),
                                 private=False)
        return PrivacyReport(epsilon=led.total_epsilon, delta=led.total_delta,  # type: ignore[union-attr]
                             accountant=str(self.meta.get("accountant", "zcdp")),
                             noise_multiplier=train.get("noise_multiplier"), sample_rate=train.get("sample_rate"),
                             steps=int(self.meta.get("steps", 0)), private=True)

    # -- save / load -------------------------------------------------------------------------------------
    def _config_dict(self) -> dict[str, Any]:
        return {"model": self.name, "seed": self.seed, "params": self.config.model_dump(mode="json"),
                "privacy": self.privacy.model_dump(mode="json")}

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the fitted model into folder ``path`` atomically (config, schema, weights, meta, ledger)."""
        from medsynth.core.rundir import environment_info

        self._require_fitted()
        dest = Path(path)
        with atomic_dir(dest, overwrite=overwrite) as tmp:
            write_text(tmp / "config.yaml", yaml.safe_dump(self._config_dict(), sort_keys=False))
            self.schema.save(tmp / "schema.yaml")  # type: ignore[union-attr]
            if self.input_schema is not None:
                self.input_schema.save(tmp / "input_schema.yaml")
            self.ledger.save(tmp / LEDGER_FILE)  # type: ignore[union-attr]
            files = self._save_state(tmp)
            meta = {
                "format_version": FORMAT_VERSION,
                "model": self.name,
                "private": self.is_private,
                "label": "differentially private" if self.is_private else "NOT differentially private",
                "privacy": _jsonable(self.privacy_spent().to_dict()),
                "versions": environment_info(),
                **_jsonable(self.meta),
                "files": files,
            }
            write_json(tmp / "meta.json", meta)
        return dest

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> TabularSynthesizer:
        """Load a model saved by :meth:`save` (``cls`` may be the base class: the model name picks the class).

        Raises:
            RunDirectoryError: when ``path`` is not a saved tabular model.
        """
        from medsynth.core.registry import SYNTHESIZERS, resolve

        folder = Path(path)
        if (folder / "model" / "config.yaml").is_file():
            folder = folder / "model"
        if not (folder / "config.yaml").is_file() or not (folder / "meta.json").is_file():
            raise RunDirectoryError(f"'{path}' is not a saved tabular model (no config.yaml/meta.json); "
                                    "give the --out folder of `medsynth tabular fit`")
        cfg = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
        klass = cls if cls is not TabularSynthesizer else resolve(SYNTHESIZERS, cfg["model"])
        if klass.name != cfg["model"]:
            raise RunDirectoryError(f"'{path}' holds a '{cfg['model']}' model, not '{klass.name}'")
        obj = klass(cfg["params"], privacy=cfg["privacy"], seed=int(cfg["seed"]), device=device)
        obj.schema = TableSchema.load(folder / "schema.yaml")
        if (folder / "input_schema.yaml").is_file():
            obj.input_schema = TableSchema.load(folder / "input_schema.yaml")
        obj.codec = TableCodec(obj.schema)
        obj.ledger = PrivacyLedger.load(folder / LEDGER_FILE)
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        obj.meta = {k: v for k, v in meta.items() if k not in ("format_version", "model", "private", "label", "privacy", "versions", "files")}
        obj._load_state(folder, device)
        return obj


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return _jsonable(float(obj))
    return obj


@contextlib.contextmanager
def global_seed(seed: int) -> Iterator[None]:
    """Seed numpy's and torch's global RNGs inside the block and restore their state afterwards
    (for libraries, like SDV, that draw from the global generators)."""
    import random

    import torch

    np_state, py_state, torch_state = np.random.get_state(), random.getstate(), torch.random.get_rng_state()
    np.random.seed(seed % 2**32)
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
        torch.random.set_rng_state(torch_state)


__all__ = ["TabularSynthesizer", "global_seed", "table_fingerprint"]
