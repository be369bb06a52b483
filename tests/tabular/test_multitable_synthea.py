"""Synthea's export shape (and FHIR-like ones): UUID keys named ``Id``, foreign keys named by the bare table
(``PATIENT``, ``ENCOUNTER``), ISO 8601 times in UTC with a ``Z``, ``START``/``STOP`` columns, visits of minutes."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd

from medsynth.io.dataset_infer import date_named, infer_dataset_schema
from medsynth.tabular.multi_mst import MultiTableDPMST

Z = "%Y-%m-%dT%H:%M:%SZ"


def synthea_like(n: int = 80, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Patients (Id, BIRTHDATE, GENDER), their encounters (Id, START, STOP: 15-60 minutes, PATIENT, class) and
    observations (DATE 0-20 minutes into the encounter, PATIENT, ENCOUNTER, CODE, VALUE)."""
    rng = np.random.default_rng(seed)

    def uid() -> str:
        return str(uuid.UUID(bytes=rng.bytes(16)))

    pats, encs, obs = [], [], []
    for _ in range(n):
        pid = uid()
        pats.append({"Id": pid, "BIRTHDATE": (pd.Timestamp("1950-01-01") + float(rng.uniform(0, 20000)) * pd.Timedelta(days=1)).date().isoformat(),
                     "GENDER": rng.choice(["M", "F"])})
        t = pd.Timestamp("2010-01-01") + float(rng.uniform(0, 300)) * pd.Timedelta(days=1)
        for _ in range(int(rng.integers(2, 8))):
            eid, minutes = uid(), float(rng.uniform(15, 60))
            encs.append({"Id": eid, "START": t.strftime(Z), "STOP": (t + pd.Timedelta(minutes=minutes)).strftime(Z), "PATIENT": pid,
                         "ENCOUNTERCLASS": rng.choice(["ambulatory", "wellness", "emergency"])})
            for _ in range(int(rng.integers(1, 4))):
                obs.append({"DATE": (t + pd.Timedelta(minutes=float(rng.uniform(0, minutes)))).strftime(Z), "PATIENT": pid,
                            "ENCOUNTER": eid, "CODE": rng.choice(["8302-2", "29463-7"]), "VALUE": round(float(rng.normal(70, 15)), 1)})
            t = t + pd.Timedelta(days=float(rng.exponential(120)))
    return {"patients": pd.DataFrame(pats), "encounters": pd.DataFrame(encs), "observations": pd.DataFrame(obs)}


def test_schema_infer_links_synthea_tables_by_their_bare_table_names_and_reads_its_utc_times():
    """No relation at all was inferred (PATIENT is not patient_id) and the ``...Z`` times were identifiers (unique
    text): encounters lost their time order and the fit refused a folder of unrelated tables."""
    schema = infer_dataset_schema(synthea_like())
    rels = {(r.child, r.column): (r.parent, r.parent_column) for r in schema.relations}
    assert rels == {("encounters", "PATIENT"): ("patients", "Id"), ("observations", "PATIENT"): ("patients", "Id"),
                    ("observations", "ENCOUNTER"): ("encounters", "Id")}
    enc = schema.tables["encounters"]
    assert (enc.column("START").type, enc.column("START").format) == ("datetime", Z)
    rel = next(r for r in schema.relations if (r.child, r.column) == ("encounters", "PATIENT"))
    assert (rel.order_by, rel.ends) == ("START", ["STOP"])
    obs = next(r for r in schema.relations if (r.child, r.column) == ("observations", "ENCOUNTER"))
    assert (obs.order_by, obs.after) == ("DATE", "START")


def test_a_bare_table_name_never_overrides_a_key_named_as_one_nor_closes_a_cycle():
    """patients.visit holds each patient's first visit (text keys, every one among visits.Id): by its bare name it
    looks like a key to visits, a relation that would close a cycle with visits.patient_id -> patients.Id. Keys named
    as such are linked first; a bare name that would close a cycle is left out, with a note."""
    patients = pd.DataFrame({"Id": [f"P{i}" for i in range(20)], "visit": [f"V{2 * i}" for i in range(20)],
                             "age": np.arange(40, 60)})
    visits = pd.DataFrame({"Id": [f"V{i}" for i in range(40)], "patient_id": [f"P{i // 2}" for i in range(40)],
                           "lab": np.linspace(1, 2, 40)})
    notes: list[str] = []
    schema = infer_dataset_schema({"patients": patients, "visits": visits}, notes=notes)
    assert [(r.child, r.column, r.parent) for r in schema.relations] == [("visits", "patient_id", "patients")]
    assert any("'patients.visit' looks like a key to 'visits.Id'" in n and "cycle" in n for n in notes), notes


def test_a_bare_table_name_links_text_keys_only_and_one_word_times_are_no_date_names():
    """The review of the first version: a labs.visit of 1-3 has every value among visits.id (1..n), so by its bare name
    it linked every patient's first visit to visit 1; text columns named onset or stop (acute/chronic, yes/no) became
    empty datetimes where the noise could not tell. A bare name links text keys (UUIDs) only; one-word START/STOP say
    nothing about dates (their values do, in schema infer)."""
    patients = pd.DataFrame({"id": np.arange(1, 11), "age": np.arange(40, 50)})
    visits = pd.DataFrame({"id": np.arange(1, 31), "patient_id": np.repeat(np.arange(1, 11), 3)})
    labs = pd.DataFrame({"patient_id": np.repeat(np.arange(1, 11), 6), "visit": np.tile([1, 2, 3], 20), "value": np.arange(60.0)})
    rels = {(r.child, r.column) for r in infer_dataset_schema({"patients": patients, "visits": visits, "labs": labs}).relations}
    assert rels == {("visits", "patient_id"), ("labs", "patient_id")}
    assert [date_named(n) for n in ("START", "STOP", "onset", "start_date", "visit_type")] == [False, False, False, True, False]


def test_minutes_long_encounters_and_observations_minutes_into_them_survive_a_fit():
    """Lengths of time were modelled in days on a log grid reaching decades: everything under 4 hours shared its first
    cell, and 20-60 minute encounters came out 2-3 hours long; an observation's minutes into its encounter were lost in
    a 50-minute first cell. Non-private fit (the modelling, not the noise)."""
    real = synthea_like(150, seed=1)
    m = MultiTableDPMST().fit(real, infer_dataset_schema(real))
    syn = m.sample(150, seed=0)

    def minutes(d: dict[str, pd.DataFrame]) -> tuple[float, float]:
        e = d["encounters"]
        dur = (pd.to_datetime(e["STOP"], utc=True) - pd.to_datetime(e["START"], utc=True)).dt.total_seconds() / 60
        o = d["observations"].merge(e[["Id", "START"]], left_on="ENCOUNTER", right_on="Id")
        into = (pd.to_datetime(o["DATE"], utc=True) - pd.to_datetime(o["START"], utc=True)).dt.total_seconds() / 60
        return float(dur.median()), float(into.median())

    (real_dur, real_into), (syn_dur, syn_into) = minutes(real), minutes(syn)
    assert 0.5 * real_dur < syn_dur < 2 * real_dur, (real_dur, syn_dur)
    assert 0.3 * real_into < syn_into < 3 * real_into, (real_into, syn_into)
    assert syn["encounters"]["START"].str.endswith("Z").all()  # written in the input's format
