"""The summary of a results store: each experiment's grid analysed with the chapters' settings,
its verdict's headline, one sentence where there is nothing to estimate from, and the figure."""

from __future__ import annotations

import math
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

from mufno_core.analysis.optima import NoEvidence, drift, locate
from mufno_core.analysis.summary import (
    exponents_of_store,
    plot_exponent_summary,
    summarize_results,
    summary_table,
    training_steps,
)
from mufno_core.analysis.verdicts import drift_sentence

matplotlib.use("Agg")


SYNTHETIC_GRID = {"lrs": [10 ** (j / 8) for j in range(-28, -11)], "seeds": [0, 1, 2], "modes": [3, 24]}


def write_synthetic_sweep(root, experiment, optimum_of, noise=0.01):
    """Records of ``experiment``'s smoke grid whose loss is a parabola in log LR around
    ``optimum_of(parametrization, K)``, plus seed noise: a store with a known answer."""
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
    with pytest.warns(UserWarning, match="junk.json"), pytest.raises(NoEvidence, match="'quick'"):
        summarize_results(str(tmp_path), "quick", grids)  # presets are not mixed


def test_summary_leaves_out_trials_of_another_grid(tmp_path):
    """Trials of an earlier grid left in the store do not count (and a warning says so)."""
    write_synthetic_sweep(tmp_path, "navier_stokes_lr", lambda p, k: 1e-3)
    with pytest.warns(UserWarning, match="not in its grid"), pytest.raises(NoEvidence):
        summarize_results(str(tmp_path), "smoke")  # the plain smoke grid: K = 2, 4


def test_summary_numbers_are_the_chapters_numbers(tmp_path):
    """The summary page recomputes each drift exactly as the chapters do (same bootstrap)."""
    from mufno_core.sweep import grid, grid_ids, load_results

    write_synthetic_sweep(tmp_path, "darcy_lr", lambda p, k: 3e-3 if p == "mup" else 3e-3 * (k / 3) ** -0.3,
                          noise=0.3)
    df = load_results(tmp_path / "darcy_lr")
    df = df[df["trial_id"].isin(grid_ids(grid("darcy_lr", "smoke", **SYNTHETIC_GRID)))]
    chapter = drift(locate(df))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        row = summarize_results(str(tmp_path), "smoke", {"darcy_lr": SYNTHETIC_GRID}).iloc[0]
    for r in chapter.itertuples():
        assert drift_sentence(r) in row["we measured"]


def test_summary_of_a_beta2_store_with_a_known_answer(tmp_path):
    """A β2 store whose SP optimum moves half a decade of 1 − β2 (0.98 → 0.994) and μP's not."""
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


def test_a_store_whose_every_trial_diverged_says_so(tmp_path):
    """lrs=1e30: the summary says every trial diverged, not lr* = 1e30 with a zero-width interval."""
    from mufno_core.sweep import ResultsStore, grid
    from mufno_core.sweep.config import SCHEMA

    store = ResultsStore(tmp_path, "navier_stokes_lr")
    for c in grid("navier_stokes_lr", "smoke", **SYNTHETIC_GRID):
        store.write({"schema": SCHEMA, "trial_id": c.trial_id(), "config": c.to_dict(),
                     "status": "diverged", "final_train_loss": None, "final_test_loss": None,
                     "diverged": True, "wall_time": 1.0, "steps_done": 1})
    grids = {"navier_stokes_lr": SYNTHETIC_GRID}
    row = summarize_results(str(tmp_path), "smoke", grids).iloc[0]
    assert row["verdict"].startswith("No verdict: every one of the")
    assert "diverged" in row["we measured"] and "α" not in row["we measured"]
    assert exponents_of_store(str(tmp_path), "smoke", grids).empty
    with pytest.raises(NoEvidence, match="no LR experiment"):
        plot_exponent_summary(exponents_of_store(str(tmp_path), "smoke", grids))


def test_an_empty_store_is_one_sentence(tmp_path):
    with pytest.raises(NoEvidence, match="holds no measured trials of preset 'smoke'"):
        summarize_results(str(tmp_path), "smoke")
    with pytest.raises(NoEvidence):
        summary_table(pd.DataFrame(columns=["status", "modes", "lr", "seed", "diverged"]))


def test_the_exponent_figure_draws_each_interval(tmp_path):
    write_synthetic_sweep(tmp_path, "navier_stokes_lr",
                          lambda p, k: 1.8e-3 if p == "mup" or k == 3 else 7.4e-4)
    exponents = exponents_of_store(str(tmp_path), "smoke", {"navier_stokes_lr": SYNTHETIC_GRID})
    assert set(exponents["parametrization"]) == {"sp", "mup"}
    fig = plot_exponent_summary(exponents)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "SP (measured, 95% CI)" in labels and "the paper's value" in labels
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("swept", ["lr", "batch_size"])
def test_the_cli_summary_says_when_every_trial_diverged(swept):
    """`mufno sweep … --set lrs=1e30`: one sentence, not lr* = 1e30 with a zero-width interval."""
    from mufno_core.cli.sweep import summarise

    rows = [{"experiment": "e", "parametrization": p, "modes": k, "lr": 1e30, "batch_size": b,
             "seed": s, "final_train_loss": math.nan, "diverged": True, "status": "diverged"}
            for p in ("sp", "mup") for k in (2, 4) for b in (4, 8) for s in range(2)]
    text = summarise(pd.DataFrame(rows), swept)
    assert text.startswith("no estimate: every one of the 16 measured trials diverged")
    assert "1e+30" not in text and "1.00e+30" not in text
    assert summarise(pd.DataFrame(rows).assign(status="error"), swept) == "no finished trials"


def test_the_summary_reads_the_calibrated_rule_where_an_exponent_was_measured():
    from mufno_core.analysis.summary import default_overrides

    assert default_overrides("burgers_lr", "quick") == {"parametrizations": ("sp", "mup", "cal")}
    assert default_overrides("burgers_lr", "smoke") == {}
    assert default_overrides("darcy_batch_size", "quick") == {}


def test_a_summary_row_names_the_training_length_of_its_verdict():
    frame = pd.DataFrame({"steps": [300, 300, 100]})
    assert training_steps(frame) == "100–300"
    assert training_steps(frame[frame["steps"] == 300]) == "300"
    assert training_steps(pd.DataFrame({"steps": [None], "epochs": [8]})) == "8 epochs"
