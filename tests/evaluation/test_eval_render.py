"""report.html renders in headless Chromium, and every figure in it is an inline image that loads."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from medsynth.evaluation import EvaluationConfig, evaluate_tabular, write_report

CHROMIUM = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH (Debian: apt-get install chromium; .ci/run installs it)")
def test_report_renders_in_chromium(small_tables, tmp_path) -> None:
    from PIL import Image

    t = small_tables
    cfg = EvaluationConfig(metrics=["marginals", "associations", "dcr", "mia_distance", "mia_domias"])
    html = write_report(evaluate_tabular(t["train"], t["holdout"], t["copied"], config=cfg), tmp_path / "rep")["html"]
    url = html.resolve().as_uri()
    png = tmp_path / "shot.png"
    run = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}", "--window-size=1280,2000", url],
                         capture_output=True, text=True, timeout=120)
    assert png.is_file(), run.stderr[-2000:]
    img = np.asarray(Image.open(png).convert("RGB"))
    assert img.shape[:2] == (2000, 1280)
    assert img.std() > 20 and len(np.unique(img.reshape(-1, 3), axis=0)) > 200  # text, badges and plots, not a blank page
    # The rendered DOM: every <img> carries an inline PNG, and the browser decoded each one (naturalWidth > 0).
    probe = tmp_path / "probe.html"
    probe.write_text(html.read_text().replace(
        "</body>",
        "<script>window.onload=function(){var s=[].map.call(document.images,function(i){return i.src.slice(0,22)+':'+i.naturalWidth});"
        "document.title='IMGS '+s.join(' ');};</script></body>").replace("default-src 'none'", "default-src 'none'; script-src 'unsafe-inline'"))
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile2'}", "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    title = dom.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith("IMGS "), title[:200]
    entries = title.split()[1:]
    assert len(entries) >= 4
    for e in entries:
        src, width = e.rsplit(":", 1)
        assert src == "data:image/png;base64," and int(width) > 100, e
