"""What every tabular synthesizer shares: schema checks, domains, the ledger, sampling, save/load.

A subclass sets ``name``, ``private`` and ``Config`` (its typed hyperparameters, each default once)
and implements four hooks on :class:`~medsynth.tabular.encoding.Frame` data:

- ``_fit_frame(frame, gens)``: learn from the encoded table, recording its accesses in ``self.ledger``.
  ``gens.init`` is seeded by the user's seed (initialisation); ``gens.noise`` is the DP noise source
  (OS entropy for a DP fit, see :mod:`medsynth.privacy.noise`): every DP mechanism draws from it;
- ``_sample_frame(n, rng)``: draw ``n`` encoded rows using only ``rng`` (so a seed fixes the sample);
- ``_save_state(folder)`` / ``_load_state(folder, device)``: weights (state_dict / arrays), no pickles.

The base class turns frames into tables in the schema's types, applies ``--where`` conditions and
the schema's constraints by rejection (only rows that satisfy them are returned), and writes
``config.yaml``, ``schema.yaml`` (resolved domains), ``meta.json``, ``MODEL_CARD.md`` and
``privacy_ledger.json`` beside the weights.

**The release boundary of a DP fit.** Everything in the model folder derives only from DP outputs and
inputs declared public, so it may leave the hospital. What does not (the input schema as read from the
data, the exact row count, values clipped, timings, the data fingerprint) goes to a separate private
folder (``RUN/private/`` in a run directory; ``<model>/private/`` when a model is saved on its own),
which ``medsynth tabular export`` never copies. Under the add/remove relation the number of rows is
private too: a DP fit first measures a noisy count (charged to the ledger) and uses it wherever the row
count shapes the model (sampling rates, grids, the delta check).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import yaml

from medsynth.core.config import ConfigModel, validate_config
from medsynth.core.errors import (
    ConfigError,
    DataValidationError,
    NotFittedError,
    PrivacyBudgetError,
    RunDirectoryError,
)
from medsynth.core.files import atomic_dir, fingerprint_array, write_json, write_text
from medsynth.core.protocols import PrivacyReport
from medsynth.io.schema import (
    ColumnSchema,
    Constraint,
    TableSchema,
    category_key,
    cell_problems,
    check_constraints,
    infer_schema,
    public_assumptions,
    rule_assumption,
    rule_type_problems,
    validate_table,
)
from medsynth.privacy.ledger import LEDGER_FILE, PrivacyLedger
from medsynth.privacy.mechanisms import gaussian_sigma, noisy_count
from medsynth.privacy.noise import Generators
from medsynth.tabular import domain as domains
from medsynth.tabular.config import MAX_DOMAIN_BUDGET, PrivacyConfig
from medsynth.tabular.domain import plan_domain_budget, reopen_inferred_omissions, resolve_domain
from medsynth.tabular.encoding import Frame, TableCodec
from medsynth.tabular.orderings import (
    accepted_families,
    gap_columns,
    plan_tested,
    tested_bins,
    tested_differences,
    tested_families,
    tested_orderings,
)
from medsynth.tabular.rules import (
    NONE_SET,
    RulePlan,
    add_onehot,
    from_model,
    model_schema,
    output_schema,
    plan_rules,
    rule_categories,
    to_model,
    usable_rules,
    with_onehots,
)
from medsynth.tabular.structure import needs_decision

FORMAT_VERSION = 2
#: The head of a DP fit's saved schema: what its domains are.
DP_SCHEMA_HEADER = (
    "# The domains this DP fit decided (types, bounds, categories, missing states) for every column with public: false.\n"
    "# They are outputs of its DP mechanisms (privacy_ledger.json), not values read from the data: read_from_data\n"
    "# names the fields that the schema it was given had read from the data, and that DP decided anew here.\n")
#: Share of a DP fit's zCDP budget spent on the noisy row count.
COUNT_SHARE = 0.02
#: Fewest rows a non-private fit learns from: below it a synthesizer can only copy the rows it was given.
MIN_ROWS = 10
#: Keys of the models' fit info that depend on the data beyond the DP outputs (kept out of meta.json).
PRIVATE_KEYS = ("train_seconds", "fit_seconds", "private_stats", "rows", "clipped_to_bounds", "unknown_category_columns")


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
    #: Share of the model's budget it spends on 1-way marginals (marginal models): the DP domain release
    #: of discrete columns gets that share too and the model reuses its noisy counts (post-processing).
    oneway_share: ClassVar[float] = 0.0
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
            from medsynth.tabular import TABULAR_MODELS

            dp = ", ".join(m for m in TABULAR_MODELS if m.startswith("dp-"))
            raise ConfigError(
                f"'{self.name}' is not differentially private and cannot honour epsilon {privacy.epsilon:g}; "
                f"remove --epsilon (its outputs are labelled non-private) or use a DP model ({dp})"
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
        self.private_meta: dict[str, Any] = {}  # data-dependent facts of a DP fit: saved under private/ only
        self.rows_noisy: float | None = None
        self.rows_sigma: float | None = None  # the noise of rows_noisy (a DP fit)
        self.rule_plan = RulePlan()  # rules kept by construction (gaps, derived columns)
        self.output_schema: TableSchema | None = None
        #: DP-SGD fits: a callable taking a checkpoint dict (set by the run, which writes it under private/),
        #: and a checkpoint to resume from
        self.checkpoint_to: Callable[[dict[str, Any]], None] | None = None
        self.resume_state: dict[str, Any] | None = None
        self.data_fingerprint: str | None = None  # set by fit; kept out of DP models' files
        self.full_fingerprint: str | None = None  # of the whole table, where a DP fit keeps one row per person
        self.tested_plan: dict[str, Any] | None = None  # how a DP fit's tested rules reshape the table (a DP output)

    # -- fit ---------------------------------------------------------------------------------------
    @property
    def is_private(self) -> bool:
        """Whether this fit is differentially private (a DP model with a finite epsilon)."""
        return self.private and self.privacy.private

    def fit(self, data: pd.DataFrame, schema: TableSchema | None = None) -> TabularSynthesizer:
        """Learn from a table (checked against its schema first).

        Raises:
            DataValidationError: the table is empty, has an all-missing column, or does not match the schema.
            PrivacyBudgetError: delta >= 1/n, or a budget too small for what the fit must estimate. When a
                DP fit fails after it touched the data, the error carries the spent ledger
                (``exc.spent_ledger``): a retry on the same data composes with it.
        """
        if not isinstance(data, pd.DataFrame):
            raise DataValidationError(f"fit expects a pandas DataFrame, got {type(data).__name__}")
        if self.is_private and self.privacy.domain_budget > MAX_DOMAIN_BUDGET:  # type: ignore[union-attr]
            raise ConfigError(f"privacy.domain_budget {self.privacy.domain_budget} leaves the model too little of the "  # type: ignore[union-attr]
                              f"budget; give at most {MAX_DOMAIN_BUDGET} (--set privacy.domain_budget={MAX_DOMAIN_BUDGET})")
        odd = cell_problems(data)  # the kind of each cell only (never a value): a clear error, not one from pandas
        if odd:
            raise DataValidationError(odd, context="the table holds cells no column type can hold")
        schema = schema or self.input_schema
        if schema is None:
            import warnings

            # (a DP fit's stderr is released: numpy's overflow warnings on a value of ~1e154 or inf told it was there)
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                schema = infer_schema(data)
        if schema.unit is not None:  # the unit's identifier type is the schema's declaration, never re-decided by DP
            schema = schema.model_copy(update={"columns": [
                c.model_copy(update={"read_from_data": [f for f in c.read_from_data if f != "type"]})
                if c.name == schema.unit else c for c in schema.columns]})
        self.input_schema = schema
        clipped = validate_table(data, schema, redact=self.is_private)
        rules, ignored = usable_rules(schema, private=self.is_private)
        # (an accepted rule's number columns keep their types read from the data for DP to decide: the plan pairs
        # numbers whole or not, and writes a gapped one as its DP-decided gap and source say; declaring their types
        # here released whether any row held a fraction, in the ledger's public assumptions: adversary)
        self.rule_plan = plan_rules(schema, rules, private=self.is_private)
        # rules the fit may not use (read from the data, not accepted) are not enforced in any way either
        usable = schema.model_copy(update={"constraints": rules})
        self._rule_public: set[str] = set()
        if self.is_private:  # (an accepted rule's list of allowed values is public: those columns' categories)
            usable, self._rule_public = rule_categories(usable, rules)
        data, schema = to_model(data, schema, self.rule_plan, ends=not self.is_private), model_schema(usable, self.rule_plan)
        # an accepted rule naming a column the plan computes (cgd0's height <= futime beside futime = last_contact -
        # random) is checked on the written rows only: kept in the model's schema, which lacks the column, the saved
        # schema.yaml could not be read back and `tabular sample` refused (a data scientist)
        names = set(schema.names)
        self._accepted_checks = [c for c in schema.constraints if not set(c.columns) <= names]
        if self._accepted_checks:
            schema = schema.model_copy(update={"constraints": [c for c in schema.constraints if set(c.columns) <= names]})
        from medsynth.core.runtime import seed_everything

        seed_everything(self.seed)
        gens = Generators.for_fit(self.seed, private=self.is_private)
        unit = self.input_schema.unit
        terms = {} if unit is None or not self.is_private else {
            "unit": f"{PERSON_UNIT}: the rows sharing a value of '{unit}' (the schema's unit)",
            "contribution_bound": "1 row per person (one of their rows chosen at random, from OS entropy, before any "
                                  "mechanism runs; no mechanism reads their other rows; a row without a value of "
                                  f"'{unit}' counts as a person of its own)"}
        self.ledger = PrivacyLedger(private=self.is_private, target_epsilon=self.privacy.epsilon,
                                    target_delta=self.privacy.delta if self.is_private else None, **terms)
        self.ledger.mark_if_audited()  # audit-only hooks (seeded noise, gradient canaries): export refuses the run
        if self.is_private:
            for what in public_assumptions(usable):
                self.ledger.assume_public(what)
        self.private_meta = {"rows": len(data), "clipped_to_bounds": clipped}
        self.full_fingerprint = None
        if terms:
            self.private_meta["rows_before_one_per_person"] = len(data)
            # a resumed DP-SGD fit draws the rows afresh (OS entropy, never stored): each step still sees one row of
            # each person, and the steps compose as before; the whole table's fingerprint checks it is the same table
            self.full_fingerprint = table_fingerprint(data)
            data = one_row_per_person(data, unit, gens.noise)  # type: ignore[arg-type]
            self.private_meta["rows"] = len(data)
            self.ledger.assume_public(f"unit '{unit}': the rows sharing a value of '{unit}' are one person (the schema's "
                                      "declaration of how the table was collected)")
        for con in [] if self.is_private else rules:  # (a DP fit's are among public_assumptions above)
            self.ledger.assume_public(f"rule {con.kind} {con.columns}" + (" (read from the data, accepted as public)"
                                                                          if con.read_from_data else " (declared)"))
        ignored_notes = [(f"rule {con.kind} {con.columns} was suggested by the data alone and not accepted (public: "
                          "false): no fit takes it as a rule (set public: true if it is domain knowledge)") if con.suggested
                         else (f"rule {con.kind} {con.columns} was read from the data and not accepted (public: false): a "
                               "DP fit does not take it as a rule (set public: true to declare it domain knowledge); an "
                               "ordering its own DP test keeps is named in the fit's warning") for con in ignored]
        if self.is_private:  # which rules hold in every row is a fact about every row: the data owner's records only
            self.private_meta["rules_not_accepted"] = ignored_notes
        else:
            self.ledger.notes.extend(ignored_notes)
        t0 = time.perf_counter()
        try:
            self._fit_checked(data, schema, gens)
        except Exception as exc:  # (a bug's error too: a fit that crashed after touching the data lost its ledger, an
            if self.is_private and self.ledger.entries:  # adversary found, and a retry composed with nothing)
                self.ledger.status = "failed" if self.ledger.status == "complete" else self.ledger.status
                try:
                    exc.spent_ledger = self.ledger  # type: ignore[attr-defined]
                except AttributeError:  # (an exception type without a __dict__)
                    pass
            raise
        self.private_meta["fit_seconds"] = round(time.perf_counter() - t0, 3)
        if self.is_private:
            from medsynth.tabular.api import decided_otherwise

            self.private_meta.update(decided_otherwise(self, data))
        for key in PRIVATE_KEYS:  # data-dependent facts the models reported: out of the release
            if self.is_private and key in self.meta:
                self.private_meta[key] = self.meta.pop(key)
        return self

    def _epsilon_needed(self, omitted: list[str]) -> str | None:
        """A rough epsilon at which the columns' domains would start to stand above the noise: where a column's noise
        (3 sigma, from the domain release's per-column budget) falls to a quarter of the rows, since its values spread
        over a few ranges. The rows are the noisy row count less 2 of its deviations (a DP output; on a 20-row table
        the count alone gave 1 to 51 rows and advice from epsilon 2.2 to 61). Above epsilon 10 it points to public
        domains. Reads only DP outputs and the budget split."""
        from medsynth.privacy.mechanisms import cdp_epsilon

        led = self.ledger
        per = next((e.details["per_column"] for e in (led.entries if led else []) if isinstance(e.details, dict)
                    and isinstance(e.details.get("per_column"), dict)), None)
        rhos = [float(per[c]["rho"]) for c in omitted if per and isinstance(per.get(c), dict) and per[c].get("rho")]
        if not rhos or led is None or led.target_epsilon is None or not self.rows_noisy:
            return None
        noise = float(self.rows_sigma or 0.0)
        n = float(self.rows_noisy) - 2 * noise
        sigma = gaussian_sigma(float(np.median(rhos)))
        public = "declare the domains public (a data dictionary's ranges and categories cost no budget)"
        if n < 8:
            return f"the noisy row count ({self.rows_noisy:.0f}, noise {noise:.0f}) is too small to tell: {public}"
        factor = (3 * sigma / (n / 4)) ** 2  # rho scales with 1 / sigma^2
        if factor <= 1:
            return None
        need = cdp_epsilon(led.rho_budget * factor, led.conversion_delta)
        rows = (f"{n:.0f} rows (the DP count of rows, {self.rows_noisy:.0f} with noise {noise:.0f}, less 2 of its "
                "deviations: the true count stays private)")
        if need > 10:
            return f"columns would need epsilon above 10 at {rows}: {public}"
        return (f"at {rows} a column's noise (3 sigma = {3 * sigma:.0f}) "
                f"would fall to a quarter of them near epsilon {need:.2g} (a rough guide: values spread over many ranges "
                f"need more), or {public}")

    def _fit_checked(self, data: pd.DataFrame, schema: TableSchema, gens: Generators) -> None:
        fingerprint = self.full_fingerprint or table_fingerprint(data)  # of the table as given (before tested orderings)
        if self.resume_state is None:
            data = self._prepare(data, schema, gens)
        else:  # a resumed DP-SGD fit: its DP outputs so far are restored, never measured (paid for) again
            data = self._restore(data, self.resume_state["fit"])
        if not self.schema.modelled:  # type: ignore[union-attr]
            omitted = [c.name for c in self.schema.columns if c.omitted]  # type: ignore[union-attr]
            need = self._epsilon_needed(omitted) if omitted and self.is_private else None
            raise PrivacyBudgetError(
                f"nothing can be modelled: {'DP could release nothing about columns ' + str(omitted) if omitted else 'the table has only identifier columns'}"
                " at this budget (too few rows for the noise). Declare their types and bounds/categories public in the "
                "schema (public: true), or raise --epsilon or privacy.domain_budget (--set privacy.domain_budget=0.3)"
                + (f"; {need}" if need else "")
                + (f". The fit read one row of each person (the schema's unit '{self.input_schema.unit}': about "  # type: ignore[union-attr]
                   f"{self.rows_noisy:.0f} of them, a noisy count); if '{self.input_schema.unit}' does not identify "  # type: ignore[union-attr]
                   "people, take unit out of the schema" if self.is_private and self.input_schema is not None
                   and self.input_schema.unit else ""))
        self.codec = TableCodec(self.schema)  # type: ignore[arg-type]
        if self.is_private:  # DP-released categories may leave rare values out: they become "missing"
            self.codec.unknown_as_missing = set(self.schema.private_domain_columns()) | getattr(self, "_rule_public", set())  # type: ignore[union-attr]
        frame = self.codec.encode(data)
        self.codec.fill_unmodelled(frame, gens.noise)  # cells of columns without a missing state (DP fits only)
        if self.is_private:
            self.private_meta["unknown_category_columns"] = sorted(self.codec.unknown_columns)
        self.data_fingerprint = fingerprint  # the data owner's private records only
        if self.rule_plan:
            self.meta["rules"] = self.rule_plan.to_dict()
        self.output_schema = output_schema(self.schema, [*self.schema.constraints, *self._output_checks()], self.rule_plan)  # type: ignore[arg-type,union-attr]
        self._fit_frame(frame, gens)

    def _prepare(self, data: pd.DataFrame, schema: TableSchema, gens: Generators) -> pd.DataFrame:
        """The accesses before the model's own: noisy row count, types and domains (DP fits), the orderings a DP fit
        tests (:meth:`_tested_orderings`), the meta. Returns the table as the model learns it."""
        n = len(data)
        led = self.ledger
        if self.is_private:
            schema = reopen_inferred_omissions(schema)
            plan_domain_budget(schema, privacy=self.privacy, ledger=led)  # type: ignore[arg-type]  # reserves threshold delta
            rho = COUNT_SHARE * led.rho_budget  # type: ignore[union-attr]
            n_hat = noisy_count(n, rho, gens.noise)
            unit = self.input_schema.unit if self.input_schema is not None else None
            led.record("number of persons (one row each)" if unit else "number of rows", "Gaussian mechanism (zCDP)",
                       rho=rho, sigma=gaussian_sigma(rho),  # type: ignore[union-attr]
                       released="rows_noisy in meta.json")
            self.rows_noisy, self.rows_sigma = max(1.0, n_hat), gaussian_sigma(rho)
            if led.take_delta_level(self.rows_noisy, self.rows_sigma):  # type: ignore[union-attr]  # a table too large for delta
                self.privacy = self.privacy.model_copy(update={"delta": led.target_delta})  # type: ignore[union-attr]
        else:
            if n < MIN_ROWS:  # (a DP fit has no such check: its noise covers tiny tables, and n is private)
                raise DataValidationError(
                    f"the table has {n} row(s); a non-private synthesizer needs at least {MIN_ROWS} to learn from (with "
                    "fewer it can only copy the real rows); give more rows, or use a DP model (e.g. --model dp-mst "
                    "--epsilon 1), whose noise protects them")
            self.rows_noisy = float(n)
        oneway_rho = 0.0
        model_rho = led.rho_budget * (1 - COUNT_SHARE - self.privacy.domain_budget) if self.is_private else 0.0  # type: ignore[union-attr]
        if self.is_private and self.oneway_share:
            # per column a DP fit may model: not the schema's 'modelled', whose identifiers were read from the data
            oneway_rho = self.oneway_share * model_rho / max(len([c for c in schema.columns if not c.omitted and (
                needs_decision(c) or c.type != "identifier")]), 1)
        # looks for unlocated numbers come out of the model's budget after its 1-way marginals: at most
        # RESERVE_MODEL_SHARE of it (domain_budget 0.5 at epsilon 0.3 left the model rho 0 and the fit refused)
        reserve = min(domains.LOCATE_RESERVE * led.rho_budget,  # type: ignore[union-attr]
                      domains.RESERVE_MODEL_SHARE * model_rho * (1 - self.oneway_share)) if self.is_private else 0.0
        self.domain_oneways: dict[str, Any] = {}
        self.oneway_rho = oneway_rho
        self.tested_plan = None  # (a refit tests afresh)
        self.__dict__.pop("_probe_rows_cache", None)  # (a refit's release gaps read its own rows)
        self.__dict__.pop("_faint_targets_cache", None)
        self.off_model_checks: list[Constraint] = list(getattr(self, "_accepted_checks", []))
        self.schema = resolve_domain(schema, data, privacy=self.privacy if self.is_private else PrivacyConfig(),
                                     ledger=led, rng=gens.noise, rows=self.rows_noisy,  # type: ignore[arg-type]
                                     oneway_rho=oneway_rho, oneways=self.domain_oneways if self.oneway_share else None,
                                     reserve_rho=reserve,
                                     rows_sigma=self.rows_sigma, other=True)
        if self.is_private:
            self._drop_untyped_rules()
        kept = self._tested_orderings(data, gens) if self.is_private and self.privacy.orderings else []  # type: ignore[union-attr]
        if self.tested_plan:
            data = self._tested_table(data)
        self.meta = {
            "columns": len(schema.columns),
            # A plain hash of the table would let anyone holding candidate tables tell which one was
            # used, which DP forbids: DP fits keep it under private/ only.
            "data_fingerprint": None if self.is_private else table_fingerprint(data),
            # the columns as decided (a DP fit's input schema's identifiers were read from the data)
            "private_domain_columns": self.schema.private_domain_columns() if self.is_private else [],
        }
        if self.is_private:
            self.meta["rows_noisy"] = round(self.rows_noisy)
            self.meta["rows_note"] = "noisy count (DP, charged to the ledger): the exact count is private" + (
                f" (of persons: one row of each, the schema's unit '{self.input_schema.unit}')"  # type: ignore[union-attr]
                if self.input_schema is not None and self.input_schema.unit else "")
            if self.meta["private_domain_columns"]:
                self.meta["domain_note"] = (
                    "values outside the DP-estimated bounds are clipped; values of unreleased categories are written as "
                    "'(other)' where DP estimates that they hold rows (else they are imputed at random within the domain, "
                    "as are missing values where DP did not confirm a missing state)")
        else:
            self.meta["rows"] = n
            self.meta["clipped_to_bounds"] = self.private_meta["clipped_to_bounds"]
        if self.off_model_checks:  # (DP-tested rules: DP outputs; read back by load)
            self.meta["output_checks"] = [c.model_dump(mode="json", exclude_none=True) for c in self.off_model_checks]
        if kept:  # a DP output, told to the user (the rules read from the data stay private)
            self.meta["rules_tested"] = [list(c.columns) for c in kept if c.kind == "le"]
            if any(c.kind == "derived" for c in kept):
                self.meta["derived_tested"] = [list(c.columns) for c in kept if c.kind == "derived"]
            if any(c.kind == "onehot" for c in kept):
                self.meta["families_tested"] = [{"columns": list(c.columns), "ones": list(c.ones_allowed())}
                                                for c in kept if c.kind == "onehot"]
            if any(c.kind == "bins" for c in kept):
                self.meta["bins_tested"] = [{"columns": list(c.columns), "edges": c.edges, "labels": c.labels}
                                            for c in kept if c.kind == "bins"]
        return data

    def _drop_untyped_rules(self) -> None:
        """Leave out the accepted rules that the DP-released types no longer admit (an ordering of a column DP released
        as a code: fertil1's y74educ..y84educ <= educ, accepted, each a single value 0 by its DP domain, refused every
        fit with a validation traceback after its budget was spent: a data scientist), each with a ledger note."""
        types = {c.name: c.type for c in self.schema.columns}  # type: ignore[union-attr]

        def kept(rules: list[Constraint]) -> list[Constraint]:
            out = []
            for con in rules:
                why = rule_type_problems(con, types)
                if not why:
                    out.append(con)
                    continue
                self.ledger.notes.append(  # type: ignore[union-attr]
                    f"rule {con.kind} {list(con.columns)}: left out: the types DP released do not hold it, {why[0]} "
                    "(declare the column's type and bounds public in the schema to keep the rule)")
                said = rule_assumption(con)  # (its public assumption: declared, not relied on)
                self.ledger.public_assumptions = [  # type: ignore[union-attr]
                    f"{a}; left out of this fit (see the ledger notes)" if a.startswith(said) and "left out" not in a else a
                    for a in self.ledger.public_assumptions]  # type: ignore[union-attr]
            return out

        self.schema = self.schema.model_copy(update={"constraints": kept(list(self.schema.constraints))})  # type: ignore[union-attr]
        self.off_model_checks = kept(self.off_model_checks)

    def _output_checks(self) -> list[Constraint]:
        """The rules the written rows are checked against beyond the model's schema's: those naming a column the model
        computes (meta ``output_checks``)."""
        return [Constraint.model_validate(c) for c in (getattr(self, "meta", None) or {}).get("output_checks", [])]

    def _tested_orderings(self, data: pd.DataFrame, gens: Generators) -> list[Constraint]:
        """Test with DP which orderings between the time columns DP located hold
        (:func:`~medsynth.tabular.orderings.tested_orderings`), and which number columns named like times equal the
        difference of one (:func:`~medsynth.tabular.orderings.tested_differences`); plan each kept ordering as a gap,
        whose domain follows from its columns' DP domains (post-processing), and each difference as a column computed
        from its sources; columns a rule transforms already are left out. Returns the rules kept (``self.tested_plan``
        says how the table is reshaped)."""
        plan, schema = self.rule_plan, self.schema
        taken = ({n for g in plan.gaps for n in g} | {n for d in plan.derived for n in d} | {n for c in plan.clips for n in c}
                 | {n for b in plan.bins for n in b})
        found = tested_orderings(data, schema, taken=taken, ledger=self.ledger, rng=gens.noise)  # type: ignore[arg-type]
        derived = tested_differences(data, schema, found.held, taken=taken, ledger=self.ledger, rng=gens.noise)  # type: ignore[arg-type]
        taken |= {n for con in derived for n in con.columns}
        binned = tested_bins(data, schema, taken=taken, ledger=self.ledger, rng=gens.noise,  # type: ignore[arg-type]
                             rho_total=self.ledger.rho_budget, rows=float(self.rows_noisy or 0.0))  # type: ignore[union-attr]
        taken |= {n for con in binned for n in con.columns}
        taken |= {n for con in schema.constraints if con.kind == "onehot" for n in con.columns}  # (accepted: redrawn)
        families = tested_families(data, schema, taken=taken, ledger=self.ledger, rng=gens.noise,  # type: ignore[arg-type]
                                   rho_total=self.ledger.rho_budget)  # type: ignore[union-attr]
        tested, checked = plan_tested(schema, found, derived, binned)  # type: ignore[arg-type]
        for con in families:  # each modelled as one category column (which member is set), not redrawn
            add_onehot(tested, schema, con)  # type: ignore[arg-type]
        modelled = accepted_families(schema, taken - {n for c in schema.constraints if c.kind == "onehot"  # type: ignore[arg-type]
                                                      for n in c.columns})
        for con in modelled:  # (an accepted family likewise, where DP kept its members 0/1 and never missing: redrawing
            # the rows that broke it skewed Ecdat::HI's regions, south 30% -> 35-49% at epsilon 1 and 10, a data scientist)
            add_onehot(tested, schema, con)  # type: ignore[arg-type]
        for con in schema.constraints:  # type: ignore[union-attr]
            if con.kind == "onehot" and con.public and con not in modelled:
                self.ledger.notes.append(  # type: ignore[union-attr]
                    f"rule onehot {con.columns}: kept by drawing again the sampled rows that break it (a member is a "
                    "target, may be missing, or is not 0/1 by its DP domain), which may move the members' rates")
        if checked:  # (sampled rows that break one are drawn again: the output schema's constraints)
            self.schema = schema = schema.model_copy(update={"constraints": [*schema.constraints, *checked]})  # type: ignore[union-attr]
        computed = {c for c, _, _ in tested.derived} | {c for c, _ in tested.bins}
        if tested:
            sources = [schema.column(n) for n in dict.fromkeys(n for g in tested.gaps for n in g)]  # type: ignore[union-attr]
            self.tested_plan = {"plan": tested.to_dict(), "sources": [c.model_dump(mode="json") for c in sources]}
            self.rule_plan = plan.merged(tested)
            gapped = gap_columns(schema, tested.gaps, found.tied)  # type: ignore[arg-type]
            # a rule naming a computed column is checked on the written rows only (the output schema's), never kept in the
            # model's schema, which does not hold the column: lymph_node's tested rectime <= survtime, both computed from
            # dates, stayed there and no zero-config fit's saved schema.yaml could be read back (`tabular sample` refused)
            self.off_model_checks = [*self.off_model_checks, *(c for c in gapped.constraints if set(c.columns) & computed)]
            self.schema = with_onehots(gapped.model_copy(update={
                "columns": [c for c in gapped.columns if c.name not in computed],
                "constraints": [c for c in gapped.constraints if not set(c.columns) & computed]}), tested)
            dropped = [*(b for b, _ in tested.gaps), *computed, *tested.onehot_members]
            for b in dropped:  # their located 1-ways are not what the model sees
                self.domain_oneways.pop(b, None)
            for e in self.ledger.entries:  # type: ignore[union-attr]  # (the ledger says so: it listed them as reused)
                if e.details and e.details.get("reused_as_one_way_marginals"):
                    e.details["reused_as_one_way_marginals"] = [c for c in e.details["reused_as_one_way_marginals"]
                                                                if c not in dropped]
        return [*checked, *(c for c in derived if c.columns[0] in computed), *(c for c in binned if c.columns[0] in computed),
                *families]

    # -- checkpoints (DP-SGD fits) ----------------------------------------------------------------
    def fit_state(self) -> dict[str, Any]:
        """What a resumed fit restores instead of measuring again: the resolved schema, the ledger so far,
        the noisy row count and the meta (DP outputs), plus the table's private fingerprint."""
        return {"schema": self.schema.to_yaml(), "ledger": json.dumps(_jsonable(self.ledger.to_dict())),  # type: ignore[union-attr]
                "rows_noisy": float(self.rows_noisy or 0.0), "meta": json.dumps(_jsonable(self.meta)),
                "fingerprint": self.data_fingerprint, "tested_plan": json.dumps(self.tested_plan)}

    def _restore(self, data: pd.DataFrame, state: Mapping[str, Any]) -> pd.DataFrame:
        if state["fingerprint"] != (self.full_fingerprint or table_fingerprint(data)):
            raise RunDirectoryError("cannot resume: the table differs from the one this run was fitted on "
                                    "(give the same --data file, or start a new run)")
        self.schema = TableSchema.model_validate(yaml.safe_load(state["schema"]))
        self.ledger = PrivacyLedger.from_dict(json.loads(state["ledger"]))
        if self.is_private and self.ledger.target_delta != self.privacy.delta:  # type: ignore[union-attr]  # a lower level
            self.privacy = self.privacy.model_copy(update={"delta": self.ledger.target_delta})  # type: ignore[union-attr]
        self.rows_noisy = float(state["rows_noisy"])
        self.meta = json.loads(state["meta"])
        self.tested_plan = json.loads(state.get("tested_plan") or "null")
        if self.tested_plan:  # the orderings the first run's DP test kept: the table is reshaped as it was, not re-tested
            self.rule_plan = self.rule_plan.merged(RulePlan.from_dict(self.tested_plan["plan"]))
            data = self._tested_table(data)
        return data

    def _tested_table(self, data: pd.DataFrame) -> pd.DataFrame:
        """The table with the gaps of the orderings a DP test kept (``self.tested_plan``) in place of their columns, its
        families of 0/1 columns as one column each, and without the columns it computes (a plan without gaps has no gap
        source: a schema of no column refused)."""
        plan = self.tested_plan or {}
        rules = RulePlan.from_dict(plan["plan"])
        if not plan["sources"]:  # (no gap: the schema only types gaps' sources)
            return to_model(data, self.schema, rules)  # type: ignore[arg-type]
        return to_model(data, TableSchema(columns=[ColumnSchema.model_validate(c) for c in plan["sources"]]), rules)

    def _checkpoint(self, train_state: dict[str, Any]) -> None:
        """Hand a training checkpoint (with :meth:`fit_state` and the model's extra state) to ``checkpoint_to``."""
        if self.checkpoint_to is not None:
            self.checkpoint_to({"fit": self.fit_state(), "train": train_state, "extra": self._extra_state()})

    def _extra_state(self) -> dict[str, Any]:
        """Model state beside the trained module that a resume needs (e.g. a GAN's generator)."""
        return {}

    @property
    def rows_estimate(self) -> int:
        """The number of training rows as this model may state it: exact for a non-private fit, the
        noisy (DP) count for a DP fit (use it, e.g., to sample a table of the training set's size)."""
        self._require_fitted()
        return int(self.meta.get("rows_noisy") or self.meta.get("rows") or 0)

    def _fit_frame(self, frame: Frame, gens: Generators) -> None:  # pragma: no cover - abstract
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

    def rho_left(self) -> float:
        """zCDP budget left for the model after the accesses recorded so far (DP fits)."""
        return self.ledger.rho_remaining()  # type: ignore[union-attr]

    # -- sample --------------------------------------------------------------------------------------
    def sample(self, n: int, *, where: Mapping[str, Any] | None = None, seed: int | None = None) -> pd.DataFrame:
        """Draw ``n`` synthetic rows in the table's own types.

        Args:
            n: rows to draw.
            where: ``{column: value}`` that every row must have (categorical/boolean columns).
            seed: fixes the sample (same seed, same rows); ``None`` draws fresh ones.

        Raises:
            NotFittedError: before fit/load.
            DataValidationError: for a condition outside the domain, or one too rare to sample.
        """
        self._require_fitted()
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise DataValidationError(f"n {n!r} must be a non-negative integer")
        conditions = self._family_conditions(dict(where or {}))
        codes = {k: self.codec.category_code(k, v) for k, v in conditions.items()}  # type: ignore[union-attr]
        rng = np.random.default_rng(seed)
        parts: list[pd.DataFrame] = []
        got, drawn, kept, rounds = 0, 0, 0, 0
        while got < n:
            rate = max(kept / drawn, 1e-3) if drawn else 1.0
            m = int(min(max(math.ceil((n - got) / rate * 1.1), 64), 2_000_000))
            df = self._sample_table(m, rng, codes)
            drawn += m
            kept += len(df)
            got += len(df)
            parts.append(df)
            rounds += 1
            if rounds >= 30 and got < n:
                what = f"conditions {conditions}" if codes else "the schema's constraints"
                raise DataValidationError(
                    f"only {kept} of {drawn} sampled rows satisfy {what}; the model gives them too little "
                    "probability to sample efficiently: relax them or check the schema" + (
                        f" (orderings a DP test kept: {self.meta.get('rules_tested')}; privacy.orderings: false fits "
                        "without them)" if self.meta.get("rules_tested") and not codes else "")
                )
        empty = Frame(n=0, num={c.name: np.zeros(0) for c in self.codec.numeric},  # type: ignore[union-attr]
                      cat={c.name: np.zeros(0, dtype=np.int64) for c in self.codec.discrete})  # type: ignore[union-attr]
        out = (pd.concat(parts, ignore_index=True).iloc[:n].reset_index(drop=True) if parts
               else from_model(self.codec.decode(empty, rounded=self.is_private), self.schema, self.rule_plan))  # type: ignore[union-attr, arg-type]
        for col in self.schema.columns:  # type: ignore[union-attr]
            if col.type == "identifier":
                out[col.name] = np.array([f"syn-{i:07d}" for i in range(1, len(out) + 1)], dtype=object)
        return out

    def _sample_table(self, m: int, rng: np.random.Generator, codes: Mapping[str, int]) -> pd.DataFrame:
        """Draw ``m`` rows and keep those meeting the conditions (codes) and the output constraints."""
        frame = self._sample_frame(m, rng)
        if codes:
            mask = np.ones(frame.n, dtype=bool)
            for col, code in codes.items():
                mask &= frame.cat[col] == code
            frame = frame.take(np.nonzero(mask)[0])
        df = from_model(self.codec.decode(frame, rounded=self.is_private), self.schema, self.rule_plan)  # type: ignore[union-attr, arg-type]
        if self.output_schema.constraints and len(df):  # type: ignore[union-attr]
            df = df[check_constraints(df, self.output_schema)]  # type: ignore[arg-type]
        return df

    def _family_conditions(self, conditions: dict[str, Any]) -> dict[str, Any]:
        """Conditions on the members of a family modelled as one column (``edlevel2=1``) as conditions on it
        (``edlevel#onehot=edlevel2``); a member set to 0 names no one value of it: refused, saying what to ask."""

        out = dict(conditions)
        for name, members in self.rule_plan.onehots:
            asked = {m: out.pop(m) for m in members if m in out}
            if not asked:
                continue
            ones = [m for m, v in asked.items() if category_key(v) in ("1", "True")]
            zeros = [m for m, v in asked.items() if category_key(v) in ("0", "False")]
            if len(ones) == 1 and len(ones) + len(zeros) == len(asked):
                out[name] = ones[0]
            elif not ones and len(zeros) == len(members) and self.rule_plan.outputs[name]["ones"][0] == 0:  # none set
                out[name] = NONE_SET
            else:
                raise DataValidationError(
                    f"conditions {asked} on {', '.join(members)}: this model keeps one of them set in each row (a family "
                    "of 0/1 columns), so a condition sets one of them to 1 (e.g. --where "
                    f"{members[0]}=1); rows with a member at 0 are any of the others")
        return out

    # -- privacy ---------------------------------------------------------------------------------------
    @property
    def privacy_ledger(self) -> PrivacyLedger:
        """Every access the fit made to the data, with its cost (see :mod:`medsynth.privacy.ledger`)."""
        self._require_fitted()
        return self.ledger  # type: ignore[return-value]

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

    def save(self, path: str | Path, *, overwrite: bool = False, private_dir: str | Path | None = None) -> Path:
        """Write the fitted model into folder ``path`` atomically (config, schema, weights, meta, ledger,
        model card).

        For a DP fit everything in ``path`` derives from DP outputs and public inputs; what does not (the
        input schema, exact row count, timings, clipping counts, the data fingerprint) goes to
        ``private_dir`` (default ``path/private``, a folder never to release).
        """
        from medsynth.core.rundir import environment_info
        from medsynth.tabular.model_card import model_card

        self._require_fitted()
        dest = Path(path)
        with atomic_dir(dest, overwrite=overwrite) as tmp:
            write_text(tmp / "config.yaml", yaml.safe_dump(self._config_dict(), sort_keys=False))
            # (a DP fit's says what its domains are: a privacy officer read "read_from_data: [min, max]" as real values)
            write_text(tmp / "schema.yaml", (DP_SCHEMA_HEADER if self.is_private else "") + self.schema.to_yaml())  # type: ignore[union-attr]
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
            write_text(tmp / "MODEL_CARD.md", model_card(self))
            if self.is_private:
                self._save_private(Path(private_dir) if private_dir is not None else tmp / "private")
            elif self.input_schema is not None:
                self.input_schema.save(tmp / "input_schema.yaml")
        return dest

    def _save_private(self, folder: Path) -> None:
        """The data owner's records of a DP fit (never released)."""
        folder.mkdir(parents=True, exist_ok=True)
        write_text(folder / "README.txt", "Private: derived from the real data without DP. Never release this folder.\n")
        if self.input_schema is not None:
            self.input_schema.save(folder / "input_schema.yaml")
        write_json(folder / "fit.json", _jsonable({**self.private_meta, "data_fingerprint": self.data_fingerprint}))

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
            from medsynth.core.rundir import MARKER, RunDir, run_state

            info = RunDir(Path(path)).info if (Path(path) / MARKER).is_file() else {}
            if run_state(info) in ("failed", "stopped", "running", "stale"):
                # (a data scientist sampled a refused fit's folder and read of config.yaml, which it holds)
                raise RunDirectoryError(f"'{path}' is a fit that did not finish (run.json: {run_state(info)}"
                                        + (f": {info['error']}" if info.get("error") else "") + "): it holds no model to "
                                        "sample; fit again (its ledger counts what the attempt spent)")
            raise RunDirectoryError(f"'{path}' is not a saved tabular model (no model/config.yaml and meta.json); "
                                    "give the --out folder of `medsynth tabular fit`")
        cfg = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
        klass = cls if cls is not TabularSynthesizer else resolve(SYNTHESIZERS, cfg["model"])
        if klass.name != cfg["model"]:
            raise RunDirectoryError(f"'{path}' holds a '{cfg['model']}' model, not '{klass.name}'")
        obj = klass(cfg["params"], privacy=cfg["privacy"], seed=int(cfg["seed"]), device=device)
        obj.schema = TableSchema.load(folder / "schema.yaml")
        for cand in (folder / "input_schema.yaml", folder / "private" / "input_schema.yaml"):
            if cand.is_file():
                obj.input_schema = TableSchema.load(cand)
        obj.codec = TableCodec(obj.schema)
        obj.ledger = PrivacyLedger.load(folder / LEDGER_FILE)
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        obj.meta = {k: v for k, v in meta.items() if k not in ("format_version", "model", "private", "label", "privacy", "versions", "files")}
        obj.rule_plan = RulePlan.from_dict(obj.meta.get("rules"))
        obj.output_schema = output_schema(obj.schema, [*obj.schema.constraints, *obj._output_checks()], obj.rule_plan)
        obj._load_state(folder, device)
        return obj


#: How a ledger's unit begins where the schema's unit makes the person the unit (the model card reads it back).
PERSON_UNIT = "one person"


def one_row_per_person(data: pd.DataFrame, unit: str, rng: np.random.Generator) -> pd.DataFrame:
    """One row of each person (the rows sharing a value of ``unit``), chosen uniformly at random and independently
    per person with ``rng`` (a DP fit's OS-entropy noise generator): a person's rows then contribute one row, so
    every mechanism's sensitivity-1 analysis covers the person. A row without a value of ``unit`` is a person of its
    own. Rows keep their order."""
    from medsynth.io.dataset import key_string
    from medsynth.tabular.multi_counts import one_per_key

    # 1, 1.0, "1" and "001" are one person (a key zero-padded on some rows only was two: an adversary)
    keys = data[unit].map(lambda v: None if pd.isna(v) else key_string(v))
    return data.loc[one_per_key(keys, rng)].reset_index(drop=True)


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
