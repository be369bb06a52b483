"""Helpers of the multi-table tests: a small patients + visits dataset, its public schema, real pbcseq."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from medsynth.io.dataset import DatasetSchema
from medsynth.io.dataset_infer import infer_dataset_schema

OUTLIER_AGE = 117
SINGLETON = "SINGLETONCAT"


def make_dataset(n: int = 60, seed: int = 0, *, hostile: bool = False) -> dict[str, pd.DataFrame]:
    """Patients (id, age, sex, futime, status) and 1-6 visits each (id, visit_id, day increasing within the
    patient's follow-up, a skewed lab with missing values, a grade, a visit number 1, 2, ...).

    ``hostile``: one patient aged ``OUTLIER_AGE`` and one visit with grade ``SINGLETON`` (things no DP
    release may reveal).
    """
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 6, n).round().clip(40, 80).astype(int)
    sex = rng.choice(["F", "M"], n)
    futime = rng.integers(400, 3000, n)
    level = rng.normal(0, 0.6, n)
    status = np.where(level + rng.normal(0, 0.4, n) > 0.3, 2, rng.choice([0, 1], n, p=[0.8, 0.2]))
    patients = pd.DataFrame({"id": np.arange(1, n + 1), "age": age, "sex": sex, "futime": futime, "status": status})
    rows = []
    for i in range(n):
        k = int(rng.integers(1, 7))
        days = np.sort(rng.choice(np.arange(0, futime[i]), size=k, replace=False))
        days[0] = 0
        for j, d in enumerate(days):
            lab = float(np.exp(level[i] + 0.2 * rng.normal()))
            rows.append({"id": i + 1, "visit_id": 0, "day": int(d), "lab": round(lab, 3) if rng.random() > 0.1 else np.nan,
                         "grade": rng.choice(["a", "b", "c"], p=[0.5, 0.3, 0.2]), "visit": j + 1})
    visits = pd.DataFrame(rows)
    visits["visit_id"] = np.arange(1, len(visits) + 1)
    if hostile:
        patients.loc[0, "age"] = OUTLIER_AGE
        visits.loc[3, "grade"] = SINGLETON
    return {"patients": patients, "visits": visits}


def ending_dataset(n: int, seed: int, offset: int = 0, *, most: int = 4) -> dict[str, pd.DataFrame]:
    """mstate::prothr's shape: a patient's 2 to ``most`` intervals, each ending in 'none' but the last, which ends in
    'death' or 'censored' (never followed by another row)."""
    rng = np.random.default_rng(seed)
    pats, rows = [], []
    for i in range(n):
        t, k = 0, int(rng.integers(2, most + 1))
        for j in range(k):
            stop = t + int(rng.integers(5, 100))
            end = ("death" if rng.random() < 0.4 else "censored") if j == k - 1 else "none"
            rows.append({"id": offset + i, "start": t, "stop": stop, "event": end})
            t = stop
        pats.append({"id": offset + i, "age": int(rng.integers(30, 80))})
    return {"patients": pd.DataFrame(pats), "events": pd.DataFrame(rows)}


def public_schema(tables: dict[str, pd.DataFrame]) -> DatasetSchema:
    """The inferred schema with every column declared public (as a reviewer would, with public ranges)."""
    data = infer_dataset_schema(tables).to_dict()
    for t in data["tables"].values():
        for c in t["columns"]:
            c["public"] = True
            c.pop("read_from_data", None)
    visits = data["tables"]["visits"]["columns"]
    for c in visits:
        if c["name"] == "grade":
            c["categories"] = ["a", "b", "c"]
        if c["name"] == "lab":
            c.update({"min": 0.0, "max": 10.0})
    for c in data["tables"]["patients"]["columns"]:
        if c["name"] == "age":
            c.update({"min": 18, "max": 100})
    for r in data["relations"]:
        r["read_from_data"] = []
    return DatasetSchema.from_dict(data)


def pbcseq_folder(shared: Path, dest: Path) -> Path:
    """A dataset folder with the real pbcseq tables as patients.csv and visits.csv."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(shared / "tabular" / "pbcseq_patients.csv", dest / "patients.csv")
    shutil.copy(shared / "tabular" / "pbcseq_visits.csv", dest / "visits.csv")
    return dest


def cgd_folder(shared: Path, dest: Path) -> Path:
    """The real cgd table split into patients (baseline covariates, a date column) and infections (intervals)."""
    g = pd.read_csv(shared / "tabular" / "cgd.csv")
    base = ["id", "center", "random", "treat", "sex", "age", "height", "weight", "inherit", "steroids", "propylac", "hos.cat"]
    dest.mkdir(parents=True, exist_ok=True)
    g[base].drop_duplicates("id").to_csv(dest / "patients.csv", index=False)
    g[["id", "tstart", "enum", "tstop", "status"]].to_csv(dest / "infections.csv", index=False)
    return dest


def once_dataset(n: int, seed: int, offset: int = 0) -> dict[str, pd.DataFrame]:
    """mstate::aidssi2's shape: a patient's events in time, an 'aids' diagnosis (60%) and an 'si' switch (50%) each once
    at most, 0-3 'visit' rows, and 'death' last for 40%."""
    rng = np.random.default_rng(seed)
    pats, rows = [], []
    for i in range(n):
        events = ["visit"] * int(rng.integers(0, 4)) + [e for e, p in (("aids", 0.6), ("si", 0.5)) if rng.random() < p]
        events = list(rng.permutation(events)) + (["death"] if rng.random() < 0.4 else [])
        t = 0
        for e in events or ["visit"]:
            t += int(rng.integers(10, 300))
            rows.append({"id": offset + i, "day": t, "event": e})
        pats.append({"id": offset + i, "age": int(rng.integers(20, 60))})
    return {"patients": pd.DataFrame(pats), "events": pd.DataFrame(rows)}
