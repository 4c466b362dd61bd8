#!/usr/bin/env python
"""The book's notebooks in one shared kernel against a kernel each, side by side.

    .venv/bin/python benchmarks/bench_notebook_kernels.py --rounds 3

Runs ``scripts/run_notebooks.py --preset smoke`` from the committed smoke store (nothing to
train) alternately with and without ``--fresh-kernels``, ``--rounds`` times, each into a temporary
folder, and prints the median wall seconds of each and their ratio. The notebooks' outputs are the
same either way (``tests/book/test_shared_kernel.py`` checks the reset).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(fresh: bool, out: Path) -> float:
    command = [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), "--preset", "smoke",
               "--results", "results/smoke", "--out", str(out)] + (["--fresh-kernels"] if fresh else [])
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    shared, fresh = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            shared.append(run_once(False, Path(tmp) / f"shared{i}"))
            fresh.append(run_once(True, Path(tmp) / f"fresh{i}"))
            print(f"round {i + 1}: shared kernel {shared[-1]:.1f} s, a kernel each {fresh[-1]:.1f} s",
                  flush=True)
    s, f = statistics.median(shared), statistics.median(fresh)
    print(f"median of {args.rounds}: shared kernel {s:.1f} s, a kernel each {f:.1f} s, "
          f"ratio {f / s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
