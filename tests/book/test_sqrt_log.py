"""The √log K chapter's library: growth exponents side by side, scale effects, the conclusion;
the studies, the verify command, and sweeping the spectral LR alone (other_lr)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mufno_core.analysis.coverage import SyntheticSweep, synthetic_sweep
from mufno_core.analysis.optima import lr_exponent
from mufno_core.book import sqrt_log
from mufno_core.mup import spectral_layers
from mufno_core.sweep import run_sweep
from mufno_core.sweep.experiments import grid
from mufno_core.sweep.studies import STUDIES
from mufno_core.sweep.verify import history_difference, verify_sample


def sp_fit(alpha: float, seed: int) -> pd.Series:
    df = synthetic_sweep(SyntheticSweep(alpha=alpha, seeds=10), np.random.default_rng(seed))
    return lr_exponent(df).iloc[0]


def test_scale_effect_resolves_a_move_toward_minus_half_and_not_a_null_one():
    base = sp_fit(-0.1, 0)
    effect = sqrt_log.scale_effect(base, {"steeper": sp_fit(-0.5, 1), "same": sp_fit(-0.1, 2)})
    rows = effect.set_index("variant")
    assert rows.loc["steeper", "verdict"] == "toward −½"
    assert rows.loc["steeper", "change_low"] <= -0.4 <= rows.loc["steeper", "change_high"]
    assert rows.loc["same", "verdict"] == "no resolved change"


def test_growth_exponents_put_every_measurement_against_one_half():
    norms = pd.DataFrame({"dim": [1], "width": [1], "beta": [0.45], "beta_low": [0.3], "beta_high": [0.6]})
    updates = pd.DataFrame({"dim": [1, 1], "parametrization": ["sp", "mup"], "beta": [0.8, -0.8],
                            "beta_low": [0.7, -1.0], "beta_high": [0.9, -0.6]})
    lrs = pd.DataFrame({"experiment": ["burgers_lr", "burgers_lr"], "parametrization": ["sp", "mup"],
                        "alpha": [-0.1, 0.2], "alpha_low": [-0.2, 0.1], "alpha_high": [0.0, 0.3]})
    table = sqrt_log.growth_exponents(norms, updates, lrs)
    assert len(table) == 3  # μP rows are not growth measurements
    lr_row = table[table["measurement"] == "SP optimal LR, −α"].iloc[0]
    assert (lr_row.growth, lr_row.low, lr_row.high) == pytest.approx((0.1, 0.0, 0.2))
    assert table["consistent"].tolist() == [True, False, False]
    assert table["below"].tolist() == [False, False, True]
    text = sqrt_log.conclusion(table, None, None)
    assert "1 of 1 intervals hold ½ (" in text
    assert "0 of 1 intervals hold ½, 1 lies above it" in text
    assert "0 of 1 intervals hold ½, 1 lies below it" in text


def test_studies_are_variants_of_a_quick_grid():
    for study in STUDIES.values():
        configs = grid(study.experiment, "quick", **study.overrides)
        assert len({c.seed for c in configs}) >= (4 if study.horizons else 8)  # horizons: 3 axes more
        assert len(grid(study.experiment, "smoke", **study.smoke_overrides)) > 0
    spectral = grid("burgers_lr", "quick", **STUDIES["burgers_spectral_lr"].overrides)
    assert {c.other_lr for c in spectral} == {10 ** (-26 / 8)}


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_other_lr_moves_only_the_spectral_learning_rate(dim):
    config = grid("synthetic_lr", "smoke", modes=[2, 4])[-1].with_(dim=dim, parametrization="mup", modes=4,
                                                                    base_modes=2)
    fixed = config.with_(other_lr=1e-3, lr=4e-3)
    optimizer = fixed.train_config().adam(fixed.build_model("cpu"))
    rates = {group["name"]: group["lr"] for group in optimizer.param_groups}
    c_k = math.sqrt(math.log(2) / math.log(4))  # μP relative to K0 = 2; d cancels
    assert rates == pytest.approx({"spectral": 4e-3 * c_k, "other": 1e-3})
    assert fixed.trial_id() != config.trial_id()
    assert fixed.group_key() == fixed.with_(lr=1e-2, other_lr=2e-3).group_key()  # stacked members
    assert all(layer.lr_factor == pytest.approx(c_k) for layer in spectral_layers(fixed.build_model("cpu")))


def test_history_difference_is_zero_only_for_identical_histories():
    a = {"history": {"train_loss": [1.0, 0.5], "test_loss": [1.0, 0.6]}}
    assert history_difference(a, a) == 0.0
    b = {"history": {"train_loss": [1.0, 0.5 * (1 + 1e-6)], "test_loss": [1.0, 0.6]}}
    assert history_difference(a, b) == pytest.approx(1e-6, rel=1e-3)
    assert history_difference(a, {"history": {"train_loss": [1.0], "test_loss": [1.0]}}) == math.inf


@pytest.mark.parametrize("stack", [False, True])
def test_verify_reruns_stored_trials_bit_identically(tmp_path, stack):
    run_sweep("synthetic_lr", "smoke", str(tmp_path), seeds=[0, 1], lrs=[1e-3], stack=stack,
              progress=False)
    table = verify_sample(tmp_path, sample=2, data_dir=str(tmp_path))
    assert len(table) == 2 and table["identical"].all() and (table["stacked"] == stack).all()


def test_sweep_operator_norms_at_the_lr_sweeps_k():
    norms = sqrt_log.sweep_operator_norms(n_draws=1, widths=(1,))
    quick = {d: sorted({c.modes for c in grid(name, "quick")})
             for d, name in ((1, "burgers_lr"), (2, "darcy_lr"), (3, "navier_stokes_lr"))}
    for d, ks in quick.items():
        assert sorted(norms.loc[norms["dim"] == d, "modes"]) == ks
    assert set(norms["width"]) == {1} and set(norms["draw"]) == {0}


def test_coord_updates_read_the_chapter_table_when_it_exists(tmp_path):
    (tmp_path / "coord_check").mkdir()
    table = pd.DataFrame({"dim": [1], "parametrization": ["sp"], "modes": [2], "seed": [0], "step": [1],
                          "layer": ["spectral 1"], "mean_abs_delta": [0.5]})
    table.to_csv(tmp_path / "coord_check" / "coord_check.csv", index=False)
    coords, note = sqrt_log.coord_updates(str(tmp_path), "smoke")
    pd.testing.assert_frame_equal(coords, table)
    assert note.endswith("coord_check.csv")


def test_the_chapter_tables_name_their_columns():
    norms = pd.DataFrame({"dim": [2], "width": [16], "beta": [0.1], "beta_low": [0.0], "beta_high": [0.2],
                          "predicted_beta": [0.12], "ks": [(2, 4)], "n_draws": [8]})
    row = ["2", "16", "2, 4", "+0.10 [+0.00, +0.20]", "0.12", "8"]
    assert list(sqrt_log.norm_table(norms).iloc[0]) == row
    lrs = pd.DataFrame({"experiment": ["darcy_lr"], "parametrization": ["sp"], "ks": [(2, 14)],
                        "alpha": [-0.5], "alpha_low": [-0.7], "alpha_high": [-0.3], "theory": [-0.5],
                        "n_seeds": [8]})
    row = ["Darcy (FNO-2D)", "SP", "2, 14", "−0.50 [−0.70, −0.30]"]
    assert list(sqrt_log.lr_table(lrs).iloc[0])[:4] == row
    scale = sqrt_log.scale_effect(sp_fit(-0.1, 0), {"steeper": sp_fit(-0.5, 1)})
    table = sqrt_log.scale_table(scale)
    assert list(table.columns) == ["Burgers SP", "exponent α [95% CI]", "change of α [95% CI]", "verdict"]
    assert table.iloc[0]["verdict"] == "toward −½" and table.iloc[0]["change of α [95% CI]"].startswith("−0.")
