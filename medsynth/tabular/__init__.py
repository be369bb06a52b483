"""Synthetic EHR tables: DP-trained synthesizers (DP-MST, DP-TVAE, DP-CTGAN), SDV-backed ones,
the table schema and the encoding of columns.

The job's Python API is :func:`fit`, :func:`load`, :func:`sample`, :func:`infer_schema`, :func:`export` and
:func:`release_gaps` / :func:`nothing_usable`
(:mod:`medsynth.tabular.api`). This package imports nothing heavy (no torch, no sdv) on its own.
"""

from __future__ import annotations

from medsynth.core.registry import SYNTHESIZERS
from medsynth.tabular.api import NOTHING_USABLE, export, fit, infer_schema, load, nothing_usable, release_gaps, sample

#: The tabular entries of :data:`medsynth.core.registry.SYNTHESIZERS` (the registry is the one list).
TABULAR_MODELS: dict[str, str] = {k: v for k, v in SYNTHESIZERS.items() if v.startswith("medsynth.tabular.")}

__all__ = ["NOTHING_USABLE", "TABULAR_MODELS", "export", "fit", "infer_schema", "load", "nothing_usable", "release_gaps", "sample"]
