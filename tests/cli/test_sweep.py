"""``mufno sweep``: --list, a smoke sweep end to end with its summary, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from mufno_core.cli.main import main
from mufno_core.sweep import load_results
from mufno_core.sweep.experiments import EXPERIMENTS, PRESETS, grid


def test_list_shows_every_experiment_and_preset(capsys):
    assert main(["sweep", "--list"]) == 0
    out = capsys.readouterr().out
    for name, exp in EXPERIMENTS.items():
        assert name in out
        assert set(exp.presets) == set(PRESETS)


@pytest.mark.slow  # counts every preset's grid, the paper's too
def test_list_with_flops(capsys):
    """One experiment's presets with their FLOPs (all of them: the same loop, 28 grids, 6 s)."""
    assert main(["sweep", "darcy_lr", "--list", "--flops"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "train FLOPs" in lines[0]
    assert {line.split()[0] for line in lines[1:]} == {"darcy_lr"} and len(lines) == 5
    row = next(line.split() for line in lines if line.startswith("darcy_lr") and " gpu " in line)
    assert 1e15 < float(row[4]) < 1e17


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_builds_a_valid_grid(name, preset):
    configs = grid(name, preset)
    assert len({c.trial_id() for c in configs}) == len(configs) == EXPERIMENTS[name].presets[preset].size()
    if preset in ("quick", "gpu", "paper") and EXPERIMENTS[name].swept == "lr":
        assert len({c.seed for c in configs}) >= 3
        lrs = sorted({c.lr for c in configs})
        # the fit uses the grid minimum ± 2 points: >= 6 LRs, placed where a pilot found the optima,
        # evenly spaced on the grid 10^(j/8) (8 or 4 per decade)
        ratios = np.log10(np.array(lrs[1:]) / lrs[:-1]) * 8
        assert len(lrs) >= 6 and round(ratios[0]) in (1, 2) and np.allclose(ratios, round(ratios[0]))


@pytest.mark.parametrize("name", ["burgers_lr", "darcy_lr", "navier_stokes_lr", "pino_darcy"])
def test_quick_lr_presets_are_designed_for_the_exponent(name):
    """Issue 14: at least 8 seeds and 4 K values, so α's interval can exclude the other answer."""
    configs = grid(name, "quick")
    assert len({c.seed for c in configs}) >= 8
    assert len({c.modes for c in configs}) >= 4


def test_smoke_sweep_end_to_end(tmp_path, capsys):
    argv = ["sweep", "synthetic_lr", "--preset", "smoke", "--results", str(tmp_path), "--no-progress",
            "--limit", "16"]
    assert main(argv) == 0
    out = capsys.readouterr()
    assert "drift lr*(K_max)/lr*(K_min)" in out.out and "16 run now" in out.err
    assert len(load_results(tmp_path)) == 16
    assert main(argv) == 0
    assert "16 already done, 0 run now" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["sweep", "nope", "--preset", "smoke"], "unknown experiment 'nope'"),
    (["sweep"], "give an EXPERIMENT"),
    (["sweep", "synthetic_lr", "--preset", "smoke", "--limit", "0"], "--limit"),
    (["sweep", "synthetic_lr", "--preset", "smoke", "--set", "stepz=3"], "unknown override"),
    (["sweep", "darcy_lr", "--preset", "smoke", "--set", "dim=3"], "cannot be overridden"),
    (["sweep", "synthetic_lr", "--preset", "smoke", "--set", "steps"], "KEY=VALUE"),
])
def test_bad_input_is_one_clear_line(argv, message, capsys, tmp_path):
    assert main([*argv, "--results", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("hparam", ["batch_size", "beta2"])
def test_hparam_summary_prints_the_shift(hparam):
    import dataclasses

    import pandas as pd

    from mufno_core.analysis.coverage import SHIFT_SPECS, synthetic_hparam_sweep
    from mufno_core.cli.sweep import summarise

    spec = SHIFT_SPECS[hparam]
    df = pd.concat([synthetic_hparam_sweep(spec, np.random.default_rng(1), "sp"),
                    synthetic_hparam_sweep(dataclasses.replace(spec, shift=0.0),
                                           np.random.default_rng(2), "mup")])
    out = summarise(df, hparam)
    assert f"best {hparam} per K" in out and "its shift on log" in out
    assert "3 → 12" in out and "paired seed-bootstrap" in out
