"""Repository layout rules that keep the suite collectable and the architecture honest."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_test_module_names_are_unique():
    # pytest's default import mode puts each test folder on sys.path: two test_x.py files in
    # different folders collide and stop collection of the whole suite.
    names = Counter(p.name for p in (ROOT / "tests").rglob("test_*.py"))
    assert not [n for n, c in names.items() if c > 1], f"duplicate test file names: {[n for n, c in names.items() if c > 1]}"


def _runtime_imports(tree: ast.AST) -> list[str]:
    """Modules imported at run time (imports under ``if TYPE_CHECKING:`` are annotations only)."""
    out: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def _imports(pkg: str) -> set[tuple[str, str]]:
    found = set()
    for f in (ROOT / "medsynth" / pkg).rglob("*.py"):
        for module in _runtime_imports(ast.parse(f.read_text())):
            if module.startswith("medsynth."):
                found.add((str(f.relative_to(ROOT)), module.split(".")[1]))
    return found


def test_dependencies_point_down():
    """Domain packages never import each other; evaluation never imports a synthesizer."""
    allowed = {
        "core": {"core"},
        "io": {"core", "io"},
        "privacy": {"core", "io", "privacy"},
        "imaging": {"core", "io", "imaging"},
        "translation": {"core", "io", "translation"},
        "tabular": {"core", "io", "privacy", "tabular"},
        "evaluation": {"core", "io", "evaluation"},
    }
    # privacy/audit runs synthesizers end to end to attack them (it sits above them, like the CLI)
    above = {"medsynth/privacy/audit/": {"tabular"}}
    bad = [(f, dep) for pkg, ok in allowed.items() for f, dep in _imports(pkg)
           if dep not in ok and not any(f.startswith(p) and dep in extra for p, extra in above.items())]
    assert not bad, f"imports against the layering: {bad}"
