"""A preset describes itself from its own grid (so notebooks never restate it by hand)."""

import pytest

from mufno_core.sweep.experiments import EXPERIMENTS, describe_preset, grid


@pytest.mark.parametrize("experiment", sorted(EXPERIMENTS))
def test_description_matches_the_grid(experiment):
    for preset in EXPERIMENTS[experiment].presets:
        text = describe_preset(experiment, preset)
        configs = grid(experiment, preset)
        assert text["trials"] == len(configs)
        assert text["K"] == sorted({c.modes for c in configs})


def test_overrides_are_described():
    assert describe_preset("darcy_lr", "smoke", modes=[2, 3])["K"] == [2, 3]
