"""Shapes met on real linked tables (R's survival, nlme, HSAUR sets split into patients and their rows): tiny
synthetic frames that reproduce each pattern that broke the multi-table path."""

from __future__ import annotations

import numpy as np
import pandas as pd

from medsynth.privacy.ledger import PrivacyLedger
from medsynth.tabular.schema import infer_schema
from medsynth.tabular.structure import decide_structure


def test_a_category_is_never_made_an_identifier_on_the_noise_alone():
    """cgd's 89 patients at epsilon 1: the structure step's noise (3 sigma ~ 300) exceeded 90% of the rows in
    about a third of the draws, and 'sex' (female/male) was regenerated as syn-0000001, syn-0000002, ..."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"sex": rng.choice(["female", "male"], 89), "center": rng.choice(["NIH", "Amsterdam", "Zurich"], 89)})
    schema = infer_schema(df)
    assert schema.column("sex").type == "categorical"
    for seed in range(20):
        led = PrivacyLedger(private=True, target_epsilon=1.0, target_delta=1e-5)
        out, _ = decide_structure(schema, df, rho=2e-5, rows=89.0, rng=np.random.default_rng(seed), ledger=led)
        assert out.column("sex").type == "categorical" and out.column("center").type == "categorical", seed
        assert any("cannot tell whether their values are unique" in n for n in led.notes)
