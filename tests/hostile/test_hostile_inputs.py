"""Silent wrong results become named errors (or explicit, reported choices)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hostile_helpers import cli, small_table

from medsynth.core.errors import DataValidationError
from medsynth.io.nifti import read_nifti, write_nifti
from medsynth.io.tables import read_table
from medsynth.io.volume import Volume, grid_affine
from medsynth.tabular.run import parse_where


def _ct(tmp_path: Path, name: str, arr: np.ndarray) -> Path:
    import nibabel as nib

    p = tmp_path / name
    nib.save(nib.Nifti1Image(arr.astype(np.float32), grid_affine(2.0)), str(p))
    return p


def _ct_array() -> np.ndarray:
    arr = np.full((16, 16, 16), -1000.0, np.float32)
    arr[4:12, 4:12, 4:12] = 40.0
    return arr


def test_nan_and_inf_voxels_are_an_error_naming_the_file_and_the_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arr = _ct_array()
    arr[0, 0, :5] = np.nan
    arr[1, 1, 0] = np.inf
    arr[1, 1, 1] = -np.inf
    src = _ct(tmp_path, "nan.nii.gz", arr)
    for dest in (tmp_path / "out.nii.gz", tmp_path / "dicom"):
        code, _, err = cli(capsys, "convert", src, dest, "--modality", "CT")
        assert code == 2 and str(src) in err and "7 non-finite voxel(s) (5 NaN, 1 +inf, 1 -inf)" in err and "--fill-nonfinite" in err
        assert not dest.exists()
    # Asked for explicitly: those voxels (and only those) get the value, and the message says so.
    code, out, _ = cli(capsys, "convert", src, tmp_path / "filled.nii.gz", "--modality", "CT", "--fill-nonfinite", "-1024")
    assert code == 0 and "7 non-finite voxel(s) set to -1024" in out
    got = read_nifti(tmp_path / "filled.nii.gz").array
    assert got[0, 0, :5].tolist() == [-1024] * 5 and got[1, 1, 0] == -1024 and got[1, 1, 1] == -1024
    assert got[0, 0, 5] == -1000 and got[8, 8, 8] == 40


def test_writing_nan_to_integer_nifti_is_refused_not_zeroed(tmp_path: Path) -> None:
    arr = _ct_array()
    arr[2, 2, 2] = np.nan
    with pytest.raises(DataValidationError, match="1 of 4096 voxels are NaN or infinite"):
        write_nifti(Volume(arr, grid_affine(2.0), modality="CT"), tmp_path / "x.nii.gz")
    assert not (tmp_path / "x.nii.gz").exists()


def test_4d_input_needs_an_explicit_frame(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frames = np.stack([_ct_array() + 10 * i for i in range(3)], axis=-1)  # NIfTI stores time last
    src = _ct(tmp_path, "4d.nii.gz", frames)
    code, _, err = cli(capsys, "convert", src, tmp_path / "out.nii.gz")
    assert code == 2 and "is 4D: 3 frames" in err and "--frame" in err and not (tmp_path / "out.nii.gz").exists()
    code, out, _ = cli(capsys, "convert", src, tmp_path / "f2.nii.gz", "--frame", "2")
    assert code == 0 and "frame 2 of a 4D input" in out and "(16, 16, 16)" in out
    assert read_nifti(tmp_path / "f2.nii.gz").array[8, 8, 8] == 60
    code, _, err = cli(capsys, "convert", src, tmp_path / "f9.nii.gz", "--frame", "9")
    assert code == 2 and "frames 0..2" in err
    code, _, err = cli(capsys, "convert", tmp_path / "f2.nii.gz", tmp_path / "f3.nii.gz", "--frame", "1")
    assert code == 2 and "is a 3D volume" in err


def test_duplicate_column_headers_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "dup.csv"
    p.write_text("age,sex,age,bili,sex,sex\n61,F,62,1.0,F,F\n70,M,71,2.0,M,M\n")
    with pytest.raises(DataValidationError, match=r"repeats column name\(s\) \['age', 'sex'\] \('age' x2, 'sex' x3\)"):
        read_table(p)
    code, _, err = cli(capsys, "schema", "infer", p, "--out", tmp_path / "s.yaml")
    assert code == 2 and "repeats column name" in err and not (tmp_path / "s.yaml").exists()
    code, _, err = cli(capsys, "evaluate", "tabular", "--train", p, "--holdout", p, "--synthetic", p, "--out", tmp_path / "r")
    assert code == 2 and "train table" in err and "repeats column name" in err


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_the_delimiter_is_detected(tmp_path: Path, sep: str) -> None:
    df = small_table(30)
    p = tmp_path / "t.csv"
    df.to_csv(p, sep=sep, index=False)
    got = read_table(p)
    assert list(got.columns) == list(df.columns)
    pd.testing.assert_frame_equal(got, df, check_dtype=False)


def test_semicolon_csv_with_decimal_commas_reads_numbers(tmp_path: Path) -> None:
    p = tmp_path / "eu.csv"
    p.write_text("age;bili;sex\n61;1,5;F\n70;0,25;M\n55;12,75;F\n")
    got = read_table(p)
    assert got["bili"].tolist() == [1.5, 0.25, 12.75] and got["sex"].tolist() == ["F", "M", "F"]


def test_a_ragged_file_is_still_a_parse_error_naming_it(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("a,b\n1,2,3,4\n5\n")
    with pytest.raises(DataValidationError, match="bad.csv"):
        read_table(p)


def test_carriage_returns_inside_unquoted_cells_are_named() -> None:
    """pandas writes a cell holding a carriage return without quotes (dslabs::trump_tweets), and its C reader then fails
    with 'Buffer overflow caught'; the error says what is in the file and how to mend it."""
    import tempfile

    long = "x" * 300 + "\r\r" + "y" * 300  # pandas' C reader overflows on such a cell once it holds enough text
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "tweets.csv"
        pd.DataFrame({"id": range(400), "text": [long if i % 7 == 0 else f"t{i}" for i in range(400)]}).to_csv(p, index=False)
        try:
            read_table(p)
        except DataValidationError as err:
            assert "carriage return(s) that end no line" in str(err) and "tweets.csv" in str(err)
        else:
            pytest.skip("this pandas reads the unquoted carriage returns without failing")


def test_contradictory_where_conditions_are_refused() -> None:
    with pytest.raises(DataValidationError, match="--where sex=m and --where sex=f contradict each other"):
        parse_where(["sex=m", "sex=f"])
    assert parse_where(["sex=m", "sex=m", "death=1"]) == {"sex": "m", "death": "1"}
    with pytest.raises(DataValidationError) as info:
        parse_where(["sex=m", "sex=f", "oops", "=1"])
    assert len(info.value.problems) == 3  # every problem at once


def test_contradictory_where_fails_before_sampling(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "tabular", "sample", tmp_path / "no-run", "--n", "5", "--out", tmp_path / "x.csv",
                       "--where", "sex=m", "--where", "sex=f")
    assert code == 2 and "contradict" in err and not (tmp_path / "x.csv").exists()
