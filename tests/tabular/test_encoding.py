"""The tabular codec's writing of sampled values."""

from __future__ import annotations

import numpy as np


def test_a_log_columns_zero_is_written_without_an_overflow_warning():
    """Sampling printed 'RuntimeWarning: overflow encountered in power' (encoding.py) on every table with a zero in a
    log-scaled column: a zero's magnitude is -inf."""
    import warnings

    from medsynth.io.schema import ColumnSchema
    from medsynth.tabular.encoding import _to_range_digits

    col = ColumnSchema(name="cost", type="continuous", min=0.0, max=100.0, transform="log")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _to_range_digits(np.array([0.0, 1.23456, 99.999, np.nan]), col)
    assert out[0] == 0.0 and out[1] == 1.235 and np.isnan(out[3])
