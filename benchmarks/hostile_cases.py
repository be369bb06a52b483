"""The hostile-input sweep of issue 16: each case run against two checkouts, and how each ends.

Every case is what a hostile but realistic user does (an unwritable --out, a kill -9, a NaN voxel, a
semicolon CSV...). Each runs the ``medsynth`` command in a subprocess with ``PYTHONPATH`` set to a
checkout, in a fresh folder, and is classified:

- ``named error``: exit code 2 and one ``error: ...`` line (what the house rules ask for);
- ``traceback``: a Python traceback;
- ``silent wrong result``: exit 0 but the output is wrong (checked per case);
- ``misleading state``: what is left behind says something false (a dead run "running", a stale .tmp);
- ``handled``: the command did the right thing (e.g. read the semicolon CSV correctly).

    git archive 2f63f00 | tar -x -C /tmp/medsynth-before     # the checkout before the fixes
    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/hostile_cases.py --before /tmp/medsynth-before --after .

Writes ``benchmarks/results/hostile_cases.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TINY_VAE = [
    "--set", "preprocessing.spacing=[4,4,4]", "--set", "preprocessing.spatial_size=[16,16,16]",
    "--set", "model.channels=[8,16]", "--set", "model.latent_channels=2", "--set", "model.disc_channels=8",
    "--set", "model.disc_layers=2", "--set", "train.batch_size=1", "--set", "train.device=cpu", "--set", "train.num_threads=1",
]


class Ctx:
    """One checkout, one scratch folder, and helpers to run medsynth and Python there."""

    def __init__(self, checkout: Path, work: Path) -> None:
        self.checkout, self.work = checkout, work
        self.env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1", "MEDSYNTH_PROGRESS": "0", "NO_COLOR": "1"}

    def medsynth(self, *args: Any, timeout: float = 600) -> tuple[int, str, str]:
        done = subprocess.run([sys.executable, "-m", "medsynth.cli.main", *map(str, args)], cwd=self.work, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        return done.returncode, done.stdout, done.stderr

    def spawn(self, code: str) -> subprocess.Popen[str]:
        # A background shell starts its jobs with SIGINT ignored, and Python then never raises KeyboardInterrupt:
        # give the child the default disposition, as a terminal would.
        return subprocess.Popen([sys.executable, "-c", code], cwd=self.work, env=self.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def table(self, name: str = "t.csv", seed: int = 0) -> Path:
        import numpy as np
        import pandas as pd

        rng = np.random.default_rng(seed)
        n = 80
        df = pd.DataFrame({"id": np.arange(1, n + 1), "age": rng.integers(30, 90, n), "sex": rng.choice(["f", "m"], n),
                           "bili": np.round(rng.lognormal(0, 0.8, n), 2), "death": rng.integers(0, 2, n)})
        df.to_csv(self.work / name, index=False)
        return self.work / name

    def nifti(self, name: str, arr: Any) -> Path:
        import nibabel as nib
        import numpy as np

        aff = np.diag([2.0, 2.0, 2.0, 1.0])
        nib.save(nib.Nifti1Image(np.asarray(arr, np.float32), aff), str(self.work / name))
        return self.work / name

    def ct(self, name: str = "ct.nii.gz") -> Path:
        import numpy as np

        arr = np.full((16, 16, 16), -1000.0, np.float32)
        arr[4:12, 4:12, 4:12] = 40.0
        return self.nifti(name, arr)

    def afile(self) -> Path:
        p = self.work / "afile"
        p.write_text("a file, not a folder\n")
        return p

    def fitted(self) -> Path:
        t = self.table()
        rc, _, err = self.medsynth("tabular", "fit", t, "--model", "gaussian-copula", "--out", self.work / "run")
        if rc != 0:
            raise RuntimeError(err)
        return self.work / "run"


def classify(rc: int, err: str) -> str:
    if "Traceback" in err:
        return "traceback"
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    if rc == 2 and lines and lines[-1].startswith("error:") or (rc == 2 and lines and lines[0].startswith("error:")):
        return "named error"
    return f"exit {rc}"


def first_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    if "Traceback" in err:
        return lines[-1][:200] if lines else ""
    return (lines[0] if lines else "")[:200]


def out_case(args_fn: Callable[[Ctx], list[Any]]) -> Callable[[Ctx], tuple[str, str]]:
    def run(ctx: Ctx) -> tuple[str, str]:
        rc, _, err = ctx.medsynth(*args_fn(ctx))
        return classify(rc, err), first_line(err)

    return run


# -- cases with their own check -------------------------------------------------------------
def force_on_a_file(ctx: Ctx) -> tuple[str, str]:
    t, f = ctx.table(), ctx.work / "notes.txt"
    f.write_text("precious\n")
    rc, _, err = ctx.medsynth("tabular", "fit", t, "--model", "gaussian-copula", "--out", f, "--force")
    if f.is_file() and f.read_text() == "precious\n":
        return classify(rc, err), first_line(err)
    return "silent wrong result", f"--force deleted the file '{f.name}' (exit {rc})"


def image_train_out(ctx: Ctx, out: Any) -> tuple[str, str]:
    ctx.medsynth("phantoms", "--out", "ph", "--n", "1", "--shape", "16")
    rc, _, err = ctx.medsynth("image", "train", ROOT / "configs" / "ct_vae3d_64.yaml", "--data", "ph/ct", "--out", out,
                              *TINY_VAE, "--set", "model.norm_num_groups=4", "--max-steps", "1")
    return classify(rc, err), first_line(err)


def sample_on_image_run(ctx: Ctx) -> tuple[str, str]:
    ctx.medsynth("phantoms", "--out", "ph", "--n", "1", "--shape", "16")
    rc, _, err = ctx.medsynth("image", "train", ROOT / "configs" / "ct_vae3d_64.yaml", "--data", "ph/ct", "--out", "irun",
                              *TINY_VAE, "--set", "model.norm_num_groups=4", "--max-steps", "1")
    if rc != 0:
        return "setup failed", first_line(err)
    rc, _, err = ctx.medsynth("tabular", "sample", "irun", "--n", "5", "--out", "x.csv")
    return classify(rc, err), first_line(err)


def config_error_after_run_created(ctx: Ctx) -> tuple[str, str]:
    ctx.medsynth("phantoms", "--out", "ph", "--n", "1", "--shape", "16")
    rc, _, err = ctx.medsynth("image", "train", ROOT / "configs" / "ct_vae3d_64.yaml", "--data", "ph/ct", "--out", "bad",
                              *TINY_VAE, "--set", "model.norm_num_groups=3", "--max-steps", "1")
    status = json.loads((ctx.work / "bad" / "run.json").read_text()).get("status") if (ctx.work / "bad" / "run.json").is_file() else None
    if status == "running":
        return "misleading state", f"{classify(rc, err)}, but run.json says status 'running'"
    return ("named error" if classify(rc, err) == "named error" and status in ("failed", None) else classify(rc, err)), f"status {status}: {first_line(err)}"


def interrupted_training(ctx: Ctx, sig: int) -> tuple[str, str]:
    ctx.medsynth("phantoms", "--out", "ph", "--n", "1", "--shape", "16")
    code = ("from medsynth.cli.main import main; import sys; sys.exit(main(" + repr(
        ["image", "train", str(ROOT / "configs" / "ct_vae3d_64.yaml"), "--data", "ph/ct", "--out", "t", *TINY_VAE,
         "--set", "model.norm_num_groups=4", "--set", "train.checkpoint_every=1", "--max-steps", "100000"]) + "))")
    p = ctx.spawn(code)
    t0 = time.time()
    while not (ctx.work / "t" / "checkpoints").exists() and time.time() - t0 < 300 and p.poll() is None:
        time.sleep(0.05)
    p.send_signal(sig)
    try:
        p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return "misleading state", f"signal {sig} ignored: still training 120 s later (killed)"
    status = json.loads((ctx.work / "t" / "run.json").read_text()).get("status")
    if status == "running":
        return "misleading state", f"exit {p.returncode}; run.json says 'running' after the process ended"
    return "handled", f"exit {p.returncode}; run.json says '{status}'"


def kill_9_run(ctx: Ctx) -> tuple[str, str]:
    p = ctx.spawn("from medsynth.core.rundir import RunDir; import time; RunDir.create('k'); time.sleep(300)")
    t0 = time.time()
    while not (ctx.work / "k" / "run.json").exists() and time.time() - t0 < 120:
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    rc, out, err = ctx.medsynth("runs", ctx.work)
    if rc == 0 and "stale" in out:
        return "handled", "medsynth runs shows it as stale (its process is gone)"
    status = json.loads((ctx.work / "k" / "run.json").read_text()).get("status")
    return "misleading state", f"run.json says '{status}' forever; no way to tell it is dead ({classify(rc, err)} for `medsynth runs`)"


def kill_during_checkpoint(ctx: Ctx) -> tuple[str, str]:
    code = ("import os; from medsynth.core.files import atomic_path; from medsynth.core.rundir import RunDir\n"
            "r = RunDir.create('c'); r.save_checkpoint({'w': 1}, 1)\n"
            "with atomic_path('c/checkpoints/step_00000002.pt') as tmp:\n"
            "    tmp.write_bytes(b'x' * 1000); os.kill(os.getpid(), 9)\n")
    ctx.spawn(code).wait()
    code2 = "from medsynth.core.rundir import RunDir; r = RunDir.create('c', resume=True); r.save_checkpoint({'w': 2}, 3); r.finish()"
    ctx.spawn(code2).wait()
    left = [p.name for p in (ctx.work / "c" / "checkpoints").iterdir() if p.name.endswith(".tmp")]
    return ("misleading state", f"{len(left)} .tmp left after the next checkpoint write") if left else ("handled", "the next write removed the .tmp")


def output_mode(ctx: Ctx) -> tuple[str, str]:
    t = ctx.table()
    rc, _, err = ctx.medsynth("schema", "infer", t, "--out", "s.yaml")
    mode = oct((ctx.work / "s.yaml").stat().st_mode & 0o777) if (ctx.work / "s.yaml").exists() else None
    umask = os.umask(0)
    os.umask(umask)
    expected = oct(0o666 & ~umask)
    return ("handled", f"mode {mode} (umask gives {expected})") if mode == expected else ("silent wrong result", f"mode {mode}, not {expected} as umask gives")


def nan_convert(ctx: Ctx, value: float) -> tuple[str, str]:
    import numpy as np

    arr = np.full((16, 16, 16), -1000.0, np.float32)
    arr[0, 0, :3] = value
    src = ctx.nifti("nan.nii.gz", arr)
    rc, _, err = ctx.medsynth("convert", src, "out.nii.gz")
    if rc == 0:
        import nibabel as nib

        got = np.asarray(nib.load(str(ctx.work / "out.nii.gz")).dataobj)
        return "silent wrong result", f"exit 0; the 3 voxels written as {got[0, 0, :3].tolist()}"
    return classify(rc, err), first_line(err)


def four_d(ctx: Ctx) -> tuple[str, str]:
    import numpy as np

    src = ctx.nifti("4d.nii.gz", np.stack([np.full((16, 16, 16), -1000.0 + i) for i in range(3)], -1))
    rc, out, err = ctx.medsynth("convert", src, "out.nii.gz")
    if rc == 0:
        return "silent wrong result", f"exit 0: '{out.strip()[:120]}' for a 3-frame input"
    return classify(rc, err), first_line(err)


def duplicate_headers(ctx: Ctx) -> tuple[str, str]:
    (ctx.work / "dup.csv").write_text("age,sex,age\n61,f,62\n70,m,71\n")
    rc, _, err = ctx.medsynth("schema", "infer", "dup.csv", "--out", "s.yaml")
    if rc == 0:
        text = (ctx.work / "s.yaml").read_text()
        return "silent wrong result", "exit 0; the schema has a column 'age.1'" if "age.1" in text else "exit 0"
    return classify(rc, err), first_line(err)


def semicolon(ctx: Ctx) -> tuple[str, str]:
    (ctx.work / "eu.csv").write_text("age;sex;bili\n61;f;1,5\n70;m;0,25\n" + "".join(f"{50 + i};f;{i},5\n" for i in range(30)))
    rc, out, err = ctx.medsynth("schema", "infer", "eu.csv", "--out", "s.yaml")
    if rc != 0:
        return classify(rc, err), first_line(err)
    text = (ctx.work / "s.yaml").read_text()
    if "name: 'age;sex;bili'" in text or "age;sex;bili" in text:
        return "silent wrong result", "exit 0; one column named 'age;sex;bili'"
    ok = "name: bili" in text and "continuous" in text.split("name: bili")[1][:60]
    return ("handled", "3 columns; bili read as continuous (decimal commas)") if ok else ("silent wrong result", text[:120])


def ragged(ctx: Ctx) -> tuple[str, str]:
    (ctx.work / "r.csv").write_text("a,b\n" + "".join(f"{i},{i},{i},{i}\n" for i in range(30)))
    rc, _, err = ctx.medsynth("schema", "infer", "r.csv", "--out", "s.yaml")
    if rc == 0:
        return "silent wrong result", "exit 0; the extra cells became the row index and the last cells were read as a, b"
    return classify(rc, err), first_line(err)


def where_contradiction(ctx: Ctx) -> tuple[str, str]:
    run = ctx.fitted()
    rc, _, err = ctx.medsynth("tabular", "sample", run, "--n", "20", "--out", "x.csv", "--where", "sex=m", "--where", "sex=f")
    if rc == 0:
        import pandas as pd

        return "silent wrong result", f"exit 0; sex values {sorted(set(pd.read_csv(ctx.work / 'x.csv')['sex']))} (the last condition won)"
    return classify(rc, err), first_line(err)


def pipeline(ctx: Ctx, with_schema: bool) -> tuple[str, str]:
    import pandas as pd

    src = Path(os.environ.get("MEDSYNTH_SHARED_DATA", ROOT.parent / "shared" / "data")) / "tabular" / "pbcseq_patients.csv"
    df = pd.read_csv(src)
    tr = df.sample(frac=0.7, random_state=0)
    tr.to_csv(ctx.work / "tr.csv", index=False)
    df.drop(tr.index).to_csv(ctx.work / "ho.csv", index=False)
    steps = [("schema", "infer", "tr.csv", "--out", "s.yaml"),
             ("tabular", "fit", "tr.csv", "--schema", "s.yaml", "--model", "gaussian-copula", "--out", "run"),
             ("tabular", "sample", "run", "--n", str(len(tr)), "--out", "syn.csv"),
             ("evaluate", "tabular", "--train", "tr.csv", "--holdout", "ho.csv", "--synthetic", "syn.csv", "--out", "rep",
              *(["--schema", "s.yaml"] if with_schema else []))]
    for step in steps:
        rc, _, err = ctx.medsynth(*step)
        if rc != 0:
            return classify(rc, err), f"`{' '.join(step[:2])}`: {first_line(err)}"
    return "handled", "schema infer -> fit -> sample -> evaluate works"


CASES: list[tuple[str, str, Callable[[Ctx], tuple[str, str]]]] = [
    ("tabular fit --out <existing file>", "outputs", out_case(lambda c: ["tabular", "fit", c.table(), "--model", "gaussian-copula", "--out", c.afile()])),
    ("tabular fit --out <file>/run", "outputs", out_case(lambda c: ["tabular", "fit", c.table(), "--model", "gaussian-copula", "--out", c.afile() / "run"])),
    ("tabular fit --out <existing file> --force", "outputs", force_on_a_file),
    ("tabular sample --out /proc/x.csv", "outputs", out_case(lambda c: ["tabular", "sample", c.fitted(), "--n", "5", "--out", "/proc/x.csv"])),
    ("tabular sample --out <file>/x.csv", "outputs", out_case(lambda c: ["tabular", "sample", c.fitted(), "--n", "5", "--out", c.afile() / "x.csv"])),
    ("convert x.nii.gz <file>/x.nii.gz", "outputs", out_case(lambda c: ["convert", c.ct(), c.afile() / "x.nii.gz"])),
    ("convert x.nii.gz /proc/x.nii.gz", "outputs", out_case(lambda c: ["convert", c.ct(), "/proc/x.nii.gz"])),
    ("convert x.nii.gz /sys/dicom (DICOM)", "outputs", out_case(lambda c: ["convert", c.ct(), "/sys/medsynth-dicom", "--modality", "CT"])),
    ("schema infer --out <file>/s.yaml", "outputs", out_case(lambda c: ["schema", "infer", c.table(), "--out", c.afile() / "s.yaml"])),
    ("evaluate tabular --out /proc/rep", "outputs", out_case(lambda c: ["evaluate", "tabular", "--train", c.table("a.csv"), "--holdout", c.table("b.csv", 1),
                                                                        "--synthetic", c.table("c.csv", 2), "--out", "/proc/rep"])),
    ("phantoms --out <file>/ph", "outputs", out_case(lambda c: ["phantoms", "--out", c.afile() / "ph", "--n", "1", "--shape", "8"])),
    ("image train --out /proc/run", "outputs", lambda c: image_train_out(c, "/proc/medsynth-run")),
    ("image train --out <file>/run", "outputs", lambda c: image_train_out(c, c.afile() / "run")),
    ("tabular sample <image run>", "outputs", sample_on_image_run),
    ("tabular sample --out <a 300-character name>.csv", "outputs",
     out_case(lambda c: ["tabular", "sample", c.fitted(), "--n", "5", "--out", c.work / ("n" * 300 + ".csv")])),
    ("schema infer --out <existing folder>", "outputs", out_case(lambda c: ["schema", "infer", c.table(), "--out", c.work])),
    ("config error after the run folder exists", "state", config_error_after_run_created),
    ("kill -9 during a run", "state", kill_9_run),
    ("kill (SIGTERM) during image train", "state", lambda c: interrupted_training(c, signal.SIGTERM)),
    ("Ctrl-C (SIGINT) during image train", "state", lambda c: interrupted_training(c, signal.SIGINT)),
    ("kill -9 during a checkpoint write", "state", kill_during_checkpoint),
    ("permissions of written files", "state", output_mode),
    ("convert: NaN voxels", "silent", lambda c: nan_convert(c, float("nan"))),
    ("convert: inf voxels", "silent", lambda c: nan_convert(c, float("inf"))),
    ("convert: 4D NIfTI", "silent", four_d),
    ("duplicate column headers", "silent", duplicate_headers),
    ("';'-delimited CSV with decimal commas", "silent", semicolon),
    ("CSV rows longer than the header", "silent", ragged),
    ("--where sex=m --where sex=f", "silent", where_contradiction),
    ("schema infer -> fit -> sample -> evaluate --schema", "jobs", lambda c: pipeline(c, True)),
    ("schema infer -> fit -> sample -> evaluate (no schema, id column)", "jobs", lambda c: pipeline(c, False)),
]


def sweep(checkout: Path) -> list[dict[str, Any]]:
    rows = []
    for name, group, case in CASES:
        with tempfile.TemporaryDirectory(prefix="hostile-", ignore_cleanup_errors=True) as tmp:
            t0 = time.perf_counter()
            try:
                outcome, detail = case(Ctx(checkout, Path(tmp)))
            except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
                outcome, detail = "setup failed", f"{type(exc).__name__}: {exc}"[:200]
            rows.append({"case": name, "group": group, "outcome": outcome, "detail": detail,
                         "seconds": round(time.perf_counter() - t0, 1)})
            print(f"[{checkout.name}] {name:<60} {outcome:<20} {detail[:90]}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="checkout before the fixes (git archive of the base commit)")
    ap.add_argument("--after", type=Path, default=ROOT)
    ap.add_argument("--out", type=Path, default=RESULTS / "hostile_cases.json")
    args = ap.parse_args(argv)
    before, after = sweep(args.before.resolve()), sweep(args.after.resolve())
    table = [{"case": b["case"], "group": b["group"], "before": b["outcome"], "before_detail": b["detail"],
              "after": a["outcome"], "after_detail": a["detail"]} for b, a in zip(before, after)]
    result = {
        "benchmark": "issue 16 hostile-input sweep (medsynth CLI in subprocesses)",
        "before_checkout": str(args.before), "after_checkout": str(args.after),
        "cases": len(table), "before_counts": dict(Counter(r["before"] for r in table)),
        "after_counts": dict(Counter(r["after"] for r in table)), "table": table,
        "machine": {"cpu_cores": os.cpu_count(), "note": "2 shared vCPUs; outcomes, not timings, are the result"},
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"before": result["before_counts"], "after": result["after_counts"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
