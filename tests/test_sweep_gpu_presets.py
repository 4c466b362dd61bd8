"""The gpu and paper presets render from a results store written on a GPU; a CPU does not start
computing them unasked."""

from __future__ import annotations

import pytest

from mufno_core.sweep import ResultsStore, grid, run_sweep
from mufno_core.sweep.config import SCHEMA

BY_DIM = {1: "burgers_lr", 2: "darcy_lr", 3: "navier_stokes_lr"}


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("preset", ["gpu", "paper"])
def test_missing_gpu_trials_are_a_clear_error_on_the_cpu(dim, preset, tmp_path):
    experiment = BY_DIM[dim]
    total = len(grid(experiment, preset))
    with pytest.raises(ValueError, match=rf"holds 0 of {total} trials of {experiment}.*FLOPs.*--device cuda"):
        run_sweep(experiment, preset, results_dir=str(tmp_path), device="cpu", progress=False)
    assert not (tmp_path / "data").exists() and not any(tmp_path.rglob("*.json"))  # nothing started


def test_a_complete_gpu_store_renders_without_training(tmp_path):
    store = ResultsStore(tmp_path, "darcy_lr")
    configs = grid("darcy_lr", "gpu")
    for c in configs:
        store.write({"schema": SCHEMA, "trial_id": c.trial_id(), "config": c.to_dict(), "status": "ok",
                     "final_train_loss": 0.01, "final_test_loss": 0.02, "diverged": False,
                     "wall_time": 1.0, "steps_done": c.steps, "device": "NVIDIA H100"})
    df = run_sweep("darcy_lr", "gpu", results_dir=str(tmp_path), device="cpu", progress=False)
    assert len(df[~df.get("mirrored", False).fillna(False).astype(bool)]) == len(configs)
