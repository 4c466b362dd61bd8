"""The book's notebooks share one kernel: each still finds what a fresh kernel offers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mufno_core.book.build import execute_all
from mufno_core.book.shared_kernel import renumber_executions

WARNER = """\
import warnings


def warn():
    warnings.warn("shown once per place, and again in every notebook")
"""

FIRST = """\
import matplotlib
import torch
import warner
left_behind = 1
matplotlib.rcParams["lines.linewidth"] = 9.0
torch.manual_seed(123)
warner.warn()
"""

SECOND = """\
import matplotlib
import torch
import warner
warner.warn()
import sys
print({"left_behind": "left_behind" in dir(), "linewidth": matplotlib.rcParams["lines.linewidth"],
       "draw": torch.rand(3).tolist(), "spec": hasattr(sys.modules["__main__"], "__spec__")})
"""

def _notebook(*sources: str) -> dict:
    cells = [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None,
              "outputs": [], "source": source} for i, source in enumerate(sources)]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                                         "display_name": "Python 3"}},
            "nbformat": 4, "nbformat_minor": 5}


def _stream(notebook: Path, name: str) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "".join("".join(o.get("text", "")) for c in cells for o in c["outputs"]
                   if o.get("name") == name)


@pytest.mark.slow
def test_a_notebook_in_the_shared_kernel_finds_a_fresh_kernels_state(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "warner.py").write_text(WARNER)
    for name, source in (("first", FIRST), ("second", SECOND)):
        (tmp_path / "notebooks" / f"{name}.ipynb").write_text(json.dumps(_notebook(source)))
    execute_all("smoke", tmp_path / "results", tmp_path / "executed", root=tmp_path,
                names=["first", "second"], estimate=False)
    second_path = tmp_path / "executed" / "second.ipynb"
    seen = eval(_stream(second_path, "stdout"))  # noqa: S307 (our own print)
    left_seeded = torch.Generator().manual_seed(123)
    assert seen.pop("draw") != torch.rand(3, generator=left_seeded).tolist()  # reseeded afresh
    assert seen == {"left_behind": False, "linewidth": 1.5, "spec": True}  # spawn reads __spec__
    assert "shown once per place" in _stream(second_path, "stderr")
    second = json.loads(second_path.read_text())
    assert second["cells"][0]["execution_count"] == 1


def test_execution_counts_start_at_one_in_each_notebook():
    notebook = _notebook("1", "x = 2", "3")
    for cell, count in zip(notebook["cells"], (41, 42, None)):
        cell["execution_count"] = count
    notebook["cells"][0]["outputs"] = [{"output_type": "execute_result", "execution_count": 41}]
    renumbered = renumber_executions(notebook)
    assert [c["execution_count"] for c in renumbered["cells"]] == [1, 2, None]
    assert renumbered["cells"][0]["outputs"][0]["execution_count"] == 1
