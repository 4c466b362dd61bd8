#!/usr/bin/env python
"""Build the HTML book from the executed notebooks (warnings are errors).

    python scripts/build_site.py --executed book/executed/quick --build _build    # -> _build/html
"""

from __future__ import annotations

import argparse
import sys
import time

from mufno_core.book.build import build_site


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executed", default="book/executed/quick", help="folder of executed notebooks")
    parser.add_argument("--build", default="_build", help="build folder; the site goes to BUILD/html")
    parser.add_argument("--no-strict", action="store_true", help="do not turn warnings into errors")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        html = build_site(args.executed, args.build, strict=not args.no_strict)
    except (FileNotFoundError, RuntimeError, ValueError) as err:
        print(f"site: error: {err}", file=sys.stderr)
        return 1
    print(f"site: built {html}/index.html in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
