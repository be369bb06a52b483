"""Every walkthrough in notebooks/ is committed executed, without errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_executed_without_errors(path: Path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a walkthrough needs code"
    assert all(c.get("execution_count") for c in code), "commit the notebook executed (every code cell run)"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors[0].get("ename") if errors else ""
    assert any(c.get("outputs") for c in code), "an executed walkthrough shows results"


def _builder():
    import importlib.util

    spec = importlib.util.spec_from_file_location("nb_build", Path(__file__).resolve().parents[1] / "notebooks" / "build.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


#: Walkthroughs whose point is the CLI (a release pipeline gating on the audit's exit code).
CLI_IS_THE_POINT = {"05_privacy_audit"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_built_from_build_py_and_uses_the_python_api(path: Path):
    pytest.importorskip("nbformat")
    cells = _builder().NOTEBOOKS[path.stem]
    committed = json.loads(path.read_text())["cells"]
    src = lambda c: "".join(c["source"]) if isinstance(c["source"], list) else c["source"]  # noqa: E731
    assert [src(c) for c in committed] == [c.source for c in cells], "rebuild it: python notebooks/build.py " + path.stem
    shell = [c.source for c in cells if c.cell_type == "code" and "!medsynth" in c.source]
    assert not shell or path.stem in CLI_IS_THE_POINT, f"use the Python API, not shell calls: {shell[0][:80]}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_today(path: Path, tmp_path: Path):
    """Execute the walkthrough from build.py on the current code (minutes each on a CPU)."""
    pytest.importorskip("nbclient")
    import nbformat
    from nbclient import NotebookClient

    cells = _builder().NOTEBOOKS[path.stem]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    (tmp_path / "configs").symlink_to(Path(__file__).resolve().parents[1] / "configs")
    (tmp_path / "nb").mkdir()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path / "nb")}}).execute()
