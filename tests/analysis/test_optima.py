"""The optimum locator and its reductions: the located optimum and its bootstrap CI, the LR drift,
discrete optima, the exponent α, the batch-size/β2 shift, and no estimate from no evidence."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from mufno_core.analysis.coverage import (
    DESIGNS,
    SHIFT_SPECS,
    SyntheticSweep,
    exponent_coverage,
    shift_coverage,
    synthetic_hparam_sweep,
    synthetic_sweep,
)
from mufno_core.analysis.optima import (
    NoEvidence,
    fit_optima,
    fit_optimum,
    hparam_shift,
    locate,
    log_k_eff,
    loss_table,
    lr_drift,
    lr_exponent,
    optimal_hparam_per_k,
    optimal_lr_per_k,
)
from mufno_core.axes import HPARAM_AXES
from mufno_core.stats import bootstrap_se, student_t
from mufno_core.sweep.experiments import lr_grid
from mufno_core.sweep.store import finished_trials

LRS = lr_grid(-28, -12)


def bowl(optima: dict[tuple[str, int], float], seeds: int = 4, noise: float = 0.01,
         diverge_above: float = 0.05) -> pd.DataFrame:
    """Synthetic sweep: log10 loss = 0.5 (log10 lr − log10 lr*)² − 1 + noise; lr* per (param, K)."""
    rng = np.random.default_rng(0)
    rows = []
    for (param, k), lr_opt in optima.items():
        for lr in LRS:
            for seed in range(seeds):
                log_loss = 0.5 * (math.log10(lr) - math.log10(lr_opt)) ** 2 - 1 + rng.normal(0, noise)
                diverged = lr > diverge_above
                rows.append({"experiment": "e", "parametrization": param, "modes": k, "lr": lr,
                             "seed": seed, "final_train_loss": math.nan if diverged else 10**log_loss,
                             "diverged": diverged, "status": "diverged" if diverged else "ok"})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("true_log_lr", [-2.5, -2.43, -2.31, -2.2])
def test_parabola_recovers_an_optimum_between_grid_points(true_log_lr):
    x = np.log10(np.array(LRS))
    y = 0.5 * (x - true_log_lr) ** 2
    vertex, _, edge = fit_optimum(x, y)
    assert vertex == pytest.approx(true_log_lr, abs=1e-9) and not edge


def test_optimum_on_the_edge_is_flagged():
    x = np.log10(np.array(LRS))
    _, _, edge = fit_optimum(x, (x - x[0] + 1) ** 2)
    assert edge


@pytest.mark.parametrize("lr_opt", [2.9e-3, 4.1e-3, 1.3e-3])
def test_bootstrap_interval_contains_the_true_optimum(lr_opt):
    df = bowl({("sp", 3): lr_opt})
    row = optimal_lr_per_k(df).iloc[0]
    assert row.lr_low <= lr_opt <= row.lr_high
    assert row.lr_opt == pytest.approx(lr_opt, rel=0.1)
    assert row.lr_high / row.lr_low < 2.0  # 4 seeds, 1% noise: within a factor 2


def test_diverged_trials_count_as_failures():
    df = bowl({("sp", 3): 2e-2}, diverge_above=2.5e-2)  # the optimum sits next to divergence
    row = optimal_lr_per_k(df).iloc[0]
    assert row.n_diverged > 0 and row.lr_opt < 2.5e-2


def test_lr_drift_for_sp_and_mup():
    df = bowl({("sp", 3): 3e-3, ("sp", 24): 3e-3 * 0.41, ("mup", 3): 3e-3, ("mup", 24): 3e-3})
    drift = lr_drift(df).set_index("parametrization")
    assert drift.loc["sp", "drift"] == pytest.approx(0.41, rel=0.1)
    assert drift.loc["sp", "drift_low"] <= 0.41 <= drift.loc["sp", "drift_high"]
    assert bool(drift.loc["sp", "moves"]) and not bool(drift.loc["mup", "moves"])
    assert drift.loc["mup", "drift_low"] <= 1 <= drift.loc["mup", "drift_high"]
    assert drift.loc["sp", "theory_sp"] == pytest.approx(math.sqrt(math.log(3) / math.log(24)))


@pytest.mark.parametrize("hparam,values,best", [("batch_size", (5, 10, 20, 40), 20),
                                                ("beta2", (0.9, 0.95, 0.98, 0.99, 0.999), 0.98)])
def test_discrete_optimum_with_bootstrap_frequency(hparam, values, best):
    rng = np.random.default_rng(1)
    rows = [{"experiment": "e", "parametrization": "mup", "modes": 3, hparam: v, "seed": s,
             "final_train_loss": 0.1 * (1 + abs(values.index(v) - values.index(best))) + rng.normal(0, 1e-3),
             "diverged": False, "status": "ok"} for v in values for s in range(3)]
    row = optimal_hparam_per_k(pd.DataFrame(rows), hparam).iloc[0]
    assert row[f"{hparam}_opt"] == best and row.freq_opt > 0.9


@pytest.mark.parametrize("repeats", [False, True])
def test_the_loss_table_is_pandas_groupby_mean_to_the_last_bit(repeats):
    """One curve's table equals the seed-by-seed groupby mean it stands for, bit for bit: missing
    cells, NaN and diverged losses, an unlisted LR, and (``repeats``) a cell measured three times."""
    rng = np.random.default_rng(3)
    df = bowl({("mup", 4): 1e-3}, seeds=5, noise=0.2, diverge_above=0.02).sample(frac=0.8, random_state=1)
    df.loc[df.index[:4], "final_train_loss"] = np.nan
    if repeats:
        df = pd.concat([df, df.iloc[:6], df.iloc[:3]]).assign(
            final_train_loss=lambda d: d["final_train_loss"] * rng.uniform(0.5, 2, len(d)))
    failed = df["diverged"] | ~np.isfinite(df["final_train_loss"])
    worst = max(1.0, df.loc[~failed, "final_train_loss"].max())
    expected = (df.assign(_l=np.log10(df["final_train_loss"].where(~failed, worst)))
                .groupby(["lr", "seed"])["_l"].mean().unstack("seed").sort_index())
    pd.testing.assert_frame_equal(loss_table(df, "lr"), expected, check_exact=True, check_names=False)


# --- the exponent α of lr* ∝ (log K)^α over all K ------------------------------------------------

def test_vectorised_fit_equals_the_scalar_fit():
    rng = np.random.default_rng(1)
    x = np.log10(np.array(LRS))
    curves = 0.7 * (x[None, :] - rng.uniform(x[0] - 0.3, x[-1] + 0.3, (200, 1))) ** 2
    curves += rng.normal(0, 0.05, curves.shape)
    curves[3, 5] = np.nan  # a row with a missing cell goes the scalar way
    expected = [fit_optimum(x, row)[0] for row in curves]
    np.testing.assert_allclose(fit_optima(x, curves), expected, atol=1e-9)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_log_k_eff_is_d_log_k_with_the_time_cap(dim):
    assert log_k_eff(8, dim) == pytest.approx(dim * math.log(8))
    if dim == 3:
        assert log_k_eff(8, 3, time_modes_max=6) == pytest.approx(math.log(8 * 8 * 6))


@pytest.mark.parametrize("alpha", [-0.5, -0.2, 0.0])
@pytest.mark.parametrize("dim", [1, 2, 3])
def test_exponent_is_recovered_within_its_interval(alpha, dim):
    df = synthetic_sweep(SyntheticSweep(alpha=alpha, seeds=8), np.random.default_rng(3))
    df["dim"] = dim  # d log K: d cancels in α
    fit = lr_exponent(df).iloc[0]
    assert fit.alpha_low <= alpha <= fit.alpha_high
    assert fit.half_width < 0.15
    assert fit.alpha == pytest.approx(alpha, abs=0.1)
    assert fit.theory == -0.5 and fit.ks == (3, 8, 24, 64)


def test_exponent_interval_excludes_the_other_answer():
    sp = synthetic_sweep(SyntheticSweep(alpha=-0.5, seeds=12), np.random.default_rng(4), "sp")
    mup = synthetic_sweep(SyntheticSweep(alpha=0.0, seeds=12), np.random.default_rng(5), "mup")
    fits = lr_exponent(pd.concat([sp, mup])).set_index("parametrization")
    assert fits.loc["sp", "excludes_zero"] and fits.loc["sp", "consistent"]
    assert fits.loc["mup", "excludes_half"] and fits.loc["mup", "consistent"]


@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_exponent_interval_covers_about_95_percent(design):
    """Coverage on repeated synthetic sweeps with a known α, for both LR-grid designs of the quick
    presets; with 4 seeds a plain percentile or normal interval would cover clearly less (the
    t-quantile matters), so this can fail."""
    spec = replace(DESIGNS[design], alpha=-0.5, seeds=4)
    result = exponent_coverage(spec, repeats=80, n_boot=200, more_levels=(0.6,))
    assert 0.87 <= result["coverage"] <= 1.0
    assert abs(result["mean_alpha"] + 0.5) < 0.05
    assert result["coverage_at"][0.6] < 0.8  # a too narrow interval covers clearly less


def test_error_trials_are_not_measurements():
    df = bowl({("sp", 3): 3e-3, ("sp", 12): 3e-3})
    df["status"] = "ok"
    broken = df[df["modes"] == 12].assign(status="error", final_train_loss=math.nan)
    both = pd.concat([df[df["modes"] == 3], broken])
    assert len(finished_trials(both)) == (df["modes"] == 3).sum()
    optima = optimal_lr_per_k(both)
    assert list(optima["modes"]) == [3]  # the K made only of errors is not scored as loss 1.0


# --- the shift of the best batch size / β2 from K_min to K_max -----------------------------------

@pytest.mark.parametrize("hparam", ["batch_size", "beta2"])
def test_hparam_shift_recovers_a_known_shift(hparam):
    spec = replace(SHIFT_SPECS[hparam], seeds=8)
    sp = synthetic_hparam_sweep(spec, np.random.default_rng(3), "sp")
    mup = synthetic_hparam_sweep(replace(spec, shift=0.0), np.random.default_rng(5), "mup")
    fits = hparam_shift(pd.concat([sp, mup]), hparam).set_index("parametrization")
    axis = HPARAM_AXES[hparam]
    sp_fit, mup_fit = fits.loc["sp"], fits.loc["mup"]
    assert sp_fit["shift_low"] <= spec.shift <= sp_fit["shift_high"]
    assert sp_fit["shift"] == pytest.approx(spec.shift, abs=0.2)
    assert sp_fit["moves"] and not mup_fit["moves"]
    assert mup_fit["shift_low"] <= 0 <= mup_fit["shift_high"]
    assert sp_fit["ratio"] == pytest.approx(axis.base ** sp_fit["shift"])
    assert sp_fit["opt_low_k_min"] <= spec.optimum <= sp_fit["opt_high_k_min"]  # natural units
    assert sp_fit["opt_low_k_max"] <= axis.inverse(axis.forward(spec.optimum) + spec.shift) \
        <= sp_fit["opt_high_k_max"]
    assert not sp_fit["edge"] and sp_fit["axis"] == axis.label
    assert (sp_fit["k_min"], sp_fit["k_max"], sp_fit["n_seeds"]) == (3, 12, 8)
    assert sp_fit["loss_range"] > 2 * sp_fit["seed_sd"]  # the hyperparameter matters here


def test_the_shift_bootstrap_is_paired():
    """A seed whose optimum sits high at every K moves both ends together: resampling the same
    seeds at both K cancels it, so the shift is far tighter than either end's own interval."""
    spec = replace(SHIFT_SPECS["batch_size"], seed_shift=0.5, k_shift=0.02)
    fit = hparam_shift(synthetic_hparam_sweep(spec, np.random.default_rng(5)), "batch_size").iloc[0]
    end_half = math.log2(fit.opt_high_k_min / fit.opt_k_min)
    assert fit.half_width < 0.5 * end_half
    assert fit["shift_low"] <= spec.shift <= fit["shift_high"]


def test_a_flat_curve_is_noise_and_an_edge_optimum_is_flagged():
    flat = replace(SHIFT_SPECS["beta2"], curvature=0.0)
    fit = hparam_shift(synthetic_hparam_sweep(flat, np.random.default_rng(6)), "beta2").iloc[0]
    assert fit.loss_range < 2 * fit.seed_sd
    beyond = replace(SHIFT_SPECS["batch_size"], optimum=200.0, shift=0.5)
    assert hparam_shift(synthetic_hparam_sweep(beyond, np.random.default_rng(7)), "batch_size").iloc[0].edge
    inside = synthetic_hparam_sweep(SHIFT_SPECS["batch_size"], np.random.default_rng(7))
    assert not hparam_shift(inside, "batch_size").iloc[0].edge
    with pytest.raises(ValueError, match="batch_size"):
        hparam_shift(inside, "width")


@pytest.mark.parametrize("hparam", ["batch_size", "beta2"])
def test_shift_interval_covers_about_95_percent(hparam):
    """Coverage on repeated synthetic sweeps with a known shift (4 seeds); a 60% interval must
    cover clearly less, so this can fail."""
    result = shift_coverage(SHIFT_SPECS[hparam], repeats=100, n_boot=200, more_levels=(0.6,))
    assert 0.85 <= result["coverage"] <= 1.0
    assert abs(result["mean_shift"] - SHIFT_SPECS[hparam].shift) < 0.05
    assert result["coverage_at"][0.6] < 0.8  # a too narrow interval covers clearly less


# --- one locator, paired draws ------------------------------------------------------------------
def test_every_k_is_resampled_with_the_same_seeds():
    """The samples of one group are paired: a seed whose optimum sits high at every K moves every
    K's sample together, so their differences are far tighter than each K's own spread."""
    spec = replace(SHIFT_SPECS["batch_size"], seed_shift=0.5, k_shift=0.02, seeds=6)
    located = locate(synthetic_hparam_sweep(spec, np.random.default_rng(2)), "batch_size", n_boot=400)
    low, high = located.sort_values("modes")["_samples"]
    assert np.std(high - low) < 0.5 * min(np.std(low), np.std(high))
    assert np.corrcoef(low, high)[0, 1] > 0.8


def test_drift_interval_pairs_the_seeds():
    """The drift's interval is t(n−1) · SE of the paired differences, not of independent ends."""
    df = bowl({("sp", 3): 3e-3, ("sp", 24): 1.2e-3}, seeds=5, noise=0.05)
    located = locate(df, n_boot=500)
    lo, hi = located.sort_values("modes")["_samples"]
    half = student_t(4) * bootstrap_se(hi - lo, 5)
    row = lr_drift(df, n_boot=500).iloc[0]
    assert math.log10(row.drift_high / row.drift) == pytest.approx(half, rel=1e-9)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_reductions_agree_with_the_located_optima(dim):
    df = synthetic_sweep(SyntheticSweep(alpha=-0.5, seeds=6), np.random.default_rng(8))
    df["dim"] = dim
    located = locate(df, n_boot=200)
    optima = optimal_lr_per_k(df, n_boot=200)
    np.testing.assert_allclose(np.log10(optima["lr_opt"]), located["x_opt"])
    drift = lr_drift(df, n_boot=200).iloc[0]
    assert math.log10(drift.drift) == pytest.approx(located["x_opt"].iloc[-1] - located["x_opt"].iloc[0])
    x = np.log([log_k_eff(k, dim) for k in located["modes"]])
    slope = np.polyfit(x, located["x_opt"] * math.log(10), 1)[0]
    assert lr_exponent(df, n_boot=200).iloc[0].alpha == pytest.approx(slope)


# --- no estimate from no evidence (issue 21) -----------------------------------------------------
def test_a_record_without_a_valid_status_is_not_a_result():
    """A record without a status (NaN) or with another status does not move the optimum."""
    df = bowl({("sp", 3): 4.2e-3})
    stray = df[df["lr"] == df["lr"].max()].assign(final_train_loss=1e-9, diverged=False,
                                                   status=math.nan)
    other = stray.assign(status="running")
    mixed = pd.concat([df, stray, other])
    assert len(finished_trials(mixed)) == len(df)
    assert optimal_lr_per_k(mixed).iloc[0].lr_opt == pytest.approx(optimal_lr_per_k(df).iloc[0].lr_opt)
    with pytest.raises(NoEvidence, match="valid status"):
        optimal_lr_per_k(df.drop(columns="status"))


@pytest.mark.parametrize("call", [
    lambda df: optimal_lr_per_k(df), lambda df: lr_drift(df), lambda df: lr_exponent(df),
    lambda df: hparam_shift(df, "lr"), lambda df: optimal_hparam_per_k(df, "lr"),
])
def test_empty_error_only_and_all_diverged_stores_say_so(call):
    df = bowl({("sp", 3): 3e-3, ("sp", 12): 3e-3})
    with pytest.raises(NoEvidence, match="no records"):
        call(df.iloc[0:0])
    with pytest.raises(NoEvidence, match="valid status"):
        call(df.assign(status="error"))
    diverged = df.assign(diverged=True, status="diverged", final_train_loss=math.nan)
    with pytest.raises(NoEvidence, match=f"every one of the {len(df)} measured trials diverged"):
        call(diverged)


def test_a_curve_whose_every_trial_diverged_has_no_optimum():
    """lrs=1e30 at one K: that K has no optimum (NaN, named), not lr* = 1e30 with a zero interval."""
    df = bowl({("sp", 3): 3e-3, ("sp", 12): 3e-3, ("sp", 24): 3e-3})
    dead = df["modes"] == 12
    df.loc[dead, ["diverged", "status", "final_train_loss"]] = [True, "diverged", math.nan]
    optima = optimal_lr_per_k(df).set_index("modes")
    assert math.isnan(optima.loc[12, "lr_opt"]) and math.isfinite(optima.loc[3, "lr_opt"])
    fit = lr_exponent(df).iloc[0]
    assert math.isnan(fit.alpha) and fit.no_evidence == (12,)
    assert not fit.excludes_zero and not fit.excludes_half
    assert lr_drift(df).iloc[0].no_evidence == (12,)
