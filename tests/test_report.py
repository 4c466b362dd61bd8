"""Verdicts follow the measured intervals; the paper's numbers stay labelled as the paper's."""

import pandas as pd
import pytest

from mufno_core.report import hparam_comparison, hparam_verdict, lr_comparison, lr_verdict


def drift_frame(sp: tuple[float, float, float], mup: tuple[float, float, float], edge=False):
    rows = []
    for name, (drift, low, high) in (("sp", sp), ("mup", mup)):
        rows.append(dict(experiment="navier_stokes_lr", parametrization=name, k_min=3, k_max=24,
                         lr_opt_k_min=1e-3, lr_opt_k_max=1e-3 * drift, drift=drift, drift_low=low,
                         drift_high=high, moves=bool(high < 1 or low > 1), edge=edge))
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("sp", "mup", "start"), [
    ((0.4, 0.3, 0.6), (1.0, 0.8, 1.2), "Reproduced"),
    ((0.8, 0.6, 1.1), (1.0, 0.8, 1.2), "Not resolved"),
    ((0.4, 0.3, 0.6), (0.7, 0.6, 0.9), "Partly reproduced"),
    ((1.0, 0.9, 1.1), (0.5, 0.4, 0.6), "Not reproduced"),
])
def test_lr_verdict_follows_the_intervals(sp, mup, start):
    assert lr_verdict(drift_frame(sp, mup)).startswith(start)


def test_no_verdict_when_an_optimum_is_on_the_grid_edge():
    assert lr_verdict(drift_frame((0.4, 0.3, 0.6), (1, 0.8, 1.2), edge=True)).startswith("No verdict")


def test_lr_comparison_sets_paper_beside_measurement():
    table = lr_comparison("navier_stokes_lr", drift_frame((0.4, 0.3, 0.6), (1.0, 0.8, 1.2)))
    assert list(table.index) == ["SP", "μP"]
    assert "7.4e-4" in table.loc["SP", "the paper reports"]
    assert "moves down" in table.loc["SP", "we measured: drift"]
    assert "no drift" in table.loc["μP", "we measured: drift"]


def optima_frame(sp_best, mup_best, freq=0.9):
    rows = [dict(parametrization=p, modes=k, beta2_opt=b, freq_opt=freq)
            for p, bests in (("sp", sp_best), ("mup", mup_best)) for k, b in zip((3, 6, 12), bests)]
    return pd.DataFrame(rows)


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
                         grid_step=grid_step, loss_range=loss_range, seed_sd=seed_sd, n_seeds=3))
    return pd.DataFrame(rows)


MOVES, STAYS, WIDE, MOVES_DOWN = (1.0, 0.7, 1.3), (0.1, -0.2, 0.4), (0.2, -1.5, 1.9), (-0.8, -1.2, -0.4)


@pytest.mark.parametrize(("sp", "mup", "start"), [
    (MOVES, STAYS, "Reproduced"),
    (MOVES_DOWN, STAYS, "Reproduced"),
    (STAYS, STAYS, "Stable under both"),
    (MOVES, MOVES, "Not reproduced"),
    (STAYS, MOVES_DOWN, "Not reproduced"),
    (MOVES, WIDE, "Not resolved for μP"),
    (WIDE, STAYS, "Not resolved for SP"),
    (WIDE, WIDE, "Not resolved:"),
    (STAYS, WIDE, "Not resolved:"),
])
def test_hparam_verdict_follows_the_intervals(sp, mup, start):
    verdict = hparam_verdict(shift_frame(sp, mup), "batch_size")
    assert verdict.startswith(start)
    if sp == MOVES:
        assert "SP's best batch size 14 → 28 over K 3 → 12: ×2.00 [1.62, 2.46], moves up" in verdict
    assert "edge" not in verdict and "barely matters" not in verdict
    assert hparam_verdict(shift_frame(sp, mup), "batch_size", details=False).startswith(start)


def test_hparam_verdict_caveats():
    edge = hparam_verdict(shift_frame(MOVES, STAYS, edge=("mup",)), "batch_size")
    assert edge.startswith("Not resolved for μP") and "μP's optimum sits on the grid's edge" in edge
    assert "Widen the batch size grid (parameter `batch_sizes`): μP has an optimum on its edge" in edge
    both = hparam_verdict(shift_frame(STAYS, STAYS, edge=("sp", "mup")), "beta2")
    assert both.startswith("Not resolved:") and "SP and μP have optima on its edge" in both
    assert "stays put" not in both  # a zero-width interval at the grid's edge is not "stable"
    flat = hparam_verdict(shift_frame(WIDE, WIDE, loss_range=0.01, seed_sd=0.008), "beta2")
    assert "barely matters for SP and μP" in flat and flat.startswith("Not resolved")
    assert "decades" in flat  # β2's shift is said in decades of 1 − β2
    assert "Both SP and μP" in hparam_verdict(shift_frame(MOVES, STAYS).iloc[:1], "batch_size")


def test_a_flat_sweep_is_not_resolved_and_barely_matters():
    """From synthetic records through hparam_shift: a loss that does not depend on β2."""
    import dataclasses

    import numpy as np

    from mufno_core.sweep.analysis import hparam_shift
    from mufno_core.sweep.coverage import SHIFT_SPECS, synthetic_hparam_sweep

    flat = dataclasses.replace(SHIFT_SPECS["beta2"], curvature=0.0, seeds=3)
    df = pd.concat([synthetic_hparam_sweep(flat, np.random.default_rng(1), "sp"),
                    synthetic_hparam_sweep(flat, np.random.default_rng(2), "mup")])
    verdict = hparam_verdict(hparam_shift(df, "beta2"), "beta2")
    assert "barely matters" in verdict and "not resolved" in verdict
    assert "Reproduced" not in verdict and "Stable" not in verdict


def test_hparam_table_beside_the_paper():
    optima = optima_frame((0.9, 0.99, 0.999), (0.98, 0.98, 0.98))
    table = hparam_comparison("darcy_beta2", optima, "beta2")
    assert list(table.columns) == ["SP", "μP"]
    assert table.loc["the paper reports", "μP"] == "best β2 = 0.98 at every K"
    assert table.loc[3, "μP"].startswith("0.98")
    table = hparam_comparison("darcy_batch_size", optima.rename(columns={"beta2_opt": "batch_size_opt"}),
                              "batch_size", shift_frame(MOVES, STAYS))
    assert table.loc["located optimum, K 3 → 12 [95% CI]", "SP"] == "14 [12, 16] → 28 [24, 32]"
    assert table.loc["shift K 3 → 12 [95% CI]", "μP"] == "×1.07 [0.87, 1.32]: stable"
    assert table.index[-1] == "the paper reports"


def test_end_to_end_verdict_and_table():
    from mufno_core.report import end_to_end_comparison, end_to_end_verdict

    table = pd.DataFrame({"test_rel_l2_mean": [0.0125, 0.0122], "test_rel_l2_std": [0.001, 0.001],
                          "cost_flops_vs_direct": [1.0, 0.3], "cost_wall_vs_direct": [1.0, 0.4]},
                         index=["direct", "transfer"])
    assert "as good as direct tuning" in end_to_end_verdict(table)
    assert "0.30× the FLOPs" in end_to_end_verdict(table)
    worse = table.assign(test_rel_l2_mean=[0.0125, 0.05])
    assert "worse than direct tuning" in end_to_end_verdict(worse)
    ours = end_to_end_comparison({"Darcy": table}, "quick")
    assert ours.loc["μTransfer-FNO", "Darcy rel. L2"] == "1.22%"
    assert ours.loc["μTransfer-FNO", "Darcy tuning cost (FLOPs)"] == "0.30×"


SYNTHETIC_GRID = {"lrs": [10 ** (j / 8) for j in range(-28, -11)], "seeds": [0, 1, 2], "modes": [3, 24]}


def write_synthetic_sweep(root, experiment, optimum_of, noise=0.01):
    """Records of ``experiment``'s smoke grid whose loss is a parabola in log LR around
    ``optimum_of(parametrization, K)``, plus seed noise: a store with a known answer."""
    import numpy as np

    from mufno_core.sweep import ResultsStore, grid
    from mufno_core.sweep.config import SCHEMA

    store = ResultsStore(root, experiment)
    configs = grid(experiment, "smoke", **SYNTHETIC_GRID)
    for c in configs:
        jitter = noise * np.sin(7 * c.seed + 1e4 * c.lr)
        loss = 0.05 * 10 ** ((np.log10(c.lr) - np.log10(optimum_of(c.parametrization, c.modes))) ** 2
                             + jitter)
        store.write({"schema": SCHEMA, "trial_id": c.trial_id(), "config": c.to_dict(),
                     "status": "ok", "final_train_loss": loss, "final_test_loss": loss,
                     "diverged": False, "wall_time": 1.0, "steps_done": 4})


def test_summary_of_a_store_with_a_known_answer(tmp_path):
    from mufno_core.report import summarize_results

    write_synthetic_sweep(tmp_path, "navier_stokes_lr",
                          lambda p, k: 1.8e-3 if p == "mup" or k == 3 else 7.4e-4)
    (tmp_path / "navier_stokes_lr" / "junk.json").write_text("{not json")
    grids = {"navier_stokes_lr": SYNTHETIC_GRID}
    with pytest.warns(UserWarning, match="junk.json"):
        summary = summarize_results(str(tmp_path), "smoke", grids)
    row = summary.set_index("experiment").loc["navier_stokes_lr"]
    assert row["verdict"].startswith("Reproduced")
    assert "SP drift 0.41×" in row["we measured"] and "SP α = " in row["we measured"]
    assert row["trials"] == 2 * 2 * 17 * 3  # parametrization × K × LR × seed
    with pytest.warns(UserWarning, match="junk.json"):
        assert summarize_results(str(tmp_path), "quick", grids).empty  # presets are not mixed


def test_summary_leaves_out_trials_of_another_grid(tmp_path):
    """Trials of an earlier grid left in the store do not count (and a warning says so)."""
    from mufno_core.report import summarize_results

    write_synthetic_sweep(tmp_path, "navier_stokes_lr", lambda p, k: 1e-3)
    with pytest.warns(UserWarning, match="not in its grid"):
        assert summarize_results(str(tmp_path), "smoke").empty  # the plain smoke grid: K = 2, 4


def test_summary_numbers_are_the_chapters_numbers(tmp_path):
    """The summary page recomputes each drift exactly as the chapters do (same bootstrap)."""
    import warnings

    from mufno_core.report import drift_sentence, summarize_results
    from mufno_core.sweep import grid, grid_ids, load_results, lr_drift, optimal_lr_per_k

    write_synthetic_sweep(tmp_path, "darcy_lr", lambda p, k: 3e-3 if p == "mup" else 3e-3 * (k / 3) ** -0.3,
                          noise=0.3)
    df = load_results(tmp_path / "darcy_lr")
    df = df[df["trial_id"].isin(grid_ids(grid("darcy_lr", "smoke", **SYNTHETIC_GRID)))]
    chapter = lr_drift(df, optima=optimal_lr_per_k(df, keep_samples=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        row = summarize_results(str(tmp_path), "smoke", {"darcy_lr": SYNTHETIC_GRID}).iloc[0]
    for r in chapter.itertuples():
        assert drift_sentence(r) in row["we measured"]


def test_summary_of_a_beta2_store_with_a_known_answer(tmp_path):
    """A β2 store whose SP optimum moves half a decade of 1 − β2 (0.98 → 0.994) and μP's not."""
    import math
    import warnings

    from mufno_core.report import summarize_results
    from mufno_core.sweep import ResultsStore, grid
    from mufno_core.sweep.config import SCHEMA

    overrides = {"beta2s": [0.9, 0.95, 0.98, 0.99, 0.995, 0.999], "seeds": [0, 1, 2, 3], "modes": [3, 12]}
    store = ResultsStore(tmp_path, "darcy_beta2")
    for c in grid("darcy_beta2", "smoke", **overrides):
        optimum = -1.7 - (0.5 if c.parametrization == "sp" and c.modes == 12 else 0.0)
        jitter = 0.005 * math.sin(7 * c.seed + 1e3 * c.beta2 + c.modes)
        loss = 0.05 * 10 ** (0.3 * (math.log10(1 - c.beta2) - optimum) ** 2 + jitter)
        store.write({"schema": SCHEMA, "trial_id": c.trial_id(), "config": c.to_dict(),
                     "status": "ok", "final_train_loss": loss, "final_test_loss": loss,
                     "diverged": False, "wall_time": 1.0, "steps_done": 4})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        row = summarize_results(str(tmp_path), "smoke", {"darcy_beta2": overrides}).iloc[0]
    assert row["verdict"].startswith("Reproduced")
    assert "SP's best Adam β2 0.980 → 0.994 over K 3 → 12" in row["we measured"]
    assert "μP's best Adam β2" in row["we measured"] and "stays put" in row["we measured"]
