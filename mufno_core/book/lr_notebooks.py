"""The learning-rate chapters' notebooks, written once: a template and what differs per experiment.

The chapters on Burgers, Darcy and Navier–Stokes ask one question of three experiments, so they
share every cell but their introduction (the first cell, the notebook's own: its PDE, its data and
what to expect) and the numbers of the first exercise. ``notebooks/templates/lr_chapter.ipynb``
holds the shared cells with ``{{name}}`` placeholders; :data:`LR_CHAPTERS` holds what differs;
``python -m mufno_core.book.lr_notebooks --write`` renders ``notebooks/lr_drift_*.ipynb`` from
both (keeping each notebook's introduction), and a test fails when a committed notebook is not
the rendering, so a shared cell cannot be edited in one copy only.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from mufno_core.sweep.experiments import get_experiment

TEMPLATE = Path("notebooks") / "templates" / "lr_chapter.ipynb"


@dataclass(frozen=True)
class LRChapterFacts:
    """What the template needs of one LR chapter beyond the registry: exercise 1's new base K₀'
    and the K it checks and trains at smoke, with the CPU that command took (measured on 2 cores
    by ``tests/book/test_exercises.py``'s command)."""

    experiment: str
    new_base: int
    check_modes: tuple[int, int]
    smoke_time: str


LR_CHAPTERS = {
    "lr_drift_burgers": LRChapterFacts("burgers_lr", 8, (8, 16),
                                       "in under a minute (18 s of CPU measured on 2 cores)"),
    "lr_drift_darcy": LRChapterFacts("darcy_lr", 4, (4, 8),
                                     "in under a minute (22 s of CPU measured on 2 cores)"),
    "lr_drift_navier_stokes": LRChapterFacts("navier_stokes_lr", 3, (3, 5),
                                             "in about a minute (44 s of CPU measured on 2 cores)"),
}


def placeholders(facts: LRChapterFacts) -> dict[str, str]:
    """The template's ``{{name}}`` values for one chapter."""
    exp = get_experiment(facts.experiment)
    base = exp.presets["quick"].modes[0]
    low, high = facts.check_modes
    return {"experiment": exp.name, "dim": str(exp.dim), "base": str(base),
            "new_base": str(facts.new_base), "check_modes": f"{low}, {high}",
            "check_modes_csv": f"{low},{high}", "smoke_time": facts.smoke_time,
            "factor": f"{math.sqrt(math.log(facts.new_base) / math.log(base)):.3f}"}


def _fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    if "{{" in text:
        raise ValueError(f"an unknown placeholder is left in the LR template: {text[:200]!r}")
    return text


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def render(name: str, root: str | Path = ".") -> dict:
    """``notebooks/<name>.ipynb`` as the template makes it: its own first cell, then the shared
    cells filled in, its metadata naming its data set and sweep."""
    facts = LR_CHAPTERS[name]
    root = Path(root)
    template = json.loads((root / TEMPLATE).read_text(encoding="utf-8"))
    current = json.loads((root / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    values = placeholders(facts)
    cells = [copy.deepcopy(current["cells"][0])]
    for cell in template["cells"]:
        cell = copy.deepcopy(cell)
        cell["source"] = _fill(_source(cell), values)
        cells.append(cell)
    for index, cell in enumerate(cells):
        cell["id"] = hashlib.sha256(f"{name}/{index}".encode()).hexdigest()[:8]
    exp = get_experiment(facts.experiment)
    metadata = {**template["metadata"], "mufno": {"datasets": [exp.dataset], "sweeps": [exp.name]}}
    return {**template, "cells": cells, "metadata": metadata}


def stale(root: str | Path = ".") -> list[str]:
    """The LR chapters whose committed notebook is not the template's rendering."""
    root = Path(root)
    out = []
    for name in LR_CHAPTERS:
        committed = json.loads((root / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
        rendered = render(name, root)
        if [(_source(c), c.get("metadata")) for c in committed["cells"]] != \
                [(_source(c), c.get("metadata")) for c in rendered["cells"]] \
                or committed["metadata"] != rendered["metadata"]:
            out.append(name)
    return out


def write(root: str | Path = ".") -> list[Path]:
    """Render every LR chapter into ``notebooks/`` (nbformat's layout); the paths written."""
    import nbformat

    paths = []
    for name in LR_CHAPTERS:
        path = Path(root) / "notebooks" / f"{name}.ipynb"
        nbformat.write(nbformat.from_dict(render(name, root)), str(path))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="render the notebooks into notebooks/")
    args = parser.parse_args(argv)
    if args.write:
        for path in write():
            print(f"lr_notebooks: wrote {path}")
        return 0
    names = stale()
    for name in names:
        print(f"lr_notebooks: notebooks/{name}.ipynb is not the template's rendering "
              "(python -m mufno_core.book.lr_notebooks --write)", file=sys.stderr)
    return 1 if names else 0


if __name__ == "__main__":
    sys.exit(main())
