#!/usr/bin/env python
"""Execute every notebook of the book (the ``notebooks/...`` entries of _toc.yml, in order) with papermill.

    python scripts/run_notebooks.py --preset quick --results results/quick --out book/executed/quick
    python scripts/run_notebooks.py --preset smoke --only theory      # one notebook
"""

from __future__ import annotations

import argparse
import sys

from mufno_core.book.build import execute_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick", help="smoke | quick | gpu | paper (default: quick)")
    parser.add_argument("--results", default=None, help="results store (default: results/PRESET)")
    parser.add_argument("--out", default=None, help="executed notebooks (default: book/executed/PRESET)")
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME", help="run only these notebooks")
    args = parser.parse_args(argv)
    results = args.results or f"results/{args.preset}"
    out = args.out or f"book/executed/{args.preset}"
    timings = execute_all(args.preset, results, out, names=args.only)
    total = sum(timings.values())
    print(f"notebooks: {len(timings)} executed into {out} in {total:.1f} s "
          f"({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
