"""The LR chapters' notebooks are one template rendered per experiment."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mufno_core.book.lr_notebooks import LR_CHAPTERS, TEMPLATE, main, render, stale

ROOT = Path(__file__).resolve().parents[2]


def test_every_committed_lr_notebook_is_the_templates_rendering():
    assert stale(ROOT) == []


def test_a_shared_cell_edited_in_one_copy_is_found(tmp_path):
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    path = tmp_path / "notebooks" / "lr_drift_darcy.ipynb"
    notebook = json.loads(path.read_text())
    notebook["cells"][4]["source"] = "ch.curves()  # edited here only"
    path.write_text(json.dumps(notebook))
    assert stale(tmp_path) == ["lr_drift_darcy"]


@pytest.mark.parametrize("name", sorted(LR_CHAPTERS))
def test_a_rendering_keeps_its_introduction_and_fills_every_placeholder(name):
    rendered = render(name, ROOT)
    text = json.dumps(rendered["cells"])
    assert "{{" not in text and LR_CHAPTERS[name].experiment in text
    committed = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
    assert rendered["cells"][0]["source"] == committed["cells"][0]["source"]
    assert len(rendered["cells"]) == 1 + len(json.loads((ROOT / TEMPLATE).read_text())["cells"])


def test_the_command_exits_nonzero_on_a_stale_notebook(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    monkeypatch.chdir(tmp_path)
    assert main([]) == 0
    path = tmp_path / "notebooks" / "lr_drift_burgers.ipynb"
    notebook = json.loads(path.read_text())
    notebook["cells"][-1]["source"] = "changed"
    path.write_text(json.dumps(notebook))
    assert main([]) == 1
    assert main(["--write"]) == 0 and main([]) == 0
