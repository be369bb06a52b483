"""Synthetic EHR tables: DP-trained synthesizers (DP-TVAE, DP-CTGAN, DP-MST), SDV-backed ones,
the table schema and the encoding of columns.

Import the submodules directly; this package imports nothing heavy (no torch, no sdv) on its own.
"""

from __future__ import annotations

#: The tabular entries of :data:`medsynth.core.registry.SYNTHESIZERS`.
TABULAR_MODELS: dict[str, str] = {
    "dp-tvae": "medsynth.tabular.dp_tvae:DPTVAE",
    "dp-ctgan": "medsynth.tabular.dp_ctgan:DPCTGAN",
    "dp-mst": "medsynth.tabular.mst:DPMST",
    "gaussian-copula": "medsynth.tabular.sdv_models:SDVGaussianCopula",
    "ctgan": "medsynth.tabular.sdv_models:SDVCTGAN",
    "tvae": "medsynth.tabular.sdv_models:SDVTVAE",
}

__all__ = ["TABULAR_MODELS"]
