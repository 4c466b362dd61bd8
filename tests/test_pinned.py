"""Pins what a refactor must not change: the ids of trials (they name the records of every
results store) and the losses a trial trains to on the CPU (one-by-one and stacked).

The numbers were computed on the code before the structure change of issue 11; a change that
moves one of them changes what stored results mean (bump ``RESULTS_VERSION`` if it is intended).
"""

from __future__ import annotations

import pytest

from mufno_core.sweep.experiments import grid, lr_grid
from mufno_core.sweep.trial import run_group_stacked, run_trial

# Positions in a preset's grid move when the preset is redesigned; a pin names its config.
PINNED_IDS = [
    (lambda: grid("burgers_lr", "quick")[0], "bd2a4e3173973b17"),
    (lambda: next(c for c in grid("darcy_lr", "quick", base_modes=3)
                  if (c.parametrization, c.modes, c.lr, c.seed) == ("mup", 14, lr_grid(-14, -14)[0], 7)),
     "a4521016edd80494"),
    (lambda: grid("navier_stokes_lr", "quick", lrs=lr_grid(-19, -19))[5],
     "a373239e2c913a93"),  # time_modes_max set
    (lambda: grid("pino_darcy", "quick", modes=3, base_modes=3)[3], "f19eb3520a84170b"),  # physics loss
    (lambda: grid("darcy_batch_size", "quick", modes=3, base_modes=3, batch_sizes=5, seeds=0)[0],
     "b646c9e52a55a3c1"),  # epochs budget
    (lambda: grid("burgers_lr", "quick", other_lr=1e-3)[7], "444331e303bc1e65"),  # other_lr set
    (lambda: grid("synthetic_lr", "smoke")[0], "785803ca045e2891"),
]


@pytest.mark.parametrize("make, trial_id", PINNED_IDS)
def test_trial_ids_are_pinned(make, trial_id):
    assert make().trial_id() == trial_id


PINNED_HISTORIES = [
    ({}, "785803ca045e2891", {
        "train_loss": [1.0401355028152466, 1.0269008874893188, 0.9622329473495483, 0.939186155796051],
        "test_loss": [0.9978066682815552, 0.9831769466400146, 0.9767930507659912, 0.9751558303833008]}),
    ({"other_lr": 1e-2}, "f8ece616a855ffc7", {
        "train_loss": [1.0401355028152466, 0.8992001414299011, 0.8335188627243042, 0.9492335319519043],
        "test_loss": [0.985182523727417, 1.0372053384780884, 1.067484974861145, 1.0010610818862915]}),
]


@pytest.mark.parametrize("overrides, trial_id, losses", PINNED_HISTORIES)
def test_a_smoke_trial_trains_to_the_pinned_losses(tmp_path, overrides, trial_id, losses):
    config = grid("synthetic_lr", "smoke", **overrides)[0]
    assert config.trial_id() == trial_id
    record = run_trial(config, data_dir=str(tmp_path), device="cpu")
    assert record["status"] == "ok"
    assert record["history"] == {"step": [1, 2, 3, 4], **losses}


def test_a_stacked_smoke_group_trains_to_the_pinned_losses(tmp_path):
    configs = [c for c in grid("synthetic_lr", "smoke")
               if c.modes == 4 and c.parametrization == "mup"][:3]
    records = run_group_stacked(configs, str(tmp_path), "cpu")
    assert [r["trial_id"] for r in records] == ["162f5cdaa2c5800b", "5f58a7cdbd1d266a",
                                                "f9f24706a9f55f5b"]
    assert [r["history"]["train_loss"] for r in records] == [
        [0.9699529409408569, 0.8676041960716248, 0.8442163467407227, 0.8840415477752686],
        [1.0846763849258423, 1.0083496570587158, 0.9810189604759216, 0.9283303618431091],
        [0.9699529409408569, 0.8550350666046143, 0.8197996616363525, 0.8656129240989685]]
    assert [r["history"]["test_loss"] for r in records] == [
        [0.9668501615524292, 0.9540135264396667, 0.9441752433776855, 0.9331921935081482],
        [1.0030231475830078, 0.9877259731292725, 0.9754447937011719, 0.9646126627922058],
        [0.9607978463172913, 0.9450136423110962, 0.9351155757904053, 0.9225407838821411]]
