"""Typed configs of tabular fits: the privacy budget and the run (``kind: tabular`` YAML files)."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator

from medsynth.core.config import ConfigModel

#: The largest ``privacy.domain_budget`` a single table's DP fit takes.
MAX_DOMAIN_BUDGET = 0.9


class PrivacyConfig(ConfigModel):
    """The privacy budget of a fit.

    Attributes:
        epsilon: target epsilon; ``null`` (or ``.inf``) for a non-private fit.
        delta: target delta, below 1/n (n = rows of the table, or patients of a folder): a table whose noisy row
            count shows it too large for it takes a lower power-of-ten level, recorded in the ledger
            (:meth:`~medsynth.privacy.ledger.PrivacyLedger.take_delta_level`), or the fit refuses and names one.
        accountant: "rdp": every access to the data (domain estimates, marginals, DP-SGD) is composed as
            one Rényi-DP curve in the privacy ledger and converted to (epsilon, delta) once. (opacus' PRV
            accountant, tighter for DP-SGD alone, cannot compose with the other mechanisms.)
        domain_budget: share of (epsilon, delta) spent estimating domains read from the data
            (``public: false`` columns) with DP; 0 refuses such columns instead. A single table's DP fit takes at
            most :data:`MAX_DOMAIN_BUDGET`: the model needs the rest (0.98 left it none and failed with 'rho 0.0
            must be positive'); checked when fitting, so that models saved with more still load. A folder's DP fit
            refuses a domain budget that leaves its models less than 10% after the patient count and the numbers
            of rows per parent, and names the largest that would not.
        orderings: a DP fit tests, with DP, which orderings between its date columns (and number columns named like
            times) hold, and which such numbers equal the difference of two (``survtime = deathdate - diagdate``), and
            keeps them (:mod:`medsynth.tabular.orderings`: a gap or a computed column where it can, else sampled rows
            that break an ordering are drawn again; 2% of the budget per pair tested, at most 5%, and as much for the
            differences, from the model's share; a folder tests each table); false spends nothing on it (rules accepted
            in the schema are kept either way).
    """

    epsilon: float | None = None
    delta: float = Field(1e-5, gt=0, lt=1)
    accountant: Literal["rdp"] = "rdp"
    domain_budget: float = Field(0.1, ge=0, lt=1)
    orderings: bool = True

    @field_validator("accountant", mode="before")
    @classmethod
    def _acc(cls, v: Any) -> Any:
        if v == "prv":
            raise ValueError("accountant 'prv' is no longer offered: the privacy ledger composes every access (domains, "
                             "marginals, DP-SGD) in RDP and converts once; use accountant: rdp (or leave it out)")
        return v

    @field_validator("epsilon")
    @classmethod
    def _eps(cls, v: float | None) -> float | None:
        if v is None or math.isinf(v) and v > 0:
            return None
        if not (v > 0) or math.isnan(v):
            raise ValueError(f"epsilon {v} must be > 0 (or null / .inf for a non-private fit)")
        return float(v)

    @property
    def private(self) -> bool:
        """Whether the budget is finite (a DP fit)."""
        return self.epsilon is not None


#: The model of a fit that names none: for one table dp-aim. On the 10 real tables of
#: ``benchmarks/tabular_unseen.py`` at epsilon 1 (3 fits each, the target its name proposes) its mean TSTR AUROC
#: over the 8 tables that keep their outcome was 0.80 against dp-mst's 0.78, with the large gains where the
#: outcome depends on several columns (nhefs 0.76 vs 0.60, mgus2 0.79 vs 0.67, rotterdam 0.90 vs 0.84) and
#: losses within the fit-to-fit spread elsewhere (colon 0.88 vs 0.93); for a folder of tables dp-mst.
DEFAULT_TABLE_MODEL = "dp-aim"
DEFAULT_DATASET_MODEL = "dp-mst"
#: ... except for a table wider than this (columns, a public fact): AIM's rounds grow with the square of the
#: columns (a 789-column table had not finished in 400 s on a loaded 2-core machine); dp-mst fits it in seconds.
#: A table whose schema marks no target (``target: true``) gets dp-mst too: AIM's gain is the target's 3-way
#: marginals; without one, on 7 real tables nobody here developed on (tabular_unseen*.json, 2-8 fits each, pooled
#: in tabular_unseen_second_sweep.json's no_target_pooled) dp-mst predicted their outcome better on 6 (NCbirths
#: 0.68 vs 0.66, std 0.57 vs 0.46, HELPrct 0.54 vs 0.47, Rossi 0.54 vs 0.50), dp-aim on 1 (nwtco), within
#: fit-to-fit spreads as wide as the gaps (Rossi 0.26-0.96), and dp-mst fits faster.
AIM_DEFAULT_MAX_COLUMNS = 200


class TabularConfig(ConfigModel):
    """A tabular fit (``configs/ehr_*.yaml``, ``kind: tabular``).

    Attributes:
        model: a registered tabular synthesizer (``medsynth.tabular.TABULAR_MODELS``: "dp-aim", "dp-mst",
            "dp-merf", "dp-tvae", "dp-ctgan", "gaussian-copula", "ctgan", "tvae"); ``null`` (the default) is
            ``DEFAULT_TABLE_MODEL`` (dp-aim) for one table of at most ``AIM_DEFAULT_MAX_COLUMNS`` columns whose
            schema marks a target (``target: true``; ``schema infer`` proposes one from the names), else
            dp-mst, as for a folder (``DEFAULT_DATASET_MODEL``).
        privacy: the budget (``epsilon: null`` for non-private models).
        params: the model's own hyperparameters, validated against its config class.
        seed: seeds the fit (weights, noise, sampling).
        device: "auto", "cpu" or "cuda".
        threads: torch CPU threads (``null`` keeps torch's default).
    """

    kind: Literal["tabular"] = "tabular"
    model: str | None = None
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = Field(0, ge=0)
    device: str = "auto"
    threads: int | None = Field(None, ge=1)

    def model_for(self, *, dataset: bool, columns: int | None = None, target: bool | None = None) -> str:
        """The model fitted: ``model``, or the default for one table (dp-aim; dp-mst for more than
        ``AIM_DEFAULT_MAX_COLUMNS`` columns, or when the schema marks no target: ``target`` False) or a
        folder of tables (dp-mst)."""
        if self.model:
            return self.model
        if dataset or (columns is not None and columns > AIM_DEFAULT_MAX_COLUMNS) or target is False:
            return DEFAULT_DATASET_MODEL
        return DEFAULT_TABLE_MODEL


__all__ = ["AIM_DEFAULT_MAX_COLUMNS", "DEFAULT_DATASET_MODEL", "DEFAULT_TABLE_MODEL", "PrivacyConfig", "TabularConfig"]
