"""Families of category columns (names that differ only in their numbers: weekly flags, questionnaire items) get one
DP category list per family: a small wide table at epsilon 1 keeps them instead of leaving most empty
(carData::Rossi, 432 rows, emp1 ... emp52: 16 of 63 columns empty before)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medsynth.privacy.noise import insecure_noise_for_audit
from medsynth.tabular.schema import ColumnSchema, infer_schema


def _items(n: int = 300, k: int = 24, seed: int = 0) -> pd.DataFrame:
    rs = np.random.default_rng(seed)
    df = pd.DataFrame({f"item{i + 1}": rs.choice(["low", "mid", "high"], n, p=[0.3, 0.4, 0.3]) for i in range(k)})
    for i in range(k):  # more missing for later items (drop-outs)
        df.loc[rs.random(n) < 0.05 + 0.01 * i, f"item{i + 1}"] = None
    df["age"] = rs.integers(30, 80, n)
    df["score"] = rs.normal(50, 10, n).round(1)
    return df


def _kept(df: pd.DataFrame, seeds: range, k: int) -> tuple[int, list]:
    from medsynth.core.registry import SYNTHESIZERS, resolve

    kept, models = 0, []
    for seed in seeds:
        with insecure_noise_for_audit(4100 + seed):
            m = resolve(SYNTHESIZERS, "dp-mst")(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, infer_schema(df))
        kept += sum(m.schema.column(f"item{i + 1}").categories == ["high", "low", "mid"] for i in range(k))
        assert m.ledger.rho_spent == pytest.approx(m.ledger.rho_budget, rel=1e-6)
        models.append(m)
    return kept, models


def test_a_family_of_items_keeps_its_categories_where_columns_alone_lose_them(monkeypatch):
    """24 three-level items on 300 rows at epsilon 1: released as a family, every item keeps its three values in
    nearly every fit; released one by one (families switched off), most of them lose values or are left empty."""
    import medsynth.tabular.structure as structure

    df = _items()
    kept, models = _kept(df, range(3), 24)
    assert kept >= 3 * 22, kept
    m = models[0]
    assert any("column families" in note and "'item#' (24)" in note for note in m.ledger.notes), [n for n in m.ledger.notes if 'famil' in n]
    entry = next(e for e in m.ledger.entries if e.access.startswith("domains"))
    assert entry.details["per_column"]["item3"]["family"] == "item#"
    out = m.sample(300, seed=0)
    assert set(out["item1"].dropna()) <= {"low", "mid", "high"}
    monkeypatch.setattr(structure, "FAMILY_MIN", 10**6)
    alone, _ = _kept(df, range(3), 24)
    assert alone <= kept - 3 * 8, (alone, kept)


def test_a_value_one_row_holds_in_every_member_is_not_released():
    """A row adds up to k counts to the pooled histogram: its threshold is k + sigma z, so a value one patient wrote
    in all 8 columns (count 8) is never released, even at a budget where the noise is tiny (with sensitivity 1 it
    would clear 1 + sigma z)."""
    from medsynth.tabular.domain_words import release_family_lists

    rs = np.random.default_rng(0)
    df = pd.DataFrame({f"v{i}": rs.choice(["a", "b"], 200) for i in range(8)})
    df.loc[0, :] = "zzz"
    rng = np.random.default_rng(1)
    for rho in (1.0, 100.0, 1e4):
        lists = release_family_lists(df, {"v#": list(df.columns)}, {"v#": rho}, 1e-7, rng)
        assert set(lists["v0"].keys) == {"a", "b"}, (rho, lists["v0"].keys)
        assert lists["v7"].sigma == pytest.approx(8 / np.sqrt(2 * rho))


def test_families_come_from_names_and_types_only():
    from medsynth.tabular.domain_words import category_families
    from medsynth.tabular.structure import FAMILY_MIN, name_family

    assert name_family("emp12") == "emp#" and name_family("q_01a") == "q_#a" and name_family("age") is None
    cols = [ColumnSchema(name=f"emp{i}", type="categorical") for i in range(1, FAMILY_MIN + 1)]
    cols += [ColumnSchema(name="lab1", type="continuous"), ColumnSchema(name="lab2", type="continuous"),
             ColumnSchema(name="lab3", type="continuous"), ColumnSchema(name="lab4", type="continuous")]
    assert category_families(cols) == {"emp#": [f"emp{i}" for i in range(1, FAMILY_MIN + 1)]}
    assert category_families(cols[:FAMILY_MIN - 1]) == {}
    target = [c.model_copy(update={"target": c.name == "emp1"}) for c in cols]
    assert category_families(target) == {}


def _likert(n: int = 300, k: int = 24, seed: int = 0) -> pd.DataFrame:
    rs = np.random.default_rng(seed)
    df = pd.DataFrame({f"q{i + 1}": rs.choice([1, 2, 3, 4, 5], n, p=[0.1, 0.2, 0.3, 0.25, 0.15]).astype(float)
                       for i in range(k)})
    for i in range(k):
        df.loc[rs.random(n) < 0.05 + 0.01 * i, f"q{i + 1}"] = np.nan
    for j in range(1, 9):  # a family of labs on different scales
        df[f"lab{j}"] = rs.lognormal(2, 0.5, n) * j
    return df


def test_a_family_of_number_coded_items_is_located_by_its_average_histogram(monkeypatch):
    """24 items coded 1-5 on 300 rows at epsilon 1: alone, each item's histogram holds its five values at about 2 noise
    deviations and most items came out empty (77 of 96 over 4 fits); their family's average histogram locates the
    code, and each member keeps it where its own counts on those keys together stand out (12 of 96 empty)."""
    import medsynth.tabular.domain as domain
    from medsynth.core.registry import SYNTHESIZERS, resolve

    df = _likert()

    def empties(families: bool = True) -> tuple[int, int]:
        items = labs = 0
        for seed in range(4):
            with insecure_noise_for_audit(500 + seed):
                m = resolve(SYNTHESIZERS, "dp-mst")(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, infer_schema(df))
            items += sum(m.schema.column(f"q{i + 1}").omitted for i in range(24))
            labs += sum(m.schema.column(f"lab{j}").omitted for j in range(1, 9))
            assert m.ledger.rho_spent == pytest.approx(m.ledger.rho_budget, rel=1e-6)
            for i in range(24 if families else 0):  # (a noise key beside the run may join, as for one column alone)
                c = m.schema.column(f"q{i + 1}")
                assert c.omitted or c.type != "categorical" or set(c.categories) <= set(range(0, 8)), c
        return items, labs

    with_families = empties()
    monkeypatch.setattr(domain, "number_families", lambda cols: {})
    alone = empties(False)
    assert with_families[0] <= 24 and alone[0] >= with_families[0] + 40, (with_families, alone)
    assert with_families[1] <= alone[1] + 2, (with_families, alone)


def test_a_member_unlike_its_family_never_takes_the_family_code():
    """Five members coded 1-5 and one on another scale (200-900, mostly missing, not located alone): the odd one
    is left empty or gets its own range, never the family's keys (its own counts on them do not stand out)."""
    from medsynth.core.registry import SYNTHESIZERS, resolve

    rs = np.random.default_rng(1)
    n = 250
    df = pd.DataFrame({f"x{i}": rs.choice([1, 2, 3, 4, 5], n).astype(float) for i in range(1, 6)})
    df["x6"] = np.where(rs.random(n) < 0.6, np.nan, rs.uniform(200, 900, n).round())
    for seed in range(5):
        with insecure_noise_for_audit(700 + seed):
            m = resolve(SYNTHESIZERS, "dp-mst")(privacy={"epsilon": 1.0, "delta": 1e-5}).fit(df, infer_schema(df))
        c = m.schema.column("x6")
        assert c.omitted or (c.type != "categorical" and c.max is not None and c.max > 100), c


def test_locate_by_family_is_post_processing_of_the_members_noisy_histograms():
    from medsynth.privacy.locate import locate, locate_by_family

    rs = np.random.default_rng(0)
    rng = np.random.default_rng(1)
    locs = [locate(rs.choice([1.0, 2.0, 3.0], 200), 2e-4, rng) for _ in range(6)]  # sigma 50: 67 per key, unlocated
    assert all(loc.kind == "unlocated" for loc in locs)
    before = [loc.noisy.copy() for loc in locs]
    got = locate_by_family(locs)
    assert len(got) >= 5 and all(loc.kind == "code" and loc.tentative and loc.by_family for loc in got)
    assert all(set(loc.keys) <= {2, 3, 4} for loc in got)  # (key indices of the values 1-3: -1 is index 0)
    assert all(np.array_equal(a, loc.noisy) and loc.rho == 2e-4 for a, loc in zip(before, locs, strict=True))
    odd = locate(rs.choice([7.0, 9.0, 11.0, 13.0], 200), 2e-4, rng)  # on keys the family's code does not hold
    odd.noisy[odd.noisy.size - 18 : -1] = 0.0  # (its keys' noise made 0, its odd keys' counts exact: 50 each)
    odd.noisy[odd.noisy.size - 18 + np.array([8, 10, 12, 14])] = 150.0  # (its odd keys' counts set: 150 each)
    fresh = [locate(rs.choice([1.0, 2.0, 3.0], 200), 2e-4, rng) for _ in range(12)]
    got = locate_by_family([*fresh, odd])
    assert len(got) >= 10 and all(loc is not odd for loc in got) and odd.kind == "unlocated"


def test_a_members_data_read_categories_never_filter_its_familys_list():
    """The review of the first version: a member whose type was declared by hand (``type`` taken out of
    ``read_from_data``) kept its data-read category list, which filtered the family's pooled list, so one row's
    'zzz' in that member was released in 5 of 5 fits (0 of 5 without the row). Only a list written by hand filters:
    the member's list is the family's whether or not the row is there."""
    from medsynth.core.registry import SYNTHESIZERS, resolve

    rs = np.random.default_rng(0)
    base = pd.DataFrame({f"v{i}": rs.choice(["a", "b", "zzz"], 400) for i in range(1, 5)})
    base["v4"] = rs.choice(["a", "b"], 400)  # v4 never holds zzz ...
    one = base.copy()
    one.loc[0, "v4"] = "zzz"  # ... but for one row

    def schema_for(df: pd.DataFrame):  # noqa: ANN202
        sc = infer_schema(df)
        return sc.model_copy(update={"columns": [c.model_copy(update={"read_from_data": [
            f for f in c.read_from_data if f != "type"]}) for c in sc.columns]})

    held = {}
    for name, df in (("one", one), ("base", base)):
        held[name] = 0
        for seed in range(5):
            with insecure_noise_for_audit(seed):
                m = resolve(SYNTHESIZERS, "dp-mst")(privacy={"epsilon": 5.0, "delta": 1e-5}).fit(df, schema_for(df))
            held[name] += "zzz" in (m.schema.column("v4").categories or [])
            assert "zzz" in m.schema.column("v1").categories
    assert held["one"] == held["base"], held


def test_sparse_members_of_a_family_take_its_range_not_an_empty_column(seeded_dp_noise):
    """tidyr::who at epsilon 1: 28 count columns named alike (new_sn_m014 ... new_ep_f65), 14% of their 7,240 rows
    present and spread over many powers of two; each member's own best block went unconfirmed by its own stage 2 and
    5-9 of them came out empty in every fit. A member DP says holds values takes its family's run (the members'
    average), a coarse range, without that confirmation."""
    import medsynth.tabular as tab

    rng = np.random.default_rng(0)
    n = 7000
    cols = {"country": rng.choice([f"c{i}" for i in range(200)], n), "year": rng.integers(1980, 2014, n)}
    for kind, share in (("sp", 0.44), ("sn", 0.14), ("ep", 0.14), ("rel", 0.03)):
        for sex in ("m", "f"):
            for age in ("014", "1524", "2534", "3544", "4554", "5564", "65"):
                x = np.where(rng.random(n) < 0.22, 0.0, np.round(np.exp(rng.normal(3.0, 2.2, n))))  # (a fifth 0)
                cols[f"new_{kind}_{sex}{age}"] = np.where(rng.random(n) < share, x, np.nan)
    # a member of the other sign (a reviewer: -999..-1 among counts came out in [0, 127], every value off its range)
    cols["new_sp_m014"] = np.where(rng.random(n) < 0.04, -rng.integers(1, 1000, n).astype(float), np.nan)
    df = pd.DataFrame(cols)
    m = tab.fit(df, model="dp-mst", epsilon=1.0, seed=0)
    out = m.sample(2000, seed=0)
    odd = pd.to_numeric(out["new_sp_m014"], errors="coerce").dropna()
    assert odd.empty or (odd < 0).mean() >= 0.7, odd.describe()
    sparse = [c for c in df.columns if c.startswith(("new_sn", "new_ep"))]
    empty = [c for c in sparse if out[c].isna().all()]
    assert len(empty) <= 2, empty
    present = [c for c in sparse if c not in empty]
    assert all(0.05 <= out[c].notna().mean() <= 0.3 for c in present), {c: out[c].notna().mean() for c in present}


def test_a_member_of_the_other_sign_does_not_take_its_familys_run():
    """family_fits: a member's own stage-1 mass must lie mostly inside its family's run for it to take that run without
    a confirmation of its own (a reviewer: negatives -999..-1 among counts came out in [0, 127])."""
    from medsynth.privacy.locate import _KMAX, family_fits, locate

    rng = np.random.default_rng(0)
    counts = locate(np.round(np.exp(rng.normal(3.0, 2.0, 300))), 0.05, rng)
    negatives = locate(-rng.integers(1, 1000, 300).astype(float), 0.05, rng)
    for loc in (counts, negatives):
        loc.octaves = (_KMAX, _KMAX + 17)  # the family's run: from the zero bucket up to 2^17
    assert family_fits(counts) and not family_fits(negatives)
    negatives.octaves = None
    assert not family_fits(negatives)
