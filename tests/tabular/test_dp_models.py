"""The DP models: budgets honoured and reported, domains estimated with DP or refused, fast path recorded."""

from __future__ import annotations

import pytest
from tabular_helpers import make_table

from medsynth.core.errors import PrivacyBudgetError
from medsynth.tabular.dp_ctgan import DPCTGAN
from medsynth.tabular.dp_tvae import DPTVAE
from medsynth.tabular.mst import DPMST
from medsynth.tabular.schema import infer_schema

TVAE_TINY = {"latent_dim": 4, "hidden": [16], "train": {"epochs": 2, "batch_size": 16}}


def test_dp_tvae_epsilon_one_reports_at_most_one(table, schema):
    m = DPTVAE(TVAE_TINY, privacy={"epsilon": 1.0, "delta": 1e-3}).fit(table, schema)
    rep = m.privacy_spent()
    assert rep.private and 0.9 < rep.epsilon <= 1.0
    assert rep.accountant == "prv" and rep.noise_multiplier > 0 and rep.steps == m.meta["dpsgd"]["steps"]
    assert m.meta["dpsgd"]["grad_sample_mode"] == "ghost" and m.meta["dpsgd"]["poisson_sampling"]
    assert m.ledger.total_epsilon <= 1.0


def test_rdp_accountant_selectable(table, schema):
    m = DPCTGAN({"embedding_dim": 4, "generator_dim": [8], "discriminator_dim": [8], "train": {"epochs": 1, "batch_size": 16}},
                privacy={"epsilon": 2.0, "delta": 1e-3, "accountant": "rdp"}).fit(table, schema)
    rep = m.privacy_spent()
    assert rep.accountant == "rdp" and rep.epsilon <= 2.0
    assert [e.mechanism.split(" ")[0] for e in m.ledger.entries] == ["Gaussian", "DP-SGD"]


def test_non_private_mode_is_labelled(table, schema):
    m = DPTVAE(TVAE_TINY).fit(table, schema)
    assert not m.privacy_spent().private and not m.ledger.private


def test_delta_must_be_below_one_over_n(table, schema):
    with pytest.raises(PrivacyBudgetError, match="1/n"):
        DPMST(privacy={"epsilon": 1.0, "delta": 0.05}).fit(table, schema)


def test_domain_read_from_data_refused_without_budget(table):
    with pytest.raises(PrivacyBudgetError, match="public: true") as err:
        DPMST(privacy={"epsilon": 1.0, "delta": 1e-3, "domain_budget": 0}).fit(table, infer_schema(table))
    assert "age" in str(err.value) and "domain_budget" in str(err.value)


def test_domain_read_from_data_estimated_with_dp():
    big = make_table(3000, seed=1)
    m = DPMST({"bins": 6}, privacy={"epsilon": 2.0, "delta": 1e-5, "domain_budget": 0.2}).fit(big, infer_schema(big))
    first = m.ledger.entries[0]
    assert "domains" in first.access and first.epsilon == pytest.approx(0.4) and "age" in first.columns
    assert m.ledger.total_epsilon <= 2.0 + 1e-9
    lo, hi = m.schema.column("age").bounds()
    assert lo <= 35 and hi >= 85, "DP bounds must cover the bulk of ages 30..89"
    assert set(m.schema.column("sex").categories) == {"F", "M"}
    assert m.schema.column("age").missing, "missingness of a non-public column is not released"
    df = m.sample(500, seed=0)
    assert df["age"].dropna().between(lo, hi).all()
