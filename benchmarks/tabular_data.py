"""Real tables, splits and metrics of the tabular benchmarks (TSTR AUROC, 2-way TVD, DCR share).

Three real tables from ``../shared/data/tabular`` (nothing here imports medsynth):

- ``flchain``: the peers' protocol (PLATFORM.md): 8 baseline covariates + ``death``, 70/30 stratified.
- ``pbc``: the Mayo PBC trial, 418 patients x 19 columns (``id`` dropped), target ``status == 2`` (died).
- ``wide``: built from the longitudinal PBC tables (pbcseq visits joined with their patient, the
  patient's baseline copper/triglycerides/urine copper from pbc, the previous visit's labs, changes
  and ratios): 1,945 visit rows x 49 columns (47 without ``id`` and the target's split key), 14% of the
  cells missing (up to 47% in a column); target ``status == 2``;
  split by patient (no patient in both halves).

Metrics: TSTR AUROC (HistGradientBoostingClassifier trained on synthetic rows, scored on the real
holdout) beside TRTR; the mean total variation distance over all 2-way marginals between a table and
the real training rows (numbers in 10 quantile bins of the training rows plus a missing bin,
categories as they are), for the synthetic table and for the real holdout (its baseline); the DCR
share (share of synthetic rows whose nearest real row is a training row rather than a holdout row,
equal-sized sets; 0.5 means no memorisation).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TABLES = Path(os.environ.get("MEDSYNTH_SHARED_DATA", ROOT.parent / "shared" / "data")) / "tabular"
FLCHAIN_COVARIATES = ["age", "sex", "sample.yr", "kappa", "lambda", "flc.grp", "creatinine", "mgus"]


def flchain() -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(train, test, target) of the flchain protocol."""
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(TABLES / "flchain.csv")[[*FLCHAIN_COVARIATES, "death"]]
    train, test = train_test_split(df, test_size=0.3, random_state=0, stratify=df["death"])
    return train.reset_index(drop=True), test.reset_index(drop=True), "death"


def pbc() -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(train, test, target) of pbc: target status (2 = died), 70/30 stratified on it."""
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(TABLES / "pbc.csv").drop(columns=["id"])
    train, test = train_test_split(df, test_size=0.3, random_state=0, stratify=df["status"])
    return train.reset_index(drop=True), test.reset_index(drop=True), "status"


def lymph_node() -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(train, test, target) of lymph_node (GBSG2 with real dates): target ``censdead`` (1 = died)."""
    from sklearn.model_selection import train_test_split

    df = pd.read_csv(TABLES / "lymph_node.csv")
    train, test = train_test_split(df, test_size=0.3, random_state=0, stratify=df["censdead"])
    return train.reset_index(drop=True), test.reset_index(drop=True), "censdead"


def wide_table() -> pd.DataFrame:
    """The wide visit-level PBC table (with ``id``, for the split)."""
    visits = pd.read_csv(TABLES / "pbcseq_visits.csv").sort_values(["id", "day"]).reset_index(drop=True)
    patients = pd.read_csv(TABLES / "pbcseq_patients.csv")
    base = pd.read_csv(TABLES / "pbc.csv")[["id", "copper", "trig", "chol", "alk.phos", "ast"]].rename(
        columns={"copper": "copper_base", "trig": "trig_base", "chol": "chol_base", "alk.phos": "alkphos_base",
                 "ast": "ast_base"})
    df = visits.merge(patients, on="id", how="left").merge(base, on="id", how="left")
    g = df.groupby("id")
    df["visit"] = g.cumcount() + 1
    labs = ["bili", "chol", "albumin", "alk.phos", "ast", "platelet", "protime"]
    for lab in labs:
        df[f"{lab}_prev"] = g[lab].shift(1)
        df[f"{lab}_prev2"] = g[lab].shift(2)
    df["days_since_prev"] = df["day"] - g["day"].shift(1)
    df["bili_change"] = df["bili"] - df["bili_prev"]
    df["albumin_change"] = df["albumin"] - df["albumin_prev"]
    df["ast_alt_ratio"] = (df["ast"] / df["alk.phos"]).round(4)
    df["age_at_visit"] = (df["age"] + df["day"] / 365.25).round(2)
    df["years_left"] = ((df["futime"] - df["day"]) / 365.25).round(2)
    df["stage_prev"] = g["stage"].shift(1)
    df["bili_max_so_far"] = g["bili"].cummax()
    df["days_to_next"] = g["day"].shift(-1) - df["day"]
    return df


def wide() -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(train, test, target) of the wide table, split 70/30 by patient."""
    df = wide_table()
    ids = np.sort(df["id"].unique())
    rs = np.random.default_rng(0)
    test_ids = set(rs.choice(ids, size=int(round(0.3 * ids.size)), replace=False).tolist())
    test = df[df["id"].isin(test_ids)].drop(columns=["id"])
    train = df[~df["id"].isin(test_ids)].drop(columns=["id"])
    return train.reset_index(drop=True), test.reset_index(drop=True), "status"


DATASETS = {"flchain": flchain, "pbc": pbc, "wide": wide, "lymph_node": lymph_node}


def label(df: pd.DataFrame, target: str) -> pd.Series:
    """The binary outcome: death (flchain ``death == 1``; PBC ``status == 2``)."""
    y = pd.to_numeric(df[target], errors="coerce")
    # binary whatever the synthetic rows hold: a made-up third value (a -1) made the classifier's column 1 that of class
    # 0, and its AUROC 0.19 for a fit whose rows were otherwise sound
    return (y == (2 if target == "status" else 1)).astype(float).where(y.notna())


def _features(df: pd.DataFrame, ref: pd.DataFrame, target: str) -> pd.DataFrame:
    out = {}
    for c in ref.columns:
        if c == target or c not in df.columns:
            continue
        num = pd.to_numeric(ref[c], errors="coerce")
        dates = pd.to_datetime(ref[c], format="%d-%m-%Y", errors="coerce") if ref[c].dtype == object else None
        if dates is not None and dates.notna().sum() >= 0.9 * ref[c].notna().sum() and ref[c].notna().any():
            out[c] = (pd.to_datetime(df[c], format="%d-%m-%Y", errors="coerce") - pd.Timestamp("1970-01-01")).dt.days.astype(float)
        elif num.notna().sum() >= 0.9 * ref[c].notna().sum() and ref[c].notna().any():
            out[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
        else:
            cats = {v: i for i, v in enumerate(sorted(ref[c].dropna().astype(str).unique()))}
            out[c] = df[c].map(lambda v, cats=cats: cats.get(str(v), np.nan) if pd.notna(v) else np.nan).astype(float)
    frame = pd.DataFrame(out, index=df.index)
    empty = [c for c in frame.columns if frame[c].isna().all()]  # an omitted (empty) synthetic column
    return frame.fillna({c: 0.0 for c in empty})


def tstr(train: pd.DataFrame, test: pd.DataFrame, target: str, ref: pd.DataFrame) -> float:
    """AUROC on ``test`` of a HistGradientBoostingClassifier trained on ``train`` (features as in ``ref``)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    y = label(train, target)
    keep = y.notna()
    if y[keep].nunique() < 2:
        return 0.5
    clf = HistGradientBoostingClassifier(random_state=0).fit(_features(train[keep], ref, target), y[keep].astype(int))
    yt = label(test, target)
    return float(roc_auc_score(yt.astype(int), clf.predict_proba(_features(test, ref, target))[:, 1]))


def _key(v: object) -> str:
    """A category as text, whole numbers without '.0' (a real column with missing cells reads as float:
    1.0 there is 1 in a synthetic column without them)."""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _codes(df: pd.DataFrame, ref: pd.DataFrame) -> np.ndarray:
    cols = []
    for c in ref.columns:
        r = pd.to_numeric(ref[c], errors="coerce")
        if r.notna().sum() >= 0.9 * ref[c].notna().sum() and r.nunique() > 12:
            edges = np.unique(np.nanquantile(r, np.linspace(0, 1, 11)[1:-1]))
            x = pd.to_numeric(df[c], errors="coerce").to_numpy(float)
            code = np.searchsorted(edges, x, side="right")
            cols.append(np.where(np.isnan(x), edges.size + 1, code))
        else:
            cats = {v: i for i, v in enumerate(sorted({_key(x) for x in ref[c].dropna()}))}
            k = len(cats)
            cols.append(np.array([cats.get(_key(v), k) if pd.notna(v) else k + 1 for v in df[c]], dtype=np.int64))
    return np.stack(cols, axis=1)


def two_way_tvd(df: pd.DataFrame, ref: pd.DataFrame) -> float:
    """Mean TVD over all column pairs between ``df`` and ``ref`` (binned on ``ref``)."""
    a, b = _codes(df[ref.columns], ref), _codes(ref, ref)
    d = a.shape[1]
    out = []
    for i in range(d):
        for j in range(i + 1, d):
            k = int(max(a[:, j].max(), b[:, j].max())) + 1
            pa = np.bincount(a[:, i] * k + a[:, j]) / len(a)
            pb = np.bincount(b[:, i] * k + b[:, j]) / len(b)
            m = max(pa.size, pb.size)
            out.append(0.5 * float(np.abs(np.pad(pa, (0, m - pa.size)) - np.pad(pb, (0, m - pb.size))).sum()))
    return float(np.mean(out)) if out else 0.0


def dcr_share(syn: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame, *, seed: int = 0, max_rows: int = 2000) -> float:
    """Share of synthetic rows whose nearest real row (standardised numbers, one-hot categories, missing
    indicators) is in an equal-sized training sample rather than in the holdout."""
    from sklearn.neighbors import NearestNeighbors

    rs = np.random.default_rng(seed)
    m = min(len(train), len(test))
    tr = train.iloc[rs.choice(len(train), m, replace=False)]
    te = test.iloc[rs.choice(len(test), m, replace=False)]
    sy = syn.iloc[rs.choice(len(syn), min(len(syn), max_rows), replace=False)]

    def enc(df: pd.DataFrame) -> np.ndarray:
        parts = []
        for c in train.columns:
            r = pd.to_numeric(train[c], errors="coerce")
            if r.notna().sum() >= 0.9 * train[c].notna().sum() and r.nunique() > 12:
                x = pd.to_numeric(df[c], errors="coerce").to_numpy(float)
                sd = float(np.nanstd(r)) or 1.0
                parts.append(np.nan_to_num((x - float(np.nanmean(r))) / sd)[:, None])
                parts.append(np.isnan(x)[:, None].astype(float))
            else:
                cats = sorted(train[c].dropna().astype(str).unique())
                s = df[c].astype(str).where(df[c].notna(), "<NA>").to_numpy()
                parts.append(np.stack([s == v for v in [*cats, "<NA>"]], axis=1).astype(float))
        return np.concatenate(parts, axis=1)

    q = enc(sy)
    d_tr = NearestNeighbors(n_neighbors=1).fit(enc(tr)).kneighbors(q)[0][:, 0]
    d_te = NearestNeighbors(n_neighbors=1).fit(enc(te)).kneighbors(q)[0][:, 0]
    return float(np.mean(d_tr < d_te) + 0.5 * np.mean(d_tr == d_te))


def rule_violations(df: pd.DataFrame, schema) -> dict[str, float]:  # noqa: ANN001 - a medsynth TableSchema
    """Share of rows breaking each rule of ``schema`` (le / derived; dates day-first as in lymph_node)."""
    out = {}
    for con in schema.constraints:
        vals = []
        for c in con.columns:
            s = df[c]
            d = pd.to_datetime(s, format="%d-%m-%Y", errors="coerce") if s.dtype == object else None
            vals.append(((d - pd.Timestamp("1970-01-01")).dt.days if d is not None else pd.to_numeric(s, errors="coerce")).to_numpy(float))
        if con.kind == "le":
            a, b = vals
            both = ~(np.isnan(a) | np.isnan(b))
            out[f"{con.columns[0]} <= {con.columns[1]}"] = float(np.mean(a[both] > b[both])) if both.any() else 0.0
        elif con.kind == "derived":
            c, b, a = vals
            ok = ~(np.isnan(a) | np.isnan(b) | np.isnan(c))
            out[f"{con.columns[0]} = {con.columns[1]} - {con.columns[2]}"] = (
                float(np.mean(np.abs(c[ok] - (b[ok] - a[ok])) > 1e-6)) if ok.any() else 0.0)
    return out


__all__ = ["DATASETS", "dcr_share", "flchain", "label", "lymph_node", "pbc", "rule_violations", "tstr", "two_way_tvd",
           "wide", "wide_table"]
