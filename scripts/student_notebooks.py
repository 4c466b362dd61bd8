#!/usr/bin/env python
"""Write the student copies of the book's notebooks: no outputs, no solutions (``make student-notebooks``).

    python scripts/student_notebooks.py --out _build/student
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mufno_core.book.build import notebook_source, toc_notebooks
from mufno_core.book.exercises import solution_cells, student_notebook
from mufno_core.book.launch import Repository, download_notebook, read_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="_build/student", help="folder for the student notebooks")
    parser.add_argument("--root", default=".", help="the repository (its _toc.yml and notebooks/)")
    args = parser.parse_args(argv)
    root, out = Path(args.root), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    repo = Repository.from_config(read_config(root / "_config.yml"))
    removed = 0
    for name in toc_notebooks(root / "_toc.yml"):
        notebook = json.loads(notebook_source(name, root).read_text(encoding="utf-8"))
        removed += len(solution_cells(notebook))
        student = download_notebook(student_notebook(notebook), repo)
        (out / f"{name}.ipynb").write_text(json.dumps(student, indent=1, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    print(f"student notebooks: {out}/*.ipynb ({removed} solution cells removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
