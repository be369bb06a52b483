"""Multi-table datasets: folders of tables, the dataset schema (keys, relations, time fields), named errors."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tabular"))
from multitable_helpers import cgd_folder, make_dataset, pbcseq_folder  # noqa: E402

from medsynth.core.errors import ConfigError, DataValidationError  # noqa: E402
from medsynth.io.dataset import DatasetSchema, read_dataset, table_files, validate_dataset, write_dataset
from medsynth.io.dataset_infer import infer_dataset_schema


def test_pbcseq_folder_infers_keys_relation_and_time_fields(shared_data, tmp_path):
    folder = pbcseq_folder(shared_data, tmp_path / "pbc")
    tables = read_dataset(folder)
    assert set(tables) == {"patients", "visits"}
    schema = infer_dataset_schema(tables)
    assert schema.tables["patients"].primary_key == "id" and schema.tables["visits"].primary_key is None
    (rel,) = schema.relations
    assert (rel.child, rel.column, rel.parent, rel.parent_column) == ("visits", "id", "patients", "id")
    assert rel.order_by == "day" and rel.within == "futime" and set(rel.read_from_data) == {"order_by", "within"}
    assert schema.tables["visits"].column("id").type == "identifier"
    schema.save(tmp_path / "schema.yaml")
    again = DatasetSchema.load(tmp_path / "schema.yaml")
    assert again == schema
    validate_dataset(tables, again)


def test_cgd_intervals_get_a_sequence_and_an_interval_end(shared_data, tmp_path):
    schema = infer_dataset_schema(read_dataset(cgd_folder(shared_data, tmp_path / "cgd")))
    (rel,) = schema.relations
    assert rel.parent == "patients" and rel.child == "infections"
    assert rel.order_by == "tstart" and rel.sequence == "enum" and rel.ends == ["tstop"]
    assert schema.tables["patients"].column("random").type == "datetime"


def test_a_flag_that_switches_on_the_second_interval_is_no_sequence():
    """Stanford heart's intervals: 'transplant' is 0 on a patient's first interval and 1 on the second, so it equals
    the row number 0, 1 in every row, and schema infer made it the relation's sequence (a treatment flag regenerated
    as a row number). A 0/1 column is a sequence only if named as one; an 'enum' 1, 2 still is."""
    rng = np.random.default_rng(0)
    pats, rows = [], []
    for i in range(60):
        pats.append({"id": i, "age": int(rng.integers(20, 70)), "futime": 400})
        wait = int(rng.integers(5, 200))
        rows.append({"id": i, "start": 0, "stop": wait, "transplant": 0, "enum": 1})
        if rng.random() < 0.6:
            rows.append({"id": i, "start": wait, "stop": 401, "transplant": 1, "enum": 2})
    tables = {"patients": pd.DataFrame(pats), "intervals": pd.DataFrame(rows)}
    (rel,) = infer_dataset_schema(tables).relations
    assert rel.order_by == "start" and rel.sequence == "enum", rel
    (rel,) = infer_dataset_schema({**tables, "intervals": tables["intervals"].drop(columns="enum")}).relations
    assert rel.sequence is None, rel


def test_explicit_relation_and_key_are_used(tmp_path):
    tables = make_dataset(20)
    tables["visits"] = tables["visits"].rename(columns={"id": "pat"})
    schema = infer_dataset_schema(tables, relations=["visits.pat=patients.id"], keys=["visits.visit_id"])
    assert schema.tables["visits"].primary_key == "visit_id"
    assert [r.label for r in schema.relations] == ["visits.pat -> patients.id"]


@pytest.mark.parametrize(("edit", "needle"), [
    (lambda t: t["visits"].__setitem__("id", t["visits"]["id"].where(t["visits"].index != 5, 999)),
     r"table 'visits': 1 row\(s\) have a key 'id' with no parent in 'patients.id' \(e.g. 999\)"),
    (lambda t: t["patients"].__setitem__("id", t["patients"]["id"].where(t["patients"].index != 1, 1)),
     r"table 'patients': primary key 'id' has 1 duplicated value\(s\) \(e.g. 1\)"),
])
def test_bad_keys_are_named_errors_with_an_example(edit, needle):
    tables = make_dataset(20)
    schema = infer_dataset_schema(make_dataset(20))
    edit(tables)
    with pytest.raises(DataValidationError, match=needle):
        validate_dataset(tables, schema)


def test_a_dp_fits_key_errors_name_no_row():
    """An adversary: a DP fit refused a duplicated key with 'e.g. row 1946', the appended row's number, which is the
    private row count plus one; a DP fit's message names neither the value nor the row."""
    from medsynth.io.dataset import key_problems

    tables = make_dataset(20)
    schema = infer_dataset_schema(make_dataset(20))
    tables["patients"] = pd.concat([tables["patients"], tables["patients"].iloc[[1]]], ignore_index=True)
    problems = key_problems(tables, schema, redact=True)
    assert problems and not any(re.search(r"row \d", p) for p in problems), problems
    assert "schema check" in problems[0]
    tables = make_dataset(20)  # a missing key likewise (a reviewer: 'e.g. row 601' was still printed)
    tables["patients"] = pd.concat([tables["patients"], tables["patients"].iloc[[1]].assign(id=np.nan)], ignore_index=True)
    problems = key_problems(tables, schema, redact=True)
    assert problems and "is missing" in problems[0] and not any(re.search(r"row \d", p) for p in problems), problems


@pytest.mark.parametrize("key", [4242, np.nan])  # (a visit's key missing once: an orphan too, not a lost relation)
def test_orphans_found_while_inferring_are_noted_and_left_out(key):
    tables = make_dataset(200)
    tables["visits"].loc[0, "id"] = key
    notes: list[str] = []
    schema = infer_dataset_schema(tables, notes=notes)
    assert [r.label for r in schema.relations] == ["visits.id -> patients.id"]
    assert any("1 row(s) of 'visits' have no parent row" in n for n in notes), notes
    # (the note names the key, for the data owner to find the row: a data scientist's orphan was named by count only)
    assert any(("'id' e.g. 4242" if key == 4242 else "'id' missing") in n for n in notes), notes


def test_a_key_not_named_like_one_survives_an_orphan_and_a_repeated_patient():
    """A data scientist's aidssi folder (key ``patnr``, named like no identifier): one event row of a patient not in the
    patient table left the folder without a relation (the fit then refused it), and one patient written twice with
    other values made ``schema infer`` die with pandas' 'cannot reindex on an axis with duplicate labels'. The orphan is
    left out with a note, the repeated key noted, and the time fields inferred from the key's first row."""
    tables = make_dataset(200)
    tables = {t: df.rename(columns={"id": "patnr"}) for t, df in tables.items()}
    orphan = {k: v.copy() for k, v in tables.items()}
    orphan["visits"].loc[0, "patnr"] = 99_999
    notes: list[str] = []
    schema = infer_dataset_schema(orphan, notes=notes)
    assert [r.label for r in schema.relations] == ["visits.patnr -> patients.patnr"], schema.relations
    assert any("1 row(s) of 'visits' have no parent row" in n for n in notes), notes
    twice = {k: v.copy() for k, v in tables.items()}
    twice["patients"] = pd.concat([twice["patients"], twice["patients"].iloc[[0]].assign(age=99)], ignore_index=True)
    notes = []
    rel = infer_dataset_schema(twice, notes=notes).relations[0]
    assert rel.order_by == "day" and rel.within == "futime", rel
    assert any("1 value(s) of 'patients.patnr' repeat (e.g. " in n for n in notes), notes


def test_a_cycle_and_a_missing_column_are_named():
    tables = make_dataset(20)
    tables["patients"]["first_visit"] = tables["visits"].groupby("id")["visit_id"].min().to_numpy()
    with pytest.raises(DataValidationError, match=r"cycle (patients -> visits -> patients|visits -> patients -> visits)"):
        infer_dataset_schema(tables, relations=["patients.first_visit=visits.visit_id"])
    with pytest.raises(DataValidationError, match="column 'nope' is not in table 'visits'"):
        infer_dataset_schema(tables, relations=["visits.nope=patients.id"])
    with pytest.raises(DataValidationError, match="must look like CHILD.COLUMN=PARENT.COLUMN"):
        infer_dataset_schema(tables, relations=["visits.id"])


def test_row_numbers_an_export_wrote_make_no_relation():
    """R's write.csv gives every table a 'rownames' column; a child's row numbers (1..N visits) hold every
    patient's row number (1..n), which read as a relation patients.rownames -> visits.rownames and, beside
    visits.id -> patients.id, as a cycle that stopped schema infer (survival's nafld1/nafld3)."""
    tables = make_dataset(20)
    tables["visits"] = tables["visits"].drop(columns="visit_id")  # the row number is the visits' only unique column
    tables = {t: df.assign(rownames=range(1, len(df) + 1)) for t, df in tables.items()}
    schema = infer_dataset_schema(tables)
    assert [(r.child, r.column, r.parent, r.parent_column) for r in schema.relations] == [("visits", "id", "patients", "id")]


def test_a_key_column_with_missing_values_is_no_relation_and_says_why():
    """MIMIC's labevents.hadm_id is empty for outpatient labs: a child row without a key has no parent, so schema
    infer leaves that column out of the relations (the rest still link) and says so; given with --relation, those rows
    are noted and left out by a fit."""
    tables = make_dataset(20)
    tables["labs"] = tables["visits"][["id", "visit_id", "lab"]].assign(visit_id=tables["visits"]["visit_id"].astype(float))
    tables["labs"].loc[:2, "visit_id"] = None
    notes: list[str] = []
    schema = infer_dataset_schema(tables, notes=notes)
    assert {(r.child, r.column, r.parent) for r in schema.relations} == {("visits", "id", "patients"), ("labs", "id", "patients")}
    assert len(notes) == 1 and "'labs.visit_id' looks like a key to 'visits.visit_id' but 3 of" in notes[0]
    notes.clear()
    infer_dataset_schema(tables, relations=["labs.visit_id=visits.visit_id"], notes=notes)
    assert any("3 row(s) of 'labs' have no parent row (their key is missing" in n for n in notes), notes


def test_one_row_without_its_key_keeps_the_relation():
    """An adversary's neighbouring folders: one patient row with a blank id, or one visit with a blank id, took the
    relation away (and the key), so the zero-config DP fit refused on one row. A row or 1% without a key is now a
    patient of its own (noted), or a visit of no patient (noted and left out: the orphans' test); more stays no relation
    (above)."""
    tables = make_dataset(200)
    tables["patients"] = pd.concat([tables["patients"], tables["patients"].iloc[[1]].assign(id=np.nan)], ignore_index=True)
    notes: list[str] = []
    schema = infer_dataset_schema(tables, notes=notes)
    assert [r.label for r in schema.relations] == ["visits.id -> patients.id"] and schema.tables["patients"].primary_key == "id"
    assert any("1 row(s) of 'patients' have no 'id': a DP fit takes each for a patient of its own" in n for n in notes), notes
    # a child table's key missing once stays its key, and the links to it stay (it had been no key, and the labs a second
    # root: the folder's DP fit refused on one visit, an adversary; a reviewer had seen schema infer refuse before that)
    tables = make_dataset(200)
    tables["labs"] = tables["visits"][["visit_id"]].assign(val=np.arange(len(tables["visits"])) * 1.5)
    tables["visits"].loc[5, "visit_id"] = np.nan
    notes = []
    schema = infer_dataset_schema(tables, notes=notes)
    assert schema.tables["visits"].primary_key == "visit_id"
    assert {"visits.id -> patients.id", "labs.visit_id -> visits.visit_id"} <= {r.label for r in schema.relations}
    assert any("1 row(s) of 'visits' have no 'visit_id': a fit gives each a key of its own" in n for n in notes), notes


def test_schema_file_with_a_bad_relation_is_a_config_error():
    data = infer_dataset_schema(make_dataset(10)).to_dict()
    data["relations"][0]["parent_column"] = "age"
    with pytest.raises(ConfigError, match="must be the primary key of 'patients'"):
        DatasetSchema.from_dict(data)


def test_empty_table_and_empty_folder_are_named(tmp_path):
    tables = make_dataset(10)
    tables["visits"] = tables["visits"].iloc[:0]
    with pytest.raises(DataValidationError, match="table 'visits': the table has no rows"):
        infer_dataset_schema(tables)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataValidationError, match="holds no table file"):
        read_dataset(tmp_path / "empty")
    (tmp_path / "twice").mkdir()
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "twice" / "t.csv", index=False)
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "twice" / "t.tsv", index=False)
    with pytest.raises(DataValidationError, match="table 't' has more than one file"):
        table_files(tmp_path / "twice")


def test_write_dataset_round_trips_and_is_atomic(tmp_path):
    tables = make_dataset(10)
    write_dataset(tables, tmp_path / "out")
    back = read_dataset(tmp_path / "out")
    assert set(back) == {"patients", "visits"} and len(back["visits"]) == len(tables["visits"])
    with pytest.raises(Exception, match="exists"):
        write_dataset(tables, tmp_path / "out")


def test_a_duplicated_patient_row_is_an_error_naming_the_key_not_a_missing_relation():
    """A review: one patient row written twice made schema infer find no relation (exit 0, relations: []) and the fit
    ask for one, never naming the duplicate. The key's duplicate is the error, with an example value, under 100 rows;
    from 100 rows a key repeated in one row or 1% of them stays the key, with a note naming it (an adversary: a lab id
    written twice took labevents' key out of the released schema; a DP fit keeps one row of each at random, a
    non-private one refuses), unless another table holds the column unique (a foreign key's repeat: a reviewer)."""
    patients = pd.DataFrame({"patient_id": [f"P{i}" for i in range(50)], "age": range(50)})
    visits = pd.DataFrame({"patient_id": [f"P{i % 50}" for i in range(200)], "day": range(200)})
    twice = pd.concat([patients, patients.iloc[[7]].assign(age=99)], ignore_index=True)  # the key twice, other values
    with pytest.raises(DataValidationError, match=r"table 'patients': column 'patient_id' .* 1 of its values appear more "
                                                  r"than once \(e\.g\. 'P7'\)"):
        infer_dataset_schema({"patients": twice, "visits": visits})
    numbered = twice.assign(patient_id=[*range(50), 7])  # (a whole-number key: 7, not np.int64(7), an adversary saw)
    with pytest.raises(DataValidationError, match=r"\(e\.g\. 7\); a primary key"):
        infer_dataset_schema({"patients": numbered, "visits": visits.assign(patient_id=[i % 50 for i in range(200)])})
    many = pd.DataFrame({"patient_id": [f"P{i}" for i in range(150)], "age": np.arange(150) % 80})
    notes: list[str] = []
    got = infer_dataset_schema({"patients": pd.concat([many, many.iloc[[7]].assign(age=99)], ignore_index=True),
                                "visits": visits.assign(patient_id=[f"P{i % 150}" for i in range(200)])}, notes=notes)
    assert got.tables["patients"].primary_key == "patient_id" and got.relations[0].parent == "patients"
    assert any("1 value(s) of 'patients.patient_id' repeat (e.g. 'P7'): a DP fit keeps one row of each at random" in n
               for n in notes), notes
    admissions = pd.DataFrame({"patient_id": [*range(150), 5], "los": np.arange(151) % 9})  # one readmission
    got = infer_dataset_schema({"patients": many.assign(patient_id=range(150)), "admissions": admissions})
    assert got.tables["admissions"].primary_key is None and got.relations[0].child == "admissions"
    notes: list[str] = []  # written twice whole (an export's join): once, with a note
    whole = infer_dataset_schema({"patients": pd.concat([patients, patients.iloc[[7]]], ignore_index=True), "visits": visits},
                                 notes=notes)
    assert whole.relations[0].parent == "patients" and any("repeat an earlier row whole" in n for n in notes)
    assert infer_dataset_schema({"patients": patients, "visits": visits}).relations[0].parent == "patients"


def test_a_number_never_below_the_visit_day_is_an_end_only_by_its_name():
    """carData's KosteckiDillon: 'dos' (days since the study began, 98-1,239) is never below a diary entry's own day,
    and schema infer took it for every entry's end: each synthetic diary then ended on day 99. A number is an interval
    end under a name saying a time or an end (cgd's tstop, a stay's discharge), a date by its type."""
    tables = make_dataset(40)
    tables["visits"]["dos"] = tables["visits"]["day"] + 5000
    tables["visits"]["stop_day"] = tables["visits"]["day"] + 3
    rel = infer_dataset_schema(tables).relations[0]
    assert rel.order_by == "day" and rel.ends == ["stop_day"], rel


def test_a_count_of_visits_is_no_time():
    """births14: 'visits' (prenatal visits, a count) was taken for a time beside 'weeks' (of gestation): a DP fit kept
    'visits <= weeks' as an ordering and modelled the weeks as a gap on the visits (missing where visits were). A visit's
    number or date is a time; a count of visits is not."""
    from medsynth.io.dataset_infer import time_named, time_point_named

    assert not time_named("visits") and not time_point_named("n_visits")
    assert time_named("visit") and time_named("visit_date") and time_named("weeks")


def test_numbered_periods_order_the_rows_under_no_count_and_a_number_named_time_comes_first():
    """Data scientists: MASS::epil's seizure counts per period 1-4 came out in no order (``period`` was no time name),
    and once it was one, the baseline count (6-151) bounded the periods as a follow-up would; Oxboys' ``Occasion`` 1-9
    took the order from the boy's age, and the bins rule read from the data (Occasion from the standardised age) made
    ``schema infer`` stop with a pydantic error once Occasion was a number."""
    from medsynth.io.dataset_infer import infer_dataset_schema

    rng = np.random.default_rng(0)
    n = 40
    epil = {"patients": pd.DataFrame({"subject": range(1, n + 1), "base": rng.integers(6, 152, n), "trt": rng.choice(["a", "b"], n)}),
            "counts": pd.DataFrame({"subject": np.repeat(np.arange(1, n + 1), 4), "period": np.tile([1, 2, 3, 4], n),
                                    "y": rng.poisson(5, 4 * n)})}
    (rel,) = infer_dataset_schema(epil).relations
    assert (rel.order_by, rel.within) == ("period", None)
    ages = np.linspace(-1, 1, 9).round(4)
    boys = {"boys": pd.DataFrame({"boy_id": range(1, 27)}),
            "measurements": pd.DataFrame({"boy_id": np.repeat(np.arange(1, 27), 9), "Occasion": np.tile(np.arange(1, 10), 26),
                                          "age": np.tile(ages, 26), "height": rng.normal(150, 8, 26 * 9).round(1)})}
    schema = infer_dataset_schema(boys)
    (rel,) = schema.relations
    assert (rel.order_by, rel.sequence) == ("age", "Occasion")
    assert schema.tables["measurements"].column("Occasion").type == "integer"
    assert not any(r.kind == "bins" for r in schema.tables["measurements"].constraints)


def _synthea_like(n: int = 60, odd: str | None = None) -> dict[str, pd.DataFrame]:
    """Synthea's shape: UUID keys, encounters.PATIENT -> patients.Id by the bare table name; ``odd`` replaces one
    patient's Id (and its encounters' PATIENT) with a key of another format."""
    import uuid

    rng = np.random.default_rng(0)
    ids = [str(uuid.UUID(int=int(rng.integers(1 << 62)))) for _ in range(n)]
    if odd is not None:
        ids[-1] = odd
    k = rng.integers(1, 4, n)
    enc = pd.DataFrame({"Id": [str(uuid.UUID(int=int(rng.integers(1 << 62)))) for _ in range(int(k.sum()))],
                        "PATIENT": np.repeat(ids, k), "COST": rng.integers(50, 900, int(k.sum()))})
    return {"patients": pd.DataFrame({"Id": ids, "AGE": rng.integers(20, 90, n)}), "encounters": enc}


def test_one_key_of_another_format_keeps_the_relation():
    """An adversary's neighbouring folders: one patient keyed "4242" among UUIDs (and one Subject 1000.5 among whole
    numbers) took the relation away, and the folder's DP fit refused where it had released a model."""
    for odd in (None, "4242", "777"):
        (rel,) = infer_dataset_schema(_synthea_like(odd=odd)).relations
        assert (rel.child, rel.column, rel.parent, rel.parent_column) == ("encounters", "PATIENT", "patients", "Id"), odd
    rng = np.random.default_rng(1)
    subj = np.arange(1, 41).astype(float)
    for last in (40.0, 1000.5):
        subj[-1] = last
        tables = {"patients": pd.DataFrame({"Subject": subj, "weight": rng.integers(50, 100, 40)}),
                  "samples": pd.DataFrame({"Subject": np.repeat(subj, 3), "conc": rng.random(120)})}
        (rel,) = infer_dataset_schema(tables).relations
        assert (rel.child, rel.column, rel.parent) == ("samples", "Subject", "patients"), last
    # a weight repeated on each sample (a float, unique per patient) is no key beside the Subject (a reviewer)
    w = rng.normal(70, 10, 40).round(1)
    tables = {"patients": pd.DataFrame({"Weight": w, "Subject": np.arange(1, 41), "Age": rng.integers(20, 80, 40)}),
              "samples": pd.DataFrame({"Weight": np.repeat(w, 3), "Subject": np.repeat(np.arange(1, 41), 3),
                                       "conc": rng.random(120)})}
    (rel,) = infer_dataset_schema(tables).relations
    assert (rel.child, rel.column, rel.parent) == ("samples", "Subject", "patients"), rel


def test_a_visits_day_orders_its_rows_before_its_study_month():
    """A data scientist's HELPfull folder: visits with a study month TIME (6, 12, 18, 24) and their day since baseline
    both rise within each patient; TIME, first in the file, was taken for the order, a follow-up in days bounded it,
    and 22% of synthetic visits fell past the follow-up. The finest of equally named times orders the rows."""
    rng = np.random.default_rng(0)
    pats = pd.DataFrame({"ID": np.arange(100), "followup_days": rng.integers(750, 900, 100)})
    k = rng.integers(1, 5, 100)
    months = np.concatenate([[6, 12, 18, 24][:j] for j in k])
    visits = pd.DataFrame({"ID": np.repeat(pats["ID"], k), "TIME": months,
                           "visit_day": months * 30 + rng.integers(-10, 10, months.size)})
    (rel,) = infer_dataset_schema({"patients": pats, "visits": visits}).relations
    assert rel.order_by == "visit_day" and rel.within == "followup_days", rel
