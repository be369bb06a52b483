"""The demo's evaluation step: reports on whatever earlier steps produced, skipping the rest."""

from __future__ import annotations

import json
from types import SimpleNamespace

from medsynth.core.files import write_json
from medsynth.demo.evaluation import step_evaluation
from medsynth.evaluation.report import validate_report


def test_demo_step_reports_and_skips(small_tables, volume_folders, tmp_path) -> None:
    t = small_tables
    tab = tmp_path / "tabular"
    tab.mkdir()
    for k in ("train", "holdout", "independent"):
        t[k].to_csv(tab / f"{k}.csv", index=False)
    write_json(tab / "run" / "privacy_ledger.json", {"private": True, "total_epsilon": 1.0, "total_delta": 1e-5, "entries": []})
    results = {
        "phantoms": {"folder": str(volume_folders["train"].parent), "shape": [24, 24, 24]},
        "tabular": {"cases": {"small": {"train_csv": str(tab / "train.csv"), "holdout_csv": str(tab / "holdout.csv"),
                                        "synthetic_csv": str(tab / "independent.csv"), "run_dir": str(tab / "run"),
                                        "target": "event", "model": "dp-mst", "epsilon": 1.0, "why": "a test table"}}},
        "translation": {"predicted_dir": str(volume_folders["train"]), "reference_dir": str(volume_folders["train"]),
                        "labels_dir": str(volume_folders["train_labels"])},
    }
    ctx = SimpleNamespace(out=tmp_path / "demo", results=results, quick=True, config=SimpleNamespace(seed=0, n_phantoms=4))
    summary = step_evaluation(ctx)
    assert set(summary["reports"]) == {"tabular_small", "translation"}
    jobs = {j["job"]: j for j in summary["jobs"]}
    assert set(jobs) == {"private EHR: small (dp-mst, eps 1)", "MR -> CT translation (CycleGAN)"}
    assert all(j["verdict"] in ("pass", "review", "fail") and j["meaning"] for j in jobs.values())
    assert "a test table" in jobs["private EHR: small (dp-mst, eps 1)"]["meaning"]
    assert "images" in summary["skipped"]
    for rep in summary["reports"].values():
        validate_report(json.loads(open(rep["json"]).read()))
    tab_report = json.loads(open(summary["reports"]["tabular_small"]["json"]).read())
    assert tab_report["privacy_ledger"]["total_epsilon"] == 1.0
    assert json.loads((tmp_path / "demo" / "evaluation" / "index.json").read_text()) == summary
