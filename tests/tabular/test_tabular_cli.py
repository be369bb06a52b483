"""`medsynth schema` and `medsynth tabular`: the happy path, and each bad input with its named error (exit 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medsynth.cli.main import main


@pytest.fixture
def files(tmp_path: Path, table, schema):
    data = tmp_path / "data.csv"
    table.to_csv(data, index=False)
    sch = tmp_path / "schema.yaml"
    schema.save(sch)
    return tmp_path, data, sch


def test_fit_and_sample(files, seeded_dp_noise, capsys):  # what the model learns: reproducible noise, no flake
    tmp, data, sch = files
    assert main(["schema", "infer", str(data), "--out", str(tmp / "inferred.yaml")]) == 0
    assert "public: false" in (tmp / "inferred.yaml").read_text()
    run = tmp / "run"
    capsys.readouterr()
    assert main(["tabular", "fit", str(data), "--schema", str(sch), "--model", "dp-mst", "--epsilon", "1",
                 "--delta", "1e-3", "--out", str(run)]) == 0
    # the noisy row count is said with its noise (a 64-row table's fit said 'about 1 persons', as if that were its size)
    said = capsys.readouterr()
    assert re.search(r"rows \(noisy count, give or take about \d+: the exact one stays private\)", said.out + said.err)
    ledger = json.loads((run / "privacy_ledger.json").read_text())
    assert ledger["private"] and ledger["total_epsilon"] <= 1.0
    out = tmp / "syn.parquet"
    assert main(["tabular", "sample", str(run), "--n", "30", "--out", str(out), "--seed", "2", "--where", "death=1"]) == 0
    df = pd.read_parquet(out)
    assert len(df) == 30 and (df["death"] == 1).all()


@pytest.mark.parametrize("case,needle", [
    ("empty", "no rows"),
    ("all_missing", "entirely missing"),
    ("eps0", "epsilon"),
    ("big_delta", "1/n"),
    ("mismatch", "not in the table"),
    ("unparseable", "cannot be parsed"),
    ("non_private_eps", "not differentially private"),
])
def test_bad_inputs(files, capsys, table, case, needle):
    tmp, data, sch = files
    args = ["--model", "dp-mst", "--epsilon", "1", "--delta", "1e-3"]
    if case == "empty":
        table.iloc[:0].to_csv(data, index=False)
    elif case == "all_missing":
        table.assign(sex=None).to_csv(data, index=False)
    elif case == "eps0":
        args = ["--model", "dp-mst", "--epsilon", "0"]
    elif case == "big_delta":
        args = ["--model", "dp-mst", "--epsilon", "1", "--delta", "0.1"]
    elif case == "mismatch":
        table.drop(columns=["age"]).to_csv(data, index=False)
    elif case == "unparseable":
        data.write_bytes(b'')  # (a quote left open is one record of a DP fit's table now: each line is one)
    elif case == "non_private_eps":
        args = ["--model", "gaussian-copula", "--epsilon", "1"]
    code = main(["tabular", "fit", str(data), "--schema", str(sch), *args, "--out", str(tmp / "run")])
    assert code == 2
    assert needle in capsys.readouterr().err
    if case == "big_delta":  # refused after the noisy row count: the spent budget is recorded, nothing else
        assert sorted(p.name for p in (tmp / "run").iterdir()) == ["config.yaml", "privacy_ledger.json", "run.json"]
        assert json.loads((tmp / "run" / "run.json").read_text())["status"] == "failed"
        ledger = json.loads((tmp / "run" / "privacy_ledger.json").read_text())
        assert ledger["status"] == "failed" and ledger["entries"][0]["access"] == "number of rows"
        return
    assert not (tmp / "run").exists(), "a failed fit must not leave a run directory"


def test_a_retry_over_a_failed_dp_fit_says_what_the_two_spent(files, capsys):
    """An adversary: a failed DP fit spent budget and left its ledger, and a retry with --force deleted it: the retry's
    ledger said epsilon 1.0 where the data had given 1.165 (and each failed attempt had shown a noisy count). The retry
    now says what the overwritten attempt spent and the two composed, in its ledger and model card."""
    tmp, data, sch = files
    run = tmp / "run"
    assert main(["tabular", "fit", str(data), "--schema", str(sch), "--model", "dp-mst", "--epsilon", "1", "--delta",
                 "0.1", "--out", str(run)]) == 2  # refused after the noisy row count
    capsys.readouterr()
    assert main(["tabular", "export", str(run), "--out", str(tmp / "exp")]) != 0  # (it said: refit with this version)
    assert "is a fit that failed (run.json: failed): nothing of it may be released" in capsys.readouterr().err
    assert main(["tabular", "fit", str(data), "--schema", str(sch), "--model", "dp-mst", "--epsilon", "1", "--delta",
                 "1e-3", "--out", str(run), "--force"]) == 0
    ledger = json.loads((run / "privacy_ledger.json").read_text())
    note = next(n for n in ledger["notes"] if n.startswith("an earlier DP run written to this run directory failed"))
    both = float(re.search(r"has given epsilon ([\d.]+) in all", note).group(1))
    assert both > ledger["total_epsilon"], note
    assert "an earlier DP run" in (run / "model" / "MODEL_CARD.md").read_text()
    # a chain composes (a reviewer: three attempts composed to 1.118 where the note said 0.9), a finished run too
    assert main(["tabular", "fit", str(data), "--schema", str(sch), "--model", "dp-mst", "--epsilon", "1", "--delta",
                 "1e-3", "--out", str(run), "--force"]) == 0
    third = json.loads((run / "privacy_ledger.json").read_text())
    note3 = next(n for n in third["notes"] if n.startswith("an earlier DP run written to this run directory spent"))
    assert len(third["earlier_runs_entries"]) == len(ledger["entries"]) + len(ledger["earlier_runs_entries"])
    assert float(re.search(r"has given epsilon ([\d.]+) in all", note3).group(1)) > both, note3


def test_dp_run_keeps_the_table_hash_out_of_the_model(tmp_path: Path):
    """A hash of the training table identifies it among candidates: a DP model must not carry it."""
    import json

    import numpy as np
    import pandas as pd

    from medsynth.tabular.base import table_fingerprint
    from medsynth.tabular.config import TabularConfig
    from medsynth.tabular.run import fit_run

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": rng.integers(20, 90, 3000), "sex": rng.choice(["F", "M"], 3000)})
    cfg = TabularConfig(model="dp-mst", privacy={"epsilon": 3.0, "delta": 1e-5, "domain_budget": 0.3})
    run, _ = fit_run(df, tmp_path / "run", cfg)
    secret = table_fingerprint(df)
    model_files = "".join(p.read_text() for p in (run.path / "model").rglob("*") if p.suffix in (".json", ".yaml"))
    assert secret not in model_files
    assert json.loads((run.path / "model" / "meta.json").read_text())["data_fingerprint"] is None
    assert json.loads((run.path / "private" / "fit.json").read_text())["data_fingerprint"] == secret


def test_max_steps_cuts_the_dp_plan(files, capsys):
    tmp, data, sch = files
    run = tmp / "short"
    assert main(["tabular", "fit", str(data), "--schema", str(sch), "--model", "dp-tvae", "--epsilon", "1",
                 "--delta", "1e-3", "--max-steps", "2", "--out", str(run)]) == 0
    spent = json.loads((run / "privacy.json").read_text())
    assert spent["steps"] == 2 and spent["epsilon"] <= 1.0
    code = main(["tabular", "fit", str(data), "--schema", str(sch), "--model", "dp-mst", "--epsilon", "1",
                 "--delta", "1e-3", "--max-steps", "2", "--out", str(tmp / "mst")])
    assert code == 2 and "no optimisation steps" in capsys.readouterr().err
    assert not (tmp / "mst").exists()


def test_demo_bounds_come_from_the_published_description_not_the_rows():
    from medsynth.tabular.example_data import clinical_table, public_schema, published_bounds

    bounds = published_bounds()
    assert bounds["mean_smoothness"] == (0.053, 0.163)  # the DESCR table, rounded as printed
    df = clinical_table()
    assert float(df["mean_smoothness"].min()) != 0.053  # the rows' own minimum differs (0.05263)
    cols = {c.name: c for c in public_schema(df).columns}
    col = cols["mean_smoothness"]
    # rounded outwards to one significant digit: the declared bounds say the order of magnitude only,
    # never the extreme patients' values (which the published ranges are)
    assert col.public and col.min == pytest.approx(0.05) and col.max == pytest.approx(0.2)
    same = [name for name, (lo, hi) in bounds.items() if (cols[name].min, cols[name].max) == (lo, hi)]
    assert all(cols[name].min <= lo and cols[name].max >= hi for name, (lo, hi) in bounds.items())
    assert len(same) <= 1, f"declared bounds equal to the extremes of the rows: {same}"  # 0.001..0.03 is round already


def test_schema_infer_summarises_a_wide_table(tmp_path: Path, capsys):
    """A 172-column real table printed one line naming every column and type; a wide table gets counts per type."""
    import numpy as np

    rs = np.random.default_rng(0)
    wide = pd.DataFrame({f"lab{i}": rs.normal(size=40) for i in range(24)} | {"arm": rs.choice(["a", "b"], 40)})
    wide.to_csv(tmp_path / "wide.csv", index=False)
    assert main(["schema", "infer", str(tmp_path / "wide.csv"), "--out", str(tmp_path / "s.yaml")]) == 0
    out = capsys.readouterr().out
    assert "inferred 25 columns (24 continuous, 1 categorical)" in out and "lab3" not in out


def test_dp_fit_warns_what_it_could_not_release(tmp_path: Path, capsys, seeded_dp_noise):
    """On a real 576-row x 172-column table at epsilon 1, DP left 104 columns empty and 38 with one value, and the
    fit said nothing: the user found out in the synthetic data. The fit now warns with counts and names."""
    import numpy as np

    rs = np.random.default_rng(0)
    df = pd.DataFrame({"arm": rs.choice(["a", "b"], 400)} | {f"flag{i}": rs.choice(["x", "z"], 400, p=[0.95, 0.05])
                                                               for i in range(29)})
    df.to_csv(tmp_path / "t.csv", index=False)
    assert main(["schema", "infer", str(tmp_path / "t.csv"), "--out", str(tmp_path / "s.yaml")]) == 0
    assert main(["tabular", "fit", str(tmp_path / "t.csv"), "--schema", str(tmp_path / "s.yaml"), "--model", "dp-mst",
                 "--epsilon", "1", "--delta", "1e-4", "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "DP could not release everything" in err and ("of 30 columns are left empty" in err or "a single value" in err)


def test_schema_infer_says_which_default_model_the_target_picks(tmp_path: Path, capsys) -> None:
    """The default model follows the target (dp-aim with one, dp-mst without): infer says which, either way."""
    df = pd.DataFrame({"age": range(40, 100), "sex": ["f", "m"] * 30, "died": [0, 1, 1] * 20})
    df.to_csv(tmp_path / "a.csv", index=False)
    assert main(["schema", "infer", str(tmp_path / "a.csv"), "--out", str(tmp_path / "a.yaml")]) == 0
    out = capsys.readouterr().out
    assert "'died' is the prediction target" in out and "dp-aim" in out
    df.rename(columns={"died": "flag"}).to_csv(tmp_path / "b.csv", index=False)
    assert main(["schema", "infer", str(tmp_path / "b.csv"), "--out", str(tmp_path / "b.yaml")]) == 0
    out = capsys.readouterr().out
    assert "no column is named like an outcome" in out and "dp-mst" in out


def test_schema_infer_notes_a_date_column_in_two_formats(tmp_path: Path, capsys):
    """Two clinics' exports in one column: schema infer types it a date and says how many values are in another format
    (review: a fit kept only the majority's dates, with no note)."""
    df = pd.DataFrame({"visit": ["2001-12-26", "25/03/2000", "2002-01-05", "2003-02-01"] * 10, "age": range(40)})
    df.to_csv(tmp_path / "t.csv", index=False)
    assert main(["schema", "infer", str(tmp_path / "t.csv"), "--out", str(tmp_path / "s.yaml")]) == 0
    err = capsys.readouterr().err
    assert "'visit' holds dates in more than one format: 10 of 40 are not written as '%Y-%m-%d'" in err


def test_a_date_typed_wrong_is_missing_not_a_reason_to_make_the_column_text(tmp_path: Path, capsys):
    """A folder review: one '31/02/1981' among 1,945 visit dates made the column categories of every date (or an
    identifier), silently. A few values of a date's shape that no format reads (at most 1%) are read as missing,
    with a note naming one; the fit takes them; more of them, or text, still make the column no date."""
    from medsynth.io.schema import infer_schema

    days = pd.date_range("1980-01-01", periods=300, freq="7D").strftime("%d/%m/%Y").tolist()
    days[4] = "31/02/1981"
    df = pd.DataFrame({"visit_date": days, "age": range(300)})
    df.to_csv(tmp_path / "t.csv", index=False)
    assert main(["schema", "infer", str(tmp_path / "t.csv"), "--out", str(tmp_path / "s.yaml")]) == 0
    err = capsys.readouterr().err
    assert "'visit_date' holds 1 value(s) of a date's shape that are no valid date (e.g. '31/02/1981')" in err
    col = infer_schema(df).column("visit_date")
    assert (col.type, col.format, col.missing) == ("datetime", "%d/%m/%Y", True)
    assert main(["tabular", "fit", str(tmp_path / "t.csv"), "--schema", str(tmp_path / "s.yaml"), "--model", "dp-mst",
                 "--out", str(tmp_path / "run")]) == 0
    assert main(["tabular", "sample", str(tmp_path / "run"), "--n", "20", "--out", str(tmp_path / "syn.csv")]) == 0
    out = pd.read_csv(tmp_path / "syn.csv")
    assert pd.to_datetime(out["visit_date"].dropna(), format="%d/%m/%Y").notna().all()
    many = df.assign(visit_date=[("31/02/1981" if i % 20 == 0 else d) for i, d in enumerate(days)])  # 5%
    assert infer_schema(many).column("visit_date").type != "datetime"
    texty = df.assign(visit_date=["unknown" if i == 4 else d for i, d in enumerate(days)])
    assert infer_schema(texty).column("visit_date").type != "datetime"


def test_schema_infer_warns_of_a_target_with_one_value(tmp_path, capsys):
    """Gestation's 'outcome' is 'live birth' in every row: marked target from its name, utility was then skipped with
    no word at inference."""
    rs = np.random.default_rng(0)
    data = tmp_path / "t.csv"
    pd.DataFrame({"outcome": ["live birth"] * 60, "age": rs.integers(18, 45, 60)}).to_csv(data, index=False)
    assert main(["schema", "infer", str(data), "-o", str(tmp_path / "s.yaml")]) == 0
    out = capsys.readouterr().out
    assert "WARNING: 'outcome' holds a single value" in out


def test_schema_infer_notes_categories_that_differ_only_in_case(tmp_path, capsys):
    """A real export's 'Male' and 'male' stay two categories in every model (a DP release may drop the rarer one);
    schema infer says so, so that the owner can write them one way."""
    rs = np.random.default_rng(0)
    data = tmp_path / "t.csv"
    pd.DataFrame({"sex": rs.choice(["Male", "male", "Female"], 80), "age": rs.integers(18, 90, 80)}).to_csv(data, index=False)
    assert main(["schema", "infer", str(data), "-o", str(tmp_path / "s.yaml")]) == 0
    err = capsys.readouterr().err
    assert "column 'sex' holds values that differ only in case or spacing ('Male' / 'male')" in err


def test_sampling_a_fit_that_did_not_finish_says_so(tmp_path: Path, capsys, seeded_dp_noise):
    """A data scientist sampled the folder of a refused DP fit (20 rows at epsilon 1) and read 'not a saved tabular model
    (no config.yaml/meta.json)', while it held a config.yaml."""
    rs = np.random.default_rng(0)
    data = tmp_path / "tiny.csv"
    pd.DataFrame({"a": rs.normal(size=20), "b": rs.normal(size=20)}).to_csv(data, index=False)
    assert main(["tabular", "fit", str(data), "--epsilon", "1", "--out", str(tmp_path / "run")]) != 0
    capsys.readouterr()
    assert main(["tabular", "sample", str(tmp_path / "run"), "--n", "5", "--out", str(tmp_path / "s.csv")]) == 2
    err = capsys.readouterr().err
    assert "is a fit that did not finish (run.json: failed)" in err and not (tmp_path / "s.csv").exists(), err


def test_export_of_a_fit_that_released_nothing_usable_says_so(tmp_path, capsys):
    """A data scientist's phenobarb at epsilon 1: every value empty, and `tabular export` said only "exported 24
    releasable files". The run's warning (run.json, written by the fit) is said again (seeded noise cannot be
    exported: the warning is written here as the fit writes it)."""
    import json

    data = tmp_path / "t.csv"
    pd.DataFrame({"a": np.arange(300) % 7, "b": np.arange(300) % 3}).to_csv(data, index=False)
    run = tmp_path / "run"
    assert main(["tabular", "fit", str(data), "--model", "dp-mst", "--epsilon", "1", "--out", str(run)]) in (0, 1)
    capsys.readouterr()
    assert main(["tabular", "export", str(run), "--out", str(tmp_path / "rel")]) == 0
    said = capsys.readouterr()
    assert "nothing usable" not in said.out + said.err
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "warning": "NOTHING USABLE WAS RELEASED: every column is empty"}))
    assert main(["tabular", "export", str(run), "--out", str(tmp_path / "rel2")]) == 0
    said = capsys.readouterr()
    said = said.out + said.err
    assert "warning: NOTHING USABLE WAS RELEASED" in said and "of a fit that released nothing usable" in said, said
