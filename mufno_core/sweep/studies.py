"""Studies beyond the presets: the quick Burgers sweep at a larger width, for more steps, and with
only the spectral weights' LR swept; the quick Navier–Stokes sweep at twice its width. Too slow for
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
from typing import Any

import pandas as pd

from mufno_core.sweep import run_sweep
from mufno_core.sweep.experiments import SEEDS8, lr_grid

STUDY_RESULTS = "results/study"
"""Where the committed study records live (relative to the repository root)."""

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


STUDIES: dict[str, Study] = {s.name: s for s in (
    Study("burgers_width32", "burgers_lr",
          "Does SP's exponent move toward −½ when the width doubles (16 → 32)?",
          {"width": 32, "seeds": SEEDS8, "parametrizations": ("sp",)},
          {"width": 12, "parametrizations": ("sp",)}),
    Study("burgers_steps1000", "burgers_lr",
          "Does SP's exponent move toward −½ with longer training (300 → 1000 steps)?",
          {"steps": 1000, "seeds": SEEDS8, "parametrizations": ("sp",)},
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
)}


def run_study(name: str, results_dir: str = STUDY_RESULTS, executor: str = "process",
              workers: int | None = 2, progress: bool = False, preset: str = "quick",
              **kwargs: Any) -> pd.DataFrame:
    """The records of study ``name`` (run where missing) as :func:`~mufno_core.sweep.run_sweep`
    returns them: at the quick preset (the study itself) or at smoke (its toy-size version)."""
    study = STUDIES[name]
    overrides = study.smoke_overrides if preset == "smoke" else study.overrides
    return run_sweep(study.experiment, preset, results_dir, executor=executor, workers=workers,
                     progress=progress, **{**overrides, **kwargs})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run (or resume) a study of the √log K chapter")
    parser.add_argument("names", nargs="*", default=list(STUDIES), help=", ".join(STUDIES))
    parser.add_argument("--results", default=STUDY_RESULTS)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    for name in args.names:
        df = run_study(name, args.results, workers=args.workers, progress=True)
        print(f"{name}: {len(df)} trials, {df['wall_time'].sum() / 60:.1f} CPU min of training",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
