"""The demo's DP tabular step: DP-MST at epsilon 1 on a clinical table that ships with scikit-learn.

The table is the Wisconsin diagnostic breast cancer data (569 patients, 30 measurements, diagnosis),
from ``sklearn.datasets.load_breast_cancer`` (offline). Its published description lists every
feature's range (read from that text, not from the rows), so the demo declares the bounds public,
rounded outwards to one significant digit (see :func:`public_schema`); the categories of the diagnosis are public too. The step splits 70/30 (train/holdout, both written for the evaluation
step's audit), fits DP-MST on the train part, samples as many synthetic rows, and writes the run
directory with its ``privacy_ledger.json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from medsynth.demo import DemoContext

TARGET = "diagnosis"


def clinical_table():  # -> pd.DataFrame
    """The breast cancer table with a readable target column (``diagnosis``: malignant/benign)."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame = frame.rename(columns=lambda c: c.replace(" ", "_"))
    frame[TARGET] = frame.pop("target").map({0: "malignant", 1: "benign"})
    return frame


def published_bounds() -> dict[str, tuple[float, float]]:
    """Each feature's (min, max) as printed in the dataset's published description (its DESCR text).

    These are public: they are part of the dataset's documentation, read here from the text, never
    computed from the rows the model is fitted on.
    """
    import re

    from sklearn.datasets import load_breast_cancer

    from medsynth.core.errors import DataValidationError

    kinds = {"mean": "mean_{}", "standard error": "{}_error", "worst": "worst_{}"}
    bounds = {}
    for feature, kind, lo, hi in re.findall(r"^([a-z ]+) \((mean|standard error|worst)\):\s+([\d.]+)\s+([\d.]+)\s*$",
                                            load_breast_cancer().DESCR, flags=re.M):
        bounds[kinds[kind].format(feature.strip().replace(" ", "_"))] = (float(lo), float(hi))
    if len(bounds) != 30:
        raise DataValidationError(f"expected 30 published feature ranges in the breast cancer description, found {len(bounds)}")
    return bounds


def _round_out(value: float, up: bool) -> float:
    """``value`` rounded outwards to one significant digit (2501 -> 3000 up, 143.5 -> 100 down)."""
    import math

    if value <= 0:
        return 0.0
    scale = 10.0 ** math.floor(math.log10(value))
    return (math.ceil if up else math.floor)(value / scale) * scale


def public_schema(df):  # -> TableSchema
    """Published ranges rounded outwards to one significant digit, no missing values (the description
    says so), public categories.

    The description's ranges are the extremes of the very rows the demo trains on, so declaring them
    (or them widened by a fixed fraction, which can be undone) as bounds would release each extreme
    patient's value exactly. Rounded outwards to one significant digit, the bounds say only the order
    of magnitude of each feature: the kind of range a clinician would declare from domain knowledge."""
    from medsynth.core.errors import DataValidationError
    from medsynth.tabular.schema import ColumnSchema, TableSchema

    bounds = published_bounds()
    missing = [c for c in df.columns if c != TARGET and c not in bounds]
    if missing:
        raise DataValidationError(f"no published range for columns {missing}")
    cols = []
    for name in df.columns:
        if name == TARGET:
            cols.append(ColumnSchema(name=name, type="categorical", categories=["benign", "malignant"], public=True))
            continue
        lo, hi = bounds[name]
        cols.append(ColumnSchema(name=name, type="continuous", min=_round_out(lo, up=False), max=_round_out(hi, up=True),
                                 public=True))
    return TableSchema(columns=cols)


def step_tabular(ctx: DemoContext) -> dict[str, Any]:
    """DP synthetic EHR: DP-MST (epsilon 1) on a clinical table, with its privacy ledger."""
    from sklearn.model_selection import train_test_split

    from medsynth.io.tables import write_table
    from medsynth.tabular.config import PrivacyConfig, TabularConfig
    from medsynth.tabular.run import fit_run

    out = ctx.out / "tabular"
    df = clinical_table()
    train, holdout = train_test_split(df, test_size=0.3, random_state=ctx.config.seed, stratify=df[TARGET])
    train, holdout = train.reset_index(drop=True), holdout.reset_index(drop=True)
    write_table(train, out / "train.csv")
    write_table(holdout, out / "holdout.csv")
    schema = public_schema(df)
    schema.save(out / "schema.yaml")
    cfg = TabularConfig(model="dp-mst", privacy=PrivacyConfig(epsilon=1.0, delta=1e-5), seed=ctx.config.seed,
                        params={"bins": 8})
    run, model = fit_run(out / "train.csv", out / "run", cfg, schema=schema, force=True, command="medsynth demo (tabular)")
    synthetic = model.sample(len(train), seed=ctx.config.seed)
    write_table(synthetic, out / "synthetic.csv")
    rep = model.privacy_spent()
    return {
        "model": "dp-mst",
        "train_csv": str(out / "train.csv"),
        "holdout_csv": str(out / "holdout.csv"),
        "synthetic_csv": str(out / "synthetic.csv"),
        "run_dir": str(run.path),
        "privacy_ledger": str(run.path / "privacy_ledger.json"),
        "target": TARGET,
        "rows": len(synthetic),
        "epsilon": round(rep.epsilon, 4),
        "delta": rep.delta,
    }


__all__ = ["step_tabular"]
