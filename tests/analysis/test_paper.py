"""The paper's numbers stay labelled as the paper's, set beside what we measured."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mufno_core.analysis.paper import end_to_end_comparison, hparam_comparison, lr_comparison, paper_alpha


def drift_frame(sp: tuple[float, float, float], mup: tuple[float, float, float]) -> pd.DataFrame:
    return pd.DataFrame([dict(experiment="navier_stokes_lr", parametrization=name, k_min=3, k_max=24,
                              lr_opt_k_min=1e-3, lr_opt_k_max=1e-3 * drift, drift=drift,
                              drift_low=low, drift_high=high, edge=False, no_evidence=())
                         for name, (drift, low, high) in (("sp", sp), ("mup", mup))])


def test_lr_comparison_sets_paper_beside_measurement():
    table = lr_comparison("navier_stokes_lr", drift_frame((0.4, 0.3, 0.6), (1.0, 0.8, 1.2)))
    assert list(table.index) == ["SP", "μP"]
    assert "7.4e-4" in table.loc["SP", "the paper reports"]
    assert "moves down" in table.loc["SP", "we measured: drift"]
    assert "no drift" in table.loc["μP", "we measured: drift"]


def test_paper_alpha_from_its_navier_stokes_numbers():
    expected = math.log(7.4e-4 / 1.8e-3) / math.log(math.log(24) / math.log(3))
    assert paper_alpha("navier_stokes_lr", "sp") == pytest.approx(expected)
    assert paper_alpha("navier_stokes_lr", "mup") == 0.0
    assert math.isnan(paper_alpha("burgers_lr", "sp"))


def optima_frame(sp_best, mup_best, freq=0.9):
    rows = [dict(parametrization=p, modes=k, beta2_opt=b, freq_opt=freq)
            for p, bests in (("sp", sp_best), ("mup", mup_best)) for k, b in zip((3, 6, 12), bests)]
    return pd.DataFrame(rows)


def shift_frame(mup: tuple[float, float, float] = (0.0, -0.1, 0.1)) -> pd.DataFrame:
    """hparam_shift-like rows: SP's best batch size doubles over K 3 → 12, μP's shifts by ``mup``
    (shift, low, high) octaves."""
    return pd.DataFrame([dict(parametrization=name, k_min=3, k_max=12, opt_k_min=14.0,
                              opt_low_k_min=12.0, opt_high_k_min=16.0, opt_k_max=14.0 * 2**shift,
                              opt_low_k_max=12.0 * 2**shift, opt_high_k_max=16.0 * 2**shift,
                              shift=shift, shift_low=low, shift_high=high, ratio=2**shift,
                              ratio_low=2**low, ratio_high=2**high, edge=False, no_evidence=(),
                              grid_step=1.0)
                         for name, (shift, low, high) in (("sp", (1.0, 0.7, 1.3)),
                                                          ("mup", mup))])


def test_hparam_table_beside_the_paper():
    optima = optima_frame((0.9, 0.99, 0.999), (0.98, 0.98, 0.98))
    table = hparam_comparison("darcy_beta2", optima, "beta2")
    assert list(table.columns)[:2] == ["SP", "μP"]
    assert table.loc["the paper reports", "μP"] == "best β2 = 0.98 at every K"
    assert table.loc[3, "μP"].startswith("0.98")
    table = hparam_comparison("darcy_batch_size", optima.rename(columns={"beta2_opt": "batch_size_opt"}),
                              "batch_size", shift_frame())
    assert table.loc["located optimum, K 3 → 12 [95% CI]", "SP"] == "14 [12, 16] → 28 [24, 32]"
    assert table.loc["shift K 3 → 12 [95% CI]", "μP"] == "×1.00 [0.93, 1.07]: stable"
    assert table.index[-1] == "the paper reports"


@pytest.mark.parametrize("mup_shift, words", [
    ((0.0, -0.1, 0.1), "×1.00 [0.93, 1.07]: stable"),
    # an end 0.2 octaves from 0, within round-off (0.22 in ln = 0.32 octaves): not called stable
    ((0.1, -0.2, 0.4), "×1.07 [0.87, 1.32]: borderline"),
    ((0.3, -0.6, 1.5), "×1.23 [0.66, 2.83]: not resolved"),
    ((1.0, 0.5, 1.5), "×2.00 [1.41, 2.83]: moves"),
])
def test_shift_words_in_the_table(mup_shift, words):
    optima = optima_frame((0.9, 0.99, 0.999), (0.98, 0.98, 0.98)).rename(
        columns={"beta2_opt": "batch_size_opt"})
    table = hparam_comparison("darcy_batch_size", optima, "batch_size", shift_frame(mup_shift))
    assert table.loc["shift K 3 → 12 [95% CI]", "μP"] == words


def test_end_to_end_table_in_the_papers_layout():
    table = pd.DataFrame({"test_rel_l2_mean": [0.0125, 0.0122], "cost_flops_vs_direct": [1.0, 0.3]},
                         index=["direct", "transfer"])
    ours = end_to_end_comparison({"Darcy": table}, "quick")
    assert ours.loc["μTransfer-FNO", "Darcy rel. L2"] == "1.22%"
    assert ours.loc["μTransfer-FNO", "Darcy tuning cost (FLOPs)"] == "0.30×"
