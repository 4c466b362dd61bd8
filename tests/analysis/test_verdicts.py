"""Verdicts follow the measured intervals, say "borderline" (with the margin) where an interval
ends within round-off of its threshold, and their headline does not flip with round-off."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mufno_core.analysis.coverage import SHIFT_SPECS, SyntheticSweep, synthetic_hparam_sweep, synthetic_sweep
from mufno_core.analysis.optima import hparam_shift, lr_exponent
from mufno_core.analysis.verdicts import (
    ROUND_OFF_ALPHA,
    ROUND_OFF_LOG_RATIO,
    drift_sentence,
    end_to_end_verdict,
    exponent_verdict,
    hparam_verdict,
)


def exponent_frame(sp, mup, edge=False, no_evidence=()):
    """lr_exponent-like rows from (α, low, high) of SP and μP."""
    return pd.DataFrame([dict(experiment="burgers_lr", parametrization=p, alpha=a, alpha_low=lo,
                              alpha_high=hi, edge=edge, no_evidence=no_evidence if p == "sp" else ())
                         for p, (a, lo, hi) in (("sp", sp), ("mup", mup))])


# the quick Burgers sweep on two CPUs (issue 18): round-off moved the interval ends by ≤ 0.05
BURGERS_EPYC = ((-0.15, -0.30, -0.003), (0.15, 0.01, 0.28))
BURGERS_XEON = ((-0.11, -0.27, 0.05), (0.12, -0.02, 0.26))
DARCY = ((-0.51, -0.70, -0.32), (0.01, -0.22, 0.24))


def test_the_burgers_headline_does_not_flip_between_cpus():
    epyc, xeon = (exponent_verdict(exponent_frame(*pair)) for pair in (BURGERS_EPYC, BURGERS_XEON))
    assert epyc.headline == xeon.headline
    assert epyc.label == "Borderline"
    assert "ends 0.00 beyond 0" in str(epyc) and "ends 0.05 inside 0" in str(xeon)  # the margins
    assert f"±{ROUND_OFF_ALPHA:.2f}" in epyc.headline


def test_a_clear_case_is_not_borderline():
    verdict = exponent_verdict(exponent_frame(*DARCY))
    assert verdict.label == "Reproduced" and "borderline" not in str(verdict)
    assert "consistent with the √log K law's −½" in str(verdict)


def test_without_a_tolerance_the_burgers_verdicts_would_flip(monkeypatch):
    """The test above can fail: with a zero tolerance the two CPUs disagree (as they did)."""
    monkeypatch.setattr("mufno_core.analysis.verdicts.ROUND_OFF_ALPHA", 0.0)
    epyc, xeon = (exponent_verdict(exponent_frame(*pair)) for pair in (BURGERS_EPYC, BURGERS_XEON))
    assert epyc.label == "Partly reproduced" and xeon.label != epyc.label


@pytest.mark.parametrize(("sp", "mup", "label"), [
    ((-0.5, -0.7, -0.3), (0.0, -0.2, 0.2), "Reproduced"),
    ((0.0, -0.2, 0.2), (0.0, -0.2, 0.2), "Not resolved"),
    ((-0.5, -0.7, -0.3), (0.4, 0.2, 0.6), "Partly reproduced"),
    ((-0.6, -0.8, -0.4), (-0.35, -0.55, -0.2), "Partly reproduced"),
    ((0.0, -0.2, 0.2), (0.4, 0.2, 0.6), "Not reproduced at this scale"),
    ((-0.5, -0.7, -0.3), (0.0, -0.2, 0.03), "Borderline"),
])
def test_exponent_verdict_follows_the_intervals(sp, mup, label):
    verdict = exponent_verdict(exponent_frame(sp, mup))
    assert verdict.label == label and verdict.headline.startswith(label)
    assert str(verdict).startswith(verdict.headline) and len(verdict.details) == 2


def test_exponent_verdict_refuses_without_evidence():
    assert exponent_verdict(exponent_frame(*DARCY, edge=True)).label == "No verdict"
    empty = exponent_verdict(exponent_frame(*DARCY, no_evidence=(12, 24)))
    assert empty.label == "No verdict" and "every trial diverged for SP at K = 12, 24" in empty.headline
    assert exponent_verdict(exponent_frame(*DARCY).iloc[:1]).headline.startswith("No verdict: both SP")


def test_exponent_verdict_from_synthetic_sweeps():
    rng = np.random.default_rng(0)
    sp = synthetic_sweep(SyntheticSweep(alpha=-0.5, seeds=10), rng, "sp")
    flat = synthetic_sweep(SyntheticSweep(alpha=0.0, seeds=10), rng, "mup")
    assert exponent_verdict(lr_exponent(pd.concat([sp, flat]))).label == "Reproduced"
    rng = np.random.default_rng(1)  # SP's interval holds 0 by more than the round-off tolerance
    up = synthetic_sweep(SyntheticSweep(alpha=0.4, seeds=10), rng, "mup")
    sp_flat = synthetic_sweep(SyntheticSweep(alpha=0.0, seeds=10), rng, "sp")
    assert exponent_verdict(lr_exponent(pd.concat([sp_flat, up]))).label == "Not reproduced at this scale"


def drift_row(drift, low, high, edge=False):
    return pd.DataFrame([dict(parametrization="sp", k_min=3, k_max=24, drift=drift, drift_low=low,
                              drift_high=high, edge=edge, no_evidence=())]).iloc[0]


@pytest.mark.parametrize(("interval", "words"), [
    ((0.4, 0.3, 0.6), "the optimum moves down"),
    ((1.0, 0.8, 1.2), "consistent with no drift"),
    ((0.8, 0.6, 0.98), "borderline"),   # 2% from 1: within round-off
    ((0.8, 0.6, 1.03), "borderline"),
])
def test_drift_sentence_follows_its_interval(interval, words):
    assert words in drift_sentence(drift_row(*interval))


def test_the_drift_tolerance_matches_the_exponents():
    """A drift over the quick presets' K span and an α interval end at the same distance from the
    threshold are borderline alike (ln ratio = α · ln(log K_max / log K_min))."""
    span = math.log(math.log(64) / math.log(3))
    assert ROUND_OFF_LOG_RATIO == pytest.approx(ROUND_OFF_ALPHA * span)
    end = math.exp(-0.9 * ROUND_OFF_LOG_RATIO)
    assert "borderline" in drift_sentence(drift_row(0.7, 0.5, end))
    assert "moves down" in drift_sentence(drift_row(0.7, 0.5, end**2))


def shift_frame(sp, mup, edge=(), loss_range=0.3, seed_sd=0.02, grid_step=1.0):
    """hparam_shift-like rows: (shift, low, high) on log2 batch size for SP and μP."""
    rows = []
    for name, (shift, low, high) in (("sp", sp), ("mup", mup)):
        rows.append(dict(experiment="darcy_batch_size", parametrization=name, axis="log2 batch size",
                         k_min=3, k_max=12, opt_k_min=14.0, opt_low_k_min=12.0, opt_high_k_min=16.0,
                         opt_k_max=14.0 * 2**shift, opt_low_k_max=12.0 * 2**shift,
                         opt_high_k_max=16.0 * 2**shift, shift=shift, shift_low=low, shift_high=high,
                         half_width=(high - low) / 2, ratio=2**shift, ratio_low=2**low,
                         ratio_high=2**high, moves=bool(low > 0 or high < 0), edge=name in edge,
                         no_evidence=(), grid_step=grid_step, loss_range=loss_range,
                         seed_sd=seed_sd, n_seeds=3))
    return pd.DataFrame(rows)


MOVES, STAYS, WIDE, MOVES_DOWN = (1.0, 0.7, 1.3), (0.0, -0.4, 0.4), (0.2, -1.5, 1.9), (-0.8, -1.2, -0.4)
EDGY = (0.5, 0.05, 0.95)  # its low end 0.05 octave from 0: within round-off


@pytest.mark.parametrize(("sp", "mup", "label"), [
    (MOVES, STAYS, "Reproduced"),
    (MOVES_DOWN, STAYS, "Reproduced"),
    (STAYS, STAYS, "Stable under both"),
    (MOVES, MOVES, "Not reproduced"),
    (STAYS, MOVES_DOWN, "Not reproduced"),
    (MOVES, WIDE, "Not resolved for μP"),
    (WIDE, STAYS, "Not resolved for SP"),
    (WIDE, WIDE, "Not resolved"),
    (STAYS, WIDE, "Not resolved"),
    (EDGY, STAYS, "Not resolved for SP"),
])
def test_hparam_verdict_follows_the_intervals(sp, mup, label):
    verdict = hparam_verdict(shift_frame(sp, mup), "batch_size")
    assert verdict.label == label
    if sp == MOVES:
        assert "SP's best batch size 14 → 28 over K 3 → 12: ×2.00 [1.62, 2.46], moves up" in str(verdict)
    if sp == EDGY:
        assert "borderline" in str(verdict)
    assert "edge" not in str(verdict) and "barely matters" not in str(verdict)


def test_hparam_verdict_caveats():
    edge = hparam_verdict(shift_frame(MOVES, STAYS, edge=("mup",)), "batch_size")
    assert edge.label == "Not resolved for μP" and "μP's optimum sits on the grid's edge" in edge.headline
    assert "Widen the batch size grid (parameter `batch_sizes`): μP has an optimum on its edge" in str(edge)
    both = hparam_verdict(shift_frame(STAYS, STAYS, edge=("sp", "mup")), "beta2")
    assert both.label == "Not resolved" and "SP and μP have optima on its edge" in str(both)
    assert "stays put" not in str(both)  # a zero-width interval at the grid's edge is not "stable"
    flat = hparam_verdict(shift_frame(WIDE, WIDE, loss_range=0.01, seed_sd=0.008), "beta2")
    assert "barely matters for SP and μP" in " ".join(flat.notes) and flat.label == "Not resolved"
    assert "decades" in str(flat)  # β2's shift is said in decades of 1 − β2
    assert hparam_verdict(shift_frame(MOVES, STAYS).iloc[:1], "batch_size").label == "No verdict"


def test_a_flat_sweep_is_not_resolved_and_barely_matters():
    """From synthetic records through hparam_shift: a loss that does not depend on β2."""
    from dataclasses import replace

    flat = replace(SHIFT_SPECS["beta2"], curvature=0.0, seeds=3)
    df = pd.concat([synthetic_hparam_sweep(flat, np.random.default_rng(1), "sp"),
                    synthetic_hparam_sweep(flat, np.random.default_rng(2), "mup")])
    verdict = str(hparam_verdict(hparam_shift(df, "beta2"), "beta2"))
    assert "barely matters" in verdict and "not resolved" in verdict
    assert "Reproduced" not in verdict and "Stable" not in verdict


def test_end_to_end_verdict():
    table = pd.DataFrame({"test_rel_l2_mean": [0.0125, 0.0122], "test_rel_l2_std": [0.001, 0.001],
                          "cost_flops_vs_direct": [1.0, 0.3], "cost_wall_vs_direct": [1.0, 0.4]},
                         index=["direct", "transfer"])
    assert "as good as direct tuning" in str(end_to_end_verdict(table))
    assert "0.30× the FLOPs" in str(end_to_end_verdict(table))
    worse = end_to_end_verdict(table.assign(test_rel_l2_mean=[0.0125, 0.05]))
    assert worse.label == "Worse than direct tuning" and "worse than direct tuning" in str(worse)
