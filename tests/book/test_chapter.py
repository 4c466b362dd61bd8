"""The chapter pattern: one sweep analysed once, one call per table and figure (LR, batch size, β2),
on synthetic sweeps whose optimum moves by a known amount."""

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from mufno_core.analysis.coverage import SHIFT_SPECS, SyntheticSweep, synthetic_hparam_sweep, synthetic_sweep
from mufno_core.book import chapter
from mufno_core.book.chapter import HparamChapter, LRChapter

matplotlib.use("Agg")

RECORD = {"preset": "smoke", "wall_time": 3.0, "torch_version": "2.x", "code_commit": "abc",
          "device": "cpu", "cpu_model": "test CPU", "mirrored": False}


def records(frames: list[pd.DataFrame], experiment: str) -> pd.DataFrame:
    df = pd.concat(frames, ignore_index=True).assign(experiment=experiment, **RECORD)
    return df.assign(steps_done=(1000 // df["batch_size"]) if "batch_size" in df else 100)


def hparam_records(hparam: str, experiment: str) -> pd.DataFrame:
    spec = SHIFT_SPECS[hparam]
    return records([synthetic_hparam_sweep(spec, np.random.default_rng(1), "sp"),
                    synthetic_hparam_sweep(spec.__class__(**{**spec.__dict__, "shift": 0.0}),
                                           np.random.default_rng(2), "mup")], experiment)


@pytest.fixture(scope="module")
def batch() -> HparamChapter:
    return HparamChapter("darcy_batch_size", "smoke", hparam_records("batch_size", "darcy_batch_size"))


@pytest.mark.parametrize("hparam, experiment", [("batch_size", "darcy_batch_size"), ("beta2", "darcy_beta2")])
def test_hparam_chapter_finds_the_known_shift(hparam, experiment):
    ch = HparamChapter(experiment, "smoke", hparam_records(hparam, experiment))
    assert ch.hparam == hparam and ch.axis.field == hparam
    rows = ch.shift.set_index("parametrization")
    want = SHIFT_SPECS[hparam].shift  # SP's optimum moves by this much on the axis, μP's not at all
    assert rows.loc["sp", "shift_low"] < want < rows.loc["sp", "shift_high"]
    assert rows.loc["mup", "shift_low"] < 0 < rows.loc["mup", "shift_high"]
    assert ch.verdict().startswith("**Verdict (smoke preset).** ")


def test_hparam_tables_fit_the_column(batch):
    shift = batch.shift_table().data
    assert list(shift.columns) == ["parametrization", "optimum at K = 3 [95% CI]",
                                   "optimum at K = 12 [95% CI]", "ratio K max / K min [95% CI]",
                                   "on grid edge", "loss range / seed spread (log10)"]
    assert list(shift["parametrization"]) == ["μP", "SP"]
    optima = batch.optima_table().data
    assert list(optima.columns) == ["parametrization", "K", "best batch size", "bootstrap picks it",
                                    "loss at optimum", "seeds", "diverged runs"]
    assert len(optima) == 4 and optima["bootstrap picks it"].str.endswith("%").all()
    comparison = batch.comparison().data
    assert comparison.columns[0] == "K" and "SP" in comparison.columns
    assert "calibrated" not in " ".join(comparison.columns) and not comparison.isna().any().any()
    assert batch.optima_table().caption == batch.source


def test_hparam_curves_carry_their_source(batch):
    fig = batch.curves()
    assert len(fig.axes) == 2
    assert fig.mufno_caption == batch.source
    assert tuple(fig.get_size_inches()) == (6.8, 3.3)


def test_exercise_checks_pass_the_right_answer_and_name_a_wrong_one(batch):
    assert batch.check_per_trial(lambda b: 1000 // b, "steps_done").startswith("check passed: 5 → 200")
    with pytest.raises(AssertionError, match="batch size 5: you give 201, the trial has 200"):
        batch.check_per_trial(lambda b: 1000 // b + 1, "steps_done")
    right = {(r.parametrization, int(r.modes)): r.batch_size_opt for r in batch.grid_optima.itertuples()}
    assert batch.check_grid_optima(right).startswith("check passed: ")
    wrong = {**right, ("sp", 3): 80}
    with pytest.raises(AssertionError, match=r"\('sp', 3\): you find 80"):
        batch.check_grid_optima(wrong)
    with pytest.raises(AssertionError, match="curves"):
        batch.check_grid_optima({("sp", 3): 10})


def test_lr_chapter_tables_and_exponent():
    spec = SyntheticSweep(ks=(3, 8, 24), seeds=6)
    df = records([synthetic_sweep(spec, np.random.default_rng(0), "sp"),
                  synthetic_sweep(SyntheticSweep(alpha=0.0, ks=(3, 8, 24), seeds=6),
                                  np.random.default_rng(1), "mup")], "burgers_lr")
    ch = LRChapter("burgers_lr", "smoke", df)
    alpha = ch.exponent.set_index("parametrization")
    assert alpha.loc["sp", "alpha_low"] < -0.5 < alpha.loc["sp", "alpha_high"]
    assert alpha.loc["mup", "alpha_low"] < 0 < alpha.loc["mup", "alpha_high"]
    assert list(ch.optima_table().data["K"]) == ["3", "8", "24"] * 2
    exponents = ch.exponent_table().data
    assert "exponent α [95% CI]" in exponents.columns
    assert set(exponents["against 0 (no drift)"]) <= set(chapter.SIDE_WORDS.values())
    drift = ch.drift_table().data
    assert set(drift["against 1 (no drift)"]) <= set(chapter.SIDE_WORDS.values())
    assert len(ch.exponent_figure().axes) == 1
    fig = ch.curves()
    fig.canvas.draw()
    low, high = fig.axes[0].get_xlim()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if low <= t.get_position()[0] <= high]
    assert len(fig.axes) == 2 and len([t for t in labels if t]) >= 2, f"LR ticks to read: {labels}"


def test_run_passes_only_the_overrides_set(monkeypatch):
    seen = {}

    def fake_run_sweep(experiment, preset, results_dir, **kwargs):
        seen.update(kwargs, experiment=experiment)
        return hparam_records("batch_size", experiment)

    monkeypatch.setattr(chapter, "run_sweep", fake_run_sweep)
    ch = HparamChapter.run("darcy_batch_size", "smoke", "results", executor="inline", scheduler="",
                           modes=[], lrs=[0.01], seeds=[])
    assert seen == {"experiment": "darcy_batch_size", "executor": "inline", "scheduler": None,
                    "lrs": [0.01], "progress": False}
    assert ch.overrides == {"lrs": [0.01]} and isinstance(ch, HparamChapter)
    assert "trials" in ch.status() and not math.isnan(ch.shift["shift"].iloc[0])
