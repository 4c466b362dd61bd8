#!/usr/bin/env python
"""Execute every notebook of the book (the ``notebooks/...`` entries of _toc.yml, in order) with papermill.

    python scripts/run_notebooks.py --preset quick --results results/quick --out book/executed/quick
    python scripts/run_notebooks.py --preset smoke --only theory      # one notebook

Each executed notebook appears under its name only when it ran to the end (a hidden
``.NAME.partial.ipynb`` stands for it meanwhile; a notebook that fails is kept there). An unknown
preset or notebook, a results folder that cannot be written, a notebook that fails and Ctrl-C each
end in one line (exit 2, 1, 1, 130).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PRESETS = ("smoke", "quick", "gpu", "paper")


def failure_line(err: BaseException) -> str:
    """One line for a notebook that failed: papermill's exception name and value, not its traceback."""
    name, value = getattr(err, "ename", None), getattr(err, "evalue", None)
    if name is not None:
        first = (str(value).strip().splitlines() or [""])[0]
        return f"{name}: {first}"[:400]
    first = (str(err).strip().splitlines() or [""])[0]
    return f"{type(err).__name__}: {first}"[:400]


def interrupted_notebook(out: str | Path) -> str | None:
    """The notebook that was running: the newest ``.NAME.partial.ipynb`` in ``out``."""
    partials = sorted(Path(out).glob(".*.partial.ipynb"), key=lambda p: p.stat().st_mtime)
    return partials[-1].name[1:-len(".partial.ipynb")] if partials else None


def silence_shutdown() -> None:
    """Send what the interpreter prints while it shuts down after Ctrl-C to /dev/null: destructors of
    the interrupted kernel client ("coroutine ... was never awaited", a half-built event loop), so
    that the one line before stays the only one. Exit handlers still run."""
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stderr.fileno())
    os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick", help="smoke | quick | gpu | paper (default: quick)")
    parser.add_argument("--results", default=None, help="results store (default: results/PRESET)")
    parser.add_argument("--out", default=None, help="executed notebooks (default: book/executed/PRESET)")
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME", help="run only these notebooks")
    parser.add_argument("--fresh-kernels", action="store_true",
                        help="a kernel of its own for each notebook (default: one kernel, reset "
                             "before each notebook to what a fresh one offers)")
    args = parser.parse_args(argv)
    if args.preset not in PRESETS:
        print(f"notebooks: error: unknown preset {args.preset!r}; one of {', '.join(PRESETS)}",
              file=sys.stderr)
        return 2
    from mufno_core.book.build import execute_all, partial_path, toc_notebooks
    from mufno_core.checks import check_writable

    results = args.results or f"results/{args.preset}"
    out = args.out or f"book/executed/{args.preset}"
    book = toc_notebooks()
    unknown = [name for name in args.only or [] if name not in book]
    if unknown:
        print(f"notebooks: error: no notebook {', '.join(map(repr, unknown))} in _toc.yml; the "
              f"book's notebooks: {', '.join(book)}", file=sys.stderr)
        return 2
    try:
        check_writable("--results", results)
        check_writable("--out", out)
    except ValueError as err:
        print(f"notebooks: error: {err}", file=sys.stderr)
        return 2
    try:
        try:
            timings = execute_all(args.preset, results, out, names=args.only,
                                  fresh_kernels=args.fresh_kernels)
        except Exception as err:  # Ctrl-C reached the kernel first: its cell ended in the interrupt
            if getattr(err, "ename", None) == "KeyboardInterrupt":
                raise KeyboardInterrupt from err
            raise
    except KeyboardInterrupt:
        name = interrupted_notebook(out)
        where = f" while running {name}" if name else ""
        print(f"\nnotebooks: interrupted{where}; its executed copy was not written (the same "
              "command runs it again)", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001  (papermill's error, or a sweep's, in one line)
        name = interrupted_notebook(out) or "?"
        print(f"notebooks: error: notebooks/{name}.ipynb failed: {failure_line(err)} (the "
              f"half-executed copy is {partial_path(Path(out) / f'{name}.ipynb')}; no "
              f"{out}/{name}.ipynb)", file=sys.stderr)
        return 1
    total = sum(timings.values())
    print(f"notebooks: {len(timings)} executed into {out} in {total:.1f} s "
          f"({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())})")
    return 0


if __name__ == "__main__":
    code = main()
    if code == 130:
        silence_shutdown()
    sys.exit(code)
