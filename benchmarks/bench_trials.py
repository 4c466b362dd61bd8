"""Per-trial CPU time of quick trials: one commit against a base commit, side by side.

The three trials that issue 29 profiled (darcy_lr K 14, navier_stokes_lr K 8, pino_darcy K 14 at
the quick preset; μP, seed 0, the middle of the LR grid), plus burgers_lr K 64 with ``--burgers``.
Each measurement is one fresh process that imports ``mufno_core`` from one tree (a ``git
worktree`` of ``--base`` or of ``--new``, default HEAD, outside the repository: committed code only,
whatever else the working tree holds), trains the trial once to warm up and once
timed with one torch thread and the sweep workers' malloc settings, and reports the CPU seconds
(``time.process_time``) of ``run_trial`` and the record's loss history. The two trees alternate,
and which goes first alternates with every repeat, so that a change of the machine's load hits
both sides alike; the table gives medians and the median of the paired ratios base / new.

    .venv/bin/python benchmarks/bench_trials.py --base 88dcb11 --repeats 5 --data-dir /tmp/data

The data files must exist (``python scripts/ensure_data.py --preset quick --data-dir DIR``); both
trees read the same ones. ``--json FILE`` writes every measurement. The quick book's training CPU
is estimated from the stored records' ``train_time`` per experiment (``--results``), each divided
by the measured ratio of its kind (Darcy: darcy_lr, darcy_batch_size, darcy_beta2; Navier–Stokes;
PINO; Burgers if measured, else Darcy's ratio, flagged).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from timing import device_name  # noqa: E402

TRIALS = {"darcy_lr": 14, "navier_stokes_lr": 8, "pino_darcy": 14}
GLIBC_TUNABLES = "glibc.malloc.mmap_threshold=2147483647:glibc.malloc.trim_threshold=4294967295"
KIND = {"burgers_lr": "burgers_lr", "darcy_lr": "darcy_lr", "darcy_batch_size": "darcy_lr",
        "darcy_beta2": "darcy_lr", "navier_stokes_lr": "navier_stokes_lr", "pino_darcy": "pino_darcy"}

CHILD = r"""
import json, sys, time, torch
torch.set_num_threads(1)
from mufno_core.sweep.experiments import grid
from mufno_core.sweep.trial import run_trial
experiment, modes, data_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
configs = [c for c in grid(experiment, "quick") if c.modes == modes and c.parametrization == "mup"
           and c.seed == 0]
config = configs[len(configs) // 2]
run_trial(config, data_dir)  # warm-up: caches, kernels, the data file
start = time.process_time()
record = run_trial(config, data_dir)
cpu = time.process_time() - start
import mufno_core
print(json.dumps({"cpu": cpu, "status": record["status"], "lr": config.lr, "module": mufno_core.__file__,
                  "history": record["history"]}))
"""


def commit_tree(ref: str) -> Path:
    """A ``git worktree`` of ``ref`` in the system's temporary folder (made once, reused)."""
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout.strip()
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"mufno-bench-{sha}"
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), sha], cwd=REPO, check=True,
                       capture_output=True)
    return path


def measure(tree: Path, experiment: str, modes: int, data_dir: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "GLIBC_TUNABLES": GLIBC_TUNABLES,
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD, experiment, str(modes), data_dir], cwd=tree,
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{experiment} in {tree} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def history_difference(a: dict, b: dict) -> float:
    """Largest relative difference of two loss histories (as ``mufno_core.sweep.verify``)."""
    worst = 0.0
    for key in ("train_loss", "test_loss"):
        for x, y in zip(a[key], b[key], strict=True):
            if x != y:
                worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-30))
    return worst


def train_time_by_experiment(results: Path) -> dict[str, float]:
    """Σ train_time (seconds) of the stored records of every experiment folder under ``results``."""
    totals: dict[str, float] = {}
    for folder in sorted(p for p in results.iterdir() if p.name in KIND):
        for path in folder.glob("*.json"):
            record = json.loads(path.read_text())
            if record.get("status") in ("ok", "diverged"):
                totals[folder.name] = totals.get(folder.name, 0.0) + float(record.get("train_time") or 0)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="88dcb11", help="the commit to compare with")
    parser.add_argument("--new", default="HEAD", help="the commit to measure")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--results", default=str(REPO / "results" / "quick"))
    parser.add_argument("--burgers", action="store_true", help="also burgers_lr K 64 (one by one)")
    parser.add_argument("--json", help="write every measurement here")
    args = parser.parse_args()
    trials = {**TRIALS, **({"burgers_lr": 64} if args.burgers else {})}
    trees = {"base": commit_tree(args.base), "new": commit_tree(args.new)}
    data_dir = str(Path(args.data_dir).resolve())
    print(f"{device_name('cpu').split(',')[0]}, one torch thread per process; load average at the "
          f"start {os.getloadavg()[0]:.1f}", flush=True)
    runs: dict[str, dict[str, list[dict]]] = {t: {"base": [], "new": []} for t in trials}
    for repeat in range(args.repeats):
        for experiment, modes in trials.items():
            order = ("base", "new") if repeat % 2 == 0 else ("new", "base")
            for side in order:
                runs[experiment][side].append(measure(trees[side], experiment, modes, data_dir))
            b, n = runs[experiment]["base"][-1], runs[experiment]["new"][-1]
            print(f"repeat {repeat + 1}: {experiment} K {modes}: base {b['cpu']:.2f} s, new "
                  f"{n['cpu']:.2f} s, ratio {b['cpu'] / n['cpu']:.2f}; load {os.getloadavg()[0]:.1f}",
                  flush=True)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}\n")
    print("| trial | base CPU s (median) | new CPU s (median) | ratio of medians | median of "
          "paired ratios | largest history difference |")
    print("|---|---|---|---|---|---|")
    ratios = {}
    for experiment, modes in trials.items():
        base = [r["cpu"] for r in runs[experiment]["base"]]
        new = [r["cpu"] for r in runs[experiment]["new"]]
        paired = statistics.median(b / n for b, n in zip(base, new))
        ratios[experiment] = paired
        difference = max(history_difference(b["history"], n["history"])
                         for b, n in zip(runs[experiment]["base"], runs[experiment]["new"]))
        print(f"| {experiment} K {modes} | {statistics.median(base):.2f} | "
              f"{statistics.median(new):.2f} | {statistics.median(base) / statistics.median(new):.2f}"
              f" | {paired:.2f} | {difference:.1e} |")
    results = Path(args.results)
    if results.is_dir():
        totals = train_time_by_experiment(results)
        before = sum(totals.values())
        after = sum(t / ratios.get(KIND[e], ratios["darcy_lr"]) for e, t in totals.items())
        flagged = "" if "burgers_lr" in ratios else " (Burgers at Darcy's ratio: not measured)"
        print(f"\nquick book training CPU from {results}'s records: {before / 60:.0f} min recorded "
              f"-> {after / 60:.0f} min estimated, {before / after:.2f}x{flagged}")
    if args.json:
        Path(args.json).write_text(json.dumps({"base": args.base, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
