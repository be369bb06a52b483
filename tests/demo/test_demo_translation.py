"""The demo's translation step: trains on the demo phantoms and scores a held-out case."""

from __future__ import annotations

from pathlib import Path

from medsynth.demo import STEPS, DemoConfig, DemoContext, step_phantoms
from medsynth.demo.translation import step_translation
from medsynth.io.loading import load_volume


def test_demo_step_is_registered_after_phantoms():
    names = [n for n, _ in STEPS]
    assert "translation" in names and names.index("translation") > names.index("phantoms")


def test_demo_step_outputs(tmp_path: Path):
    ctx = DemoContext(out=tmp_path, config=DemoConfig(quick=True, phantom_shape=16, n_phantoms=3, device="cpu"))
    ctx.results["phantoms"] = step_phantoms(ctx)
    result = step_translation(ctx)
    assert result["mae_hu"] > 0 and 0 < result["ssim"] <= 1
    pred = sorted(Path(result["predicted_dir"]).glob("*.nii.gz"))
    ref = sorted(Path(result["reference_dir"]).glob("*.nii.gz"))
    labels = sorted(Path(result["labels_dir"]).glob("*.nii.gz"))
    assert [p.name for p in pred] == [p.name for p in ref] == [p.name for p in labels] == ["case_002.nii.gz"]
    assert load_volume(pred[0]).same_grid(load_volume(ref[0]))
    assert (Path(result["run_dir"]) / "model" / "weights.pt").is_file()
