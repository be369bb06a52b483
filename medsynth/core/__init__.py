"""Core: configs, errors, runtime (device/AMP/seeding/distributed), run directories, registry."""

from __future__ import annotations

from medsynth.core.errors import (
    ConfigError,
    DataValidationError,
    MedsynthError,
    NotFittedError,
    PrivacyBudgetError,
    RunDirectoryError,
)

__all__ = [
    "ConfigError",
    "DataValidationError",
    "MedsynthError",
    "NotFittedError",
    "PrivacyBudgetError",
    "RunDirectoryError",
]
