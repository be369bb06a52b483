"""NIfTI and DICOM IO on the real CT/MR and on phantoms: round trips, geometry, HU, bad input."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from medsynth.core.errors import (
    DataValidationError,
    ImageReadError,
    MixedSeriesError,
    SliceGeometryError,
    UnsupportedTransferSyntaxError,
)
from medsynth.io import load_volume, read_dicom_series, read_nifti, write_dicom_series, write_nifti
from medsynth.io.dicom import IDENTIFYING_KEYWORDS
from medsynth.io.phantoms import PhantomConfig, make_phantom
from medsynth.io.volume import Volume, grid_affine


@pytest.fixture()
def phantom_ct() -> Volume:
    return make_phantom(3, PhantomConfig(shape=(16, 16, 12), spacing=(1.5, 1.5, 2.5))).ct


def test_nifti_roundtrip_keeps_affine_exactly(real_ct_nifti: Path, tmp_path: Path):
    vol = read_nifti(real_ct_nifti)
    assert vol.modality == "CT" and vol.units == "HU"
    assert vol.array.min() >= -1300 and vol.array.max() > 500  # HU range of a real abdominal CT
    out = write_nifti(vol, tmp_path / "ct.nii.gz")
    back = read_nifti(out)
    assert np.array_equal(back.affine, vol.affine)
    assert np.array_equal(back.array, vol.array)
    assert nib.load(str(out)).get_data_dtype() == np.int16


def test_real_dicom_series_reads_in_hu_with_geometry(real_ct_dicom: Path):
    vol = read_dicom_series(real_ct_dicom)
    assert vol.spatial_shape == (512, 512, 20)
    assert np.allclose(vol.spacing, (0.9765625, 0.9765625, 2.0))
    assert vol.orientation == "LPS"  # IOP [1,0,0,0,1,0]: columns go to patient left, rows posterior
    assert vol.array.min() == -1024  # RescaleIntercept applied: air is -1024 HU, not 0
    body = vol.array[200:300, 200:300, :]
    assert -200 < np.median(body) < 200  # soft tissue inside the patient
    # slices are ordered by position along the normal (z increases with k), not by file name
    ds = [pydicom.dcmread(f, stop_before_pixels=True) for f in sorted(real_ct_dicom.iterdir())]
    zs = sorted(float(d.ImagePositionPatient[2]) for d in ds)
    assert vol.affine[2, 3] == pytest.approx(zs[0])
    assert vol.affine[2, 2] == pytest.approx(2.0)


def test_nifti_dicom_nifti_roundtrip_on_real_ct(real_ct_nifti: Path, tmp_path: Path):
    vol = read_nifti(real_ct_nifti)
    assert vol.orientation == "RAS"
    write_dicom_series(vol, tmp_path / "series")
    back = read_dicom_series(tmp_path / "series")
    assert back.orientation == "LPS"  # stored as DICOM slices are (rows to the patient's left), not mirrored
    assert np.array_equal(back.reoriented("RAS").array, vol.array)  # HU identical, voxel for voxel
    assert np.allclose(back.reoriented("RAS").affine, vol.affine, atol=1e-4)
    write_nifti(back, tmp_path / "back.nii.gz")
    again = read_nifti(tmp_path / "back.nii.gz").reoriented("RAS")
    assert np.array_equal(again.array, vol.array)
    assert np.allclose(again.affine, vol.affine, atol=1e-4)


@pytest.mark.parametrize("codes, iop", [("RAS", (1, 0, 0, 0, 1, 0)), ("LPI", (1, 0, 0, 0, 1, 0)),
                                        ("ASR", (0, 1, 0, 0, 0, -1)), ("SRA", (1, 0, 0, 0, 0, -1))])
def test_dicom_is_stored_as_a_viewer_draws_it(codes: str, iop: tuple, tmp_path: Path):
    """A RAS NIfTI written pixel for pixel shows mirrored in a viewer that draws the stored array; the series is
    stored with rows to the patient's left and columns posterior (or down), the standard orientations."""
    ras = np.full((6, 5, 4), -1000.0)
    ras[0, 2, 1] = 500.0  # i = 0 of a RAS volume: the patient's far left (x grows to the right)
    ras[3, 4, 1] = 300.0  # j = 4: the most anterior row
    vol = Volume(ras, np.diag([0.8, 0.9, 2.0, 1.0]), modality="CT").reoriented(codes)
    files = write_dicom_series(vol, tmp_path / "s")
    first = pydicom.dcmread(files[0])
    assert [float(v) for v in first.ImageOrientationPatient] == pytest.approx(iop)
    back = read_dicom_series(tmp_path / "s")
    assert np.array_equal(back.reoriented(codes).array, vol.array)
    assert np.allclose(back.reoriented(codes).affine, vol.affine, atol=1e-6)
    if codes in ("RAS", "LPI"):  # axial: the patient's left on the image's right (radiological), anterior at the top
        plane = np.stack([pydicom.dcmread(f).pixel_array for f in files], axis=-1)
        assert np.argwhere(plane == 500).tolist()[0][:2] == [2, 5]
        assert np.argwhere(plane == 300).tolist()[0][:2] == [0, 2]


def test_reoriented_names_bad_axis_codes():
    vol = Volume(np.zeros((2, 3, 4)), np.eye(4))
    with pytest.raises(DataValidationError, match="'RRS' are not three of R/L, A/P, S/I"):
        vol.reoriented("RRS")
    assert vol.reoriented("RAS") is vol
    lps = vol.reoriented("lps")
    assert lps.orientation == "LPS" and lps.array.shape == (2, 3, 4)
    odd = Volume(np.zeros((2, 3, 4)), np.diag([0.7, 0.8, 2.5, 1.0])).reoriented("SLA")
    for codes in ("RAS", "LPS", "ASR"):  # from the affine alone, as the moved array's
        assert odd.spacing_in(codes) == pytest.approx(odd.reoriented(codes).spacing)
    with pytest.raises(DataValidationError, match="'XYZ' are not three"):
        odd.spacing_in("XYZ")


def test_mr_roundtrip_within_quantisation(real_mr_nifti: Path, tmp_path: Path):
    vol = read_nifti(real_mr_nifti, modality="MR")
    vol = vol.with_array(vol.array + 0.25)  # non-integer values force the scaled uint16 path
    write_dicom_series(vol, tmp_path / "mr")
    back = read_dicom_series(tmp_path / "mr")
    assert back.modality == "MR"
    step = (vol.array.max() - vol.array.min()) / 65535
    assert np.abs(back.array - vol.array).max() <= step / 2 + 1e-3
    assert np.allclose(back.affine, vol.affine, atol=1e-4)


def test_synthetic_dicom_carries_nothing_from_the_real_series(real_ct_dicom: Path, tmp_path: Path):
    src_files = sorted(real_ct_dicom.iterdir())
    sources = [pydicom.dcmread(f, stop_before_pixels=True) for f in src_files]
    source_values = set()
    for ds in sources:
        for kw in IDENTIFYING_KEYWORDS:
            v = ds.get(kw)
            if v not in (None, ""):
                source_values.add(str(v))
        for elem in ds.iterall():
            if elem.VR == "UI" and elem.value and not str(elem.value).startswith("1.2.840.10008."):
                source_values.add(str(elem.value))  # instance UIDs, not the standard's class UIDs
    assert source_values, "the real series should carry identifying values to compare against"
    vol = read_dicom_series(real_ct_dicom)
    files = write_dicom_series(vol, tmp_path / "syn", series_description="copy of a real CT", synthetic=True)
    out_uids = set()
    for f in files:
        ds = pydicom.dcmread(f)
        for elem in ds.iterall():
            if isinstance(elem.value, (str, pydicom.valuerep.PersonName)) or elem.VR in ("UI", "DA", "TM", "DT", "LO", "SH", "PN"):
                assert str(elem.value) not in source_values or str(elem.value) in ("", "CT"), f"{elem.keyword}={elem.value!r} copied from the source"
        assert ds.SyntheticData == "YES"
        assert list(ds.ImageType)[:2] == ["DERIVED", "SECONDARY"]
        assert ds.PatientIdentityRemoved == "YES"
        assert "SYNTHETIC" in ds.SeriesDescription
        assert ds.PatientName == "SYNTHETIC^MEDSYNTH" and ds.PatientID.startswith("SYN-")
        for kw in ("StudyDate", "PatientBirthDate", "InstitutionName", "AccessionNumber"):
            assert not ds.get(kw), kw
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"  # CT Image Storage
        out_uids.add(ds.SOPInstanceUID)
    assert len(out_uids) == len(files)  # a new UID per slice
    # two writes of the same volume are different studies
    files2 = write_dicom_series(vol, tmp_path / "syn2")
    assert pydicom.dcmread(files2[0]).StudyInstanceUID != pydicom.dcmread(files[0]).StudyInstanceUID


def _series(tmp_path: Path, vol: Volume, name: str = "s") -> list[Path]:
    return write_dicom_series(vol, tmp_path / name)


def test_folder_with_two_series_is_refused_naming_both(phantom_ct: Volume, tmp_path: Path):
    a = _series(tmp_path, phantom_ct, "a")
    b = _series(tmp_path, phantom_ct, "b")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for f in a + b:
        shutil.copy(f, mixed / f"{f.parent.name}_{f.name}")
    with pytest.raises(MixedSeriesError) as exc:
        read_dicom_series(mixed)
    uid_a = pydicom.dcmread(a[0]).SeriesInstanceUID
    uid_b = pydicom.dcmread(b[0]).SeriesInstanceUID
    assert uid_a in str(exc.value) and uid_b in str(exc.value) and "series_uid" in str(exc.value)
    chosen = read_dicom_series(mixed, series_uid=uid_b)
    assert chosen.spatial_shape == phantom_ct.spatial_shape


def test_two_series_one_without_uid_are_listed_as_one_problem_and_chosen_by_number(phantom_ct: Volume, tmp_path: Path):
    """A folder with the TotalSegmentator CT (empty SeriesInstanceUID) and another series said '3 problems found' (its
    header and the two series counted as problems) and 'choose one with series_uid=', which the UID-less series cannot."""
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for f in _series(tmp_path, phantom_ct, "a"):
        ds = pydicom.dcmread(f)
        ds.SeriesInstanceUID = ""
        ds.save_as(mixed / f"a_{f.name}")
    small = Volume(phantom_ct.array[:, :, :5], affine=phantom_ct.affine, modality="CT")
    b = _series(tmp_path, small, "b")
    for f in b:
        shutil.copy(f, mixed / f"b_{f.name}")
    with pytest.raises(MixedSeriesError) as exc:
        read_dicom_series(mixed)
    msg = str(exc.value)
    assert len(exc.value.problems) == 1 and "problems found" not in msg
    uid_b = pydicom.dcmread(b[0]).SeriesInstanceUID
    assert "1. (no SeriesInstanceUID) (CT" in msg and f"2. {uid_b} (CT" in msg
    assert "put each series in a folder of its own" in msg and f"`medsynth convert '{mixed}' OUT.nii.gz --series N`" in msg
    assert read_dicom_series(mixed, series_uid="1").spatial_shape == phantom_ct.spatial_shape  # the one without a UID
    assert read_dicom_series(mixed, series_uid="2").spatial_shape == small.spatial_shape
    assert read_dicom_series(mixed, series_uid=uid_b).spatial_shape == small.spatial_shape
    with pytest.raises(MixedSeriesError, match=r"series '3' is not in .*a number 1\.\.2 of:\n    1\. \(no SeriesInstanceUID\)"):
        read_dicom_series(mixed, series_uid="3")


def test_missing_slice_is_a_named_gap(phantom_ct: Volume, tmp_path: Path):
    files = _series(tmp_path, phantom_ct)
    files[5].unlink()
    with pytest.raises(SliceGeometryError) as exc:
        read_dicom_series(tmp_path / "s")
    msg = str(exc.value)
    assert "gap of 5.000 mm" in msg and "2.500 mm is expected" in msg and "1 slice(s) missing" in msg


def test_duplicated_slice_is_named(phantom_ct: Volume, tmp_path: Path):
    files = _series(tmp_path, phantom_ct)
    shutil.copy(files[3], tmp_path / "s" / "copy_of_4.dcm")
    with pytest.raises(SliceGeometryError, match="duplicated slice .* 'copy_of_4.dcm'|duplicated slice .*slice_0004"):
        read_dicom_series(tmp_path / "s")


def test_truncated_dicom_file_is_named(phantom_ct: Volume, tmp_path: Path):
    files = _series(tmp_path, phantom_ct)
    data = files[2].read_bytes()
    files[2].write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="slice_0003.dcm"):
        read_dicom_series(tmp_path / "s")


def test_unsupported_compression_says_how_to_fix(phantom_ct: Volume, tmp_path: Path):
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGLSLossless

    files = _series(tmp_path, phantom_ct)
    for f in files:
        ds = pydicom.dcmread(f)
        ds.file_meta.TransferSyntaxUID = JPEGLSLossless
        ds.PixelData = encapsulate([b"\xff\xd8garbage\xff\xd9"])
        ds["PixelData"].is_undefined_length = True
        ds.save_as(f)
    with pytest.raises(UnsupportedTransferSyntaxError) as exc:
        read_dicom_series(tmp_path / "s")
    assert "JPEG-LS" in str(exc.value) and "pip install" in str(exc.value)


def test_truncated_nifti_and_wrong_inputs(real_ct_nifti: Path, tmp_path: Path):
    data = real_ct_nifti.read_bytes()
    cut = tmp_path / "cut.nii.gz"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageReadError, match="cut.nii.gz"):
        read_nifti(cut)
    notgz = tmp_path / "garbage.nii.gz"
    notgz.write_bytes(gzip.compress(b"not a nifti header" * 30))
    with pytest.raises(ImageReadError, match="garbage.nii.gz"):
        read_nifti(notgz)
    with pytest.raises(ImageReadError, match="no DICOM image"):
        read_dicom_series(tmp_path)
    with pytest.raises(ImageReadError, match="does not exist"):
        load_volume(tmp_path / "nope.nii.gz")
    with pytest.raises(DataValidationError, match="3 spatial dimensions"):
        Volume(np.zeros((4, 4)), np.eye(4))
    with pytest.raises(DataValidationError, match="singular"):
        Volume(np.zeros((4, 4, 4)), np.zeros((4, 4)))


def test_load_volume_dispatch(phantom_ct: Volume, tmp_path: Path):
    write_nifti(phantom_ct, tmp_path / "a.nii.gz")
    write_dicom_series(phantom_ct, tmp_path / "dcm")
    a = load_volume(tmp_path / "a.nii.gz", modality="CT")
    b = load_volume(tmp_path / "dcm").reoriented(a.orientation)  # DICOM is stored LPS
    assert a.same_grid(b) and np.array_equal(a.array, b.array)
    assert np.array_equal(a.array, np.rint(phantom_ct.array))


def test_grid_affine_centres_the_volume():
    aff = grid_affine((2.0, 2.0, 2.0), (5, 5, 5))
    centre = aff @ np.array([2, 2, 2, 1.0])
    assert np.allclose(centre[:3], 0)


def test_real_nrrd_brain_mr_reads_with_ras_affine(shared_data: Path, tmp_path: Path):
    p = shared_data / "imaging" / "pyradiomics" / "brain1_image.nrrd"
    if not p.is_file():
        pytest.skip(f"{p} is absent")
    vol = load_volume(p, modality="MR")
    assert vol.spatial_shape == (256, 256, 25) and vol.modality == "MR"
    assert np.allclose(vol.spacing, (0.78125, 0.78125, 6.5))
    # header: LPS space, origin (-99.6, 99.6, -78), j axis pointing to -P (anterior)
    assert np.allclose(vol.affine[:3, 3], (99.609375, -99.609375, -78.0))
    assert vol.orientation == "LAS"
    labels = load_volume(p.with_name("brain1_label.nrrd"), modality="SEG")
    assert set(np.unique(labels.array).tolist()) == {0.0, 1.0} and labels.same_grid(vol)
    write_nifti(vol, tmp_path / "brain.nii.gz")
    assert np.allclose(read_nifti(tmp_path / "brain.nii.gz").affine, vol.affine, atol=1e-5)


def test_volume_stem_is_the_one_pairing_rule():
    """translate apply wrote 'brain1_image.nrrd_sct.nii.gz' for an NRRD input (four copies of the rule, two without
    NRRD); one rule now names cases for reading, writing and pairing."""
    from medsynth.io.loading import volume_stem

    assert [volume_stem(n) for n in ("case_000.nii.gz", "a.NII", "brain1_image.nrrd", "b.nhdr", "s/ct.dcm", "series_dir")] == [
        "case_000", "a", "brain1_image", "b", "ct", "series_dir"]


def test_one_slice_reads_its_own_series_beside_others(phantom_ct: Volume, tmp_path: Path):
    """A user naming one slice of a folder holding several series (pydicom's test_files: 90 unrelated files)
    got every other file's problems; now the slice's series is read and the rest of the folder ignored."""
    folder = tmp_path / "mixed"
    write_dicom_series(phantom_ct, tmp_path / "a")
    other = Volume(phantom_ct.array[:, :, :5], affine=phantom_ct.affine, modality="CT")
    write_dicom_series(other, tmp_path / "b")
    folder.mkdir()
    for sub in ("a", "b"):
        for f in (tmp_path / sub).iterdir():
            shutil.copy(f, folder / f"{sub}_{f.name}")
    (folder / "notes.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"junk")
    vol = load_volume(folder / "b_slice_0002.dcm")
    assert vol.spatial_shape == (*phantom_ct.spatial_shape[:2], 5)
    assert np.array_equal(vol.reoriented(other.orientation).array, np.rint(other.array))
    with pytest.raises(MixedSeriesError):  # the whole folder still names its series
        load_volume(folder)


def test_enhanced_multiframe_is_named_not_called_missing(phantom_ct: Volume, tmp_path: Path):
    """pydicom's liver_1frame.dcm (a DICOM SEG, per-frame functional groups) was reported as 'no DICOM image found'."""
    write_dicom_series(phantom_ct, tmp_path / "s")
    ds = pydicom.dcmread(next(iter(sorted((tmp_path / "s").iterdir()))))
    del ds.ImagePositionPatient
    ds.NumberOfFrames = 1
    ds.PerFrameFunctionalGroupsSequence = [pydicom.Dataset()]
    (tmp_path / "enh").mkdir()
    ds.save_as(tmp_path / "enh" / "enhanced.dcm")
    with pytest.raises(ImageReadError, match="enhanced multi-frame.*not supported.*dcm2niix"):
        load_volume(tmp_path / "enh")


def test_integer_types_survive_conversion(tmp_path: Path):
    """`medsynth convert` wrote the uint8 MNI152 template (197x233x189) and the pyradiomics uint8 label NRRD as float32
    NIfTI: the same values at 4x the size, and a label map nnU-Net reads as floats."""
    import nrrd

    from medsynth.io.convert import convert_volume

    arr = np.random.default_rng(0).integers(0, 256, (9, 8, 7)).astype(np.uint8)
    nib.save(nib.Nifti1Image(arr, np.diag([1.0, 1.0, 1.0, 1.0])), str(tmp_path / "t1.nii.gz"))
    nrrd.write(str(tmp_path / "label.nrrd"), (arr > 128).astype(np.uint8), {"space": "left-posterior-superior"})
    scaled = nib.Nifti1Image(arr.astype(np.int16), np.eye(4))
    scaled.header.set_slope_inter(0.5, 0.0)
    nib.save(scaled, str(tmp_path / "scaled.nii.gz"))
    for src, expected in (("t1.nii.gz", np.uint8), ("label.nrrd", np.uint8), ("scaled.nii.gz", np.float32)):
        out = tmp_path / f"out_{src.split('.')[0]}.nii.gz"
        convert_volume(tmp_path / src, out)
        img = nib.load(str(out))
        assert img.get_data_dtype() == expected, src
    back = nib.load(str(tmp_path / "out_t1.nii.gz"))
    np.testing.assert_array_equal(np.asarray(back.dataobj), arr)
    v = read_nifti(tmp_path / "t1.nii.gz")
    write_nifti(v.with_array(v.array + 0.5), tmp_path / "half.nii.gz")  # no longer integers: float32
    assert nib.load(str(tmp_path / "half.nii.gz")).get_data_dtype() == np.float32


def test_synthetic_dicom_holds_the_elements_an_archive_requires(phantom_ct: Volume, tmp_path: Path):
    """A data scientist's strict archive check: no PatientPosition (type 2C for CT and MR), and MR slices without
    ScanningSequence and SequenceVariant (type 1). Present now: empty where unknown, research mode for the sequence."""
    ct = pydicom.dcmread(write_dicom_series(phantom_ct, tmp_path / "ct")[0])
    assert "PatientPosition" in ct and "AcquisitionNumber" in ct
    mr = Volume(array=np.asarray(phantom_ct.array, dtype=np.float32) + 1500.0, affine=phantom_ct.affine, modality="MR")
    ds = pydicom.dcmread(write_dicom_series(mr, tmp_path / "mr")[0])
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.4"  # MR Image Storage
    assert ds.ScanningSequence == "RM" and ds.SequenceVariant == "NONE" and "PatientPosition" in ds
    for kw in ("ScanOptions", "MRAcquisitionType", "RepetitionTime", "EchoTime", "EchoTrainLength"):
        assert kw in ds, kw


def test_convert_never_labels_a_real_scan_synthetic_and_keeps_a_synthetic_marker(real_ct_dicom, tmp_path):
    """An imaging researcher: `convert` of a real patient's CT wrote SyntheticData YES and PatientName
    SYNTHETIC^MEDSYNTH, so a release filter trusting the tag would let real data out. A conversion now marks its
    output synthetic only where its input is (medsynth's NIfTI descrip, a series' SyntheticData) or --synthetic says
    so; a generator's NIfTI carries the marker in its header, and converting it keeps it."""
    from medsynth.cli.main import main
    from medsynth.io.nifti import SYNTHETIC_DESCRIP

    assert main(["convert", str(real_ct_dicom), str(tmp_path / "real.nii.gz")]) == 0
    assert bytes(nib.load(tmp_path / "real.nii.gz").header["descrip"]).rstrip(b"\0") == b""
    assert main(["convert", str(tmp_path / "real.nii.gz"), str(tmp_path / "real_dicom")]) == 0
    ds = pydicom.dcmread(sorted((tmp_path / "real_dicom").iterdir())[0])
    assert ds.SyntheticData == "NO" and "SYNTHETIC" not in str(ds.PatientName) + ds.SeriesDescription + ds.DerivationDescription
    assert ds.PatientID.startswith("CONV-") and "not synthetic" in ds.DerivationDescription
    vol = read_nifti(tmp_path / "real.nii.gz", modality="CT")
    write_nifti(vol, tmp_path / "syn.nii.gz", synthetic=True)
    assert bytes(nib.load(tmp_path / "syn.nii.gz").header["descrip"]).rstrip(b"\0").decode() == SYNTHETIC_DESCRIP
    assert main(["convert", str(tmp_path / "syn.nii.gz"), str(tmp_path / "syn_dicom")]) == 0
    ds = pydicom.dcmread(sorted((tmp_path / "syn_dicom").iterdir())[0])
    assert ds.SyntheticData == "YES" and ds.PatientName == "SYNTHETIC^MEDSYNTH"
    assert main(["convert", str(tmp_path / "syn_dicom"), str(tmp_path / "back.nii.gz")]) == 0
    assert read_nifti(tmp_path / "back.nii.gz").meta.get("synthetic") is True
    assert main(["convert", str(tmp_path / "real.nii.gz"), str(tmp_path / "marked"), "--synthetic"]) == 0
    assert pydicom.dcmread(sorted((tmp_path / "marked").iterdir())[0]).SyntheticData == "YES"
    from medsynth.io import write_volume  # the Python API alike: a real volume read and written is not synthetic

    write_volume(read_nifti(tmp_path / "real.nii.gz", modality="CT"), tmp_path / "api_dicom", format="dicom")
    assert pydicom.dcmread(sorted((tmp_path / "api_dicom").iterdir())[0]).SyntheticData == "NO"


def test_ct_beyond_int16_is_a_named_error_saying_what_to_do(tmp_path):
    """An imaging researcher: 'CT values -40000..40000 HU do not fit int16 DICOM storage' said nothing of what to do."""
    from medsynth.io.volume import Volume

    arr = np.zeros((4, 4, 3), dtype=np.float32)
    arr[0, 0, 0], arr[1, 1, 1] = -40000, 40000
    with pytest.raises(DataValidationError, match=r"-40000..40000 HU do not fit int16 .*clip them .*or write NIfTI"):
        write_dicom_series(Volume(arr, np.eye(4), modality="CT"), tmp_path / "d")
    assert not (tmp_path / "d").exists()


def _real_like_series(phantom_ct: Volume, tmp_path: Path) -> Path:
    """A phantom written as a real scan's series: 3 mm slices every 2.5 mm, HFS, kernel Br38f, a scanner model."""
    folder = tmp_path / "scan"
    for f in write_dicom_series(phantom_ct, folder, synthetic=False):
        ds = pydicom.dcmread(f)
        ds.SeriesDescription, ds.SliceThickness, ds.PatientPosition = "CT Body 3.0", "3", "HFS"
        ds.ConvolutionKernel, ds.KVP = ["Br38f", "3"], "120"
        ds.Manufacturer, ds.ManufacturerModelName = "SIEMENS", "Biograph40_mCT 4R"
        ds.save_as(f, enforce_file_format=True)
    return folder


def test_a_real_scan_converted_keeps_its_acquisition_not_its_description(phantom_ct: Volume, tmp_path: Path):
    """An imaging researcher: a real CT converted DICOM -> NIfTI -> DICOM said SyntheticData NO but SeriesDescription
    'medsynth synthetic', SliceThickness 2 for a 3 mm reconstruction (the spacing), an empty PatientPosition for HFS and
    no ConvolutionKernel. A conversion of a real scan keeps its acquisition (through the NIfTI too), described neutrally;
    a synthetic output carries none of it."""
    from medsynth.cli.main import main
    from medsynth.io.dicom import ACQUISITION_KEYWORDS, CONVERSION_DESCRIPTION

    src = _real_like_series(phantom_ct, tmp_path)
    assert main(["convert", str(src), str(tmp_path / "ct.nii.gz")]) == 0
    assert main(["convert", str(tmp_path / "ct.nii.gz"), str(tmp_path / "back")]) == 0
    assert main(["convert", str(src), str(tmp_path / "direct")]) == 0
    for out in ("back", "direct"):
        ds = pydicom.dcmread(sorted((tmp_path / out).iterdir())[0])
        # (not the source's free-text description: it may hold dates and names, a reviewer; nor 'synthetic')
        assert ds.SyntheticData == "NO" and ds.SeriesDescription == CONVERSION_DESCRIPTION, out
        assert float(ds.SliceThickness) == 3.0 and float(ds.SpacingBetweenSlices) == 2.5, out
        assert ds.PatientPosition == "HFS" and list(ds.ConvolutionKernel) == ["Br38f", "3"] and float(ds.KVP) == 120.0
        assert ds.Manufacturer == "medsynth" and "Biograph" not in str(ds.get("ManufacturerModelName", ""))  # (narrows the site)
    # synthetic outputs carry none of it, whether marked at conversion or by the generator's NIfTI
    assert main(["convert", str(tmp_path / "ct.nii.gz"), str(tmp_path / "syn"), "--synthetic"]) == 0
    assert main(["convert", str(src), str(tmp_path / "syn.nii.gz"), "--synthetic"]) == 0
    assert main(["convert", str(tmp_path / "syn.nii.gz"), str(tmp_path / "syn_back")]) == 0
    for out in ("syn", "syn_back"):
        ds = pydicom.dcmread(sorted((tmp_path / out).iterdir())[0])
        assert ds.SyntheticData == "YES" and ds.SeriesDescription.startswith("SYNTHETIC") and "CT Body" not in ds.SeriesDescription
        assert float(ds.SliceThickness) == 2.5 and ds.PatientPosition == "" and "ConvolutionKernel" not in ds
        assert ds.Manufacturer == "medsynth" and ds.ManufacturerModelName == "medsynth" and not ds.get("KVP")
    assert read_nifti(tmp_path / "syn.nii.gz").meta.get("acquisition") is None  # nothing in the synthetic NIfTI either
    assert set(read_nifti(tmp_path / "ct.nii.gz").meta["acquisition"]) <= set(ACQUISITION_KEYWORDS)
    # a real volume with no known description: a neutral one, never 'synthetic'
    write_dicom_series(phantom_ct, tmp_path / "plain", synthetic=False)
    ds = pydicom.dcmread(sorted((tmp_path / "plain").iterdir())[0])
    assert ds.SeriesDescription == CONVERSION_DESCRIPTION and "synthetic" not in ds.SeriesDescription.lower()


def test_a_real_ct_series_round_trip_keeps_slice_thickness_and_position(real_ct_dicom: Path, tmp_path: Path):
    """The researcher's case on the real series (3 mm slices every 2 mm, HFS, kernel Br38f, 'CT Body 3.0')."""
    from medsynth.cli.main import main

    assert main(["convert", str(real_ct_dicom), str(tmp_path / "ct.nii.gz")]) == 0
    assert main(["convert", str(tmp_path / "ct.nii.gz"), str(tmp_path / "back")]) == 0
    ds = pydicom.dcmread(sorted((tmp_path / "back").iterdir())[0])
    assert ds.SeriesDescription == "medsynth conversion" and float(ds.SliceThickness) == 3.0 and ds.PatientPosition == "HFS"
    assert "Br38f" in list(ds.ConvolutionKernel) and ds.SyntheticData == "NO"
