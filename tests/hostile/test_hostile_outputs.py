"""One rule for outputs: every command checks its output can be created before doing work, and a
path that cannot be written is one line naming it (exit code 2), never a traceback.

The unwritable variants are a family (a parent that is a file at any depth, a virtual filesystem,
a read-only folder where the user is not root): hypothesis draws them for every command.
"""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest
from hostile_helpers import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medsynth.core.errors import OutputPathError, RunDirectoryError
from medsynth.core.files import atomic_dir, atomic_path, check_output, write_json, write_text

REPO = Path(__file__).resolve().parents[2]
CONFIG_VAE = REPO / "configs" / "ct_vae3d_64.yaml"
CONFIG_MR2CT = REPO / "configs" / "mr2ct_cyclegan_2d.yaml"
NAMES = st.text(alphabet=string.ascii_lowercase + string.digits + "_-", min_size=1, max_size=12)
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@st.composite
def unwritable(draw: st.DrawFn, base: Path, suffix: str) -> Path:
    """A path that cannot be created: below a file (any depth), in /proc or /sys, a name too long, or in a read-only folder."""
    kinds = ["below_file", "proc", "sys", "long_name"] + ([] if IS_ROOT else ["read_only"])
    kind = draw(st.sampled_from(kinds))
    parts = draw(st.lists(NAMES, min_size=0, max_size=3))
    leaf = draw(NAMES) + suffix
    if kind == "long_name":  # writable folder, but a name no filesystem (or its temporary sibling) accepts
        return base.joinpath(*parts, "n" * draw(st.integers(230, 400)) + suffix)
    root = {"below_file": base / "afile", "proc": Path("/proc") / "medsynth-none", "sys": Path("/sys") / "medsynth-none",
            "read_only": base / "readonly"}[kind]
    return root.joinpath(*parts, leaf)


#: Every command that writes, with valid inputs; "{out}" is replaced by the drawn path. A run
#: folder that does not exist stands where a command would load a model: the output check must come first.
COMMANDS: dict[str, tuple[list[str], str]] = {
    "schema infer": (["schema", "infer", "{train}", "--out", "{out}"], ".yaml"),
    "tabular fit": (["tabular", "fit", "{train}", "--model", "gaussian-copula", "--out", "{out}"], ""),
    "tabular sample": (["tabular", "sample", "{missing_run}", "--n", "5", "--out", "{out}"], ".csv"),
    "tabular export": (["tabular", "export", "{missing_run}", "--out", "{out}"], ""),
    "convert nifti": (["convert", "{ct}", "{out}"], ".nii.gz"),
    "convert dicom": (["convert", "{ct}", "{out}", "--modality", "CT"], ""),
    "phantoms": (["phantoms", "--out", "{out}", "--n", "1", "--shape", "8"], ""),
    "evaluate tabular": (["evaluate", "tabular", "--train", "{train}", "--holdout", "{holdout}", "--synthetic", "{synthetic}", "--out", "{out}"], ""),
    "audit tabular": (["audit", "tabular", "--train", "{train}", "--holdout", "{holdout}", "--synthetic", "{synthetic}", "--out", "{out}"], ""),
    "evaluate images": (["evaluate", "images", "--train", "{volumes}", "--holdout", "{volumes}", "--synthetic", "{volumes}", "--out", "{out}"], ""),
    "audit images": (["audit", "images", "--train", "{volumes}", "--holdout", "{volumes}", "--synthetic", "{volumes}", "--out", "{out}"], ""),
    "evaluate translation": (["evaluate", "translation", "--predicted", "{volumes}", "--reference", "{volumes}", "--out", "{out}"], ""),
    "image train": (["image", "train", str(CONFIG_VAE), "--data", "{volumes}", "--out", "{out}", "--max-steps", "1"], ""),
    "image sample": (["image", "sample", "{missing_run}", "--n", "1", "--out", "{out}"], ""),
    "image interpolate": (["image", "interpolate", "{missing_run}", "--seeds", "0", "1", "--out", "{out}"], ""),
    "translate train": (["translate", "train", str(CONFIG_MR2CT), "--source", "{volumes}", "--target", "{volumes}", "--out", "{out}"], ""),
    "translate apply": (["translate", "apply", "{missing_run}", "{ct}", "--out", "{out}"], ""),
    "demo": (["demo", "--quick", "--out", "{out}"], ""),
}


def _args(template: list[str], inputs: dict[str, Path], out: Path) -> list[str]:
    values = {k: str(v) for k, v in inputs.items()} | {"out": str(out), "missing_run": str(inputs["dir"] / "no-such-run")}
    return [a.format(**values) for a in template]


@pytest.fixture(scope="module")
def readonly(inputs: dict[str, Path]) -> Path:
    d = inputs["dir"] / "readonly"
    d.mkdir(exist_ok=True)
    d.chmod(0o555)
    return d


@pytest.mark.parametrize("command", sorted(COMMANDS))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_unwritable_out_is_one_line_naming_the_path(command: str, data: st.DataObject, inputs: dict[str, Path], readonly: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    template, suffix = COMMANDS[command]
    out = data.draw(unwritable(inputs["dir"], suffix), label="out")
    before = sorted(p.name for p in inputs["dir"].iterdir())
    code, stdout, err = cli(capsys, *_args(template, inputs, out))
    assert code == 2, (command, out, stdout, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert str(out) in lines[0] and "Traceback" not in err
    assert sorted(p.name for p in inputs["dir"].iterdir()) == before  # nothing created beside the inputs


@pytest.mark.parametrize("command", ["tabular fit", "phantoms", "evaluate tabular", "image train", "demo", "convert dicom"])
def test_a_folder_output_that_is_an_existing_file_is_refused_and_kept(command: str, inputs: dict[str, Path],
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    template, _ = COMMANDS[command]
    target = inputs["dir"] / f"precious-{command.replace(' ', '-')}.csv"
    target.write_text("a,b\n1,2\n")
    for extra in ([], ["--force"] if command not in ("evaluate tabular",) else []):
        code, _, err = cli(capsys, *_args(template, inputs, target), *extra)
        assert code == 2 and str(target) in err and "is a file" in err, err
        assert target.read_text() == "a,b\n1,2\n"  # --force never deletes a file that is not a run


def test_a_file_output_that_is_a_folder_is_refused(inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "schema", "infer", inputs["train"], "--out", inputs["volumes"])
    assert code == 2 and "is a folder" in err and str(inputs["volumes"]) in err


@settings(max_examples=40, deadline=None)
@given(parts=st.lists(NAMES, min_size=1, max_size=4), kind=st.sampled_from(["file", "dir"]))
def test_check_output_creates_nothing_where_it_allows(tmp_path_factory: pytest.TempPathFactory, parts: list[str], kind: str) -> None:
    base = tmp_path_factory.mktemp("ok")
    target = base.joinpath(*parts)
    assert check_output(target, kind=kind) == target  # type: ignore[arg-type]
    assert list(base.iterdir()) == []  # the probe is removed and no folder is made


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_atomic_writers_raise_a_named_error_not_oserror(data: st.DataObject, inputs: dict[str, Path], readonly: Path) -> None:
    out = data.draw(unwritable(inputs["dir"], ".json"), label="out")
    for write in (lambda p: write_json(p, {"a": 1}), lambda p: write_text(p, "x")):
        with pytest.raises(OutputPathError, match="cannot write"):
            write(out)
    with pytest.raises(OutputPathError):
        with atomic_dir(out):
            pass
    with pytest.raises(OutputPathError):
        with atomic_path(out):
            pass


def test_run_directory_below_a_file_is_a_named_error(inputs: dict[str, Path]) -> None:
    from medsynth.core.rundir import RunDir

    with pytest.raises(OutputPathError, match="is a file"):
        RunDir.create(inputs["afile"] / "run")
    with pytest.raises(OutputPathError, match="is a file"):
        RunDir.create(inputs["afile"], force=True)
    assert inputs["afile"].read_text() == "not a folder\n"


def test_outputs_get_the_usual_permissions(tmp_path: Path) -> None:
    # mkstemp makes 0600 files: an atomic write must end up as any other tool's file would (umask).
    umask = os.umask(0o022)
    try:
        p = write_text(tmp_path / "syn.csv", "a\n")
        with atomic_dir(tmp_path / "series") as d:
            (d / "x").write_text("1")
    finally:
        os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "series").stat().st_mode & 0o777 == 0o755


def test_an_existing_output_folder_error_is_still_about_existence(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("1")
    with pytest.raises(RunDirectoryError, match="already exists"):
        with atomic_dir(tmp_path / "out"):
            pass
