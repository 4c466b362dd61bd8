#!/usr/bin/env python
"""Create the data sets that the book's notebooks declare (metadata ``mufno.datasets``), if missing.

    python scripts/ensure_data.py --preset quick --data-dir data

A file in place that is damaged (truncated, not HDF5, generation not complete, …) and an unknown
preset end in one line naming the problem (exit 2); Ctrl-C and SIGTERM stop the generation, its
workers and its partial file (exit 130 and 143).
"""

from __future__ import annotations

import argparse
import signal
import sys

PRESETS = ("smoke", "quick", "gpu", "paper")


class Stopped(KeyboardInterrupt):
    """Stopped by SIGTERM (as Ctrl-C stops with KeyboardInterrupt)."""


def _raise_stopped(signum, frame) -> None:
    raise Stopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick", help="smoke | quick | gpu | paper (default: quick)")
    parser.add_argument("--data-dir", default="data", help="where the HDF5 files live (default: data)")
    args = parser.parse_args(argv)
    if args.preset not in PRESETS:
        print(f"data: error: unknown preset {args.preset!r}; one of {', '.join(PRESETS)}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_stopped)
    try:
        from mufno_core.book.build import datasets_needed, ensure_datasets, toc_notebooks

        ensure_datasets(datasets_needed(toc_notebooks()), args.preset, args.data_dir)
    except KeyboardInterrupt as err:
        print("\ndata: stopped; no partial file is left (the same command generates it)", file=sys.stderr)
        return 143 if isinstance(err, Stopped) else 130
    except (ValueError, OSError) as err:
        print(f"data: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
