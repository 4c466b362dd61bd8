"""The experiments' presets: each describes itself from its own grid (so notebooks never restate it
by hand), and the gpu and paper presets render from a store written on a GPU without a CPU starting
to compute them unasked."""

from __future__ import annotations

import pytest

from mufno_core.sweep import ResultsStore, grid, run_sweep
from mufno_core.sweep.config import SCHEMA
from mufno_core.sweep.experiments import EXPERIMENTS, describe_preset


@pytest.mark.parametrize("experiment", sorted(EXPERIMENTS))
def test_description_counts_what_the_preset_declares(experiment):
    """Trials, K and seeds against the preset's own fields (``Preset.size`` counts the product of
    the axes less the μP trials at the base K), not against the grid the description reads."""
    for name, preset in EXPERIMENTS[experiment].presets.items():
        text = describe_preset(experiment, name)
        assert text["trials"] == preset.size(), name
        assert text["K"] == sorted(preset.modes), name
        assert text["seeds"] == len(preset.seeds), name


@pytest.mark.parametrize("experiment, expected", [
    ("darcy_lr", {"K": [2, 4, 8, 14], "trials": (2 * 4 - 1) * 8 * 8, "seeds": 8, "width": 16,
                  "budget": "150 steps", "learning rates": "0.0032 … 0.024 (8 points)",
                  "batch sizes": [10], "Adam β2": [0.999], "training samples": 200}),
    ("darcy_batch_size", {"K": [2, 14], "trials": (2 * 2 - 1) * 6 * 8, "budget": "8 epochs",
                          "learning rates": "0.01", "batch sizes": [2, 3, 5, 10, 20, 40]}),
    ("darcy_beta2", {"K": [2, 14], "trials": (2 * 2 - 1) * 6 * 8, "learning rates": "0.01",
                     "Adam β2": [0.7, 0.9, 0.95, 0.98, 0.99, 0.999]}),
])
def test_quick_presets_read_as_written(experiment, expected):
    text = describe_preset(experiment, "quick")
    assert {key: text[key] for key in expected} == expected


def test_overrides_are_described():
    text = describe_preset("darcy_lr", "smoke", modes=[2, 3], seeds=[5])
    assert text["K"] == [2, 3] and text["seeds"] == 1
    assert text["trials"] == (2 * 2 - 1) * 5  # 5 LRs of the smoke grid, μP at K = 2 is SP's


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
