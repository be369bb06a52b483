"""Synthetic EHR tables: DP-trained synthesizers (DP-TVAE, DP-CTGAN, DP-MST), SDV-backed ones,
the table schema and the encoding of columns.

Import the submodules directly; this package imports nothing heavy (no torch, no sdv) on its own.
"""

from __future__ import annotations

from medsynth.core.registry import SYNTHESIZERS

#: The tabular entries of :data:`medsynth.core.registry.SYNTHESIZERS` (the registry is the one list).
TABULAR_MODELS: dict[str, str] = {k: v for k, v in SYNTHESIZERS.items() if v.startswith("medsynth.tabular.")}

__all__ = ["TABULAR_MODELS"]
