"""Names used in configs and on the command line, mapped to the classes that implement them.

Plain dicts of ``name -> "module:Class"``. The classes are imported only when asked for (with
:func:`resolve`), so looking at the registry never imports torch, monai or sdv, and ``core`` does not
depend on the domain packages at import time. No globbing, no plugin discovery: adding a model means
adding one line here (and the contract tests pick it up).
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from medsynth.core.errors import ConfigError

#: Synthesizers (imaging and tabular), by the name used in configs and ``--model``.
SYNTHESIZERS: dict[str, str] = {
    "vae3d": "medsynth.imaging.vae3d:VAE3D",
    "gan3d": "medsynth.imaging.gan3d:GAN3D",
    "ldm3d": "medsynth.imaging.ldm3d:LDM3D",
    "dp-tvae": "medsynth.tabular.dp_tvae:DPTVAE",
    "dp-ctgan": "medsynth.tabular.dp_ctgan:DPCTGAN",
    "dp-mst": "medsynth.tabular.mst:DPMST",
    "dp-aim": "medsynth.tabular.aim:DPAIM",
    "dp-merf": "medsynth.tabular.merf:DPMERF",
    "gaussian-copula": "medsynth.tabular.sdv_models:SDVGaussianCopula",
    "ctgan": "medsynth.tabular.sdv_models:SDVCTGAN",
    "tvae": "medsynth.tabular.sdv_models:SDVTVAE",
}

#: Multi-table synthesizers (a folder of related tables), by the name used in configs and ``--model``.
MULTITABLE_SYNTHESIZERS: dict[str, str] = {
    "dp-mst": "medsynth.tabular.multi_mst:MultiTableDPMST",
    "dp-aim": "medsynth.tabular.multi_mst:MultiTableDPAIM",
    "hma": "medsynth.tabular.multi_hma:HMA",
}

#: Translators, by the name used in configs.
TRANSLATORS: dict[str, str] = {
    "cyclegan": "medsynth.translation.cyclegan:CycleGANTranslator",
}

#: Experiment config schemas, by the ``kind`` field at the top of each YAML in ``configs/``.
CONFIG_KINDS: dict[str, str] = {
    "demo": "medsynth.demo:DemoConfig",
    "mr2ct_cyclegan": "medsynth.translation.config:CycleGANConfig",
    "vae3d": "medsynth.imaging.config:VAE3DConfig",
    "gan3d": "medsynth.imaging.config:GAN3DConfig",
    "ldm3d": "medsynth.imaging.config:LDM3DConfig",
    "tabular": "medsynth.tabular.config:TabularConfig",
}


#: Data formats shared across jobs, by name: ``table`` is the schema YAML of ``medsynth schema infer``, read by
#: fitting and by evaluation alike (DESIGN rule 5 puts it in ``io``; until it moves there, evaluation reaches it here).
FORMATS: dict[str, str] = {
    "table_schema": "medsynth.tabular.schema:TableSchema",
}


def resolve(table: dict[str, str], name: str, *, what: str = "model") -> Any:
    """Import and return the class registered under ``name``.

    Raises:
        ConfigError: for an unknown name, with a did-you-mean and the list of known names.
    """
    if not isinstance(name, str):
        known = ", ".join(sorted(table)) or "(none registered)"
        raise ConfigError(f"{what} must be a name (one of {known}), got a {type(name).__name__} {str(name)[:80]}")
    target = table.get(name)
    if target is None:
        close = difflib.get_close_matches(name, list(table), n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        known = ", ".join(sorted(table)) or "(none registered)"
        raise ConfigError(f"unknown {what} '{name}'{hint} (known: {known})")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def config_schema(kind: str) -> Any:
    """The config model class for a YAML file's ``kind``."""
    return resolve(CONFIG_KINDS, kind, what="config kind")


__all__ = ["CONFIG_KINDS", "FORMATS", "MULTITABLE_SYNTHESIZERS", "SYNTHESIZERS", "TRANSLATORS", "config_schema", "resolve"]
