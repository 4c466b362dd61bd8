"""Studies beyond the presets: the quick Burgers sweep at a larger width, for more steps, and with
only the spectral weights' LR swept; the quick Navier–Stokes sweep at twice its width; and the
horizon studies (Navier–Stokes and Darcy for 300 steps, losses logged every 10, so that one run
gives the optimum at every training length; μP also with independent weight decay), which keep
their records in ``results/study/horizons/``. Too slow for
the quick book (tens of CPU minutes each), so they are run once with
``python -m mufno_core.sweep.studies NAME`` and their records committed under ``results/study/``;
the chapters "Does the √log K law hold at finite K?" (the Burgers studies) and "Can a coordinate
check tell you the transfer rule?" (held-out settings) render from them (and compute any that are
missing).

``python -m mufno_core.sweep.verify results/study --sample 5`` reruns a random sample of the
committed trials and reports whether their loss histories match the records.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mufno_core.sweep.experiments import CALIBRATED_EXPONENTS, SEEDS8, lr_grid

STUDY_RESULTS = "results/study"
"""Where the committed study records live (relative to the repository root)."""

HORIZON_STEPS = 300
"""Length of the horizon studies' runs."""

HORIZON_EVAL_EVERY = 10
"""The horizon studies log their losses every 10 steps: at a constant LR the test loss at step h is
the one an h-step run ends with, and the training loss the mean of its last 10 steps, as a 100-step
run of the quick preset records it; so one run gives the optimum at 100, 200 and 300 steps."""

HORIZON_SEEDS = (0, 1, 2, 3)
"""4 seeds: what one worker affords in about 45 minutes beside the K, LR and weight-decay axes."""

NS_HORIZON_LRS = lr_grid(-25, -10, step=3)
"""7.5e-4 … 5.6e-2, 2.7 points per decade: the quick optima at 100 steps (8.2e-3 … 1.7e-2) sit
two points from the top, and a probe (μP, K 2 and 8) saw them fall by half from 100 to 200 steps,
so the grid reaches a decade further down."""

NS_WD_HIGH_LRS = lr_grid(-25, -4, step=3)
"""The Navier–Stokes grid two points higher (to 0.32) for λ = 0.03: on the base grid its optimum at
K = 2 sat past the top (5.6e-2), not located."""

DARCY_HORIZON_LRS = lr_grid(-23, -11, step=3)
"""1.3e-3 … 4.2e-2: the quick optima at 150 steps (6.8e-3 … 1.4e-2) one point below the top."""

HORIZON_WEIGHT_DECAYS = (1e-3, 3e-3, 3e-2)
"""λ of μP with independent weight decay (θ ← (1 − λ)·θ every step, whatever the LR): decay times
1/λ of three runs (1000 steps), about the whole run (333) and a tenth of it (33), the range in which
Kosson et al. 2025 (arXiv 2510.19093) find weight decay sets the equilibrium of the weights. The
loss at the LR optimum rose from λ = 0 to 3e-3 to 3e-2 on both PDEs, so 1e-3 asks whether a
small λ lies below λ = 0 (weight decay's own optimum inside the grid) or the rise starts at 0."""

HORIZON_ADAMW_DECAYS = (0.1, 1.0)
"""λ of μP with the paper's AdamW-coupled weight decay (θ ← (1 − η_g·λ)·θ, η_g the group's LR, so
μP's c(K) scales the spectral weights' decay too): at the horizon optima's η ≈ 1e-2 they decay by
1e-3 and 1e-2 per step, the range of the independent λ above."""

BURGERS_STUDY_LRS = lr_grid(-31, -22)
"""3.2e-4 … 1.8e-3: the quick Burgers grid (from 10^(-29/8)) two points lower, because at width 32
and at 1000 steps 3 of 4 optima sat on its lowest point (not located)."""

SP_OTHER_LR = 10 ** (-26 / 8)
"""5.6e-4: the grid point nearest the quick Burgers SP optimum at K = 3 (5.7e-4), the LR the
K-independent weights keep while the spectral LR is swept."""


@dataclass(frozen=True)
class Study:
    """A named variant of an experiment's quick preset: ``overrides`` as for :func:`grid`."""

    name: str
    experiment: str
    question: str
    overrides: dict[str, Any] = field(default_factory=dict)
    smoke_overrides: dict[str, Any] = field(default_factory=dict)
    """The same question at toy size, so that the smoke book (and the tests) run its code path."""
    store: str = ""
    """The subfolder of the studies' store that holds its records ("": the store itself)."""
    horizons: tuple[int, ...] = ()
    """Training lengths its records are read at (:mod:`mufno_core.analysis.horizons`; () : the end)."""
    smoke_horizons: tuple[int, ...] = ()


NS_HORIZONS = Study(
    "navier_stokes_horizons", "navier_stokes_lr",
    "Does the optimal LR's exponent over K change with the training length (100 → 300 steps)?",
    {"steps": HORIZON_STEPS, "eval_every": HORIZON_EVAL_EVERY, "modes": (2, 8),
     "lrs": NS_HORIZON_LRS, "seeds": HORIZON_SEEDS, "parametrizations": ("sp", "mup")},
    {"steps": 10, "eval_every": 1, "parametrizations": ("sp", "mup")},
    store="horizons", horizons=(100, 200, 300), smoke_horizons=(3, 5, 10))

DARCY_HORIZONS = Study(
    "darcy_horizons", "darcy_lr",
    "Does the optimal LR's exponent over K change with the training length (150 → 300 steps)?",
    {"steps": HORIZON_STEPS, "eval_every": HORIZON_EVAL_EVERY, "modes": (2, 14),
     "lrs": DARCY_HORIZON_LRS, "seeds": HORIZON_SEEDS, "parametrizations": ("sp", "mup")},
    {"steps": 10, "eval_every": 1, "parametrizations": ("sp", "mup")},
    store="horizons", horizons=(100, 150, 300), smoke_horizons=(3, 5, 10))


CALIBRATED_STORE = "calibrated_rule"
"""The subfolder of the studies' store with the calibrated rule's sweeps (parametrization "cal"
only, at the frozen β of :data:`~mufno_core.sweep.experiments.CALIBRATED_EXPONENTS`): a committed
study that the quick book reads instead of training it again (what that saves:
``benchmarks/bench_book_trials.py``)."""


def calibrated_studies() -> list[Study]:
    """One study per experiment with a frozen calibrated exponent at the quick preset: its quick
    grid under the calibrated rule alone (``{experiment}_calibrated``)."""
    return [Study(f"{experiment}_calibrated", experiment,
                  "Where does the optimal LR go over K under the calibrated rule c(K) = "
                  f"(log K₀_eff / log K_eff)^β, β = {exponents['quick']:g}?",
                  {"parametrizations": ("cal",)},
                  {"parametrizations": ("cal",), "cal_exponent": exponents["quick"]},
                  store=CALIBRATED_STORE)
            for experiment, exponents in CALIBRATED_EXPONENTS.items() if "quick" in exponents]


def calibrated_store(results_dir: str | Path, experiment: str, preset: str) -> Path:
    """Where the calibrated rule's trials of ``experiment`` at ``preset`` live: where the
    experiment has a frozen exponent at that preset (quick), the committed study in the studies'
    store beside ``results_dir`` (``results/study/calibrated_rule`` for ``results/quick``); at any
    other preset (smoke, where the chapter measures β itself) the store itself."""
    if preset in CALIBRATED_EXPONENTS.get(experiment, {}):
        return Path(results_dir).parent / Path(STUDY_RESULTS).name / CALIBRATED_STORE
    return Path(results_dir)


def with_weight_decay(base: Study, weight_decays: tuple[float, ...] = HORIZON_WEIGHT_DECAYS,
                      mode: str = "independent",
                      wider_lrs: dict[float, tuple[float, ...]] | None = None) -> list[Study]:
    """μP with weight decay λ in coupling ``mode`` on the grid of ``base``, one study per λ
    (``{base}_wd{λ}`` for independent decay, ``{base}_{mode}{λ}`` for another coupling, in the same
    store); μP at the base K is trained too (there it is SP with the same weight decay).
    ``wider_lrs``: the LR grid of a λ whose optimum lies beyond the base grid."""
    def decayed(overrides: dict[str, Any], wd: float) -> dict[str, Any]:
        lrs = (wider_lrs or {}).get(wd)
        return {**overrides, "parametrizations": ("mup",), "weight_decay": wd,
                "weight_decay_mode": mode, **({"lrs": lrs} if lrs and "lrs" in overrides else {})}

    tag = "wd" if mode == "independent" else mode
    return [Study(f"{base.name}_{tag}{wd:g}", base.experiment,
                  f"Does {mode} weight decay λ = {wd:g} keep μP's optimal LR in place over K at every "
                  "training length?", decayed(base.overrides, wd), decayed(base.smoke_overrides, wd),
                  base.store, base.horizons, base.smoke_horizons)
            for wd in weight_decays]


STUDIES: dict[str, Study] = {s.name: s for s in (
    Study("burgers_width32", "burgers_lr",
          "Does SP's exponent move toward −½ when the width doubles (16 → 32)?",
          {"width": 32, "seeds": SEEDS8, "parametrizations": ("sp",), "lrs": BURGERS_STUDY_LRS},
          {"width": 12, "parametrizations": ("sp",)}),
    Study("burgers_steps1000", "burgers_lr",
          "Does SP's exponent move toward −½ with longer training (300 → 1000 steps)?",
          {"steps": 1000, "seeds": SEEDS8, "parametrizations": ("sp",), "lrs": BURGERS_STUDY_LRS},
          {"steps": 8, "parametrizations": ("sp",)}),
    Study("burgers_spectral_lr", "burgers_lr",
          "With lifting, skips and projection held at SP's K = 3 optimum, where does the optimum "
          "of the spectral weights' LR alone go?",
          {"other_lr": SP_OTHER_LR, "seeds": SEEDS8, "lrs": lr_grid(-32, -16)[::2]},
          {"other_lr": 1e-2}),
    Study("navier_stokes_width16", "navier_stokes_lr",
          "Does the coordinate check's measure, frozen on Burgers and Darcy, predict α for "
          "Navier–Stokes at twice the quick width (8 → 16), a setting it never saw?",
          {"width": 16, "seeds": SEEDS8, "parametrizations": ("sp", "mup")},
          {"width": 6, "parametrizations": ("sp", "mup")}),
    NS_HORIZONS, *with_weight_decay(NS_HORIZONS, wider_lrs={3e-2: NS_WD_HIGH_LRS}),
    *with_weight_decay(NS_HORIZONS, HORIZON_ADAMW_DECAYS, mode="adamw"),
    DARCY_HORIZONS, *with_weight_decay(DARCY_HORIZONS, HORIZON_WEIGHT_DECAYS[:2]),
    *with_weight_decay(DARCY_HORIZONS, HORIZON_ADAMW_DECAYS[:1], mode="adamw"),
    *calibrated_studies(),
)}


def run_study(name: str, results_dir: str = STUDY_RESULTS, executor: str = "process",
              workers: int | None = 2, progress: bool = False, preset: str = "quick",
              **kwargs: Any) -> pd.DataFrame:
    """The records of study ``name`` (run where missing) as :func:`~mufno_core.sweep.run_sweep`
    returns them: at the quick preset (the study itself) or at smoke (its toy-size version)."""
    study = STUDIES[name]
    overrides = study.smoke_overrides if preset == "smoke" else study.overrides
    store = str(Path(results_dir) / study.store) if study.store else results_dir
    from mufno_core.sweep.api import run_sweep  # training imports torch; reading a study does not

    return run_sweep(study.experiment, preset, store, executor=executor, workers=workers,
                     progress=progress, **{**overrides, **kwargs})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run (or resume) studies beyond the presets")
    parser.add_argument("names", nargs="*", default=list(STUDIES), help=", ".join(STUDIES))
    parser.add_argument("--results", default=STUDY_RESULTS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--preset", choices=("quick", "smoke"), default="quick",
                        help="quick: the study itself; smoke: its toy-size version (seconds)")
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args(argv)
    for name in args.names:
        if name not in STUDIES:
            parser.error(f"unknown study {name!r}; studies: {', '.join(STUDIES)}")
        df = run_study(name, args.results, workers=args.workers, progress=True,
                       preset=args.preset, data_dir=args.data_dir)
        print(f"{name}: {len(df)} trials, {df['wall_time'].sum() / 60:.1f} CPU min of training",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
