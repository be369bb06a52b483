"""Date-times keep the unit their values are whole multiples of (issue 11, item 4): a flight's scheduled hour stays
on the hour, chart times with ':00' seconds keep them, where before they came out as 05:37:12."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import medsynth.tabular as tab
from medsynth.io.schema import coarser_resolution, resolution_counts
from medsynth.tabular.schema import infer_schema
from medsynth.tabular.structure import _resolution


def _stamps(n: int, unit: str, seed: int = 0) -> pd.Series:
    rs = np.random.default_rng(seed)
    base = pd.Timestamp("2013-01-01") + pd.to_timedelta(rs.integers(0, 365, n), unit="D")
    step = {"day": 0, "hour": 3600, "minute": 60, "second": 1}[unit]
    return pd.Series(base + pd.to_timedelta(rs.integers(1, 20 * 3600 // max(step, 1), n) * step, unit="s"))


def test_counts_and_exact_resolution_for_schema_infer():
    t = pd.Series(pd.to_datetime(["2013-01-01 00:00", "2013-01-01 05:00", "2013-01-01 05:30", "2013-01-01 05:30:07", None], format="mixed"))
    assert resolution_counts(t).tolist() == [1, 1, 1, 1]
    assert coarser_resolution(np.array([3, 9, 0, 0]), "%Y-%m-%d %H:%M:%S") == "hour"
    assert coarser_resolution(np.array([3, 9, 4, 0]), "%Y-%m-%d %H:%M") is None  # the format writes minutes
    assert coarser_resolution(np.array([5, 0, 0, 0]), "%Y-%m-%d %H:%M") == "day"
    assert coarser_resolution(np.array([5, 0, 0, 0]), "%Y-%m-%d") is None
    df = pd.DataFrame({
        "hourly": _stamps(300, "hour").dt.strftime("%Y-%m-%d %H:%M:%S"),
        "charted": _stamps(300, "minute").dt.strftime("%Y-%m-%dT%H:%M:%S"),
        "logged": _stamps(300, "second").dt.strftime("%Y-%m-%d %H:%M:%S"),
        "stamp": _stamps(300, "minute"),  # Parquet timestamps: written with their time (were read as dates)
    })
    s = infer_schema(df)
    assert [s.column(c).resolution for c in df] == ["hour", "minute", None, "minute"]
    assert s.column("stamp").format == "%Y-%m-%d %H:%M:%S"
    assert "resolution" in s.column("hourly").read_from_data and "resolution" not in s.column("logged").read_from_data


def test_the_dp_decision_needs_the_finer_values_to_stand_out():
    sigma = 5.0
    assert _resolution(np.array([10.0, 900.0, 3.0, -4.0]), sigma, "%Y-%m-%d %H:%M:%S") == "hour"
    assert _resolution(np.array([10.0, 300.0, 600.0, 2.0]), sigma, "%Y-%m-%d %H:%M:%S") == "minute"
    assert _resolution(np.array([10.0, 300.0, 600.0, 200.0]), sigma, "%Y-%m-%d %H:%M:%S") is None
    assert _resolution(np.array([3.0, 4.0, -2.0, 1.0]), sigma, "%Y-%m-%d %H:%M:%S") is None  # the noise cannot tell


def test_dp_fit_writes_times_to_the_unit_dp_confirms(seeded_dp_noise):
    n = 2000
    df = pd.DataFrame({
        "charttime": _stamps(n, "minute").dt.strftime("%Y-%m-%d %H:%M:%S"),
        "logtime": _stamps(n, "second", seed=1).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "value": np.random.default_rng(2).normal(5, 1, n).round(1),
    })
    model = tab.fit(df, model="dp-mst", epsilon=1.0, seed=0)
    assert model.schema.column("charttime").resolution == "minute"
    assert model.schema.column("logtime").resolution is None
    syn = model.sample(500, seed=1)
    assert syn["charttime"].str.endswith(":00").all()
    assert not syn["logtime"].str.endswith(":00").all()
    step = next(e for e in model.privacy_ledger.entries if e.access.startswith("column types"))
    assert step.details["decisions"]["charttime"].endswith("to the minute")


def test_a_resolution_read_from_the_data_is_not_used_by_a_dp_fit_unless_decided(seeded_dp_noise):
    n = 600
    df = pd.DataFrame({"t": _stamps(n, "hour").dt.strftime("%Y-%m-%d %H:%M:%S"),
                       "v": np.random.default_rng(0).normal(size=n)})
    schema = infer_schema(df)
    typed = schema.column("t").model_copy(update={"read_from_data": ["missing", "format", "min", "max", "resolution"]})
    schema = schema.model_copy(update={"columns": [typed, schema.column("v")]})
    assert schema.column("t").resolution == "hour"
    model = tab.fit(df, model="dp-mst", epsilon=1.0, schema=schema, seed=0)
    # type declared by hand; its format and resolution were read: not used, and the ledger says so
    assert model.schema.column("t").resolution is None and model.schema.column("t").format is None
    assert any("'t'" in n and "read from the data" in n for n in model.privacy_ledger.notes)


@pytest.mark.parametrize("private", [False, True])
def test_a_date_kept_after_another_by_a_rule_is_written_in_a_released_format(private):
    from medsynth.tabular.rules import plan_rules
    from medsynth.tabular.schema import Constraint, TableSchema

    schema = TableSchema.model_validate({"columns": [
        {"name": "a", "type": "datetime", "format": "%Y-%m-%d %H:%M:%S", "resolution": "hour"},
        {"name": "b", "type": "datetime", "format": "%d/%m/%Y %H:%M", "resolution": "hour"},
    ]})
    plan = plan_rules(schema, [Constraint(kind="le", columns=["a", "b"])], private=private)
    spec = plan.outputs["b"]
    # a DP fit releases its plan: b's format and resolution were read from the data (public: false)
    assert (spec["format"], spec["resolution"]) == ((None, None) if private else ("%d/%m/%Y %H:%M", "hour"))


def test_one_timestamp_moves_one_count_of_the_kind_histogram():
    """A Parquet timestamp column's kind cells count each row once (one row at 14:00 among midnights moved the whole
    column's count to the date-and-time cell: sensitivity n, found by review)."""
    from medsynth.tabular.structure import _profile

    days = pd.Series(pd.Timestamp("2015-01-01") + pd.to_timedelta(np.arange(2000) % 300, unit="D"))
    moved = days.copy()
    moved.iloc[0] += pd.Timedelta(hours=14)
    a, b = _profile(days), _profile(moved)
    assert np.abs(a.kinds - b.kinds).sum() == 2 and np.abs(a.res - b.res).sum() == 2


def _admissions(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rs = np.random.default_rng(seed)
    admit = _stamps(n, "hour", seed)
    transfer = admit + pd.to_timedelta(rs.integers(1, 48, n), unit="h")
    disch = transfer + pd.to_timedelta(rs.integers(1, 240, n), unit="h")
    fmt = "%Y-%m-%d %H:%M:%S"
    return pd.DataFrame({"admittime": admit.dt.strftime(fmt), "transfertime": transfer.dt.strftime(fmt),
                         "dischtime": disch.dt.strftime(fmt), "age": rs.integers(18, 90, n)})


@pytest.mark.parametrize("model,epsilon", [("dp-mst", 1.0), ("gaussian-copula", None)])
def test_dates_kept_in_order_by_rules_keep_their_times(model, epsilon, seeded_dp_noise):
    """Found by review: a DP fit wrote the middle date of a chain a <= b <= c as a date without its time, and a
    non-private fit sampled a date-time kept by a rule as all empty (its gap in days kept the type datetime)."""
    from medsynth.tabular.schema import Constraint

    df = _admissions()
    schema = infer_schema(df)
    schema = schema.model_copy(update={"constraints": [Constraint(kind="le", columns=["admittime", "transfertime"]),
                                                       Constraint(kind="le", columns=["transfertime", "dischtime"])]})
    model_ = tab.fit(df, model=model, epsilon=epsilon, schema=schema, seed=0)
    syn = model_.sample(400, seed=1)
    for c in ("transfertime", "dischtime"):
        assert syn[c].notna().mean() > 0.95, c
        assert syn[c].str.len().eq(19).all(), syn[c].head().tolist()  # YYYY-MM-DD HH:MM:SS
    t = {c: pd.to_datetime(syn[c]) for c in ("admittime", "transfertime", "dischtime")}
    assert (t["admittime"] <= t["transfertime"]).all() and (t["transfertime"] <= t["dischtime"]).all()


def test_a_date_named_column_whose_resolution_the_noise_cannot_tell_is_written_as_days():
    """A data scientist's epa2021 (about 800 rows, 30 columns, epsilon 1): ``release_date`` written 'T00:00:00Z' in every
    real row came out with a time of day in 97% of the synthetic rows, the noise unable to tell its resolution (a sparse
    column keeps its seconds). Where a name says a date and not a clock time, the day is taken; ``charttime`` keeps its
    seconds."""
    from medsynth.privacy.noise import insecure_noise_for_audit

    rs = np.random.default_rng(0)
    n = 300
    day = pd.Timestamp("2020-01-02") + pd.to_timedelta(rs.integers(0, 450, n), unit="D")
    df = pd.DataFrame({"release_date": day.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "charttime": (day + pd.to_timedelta(rs.integers(0, 86400, n), unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       **{f"c{i}": rs.choice(["a", "b", "c"], n) for i in range(20)}})
    with insecure_noise_for_audit(0):
        m = tab.fit(df, model="dp-mst", epsilon=1.0)
    assert m.schema.column("release_date").resolution == "day", m.schema.column("release_date")
    assert m.schema.column("charttime").resolution in (None, "second"), m.schema.column("charttime")
    written = m.sample(200, seed=0)["release_date"].dropna().astype(str)
    assert len(written) and written.str.endswith("T00:00:00Z").all(), written.head()
