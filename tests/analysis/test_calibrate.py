"""The coordinate check on a trial, its exponent β, the prediction α = −β and the calibrated rule."""

import math
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

from mufno_core.analysis.calibrate import (
    CANDIDATE_MEASURES,
    UpdateMeasure,
    check_trials,
    coupled_model,
    flatness_table,
    prediction_table,
    prediction_verdict,
    stored_check,
    update_exponents,
)
from mufno_core.analysis.coverage import SyntheticSweep, synthetic_sweep
from mufno_core.analysis.optima import lr_exponent
from mufno_core.book.calibrated_chapter import CalibratedChapter
from mufno_core.book.chapter import LRChapter
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.experiments import grid
from mufno_core.sweep.trial import run_group_stacked, run_trial

matplotlib.use("Agg")

KS = {1: (2, 4, 8, 16), 2: (2, 3, 5, 7), 3: (2, 3, 4)}


def synthetic_trial(dim: int, modes: int, seed: int, exponent: float | None) -> TrialConfig:
    """A one-step trial of the built-in problem in which only the spectral weights move (the other
    weights' LR is 1e-12 of theirs), at a LR small enough for the output to be linear in the step."""
    return TrialConfig(
        experiment="synthetic_lr", dataset="synthetic", preset="smoke", dim=dim, in_channels=1,
        out_channels=1, parametrization="sp" if exponent is None else "cal", modes=modes,
        lr=1e-5, other_lr=1e-17, seed=seed, base_modes=2, width=8, depth=2, steps=1,
        batch_size=8, n_train=16, n_test=8, cal_exponent=exponent)


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("where", ["output", "spectral"])
def test_check_measures_a_known_growth(dim, where):
    """A calibrated rule with exponent −e multiplies the spectral LR by (log K_eff / log K₀_eff)^e.
    With only the spectral weights moving and one small Adam step (η·sign(g)), the update of every
    layer's output is that factor times SP's, so β(cal) − β(SP) = e, exactly up to second order."""
    e = 0.7
    configs = [synthetic_trial(dim, k, s, x) for x in (None, -e) for k in KS[dim] for s in (0, 1)]
    df = check_trials(configs, steps=1)
    betas = update_exponents(df, UpdateMeasure(where, 1), n_boot=50).set_index("parametrization")
    assert betas.loc["cal", "beta"] - betas.loc["sp", "beta"] == pytest.approx(e, abs=0.02)
    assert (df["seconds"] > 0).all() and (df[where] > 0).all()


def known_growth_frame(beta: float, noise: float, seeds: int = 8, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for k in (3, 8, 24, 64):
        for s in range(seeds):
            value = math.log(k) ** beta * math.exp(rng.normal(0.0, noise))
            rows.append({"experiment": "x", "parametrization": "sp", "modes": k, "seed": s,
                         "log_k_eff": math.log(k), "step": 1, "output": value})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("beta", [-0.3, 0.0, 0.5])
def test_update_exponent_recovers_a_known_beta(beta):
    exact = update_exponents(known_growth_frame(beta, 0.0), UpdateMeasure("output", 1))
    assert exact["beta"].iloc[0] == pytest.approx(beta)
    noisy = update_exponents(known_growth_frame(beta, 0.1), UpdateMeasure("output", 1)).iloc[0]
    assert noisy["beta_low"] <= beta <= noisy["beta_high"]
    assert not noisy["beta_low"] <= beta + 0.5 <= noisy["beta_high"]


@pytest.mark.parametrize(("low", "high", "verdict"), [
    (-0.1, 0.2, "predicts"), (0.05, 0.4, "does not"), (-0.7, -0.3, "does not"),
    (-0.4, 0.1, "cannot tell"), (-0.1, 0.3, "cannot tell")])
def test_prediction_verdict(low, high, verdict):
    assert prediction_verdict(low, high) == verdict


def synthetic_alphas(alphas: dict[str, float], seeds: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    frames = [synthetic_sweep(SyntheticSweep(alpha=a, seeds=seeds), rng, p) for p, a in alphas.items()]
    return pd.concat(frames, ignore_index=True)


def test_flatness_table_tells_a_flatter_rule():
    flat = flatness_table(lr_exponent(synthetic_alphas({"cal": 0.0, "mup": 0.6}), n_boot=300))
    row = flat.iloc[0]
    assert row["verdict"] == "flatter" and row["cal_holds_zero"]
    same = flatness_table(lr_exponent(synthetic_alphas({"cal": 0.3, "mup": 0.3}), n_boot=300))
    assert same.iloc[0]["verdict"] == "no resolved difference"


def test_prediction_table_compares_minus_beta_with_alpha():
    betas = update_exponents(known_growth_frame(0.5, 0.05), UpdateMeasure("output", 1))
    betas["experiment"] = "synthetic"
    right = prediction_table(betas, lr_exponent(synthetic_alphas({"sp": -0.5})))
    wrong = prediction_table(betas, lr_exponent(synthetic_alphas({"sp": +0.5})))
    assert right.iloc[0]["alpha_pred"] == pytest.approx(-0.5, abs=0.1)
    assert right.iloc[0]["verdict"] == "predicts"
    assert wrong.iloc[0]["verdict"] == "does not"


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_coupled_models_share_what_does_not_depend_on_k(dim):
    small, large = (coupled_model(synthetic_trial(dim, k, 3, None)) for k in (2, KS[dim][-1]))
    other = coupled_model(synthetic_trial(dim, 2, 4, None))
    spectral = {name for name, _ in small.named_parameters() if name.startswith("spectral")}
    for (name, a), (_, b), (_, c) in zip(small.named_parameters(), large.named_parameters(),
                                         other.named_parameters()):
        if name not in spectral:
            assert torch.equal(a, b), name  # same seed: the same lift, skips and projection
            assert not torch.equal(a, c), name  # another seed: other weights
    assert spectral and all(p.shape != q.shape for (n, p), (_, q) in
                            zip(small.named_parameters(), large.named_parameters()) if n in spectral)


def test_calibrated_trials_leave_sp_and_mup_ids_alone():
    both = {c.trial_id() for c in grid("burgers_lr", "quick")}
    three = grid("burgers_lr", "quick", parametrizations=("sp", "mup", "cal"), cal_exponent=0.3)
    assert {c.trial_id() for c in three if c.parametrization != "cal"} == both
    cal = [c for c in three if c.parametrization == "cal"]
    assert cal and all(c.cal_exponent == 0.3 for c in cal)
    assert {c.trial_id() for c in cal}.isdisjoint(both)
    assert "cal_exponent" not in three[0].canonical_json()


def test_a_calibrated_trial_runs_one_by_one_and_stacked():
    """Its c(K) reaches the optimizer of both trainers: they agree to round-off, and differ from SP."""
    configs = [synthetic_trial(1, 8, s, -0.8).with_(other_lr=None, lr=1e-2, steps=4)
               for s in (0, 1)]
    single = [run_trial(c, device="cpu") for c in configs]
    stacked = run_group_stacked(configs, device="cpu")
    sp = run_trial(configs[0].with_(parametrization="sp", cal_exponent=None), device="cpu")
    for a, b in zip(single, stacked):
        assert a["status"] == b["status"] == "ok"
        assert a["final_train_loss"] == pytest.approx(b["final_train_loss"], rel=1e-5)
    assert single[0]["final_train_loss"] != pytest.approx(sp["final_train_loss"], rel=1e-3)


# --- the chapter, on computed inputs of known answer -----------------------------------------------
RECORD = {"mirrored": False, "device": "cpu", "device_name": "cpu", "cpu_model": "test CPU",
          "torch_version": "x", "code_commit": "abc", "wall_time": 1.0, "preset": "smoke"}


def chapter_inputs(beta_sp: float, alphas: dict[str, float], experiment: str) -> tuple:
    """A check whose SP/μP update grows like (log K)^β (every measure, every step) and a sweep
    with the given α per parametrization."""
    checks = []
    for param, beta in (("sp", beta_sp), ("mup", beta_sp - 0.5)):
        frame = known_growth_frame(beta, 0.05).assign(parametrization=param, experiment=experiment)
        for step in (1, 5, 10):
            checks.append(frame.assign(step=step, spectral=frame["output"], seconds=1.0))
    sweep = synthetic_alphas(alphas).assign(experiment=experiment, **RECORD)
    sweep["cal_exponent"] = [beta_sp if p == "cal" else None for p in sweep["parametrization"]]
    return pd.concat(checks, ignore_index=True), sweep


@pytest.fixture(scope="module")
def chapter():
    checks, sweep = chapter_inputs(0.5, {"sp": -0.5, "mup": 0.0, "cal": 0.0}, "darcy_lr")
    study_checks, study = chapter_inputs(0.5, {"sp": 0.4}, "burgers_width32")
    return CalibratedChapter("smoke", checks, {"darcy_lr": LRChapter("darcy_lr", "smoke", sweep)},
                             {"burgers_width32": study}, study_checks)


def test_chapter_predicts_where_the_answer_is_known(chapter):
    rows = chapter.predictions.set_index("parametrization")
    assert rows.loc["sp", "verdict"] == "predicts" and rows.loc["mup", "verdict"] == "predicts"
    assert chapter.held_out.iloc[0]["verdict"] == "does not"  # α = +0.4 against a predicted −0.5
    flat = chapter.flatness.iloc[0]
    assert flat["cal_holds_zero"] and flat["verdict"] == "no resolved difference"
    text = chapter.conclusion()
    assert "SP: the check predicts α** in 1 of 1 (Darcy (FNO-2D))" in text
    assert re.search(r"Burgers, width 32, SP: predicted −0\.[45]\d, measured \+0\.\d\d .*: does not", text)


def test_chapter_tables_and_figures_render(chapter):
    candidates = chapter.candidate_table().data
    assert len(candidates) == len(CANDIDATE_MEASURES)
    assert candidates["measure"].str.contains("(frozen)", regex=False).sum() == 1
    assert list(chapter.prediction_table().data["verdict"]) == ["predicts", "predicts"]
    assert chapter.flatness_table().data.iloc[0]["β used (c(K) exponent)"] == "0.50"
    assert len(chapter.held_out_table().data) == 1
    assert len(chapter.lr_figures()) == 1 and chapter.prediction_figure() is not None


@pytest.mark.parametrize(("overrides", "match"), [
    ({}, "has no calibrated exponent; measure one"),
    ({"cal_exponent": "abc"}, "cal_exponent must be a finite number"),
    ({"cal_exponent": float("inf")}, "cal_exponent must be a finite number"),
])
def test_a_calibrated_grid_without_a_usable_exponent_is_one_clear_error(overrides, match):
    with pytest.raises(ValueError, match=match):
        grid("burgers_lr", "smoke", parametrizations=("cal",), **overrides)


def test_only_calibrated_trials_carry_an_exponent():
    with pytest.raises(ValueError, match="set exactly when parametrization is 'cal'"):
        grid("burgers_lr", "smoke", parametrizations=("sp",))[0].with_(cal_exponent=0.2)


def test_stored_check_runs_its_own_steps_whatever_the_trial_budget(tmp_path):
    """A trial's ``steps`` (its training budget) is an override like any other: the check still
    takes ``check_steps`` Adam steps, and the second call reads the stored table."""
    first = stored_check("synthetic_lr", "smoke", str(tmp_path), seeds=(0,), check_steps=2,
                         name="long", steps=1000)
    assert int(first["step"].max()) == 2 and (tmp_path / "calibration" / "long.csv").is_file()
    again = stored_check("synthetic_lr", "smoke", str(tmp_path), seeds=(0,), check_steps=2,
                         name="long", steps=1000)
    assert again["output"].tolist() == pytest.approx(first["output"].tolist())
