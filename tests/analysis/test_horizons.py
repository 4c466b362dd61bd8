"""The optimum per training length from the same runs: a record read at a horizon is the shorter
run's record, α per horizon comes from the one locator (an edge optimum is not located), and
weight decay's change of α is paired."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from mufno_core.analysis.horizons import (
    at_horizon,
    exponent_change,
    horizon_exponents,
    horizon_frame,
    horizon_trend,
    horizon_verdicts,
    logged_steps,
    read_records,
    record_at_horizon,
    variant_label,
    weight_decay_optimum_sentence,
)
from mufno_core.analysis.optima import log_k_eff
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.experiments import lr_grid
from mufno_core.sweep.trial import run_trial

ROOT = Path(__file__).resolve().parents[2]
LRS = lr_grid(-28, -12, step=2)
STEPS = (10, 20, 30)


def config(parametrization="sp", modes=2, lr=1e-3, seed=0, **kw) -> TrialConfig:
    return TrialConfig(experiment="synthetic_lr", dataset="synthetic", preset="smoke", dim=1,
                       in_channels=1, out_channels=1, parametrization=parametrization, modes=modes,
                       base_modes=2, lr=lr, seed=seed, steps=STEPS[-1], eval_every=10, **kw)


def record(c: TrialConfig, losses, diverged_step=None) -> dict:
    """A finished record of ``c`` whose test and train losses at STEPS are ``losses``."""
    n = len(losses) if diverged_step is None else sum(s < diverged_step for s in STEPS)
    return {"trial_id": c.trial_id(), "config": c.to_dict(),
            "status": "diverged" if diverged_step else "ok", "diverged": diverged_step is not None,
            "diverged_step": diverged_step, "final_train_loss": math.nan if diverged_step else losses[-1],
            "final_test_loss": math.nan if diverged_step else losses[-1],
            "history": {"step": list(STEPS[:n]), "train_loss": list(losses[:n]),
                        "test_loss": list(losses[:n])}}


def test_a_record_read_at_a_logged_step_ends_there():
    r = record(config(), [0.3, 0.2, 0.1])
    at = record_at_horizon(r, 20)
    assert (at["final_train_loss"], at["final_test_loss"], at["status"]) == (0.2, 0.2, "ok")
    assert r["final_test_loss"] == 0.1  # the record itself is not changed


def test_divergence_counts_only_at_and_after_its_step():
    r = record(config(), [0.3, 0.2, 0.1], diverged_step=25)
    assert record_at_horizon(r, 10)["status"] == "ok"
    assert not record_at_horizon(r, 20)["diverged"]
    late = record_at_horizon(r, 30)
    assert late["diverged"] and math.isnan(late["final_test_loss"])


def test_a_step_that_was_not_logged_is_an_error_and_an_error_record_stays_one():
    with pytest.raises(ValueError, match="logged no loss at step 15"):
        record_at_horizon(record(config(), [0.3, 0.2, 0.1]), 15)
    failed = {**record(config(), [0.3, 0.2, 0.1]), "status": "error"}
    assert record_at_horizon(failed, 15) is failed


def test_logged_steps_are_those_every_finished_run_logged():
    records = [record(config(seed=0), [0.3, 0.2, 0.1]), record(config(seed=1), [0.3, 0.2, 0.1], 25)]
    assert logged_steps(records) == STEPS


def test_a_long_run_read_at_a_horizon_is_the_short_run_bit_for_bit():
    """The claim the whole analysis rests on: at a constant LR, a trial's losses logged at step h
    are those of the same trial trained for h steps (same batches, same updates)."""
    long = run_trial(config(lr=3e-3).with_(steps=12, eval_every=4))
    short = run_trial(config(lr=3e-3).with_(steps=8, eval_every=4))
    at = record_at_horizon(long, 8)
    assert (at["final_train_loss"], at["final_test_loss"]) == (short["final_train_loss"],
                                                               short["final_test_loss"])
    assert at["final_test_loss"] != long["final_test_loss"]


def bowls(alpha_by_horizon: dict[int, dict[str, float]], seeds: int = 4, noise: float = 0.01,
          weight_decay: float = 0.0) -> list[dict]:
    """Records whose log10 loss at horizon h is a parabola in log10 lr around lr*(K, h) =
    1e-2 · (log K_eff / log 2)^α(h), α per parametrization."""
    rng = np.random.default_rng(1)
    out = []
    for param in ("sp", "mup"):
        for k in (2, 8):
            for lr in LRS:
                for seed in range(seeds):
                    losses = []
                    for h in STEPS:
                        opt = -2 + alpha_by_horizon[h][param] * math.log10(log_k_eff(k) / math.log(2))
                        losses.append(10 ** (0.5 * (math.log10(lr) - opt) ** 2 - 1
                                             + rng.normal(0, noise)))
                    extra = {"weight_decay": weight_decay, "weight_decay_mode": "independent"} \
                        if weight_decay else {}
                    out.append(record(config(param, k, lr, seed, **extra), losses))
    return out


ALPHAS = {10: {"sp": -0.5, "mup": 0.0}, 20: {"sp": -0.5, "mup": -0.5}, 30: {"sp": -5.0, "mup": 0.0}}


def test_alpha_per_horizon_is_recovered_and_an_edge_optimum_is_not_located():
    frame = horizon_frame(bowls(ALPHAS), STEPS)
    e = horizon_exponents(frame, n_boot=200).set_index(["horizon", "label"])
    assert e.loc[(10, "SP"), "alpha"] == pytest.approx(-0.5, abs=0.05)
    assert e.loc[(10, "μP"), "alpha"] == pytest.approx(0.0, abs=0.05)
    assert e.loc[(20, "μP"), "alpha"] == pytest.approx(-0.5, abs=0.05)
    assert not e.loc[(20, "SP"), "edge"]
    assert e.loc[(30, "SP"), "edge"]  # lr* at K = 8 lies below the grid: not located
    verdicts = horizon_verdicts(horizon_exponents(frame, n_boot=200)).set_index("horizon")
    assert verdicts.loc[10, "label"] == "Reproduced"
    assert verdicts.loc[20, "label"] == "Partly reproduced"
    assert verdicts.loc[30, "label"] == "No verdict"


def test_changes_are_paired_across_horizons_and_weight_decays():
    records = bowls(ALPHAS) + [r for r in bowls({h: {"sp": 0.0, "mup": 0.0} for h in STEPS},
                                                weight_decay=1e-2)
                               if r["config"]["parametrization"] == "mup"]
    e = horizon_exponents(horizon_frame(records, STEPS[:2]), n_boot=200)
    assert set(e["label"]) == {"SP", "μP", "μP + independent WD 0.01"}
    trend = horizon_trend(e, 10, 20).set_index("label")
    assert trend.loc["μP", "change"] == pytest.approx(-0.5, abs=0.05)
    assert trend.loc["μP", "side"] == "below"
    assert trend.loc["SP", "side"] == "holds"
    same = exponent_change(e, e.index[0], e.index[0])
    assert same["change"] == 0 and same["change_high"] == same["change_low"] == 0
    text = horizon_verdicts(e).set_index("horizon").loc[20, "weight_decay"]
    assert "μP + independent WD 0.01" in text and "resolvably towards 0" in text


def test_the_frame_of_every_horizon_is_each_horizons_frame_one_after_the_other():
    """horizon_frame builds the records' frame once and swaps the outcome columns per horizon: the
    same rows, order and values as at_horizon at each horizon, diverged and error records too."""
    import pandas as pd

    records = bowls(ALPHAS)[:40] + [record(config(lr=1.0, seed=3), [0.3, 0.2, 0.1], diverged_step=20),
                                    {**record(config(lr=2.0), [0.3, 0.2, 0.1]), "status": "error"}]
    records = records[::-1]  # not in the frame's order
    got = horizon_frame(records, STEPS)
    want = pd.concat([at_horizon(records, h) for h in STEPS], ignore_index=True)
    for frame in (got, want):  # None or NaN where no step (a column of None alone is object)
        frame["diverged_step"] = pd.to_numeric(frame["diverged_step"]).astype(float)
    pd.testing.assert_frame_equal(got, want)
    diverged = got[got["lr"] == 1.0].set_index("horizon")
    assert list(diverged["status"]) == ["ok", "diverged", "diverged"]
    assert diverged.loc[10, "final_train_loss"] == 0.3 and math.isnan(diverged.loc[20, "final_train_loss"])


def test_variant_labels():
    assert variant_label({"parametrization": "sp", "weight_decay": 0.0}) == "SP"
    assert variant_label({"parametrization": "mup", "weight_decay": 0.003,
                          "weight_decay_mode": "adamw"}) == "μP + AdamW-coupled WD 0.003"


def test_the_committed_study_reproduces_the_quick_store_at_100_steps():
    """Where the Navier–Stokes horizon study shares a trial with the quick 100-step sweep (same
    settings but the length; the same CPU model and torch), its losses at step 100 are the stored
    ones bit for bit."""
    study = ROOT / "results/study/horizons"
    if not (study / "navier_stokes_lr").exists():
        pytest.skip("no committed horizon study")
    quick = {r["trial_id"]: r for r in read_records(ROOT / "results/quick", "navier_stokes_lr")}
    compared = 0
    for r in read_records(study, "navier_stokes_lr"):
        c = TrialConfig.from_dict(r["config"])
        q = quick.get(c.with_(steps=100, eval_every=None).trial_id())
        if q is None or r.get("mirrored") or (q["cpu_model"], q["torch_version"]) != (
                r["cpu_model"], r["torch_version"]):
            continue
        at = at_horizon([r], 100).iloc[0]
        assert (at["final_train_loss"], at["final_test_loss"]) == (q["final_train_loss"],
                                                                   q["final_test_loss"])
        compared += 1
    assert compared >= 8


def _losses(by_lambda: dict[float, tuple[float, float]]):
    import pandas as pd

    rows = []
    for lam, (at_2, at_8) in by_lambda.items():
        curve = {"parametrization": "mup", "weight_decay": float(lam),
                 "weight_decay_mode": "independent" if lam else None}
        rows += [{**curve, "K": 2, "loss": at_2}, {**curve, "K": 8, "loss": at_8}]
    sp = {"parametrization": "sp", "weight_decay": 0.0, "K": 8, "loss": 0.001}  # SP is not a λ
    return pd.DataFrame([*rows, sp])


@pytest.mark.parametrize("by_lambda, says", [
    ({0: (1.0, 0.5), 1e-3: (1.2, 0.6), 3e-2: (2.0, 1.1)}, "is λ = 0 (no decay) at every K"),
    ({0: (1.0, 0.5), 1e-3: (0.9, 0.4), 3e-2: (2.0, 1.1)}, "is λ = 0.001, inside the grid"),
    ({0: (1.0, 0.5), 1e-3: (0.9, 0.4), 3e-2: (0.8, 0.3)}, "the grid's largest: not located"),
    ({0: (1.0, 0.5), 1e-3: (0.9, 0.6)}, "differs with K: λ = 0.001 at K = 2, λ = 0 at K = 8"),
    ({0: (1.0, 0.5)}, "not swept"),
])
def test_weight_decays_own_optimum_is_the_lambda_of_the_lowest_loss(by_lambda, says):
    assert says in weight_decay_optimum_sentence(_losses(by_lambda))


def test_each_coupling_has_its_own_lambda_grid():
    """Independent λ and AdamW's λ are different quantities: each coupling's optimum is found over
    its own λ and λ = 0, never over the union."""
    import pandas as pd

    independent = _losses({0: (1.0, 0.5), 1e-3: (1.2, 0.6)}).assign(weight_decay_mode="independent")
    adamw = _losses({0.1: (0.9, 0.4), 1.0: (2.0, 1.1)}).assign(weight_decay_mode="adamw")
    said = weight_decay_optimum_sentence(pd.concat([independent, adamw[adamw["weight_decay"] > 0]]))
    assert ("independent weight decay's optimum over λ ∈ {0, 0.001} (lowest seed-mean loss at the "
            "LR optimum) is λ = 0 (no decay) at every K") in said
    assert "AdamW-coupled weight decay's optimum over λ ∈ {0, 0.1, 1}" in said
    assert "is λ = 0.1, inside the grid" in said
