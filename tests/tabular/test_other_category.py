"""Values of categories too rare to release with DP keep their rows as "(other)", not as missing values (issue 11,
item 1: a 4,000-plane tail number column came out 42% missing against 0.8% real)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import medsynth.tabular as tab
from medsynth.core.errors import DataValidationError
from medsynth.io.schema import OTHER_CATEGORY, validate_table
from medsynth.tabular.domain_words import other_rows
from medsynth.tabular.encoding import TableCodec
from medsynth.tabular.schema import TableSchema


def _long_tail(n: int = 3000, rare_share: float = 0.3, seed: int = 0) -> pd.DataFrame:
    rs = np.random.default_rng(seed)
    rare = rs.random(n) < rare_share
    code = np.where(rare, rs.choice([f"R{i:04d}" for i in range(1500)], n), rs.choice([f"T{i:02d}" for i in range(8)], n))
    return pd.DataFrame({
        "code": code,
        "sex": rs.choice(["F", "M"], n),
        "y": (rs.random(n) < np.where(rare, 0.75, 0.35)).astype(int),
    })


def test_other_rows_stands_above_the_noise_or_is_none():
    rs = np.random.default_rng(0)
    sigma, rows_sigma = 20.0, 10.0
    assert other_rows(3000.0, rows_sigma, [1000.0, 1000.0], 0.0, sigma) == pytest.approx(
        (1000.0, np.sqrt(rows_sigma**2 + 3 * sigma**2)))
    # every row in a released category: pure noise, "(other)" appears in far fewer than 1% of draws
    false = 0
    for _ in range(2000):
        counts = list(1000 + rs.normal(0, sigma, 3))
        rows = 3000 + rs.normal(0, rows_sigma)
        false += other_rows(rows, rows_sigma, counts, rs.normal(0, sigma), sigma) is not None
    assert false <= 10


def test_dp_fit_writes_unreleased_categories_as_other_not_missing(seeded_dp_noise):
    df = _long_tail()
    model = tab.fit(df, model="dp-mst", epsilon=1.0, seed=0)
    assert model.schema.column("code").categories[-1] == OTHER_CATEGORY
    assert OTHER_CATEGORY not in model.schema.column("sex").categories  # every value released: no lump
    notes = " ".join(model.privacy_ledger.notes)
    assert "'code'" in notes and OTHER_CATEGORY in notes
    # the fit's own warning says so (a data scientist found '(other)' in half of a column's rows, unannounced)
    assert "1 column writes the values too rare to release as '(other)' (code)" in tab.release_gaps(model)
    syn = model.sample(3000, seed=1)
    assert syn["code"].isna().mean() < 0.02  # no value is missing in the real column
    share = (syn["code"] == OTHER_CATEGORY).mean()
    assert abs(share - 0.3) < 0.06, share
    # the lump keeps what it says about the target (0.75 against 0.35)
    assert syn.loc[syn["code"] == OTHER_CATEGORY, "y"].mean() > syn.loc[syn["code"] != OTHER_CATEGORY, "y"].mean() + 0.2


def test_a_public_list_with_other_takes_every_unlisted_value():
    schema = TableSchema.model_validate({"columns": [
        {"name": "icd", "type": "categorical", "categories": [10, 20, OTHER_CATEGORY], "public": True},
        {"name": "sex", "type": "categorical", "categories": ["F", "M"], "public": True},
    ]})
    df = pd.DataFrame({"icd": [10, 20, 35, 99], "sex": ["F", "M", "F", "M"]})
    assert validate_table(df, schema) == {}  # unlisted values are no error beside "(other)"
    codec = TableCodec(schema)
    frame = codec.encode(df)
    assert frame.cat["icd"].tolist() == [0, 1, 2, 2]
    out = codec.decode(frame)
    assert out["icd"].tolist() == ["10", "20", OTHER_CATEGORY, OTHER_CATEGORY]  # one type in the column: text
    plain = TableSchema.model_validate({"columns": [
        {"name": "icd", "type": "categorical", "categories": [10, 20], "public": True}]})
    with pytest.raises(DataValidationError, match="not in its categories"):
        TableCodec(plain).encode(df[["icd"]])


def test_a_table_that_already_holds_other_fits(seeded_dp_noise):
    """Refitting on a synthetic table: "(other)" released as a category is not added twice (found by review)."""
    df = _long_tail()
    df.loc[df["code"].str.startswith("R"), "code"] = OTHER_CATEGORY
    rows = df.index[::5]  # and a fifth of the rows in values too rare to release
    df.loc[rows, "code"] = [f"Q{i % 1000:04d}" for i in range(rows.size)]
    model = tab.fit(df, model="dp-mst", epsilon=1.0, seed=0)
    cats = model.schema.column("code").categories
    assert cats.count(OTHER_CATEGORY) == 1
