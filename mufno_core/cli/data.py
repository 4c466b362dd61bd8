"""``mufno data NAME [--preset P] [--n N] [--res R] [--seed S] [--out PATH]``: generate a data set."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from mufno_core.data.generate import generate_dataset
from mufno_core.data.presets import PRESETS, TABLE, dataset_spec, list_presets


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", choices=sorted(TABLE), help="data set to generate")
    parser.add_argument("--preset", default="quick", choices=PRESETS,
                        help="sizes and grids (default: quick); see --list")
    parser.add_argument("--n", type=int, default=None, help="training samples (preset default)")
    parser.add_argument("--n-test", type=int, default=None, help="test samples (preset default)")
    parser.add_argument("--res", type=int, default=None,
                        help="stored points per axis; the solver grid keeps the preset's ratio")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output file (default data/NAME_PRESET[_changes].h5)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--list", action="store_true", help="list the data sets and presets")


def run(args: argparse.Namespace) -> int:
    if args.list:
        print(list_presets())
        return 0
    if args.name is None:
        raise ValueError("give a data set name (or --list); choices: " + ", ".join(sorted(TABLE)))
    spec = dataset_spec(args.name, args.preset).with_overrides(args.n, args.n_test, args.res,
                                                               args.seed)
    out = args.out if args.out is not None else spec.path()
    if out.is_dir():  # also --out '' (the working folder)
        raise ValueError(f"--out {str(args.out)!r} is a folder, not a file name; give e.g. "
                         f"--out data/{spec.filename}")
    if out.exists() and not args.force:
        print(f"{out} exists; use --force to regenerate")
        return 0
    start = time.perf_counter()
    command = shlex.join(["mufno", *sys.argv[1:]]) if sys.argv[1:2] == ["data"] else \
        spec.command() + (f" --out {out}" if args.out is not None else "")
    path = generate_dataset(spec, out, workers=args.workers, progress=not args.no_progress,
                            command=command)
    size = path.stat().st_size / 2 ** 20
    print(f"wrote {path} ({spec.n_train} train + {spec.n_test} test, {spec.resolution} points "
          f"per axis, {size:.1f} MiB) in {time.perf_counter() - start:.1f} s")
    return 0
