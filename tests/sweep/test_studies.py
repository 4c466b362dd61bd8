"""The studies beyond the presets: their grids extend the committed ones without renaming a trial."""

from __future__ import annotations

from mufno_core.sweep import grid
from mufno_core.sweep.experiments import get_experiment
from mufno_core.sweep.studies import (
    BURGERS_STUDY_LRS,
    NS_HORIZON_LRS,
    NS_WD_HIGH_LRS,
    STUDIES,
    with_weight_decay,
)


def _ids(name: str, **changes) -> set[str]:
    study = STUDIES[name]
    return {c.trial_id() for c in grid(study.experiment, "quick", **{**study.overrides, **changes})}


def test_a_wider_lr_grid_keeps_every_trial_of_the_narrower_one():
    assert set(NS_HORIZON_LRS) < set(NS_WD_HIGH_LRS) and max(NS_WD_HIGH_LRS) > max(NS_HORIZON_LRS)
    assert _ids("navier_stokes_horizons_wd0.03", lrs=NS_HORIZON_LRS) < _ids("navier_stokes_horizons_wd0.03")
    quick_lrs = get_experiment("burgers_lr").presets["quick"].lrs
    assert set(quick_lrs) < set(BURGERS_STUDY_LRS) and min(BURGERS_STUDY_LRS) < min(quick_lrs)
    for name in ("burgers_width32", "burgers_steps1000"):
        assert _ids(name, lrs=quick_lrs) < _ids(name)


def test_only_the_named_weight_decay_gets_the_wider_grid():
    studies = {s.name: s for s in with_weight_decay(STUDIES["navier_stokes_horizons"], (3e-3, 3e-2),
                                                    wider_lrs={3e-2: NS_WD_HIGH_LRS})}
    assert studies["navier_stokes_horizons_wd0.03"].overrides["lrs"] == NS_WD_HIGH_LRS
    assert studies["navier_stokes_horizons_wd0.003"].overrides["lrs"] == NS_HORIZON_LRS
    assert studies["navier_stokes_horizons_wd0.03"].smoke_overrides.get("lrs") is None


def test_the_calibrated_rules_quick_sweeps_are_a_committed_study():
    """Every calibrated trial of an LR experiment's quick grid is committed in its study, and the
    quick store holds none: the quick book reads them instead of training them again."""
    from pathlib import Path

    from mufno_core.sweep.experiments import CALIBRATED_EXPONENTS
    from mufno_core.sweep.store import ResultsStore, load_results
    from mufno_core.sweep.studies import calibrated_store

    root = Path(__file__).resolve().parents[2]
    quick = root / "results" / "quick"
    names = [n for n, s in STUDIES.items() if n.endswith("_calibrated")]
    assert sorted(names) == sorted(f"{e}_calibrated" for e in CALIBRATED_EXPONENTS)
    for name in names:
        study = STUDIES[name]
        store = ResultsStore(calibrated_store(quick, study.experiment, "quick"), study.experiment)
        assert store.root == root / "results" / "study" / study.store
        missing = [c.trial_id() for c in grid(study.experiment, "quick", **study.overrides)
                   if not store.path(c.trial_id()).is_file()]
        assert missing == []
        assert "cal" not in set(load_results(quick / study.experiment, mirror=False)["parametrization"])


def test_the_calibrated_rule_stays_in_the_store_at_smoke(tmp_path):
    from mufno_core.sweep.studies import calibrated_store

    assert calibrated_store(tmp_path / "smoke", "burgers_lr", "smoke") == tmp_path / "smoke"
    assert calibrated_store(tmp_path / "quick", "burgers_lr", "quick") == (
        tmp_path / "study" / "calibrated_rule")
    assert calibrated_store(tmp_path / "quick", "darcy_beta2", "quick") == tmp_path / "quick"
