"""report.html: one self-contained page (inline CSS, figures as base64 PNG), and writing a report.

Rendered with Jinja2 with autoescaping on, so every value that comes from the data (column names,
categories, file names, the privacy ledger) is HTML-escaped: a category named ``<script>`` shows as
text. Nothing is loaded from the network.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from medsynth.core.errors import DataValidationError
from medsynth.core.files import write_json, write_text
from medsynth.evaluation.report import Report, validate_report

VERDICT_TEXT = {
    "pass": "PASS",
    "review": "REVIEW",
    "fail": "FAIL",
    "info": "INFO",
    "skipped": "SKIPPED",
}


def _figure(section: str, title: str, png: str, caption: str) -> dict[str, str]:
    return {"section": section, "title": title, "png": png, "caption": caption}


def tabular_figures(report: Report) -> list[dict[str, str]]:
    """Marginals, association heatmaps, DCR and attack-score histograms, ROC curves."""
    from medsynth.evaluation import plots

    data = report.tables.get("data")
    figs: list[dict[str, str]] = []
    names = {m.name: m for m in report.results}
    if data is not None and report.mode == "evaluate":
        figs.append(_figure("fidelity", "Marginal distributions", plots.marginals(data.train, data.synthetic, data.types),
                            "Each column, real training rows (blue) vs synthetic rows (red); the 10 most frequent categories."))
    assoc = names.get("association_difference_mean")
    if assoc is not None and assoc.artifacts:
        figs.append(_figure("fidelity", "Associations between columns", plots.heatmaps(assoc.artifacts["real"], assoc.artifacts["synthetic"]),
                            "Pairwise association (correlation / Cramer's V / correlation ratio), real | synthetic | absolute difference."))
    dcr = names.get("dcr_share_train")
    if dcr is not None and dcr.artifacts:
        a = dcr.artifacts
        figs.append(_figure("privacy", "Distance to closest record", plots.histograms(
            {"synthetic to train": a["syn_to_train"], "synthetic to holdout": a["syn_to_holdout"], "holdout to train": a["holdout_to_train"]},
            title="Distance to the closest real row", xlabel="distance (mixed-type encoding)", colors=[plots.SYN, plots.REAL, plots.HOLD]),
            "A spike near 0 for 'synthetic to train' that 'holdout to train' lacks means synthetic rows copy training rows."))
    curves = {}
    for attack in ("distance", "domias"):
        m = names.get(f"mia_{attack}_auc")
        if m is None or not m.artifacts:
            continue
        a = m.artifacts
        curves[attack] = (np.asarray(a["fpr"]), np.asarray(a["tpr"]), float(m.value or 0.5))
        figs.append(_figure("privacy", f"Membership inference scores ({attack})", plots.histograms(
            {"members (train)": a["scores_members"], "non-members (holdout)": a["scores_non_members"]},
            title=f"{attack} attack scores", xlabel="attack score (higher = 'was in training data')", colors=[plots.SYN, plots.REAL]),
            "Overlapping histograms mean the attack cannot tell members from non-members."))
    if curves:
        figs.append(_figure("privacy", "ROC curves of the membership attacks", plots.roc_curves(curves),
                            "The dashed line is chance; the log-scale panel shows the low false-positive regime that matters for individuals."))
    return figs


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
            return f"{x:.3e}"
        return f"{x:.4g}"
    return str(x)


def _threshold(m: dict[str, Any]) -> str:
    t = m.get("threshold")
    if not t:
        return "-"
    op = ">" if m["direction"] == "minimize" else "<"
    what = "value - baseline" if t["on"] == "excess" else "value"
    return f"review if {what} {op} {_fmt(t['review'])}; fail if {op} {_fmt(t['fail'])}"


def render_html(report: Report, data: dict[str, Any] | None = None) -> str:
    """The report page as a string (every data-derived value escaped)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("medsynth.evaluation", "templates"), autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["fmt"] = _fmt
    env.filters["threshold"] = _threshold
    env.filters["pretty"] = lambda obj: json.dumps(obj, indent=2, ensure_ascii=False)
    data = data or report.to_dict()
    figures = report.figures.get("list") if isinstance(report.figures.get("list"), list) else []
    return env.get_template("report.html.j2").render(
        r=data, figures=figures, verdict_text=VERDICT_TEXT, tables={k: v for k, v in report.tables.items() if k.startswith("html_")}
    )


def write_report(report: Report, out: str | Path) -> dict[str, Path]:
    """Write ``out/report.json`` (validated against the schema) and ``out/report.html``.

    Each file is written atomically (a temporary file renamed into place); existing reports in
    ``out`` are replaced.

    Returns:
        {"json": path, "html": path}.
    """
    report.figure_list()
    data = report.to_dict()
    validate_report(data)
    html = render_html(report, data)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataValidationError(f"--out '{out}' is a file; give a folder for report.json and report.html")
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "report.json", data)
    write_text(out / "report.html", html)
    return {"json": out / "report.json", "html": out / "report.html"}


_COLOURS = {"pass": "#1a7f37", "review": "#9a6700", "fail": "#cf222e", "info": "#57606a", "skipped": "#8c959f"}


def _badge(verdict: str) -> str:
    colour = _COLOURS.get(verdict, "#57606a")
    return (f'<span style="background:{colour};color:#fff;border-radius:3px;padding:1px 6px;font-size:0.85em">'
            f"{escape(VERDICT_TEXT.get(verdict, verdict))}</span>")


def render_inline(report: Report) -> str:
    """A compact HTML view for Jupyter (``Report._repr_html_``): the verdict and what it means, each
    section's verdict, the metrics table and the figures folded under a summary line.

    Inline styles only (a notebook's page CSS is left alone); every value from the data is escaped.
    """
    from medsynth.evaluation.report import VERDICT_MEANING

    top = report.verdict
    parts = [f'<div class="medsynth-report"><p><b>medsynth {escape(report.kind)} report ({escape(report.mode)})</b> '
             f"{_badge(top)} {escape(VERDICT_MEANING[top])}</p>"]
    parts.append('<table style="border-collapse:collapse"><tr><th style="text-align:left">section</th>'
                 '<th style="text-align:left">verdict</th></tr>')
    for sec in report.sections.values():
        why = f" {escape(sec['reason'])}" if sec.get("reason") else ""
        parts.append(f"<tr><td>{escape(sec['title'])}</td><td>{_badge(sec['verdict'])}{why}</td></tr>")
    parts.append("</table>")
    head = ["metric", "value", "baseline", "review / fail at", "verdict", "what it measures"]
    parts.append('<table style="border-collapse:collapse;font-size:0.9em"><tr>'
                 + "".join(f'<th style="text-align:left;padding:2px 8px">{h}</th>' for h in head) + "</tr>")
    for m in report.results:
        t = m.threshold
        limits = "-" if t is None else f"{_fmt(t.review)} / {_fmt(t.fail)}" + (" (excess)" if t.on == "excess" else "")
        cells = [escape(m.name), escape(_fmt(m.value)), escape(_fmt(m.baseline)), escape(limits), _badge(m.verdict),
                 escape(m.description + (f" ({m.note})" if m.note else ""))]
        parts.append("<tr>" + "".join(f'<td style="padding:2px 8px;text-align:left;vertical-align:top">{c}</td>'
                                      for c in cells) + "</tr>")
    parts.append("</table>")
    figs = report.figure_list()
    if figs:
        parts.append(f"<details><summary>{len(figs)} figure(s)</summary>")
        for f in figs:
            parts.append(f"<p><b>{escape(f['title'])}</b><br><img style=\"max-width:100%\" "
                         f"src=\"data:image/png;base64,{escape(f['png'])}\"><br><i>{escape(f['caption'])}</i></p>")
        parts.append("</details>")
    if report.notes:
        parts.append("<ul>" + "".join(f"<li>{escape(n)}</li>" for n in report.notes) + "</ul>")
    parts.append("</div>")
    return "\n".join(parts)


__all__ = ["render_html", "render_inline", "tabular_figures", "write_report"]
