#!/usr/bin/env python
"""Build the HTML book from the executed notebooks (warnings are errors).

    python scripts/build_site.py --executed book/executed/quick --build _build    # -> _build/html

A notebook that did not run to the end is refused before anything is built (exit 1, one line):
one with an error output in a cell not tagged ``raises-exception`` (the tag of a cell whose
error the chapter shows on purpose), one papermill marked as failed, or one with a code cell never
executed after a cell that ran.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

EXPECTED_ERROR_TAG = "raises-exception"


def notebook_problem(path: Path) -> str | None:
    """Why the executed notebook ``path`` must not reach the site, or None."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as err:
        return f"{path}: not a readable notebook ({type(err).__name__})"
    ran_before = False
    for number, cell in enumerate(notebook.get("cells", []), 1):
        if cell.get("cell_type") != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and EXPECTED_ERROR_TAG not in tags:
                return (f"{path}: cell {number} ended in {output.get('ename', 'an error')}: "
                        f"{str(output.get('evalue', '')).splitlines()[0] if output.get('evalue') else ''}"
                        f" (tag the cell '{EXPECTED_ERROR_TAG}' if the error is meant; else run "
                        "the notebooks again)")
        source = "".join(cell.get("source", ""))
        if cell.get("execution_count") is None and source.strip() and ran_before:
            return f"{path}: cell {number} was never executed (an interrupted run?); run the notebooks again"
        ran_before = ran_before or cell.get("execution_count") is not None
    if notebook.get("metadata", {}).get("papermill", {}).get("exception"):
        return f"{path}: papermill marked the run as failed; run the notebooks again"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executed", default="book/executed/quick", help="folder of executed notebooks")
    parser.add_argument("--build", default="_build", help="build folder; the site goes to BUILD/html")
    parser.add_argument("--no-strict", action="store_true", help="do not turn warnings into errors")
    args = parser.parse_args(argv)
    from mufno_core.book.build import build_site, toc_notebooks

    for name in toc_notebooks():
        problem = notebook_problem(Path(args.executed) / f"{name}.ipynb")
        if problem is not None and (Path(args.executed) / f"{name}.ipynb").exists():
            print(f"site: error: {problem}", file=sys.stderr)
            return 1
    start = time.perf_counter()
    try:
        html = build_site(args.executed, args.build, strict=not args.no_strict)
    except (FileNotFoundError, RuntimeError, ValueError) as err:
        print(f"site: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nsite: interrupted", file=sys.stderr)
        return 130
    print(f"site: built {html}/index.html in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
