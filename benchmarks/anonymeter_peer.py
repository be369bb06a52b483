"""Anonymeter's linkability attack on CSV files: the peer side of ``anonymeter_compare.py``.

Runs in Anonymeter's OWN venv (it pins pandas/numba versions the project does not use) and never
imports medsynth::

    python3 -m venv /work/venv-anonymeter && /work/venv-anonymeter/bin/pip install 'anonymeter==1.*'
    /work/venv-anonymeter/bin/python benchmarks/anonymeter_peer.py --train T.csv --control H.csv \
        --synthetic S.csv --aux-a age,sex --aux-b kappa,lambda --attacks 1000 --neighbors 1 --repeats 3

Prints one JSON object: Anonymeter's version, and per repeat the risk (value and 95% CI), the attack,
control and baseline success rates and the seconds taken. Anonymeter draws its targets with an
unseeded generator, so repeats differ.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib import metadata


def main(argv: list[str] | None = None) -> int:
    import pandas as pd
    from anonymeter.evaluators import LinkabilityEvaluator

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--train", "--control", "--synthetic", "--aux-a", "--aux-b"):
        ap.add_argument(name, required=True)
    ap.add_argument("--attacks", type=int, default=1000)
    ap.add_argument("--neighbors", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    ori, control, syn = (pd.read_csv(p) for p in (args.train, args.control, args.synthetic))
    aux = (args.aux_a.split(","), args.aux_b.split(","))
    runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        ev = LinkabilityEvaluator(ori=ori, syn=syn, control=control, aux_cols=aux, n_attacks=args.attacks,
                                  n_neighbors=args.neighbors)
        ev.evaluate(n_jobs=1)
        res = ev.results()
        risk = ev.risk()
        runs.append({
            "risk": risk.value, "risk_ci_95": list(risk.ci),
            "attack_rate": res.attack_rate.value, "control_rate": res.control_rate.value,
            "baseline_rate": res.baseline_rate.value, "seconds": round(time.perf_counter() - t0, 2),
        })
    json.dump({"tool": "anonymeter", "version": metadata.version("anonymeter"), "runs": runs}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
