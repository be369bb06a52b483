"""A DP fit never refuses on what one row could change, and never releases exact values the schema marks as read
from the data (an adversary's review of the released bytes, seventeenth-to-eighteenth session): a column that
``schema infer`` saw with values but the table now holds empty, one more missing value or one new category in a
column whose type was declared by hand made the fit refuse (the refusal alone tells the row apart); ``public: true``
set on an inferred column released its exact maximum and a category held by one patient; the ledger listed no
public assumption."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medsynth.cli.main import main
from medsynth.core.errors import DataValidationError
from medsynth.io.schema import TableSchema
from medsynth.tabular.api import fit
from medsynth.tabular.schema import infer_schema

TINY = {"bins": 6, "fine_bins": 16}


def _table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rs = np.random.default_rng(seed)
    return pd.DataFrame({"age": rs.integers(30, 90, n), "grp": rs.choice(["a", "b", "c"], n),
                         "lab": rs.lognormal(0, 0.4, n).round(2), "rare": [None] * (n - 1) + ["X"]})


def test_a_dp_fit_does_not_refuse_on_one_row():
    df = _table()
    schema = infer_schema(df)  # 'rare' seen with one value; 'age' with none missing
    without = df.iloc[:-1]  # the neighbour: 'rare' entirely missing
    m = fit(without, model="dp-mst", epsilon=1.0, schema=schema, params=TINY)
    assert m.sample(20, seed=0)["rare"].isna().all()
    with pytest.raises(DataValidationError, match="'rare' is entirely missing"):  # a non-private fit still says so
        fit(without, model="gaussian-copula", schema=schema)
    declared = schema.model_copy(update={"columns": [  # types declared by hand, missingness and categories as read
        c.model_copy(update={"read_from_data": [f for f in c.read_from_data if f != "type"]}) for c in schema.columns]})
    odd = df.copy()
    odd["age"] = odd["age"].astype(float)
    odd.loc[3, "age"] = np.nan  # one missing value where the schema read none
    odd.loc[4, "grp"] = "zz"  # one category the schema did not list
    m = fit(odd, model="dp-mst", epsilon=1.0, schema=declared, params=TINY)
    assert "zz" not in set(m.sample(200, seed=0)["grp"].dropna())


def test_public_true_on_values_read_from_the_data_is_refused_and_declared_ones_are_listed(tmp_path):
    df = _table()
    df.loc[0, "lab"] = 987.6  # a planted extreme value
    schema = infer_schema(df)
    flipped = schema.model_copy(update={"columns": [c.model_copy(update={"public": c.name in ("lab", "grp")})
                                                    for c in schema.columns]})
    with pytest.raises(DataValidationError) as err:
        fit(df, model="dp-mst", epsilon=1.0, schema=flipped, params=TINY)
    msg = str(err.value)
    assert "'lab' is declared public: true, but its min, max were read from the data" in msg
    assert "'grp'" in msg and "987.6" not in msg
    fit(df, model="gaussian-copula", schema=flipped)  # a non-private fit releases nothing under a guarantee
    declared = flipped.model_copy(update={"columns": [
        c.model_copy(update={"min": 0.0, "max": 50.0, "read_from_data": []}) if c.name == "lab" else
        c.model_copy(update={"read_from_data": []}) if c.name == "grp" else c for c in flipped.columns]})
    m = fit(df, model="dp-mst", epsilon=1.0, schema=declared, params=TINY)
    assumed = " | ".join(m.ledger.public_assumptions)
    assert "column 'lab': type continuous, range [0.0, 50.0]" in assumed and "column 'grp'" in assumed, assumed
    assert "'age'" not in assumed


def test_schema_infer_writes_that_its_file_is_private(tmp_path, capsys):
    data = tmp_path / "t.csv"
    _table().to_csv(data, index=False)
    out = tmp_path / "s.yaml"
    assert main(["schema", "infer", str(data), "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Written by `medsynth schema infer` from the data") and "do not share it" in text
    assert "do not share it" in capsys.readouterr().out
    assert TableSchema.load(out).names == infer_schema(_table()).names  # the header is a YAML comment


def test_a_public_column_that_may_be_missing_may_hold_no_value_and_refusals_carry_no_counts():
    """A column declared public with ``missing: true`` and bounds typed by hand was refused as "entirely missing" on
    the neighbour without its one value, though no declared fact broke; a public fact that does break is refused
    without counting the rows that break it (the count told more than the one bit; nineteenth session's adversary)."""
    df = _table()
    df["lab"] = np.where(np.arange(len(df)) == 5, df["lab"], np.nan)  # one value
    schema = infer_schema(df)
    hand = schema.model_copy(update={"columns": [
        c.model_copy(update={"public": True, "missing": True, "type": "continuous", "min": 0.0, "max": 10.0,
                             "read_from_data": []}) if c.name == "lab" else c for c in schema.columns]})
    m = fit(df.assign(lab=np.nan), model="dp-mst", epsilon=1.0, schema=hand, params=TINY)  # the neighbour
    assert len(m.sample(10, seed=0)) == 10
    strict = hand.model_copy(update={"columns": [c.model_copy(update={"missing": False}) if c.name == "lab" else c
                                                 for c in hand.columns]})
    with pytest.raises(DataValidationError) as err:
        fit(df.assign(lab=df["lab"].fillna(1.0).where(np.arange(len(df)) != 7)), model="dp-mst", epsilon=1.0,
            schema=strict, params=TINY)
    assert "column 'lab' has missing values but the schema says missing: false" in str(err.value)
    with pytest.raises(DataValidationError, match="column 'lab' has 1 missing values"):  # the owner's own check counts
        fit(df.assign(lab=df["lab"].fillna(1.0).where(np.arange(len(df)) != 7)), model="gaussian-copula", schema=strict)


def test_a_dp_fit_reads_a_malformed_row_as_absent_and_names_nothing_of_a_file_it_cannot_parse(tmp_path):
    """The adversary: one malformed row turned a DP fit into a refusal (a deterministic switch on one row), and the
    refusal's words told the row (pandas' 'Expected 14 fields in line 1947', the private row count plus two; an invalid
    byte as '#xff'). A DP fit now cuts a row with too many cells to the header's, wherever it is, and replaces an
    invalid byte; a file it cannot parse at all (a quote left open) is refused with nothing of the row. A non-private read
    and `schema infer` still name the line."""
    from medsynth.io.tables import read_table

    path = tmp_path / "t.csv"
    pd.DataFrame({"a": range(417), "b": range(417)}).to_csv(path, index=False)
    clean = read_table(path, private=True)
    with path.open("a") as fh:
        fh.write("1,2,3,4\n")
    got = read_table(path, private=True)  # the long row cut to the header's cells, as one row of the table
    assert len(got) == 418 and got.iloc[:417].equals(clean) and got.iloc[417].tolist() == [1, 2]
    with pytest.raises(DataValidationError, match="line 419"):
        read_table(path)
    first = tmp_path / "f.csv"  # a long first row: pandas' header mismatch, not a bad line, refused it (a reviewer)
    lines = path.read_text().splitlines()
    first.write_text("\n".join([lines[0], "1,2,3,4", *lines[1:-1]]) + "\n")
    got = read_table(first, private=True)
    assert len(got) == 418 and list(got.columns) == ["a", "b"] and got.iloc[1:].reset_index(drop=True).equals(clean)
    bad_byte = tmp_path / "b.csv"
    bad_byte.write_bytes(path.read_bytes().replace(b"1,2,3,4\n", b"5,\xff\n"))
    got = read_table(bad_byte, private=True)
    assert len(got) == 418 and got["a"].iloc[-1] == 5
    with pytest.raises(DataValidationError, match="codec can't decode"):
        read_table(bad_byte)
    quote = tmp_path / "q.csv"  # a quote left open: refused before; now one record, its quote closed at the line's end
    quote.write_bytes(path.read_bytes().replace(b"1,2,3,4\n", b'"xff\\,9\n'))
    got = read_table(quote, private=True)
    assert len(got) == 418 and got["a"].iloc[-1] == "xff\\,9" and got.iloc[:417].astype(float).equals(clean.astype(float))
    with pytest.raises(DataValidationError, match="EOF"):
        read_table(quote)
    empty = tmp_path / "e.csv"  # what cannot be read at all is still refused, naming nothing of it
    empty.write_bytes(b"")
    with pytest.raises(DataValidationError) as err:
        read_table(empty, private=True)
    text = str(err.value)
    assert "withheld: DP fit" in text and "EOF" not in text
    import medsynth.tabular as tab

    assert tab.fit(quote, model="dp-mst", epsilon=1.0).privacy_spent().epsilon <= 1.0 + 1e-9
    from medsynth.io.tables import _bare_returns_hint  # (a reviewer: its count of carriage returns is a count of rows)

    crs = tmp_path / "cr.csv"
    crs.write_bytes(b"a,b\n" + b"".join(b"x\ry,1\n" for _ in range(43)))
    assert "43" in _bare_returns_hint(crs) and "carriage returns" in _bare_returns_hint(crs, True)
    assert not any(ch.isdigit() for ch in _bare_returns_hint(crs, True))


def test_one_added_line_is_one_record_of_a_dp_fits_table_whatever_its_quotes(tmp_path):
    """The adversary: with pandas' quoting, one added line whose cell opens a quote swallowed every later line up to the
    next cell ending in one (flchain's 7,874 rows read as 884, the released noisy count with them), and a bare carriage
    return split a record in two: the neighbouring tables of DP differed by thousands of rows. A DP fit reads one record
    per line; a non-private read keeps pandas' quoting (quoted line breaks in free text)."""
    from medsynth.io.tables import read_table

    lines = ["age,sex,note"] + [f"{20 + i % 50},{'FM'[i % 2]},n{i}" for i in range(300)]
    lines[200] += ' 5ft11"'  # a cell ending in a quote far below
    base = tmp_path / "base.csv"
    base.write_text("\n".join(lines) + "\n")
    added = tmp_path / "added.csv"
    added.write_text("\n".join([*lines[:11], '70,F,"Neoplasms', *lines[11:]]) + "\n")
    cr = tmp_path / "cr.csv"
    cr.write_text("\n".join([*lines[:5], "71,M,two\rlines", *lines[5:]]) + "\n")
    a, b, c = (read_table(f, private=True) for f in (base, added, cr))
    assert len(a) == 300 and len(b) == 301 and len(c) == 301
    assert b.drop(index=10).reset_index(drop=True).equals(a) and b["note"].iloc[10] == "Neoplasms"
    assert c["note"].iloc[4] == "two lines" and a["note"].iloc[199] == 'n199 5ft11"'
    assert len(read_table(added)) < 200  # (pandas' quoting, outside a DP fit: the open quote takes the lines below)
    mac = tmp_path / "mac.csv"  # lines ended by a bare carriage return (the header's ending is the file's: a reviewer)
    mac.write_bytes(b"a,b\r1,2\r3,4\r")
    assert read_table(mac, private=True).to_dict("list") == {"a": [1, 3], "b": [2, 4]}
    long = tmp_path / "long.csv"  # one quoted cell past csv's 131,072-character field limit (it refused the file)
    long.write_text("a,b\n" + "\n".join(f"{i},x" for i in range(100)) + '\n5,"' + "y" * 200_000 + '"\n')
    assert read_table(long, private=True).shape == (101, 2)
    utf16 = tmp_path / "u16.csv"  # UTF-16 text read as UTF-8 was garbage a DP fit took as its table (a reviewer)
    utf16.write_bytes("a,b\n1,2\n".encode("utf-16"))
    for private in (True, False):
        with pytest.raises(DataValidationError, match="is UTF-16 text .*save it as UTF-8"):
            read_table(utf16, private=private)
    quoted = tmp_path / "quoted.csv"  # quoted cells with the delimiter and doubled quotes read as pandas reads them
    pd.DataFrame({"x": ['a, b', 'say "hi"', "plain"], "y": [1, 2, 3]}).to_csv(quoted, index=False)
    assert read_table(quoted, private=True).equals(read_table(quoted))
