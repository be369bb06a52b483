"""Saved bone-head MR->CT models of the real-anatomy benchmark scored before and after ``calibrate_bone_head``.

``fit`` calibrates a bone head (``loss.bone_segmentation``) at its end; this applies the same function to models saved
by ``benchmarks/translation.py real-anatomy`` runs (their EMA weights), so the effect of the calibration is measured on
the same weights: the threshold is chosen on the six training regions' registered pairs only, and the held-out cases
(a2, a5, b) are scored as in the runs (``translation_anatomy.score_case``). Models saved before the head had its offset
buffer load with offset 0 (as trained).

Run: ``OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/translation_bonehead_calibrate.py OUT.json RUN_DIR [RUN_DIR ...]``
(the run folders under the ``--work`` of the real-anatomy runs, e.g. ``/tmp/anatomy/run_real_anatomy_bonehead_9k_900_s0_2_s0``).
"""
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch
import translation_anatomy as A

from medsynth.core.config import read_yaml, validate_config
from medsynth.io.phantoms import ANATOMY_TISSUES
from medsynth.translation.config import CycleGANConfig
from medsynth.translation.cyclegan import CycleGANTranslator, CycleGenerators

work = Path(sys.argv[2]).resolve().parent  # the --work folder of the runs
cases = A.build_cases(work)
names = dict(enumerate(ANATOMY_TISSUES))
out = {}
for run in sys.argv[2:]:
    p = Path(run) / "model"
    cfg = validate_config(CycleGANConfig, read_yaml(p / "config.yaml"), source=str(p))
    tr = CycleGANTranslator(cfg)
    gens = CycleGenerators(cfg)
    missing = gens.load_state_dict(torch.load(p / "weights.pt", weights_only=True), strict=False).missing_keys
    assert set(missing) <= {"mr2ct.offset"}, missing  # saved before the offset buffer existed: 0, as trained
    tr.generators = gens.eval()
    before = {c: A.score_case(tr, cases[c], names) for c in A.PROTOCOL["test"]}
    src, tgt = A.training_domains(cases, paired=True)
    s_dv, t_dv = tr.training_data(src, tgt)
    t0 = time.process_time()
    calib = tr.calibrate_bone_head(s_dv, t_dv)
    calib_cpu = time.process_time() - t0
    after = {c: A.score_case(tr, cases[c], names) for c in A.PROTOCOL["test"]}
    keep = ("mae_hu", "psnr_db", "ms_ssim", "bone_dice", "bone_share_pred", "bone_share_ref", "bone_mae_hu", "bone_bias_hu", "mae_by_tissue_hu")
    out[run] = {"calibration": calib, "calibration_cpu_seconds": round(calib_cpu, 1),
                "before": {k: v for k, v in A.summarise(before).items() if k in keep},
                "after": {k: v for k, v in A.summarise(after).items() if k in keep},
                "after_cases": {c: {k: v for k, v in r.items() if k in keep} for c, r in after.items()}}
    print(run, calib, {k: round(out[run]["before"][k], 3) for k in ("mae_hu", "bone_dice", "bone_share_pred")},
          "->", {k: round(out[run]["after"][k], 3) for k in ("mae_hu", "bone_dice", "bone_share_pred")}, flush=True)
mean = {when: {k: sum(r[when][k] for r in out.values()) / len(out) for k in ("mae_hu", "ms_ssim", "bone_dice", "bone_share_pred",
                                                                            "bone_mae_hu", "bone_bias_hu")}
        for when in ("before", "after")}
json.dump({"runs": out, "mean_over_runs": mean}, open(sys.argv[1], "w"), indent=1)
