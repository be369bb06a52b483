"""Columns a parent's rows hold one value of (issue 12): an export repeats a patient's age, weight or smoking status on
each of their visits; a data scientist's quinidine came out with nine ages per patient. ``schema infer`` reads them
(``constant`` on the relation), a DP fit decides them anew under DP, and sampled rows take the parent's first row's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medsynth.core.errors import ConfigError
from medsynth.io.dataset import DatasetSchema
from medsynth.io.dataset_infer import infer_dataset_schema
from medsynth.privacy.noise import insecure_noise_for_audit
from medsynth.tabular.multi_mst import MultiTableDPMST


def _repeated(n: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    pats = pd.DataFrame({"id": np.arange(n), "sex": rng.choice(["F", "M"], n), "futime": rng.integers(300, 3000, n)})
    k = rng.integers(1, 8, n)
    day = np.concatenate([np.sort(rng.choice(300, j, replace=False)) for j in k])
    m = int(k.sum())
    visits = pd.DataFrame({"id": np.repeat(pats["id"], k), "day": day, "age": np.repeat(rng.integers(30, 80, n), k),
                           "smoker": np.repeat(rng.choice(["yes", "no"], n), k), "dose": rng.choice([100, 200, 300], m),
                           "lab": rng.gamma(2, 1, m).round(2)})
    return {"patients": pats, "visits": visits}


def test_schema_infer_reads_the_columns_held_once_per_patient():
    tables = _repeated(200)
    (rel,) = infer_dataset_schema(tables).relations
    assert rel.constant == ["age", "smoker"] and "constant" in rel.read_from_data
    # a birthday between visits in a few patients still leaves the age held once per patient; a dose changing is not
    aged = {**tables, "visits": tables["visits"].copy()}
    first = ~aged["visits"].duplicated("id") & aged["visits"].duplicated("id", keep=False)
    aged["visits"].loc[first[first].index[:3], "age"] += 1
    assert infer_dataset_schema(aged).relations[0].constant == ["age", "smoker"]
    spec = infer_dataset_schema(tables).to_dict()
    spec["relations"][0]["constant"] = ["day"]
    with pytest.raises(ConfigError, match="constant 'day' is its key or one of its times"):
        DatasetSchema.from_dict(spec)


def test_a_dp_fit_decides_them_and_sampled_rows_keep_one_value_per_patient():
    tables = _repeated(2000)
    schema = infer_dataset_schema(tables)
    with insecure_noise_for_audit(11):
        m = MultiTableDPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(tables, schema)
    rel = m.schema.relations[0]
    assert rel.constant == ["age", "smoker"] and "constant" not in rel.read_from_data, rel
    entry = next(e for e in m.ledger.entries if "candidate constant column" in e.access)
    assert entry.rho > 0 and entry.details["usable"] == ["age", "smoker"]
    out = m.sample(500, seed=0)["visits"]
    per = out.groupby("id")[["age", "smoker", "dose"]].nunique()
    assert (per["age"] <= 1).all() and (per["smoker"] <= 1).all() and per["dose"].mean() > 1.5
    # a small folder: the noise cannot tell, nothing is measured, and the ledger says so
    small = _repeated(300)
    with insecure_noise_for_audit(11):
        m2 = MultiTableDPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(small, infer_dataset_schema(small))
    assert m2.schema.relations[0].constant == []
    assert any("cannot tell which of its columns a parent's rows hold one value of" in n for n in m2.ledger.notes)
    # declared (public knowledge), it is used as written
    spec = infer_dataset_schema(small).to_dict()
    spec["relations"][0]["read_from_data"] = [f for f in spec["relations"][0]["read_from_data"] if f != "constant"]
    with insecure_noise_for_audit(11):
        m3 = MultiTableDPMST(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(small, DatasetSchema.from_dict(spec))
    assert m3.schema.relations[0].constant == ["age", "smoker"]
    got = m3.sample(100, seed=1)["visits"].groupby("id")["age"].nunique()
    assert (got <= 1).all()


def test_held_once_takes_each_parents_first_row():
    from medsynth.tabular.encoding import Frame
    from medsynth.tabular.multi_sampling import _held_once

    df = pd.DataFrame({"age": [40.0, 41.0, 70.0, np.nan, 55.0], "dose": [1, 2, 3, 4, 5]})
    prow = np.array([0, 0, 1, 1, 2])
    own = Frame(n=5, num={"age": np.array([0.1, 0.2, 0.7, np.nan, 0.5])})
    vals = {"age": np.array([1, 2, 7, -1, 5])}
    _held_once(df, prow, ["age", "missing_column"], vals, own)
    assert df["age"].tolist() == [40.0, 40.0, 70.0, 70.0, 55.0] and df["dose"].tolist() == [1, 2, 3, 4, 5]
    assert vals["age"].tolist() == [1, 1, 7, 7, 5] and own.num["age"].tolist() == [0.1, 0.1, 0.7, 0.7, 0.5]
