"""The book's time estimate before it runs its notebooks (book.forecast_notebooks)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mufno_core.book import forecast_notebooks, notebook_sweeps, toc_notebooks
from mufno_core.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", toc_notebooks(ROOT / "_toc.yml"))
def test_a_notebook_declares_the_sweeps_its_chapter_runs(name):
    source = "".join("".join(c["source"]) for c in json.loads(
        (ROOT / "notebooks" / f"{name}.ipynb").read_text())["cells"] if c["cell_type"] == "code")
    run = set(re.findall(r'Chapter\.run\("([a-z_0-9]+)"', source))
    sweeps = notebook_sweeps(ROOT / "notebooks" / f"{name}.ipynb")
    declared = {s if isinstance(s, str) else s[0] for s in sweeps}
    assert run <= declared


def test_the_calibrated_chapter_declares_its_calibrated_grids():
    sweeps = notebook_sweeps(ROOT / "notebooks" / "calibrated_rule.ipynb")
    assert {s[0] for s in sweeps} == {"burgers_lr", "darcy_lr", "navier_stokes_lr", "pino_darcy"}
    assert all(list(s[1]["parametrizations"]) == ["cal"] for s in sweeps)


def _book(tmp_path: Path, sweeps: list) -> Path:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "chapter.ipynb").write_text(json.dumps(
        {"cells": [], "metadata": {"mufno": {"sweeps": sweeps}}, "nbformat": 4, "nbformat_minor": 5}))
    return tmp_path


def test_a_store_that_holds_every_trial_is_rendered_without_calibration(tmp_path):
    root = _book(tmp_path, ["synthetic_lr"])
    run_sweep("synthetic_lr", "smoke", str(tmp_path / "store"), stack=True, progress=False)
    assert "rendering only" in forecast_notebooks(["chapter"], "smoke", tmp_path / "store", root)


def test_missing_trials_are_counted_and_timed(tmp_path):
    root = _book(tmp_path, ["synthetic_lr"])
    text = forecast_notebooks(["chapter"], "smoke", tmp_path / "empty", root)
    assert "30 trials to run, expected" in text and "on this machine" in text


def test_a_sweep_without_its_data_file_has_no_estimate(tmp_path):
    root = _book(tmp_path, ["burgers_lr"])
    text = forecast_notebooks(["chapter"], "smoke", tmp_path / "empty", root)
    assert "no estimate (no data file" in text and "1 sweep(s) without an estimate" in text


def test_a_grid_the_chapter_calibrates_itself_has_no_estimate(tmp_path):
    root = _book(tmp_path, [{"experiment": "burgers_lr", "overrides": {"parametrizations": ["cal"]}}])
    text = forecast_notebooks(["chapter"], "smoke", tmp_path / "empty", root)
    assert "no estimate (burgers_lr/smoke has no calibrated exponent" in text
