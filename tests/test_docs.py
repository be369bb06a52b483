"""The front door: README size and its two commands, the documentation site, docstrings everywhere."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
README_LIMIT = 12_000
#: The install-and-demo command of the README (a contract: a hook greps for `medsynth demo`).
DEMO_COMMAND = (
    "python3 -m venv .venv && . .venv/bin/activate && pip install torch==2.13.0 && pip install -e . && medsynth demo"
)

if str(DOCS) not in sys.path:  # the generators are plain scripts beside the pages
    sys.path.insert(0, str(DOCS))


def _ci_test_command() -> str:
    """The command `.ci/run` runs: the line after its "README's test command, verbatim" comment."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#") and "README's test command, verbatim" in line:
            return next(x.strip() for x in lines[i + 1:] if x.strip() and not x.lstrip().startswith("#"))
    raise AssertionError(".ci/run no longer names the README's test command")


# ----------------------------------------------------------------------------------------------
# README
# ----------------------------------------------------------------------------------------------
def test_readme_is_a_front_door_of_at_most_12k_characters():
    text = README.read_text(encoding="utf-8")
    assert len(text) <= README_LIMIT, (
        f"README.md has {len(text)} characters (limit {README_LIMIT}): move details into docs/ guides and "
        "figures into benchmarks/results/*.json (the benchmarks page is generated from them)"
    )


def test_readme_holds_both_commands_verbatim():
    text = README.read_text(encoding="utf-8")
    test_command = _ci_test_command()
    assert "pytest" in test_command
    assert test_command in text, f"README.md lost the test command that .ci/run runs verbatim:\n{test_command}"
    assert DEMO_COMMAND in text, f"README.md lost the install-and-demo command:\n{DEMO_COMMAND}"
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert test_command in index and DEMO_COMMAND in index, "docs/index.md mirrors the README's two commands"


def test_readme_links_point_to_files_that_exist():
    text = re.sub(r"<!--.*?-->", "", README.read_text(encoding="utf-8"), flags=re.S)  # TODO comments
    links = [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", t)]
    assert links, "the README links to the documentation pages"
    broken = [t for t in links if not (ROOT / t.split("#")[0]).exists()]
    assert not broken, f"README.md links to files that do not exist: {broken}"


# ----------------------------------------------------------------------------------------------
# Generated reference pages (no mkdocs needed)
# ----------------------------------------------------------------------------------------------
def test_cli_reference_lists_every_command_and_option():
    import typer.main
    from gen_reference import cli_reference

    from medsynth.cli.main import app

    page = cli_reference()
    root = typer.main.get_command(app)
    for name, group in root.commands.items():
        for sub in getattr(group, "commands", {}) or {None: None}:
            path = " ".join(x for x in ("medsynth", name, sub) if x)
            assert f"`{path}`" in page, f"{path} is missing from the CLI reference"
    fit = root.commands["tabular"].commands["fit"]
    for param in fit.params:
        if param.param_type_name == "option":
            longest = max(param.opts, key=len)
            assert longest in page, f"option {longest} of `medsynth tabular fit` is missing from the CLI reference"


def test_config_reference_documents_every_field_of_every_config():
    from gen_reference import config_reference, undocumented_config_fields

    from medsynth.core.registry import CONFIG_KINDS, SYNTHESIZERS

    page = config_reference()
    for kind in CONFIG_KINDS:
        assert f"`kind: {kind}`" in page
    for name in ("dp-mst", "dp-tvae", "ctgan"):
        assert f"synthesizer: {name}" in page
    assert "`privacy.epsilon`" in page and "`params.train.epochs`" in page and "`loss.structure`" in page
    assert set(SYNTHESIZERS) >= {"dp-mst", "vae3d"}
    missing = undocumented_config_fields()
    assert not missing, (
        "config fields without a description (add them to the `Attributes:` section of the class "
        f"docstring): {missing}"
    )


def test_docstring_attributes_parser_reads_multiline_entries():
    from gen_reference import docstring_attributes

    doc = """Summary.

    Attributes:
        alpha: first line
            continued here.
        beta (int): second.

    Raises:
        ValueError: not an attribute.
    """
    assert docstring_attributes(doc) == {"alpha": "first line continued here.", "beta": "second."}


def test_benchmarks_page_reads_every_figure_from_the_json(tmp_path: Path):
    import json

    from gen_benchmarks import HEADLINES, BenchmarkSpecError, benchmarks_page, fmt, lookup

    results = ROOT / "benchmarks" / "results"
    page = benchmarks_page(results)
    for f in results.glob("*.json"):
        assert f"### `{f.name}`" in page, f"{f.name} has no section on the benchmarks page"
    for _job, _what, name, path, _unit in HEADLINES:  # each headline is the JSON's value, formatted
        value = lookup(json.loads((results / name).read_text()), path)
        assert f"**{fmt(value)}" in page
    # A figure the JSON no longer holds stops the build with a message naming the headline.
    (tmp_path / "tabular_flchain.json").write_text(json.dumps({"results": []}))
    with pytest.raises(BenchmarkSpecError, match="HEADLINES entry"):
        benchmarks_page(tmp_path)


def test_api_reference_covers_every_package():
    from gen_pages import api_pages, undocumented_packages

    assert undocumented_packages() == []
    pages = api_pages()
    assert "::: medsynth.tabular.mst" in pages["reference/api/tabular.md"]
    assert not any("::: medsynth.cli" in text for text in pages.values())


# ----------------------------------------------------------------------------------------------
# The site builds strictly (broken links, anchors, references, docstring/signature mismatches)
# ----------------------------------------------------------------------------------------------
_DOCS_STACK = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")


@pytest.mark.timeout(600)
def test_mkdocs_build_strict(tmp_path: Path):
    absent = [m for m in _DOCS_STACK if importlib.util.find_spec(m.split(".")[0]) is None
              or importlib.util.find_spec(m) is None]
    if absent:
        pytest.skip(f"the docs stack is not installed ({', '.join(absent)}): pip install -e '.[docs]'")
    site = tmp_path / "site"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "NO_MKDOCS_2_WARNING": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=540)
    log = (proc.stdout + proc.stderr)[-6000:]
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{log}"
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "medsynth tabular fit" in cli and "--epsilon" in cli
    assert "dp_bounds" in (site / "reference" / "api" / "privacy" / "index.html").read_text(encoding="utf-8")
    bench = (site / "benchmarks" / "index.html").read_text(encoding="utf-8")
    assert "tabular_flchain.json" in bench
    for page in ("getting-started", "privacy", "guides/tabular", "reference/config"):
        assert (site / page / "index.html").is_file(), page


# ----------------------------------------------------------------------------------------------
# Docstrings
# ----------------------------------------------------------------------------------------------
def _public_modules() -> list[str]:
    import medsynth

    names = ["medsynth"]
    for info in pkgutil.walk_packages(medsynth.__path__, "medsynth."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def _own_doc(cls: type) -> bool:
    """A docstring written for the class (not a dataclass/namedtuple's generated signature)."""
    doc = cls.__dict__.get("__doc__")
    return bool(doc and doc.strip()) and not doc.startswith(f"{cls.__name__}(")


def _undocumented(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    missing = []
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module_name:
            continue
        if inspect.isfunction(obj):
            if not (obj.__doc__ or "").strip():
                missing.append(f"{module_name}.{name}")
        elif inspect.isclass(obj):
            if not _own_doc(obj):
                missing.append(f"{module_name}.{name} (class)")
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(member, property):
                    doc = member.__doc__
                elif isinstance(member, (staticmethod, classmethod)) or inspect.isfunction(member):
                    doc = inspect.getdoc(getattr(obj, attr))  # a documented base-class method counts
                else:
                    continue
                if not (doc or "").strip():
                    missing.append(f"{module_name}.{name}.{attr}")
    return missing


def test_every_public_function_class_and_method_has_a_docstring():
    missing = [m for module in _public_modules() for m in _undocumented(module)]
    assert not missing, f"{len(missing)} public names without a docstring:\n" + "\n".join(missing)
