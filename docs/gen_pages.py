"""MkDocs hook: generate the reference pages at every build, so they cannot fall behind the code.

``mkdocs.yml`` loads this file as a hook (``hooks: [docs/gen_pages.py]``). At ``on_files`` it adds,
as in-memory pages (nothing is written into ``docs/``, nothing generated is in git):

- ``reference/cli.md``: every command of the typer app (:mod:`gen_reference`);
- ``reference/config.md``: every config model, field by field (:mod:`gen_reference`);
- ``benchmarks.md``: every figure of ``benchmarks/results/*.json`` (:mod:`gen_benchmarks`);
- ``reference/api/*.md``: one page per package of ``medsynth``, rendered from the docstrings by
  mkdocstrings (one ``::: module`` block per public module, found on disk).

Run it by hand to look at the generated Markdown: ``python docs/gen_pages.py OUT_DIR``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _use_this_checkout() -> None:
    """Put this checkout's medsynth and the sibling generators first on ``sys.path``.

    MkDocs restores ``sys.path`` after loading a hook, so this runs again before each generation.
    """
    for p in (str(HERE), str(ROOT)):
        if p in sys.path:
            sys.path.remove(p)
        sys.path.insert(0, p)


_use_this_checkout()
from gen_benchmarks import benchmarks_page  # noqa: E402
from gen_reference import cli_reference, config_reference  # noqa: E402

#: Packages of medsynth documented in the API reference, in nav order (the CLI has its own page).
API_PACKAGES: list[tuple[str, str]] = [
    ("medsynth", "Top level"),
    ("medsynth.io", "medsynth.io: volumes, DICOM, NIfTI, tables"),
    ("medsynth.imaging", "medsynth.imaging: 3D synthesis"),
    ("medsynth.translation", "medsynth.translation: MR -> CT"),
    ("medsynth.tabular", "medsynth.tabular: synthetic EHR"),
    ("medsynth.privacy", "medsynth.privacy: DP mechanisms and ledger"),
    ("medsynth.evaluation", "medsynth.evaluation: reports and audits"),
    ("medsynth.core", "medsynth.core: configs, runs, errors"),
    ("medsynth.demo", "medsynth.demo: the end-to-end demo"),
]
EXCLUDED = ("medsynth.cli",)
API_INDEX = "reference/api/index.md"


def public_modules(package: str, root: Path = ROOT) -> list[str]:
    """Dotted names of the public modules that belong to ``package`` on disk (no import).

    For ``medsynth`` itself: the package and its top-level modules; for a subpackage: the package
    and every public module or subpackage below it. Names starting with ``_`` are private.
    """
    base = root.joinpath(*package.split("."))
    names = [package]
    if package == "medsynth":
        return names + sorted(f"medsynth.{p.stem}" for p in base.glob("*.py")
                              if not p.stem.startswith("_"))
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(base).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            if not parts:
                continue
        if any(p.startswith("_") for p in parts):
            continue
        names.append(".".join([package, *parts]))
    return names


def _page_name(package: str) -> str:
    return "reference/api/" + ("medsynth" if package == "medsynth" else package.split(".", 1)[1].replace(".", "-")) + ".md"


def undocumented_packages(root: Path = ROOT) -> list[str]:
    """Top-level subpackages of medsynth that no API page covers (for the tests)."""
    listed = {p for p, _ in API_PACKAGES} | set(EXCLUDED)
    return sorted(f"medsynth.{p.name}" for p in (root / "medsynth").iterdir()
                  if p.is_dir() and (p / "__init__.py").exists() and f"medsynth.{p.name}" not in listed)


def api_pages(root: Path = ROOT) -> dict[str, str]:
    """{page path: Markdown} of the API reference."""
    pages: dict[str, str] = {}
    index = [
        "# API reference",
        "",
        "Rendered from the docstrings of the code at every docs build (mkdocstrings). The command line "
        "is documented in the [CLI reference](../cli.md) and every config key in the "
        "[configuration reference](../config.md).",
        "",
    ]
    for package, title in API_PACKAGES:
        modules = public_modules(package, root)
        page = _page_name(package)
        index.append(f"- [{title}]({Path(page).name}): " + ", ".join(f"`{m}`" for m in modules))
        body = [f"# {title}", ""]
        for module in modules:
            body += [f"::: {module}", ""]
        pages[page] = "\n".join(body)
    extra = undocumented_packages(root)
    if extra:
        index += ["", "Not yet in the API reference: " + ", ".join(f"`{m}`" for m in extra) +
                  " (add them to `API_PACKAGES` in `docs/gen_pages.py`)."]
    pages[API_INDEX] = "\n".join(index) + "\n"
    return pages


def generate_pages(root: Path = ROOT) -> dict[str, str]:
    """{docs-relative path: Markdown} of every generated page."""
    _use_this_checkout()
    pages = {
        "reference/cli.md": cli_reference(),
        "reference/config.md": config_reference(),
        "benchmarks.md": benchmarks_page(root / "benchmarks" / "results"),
    }
    pages.update(api_pages(root))
    return pages


# ----------------------------------------------------------------------------------------------
# MkDocs hook events
# ----------------------------------------------------------------------------------------------
def on_config(config: Any) -> Any:
    """Expand the ``API reference`` nav entry into one entry per generated API page."""
    nav = config.get("nav") or []
    pages = [(title, _page_name(pkg)) for pkg, title in API_PACKAGES]

    def expand(items: list[Any]) -> list[Any]:
        out = []
        for item in items:
            if isinstance(item, dict):
                (title, value), = item.items()
                if value == API_INDEX:
                    item = {title: [{"Overview": API_INDEX}, *({t: p} for t, p in pages)]}
                elif isinstance(value, list):
                    item = {title: expand(value)}
            out.append(item)
        return out

    config["nav"] = expand(nav)
    return config


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages to the build (in memory: nothing is written into docs/)."""
    from mkdocs.structure.files import File

    for path, content in generate_pages().items():
        existing = files.get_file_from_path(path)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, path, content=content))
    return files


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "generated-docs")
    for rel, text in generate_pages().items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(target)
