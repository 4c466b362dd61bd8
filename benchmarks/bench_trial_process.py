"""CPU of a short sweep process from start to exit: one commit against a base commit, side by side.

What every CLI run, test subprocess and sweep worker pays before and around its first trial:
importing torch and the library, the memory estimate on the meta device, building the optimizer.
Each measurement is one fresh ``python mufno_core/cli/main.py sweep synthetic_lr --preset smoke
--limit 2`` in a ``git worktree`` of one commit (committed code only), into a fresh store; the
two trees alternate, which goes first alternates with every repeat, and the table gives the
medians of user + system CPU of the process and its children and the median of the paired ratios.

    .venv/bin/python benchmarks/bench_trial_process.py --base fa02a4b --repeats 5
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_trials import commit_tree  # noqa: E402


def process_cpu(tree: Path) -> float:
    """CPU seconds (user + system) of one short sweep run in ``tree``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as store:
        done = subprocess.run([sys.executable, "mufno_core/cli/main.py", "sweep", "synthetic_lr",
                               "--preset", "smoke", "--results", store, "--limit", "2",
                               "--no-progress"], cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
                              capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the sweep in {tree} failed:\n{done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--new", default="HEAD")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    trees = {ref: commit_tree(ref) for ref in (args.base, args.new)}
    cpu: dict[str, list[float]] = {ref: [] for ref in trees}
    for repeat in range(args.repeats):
        order = (args.base, args.new) if repeat % 2 == 0 else (args.new, args.base)
        for ref in order:
            cpu[ref].append(process_cpu(trees[ref]))
    ratios = [b / n for b, n in zip(cpu[args.base], cpu[args.new], strict=True)]
    for ref, values in cpu.items():
        print(f"{ref:10} median {statistics.median(values):5.2f} s CPU  "
              f"({', '.join(f'{v:.2f}' for v in values)})")
    print(f"{args.base} / {args.new}: median of paired ratios {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
