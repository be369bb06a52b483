"""Typed configuration: YAML files -> pydantic models, with did-you-mean for unknown keys.

Every experiment config in ``configs/`` is a YAML mapping whose ``kind`` names its schema (see
:data:`medsynth.core.registry.CONFIG_KINDS`). Models derive from :class:`ConfigModel`, which forbids
unknown keys; :func:`validate_config` turns pydantic's errors into one :class:`ConfigError` that lists
every problem, with a suggestion for misspelt keys. ``--set key.sub=value`` overrides are applied to
the raw mapping before validation, so they are checked exactly like the file.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from medsynth.core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class ConfigModel(BaseModel):
    """Base of every medsynth config: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel class inside an annotation (``X``, ``X | None``, ``list[X]``...), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None or get_args(annotation):
        for arg in get_args(annotation):
            found = _submodel(arg)
            if found is not None:
                return found
    return None


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (sub)model that holds location ``loc`` (its last part excluded)."""
    current: type[BaseModel] | None = model
    for part in loc[:-1]:
        if current is None:
            return []
        if isinstance(part, int):
            continue
        field = current.model_fields.get(str(part))
        current = _submodel(field.annotation) if field is not None else None
    return list(current.model_fields) if current is not None else []


def _describe(model: type[BaseModel], err: Mapping[str, Any]) -> str:
    loc = tuple(err.get("loc", ()))
    where = ".".join(str(p) for p in loc) or "(top level)"
    if err.get("type") == "extra_forbidden":
        known = _fields_at(model, loc)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown key '{where}'{hint} (allowed here: {', '.join(sorted(known))})"
    value = err.get("input")
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"'{where}' = {shown}: {err.get('msg', 'invalid value')}"


def validate_config(model: type[M], data: Mapping[str, Any], *, source: str | None = None) -> M:
    """Validate a mapping against a config model, raising one ConfigError that lists every problem.

    Args:
        model: the ConfigModel subclass.
        data: the raw mapping (from YAML, with overrides applied).
        source: where the mapping came from, for the message (a file name).

    Raises:
        ConfigError: with every invalid or unknown key, and a did-you-mean for misspellings.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source or 'config'}: expected a mapping of keys to values, got {type(data).__name__}"
        )
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        problems = [_describe(model, e) for e in exc.errors()]
        head = f"invalid config{f' {source}' if source else ''} ({model.__name__})"
        raise ConfigError(head + ":\n" + "\n".join(f"  - {p}" for p in problems)) from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with clear errors for a missing or malformed file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file '{p}' does not exist; give the path of a YAML file")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file '{p}' is not valid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file '{p}' must hold a mapping at top level, not {type(data).__name__}")
    return data


def _set_dotted(data: dict[str, Any], key: str, value: Any, item: str) -> None:
    parts = key.split(".")
    if not key or any(not part for part in parts):
        raise ConfigError(f"override '{item}': '{key}' is not a dotted key like train.lr")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"override '{item}': '{part}' holds a value, not a section")
        node = child
    node[parts[-1]] = value


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise ConfigError(f"override keys must be strings like 'train.max_steps', got {key!r}")
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, dotted + ".")
        else:
            yield dotted, value


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any] | Iterable[str] | None) -> dict[str, Any]:
    """Apply overrides to a nested mapping, returning a copy.

    Args:
        data: the config as a nested mapping.
        overrides: the CLI's ``["train.max_steps=10"]`` strings (values parsed as YAML), or from Python
            ``{"train.max_steps": 10}`` / nested ``{"train": {"max_steps": 10}}`` (values used as given).

    Raises:
        ConfigError: an override without ``=``, a malformed key, or one that descends into a non-mapping.
    """
    out = _deep_copy(data)
    if overrides is None:
        return out
    if isinstance(overrides, Mapping):
        for key, value in _flatten(overrides):
            _set_dotted(out, key, value, key)
        return out
    if isinstance(overrides, (str, bytes)):
        raise ConfigError(f"overrides '{overrides!s}' must be a dict like {{'train.max_steps': 10}} or a list of "
                          "'key=value' strings")
    for item in overrides:
        if not isinstance(item, str) or "=" not in item:
            raise ConfigError(f"override '{item}' must look like key.sub=value (e.g. train.max_steps=10)")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        _set_dotted(out, key.strip(), value, item)
    return out


def _deep_copy(data: Mapping[str, Any] | None) -> dict[str, Any]:
    if not data:
        return {}
    return {k: _deep_copy(v) if isinstance(v, Mapping) else (list(v) if isinstance(v, list) else v)
            for k, v in data.items()}


def load_config(
    model: type[M], path: str | Path | None = None, *, overrides: Iterable[str] = (), defaults: Mapping[str, Any] | None = None
) -> M:
    """Load a config model from a YAML file (or defaults), apply overrides, validate.

    Args:
        model: the ConfigModel subclass.
        path: YAML file; ``None`` starts from ``defaults`` (or the model's own defaults).
        overrides: ``key.sub=value`` strings, applied after the file.
        defaults: a mapping used when no path is given.
    """
    data = read_yaml(path) if path is not None else _deep_copy(defaults)
    data = apply_overrides(data, overrides)
    return validate_config(model, data, source=str(path) if path is not None else None)


def config_to_yaml(config: BaseModel) -> str:
    """The resolved config as YAML text (every default written out)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)


def config_hash(config: BaseModel) -> str:
    """A stable SHA-256 (first 16 hex digits) of the resolved config, for reports and run metadata."""
    blob = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


__all__ = [
    "ConfigModel",
    "apply_overrides",
    "config_hash",
    "config_to_yaml",
    "load_config",
    "read_yaml",
    "validate_config",
]
