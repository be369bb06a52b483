"""DP date ranges: located on powers of two of days since 1970 (before) and on the calendar (``locate_date``).

Writes ``benchmarks/results/date_domains.json``: for simulated date columns (uniform over a span starting at several
eras, and the follow-up ends of survival's rhDNase shape: 450 dates in half a year), 20 noise draws each at a fixed
stage-1/stage-2 budget, the released range's width over the data's and the share of dates outside it (clipped).
Run from a checkout: ``PYTHONPATH=. python benchmarks/date_domains.py``.
"""

from __future__ import annotations

import json
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

from medsynth.privacy.locate import locate, locate_date, refine

OUT = Path(__file__).parent / "results" / "date_domains.json"
DRAWS = 20
CASES = [(n, rho, years) for n, rho, years in [(450, 6e-4, 0.5), (2000, 6e-4, 4.0), (3000, 6e-4, 11.6), (600, 2e-4, 13.0)]]
ERAS = ["1992-01-01", "2006-03-01", "2015-06-01", "2150-01-01"]


def measure(x: np.ndarray, rho: float, calendar: bool) -> dict[str, float]:
    clips, widths, refused = [], [], 0
    for seed in range(DRAWS):
        g = np.random.default_rng(seed)
        loc = locate_date(x, rho, g) if calendar else locate(x, rho, g, codes=False)
        try:
            res = refine(loc, 2.3 * rho, g)
        except Exception:  # noqa: BLE001 - nothing located: counted
            refused += 1
            continue
        clips.append(float(np.mean((x < res.low) | (x > res.high))))
        widths.append(float((res.high - res.low) / (x.max() - x.min())))
    return {"clipped_mean": round(float(np.mean(clips)), 4), "clipped_max": round(float(np.max(clips)), 4),
            "width_over_data_median": round(float(np.median(widths)), 2), "width_over_data_max": round(float(np.max(widths)), 1),
            "refused": refused}


def main() -> int:
    t0 = time.perf_counter()
    rows = []
    for era in ERAS:
        for n, rho, years in CASES:
            x = (pd.Timestamp(era) - pd.Timestamp("1970-01-01")).days + np.random.default_rng(1).uniform(0, 365.25 * years, n)
            rows.append({"start": era, "rows": n, "years": years, "rho_stage1": rho, "rho_stage2": 2.3 * rho,
                         "days_since_1970": measure(x, rho, False), "calendar": measure(x, rho, True)})
    rs = np.random.default_rng(0)
    days = pd.Timestamp("1992-03-20") + pd.to_timedelta(rs.gamma(2, 45, 450).clip(0, 180), unit="D")
    x = ((days - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(float)
    rows.append({"start": "1992-03-20", "rows": 450, "years": 0.5, "shape": "rhDNase follow-up ends (gamma)",
                 "rho_stage1": 6e-4, "rho_stage2": 1.4e-3, "days_since_1970": measure(x, 6e-4, False), "calendar": measure(x, 6e-4, True)})
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    doc = {"what": __doc__.splitlines()[0], "draws": DRAWS, "results": rows, "seconds": round(time.perf_counter() - t0, 1),
           "machine": f"{platform.machine()}, 2 shared CPU cores", "commit": commit}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    for r in rows:
        print(r["start"], r["rows"], r["years"], "before", r["days_since_1970"], "calendar", r["calendar"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
