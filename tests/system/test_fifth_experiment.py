"""A new experiment needs its data, its registration, its notebook and its tests, nothing else: a
toy LR experiment registered here appears in every list of experiments (the summary, the lead
figure's exponents, the calibration, the calibrated chapter, the sqrt-log chapter, the GPU script,
``make rerun-results``) without any other file naming it."""

from __future__ import annotations

import json

import pytest

from mufno_core.analysis import calibrate
from mufno_core.analysis.paper import EXPERIMENT_LABELS, PAPER, paper_alpha
from mufno_core.analysis.summary import exponents_of_store, summarize_results
from mufno_core.book import calibrated_chapter, sqrt_log
from mufno_core.sweep.experiments import (
    CALIBRATED_EXPONENTS,
    EXPERIMENTS,
    REPORTED,
    Experiment,
    PaperReport,
    Preset,
    grid,
    lr_grid,
    register,
)
from tests.analysis.test_summary import SYNTHETIC_GRID, write_synthetic_sweep
from tests.sweep.test_experiments import declaration_problems

TOY = Experiment(
    name="toy_lr", description="a fifth LR experiment on the built-in smoothing operator",
    dataset="synthetic", dim=1, in_channels=1, out_channels=1, swept="lr",
    presets={"smoke": Preset(modes=(2, 4), lrs=lr_grid(-20, -16), seeds=(0, 1),
                             fixed={"width": 8, "depth": 2, "steps": 4, "n_train": 16, "n_test": 8,
                                    "batch_size": 8})},
    label="Toy (FNO-1D)", notebook="lr_drift_toy",
    paper=PaperReport("a toy", "optimal LR drifts", "optimal LR stable",
                      lr_optima={"sp": (3, 24, 2e-3, 1e-3)}),
    calibrated_exponents={"smoke": 0.2})


@pytest.fixture
def toy():
    register(TOY)
    yield TOY
    del EXPERIMENTS[TOY.name]


def test_a_registered_experiment_is_in_every_list(toy):
    name = toy.name
    assert name in REPORTED and name in PAPER and EXPERIMENT_LABELS[name] == "Toy (FNO-1D)"
    assert name in calibrate.LR_EXPERIMENTS and name in sqrt_log.LR_SWEEPS
    assert calibrated_chapter.LABELS[name] == "Toy (FNO-1D)"
    assert CALIBRATED_EXPONENTS[name] == {"smoke": 0.2}
    assert {c.cal_exponent for c in grid(name, "smoke", parametrizations=("cal",))} == {0.2}
    assert paper_alpha(name, "mup") == 0.0 and paper_alpha(name, "sp") < 0


def test_a_registered_experiment_is_summarised_and_in_the_lead_figure(toy, tmp_path):
    write_synthetic_sweep(tmp_path, toy.name, lambda p, k: 2e-3 if p == "mup" or k == 3 else 1e-3)
    summary = summarize_results(str(tmp_path), "smoke", {toy.name: SYNTHETIC_GRID})
    row = summary.set_index("experiment").loc[toy.name]
    assert row["the paper reports"] == "SP: optimal LR drifts; μP: optimal LR stable"
    assert row["verdict"].startswith("Reproduced")
    exponents = exponents_of_store(str(tmp_path), "smoke", {toy.name: SYNTHETIC_GRID})
    assert set(exponents["experiment"]) == {toy.name}


def test_a_registered_experiment_needs_its_notebook(toy, tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: intro\nchapters:\n  - file: notebooks/summary\n")
    (tmp_path / "notebooks").mkdir()
    notebook = tmp_path / "notebooks" / "lr_drift_toy.ipynb"
    notebook.write_text(json.dumps({"cells": [], "metadata": {"mufno": {"sweeps": []}},
                                    "nbformat": 4, "nbformat_minor": 5}))
    assert declaration_problems(toy.name, tmp_path) == [
        "toy_lr: notebooks/lr_drift_toy.ipynb is not in the book"]
    toc.write_text(toc.read_text() + "  - file: notebooks/lr_drift_toy\n")
    assert declaration_problems(toy.name, tmp_path) == ["toy_lr: lr_drift_toy does not declare it"]
    notebook.write_text(notebook.read_text().replace('"sweeps": []', '"sweeps": ["toy_lr"]'))
    assert declaration_problems(toy.name, tmp_path) == []
