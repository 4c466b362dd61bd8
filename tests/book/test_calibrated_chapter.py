"""The calibrated chapter's sweeps take a notebook's parameters as every chapter's ``run`` does."""

from __future__ import annotations

import numpy as np

from mufno_core.analysis.coverage import SyntheticSweep, synthetic_sweep
from mufno_core.book import calibrated_chapter
from mufno_core.book.calibrated_chapter import three_rules
from tests.book.test_chapter import records


def test_three_rules_reads_the_notebook_parameters_as_lr_chapter_run(monkeypatch, tmp_path):
    """Empty grid axes mean the preset's, a string list is read as YAML, an empty scheduler starts
    a local cluster; the chapter knows the overrides it ran with (its overview says them)."""
    calls = []

    def fake_run_sweep(experiment, preset, results_dir, **kwargs):
        calls.append(kwargs)
        rule = kwargs["parametrizations"]
        frames = [synthetic_sweep(SyntheticSweep(), np.random.default_rng(len(calls)), p) for p in rule]
        return records(frames, experiment)

    monkeypatch.setattr(calibrated_chapter, "run_sweep", fake_run_sweep)
    ch = three_rules("darcy_lr", "smoke", str(tmp_path), 0.25, executor="process", scheduler="",
                     modes=[], lrs="[0.001, 0.01]", seeds=[])
    assert [c["parametrizations"] for c in calls] == [("sp", "mup"), ("cal",)]
    for call in calls:
        assert call["scheduler"] is None and call["executor"] == "process"
        assert call["lrs"] == [0.001, 0.01] and "modes" not in call and "seeds" not in call
    assert calls[1]["cal_exponent"] == 0.25
    assert ch.overrides == {"lrs": [0.001, 0.01]}
    assert set(ch.df["parametrization"]) == {"sp", "mup", "cal"}
