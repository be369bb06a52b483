"""``medsynth evaluate`` / ``medsynth audit``: outputs, exit codes, errors."""

from __future__ import annotations

import json

import pandas as pd

from medsynth.cli.main import main


def _write(tables: dict[str, pd.DataFrame], tmp_path) -> dict[str, str]:
    out = {}
    for k, t in tables.items():
        out[k] = str(tmp_path / f"{k}.csv")
        t.to_csv(out[k], index=False)
    return out


def test_audit_exit_codes(small_tables, tmp_path, capsys) -> None:
    p = _write(small_tables, tmp_path)
    base = ["audit", "tabular", "--train", p["train"], "--holdout", p["holdout"], "--set", "metrics=[dcr, exact_copies, mia_distance]"]
    capsys.readouterr()
    assert main([*base, "--synthetic", p["copied"], "--out", str(tmp_path / "bad")]) == 1
    assert json.loads((tmp_path / "bad" / "report.json").read_text())["verdict"] == "fail"
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "FAIL" in ln and "verdict" not in ln)
    assert "(" in line and "exact_cop" in line, line  # a failed section names the metrics that failed it
    assert main([*base, "--synthetic", p["independent"], "--out", str(tmp_path / "ok")]) == 0
    assert (tmp_path / "ok" / "report.html").is_file()
    assert "verdict:" in capsys.readouterr().out


def test_evaluate_tabular_and_errors(small_tables, tmp_path, capsys) -> None:
    p = _write(small_tables, tmp_path)
    rc = main(["evaluate", "tabular", "--train", p["train"], "--holdout", p["holdout"], "--synthetic", p["independent"],
               "--target", "event", "--set", "metrics=[marginals, utility, dcr]", "--out", str(tmp_path / "rep")])
    assert rc == 0
    data = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert {"fidelity", "utility", "privacy"} <= set(data["sections"])
    small_tables["independent"].drop(columns=["lab"]).to_csv(tmp_path / "broken.csv", index=False)
    rc = main(["evaluate", "tabular", "--train", p["train"], "--holdout", p["holdout"], "--synthetic", str(tmp_path / "broken.csv"),
               "--out", str(tmp_path / "rep2")])
    assert rc == 2
    assert "lacks column(s) ['lab']" in capsys.readouterr().err


def test_evaluate_images_and_translation(volume_folders, tmp_path) -> None:
    v = volume_folders
    rc = main(["audit", "images", "--train", str(v["train"]), "--holdout", str(v["holdout"]), "--synthetic", str(v["copied"]),
               "--out", str(tmp_path / "img")])
    assert rc == 1
    # --fail-on, as `audit tabular` has it (an imaging researcher: "No such option: --fail-on", though documented)
    base = ["audit", "images", "--train", str(v["train"]), "--holdout", str(v["holdout"]), "--synthetic", str(v["holdout"])]
    assert main([*base, "--out", str(tmp_path / "img2"), "--fail-on", "sometimes"]) == 2
    assert not (tmp_path / "img2").exists()
    rc = main([*base, "--out", str(tmp_path / "img3"), "--fail-on", "review"])
    verdict = json.loads((tmp_path / "img3" / "report.json").read_text())["verdict"]
    assert rc == (0 if verdict == "pass" else 1), (rc, verdict)
    rc = main(["evaluate", "translation", "--predicted", str(v["train"]), "--reference", str(v["train"]),
               "--labels", str(v["train_labels"]), "--out", str(tmp_path / "tr")])
    assert rc == 0
    assert json.loads((tmp_path / "tr" / "report.json").read_text())["kind"] == "translation"
