"""``mufno data NAME [--preset P] [--n N] [--res R] [--seed S] [--out PATH]``: generate a data set.

Ctrl-C (exit 130) and SIGTERM (exit 143) stop the generation and its worker processes at once and
end in one line; nothing is left under the file's name or as a temporary file.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
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


class Stopped(KeyboardInterrupt):
    """The generation was stopped by a signal; ``exit_code`` is 128 + its number."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.exit_code = 128 + signum


def _raise_stopped(signum, frame) -> None:
    raise Stopped(signum)


def _generate(spec, out: Path, args: argparse.Namespace, command: str) -> Path | int:
    """Generate with SIGTERM raised as :class:`Stopped` (as Ctrl-C raises KeyboardInterrupt), so the
    worker pool and the partial file go with either; an exit code when stopped."""
    main_thread = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGTERM, _raise_stopped) if main_thread else None
    try:
        return generate_dataset(spec, out, workers=args.workers, progress=not args.no_progress,
                                command=command)
    except KeyboardInterrupt as err:
        how = err.args[0] if isinstance(err, Stopped) else "interrupted"
        print(f"\nmufno data: {how}; nothing written to {out} (the same command starts again)",
              file=sys.stderr)
        return err.exit_code if isinstance(err, Stopped) else 130
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


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
    path = _generate(spec, out, args, command)
    if isinstance(path, int):
        return path
    size = path.stat().st_size / 2 ** 20
    print(f"wrote {path} ({spec.n_train} train + {spec.n_test} test, {spec.resolution} points "
          f"per axis, {size:.1f} MiB) in {time.perf_counter() - start:.1f} s")
    return 0
