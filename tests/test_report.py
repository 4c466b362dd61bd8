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


def test_hparam_verdict_and_table():
    optima = optima_frame((0.9, 0.99, 0.999), (0.98, 0.98, 0.98))
    assert hparam_verdict(optima, "beta2").startswith("Reproduced")
    assert "uncertain" in hparam_verdict(optima_frame((0.9,) * 3, (0.98,) * 3, 0.5), "beta2")
    assert "edge of the grid (0.9, 0.999)" in hparam_verdict(optima, "beta2", [0.9, 0.98, 0.99, 0.999])
    assert "edge" not in hparam_verdict(optima_frame((0.95,) * 3, (0.98,) * 3), "beta2",
                                        [0.9, 0.95, 0.98, 0.999])
    table = hparam_comparison("darcy_beta2", optima, "beta2")
    assert list(table.columns) == ["SP", "μP"]
    assert table.loc["the paper reports", "μP"] == "best β2 = 0.98 at every K"
    assert table.loc[3, "μP"].startswith("0.98")


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
