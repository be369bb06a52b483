"""``medsynth audit dp`` at epsilon 1: lower bounds, the attacks that gave them, and the time they take.

Writes ``benchmarks/results/dp_audit.json``. Every run audits a model on the built-in table (scikit-learn's
breast cancer data, 569 rows x 31 columns, public bounds) with the defaults of ``medsynth audit dp``
(95% confidence; the replay attack as a distinguishing test plus the model's white-box attacks as a
one-run audit with 1000 canaries for dp-mst, 500 for the neural models: marginals for dp-mst, elbo and
gradient canaries for dp-tvae, samples and gradient canaries for dp-ctgan), as released and as the two
deliberately broken variants (noise from the published seed; noise 10x too small). One more dp-mst run
uses the distinguishing test (``--method distinguish``) for the marginals attack. Each row records the
load average when it started and ended (the machine is shared).

Run: ``OMP_NUM_THREADS=1 nice -n 10 python benchmarks/dp_audit.py [--quick] [--only dp-mst|dp-tvae|dp-ctgan]
[--variant released|seed|noise]``; with ``--only``/``--variant`` the rows of the other cases are kept (each row
names the commit it was measured at).
The audit is single-threaded (torch uses one thread); the machine's load is recorded beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"


def machine() -> dict[str, Any]:
    import torch

    return {"cpu_cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "platform": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__}


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


#: --variant names of the runs' ``broken`` values.
VARIANTS = {"released": None, "seed": "seed", "noise": "noise"}


def _selected(spec: dict[str, Any], only: str | None, variant: str | None) -> bool:
    return (only is None or spec["model"] == only) and (variant is None or spec.get("broken") == VARIANTS[variant])


def runs(quick: bool) -> list[dict[str, Any]]:
    m_mst, m_nn, trials = (300, 100, 100) if quick else (1000, 500, 300)
    out: list[dict[str, Any]] = []
    for broken in (None, "seed", "noise"):
        out.append({"model": "dp-mst", "broken": broken, "canaries": m_mst})
    out.append({"model": "dp-mst", "broken": None, "method": "distinguish", "attacks": ("marginals",), "trials": trials})
    out.append({"model": "dp-mst", "broken": "noise", "method": "distinguish", "attacks": ("marginals",), "trials": trials})
    for model in ("dp-tvae", "dp-ctgan"):
        for broken in (None, "seed", "noise"):
            out.append({"model": model, "broken": broken, "canaries": m_nn})
    return out


def _broken_of(variant: str) -> str | None:
    """A result row's ``broken`` value from its variant text."""
    if variant == "as released":
        return None
    return "seed" if "seed" in variant else "noise"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer canaries and trials (a smoke run)")
    parser.add_argument("--only", choices=["dp-mst", "dp-tvae", "dp-ctgan"], help="audit one model only")
    parser.add_argument("--variant", choices=list(VARIANTS), help="audit one variant only (as released or a broken one)")
    parser.add_argument("--out", type=Path, default=RESULTS / "dp_audit.json")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from medsynth.core.files import write_text
    from medsynth.privacy.audit import audit_dp

    record: dict[str, Any] = {"machine": machine(), "commit": commit(), "quick": args.quick,
                              "load_average_1_5_15_at_start": [round(x, 2) for x in os.getloadavg()],
                              "shared_machine": True, "epsilon": 1.0, "table": "built-in (breast cancer)", "results": []}
    order = {(s["model"], s.get("broken"), s.get("method", "one-run")): i for i, s in enumerate(runs(args.quick))}
    todo = [spec for spec in runs(args.quick) if _selected(spec, args.only, args.variant)]
    if args.out.exists() and (args.only or args.variant):  # keep the other cases' rows when re-running some
        previous = json.loads(args.out.read_text())
        redo = {(s["model"], s.get("broken"), s.get("method", "one-run")) for s in todo}
        record["results"] = [r for r in previous.get("results", [])
                             if (r["model"], _broken_of(r["variant"]), r["method"]) not in redo]
        for r in record["results"]:  # rows kept from an earlier run say which commit and load they came from
            r.setdefault("commit", previous.get("commit"))
            r.setdefault("load_average_1_5_15_start_end", [previous.get("load_average_1_5_15_at_start"),
                                                           previous.get("load_average_1_5_15_at_end")])
    for spec in todo:
        kwargs = {k: v for k, v in spec.items() if k not in ("model",)}
        load_start = [round(x, 2) for x in os.getloadavg()]
        t0 = time.perf_counter()
        res = audit_dp(spec["model"], epsilon=1.0, **kwargs, on_progress=lambda line: print("   ", line, flush=True))
        row = {"model": res.model, "variant": res.variant, "method": spec.get("method", "one-run"),
               "epsilon_claimed": res.claimed_epsilon, "delta": res.delta,
               "epsilon_lower_bound": res.epsilon_lower_bound, "confidence": res.confidence, "verdict": res.verdict,
               "attack": res.attack, "seconds": round(time.perf_counter() - t0, 1), "notes": res.notes,
               "commit": record["commit"], "load_average_1_5_15_start_end": [load_start, [round(x, 2) for x in os.getloadavg()]],
               "attacks": [{"attack": a.attack, "method": a.method, "epsilon_lower_bound": a.epsilon_lower_bound,
                            "alpha": round(a.alpha, 5), "fits": a.fits, "details": a.details} for a in res.attacks]}
        record["results"].append(row)
        record["results"].sort(key=lambda r: order.get((r["model"], _broken_of(r["variant"]), r["method"]), len(order)))
        print(f"{row['model']:<9} {row['variant'][:40]:<40} {row['method']:<12} lb={row['epsilon_lower_bound']:.3f} "
              f"{row['verdict']} {row['seconds']} s", flush=True)
        record["load_average_1_5_15_at_end"] = [round(x, 2) for x in os.getloadavg()]
        write_text(args.out, json.dumps(record, indent=2, default=str) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
