"""End-to-end tuning: both procedures are read off a real (smoke) sweep, costs add up."""

import numpy as np
import pytest

from mufno_core.analysis.end_to_end import best_grid_lr, end_to_end, run_flops
from mufno_core.book import end_to_end_chapter
from mufno_core.book.chapter import in_words
from mufno_core.book.end_to_end_chapter import OUTCOME_COLUMNS, EndToEndChapter
from mufno_core.sweep import run_sweep
from mufno_core.sweep.data import SYNTHETIC_RESOLUTION

pytestmark = pytest.mark.slow  # the module's fixture trains a whole smoke sweep (30 trials)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    return run_sweep("synthetic_lr", "smoke", str(results), progress=False)


def test_end_to_end_from_a_sweep(sweep):
    grid = (SYNTHETIC_RESOLUTION[1],)
    table = end_to_end(sweep, grid)
    direct, transfer = table.iloc[0], table.iloc[1]
    k_min, k_max = sweep["modes"].min(), sweep["modes"].max()
    assert direct["K"] == transfer["K"] == k_max
    n_lr_seed = sweep["lr"].nunique() * sweep["seed"].nunique()
    assert direct["runs"] == n_lr_seed
    assert transfer["runs"] == n_lr_seed + sweep["seed"].nunique()  # proxy sweep + final runs
    proxy = sweep[(sweep.parametrization == "mup") & (sweep.modes == k_min)]
    assert transfer["lr"] == best_grid_lr(proxy)
    assert direct["cost_flops_vs_direct"] == 1.0
    # the proxy is cheaper per run, so the FLOP ratio is below (n+seeds)/n
    assert 0 < transfer["cost_flops_vs_direct"] < (n_lr_seed + 2) / n_lr_seed
    assert np.isfinite(transfer["test_rel_l2_mean"])


def test_flops_scale_with_steps(sweep):
    rows = sweep.head(2).copy()
    once = run_flops(rows, (SYNTHETIC_RESOLUTION[1],))
    rows["steps_done"] = rows["steps_done"] * 2
    assert run_flops(rows, (SYNTHETIC_RESOLUTION[1],)) == pytest.approx(2 * once)


def test_bad_proxy_is_a_clear_error(sweep):
    with pytest.raises(ValueError, match="must be smaller"):
        end_to_end(sweep, (SYNTHETIC_RESOLUTION[1],), proxy_k=4, target_k=2)
    with pytest.raises(ValueError, match="no mup trials at K=3"):
        end_to_end(sweep, (SYNTHETIC_RESOLUTION[1],), proxy_k=3, target_k=4)


def test_sample_grid_of_the_synthetic_data(sweep):
    from mufno_core.analysis.end_to_end import sample_grid

    assert sample_grid(sweep) == (SYNTHETIC_RESOLUTION[1],)


@pytest.fixture(scope="module")
def chapter(sweep):
    return EndToEndChapter("smoke", {"Darcy": sweep}, {"Darcy": (SYNTHETIC_RESOLUTION[1],)})


def test_the_chapter_tables_one_row_per_method(chapter):
    table = chapter.outcome_table("Darcy")
    assert list(table.data.columns) == list(OUTCOME_COLUMNS.values())
    assert len(table.data) == 2 and table.data.iloc[1]["method"].startswith("μTransfer")
    assert table.data.iloc[0]["test rel. L2 (mean ± std)"].count("%") == 2
    assert table.caption == in_words(chapter.source("Darcy"))  # a dirty tree said in words
    assert list(chapter.comparison().data.columns)[1:] == ["Darcy rel. L2", "Darcy tuning cost (FLOPs)"]
    assert chapter.verdict().startswith("**Verdict, Darcy (smoke preset).** ")


def test_the_exercise_checks_pass_the_table_and_name_a_miscount(chapter):
    runs = chapter.tables["Darcy"]["runs"].tolist()
    assert chapter.check_runs(*runs).startswith("check passed")
    with pytest.raises(AssertionError, match="you count"):
        chapter.check_runs(runs[0], runs[1] - 1)
    sp_table = end_to_end(chapter.sweeps["Darcy"], chapter.grids["Darcy"], direct_parametrization="sp")
    truth = bool(sp_table["test_rel_l2_mean"].iloc[0] < sp_table["test_rel_l2_mean"].iloc[1])
    assert chapter.check_sp_direct(sp_table, truth).startswith("check passed")
    with pytest.raises(AssertionError, match="test_rel_l2_mean"):
        chapter.check_sp_direct(sp_table, not truth)
    with pytest.raises(AssertionError, match="SP's direct tuning"):
        chapter.check_sp_direct(chapter.tables["Darcy"], truth)


def test_run_reads_both_sweeps_with_only_the_overrides_set(monkeypatch, sweep):
    calls = []
    monkeypatch.setattr(end_to_end_chapter, "run_sweep",
                        lambda name, preset, results, **kw: calls.append((name, kw)) or sweep)
    monkeypatch.setattr(end_to_end_chapter, "sample_grid", lambda df, data_dir: (SYNTHETIC_RESOLUTION[1],))
    ch = EndToEndChapter.run("smoke", "results", scheduler="", modes=[], seeds=[0, 1])
    assert [name for name, _ in calls] == ["darcy_lr", "navier_stokes_lr"]
    assert calls[0][1] == {"data_dir": "data", "progress": False, "scheduler": None, "seeds": [0, 1]}
    assert list(ch.tables) == ["Darcy", "Navier–Stokes"]
