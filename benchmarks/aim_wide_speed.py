"""DP-AIM fit time on a table of the size issue 11 names: 6,400 rows x 47 columns (target < 60 s on 2 cores).

The 47-column PBC-visits table of ``tabular_data.py`` has 1,367 training rows; its rows are drawn with
replacement up to 6,400 (the timing depends on the columns, their domains and the row count, not on
whether rows repeat). Public bounds with ``target: true`` on ``status``, as in ``benchmarks/tabular.py``;
epsilon 1, two fits. Reports wall seconds and the process's CPU seconds (the machine is shared, so wall
time is an upper bound for an idle one). Writes ``results/tabular_aim_wide_speed.json``.

    python benchmarks/aim_wide_speed.py
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> int:
    import pandas as pd
    import tabular as bench
    import tabular_data as data
    import torch

    from medsynth.core.files import write_json
    from medsynth.core.registry import SYNTHESIZERS, resolve
    from medsynth.tabular.schema import infer_schema

    torch.set_num_threads(1)
    train, test, target = data.wide()
    big = train.sample(6400, replace=True, random_state=0).reset_index(drop=True)
    schema = bench._with_target(infer_schema(pd.concat([train, test], ignore_index=True), rules=False), target, public=True)
    rows = []
    for seed in (0, 1):
        m = resolve(SYNTHESIZERS, "dp-aim")({}, privacy={"epsilon": 1.0, "delta": 1e-5}, seed=seed, device="cpu")
        load0 = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        m.fit(big, schema)
        row = {"seed": seed, "rows": len(big), "columns": big.shape[1], "fit_seconds": round(time.perf_counter() - t0, 2),
               "fit_cpu_seconds": round(time.process_time() - c0, 2), "load_average_1min_before": round(load0, 2),
               "load_average_1min_after": round(os.getloadavg()[0], 2), "aim": m.meta.get("aim")}
        print(json.dumps(row), flush=True)
        rows.append(row)
    write_json(HERE / "results" / "tabular_aim_wide_speed.json",
               {"protocol": __doc__.split("\n\n")[1].replace("\n", " "), "machine": bench.machine(),
                "target": {"fit_seconds": 60, "cores": 2}, "shared_machine": "yes: 2 cores shared with other sessions",
                "results": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
