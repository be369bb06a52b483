"""Fixtures shared by every test: seeding, one CPU thread, isolated HOME, the real data folder."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

# One thread is 3-40x faster than two for the small models in tests on 2-core machines
# (PLATFORM.md); set before torch is imported by any test module.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MEDSYNTH_PROGRESS", "0")

REPO = Path(__file__).resolve().parents[1]
#: Real data lives beside the repository (../shared/data); MEDSYNTH_SHARED_DATA overrides.
SHARED_DATA = Path(os.environ.get("MEDSYNTH_SHARED_DATA", REPO.parent / "shared" / "data"))


def pytest_configure(config: pytest.Config) -> None:
    import torch

    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Every test starts from the same RNG state."""
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


class _SeededBits:
    """Stands for :mod:`secrets` inside :mod:`medsynth.privacy.noise` in tests: ``randbits`` from a fixed-seed stream."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def randbits(self, k: int) -> int:
        return self._rng.getrandbits(k)


@pytest.fixture(autouse=True)
def _reproducible_dp_noise(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The OS entropy that seeds DP noise is, in tests only, a fixed-seed stream started afresh for each test: a DP
    fit in a test draws the same noise on every run, so a test's verdict is reproducible instead of a draw (two tests
    flaked in CI on a rare noise draw: a count that refused an 80-person table, a missing-value share). Each draw
    still differs from the last (two fits in one test release different models), the product's source is
    untouched, and nothing is marked insecure (export works). A test of the real source takes ``@pytest.mark.os_entropy``."""
    if request.node.get_closest_marker("os_entropy"):
        return
    from medsynth.privacy import noise

    monkeypatch.setattr(noise, "secrets", _SeededBits(20261205))


@pytest.fixture
def seeded_dp_noise():
    """DP noise reproducible from a fixed seed inside the test (INSECURE on purpose): for tests of what a DP
    model learns, so that they cannot flake; tests of the guarantee itself use the real noise source."""
    from medsynth.privacy.noise import insecure_noise_for_audit

    with insecure_noise_for_audit(12345):
        yield


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """SDV and matplotlib write under HOME/XDG dirs: keep them in a temp dir."""
    home = tmp_path_factory.mktemp("home")
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "MPLCONFIGDIR"):
        os.environ.setdefault(var, str(home / var.lower()))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder; skips the test where it is absent (as on a user's machine)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (set MEDSYNTH_SHARED_DATA to run this test)")
    return SHARED_DATA


def _real(shared: Path, relative: str) -> Path:
    p = shared / relative
    if not p.exists():
        pytest.skip(f"{p} is absent")
    return p


@pytest.fixture(scope="session")
def real_ct_dicom(shared_data: Path) -> Path:
    return _real(shared_data, "imaging/totalsegmentator/example_ct_dicom")


@pytest.fixture(scope="session")
def real_ct_nifti(shared_data: Path) -> Path:
    return _real(shared_data, "imaging/totalsegmentator/example_ct_sm.nii.gz")


@pytest.fixture(scope="session")
def real_mr_nifti(shared_data: Path) -> Path:
    return _real(shared_data, "imaging/totalsegmentator/example_mr_sm.nii.gz")
