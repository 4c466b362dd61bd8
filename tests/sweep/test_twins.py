"""A trial that computes what a stored trial computed is copied from it, not trained again."""

from __future__ import annotations

from pathlib import Path

import pytest

from mufno_core.sweep import grid, run_sweep
from mufno_core.sweep.store import ResultsStore, load_results, read_record
from mufno_core.sweep.studies import calibrated_store
from mufno_core.sweep.trial import run_trial
from mufno_core.sweep.twins import copy_of, twin_configs, twin_records

ROOT = Path(__file__).resolve().parents[2]
LR_EXPERIMENTS = {1: "burgers_lr", 2: "darcy_lr", 3: "navier_stokes_lr"}
TRAINED = ("final_train_loss", "final_test_loss", "history")


def _one_at_base(experiment: str, parametrization: str, **overrides):
    configs = grid(experiment, "smoke", parametrizations=(parametrization,), seeds=(0,), **overrides)
    return next(c for c in configs if c.at_base_modes())


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("parametrization", ["mup", "cal"])
def test_mup_and_the_calibrated_rule_at_the_base_k_train_exactly_as_sp(dim, parametrization,
                                                                        tmp_path):
    """The twin relation itself, checked by training both: same process, so bit for bit."""
    twin_of = _one_at_base(LR_EXPERIMENTS[dim], parametrization, cal_exponent=0.3)
    (sp,) = twin_configs(twin_of)
    assert sp.parametrization == "sp" and sp.trial_id() in {c.trial_id() for c in grid(
        LR_EXPERIMENTS[dim], "smoke", parametrizations=("sp",), seeds=(0,))}
    data = str(tmp_path / "data")
    mine, theirs = run_trial(twin_of.with_(steps=3), data), run_trial(sp.with_(steps=3), data)
    assert mine["status"] == "ok" and all(mine[k] == theirs[k] for k in TRAINED)


def test_the_beta2_sweep_at_adams_default_is_a_darcy_lr_trial(tmp_path):
    lr_config = grid("darcy_lr", "smoke", parametrizations=("sp",), seeds=(0,))[0].with_(steps=3)
    beta2_config = lr_config.with_(experiment="darcy_beta2")
    assert lr_config in twin_configs(beta2_config)
    data = str(tmp_path / "data")
    mine, theirs = run_trial(beta2_config, data), run_trial(lr_config, data)
    assert all(mine[k] == theirs[k] for k in TRAINED)
    quick = [c for c in grid("darcy_beta2", "quick") if c.beta2 == 0.999]
    lr_ids = {c.trial_id() for c in grid("darcy_lr", "quick")}
    assert len(quick) == 24 and all(twin_configs(c)[0].trial_id() in lr_ids for c in quick)


def test_a_config_with_no_twin_has_none():
    sp = _one_at_base("darcy_lr", "sp")
    assert twin_configs(sp) == []
    away = next(c for c in grid("darcy_lr", "smoke", parametrizations=("cal",), cal_exponent=0.3)
                if not c.at_base_modes())
    assert twin_configs(away) == []


def test_a_sweep_copies_a_stored_twin_and_trains_the_rest(tmp_path, capsys, project_data):
    """SP first, then the calibrated grid: its K₀ trials are copies (``twin_of``), the rest
    train; rerunning copies nothing more."""
    common = dict(results_dir=str(tmp_path / "r"), data_dir=str(project_data),
                  progress=False, seeds=(0,), lrs=(1e-2,), steps=3)
    run_sweep("darcy_lr", "smoke", parametrizations=("sp",), **common)
    df = run_sweep("darcy_lr", "smoke", parametrizations=("cal",), cal_exponent=0.3, **common)
    assert "1 trial(s) copied from a stored twin" in capsys.readouterr().err
    copies = df[df["modes"] == df["base_modes"]]
    trained = df[df["modes"] != df["base_modes"]]
    assert len(copies) == 1 and len(trained) == 1
    record = ResultsStore(tmp_path / "r", "darcy_lr").records()
    twin_of = {r["trial_id"]: r.get("twin_of") for r in record}
    assert twin_of[copies["trial_id"].iloc[0]].startswith("darcy_lr/")
    assert twin_of[trained["trial_id"].iloc[0]] is None
    run_sweep("darcy_lr", "smoke", parametrizations=("cal",), cal_exponent=0.3, **common)
    assert "copied" not in capsys.readouterr().err
    assert len(load_results(tmp_path / "r" / "darcy_lr", mirror=False)) == 4  # SP and cal at K 2, 4


def test_every_twin_in_the_committed_quick_store_equals_its_copy():
    """The committed stores trained the twins too: they agree bit for bit with their twins, so
    copying them changes no number of the book. The calibrated rule's twins live in its committed
    study (``results/study/calibrated_rule``), their SP twins in the quick store."""
    from mufno_core.analysis.summary import default_overrides

    copies = 0
    quick = ROOT / "results" / "quick"
    for experiment in ("burgers_lr", "darcy_lr", "navier_stokes_lr", "pino_darcy", "darcy_beta2"):
        store = ResultsStore(quick, experiment)
        calibrated = ResultsStore(calibrated_store(quick, experiment, "quick"), experiment)
        configs = [c for c in grid(experiment, "quick", **default_overrides(experiment, "quick"))
                   if twin_configs(c)]
        for trial_id, twin in twin_records(configs, store).items():
            config = next(c for c in configs if c.trial_id() == trial_id)
            home = calibrated if config.parametrization == "cal" else store
            stored = read_record(home.path(trial_id))
            assert {k: stored[k] for k in TRAINED} == {k: copy_of(config, twin)[k] for k in TRAINED}
            copies += 1
    assert copies == 256
