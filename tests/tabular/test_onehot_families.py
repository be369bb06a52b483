"""Families of 0/1 columns (the dummies of one categorical column): a DP fit tests on its own whether exactly one, or at
most one, is set in every row, and then models the family as one category column, so every synthetic row keeps it at
the members' own rates (rwm1984's education dummies summed to other than 1 in 9-17% of the synthetic rows)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from medsynth.core.errors import DataValidationError
from medsynth.io.schema import Constraint, TableSchema, check_constraints, digit_families
from medsynth.tabular import api as tab
from medsynth.tabular.orderings import KEEP_SHARE, KEEP_SIGMAS, MIN_SIGMAS, decide_family, family_histogram
from medsynth.tabular.rules import NONE_SET, RulePlan, add_onehot, from_model, onehot_values, to_model
from medsynth.tabular.schema import ColumnSchema

SHARES = (0.55, 0.2, 0.15, 0.1)


def _table(n: int = 1500, seed: int = 0, *, none_share: float = 0.0) -> pd.DataFrame:
    """Education as four dummies edu_1..edu_4 (exactly one set; none in ``none_share`` of rows), with an age, a sex
    flag and an outcome that depends on the education."""
    rs = np.random.default_rng(seed)
    level = rs.choice(4, size=n, p=SHARES)
    none = rs.random(n) < none_share
    out = {"age": rs.integers(20, 80, n), "female": rs.integers(0, 2, n)}
    for k in range(4):
        out[f"edu_{k + 1}"] = ((level == k) & ~none).astype(int)
    out["died"] = (rs.random(n) < 0.1 + 0.1 * level).astype(int)
    return pd.DataFrame(out)


def test_family_names_constraint_and_check():
    assert digit_families(["edlevel1", "edlevel2", "edlevel", "x_1", "x_2", "q3", "age"]) == {
        "edlevel": ["edlevel1", "edlevel2"], "x": ["x_1", "x_2"]}
    con = Constraint(kind="onehot", columns=["a1", "a2", "a3"])
    assert con.ones_allowed() == (1, 1)
    assert Constraint(kind="onehot", columns=["a1", "a2"], low=0).ones_allowed() == (0, 1)
    with pytest.raises(ValueError, match="two or more different 0/1 columns"):
        Constraint(kind="onehot", columns=["a1"])
    with pytest.raises(ValueError, match="0 <= low <= high"):
        Constraint(kind="onehot", columns=["a", "b"], low=2, high=1)
    df = pd.DataFrame({"a1": [1, 0, 0, 1, None, "1"], "a2": [0, 1, 0, 1, 1, "0"], "a3": [0, 0, 0, 0, 0, "0"]})
    schema = TableSchema(columns=[ColumnSchema(name=n, type="categorical", categories=[0, 1]) for n in df.columns],
                         constraints=[con])
    # one set: kept; none or two set: broken; a missing member: not judged
    assert check_constraints(df, schema).tolist() == [True, True, False, False, True, True]


def test_decision_needs_rows_and_few_breaks():
    sigma = 10.0
    assert decide_family(np.array([900.0, 5, 3, 0]), sigma) == (1, 1)
    assert decide_family(np.array([500.0, 400, 3, 0]), sigma) == (0, 1), "none set in many rows: at most one"
    limit = KEEP_SHARE * 908 + KEEP_SIGMAS * sigma
    assert decide_family(np.array([900.0, 5, limit + 3, 0]), sigma) is None, "two set in too many rows"
    assert decide_family(np.array([MIN_SIGMAS * sigma - 1, 0, 0, 0]), sigma) is None, "too few rows to judge"
    ones = np.array([[1, 0], [0, 1], [0, 0], [1, 1], [np.nan, 0]], dtype=float)
    assert family_histogram(ones).tolist() == [2, 1, 1, 1]


def test_plan_writes_members_back_exactly():
    df = pd.DataFrame({"x": [1.0, 2, 3, 4, 5], "d1": [1, 0, 0, 0, None], "d2": [0, 1, 0, 1, 0], "d3": [0, 0, 0, 1, 0]})
    schema = TableSchema(columns=[ColumnSchema(name="x", type="continuous", min=0, max=9),
                                  *(ColumnSchema(name=n, type="categorical", categories=[0, 1], missing=True) for n in ("d1", "d2", "d3"))])
    plan = RulePlan(columns=schema.names)
    add_onehot(plan, schema, Constraint(kind="onehot", columns=["d1", "d2", "d3"], low=0))
    (name, members), = plan.onehots
    assert name == "d#onehot" and members == ("d1", "d2", "d3")
    # two set: the first of them (a row the DP test let through); a member missing: missing
    assert onehot_values(df, plan)[name].tolist() == ["d1", "d2", NONE_SET, "d2", None]
    model = to_model(df, schema, plan)
    assert list(model.columns) == ["x", name]
    back = from_model(model, schema, plan)
    assert list(back.columns) == ["x", "d1", "d2", "d3"]
    assert back.iloc[:4][["d1", "d2", "d3"]].astype(int).values.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 1, 0]]
    assert back.iloc[4:][["d1", "d2", "d3"]].isna().all().all()


@pytest.mark.parametrize("model", ["dp-mst", "dp-aim"])
def test_dp_fit_keeps_a_dummy_family_at_its_rates(model: str, tmp_path):
    real = _table()
    fitted = tab.fit(real, model=model, epsilon=1.0, seed=0)
    fams = fitted.meta.get("families_tested")
    assert fams == [{"columns": ["edu_1", "edu_2", "edu_3", "edu_4"], "ones": [1, 1]}]
    syn = fitted.sample(len(real), seed=1)
    assert list(syn.columns) == list(real.columns)
    cols = [f"edu_{k}" for k in range(1, 5)]
    values = syn[cols].astype(float)
    assert set(np.unique(values.to_numpy())) <= {0.0, 1.0}
    assert (values.sum(axis=1) == 1).all(), "every synthetic row has exactly one level"
    assert np.abs(values.mean().to_numpy() - np.array(SHARES)).max() < 0.06, values.mean().tolist()
    assert any("rule onehot ['edu_1', 'edu_2', 'edu_3', 'edu_4'] kept by a DP test" in n for n in fitted.ledger.notes)
    reused = {c for e in fitted.ledger.entries for c in (e.details or {}).get("reused_as_one_way_marginals", [])}
    assert not reused & set(cols), "the members' located 1-ways are not the model's: the ledger does not say reused"
    meta = json.loads(json.dumps(fitted.meta, default=str))
    assert meta["rules"]["onehots"] == [["edu#onehot", cols]]
    fitted.save(tmp_path / "run")
    assert (tmp_path / "run" / "schema.yaml").read_text().startswith("# The domains this DP fit decided")  # not data
    card = (tmp_path / "run" / "MODEL_CARD.md").read_text()
    assert "edu#onehot: edu_1, edu_2, edu_3, edu_4 (exactly one set)" in card
    again = tab.load(tmp_path / "run")
    pd.testing.assert_frame_equal(again.sample(200, seed=3), fitted.sample(200, seed=3))


def test_dp_fit_keeps_at_most_one_and_leaves_independent_flags_alone():
    real = _table(none_share=0.3)
    rs = np.random.default_rng(4)
    for k in range(1, 4):  # independent symptoms: several set together in many rows
        real[f"sym{k}"] = (rs.random(len(real)) < 0.4).astype(int)
    fitted = tab.fit(real, model="dp-mst", epsilon=1.0, seed=0)
    assert fitted.meta.get("families_tested") == [{"columns": ["edu_1", "edu_2", "edu_3", "edu_4"], "ones": [0, 1]}]
    syn = fitted.sample(len(real), seed=1)
    edu = syn[[f"edu_{k}" for k in range(1, 5)]].astype(float).sum(axis=1)
    assert edu.max() == 1 and 0.2 < (edu == 0).mean() < 0.4, "none set in about 30% of the rows, as in the real ones"
    assert (syn[["sym1", "sym2", "sym3"]].astype(float).sum(axis=1) >= 2).mean() > 0.1, "independent flags stay so"


def test_non_private_fit_keeps_an_accepted_onehot_rule():
    real = _table(600)
    schema = tab.infer_schema(real)
    schema = schema.model_copy(update={"constraints": [Constraint(kind="onehot", columns=[f"edu_{k}" for k in range(1, 5)])]})
    fitted = tab.fit(real, model="dp-mst", schema=schema, seed=0)  # no epsilon: a non-private fit of the same model
    assert fitted.rule_plan.onehots == [("edu#onehot", ("edu_1", "edu_2", "edu_3", "edu_4"))]
    syn = fitted.sample(600, seed=0)
    assert (syn[[f"edu_{k}" for k in range(1, 5)]].astype(float).sum(axis=1) == 1).all()


def test_a_family_holding_the_target_is_left_as_columns():
    real = _table(800)
    schema = tab.infer_schema(real)
    schema = schema.model_copy(update={"columns": [c.model_copy(update={"target": c.name == "edu_2"}) for c in schema.columns]})
    fitted = tab.fit(real, model="dp-aim", epsilon=1.0, seed=0, schema=schema)
    assert not fitted.meta.get("families_tested")
    assert [c.name for c in fitted.schema.columns if c.target] == ["edu_2"]


def test_review_a_member_that_may_be_missing_keeps_its_family_apart():
    """A member missing in 13% of rows made every member missing together in 11% of the synthetic rows (as one
    column); such a family is not modelled as one, and the other members are never missing."""
    real = _table()
    real["edu_3"] = real["edu_3"].astype("Int64")
    real.loc[np.random.default_rng(5).choice(len(real), 200, replace=False), "edu_3"] = pd.NA
    fitted = tab.fit(real, model="dp-mst", epsilon=1.0, seed=0)
    assert not fitted.meta.get("families_tested")
    syn = fitted.sample(800, seed=1)
    assert syn[["edu_1", "edu_2", "edu_4"]].isna().sum().sum() == 0


def test_review_a_hand_written_rule_the_data_breaks_makes_up_no_missing_values():
    """5% of the rows hold two members set: a non-private fit with the rule wrote every member missing in those rows'
    stead (4.8% NA in each); the first set member stands for them, and no member is missing."""
    real = _table(1000)
    two = np.random.default_rng(6).choice(len(real), 50, replace=False)
    real.loc[two, "edu_4"] = 1
    schema = tab.infer_schema(real)
    schema = schema.model_copy(update={"constraints": [Constraint(kind="onehot", columns=[f"edu_{k}" for k in range(1, 5)])]})
    fitted = tab.fit(real, model="gaussian-copula", schema=schema, seed=0)
    syn = fitted.sample(1000, seed=0)
    cols = [f"edu_{k}" for k in range(1, 5)]
    assert syn[cols].isna().sum().sum() == 0 and (syn[cols].astype(float).sum(axis=1) == 1).all()


def test_review_conditions_on_a_member_and_large_or_accepted_families():
    real = _table()
    fitted = tab.fit(real, model="dp-mst", epsilon=1.0, seed=0)
    rows = fitted.sample(100, where={"edu_2": 1}, seed=0)
    assert (rows["edu_2"].astype(int) == 1).all() and (rows[["edu_1", "edu_3", "edu_4"]].astype(int) == 0).all().all()
    with pytest.raises(DataValidationError, match="a condition sets one of them to 1"):
        fitted.sample(10, where={"edu_2": 0})
    # forty dummies: too large a family is not tested (a part of it kept as "at most one" left the rest free)
    rs = np.random.default_rng(7)
    level = rs.integers(0, 40, 2000)
    wide = pd.DataFrame({f"d{k}": (level == k).astype(int) for k in range(40)} | {"age": rs.integers(20, 80, 2000)})
    assert not tab.fit(wide, model="dp-mst", epsilon=1.0, seed=0).meta.get("families_tested")
    # a rule the user accepted is modelled as one column too, and not tested (nor paid for) again
    schema = tab.infer_schema(real)
    schema = schema.model_copy(update={"constraints": [Constraint(kind="onehot", columns=[f"edu_{k}" for k in range(1, 5)])]})
    accepted = tab.fit(real, model="dp-mst", epsilon=1.0, seed=0, schema=schema)
    assert not accepted.meta.get("families_tested")
    assert not any("families of 0/1 columns" in e.access for e in accepted.ledger.entries)


def test_schema_infer_proposes_a_family_and_a_non_private_fit_keeps_it():
    """schema infer proposes the dummies of one category as a onehot rule read from the data (as it proposes
    orderings), so a non-private fit, which uses such rules, models the family as one column; a DP fit ignores the
    proposal and tests the family itself."""
    real = _table(600)
    real["sym1"], real["sym2"] = 1, 0  # (a family whose members are constant: exactly one too)
    schema = tab.infer_schema(real)
    rules = [(c.kind, c.columns, c.low, c.read_from_data, c.public) for c in schema.constraints if c.kind == "onehot"]
    assert ("onehot", ["edu_1", "edu_2", "edu_3", "edu_4"], 1, True, False) in rules
    with_none = _table(600, none_share=0.3)
    assert [(c.columns, c.low) for c in tab.infer_schema(with_none).constraints if c.kind == "onehot"] == [
        (["edu_1", "edu_2", "edu_3", "edu_4"], 0)]
    fitted = tab.fit(real, model="gaussian-copula", schema=schema, seed=0)
    assert ("edu#onehot", ("edu_1", "edu_2", "edu_3", "edu_4")) in fitted.rule_plan.onehots
    dp = tab.fit(real, model="dp-mst", epsilon=1.0, seed=0, schema=schema)
    assert dp.meta.get("families_tested")  # (its own DP test: the proposal, not accepted, is not used)


def test_an_accepted_family_is_modelled_as_one_column_at_its_rates():
    """A data scientist's Ecdat::HI: regions as midwest/south/west/rest dummies (not named alike), the schema infer
    suggestion accepted: a DP fit kept it by redrawing the rows that broke it, and the south went from 30% to 35-49% of
    the synthetic rows at epsilon 1 and 10. An accepted family whose members DP kept 0/1 and never missing is modelled
    as one category column, as a tested family is."""
    rs = np.random.default_rng(3)
    n = 3000
    region = rs.choice(4, n, p=[0.24, 0.30, 0.22, 0.24])
    real = pd.DataFrame({"midwest": (region == 0).astype(int), "south": (region == 1).astype(int),
                         "west": (region == 2).astype(int), "rest": (region == 3).astype(int),
                         "age": rs.integers(20, 65, n), "insured": rs.integers(0, 2, n)})
    schema = tab.infer_schema(real)
    (hot,) = [c for c in schema.constraints if c.kind == "onehot"]
    assert hot.suggested and hot.columns == ["midwest", "south", "west", "rest"]
    schema = schema.model_copy(update={"constraints": [hot.model_copy(update={"public": True, "suggested": False,
                                                                              "read_from_data": False})]})
    m = tab.fit(real, model="dp-mst", epsilon=10.0, seed=0, schema=schema)
    assert [tuple(members) for _, members in m.rule_plan.onehots] == [("midwest", "south", "west", "rest")]
    out = m.sample(6000, seed=0)
    assert (out[hot.columns].astype(int).sum(axis=1) == 1).all()
    assert abs(float(out["south"].astype(int).mean()) - 0.30) < 0.04, out[hot.columns].astype(int).mean()
