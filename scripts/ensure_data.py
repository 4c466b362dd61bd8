#!/usr/bin/env python
"""Create the data sets that the book's notebooks declare (metadata ``mufno.datasets``), if missing.

    python scripts/ensure_data.py --preset quick --data-dir data
Skips with a message while the data module (mufno_core.data) is not part of the tree.
"""

from __future__ import annotations

import argparse
import sys

from mufno_core.book.build import datasets_needed, ensure_datasets, toc_notebooks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick", help="smoke | quick | gpu | paper (default: quick)")
    parser.add_argument("--data-dir", default="data", help="where the HDF5 files live (default: data)")
    args = parser.parse_args(argv)
    ensure_datasets(datasets_needed(toc_notebooks()), args.preset, args.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
