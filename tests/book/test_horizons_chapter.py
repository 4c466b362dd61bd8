"""The chapter "Does the transfer hold after the first hundred steps?": its study command at toy
size, the chapter read from what it wrote, and the chapter over the committed records (with the
test loss too, as its exercise reads them)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

from mufno_core.book.horizons_chapter import HorizonsChapter, horizon_studies, read_study
from mufno_core.sweep.studies import STUDIES, main

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[2]


def test_every_horizon_study_logs_its_verdict_horizons():
    for study in horizon_studies():
        steps, every = study.overrides["steps"], study.overrides["eval_every"]
        assert all(h % every == 0 and h <= steps for h in study.horizons)
        smoke = study.smoke_overrides
        assert all(h % smoke["eval_every"] == 0 and h <= smoke["steps"] for h in study.smoke_horizons)
    assert {s.experiment for s in horizon_studies()} == {"navier_stokes_lr", "darcy_lr"}


@pytest.mark.slow
def test_the_study_command_at_toy_size_feeds_the_chapter(tmp_path, project_data):
    """`python -m mufno_core.sweep.studies navier_stokes_horizons --preset smoke --results DIR
    --workers 1` (the chapter's first exercise), then the chapter reads it without training."""
    assert main(["navier_stokes_horizons", "--preset", "smoke", "--results", str(tmp_path),
                 "--workers", "1", "--data-dir", str(project_data)]) == 0
    ch = HorizonsChapter.run("smoke", str(tmp_path), compute=False)
    stored = ch.studies["navier_stokes_horizons"]
    assert stored.missing == 0 and stored.expected == 30
    assert ch.studies["navier_stokes_horizons_wd0.003"].missing == 20  # not run: counted, not trained
    assert "navier_stokes_horizons_wd0.003: 20 of 20 trials missing" in ch.missing_note()
    table = ch.verdict_table("navier_stokes_lr").data
    assert list(table["horizon (steps)"]) == list(STUDIES["navier_stokes_horizons"].smoke_horizons)
    assert ch.alpha_figure().axes and "Navier–Stokes" in ch.conclusion()
    assert set(ch.exponents["horizon"]) == set(range(1, 11))  # every logged step


def test_an_unknown_study_is_refused():
    with pytest.raises(SystemExit):
        main(["no_such_study", "--preset", "smoke"])


@pytest.mark.parametrize("metric", ["final_train_loss", "final_test_loss"])
def test_the_chapter_over_the_committed_records(metric):
    if not (ROOT / "results/study/horizons/navier_stokes_lr").exists():
        pytest.skip("no committed horizon study")
    ch = HorizonsChapter.run("quick", study_dir=str(ROOT / "results/study"), metric=metric)
    ns = read_study(STUDIES["navier_stokes_horizons"], str(ROOT / "results/study"), "quick")
    assert ns.records and len(ch.frames["navier_stokes_lr"]["horizon"].unique()) == 30
    table = ch.verdict_table("navier_stokes_lr").data
    assert list(table["horizon (steps)"]) == [100, 200, 300]
    assert all(cell.startswith(("+", "−", "not located")) for cell in table["α SP"])
    assert ch.conclusion().count("Navier–Stokes") >= 2
