"""The evaluation report: metric results grouped in sections, verdicts, and its JSON form.

``report.json`` follows ``report.schema.json`` (JSON Schema draft 2020-12, shipped beside this file
and documented in the README). Its contract: every metric has a stable ``name``, a ``value``, a
``direction``, a ``baseline``, the ``threshold`` that judged it and a ``verdict``; each section has
a verdict (the worst of its judged metrics), and the report a top-level ``verdict`` (the worst of its
sections; "review" when nothing could be judged). A pipeline gates on ``verdict``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from medsynth.core.errors import DataValidationError
from medsynth.evaluation.results import MetricResult, _jsonable, worst

SCHEMA_VERSION = "1.0"
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
#: What each top-level verdict asks of the reader (printed by the CLI, the demo and :meth:`Report.summary`).
VERDICT_MEANING = {
    "pass": "every judged metric is within its limits",
    "review": "a person should look at the metrics marked REVIEW before using or releasing the data",
    "fail": "at least one metric is past its fail limit: do not use or release the data as it is",
}
SECTION_TITLES = {
    "privacy": "Privacy",
    "fidelity": "Fidelity",
    "utility": "Utility",
    "translation": "Translation accuracy",
    "relations": "Relations between tables",
}


#: Names of the membership-inference attacks' metrics (distance, DOMIAS): a privacy section none of them could judge
#: is at least "review" where no DP guarantee bounds the risk.
MEMBERSHIP_PREFIX = "mia_"


@dataclass
class Report:
    """Everything one evaluation produced.

    Attributes:
        kind: "tabular", "multitable" (a folder of related tables), "images" or "translation".
        mode: "evaluate" (every section) or "audit" (privacy only).
        results: the metric results, in order (:attr:`metrics` shows them as a DataFrame).
        inputs: what was judged: role, path, fingerprint, size.
        config: the resolved EvaluationConfig as a dict, and its hash.
        notes: plain-language remarks (what was skipped and why, sampling, the feature network...).
        privacy_ledger: the producer's privacy ledger, when a run directory was given.
        figures: name -> base64 PNG for the HTML (not in JSON).
        tables: extra tables for the HTML (not in JSON).
    """

    kind: Literal["tabular", "multitable", "images", "translation"]
    mode: Literal["evaluate", "audit"]
    results: list[MetricResult]
    inputs: list[dict[str, Any]]
    config: dict[str, Any]
    config_hash: str
    notes: list[str] = field(default_factory=list)
    privacy_ledger: dict[str, Any] | None = None
    seconds: float = 0.0
    figures: dict[str, str] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))

    def metric(self, name: str) -> MetricResult:
        """The result called ``name`` (KeyError when absent)."""
        for m in self.results:
            if m.name == name:
                return m
        raise KeyError(f"no metric '{name}' in this report; have {[m.name for m in self.results]}")

    @property
    def metrics(self) -> Any:
        """The metrics as a pandas DataFrame indexed by name, one row per metric.

        Columns: section, value, baseline, judged_value (what the threshold compared), verdict, review_at
        and fail_at (the threshold; NaN for info values), on ("value" or "excess" over the baseline),
        direction, description and note.
        """
        import pandas as pd

        rows = []
        for m in self.results:
            t = m.threshold
            rows.append({"name": m.name, "section": m.section, "value": m.value, "baseline": m.baseline,
                         "judged_value": m.judged_value, "verdict": m.verdict,
                         "review_at": None if t is None else t.review, "fail_at": None if t is None else t.fail,
                         "on": None if t is None else t.on, "direction": m.direction, "description": m.description,
                         "note": m.note})
        cols = ["name", "section", "value", "baseline", "judged_value", "verdict", "review_at", "fail_at", "on",
                "direction", "description", "note"]
        frame = pd.DataFrame(rows, columns=cols).set_index("name")
        for c in ("value", "baseline", "judged_value", "review_at", "fail_at"):
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
        return frame

    def figure_list(self) -> list[dict[str, str]]:
        """The report's figures (section, title, base64 PNG, caption), built on first use and kept.

        Tabular figures are drawn here rather than by the evaluation, so an audit that is never shown
        costs no plotting; :meth:`save` and :meth:`_repr_html_` both use this list.
        """
        figs = self.figures.get("list")
        if not isinstance(figs, list):
            figs = []
            if self.kind == "tabular":
                from medsynth.evaluation.html import tabular_figures

                figs = tabular_figures(self)
            self.figures["list"] = figs
        return figs

    def save(self, out: str | Path) -> dict[str, Path]:
        """Write ``out/report.json`` (validated against the schema) and the self-contained ``out/report.html``.

        Returns:
            {"json": path, "html": path}.

        Raises:
            DataValidationError: ``out`` is a file.
        """
        from medsynth.evaluation.html import write_report

        return write_report(self, out)

    def summary(self) -> str:
        """A few plain-text lines: the verdict, each section's verdict and the metrics that are not pass."""
        lines = [f"{self.kind} report ({self.mode}): verdict {self.verdict.upper()} - {VERDICT_MEANING[self.verdict]}"]
        for sec in self.sections.values():
            lines.append(f"  {sec['title']:<26} {sec['verdict'].upper()}" + (f" ({sec['reason']})" if sec.get("reason") else ""))
        for m in self.results:
            if m.verdict in ("review", "fail"):
                lines.append(f"  {m.verdict.upper():<6} {m.name} = {_short(m.value)}: {m.description}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        judged = sum(m.verdict in ("pass", "review", "fail") for m in self.results)
        return (f"Report(kind={self.kind!r}, mode={self.mode!r}, verdict={self.verdict!r}, "
                f"metrics={len(self.results)} ({judged} judged))")

    def _repr_html_(self) -> str:
        """Jupyter's inline view: verdicts, the metrics table and the figures (every data value escaped)."""
        from medsynth.evaluation.html import render_inline

        return render_inline(self)

    @property
    def sections(self) -> dict[str, dict[str, Any]]:
        """Each section's metric names and verdict (the worst of its metrics)."""
        out: dict[str, dict[str, Any]] = {}
        for m in self.results:
            out.setdefault(m.section, {"metrics": []})["metrics"].append(m.name)
        for name, sec in out.items():
            verdicts = [m.verdict for m in self.results if m.section == name]
            judged = worst(verdicts)
            sec["verdict"] = judged or ("info" if "info" in verdicts else "skipped")
            sec["title"] = SECTION_TITLES.get(name, name.replace("_", " ").capitalize())
            attacks = [m.verdict for m in self.results if m.section == name and m.name.startswith(MEMBERSHIP_PREFIX)]
            if name == "privacy" and attacks and not worst(attacks) and (self.privacy_ledger or {}).get("private") is not True:
                # no membership attack could be judged (nearest synthetic rows a few distinct ones, too few patients)
                # and no DP guarantee bounds them: the rest (copies, singling out) cannot pass it alone (wages'
                # folder passed `audit --fail-on review` on nndr and exact copies while every mia_* was info)
                sec["verdict"] = worst([sec["verdict"] if sec["verdict"] in ("pass", "review", "fail") else "pass",
                                        "review"]) or "review"
                sec["reason"] = ("no membership-inference attack reached a verdict and no DP guarantee (a DP run's "
                                 "--run-dir) bounds the risk: a person should look")
        return out

    @property
    def verdict(self) -> Literal["pass", "review", "fail"]:
        """Worst section verdict; at least "review" when nothing, or no privacy metric, could be judged."""
        sections = self.sections
        top = worst([s["verdict"] for s in sections.values()]) or "review"
        privacy = sections.get("privacy")
        if privacy is not None and privacy["verdict"] not in ("pass", "review", "fail"):
            top = worst([top, "review"]) or "review"
        return top

    def to_dict(self) -> dict[str, Any]:
        """The report as ``report.json`` holds it (schema version, verdicts, metrics, inputs, context)."""
        from medsynth import __version__

        return _jsonable({
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "mode": self.mode,
            "verdict": self.verdict,
            "sections": self.sections,
            "metrics": [m.to_dict() for m in self.results],
            "inputs": self.inputs,
            "privacy_ledger": self.privacy_ledger,
            "notes": self.notes,
            "medsynth_version": __version__,
            "config_hash": self.config_hash,
            "config": self.config,
            "created": self.created,
            "seconds": round(self.seconds, 2),
        })


def _short(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3g}"


def load_schema() -> dict[str, Any]:
    """The JSON Schema of report.json."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate_report(data: dict[str, Any]) -> None:
    """Check a report.json dict against the schema.

    Raises:
        DataValidationError: listing every violation (path and message).
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise DataValidationError(
            [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors], context="report.json"
        )


def fingerprint_input(path: str | Path) -> str:
    """SHA-256 of a file, or of a folder's files (relative names and contents, in sorted order)."""
    from medsynth.core.files import fingerprint_file

    p = Path(path)
    if p.is_file():
        return fingerprint_file(p)
    h = hashlib.sha256()
    for f in sorted(x for x in p.rglob("*") if x.is_file()):
        h.update(str(f.relative_to(p)).encode())
        h.update(fingerprint_file(f).encode())
    return h.hexdigest()


#: Run kinds that train without differential privacy and write no ledger.
IMAGE_RUN_KINDS = ("vae3d", "gan3d", "ldm3d", "mr2ct_cyclegan")


def read_privacy_ledger(run_dir: str | Path) -> dict[str, Any]:
    """The producer's ``privacy_ledger.json`` from a medsynth run directory (or the file itself).

    Raises:
        DataValidationError: the folder has no ledger, or it is not a JSON object.
    """
    p = Path(run_dir)
    f = p / "privacy_ledger.json" if p.is_dir() else p
    from medsynth.core.runs import run_kind

    kind = run_kind(p) if p.is_dir() else None
    if not f.is_file() and kind in IMAGE_RUN_KINDS:  # (image and translation runs train without DP and write no ledger:
        # --run-dir on one was refused as if it were no run at all)
        return {"private": False, "note": f"a medsynth {kind} run: trained without differential privacy (no ledger)"}
    if not f.is_file():
        raise DataValidationError(
            f"'{p}' holds no privacy_ledger.json; pass the run directory of the synthesizer that produced the "
            "synthetic data (non-private runs write a ledger with private: false), or leave out --run-dir"
        )
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataValidationError(f"privacy ledger '{f}' is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DataValidationError(f"privacy ledger '{f}' must be a JSON object, not {type(data).__name__}")
    return data


def ledger_notes(ledger: dict[str, Any] | None) -> list[str]:
    """Plain-language lines about the producer's privacy guarantee."""
    if ledger is None:
        return ["No producer run directory was given: the synthetic data's formal privacy guarantee (if any) is unknown; "
                "this report measures empirical leakage only."]
    if not ledger.get("private"):
        return ["The producer's privacy ledger says the synthetic data was NOT generated with differential privacy: "
                "only the empirical attacks below speak to its privacy."]
    eps, delta = ledger.get("total_epsilon"), ledger.get("total_delta")
    return [f"The producer's privacy ledger reports differential privacy with total epsilon = {eps} and delta = {delta} "
            "(a formal bound, complementing the empirical attacks below)."]


__all__ = ["SCHEMA_PATH", "SCHEMA_VERSION", "Report", "fingerprint_input", "ledger_notes", "load_schema", "read_privacy_ledger", "validate_report"]
