"""Settings of an evaluation: which metrics run, their sample sizes, and the verdict thresholds.

Every threshold is stated in the report next to the value it judges, so a reader can see why a
section passed or failed. The defaults are documented here once (and in the README); change them
with a YAML file (``--config``) or ``--set privacy.mia_auc.fail=0.65``.

A :class:`Threshold` reads: the verdict is ``fail`` when the judged quantity is past ``fail``,
``review`` when past ``review``, else ``pass``. "Past" means above for metrics to minimise and below
for metrics to maximise. The judged quantity is the value itself, or (``on="excess"``) the value
minus its baseline: e.g. the share of synthetic rows that copy a training row, minus the share that
copy a holdout row (real tables can hold natural duplicates, which are no leak).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from medsynth.core.config import ConfigModel


class Threshold(ConfigModel):
    """Review/fail limits for one metric.

    Attributes:
        review: past this, a human should look.
        fail: past this, the data should not be released / used as is.
        on: judge the value itself ("value") or its excess over the baseline ("excess").
    """

    review: float
    fail: float
    on: Literal["value", "excess"] = "value"


def _t(review: float, fail: float, on: Literal["value", "excess"] = "value") -> Threshold:
    return Threshold(review=review, fail=fail, on=on)


class PrivacyThresholds(ConfigModel):
    """Thresholds of the privacy attacks (defaults chosen so that an independent real sample passes)."""

    dcr_share_train: Threshold = Field(default_factory=lambda: _t(0.55, 0.60))
    dcr_p5_ratio: Threshold = Field(default_factory=lambda: _t(0.8, 0.5))
    nndr_low_share: Threshold = Field(default_factory=lambda: _t(0.10, 0.20))
    exact_copy_share: Threshold = Field(default_factory=lambda: _t(0.005, 0.01, "excess"))
    #: holdout rows found verbatim in the synthetic table, beyond the training rows' rate: the holdout was not held out.
    holdout_copy_share: Threshold = Field(default_factory=lambda: _t(0.01, 0.05, "excess"))
    mia_auc: Threshold = Field(default_factory=lambda: _t(0.55, 0.60))
    mia_tpr_at_fpr_1pct: Threshold = Field(default_factory=lambda: _t(0.05, 0.10))
    mia_tpr_at_fpr_10pct: Threshold = Field(default_factory=lambda: _t(0.15, 0.20))
    attribute_inference_risk: Threshold = Field(default_factory=lambda: _t(0.05, 0.10))
    singling_out_risk: Threshold = Field(default_factory=lambda: _t(0.05, 0.10))
    linkability_risk: Threshold = Field(default_factory=lambda: _t(0.05, 0.10))
    image_near_copy_share: Threshold = Field(default_factory=lambda: _t(0.0, 0.10))


class FidelityThresholds(ConfigModel):
    """Thresholds of fidelity and utility (the baseline is real train vs real holdout)."""

    marginal_distance_mean: Threshold = Field(default_factory=lambda: _t(0.10, 0.20))
    #: the worst column's distance beyond the holdout's for that column: one unusable column (empty, case-changed
    #: categories, a unit change) fails on its own, however many columns the mean averages it with. A column a quarter
    #: of whose mass is misplaced is for a human to look at: at 0.30 a DP fit's gestation squeezed into 38-41 weeks
    #: (KS 0.265 against the holdout's 0.034) and a log coinsurance of 266 values (0.293 against 0.010) passed.
    marginal_distance_max: Threshold = Field(default_factory=lambda: _t(0.20, 0.40, "excess"))
    columns_of_another_type: Threshold = Field(default_factory=lambda: _t(0.0, 0.0))
    #: number columns and category columns whose synthetic values are (nearly) one value where the real ones vary: a
    #: marginal distance passed covid_testing's Ct value at 45 in every synthetic row (93% of real rows hold 45).
    columns_collapsed_to_one_value: Threshold = Field(default_factory=lambda: _t(0.0, 0.0))
    association_difference_mean: Threshold = Field(default_factory=lambda: _t(0.10, 0.20))
    #: of the pairs of columns strongly associated in train and holdout alike, the share the synthetic table loses: a
    #: mean over every pair passed while nhefs's sbp-dbp (0.56) and height-weight (0.50) correlations went to zero.
    strong_association_loss_share: Threshold = Field(default_factory=lambda: _t(0.25, 0.50))
    #: of the pairs of number or yes/no columns with a clear effect (rank correlation 0.08 or more, significant, the
    #: holdout's alike), the share the synthetic table erases or reverses (HealthInsurance's self-employment effect).
    effect_loss_share: Threshold = Field(default_factory=lambda: _t(0.25, 0.50))
    #: judged on the shortfall of the synthetic rows' pattern overlap with train (1 - TVD) against a holdout sample's of
    #: the same size: on a wide table two real halves share few whole-row patterns (reddit_finance, 65 columns: TVD
    #: 0.895 between train and holdout), and a fixed limit on the TVD failed them.
    missingness_pattern_tvd: Threshold = Field(default_factory=lambda: _t(0.25, 0.5))
    #: the worst column's gap between real and synthetic missing rates, beyond the holdout's (a number column's
    #: missing cells are not in its distance: 3-8% missing in every real column came out 0% and nothing said so).
    missing_rate_difference_max: Threshold = Field(default_factory=lambda: _t(0.05, 0.15, "excess"))
    #: the worst number column's share of synthetic values outside the real range, beyond the holdout's (humidity
    #: above 100% in a tenth of the rows, a 1-60 score up to 255).
    values_outside_real_range_max: Threshold = Field(default_factory=lambda: _t(0.02, 0.10, "excess"))
    #: the worst number column's share of real (holdout) values outside the synthetic range, beyond their share outside
    #: the training range: real patients the synthetic table leaves out (every patient aged 57-62, 7.6%, passed).
    real_values_outside_synthetic_range_max: Threshold = Field(default_factory=lambda: _t(0.02, 0.05, "excess"))
    #: the share of whole-number columns (every real value whole) whose synthetic values have fractions (ages of
    #: 44.6): any is worth a look, half of them is a table that cannot be used as the real one is.
    whole_number_columns_with_fractions: Threshold = Field(default_factory=lambda: _t(0.0, 0.5))
    #: the worst categorical column's share of synthetic values that no real row holds, beyond the holdout's share of
    #: values the training rows do not hold: a 1-6 answer written -1 or 0 in 5% of the rows passed every metric.
    unseen_category_values_max: Threshold = Field(default_factory=lambda: _t(0.01, 0.03, "excess"))
    #: the worst categorical column's share of real (holdout) rows whose value the synthetic column never holds, beyond
    #: their share the training rows do not hold: answers the synthetic table lost (five categories of 4-8% each lost
    #: from mifem's columns passed every metric).
    real_categories_lost_max: Threshold = Field(default_factory=lambda: _t(0.03, 0.10, "excess"))
    #: the worst coded number column's (few real values, each held by several rows) share of synthetic values no real
    #: row holds, beyond the holdout's share the training rows do not hold: MedExp's coinsurance code (four values)
    #: written between its codes in 60% of the rows, DoctorVisits' age codes off in 10-23%, passed every metric.
    number_values_off_real_max: Threshold = Field(default_factory=lambda: _t(0.05, 0.15, "excess"))
    #: the share of number columns with fractions (in at least a tenth of the real values) written as whole numbers
    #: only: cigarette packs of 0.05-2.5 written 0 or 1 passed.
    fraction_columns_written_whole: Threshold = Field(default_factory=lambda: _t(0.0, 0.5))
    #: the worst share of synthetic rows breaking an ordering between time columns that the real rows keep, beyond the
    #: holdout's (death before recurrence in a third of the rows: what a clinician sees first).
    ordering_violations_max: Threshold = Field(default_factory=lambda: _t(0.02, 0.10, "excess"))
    #: the worst share of synthetic rows whose category disagrees with the number whose intervals it is in every real
    #: row (an age group from the age, a low-birthweight flag from the weight), beyond the holdout's.
    interval_rule_violations_max: Threshold = Field(default_factory=lambda: _t(0.02, 0.10, "excess"))
    #: the worst share of synthetic rows in which a family of 0/1 columns (edlevel1 ... edlevel4) breaks what every real
    #: row keeps (at most one of them 1, or exactly one): rwm1984's education dummies summed to other than 1 in 17%.
    dummy_family_violations_max: Threshold = Field(default_factory=lambda: _t(0.02, 0.10))
    #: the worst share of synthetic rows holding a pair of category values no real training row holds where chance
    #: would have put 10 rows (exclusive flags both yes, a recode against its source), beyond the holdout's.
    impossible_pair_share_max: Threshold = Field(default_factory=lambda: _t(0.02, 0.10, "excess"))
    #: a column present exactly where a category holds one value in every real row (an amount smoked where smoke is
    #: Yes), broken in synthetic rows: smoking's 3.8%, nhefs' death year without a death in 5.4%, and every missingness
    #: metric passed
    missing_rule_violations_max: Threshold = Field(default_factory=lambda: _t(0.02, 0.10))
    detection_auc: Threshold = Field(default_factory=lambda: _t(0.75, 0.90))
    utility_auroc_gap: Threshold = Field(default_factory=lambda: _t(0.05, 0.10))
    utility_accuracy_gap: Threshold = Field(default_factory=lambda: _t(0.05, 0.10))
    utility_r2_gap: Threshold = Field(default_factory=lambda: _t(0.10, 0.20))
    msssim_diversity_excess: Threshold = Field(default_factory=lambda: _t(0.05, 0.15, "excess"))
    #: judged on the AUC's one-sided 95% lower bound (see evaluation.image_realism).
    image_detection_auc: Threshold = Field(default_factory=lambda: _t(0.70, 0.85))
    #: worst tissue's median shift in real-IQR units, beyond what holdout volumes show.
    tissue_intensity_shift: Threshold = Field(default_factory=lambda: _t(0.5, 1.0, "excess"))
    translation_mae_hu: Threshold = Field(default_factory=lambda: _t(80.0, 150.0))
    translation_bone_dice: Threshold = Field(default_factory=lambda: _t(0.70, 0.50))
    referential_integrity: Threshold = Field(default_factory=lambda: _t(1.0, 1.0))
    children_per_parent_tvd: Threshold = Field(default_factory=lambda: _t(0.05, 0.15, "excess"))
    #: the worst difference, over a relation's category columns and its time, in the share of parents whose rows all
    #: differ or all agree, beyond the holdout's: survival's diabetic holds one left and one right eye per patient, and
    #: a synthetic folder with two left eyes in half its patients passed every relation metric.
    sibling_pattern_difference: Threshold = Field(default_factory=lambda: _t(0.10, 0.25, "excess"))
    parent_child_association_difference: Threshold = Field(default_factory=lambda: _t(0.10, 0.20))
    #: of the strong parent-child pairs (STRONG_ASSOCIATION in train and holdout), the share lost (under half the real)
    parent_child_strong_association_loss_share: Threshold = Field(default_factory=lambda: _t(0.25, 0.50))
    trajectory_difference: Threshold = Field(default_factory=lambda: _t(0.10, 0.25, "excess"))
    #: the worst difference in a child column's mean within-parent rank correlation with time, beyond the holdout's:
    #: Sitka's trees grow (0.99 real), 0.24-0.54 synthetic at epsilon 10, and trajectory_difference passed.
    within_parent_trend_difference: Threshold = Field(default_factory=lambda: _t(0.15, 0.30, "excess"))
    #: the worst share of parents holding two values of a column every real parent holds one of, beyond the holdout's.
    constant_column_violations: Threshold = Field(default_factory=lambda: _t(0.02, 0.10, "excess"))
    time_offset_tvd: Threshold = Field(default_factory=lambda: _t(0.10, 0.25, "excess"))
    interval_order_violations: Threshold = Field(default_factory=lambda: _t(0.01, 0.05, "excess"))
    #: the worst share of child rows outside their parent's time span (before ``after``; a start or an interval end after
    #: ``within``), beyond the real rows' share: mgus1's stops past the end of follow-up in 19% of synthetic rows passed.
    time_bound_violations: Threshold = Field(default_factory=lambda: _t(0.02, 0.10, "excess"))
    #: the worst share of parents whose rows go on after a terminal event (a category value that ends every real
    #: parent's rows: a death), beyond the holdout's: mstate::prothr's synthetic patients died up to 13 times, with
    #: intervals after death in 72 of 390, and every relation metric passed.
    terminal_event_violations: Threshold = Field(default_factory=lambda: _t(0.02, 0.10, "excess"))
    terminal_flag_violations: Threshold = Field(default_factory=lambda: _t(0.02, 0.10, "excess"))
    once_event_violations: Threshold = Field(default_factory=lambda: _t(0.02, 0.10, "excess"))
    #: parents whose rows go back in time as the file holds them, beyond the real share (wages' 92%, written unordered)
    time_order_violations: Threshold = Field(default_factory=lambda: _t(0.02, 0.10, "excess"))
    #: child rows between a schedule's real times (survey years, protocol weeks), beyond the holdout's share
    off_schedule_share: Threshold = Field(default_factory=lambda: _t(0.05, 0.15, "excess"))
    two_way_tvd: Threshold = Field(default_factory=lambda: _t(0.05, 0.15, "excess"))


class TabularEvalConfig(ConfigModel):
    """How the tabular evaluation samples and attacks.

    Attributes:
        max_categories: integer columns with at most this many distinct values are categorical.
        max_rows_fidelity: rows per set used for association and detection metrics (subsampled).
        detection_folds: cross-validation folds of the real-vs-synthetic classifier.
        mia_max_candidates: members and non-members scored by the membership attacks (each side).
        domias_k: neighbours of the k-NN density estimate in the DOMIAS-style attack.
        sensitive: columns attacked by attribute inference (default: the target, else up to 3
            categorical columns).
        quasi_identifiers: columns the attacker knows (default: every other column).
        singling_out_queries: synthetic rows turned into singling-out predicates (four times as many where the columns
            make at most 1,000 distinct subsets of ``singling_out_columns``: the cost follows the subsets).
        singling_out_columns: conditions per singling-out predicate.
        linkability_columns: the attacker's two datasets' columns ``[[a, ...], [b, ...]]`` for the
            linkability attack (default: a seeded random split of the columns in two halves).
        linkability_neighbors: nearest synthetic rows looked up per half (Anonymeter's n_neighbors).
        linkability_attacks: training rows (and as many holdout rows) attacked.
        max_holdout_overlap: share of holdout rows allowed to equal a training row beyond twice the share
            of training rows that equal another training row (natural duplicates); above it the split is
            refused as overlapping.
        chunk_rows: rows per block in the nearest-neighbour search (memory: chunk x n x 4 bytes).
        max_query_rows: synthetic (and holdout) rows whose nearest training/holdout rows are searched
            for the DCR and NNDR statistics: a seeded random sample when a set is larger (None: all).
            Holdout rows, the baseline, are at most as many as the synthetic queries and at least 5,000.
            The reference sets are always complete; exact copies are checked on every row.
    """

    max_categories: int = Field(10, ge=2)
    max_rows_fidelity: int = Field(20000, ge=100)
    detection_folds: int = Field(3, ge=2, le=10)
    mia_max_candidates: int = Field(5000, ge=10)
    domias_k: int = Field(20, ge=1)
    sensitive: list[str] | None = None
    quasi_identifiers: list[str] | None = None
    singling_out_queries: int = Field(2000, ge=10)
    singling_out_columns: int = Field(3, ge=1)
    linkability_columns: tuple[list[str], list[str]] | None = None
    linkability_neighbors: int = Field(1, ge=1)
    linkability_attacks: int = Field(2000, ge=10)
    max_holdout_overlap: float = Field(0.01, ge=0.0, le=1.0)
    chunk_rows: int = Field(256, ge=16)
    max_query_rows: int | None = Field(20000, ge=100)


class ImageEvalConfig(ConfigModel):
    """How volumes are compared.

    Attributes:
        grid: "resample" brings every volume to one grid (RAS, the first training volume's spacing
            and shape, or ``spacing``/``spatial_size``; copies and membership are also checked on the synthetic
            volumes' own grid where they share another one, the generator's); "refuse" raises when grids differ.
        spacing: common voxel size in mm (default: the first training volume's).
        spatial_size: common shape (default: the first training volume's, after resampling).
        feature_size: cubic size the feature network sees (volumes are resized to it).
        weights: local pretrained weights for the feature network (a MedicalNet-style ResNet-10
            ``.pth``); None uses the documented fixed, seeded random network.
        feature_seed: seed of that random network.
        msssim_max_pairs: pairs per set used for MS-SSIM diversity.
        histogram_bins: bins of the intensity histograms.
        detection_folds: cross-validation folds of the real-vs-synthetic 3D CNN detector.
        detection_patch: cubic patch size the detector sees (at the common grid's resolution).
        detection_steps: detector training steps per fold (CPU cost grows with it).
        detection_baseline: also run the detector on training vs holdout volumes (the real-vs-real baseline).
        check_modality: refuse synthetic volumes whose intensities do not look like the training
            modality (e.g. MR given as synthetic CT); switch off for unusual but valid data.
    """

    grid: Literal["resample", "refuse"] = "resample"
    spacing: tuple[float, float, float] | None = None
    spatial_size: tuple[int, int, int] | None = None
    feature_size: int = Field(48, ge=16)
    weights: str | None = None
    feature_seed: int = 0
    msssim_max_pairs: int = Field(30, ge=1)
    histogram_bins: int = Field(128, ge=8)
    detection_folds: int = Field(3, ge=2, le=10)
    detection_patch: int = Field(16, ge=4)
    detection_steps: int = Field(200, ge=1)
    detection_baseline: bool = True
    check_modality: bool = True


class TranslationEvalConfig(ConfigModel):
    """MR->CT translation scoring (SynthRAD conventions).

    Attributes:
        hu_range: HU clipping range before every metric.
        body_threshold_hu: when no mask is given, the body is reference CT above this value.
        bone_threshold_hu: bone for the Dice score is HU above this, in prediction and reference.
        tissue_names: label value -> tissue name for per-tissue MAE; by default read from
            ``tissues.json`` in the labels folder (``{"0": "air", ...}``, written with every label
            folder medsynth makes), else ``label_<k>``.
        hu_class_edges: without label maps, tissues come from the reference CT by HU: these edges
            split it into the ``hu_class_names`` classes (one more name than edges).
        hu_class_names: names of those HU classes, lowest first.
    """

    hu_range: tuple[float, float] = (-1024.0, 3000.0)
    body_threshold_hu: float = -500.0
    bone_threshold_hu: float = 250.0
    tissue_names: dict[int, str] | None = None
    hu_class_edges: tuple[float, ...] = (-400.0, 250.0)
    hu_class_names: tuple[str, ...] = ("air", "soft_tissue", "bone")

    @model_validator(mode="after")
    def _classes(self) -> TranslationEvalConfig:
        edges, names = tuple(self.hu_class_edges), tuple(self.hu_class_names)
        if len(names) != len(edges) + 1:
            raise ValueError(f"hu_class_names {list(names)} needs one name more than hu_class_edges {list(edges)}")
        if any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError(f"hu_class_edges {list(edges)} must increase")
        if len(set(names)) != len(names):
            raise ValueError(f"hu_class_names {list(names)} must be distinct")
        return self


class EvaluationConfig(ConfigModel):
    """Everything an evaluation or audit needs besides its inputs.

    Attributes:
        seed: seeds every sampled subset, split and classifier, so a report is reproducible.
    """

    kind: Literal["evaluation"] = "evaluation"
    seed: int = Field(0, ge=0)
    metrics: list[str] | None = Field(None, description="metric names to run (default: all that apply)")
    privacy: PrivacyThresholds = Field(default_factory=PrivacyThresholds)
    fidelity: FidelityThresholds = Field(default_factory=FidelityThresholds)
    tabular: TabularEvalConfig = Field(default_factory=TabularEvalConfig)
    images: ImageEvalConfig = Field(default_factory=ImageEvalConfig)
    translation: TranslationEvalConfig = Field(default_factory=TranslationEvalConfig)
    min_samples_for_verdict: int = Field(
        10, ge=1, description="attacks on fewer members/non-members than this report a value but no verdict"
    )

    @model_validator(mode="after")
    def _known_metrics(self) -> EvaluationConfig:
        if self.metrics is not None:
            from medsynth.evaluation.registry import METRICS

            unknown = [m for m in self.metrics if m not in METRICS]
            if unknown:
                raise ValueError(f"unknown metrics {unknown}; known: {sorted(METRICS)}")
        return self


__all__ = [
    "EvaluationConfig",
    "FidelityThresholds",
    "ImageEvalConfig",
    "PrivacyThresholds",
    "TabularEvalConfig",
    "Threshold",
    "TranslationEvalConfig",
]
