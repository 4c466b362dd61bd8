"""The experiments' presets: each describes itself from its own grid (so notebooks never restate it
by hand), and the gpu and paper presets render from a store written on a GPU without a CPU starting
to compute them unasked."""

from __future__ import annotations

from pathlib import Path

import pytest

from mufno_core.book.build import notebook_sweeps, toc_notebooks
from mufno_core.sweep import ResultsStore, grid, run_sweep
from mufno_core.sweep.config import SCHEMA
from mufno_core.sweep.experiments import (
    CALIBRATED_EXPONENTS,
    EXPERIMENTS,
    LR_TRANSFER,
    REPORTED,
    describe_preset,
)


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


# --- an experiment is one declaration --------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]


def declaration_problems(name: str, root: Path = ROOT) -> list[str]:
    """What a registered experiment of the paper lacks: a label, a chapter notebook in the table of
    contents that declares the experiment's sweep (``mufno.sweeps`` in its metadata)."""
    exp = EXPERIMENTS[name]
    problems = [] if exp.label else [f"{name}: no label"]
    if exp.notebook is None:
        return [*problems, f"{name}: no chapter notebook"]
    path = root / "notebooks" / f"{exp.notebook}.ipynb"
    if exp.notebook not in toc_notebooks(root / "_toc.yml") or not path.is_file():
        return [*problems, f"{name}: notebooks/{exp.notebook}.ipynb is not in the book"]
    declared = {s if isinstance(s, str) else s[0] for s in notebook_sweeps(path)}
    return problems + ([] if name in declared else [f"{name}: {exp.notebook} does not declare it"])


@pytest.mark.parametrize("name", list(REPORTED))
def test_every_experiment_of_the_paper_is_declared_whole(name):
    assert declaration_problems(name) == []


def test_the_views_read_the_declarations():
    assert dict(CALIBRATED_EXPONENTS) == {name: exp.calibrated_exponents
                                          for name, exp in EXPERIMENTS.items() if exp.calibrated_exponents}
    assert list(LR_TRANSFER) == ["burgers_lr", "darcy_lr", "navier_stokes_lr", "pino_darcy"]
    assert list(REPORTED) == [*LR_TRANSFER, "darcy_batch_size", "darcy_beta2"]
    assert "synthetic_lr" in EXPERIMENTS and "synthetic_lr" not in REPORTED
    assert EXPERIMENTS["darcy_beta2"].axis.field == "beta2"


def test_gpu_sweeps_runs_every_reported_experiment_by_default():
    """scripts/gpu_sweeps.sh asks the registry for its default list instead of naming experiments."""
    script = (ROOT / "scripts" / "gpu_sweeps.sh").read_text()
    assert "import REPORTED" in script and "darcy_lr" not in script
