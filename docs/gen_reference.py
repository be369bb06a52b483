"""Generate the configuration and CLI reference pages from the code itself.

The configuration reference walks the pydantic config models named by
:data:`medsynth.core.registry.CONFIG_KINDS` and the hyperparameter classes of every model in
``SYNTHESIZERS`` and ``TRANSLATORS`` (their ``config_class`` or ``Config`` attribute); each field's
description comes from ``Field(description=...)`` or from the ``Attributes:`` section of the Google
docstring of the class that declares it. The CLI reference walks the typer ``app`` of
:mod:`medsynth.cli.main`: every command, its usage, its help text and every option.

Nothing here is hand-maintained: when a config field or a command changes, the pages follow.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: Config files users edit that are not experiment kinds: (title, "module:Class", how it is used).
OTHER_CONFIGS: list[tuple[str, str, str]] = [
    ("Evaluation thresholds and sizes", "medsynth.evaluation.config:EvaluationConfig",
     "`medsynth evaluate ... --config eval.yaml` / `--set privacy.mia_auc.fail=0.65`"),
]


# ----------------------------------------------------------------------------------------------
# Markdown helpers
# ----------------------------------------------------------------------------------------------
_CODE_SPAN = re.compile(r"(`[^`]*`)")


def md_text(text: str, *, cell: bool = False) -> str:
    """Escape Markdown/HTML specials in plain text, leaving `code spans` as they are.

    With ``cell``, pipes outside code spans are escaped too (a table cell).
    """
    parts = _CODE_SPAN.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 1:
            out.append(part)
            continue
        part = part.replace("\\", "\\\\").replace("<", "&lt;").replace(">", "&gt;")
        part = part.replace("*", "\\*").replace("_", "\\_").replace("[", "\\[").replace("]", "\\]")
        out.append(part.replace("|", "\\|") if cell else part)
    return "".join(out)


def md_cell(text: str) -> str:
    """Text for one table cell: escaped, on one line, pipes escaped."""
    return md_text(" ".join(text.split()), cell=True)


def code_cell(text: str) -> str:
    """A code span for a table cell (Python-Markdown's tables do not split cells inside code spans)."""
    text = " ".join(str(text).split())
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def rst_roles_to_md(text: str) -> str:
    """Docstrings use Sphinx roles (:class:`X`) and ``literals``: make them Markdown code spans."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text)
    return re.sub(r"``([^`]+)``", r"`\1`", text)


# ----------------------------------------------------------------------------------------------
# Google docstring "Attributes:" sections
# ----------------------------------------------------------------------------------------------
_SECTION = re.compile(r"^(\s*)(Args|Arguments|Attributes|Returns|Raises|Yields|Examples?|Notes?|Warnings?|"
                      r"See Also|References|Todo|Methods):\s*$")
_ITEM = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?\s*:\s*(.*)$")


def docstring_attributes(doc: str | None) -> dict[str, str]:
    """Parse the ``Attributes:`` section of a Google docstring into {name: description}."""
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    found: dict[str, str] = {}
    in_section = False
    section_indent = 0
    item_indent: int | None = None
    current: str | None = None
    for line in lines:
        m = _SECTION.match(line)
        if m:
            in_section = m.group(2) == "Attributes"
            section_indent = len(m.group(1))
            item_indent, current = None, None
            continue
        if not in_section:
            continue
        if not line.strip():
            current = None if item_indent is None else current
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= section_indent:
            in_section = False
            continue
        item = _ITEM.match(line)
        if item and (item_indent is None or indent == item_indent):
            item_indent = indent
            current = item.group(2)
            found[current] = item.group(4).strip()
        elif current is not None:
            found[current] = (found[current] + " " + line.strip()).strip()
    return found


def summary_line(doc: str | None) -> str:
    """The first paragraph of a docstring, on one line."""
    if not doc:
        return ""
    first = inspect.cleandoc(doc).split("\n\n")[0]
    return " ".join(first.split())


# ----------------------------------------------------------------------------------------------
# Config reference
# ----------------------------------------------------------------------------------------------
def resolve_target(target: str) -> Any:
    """Import ``"module:Attr"``."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _is_model(tp: Any) -> bool:
    from pydantic import BaseModel

    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _submodel(annotation: Any) -> type | None:
    """The pydantic model of a field typed ``X`` or ``X | None`` (not lists or dicts of models)."""
    if _is_model(annotation):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(annotation) if _is_model(a)]
        others = [a for a in typing.get_args(annotation) if not _is_model(a) and a is not type(None)]
        if len(models) == 1 and not others:
            return models[0]
    return None


def type_name(tp: Any) -> str:
    """A readable type: ``"prv" | "rdp"``, ``float | null``, ``list[str]``, ``tuple[int, ...]``."""
    if tp is type(None):
        return "null"
    if tp is typing.Any:
        return "any"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return " | ".join(json.dumps(a) for a in args)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        if args:
            inner = ", ".join("..." if a is Ellipsis else type_name(a) for a in args)
            return f"{name}[{inner}]"
        return name
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return " | ".join(json.dumps(m.value) for m in tp)
        return tp.__name__
    return str(tp).replace("typing.", "")


def _constraints(field: Any) -> str:
    """Bounds from pydantic field metadata (ge/gt/le/lt, lengths) as ``>= 0, < 1``."""
    parts = []
    for meta in field.metadata:
        for attr, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="),
                          ("min_length", "min length"), ("max_length", "max length")):
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{sym} {value}")
    return ", ".join(parts)


def _yaml_value(value: Any) -> str:
    """A default as it would be written in YAML (null, true, [1, 2])."""
    if _is_model(type(value)):
        value = value.model_dump(mode="json")
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, float) and value != value:
        return ".nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    return json.dumps(value, default=str)


def field_descriptions(model: type) -> dict[str, str]:
    """{field: description}: ``Field(description=...)`` first, else the docstring of the class
    (or base class) that declares it."""
    out: dict[str, str] = {}
    for klass in reversed(model.__mro__):
        if not _is_model(klass):
            continue
        out.update(docstring_attributes(klass.__dict__.get("__doc__")))
    for name, field in model.model_fields.items():
        if field.description:
            out[name] = field.description
    return out


@dataclass
class FieldRow:
    """One row of the config reference."""

    key: str
    type: str
    default: str
    description: str
    section: bool = False


def config_rows(model: type, prefix: str = "") -> Iterator[FieldRow]:
    """Every field of ``model``, nested sections flattened to dotted keys (as ``--set`` takes them)."""
    from pydantic_core import PydanticUndefined

    descriptions = field_descriptions(model)
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        sub = _submodel(field.annotation)
        desc = descriptions.get(name, "")
        if name == "kind" and not desc and typing.get_origin(field.annotation) is typing.Literal:
            desc = "the config kind (fixed for this schema)"
        if sub is not None:
            yield FieldRow(key, sub.__name__, "", desc or summary_line(sub.__doc__), section=True)
            yield from config_rows(sub, prefix=key + ".")
            continue
        if field.default is not PydanticUndefined:
            default = _yaml_value(field.default)
        elif field.default_factory is not None:
            default = _yaml_value(field.default_factory())
        else:
            default = "(required)"
        tp = type_name(field.annotation)
        bounds = _constraints(field)
        yield FieldRow(key, f"{tp} ({bounds})" if bounds else tp, default, desc)


def model_config_class(klass: type) -> type:
    """The hyperparameter config of a registered model class (``config_class`` or ``Config``)."""
    for attr in ("config_class", "Config"):
        cfg = getattr(klass, attr, None)
        if _is_model(cfg):
            return cfg
    raise RuntimeError(
        f"{klass.__module__}.{klass.__name__} has neither a `config_class` nor a `Config` pydantic model: "
        "docs/gen_reference.py:model_config_class needs to learn where its config lives"
    )


def _table(rows: list[FieldRow]) -> list[str]:
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for r in rows:
        key = f"**{code_cell(r.key)}**" if r.section else code_cell(r.key)
        desc = md_cell(rst_roles_to_md(r.description)) if r.description else "*(no description)*"
        default = code_cell(r.default) if r.default else ""
        lines.append(f"| {key} | {code_cell(r.type)} | {default} | {desc} |")
    return lines


def undocumented_config_fields() -> list[str]:
    """Every documented config key without a description (``class.key``), for the tests."""
    missing = []
    for title, model, _prefix, _intro in _config_sections():
        for row in config_rows(model):
            if not row.description:
                missing.append(f"{title}: {row.key}")
    return missing


def _config_sections() -> Iterator[tuple[str, type, str, str]]:
    """(title, model, key prefix, intro) for every section of the configuration reference."""
    from medsynth.core.registry import CONFIG_KINDS, MULTITABLE_SYNTHESIZERS, SYNTHESIZERS, TRANSLATORS

    kind_models = {}
    for kind, target in CONFIG_KINDS.items():
        model = resolve_target(target)
        kind_models[model] = kind
        yield f"kind: {kind}", model, "", f"`{target.replace(':', '.')}`"
    for table, what in ((SYNTHESIZERS, "synthesizer"), (TRANSLATORS, "translator")):
        for name, target in table.items():
            cfg = model_config_class(resolve_target(target))
            if cfg in kind_models:
                continue  # its hyperparameters are the kind's own config, documented above
            yield (f"{what}: {name}", cfg, "params.",
                   f"`{cfg.__module__}.{cfg.__name__}`: the `params:` section of a `kind: tabular` config "
                   f"with `model: {name}` (or `--set params.KEY=VALUE`)")
    for name, target in MULTITABLE_SYNTHESIZERS.items():
        cfg = model_config_class(resolve_target(target))
        yield (f"multi-table synthesizer: {name}", cfg, "params.",
               f"`{cfg.__module__}.{cfg.__name__}`: the `params:` section of a `kind: tabular` config with "
               f"`model: {name}` when the data is a folder of tables (or `--set params.KEY=VALUE`)")
    for title, target, usage in OTHER_CONFIGS:
        yield title, resolve_target(target), "", f"`{target.replace(':', '.')}`: {usage}"


def config_reference() -> str:
    """The Markdown of the configuration reference page."""
    from medsynth.core.registry import CONFIG_KINDS, SYNTHESIZERS, TRANSLATORS

    lines = [
        "# Configuration reference",
        "",
        "!!! info \"Generated\"",
        "    This page is generated from the pydantic config models at every docs build "
        "(`docs/gen_reference.py`): the field names, types and defaults are the code's, and each description is "
        "the `Attributes:` docstring of the class that declares the field. Do not edit it by hand.",
        "",
        "Every experiment YAML in `configs/` starts with `kind:`, which picks its schema "
        f"({', '.join(f'`{k}`' for k in CONFIG_KINDS)}). Unknown keys are errors with a did-you-mean; "
        "`--set key.sub=value` overrides any key below on the command line and is validated like the file. "
        "Keys are shown dotted, as `--set` takes them.",
        "",
        f"Registered synthesizers: {', '.join(f'`{k}`' for k in SYNTHESIZERS)}. "
        f"Registered translators: {', '.join(f'`{k}`' for k in TRANSLATORS)}.",
        "",
    ]
    current_group = None
    for title, model, prefix, intro in _config_sections():
        group = ("Experiment configs (`kind:`)" if title.startswith("kind:")
                 else "Model hyperparameters" if ":" in title else "Other config files")
        if group != current_group:
            lines += [f"## {group}", ""]
            current_group = group
        lines += [f"### `{title}`" if ":" in title else f"### {title}", ""]
        doc = summary_line(model.__doc__)
        lines += [f"{md_text(rst_roles_to_md(doc))}" if doc else "", "", f"Schema: {intro}.", ""]
        rows = [FieldRow(prefix + r.key, r.type, r.default, r.description, r.section) for r in config_rows(model)]
        lines += _table(rows) + [""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# CLI reference
# ----------------------------------------------------------------------------------------------
def _help_markdown(text: str) -> list[str]:
    """A command's help text as Markdown: indented blocks after a ``...:`` line become code blocks."""
    lines = inspect.cleandoc(text.replace("\b", "")).splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith(":") and i + 1 < len(lines) and lines[i + 1].startswith((" ", "\t")):
            out += [md_text(line.strip()), "", "```bash"]
            i += 1
            while i < len(lines) and (lines[i].startswith((" ", "\t")) or not lines[i].strip()):
                if lines[i].strip():
                    out.append(lines[i].strip())
                i += 1
            out += ["```", ""]
            continue
        out.append(md_text(line) if line.strip() else "")
        i += 1
    return out


def iter_commands(root: Any = None, path: tuple[str, ...] = ("medsynth",)) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, click command) for the root and every visible command and group under it, in order."""
    if root is None:
        import typer.main

        from medsynth.cli.main import app

        root = typer.main.get_command(app)
    yield path, root
    for name, sub in getattr(root, "commands", {}).items():
        if getattr(sub, "hidden", False):
            continue
        yield from iter_commands(sub, (*path, name))


def _context(command: Any, path: tuple[str, ...]) -> Any:
    ctx_class = getattr(command, "context_class", None)
    if ctx_class is None:  # pragma: no cover - every click command has one
        raise RuntimeError(f"{' '.join(path)}: no click context class")
    return ctx_class(command, info_name=" ".join(path))


def cli_reference() -> str:
    """The Markdown of the CLI reference page."""
    lines = [
        "# CLI reference",
        "",
        "!!! info \"Generated\"",
        "    This page is generated from the typer app (`medsynth.cli.main:app`) at every docs build "
        "(`docs/gen_reference.py`): every command, its options and their help. `medsynth COMMAND --help` "
        "prints the same.",
        "",
        "Errors are one message and exit code 2 (`medsynth --debug ...` shows the traceback); "
        "`medsynth audit ...` exits with code 1 when the verdict is fail.",
        "",
    ]
    for path, command in iter_commands():
        depth = len(path)
        heading = "#" * min(depth + 1, 4)
        lines += [f"{heading} `{' '.join(path)}`", ""]
        ctx = _context(command, path)
        lines += ["```", command.get_usage(ctx).strip(), "```", ""]
        if command.help:
            lines += _help_markdown(command.help) + [""]
        subcommands = [(n, c) for n, c in getattr(command, "commands", {}).items() if not getattr(c, "hidden", False)]
        if subcommands:
            lines += ["| command | what it does |", "|---|---|"]
            for name, sub in subcommands:
                anchor = " ".join((*path, name))
                lines.append(f"| {code_cell(anchor)} | {md_cell(summary_line(sub.help or ''))} |")
            lines.append("")
        params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
        if params:
            lines += ["| argument / option | type | description |", "|---|---|---|"]
            for p in params:
                record = p.get_help_record(ctx)
                if p.param_type_name == "argument":
                    names = p.name.upper()
                    help_text = getattr(p, "help", "") or ""
                    if p.required:
                        help_text += "  [required]"
                else:
                    names = record[0].split(" <")[0] if record else ", ".join(p.opts)
                    help_text = record[1] if record else ""
                typ = p.display_type(ctx) if hasattr(p, "display_type") else ""
                if getattr(p, "is_flag", False):
                    typ = "flag"
                lines.append(f"| {code_cell(names)} | {code_cell(str(typ).strip('<>'))} | {md_cell(help_text)} |")
            lines.append("")
    return "\n".join(lines)


__all__ = ["cli_reference", "config_reference", "docstring_attributes", "iter_commands", "undocumented_config_fields"]
