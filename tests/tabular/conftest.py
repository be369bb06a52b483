"""Fixtures of the tabular tests."""

from __future__ import annotations

import pandas as pd
import pytest
from tabular_helpers import make_schema, make_table

from medsynth.tabular.schema import TableSchema


@pytest.fixture
def table() -> pd.DataFrame:
    return make_table()


@pytest.fixture
def schema() -> TableSchema:
    return make_schema()
