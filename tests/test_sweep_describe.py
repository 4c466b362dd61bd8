"""A preset describes itself from its own grid (so notebooks never restate it by hand)."""

import pytest

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
