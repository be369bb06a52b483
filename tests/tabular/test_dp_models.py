"""The DP models: budgets honoured and reported, domains estimated with DP or refused, fast path recorded."""

from __future__ import annotations

import pytest
from tabular_helpers import make_schema, make_table

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
    assert rep.accountant == "rdp" and rep.noise_multiplier > 0 and rep.steps == m.meta["dpsgd"]["steps"]
    assert m.meta["dpsgd"]["grad_sample_mode"] == "ghost" and m.meta["dpsgd"]["poisson_sampling"]
    assert m.ledger.total_epsilon <= 1.0


def test_dp_ctgan_composes_every_access_in_one_ledger(table, schema):
    m = DPCTGAN({"embedding_dim": 4, "generator_dim": [8], "discriminator_dim": [8], "train": {"epochs": 1, "batch_size": 16}},
                privacy={"epsilon": 2.0, "delta": 1e-3, "accountant": "rdp"}).fit(table, schema)
    rep = m.privacy_spent()
    assert rep.accountant == "rdp" and 1.9 < rep.epsilon <= 2.0
    # the noisy row count, the condition frequencies and DP-SGD, composed (not added) into one total
    assert [e.access.split(" ")[0] for e in m.ledger.entries] == ["number", "category", "DP-SGD"]
    assert sum(e.epsilon for e in m.ledger.entries) > m.ledger.total_epsilon


def test_prv_accountant_is_a_named_error():
    from medsynth.core.errors import ConfigError

    with pytest.raises(ConfigError, match="composes every access"):
        DPTVAE(TVAE_TINY, privacy={"epsilon": 1.0, "accountant": "prv"})


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


def test_domain_read_from_data_estimated_with_dp(seeded_dp_noise):
    big = make_table(3000, seed=1)
    m = DPMST({"bins": 6}, privacy={"epsilon": 2.0, "delta": 1e-5, "domain_budget": 0.2}).fit(big, infer_schema(big))
    access = [e.access.split(" ")[0] for e in m.ledger.entries]
    assert access == ["number", "column", "domains", "MST:"]
    types, domains = m.ledger.entries[1], m.ledger.entries[2]
    assert types.rho + domains.rho == pytest.approx(0.2 * m.ledger.rho_budget) and "age" in domains.columns
    assert m.ledger.total_epsilon <= 2.0 + 1e-9
    lo, hi = m.schema.column("age").bounds()
    assert lo <= 35 and hi >= 85, "DP bounds must cover the bulk of ages 30..89"
    assert set(m.schema.column("sex").categories) == {"F", "M"}
    # missingness is read from the data, so it is released with DP: clear for 450 missing of 3000, absent for none
    assert m.schema.column("creatinine").missing
    assert not m.schema.column("age").missing and not m.schema.column("sex").missing
    df = m.sample(500, seed=0)
    assert df["age"].between(lo, hi).all() and df["age"].notna().all() and df["sex"].notna().all()
    assert df["creatinine"].isna().any()
    meta = str(m.meta)
    assert "clipped_to_bounds" not in m.meta, "a DP fit's metadata must not carry counts read from the data"
    assert "450" not in meta


def test_dp_mst_never_emits_missing_values_where_the_schema_has_none(table, schema, seeded_dp_noise):
    """Regression: the marginals had a "missing" cell for every column, which collected noise, so DP-MST
    sampled up to a quarter missing cells in columns without any (demo: texture_error)."""
    for seed in range(3):
        m = DPMST(privacy={"epsilon": 0.5, "delta": 1e-3}, seed=seed).fit(table, schema)
        df = m.sample(2000, seed=seed)
        for col in schema.modelled:
            if not col.missing:
                assert df[col.name].notna().all(), f"seed {seed}: '{col.name}' has missing values"
    big = DPMST(privacy={"epsilon": 0.5, "delta": 1e-5}).fit(make_table(2000, seed=3), schema)
    assert big.sample(2000, seed=0)["creatinine"].isna().any(), "a column that may be missing keeps its missing state"


def test_dp_missingness_few_missing_values_are_imputed_not_modelled(seeded_dp_noise):
    """A non-public column with a handful of missing values that DP cannot confirm gets no missing state:
    the cells are imputed within the domain, so the fit works and the output has no missing values."""
    big = make_table(1500, seed=2)
    big["creatinine"] = big["creatinine"].fillna(1.0)
    big.loc[[3, 700], "creatinine"] = float("nan")  # 2 of 1500
    m = DPMST({"bins": 6}, privacy={"epsilon": 1.0, "delta": 1e-5, "domain_budget": 0.2}).fit(big, infer_schema(big))
    assert not m.schema.column("creatinine").missing
    assert m.sample(3000, seed=0)["creatinine"].notna().all()


def test_dp_mst_grid_adapts_to_the_noise(seeded_dp_noise):
    small, big = make_table(60, seed=0), make_table(20000, seed=0)
    sch = make_schema()
    few = DPMST({"bins": 8, "fine_bins": 64}, privacy={"epsilon": 1.0, "delta": 1e-3}).fit(small, sch)
    many = DPMST({"bins": 8, "fine_bins": 64}, privacy={"epsilon": 1.0, "delta": 1e-5}).fit(big, sch)
    assert few.meta["grid"]["fine_bins"] < 64 and few.meta["grid"]["bins"] < 8
    assert many.meta["grid"] == {"fine_bins": 64, "bins": 8}
