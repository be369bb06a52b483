"""OMOP CDM's export shape: ``person``, ``visit_occurrence`` and ``condition_occurrence`` (which refers to both a person
and a visit), ``*_concept_id`` codes, ``*_date`` beside ``*_datetime``, a birth date far before the visits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsynth.io.dataset_infer import infer_dataset_schema, time_stem
from medsynth.io.schema import code_like
from medsynth.privacy.noise import insecure_noise_for_audit
from medsynth.tabular.multi_mst import MultiTableDPMST


def omop_like(n: int = 200, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    person, visits, conds = [], [], []
    vid = cid = 1
    for pid in range(1, n + 1):
        birth = pd.Timestamp("1940-01-01") + float(rng.uniform(0, 25000)) * pd.Timedelta(days=1)
        person.append({"person_id": pid, "gender_concept_id": int(rng.choice([8507, 8532])),
                       "birth_datetime": birth.strftime("%Y-%m-%d %H:%M:%S")})
        t = pd.Timestamp("2015-01-01") + float(rng.uniform(0, 400)) * pd.Timedelta(days=1)
        for _ in range(int(rng.integers(1, 6))):
            end = t + float(rng.uniform(0.3, 3)) * pd.Timedelta(hours=1)
            visits.append({"visit_occurrence_id": vid, "person_id": pid, "visit_concept_id": int(rng.choice([9201, 9202])),
                           "visit_start_date": t.date().isoformat(), "visit_start_datetime": t.strftime("%Y-%m-%d %H:%M:%S"),
                           "visit_end_datetime": end.strftime("%Y-%m-%d %H:%M:%S")})
            for _ in range(int(rng.integers(0, 3))):
                conds.append({"condition_occurrence_id": cid, "person_id": pid, "visit_occurrence_id": vid,
                              "condition_concept_id": int(rng.choice([201826, 320128])), "condition_start_date": t.date().isoformat()})
                cid += 1
            vid += 1
            t = end + float(rng.exponential(90)) * pd.Timedelta(days=1)
    return {"person": pd.DataFrame(person), "visit_occurrence": pd.DataFrame(visits),
            "condition_occurrence": pd.DataFrame(conds)}


def test_a_table_with_two_parents_fits_when_the_other_parent_has_dates():
    """condition_occurrence refers to its visit (its primary parent) and to its person, who has a birth date: the DP fit
    decided the person relation's time fields with the visit's row numbers and stopped with an IndexError. Only the
    primary relation's fields are decided now (the others are not modelled), with a note."""
    data = omop_like(200)
    with insecure_noise_for_audit(1):
        m = MultiTableDPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(data, infer_dataset_schema(data))
    other = next(r for r in m.schema.relations if (r.child, r.parent) == ("condition_occurrence", "person"))
    assert other.order_by is None and other.after is None
    syn = m.sample(50, seed=0)
    assert set(syn["condition_occurrence"]["visit_occurrence_id"]) <= set(syn["visit_occurrence"]["visit_occurrence_id"])


def test_concept_ids_are_codes_not_identities():
    """Under DP the noise could not tell whether visit_concept_id's values were unique, and a name like an id made them
    identifiers: every synthetic visit got a new 'syn-0000001' concept."""
    assert [code_like(n) for n in ("visit_concept_id", "itemid", "visit_type_concept_id", "ItemID", "person_id", "hadm_id",
                                   "unit_id", "specimen_source_id", "barcode_id", "community_id")] == [
        True, True, True, True, False, False, False, False, False, False]
    data = omop_like(200, seed=2)
    with insecure_noise_for_audit(2):
        m = MultiTableDPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(data, infer_dataset_schema(data))
    assert m.schema.tables["visit_occurrence"].column("visit_concept_id").type == "categorical"
    got = m.sample(50, seed=0)["visit_occurrence"]["visit_concept_id"]
    assert set(got.dropna()) <= {9201, 9202}


def test_a_birth_date_decades_before_a_window_of_visits_is_no_start_of_them():
    """Anchored on a birth date, a first visit is its share of a reach of decades; visits of 2015-2016 came out from
    1967 to 2059. An after column further before the first child than the child times' own range is contradicted."""
    rel = next(r for r in infer_dataset_schema(omop_like(150)).relations if r.child == "visit_occurrence")
    assert rel.order_by == "visit_start_date" and rel.after is None


def test_the_time_of_day_of_a_start_date_is_an_end_of_it_on_its_name():
    assert time_stem("visit_start_datetime") == time_stem("visit_start_date") == "visit_start"
    assert time_stem("charttime") == time_stem("chartdate") == "chart" and time_stem("START") == "start"


def test_a_date_beside_its_datetime_is_written_as_its_day():
    """visit_start_date and visit_start_datetime hold one moment: modelled apart (an interval end of hours after the
    date's midnight), they disagreed on the day in 2-37% of synthetic visits. The date is now written as its datetime's
    day (names and formats only), in single-table decoding too."""
    from medsynth.io.schema import ColumnSchema, TableSchema
    from medsynth.tabular.encoding import Frame, TableCodec

    cols = [ColumnSchema(name="visit_start_date", type="datetime", min="2015-01-01", max="2016-01-01", format="%Y-%m-%d"),
            ColumnSchema(name="visit_start_datetime", type="datetime", min="2015-01-01", max="2016-01-01",
                         format="%Y-%m-%d %H:%M:%S", missing=True),
            ColumnSchema(name="birth_date", type="datetime", min="1940-01-01", max="2000-01-01", format="%Y-%m-%d")]
    codec = TableCodec(TableSchema(columns=cols))
    rng = np.random.default_rng(0)
    frame = Frame(n=200, num={c.name: rng.random(200) for c in cols})
    frame.num["visit_start_datetime"][:10] = np.nan  # a missing datetime keeps the date drawn for it
    out = codec.decode(frame)
    has = out["visit_start_datetime"].notna()
    assert (out.loc[has, "visit_start_datetime"].str[:10] == out.loc[has, "visit_start_date"]).all()
    assert out.loc[~has, "visit_start_date"].notna().all()
    assert (out["birth_date"].str[:4] < "2001").all()  # another stem: untouched
    data = omop_like(300, seed=3)
    m = MultiTableDPMST().fit(data, infer_dataset_schema(data))
    v = m.sample(300, seed=0)["visit_occurrence"]
    assert (v["visit_start_datetime"].str[:10] == v["visit_start_date"]).all()


def test_a_visits_end_is_measured_from_its_start_datetime_not_from_its_date():
    """visit_start_datetime and visit_end_datetime were both interval ends of visit_start_date, drawn apart: a visit
    ended before it started in 19-41% of synthetic visits (DP) and 19% (non-private). The end of the time column's own
    stem (the start's time of day) is the fine start, and the other ends are measured from it."""
    data = omop_like(300, seed=4)
    m = MultiTableDPMST().fit(data, infer_dataset_schema(data))
    assert m.plans["visit_occurrence"].fine_start == "visit_start_datetime"
    v = m.sample(300, seed=0)["visit_occurrence"]
    hours = (pd.to_datetime(v["visit_end_datetime"]) - pd.to_datetime(v["visit_start_datetime"])).dt.total_seconds() / 3600
    real = (pd.to_datetime(data["visit_occurrence"]["visit_end_datetime"])
            - pd.to_datetime(data["visit_occurrence"]["visit_start_datetime"])).dt.total_seconds() / 3600
    assert (hours >= 0).mean() > 0.99
    assert 0.5 * real.median() < hours.median() < 2 * real.median()


def test_a_date_is_the_day_its_moment_falls_on():
    """A condition recorded on its visit's day, modelled from the visit's start time (15:00), was written rounded to the
    nearest day: half of them fell on the next day (49% on their visit's day). A date without a time is now the day
    the moment falls on."""
    data = omop_like(300, seed=5)
    m = MultiTableDPMST().fit(data, infer_dataset_schema(data))
    syn = m.sample(300, seed=0)
    c = syn["condition_occurrence"].merge(syn["visit_occurrence"][["visit_occurrence_id", "visit_start_date"]],
                                          on="visit_occurrence_id")
    assert (c["condition_start_date"] == c["visit_start_date"]).mean() > 0.95
