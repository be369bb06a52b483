"""Typed configs of tabular fits: the privacy budget and the run (``kind: tabular`` YAML files)."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator

from medsynth.core.config import ConfigModel


class PrivacyConfig(ConfigModel):
    """The privacy budget of a fit.

    Attributes:
        epsilon: target epsilon; ``null`` (or ``.inf``) for a non-private fit.
        delta: target delta; must be below 1/n (n = rows of the table).
        accountant: "rdp": every access to the data (domain estimates, marginals, DP-SGD) is composed as
            one Rényi-DP curve in the privacy ledger and converted to (epsilon, delta) once. (opacus' PRV
            accountant, tighter for DP-SGD alone, cannot compose with the other mechanisms.)
        domain_budget: share of (epsilon, delta) spent estimating domains read from the data
            (``public: false`` columns) with DP; 0 refuses such columns instead.
    """

    epsilon: float | None = None
    delta: float = Field(1e-5, gt=0, lt=1)
    accountant: Literal["rdp"] = "rdp"
    domain_budget: float = Field(0.1, ge=0, lt=1)

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


#: The model of a fit that names none: for one table dp-aim, which predicted at least as well as dp-mst on 9 of
#: the 10 real tables of ``benchmarks/tabular_unseen.py`` at epsilon 1 (nhefs, mgus2, rotterdam: +0.12 TSTR
#: AUROC with the target its name proposes) at seconds per fit; for a folder of tables dp-mst (patient-level DP).
DEFAULT_TABLE_MODEL = "dp-aim"
DEFAULT_DATASET_MODEL = "dp-mst"


class TabularConfig(ConfigModel):
    """A tabular fit (``configs/ehr_*.yaml``, ``kind: tabular``).

    Attributes:
        model: a registered tabular synthesizer (``medsynth.tabular.TABULAR_MODELS``: "dp-aim", "dp-mst",
            "dp-merf", "dp-tvae", "dp-ctgan", "gaussian-copula", "ctgan", "tvae"); ``null`` (the default) is
            ``DEFAULT_TABLE_MODEL`` (dp-aim) for one table and ``DEFAULT_DATASET_MODEL`` (dp-mst) for a folder.
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

    def model_for(self, *, dataset: bool) -> str:
        """The model fitted: ``model``, or the default for one table (dp-aim) or a folder of tables (dp-mst)."""
        return self.model or (DEFAULT_DATASET_MODEL if dataset else DEFAULT_TABLE_MODEL)


__all__ = ["DEFAULT_DATASET_MODEL", "DEFAULT_TABLE_MODEL", "PrivacyConfig", "TabularConfig"]
