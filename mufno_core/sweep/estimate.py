"""How long a sweep will take on this machine, from a few seconds of calibration.

Every unit of work (a trial, or a stacked group of trials) costs

    t(unit) = t₀ + S · s(unit),

its optimizer steps S (:func:`~mufno_core.sweep.budget.trial_steps`) times the seconds s of one
step, plus a fixed part t₀ (building the model and reading the data, and the ten evaluations every
history records). Both are measured, not assumed: the cheapest and the dearest unit (by the FLOPs
of one step, :func:`~mufno_core.sweep.budget.step_flops`) are trained here for 10 and for 20 steps
on at most :data:`CALIBRATION_MEMBERS` of their members, each with ten evaluations, so

    s = (t₂₀ − t₁₀) / 10,    t₀ = t₁₀ − 10 · s.

Between the two, s and t₀ follow a power law in the step's FLOPs (a straight line in log-log), and
they scale with the unit's members. The sweep's time on W workers (one torch thread each; the
inline executor is one worker with the process's threads) is max(Σ t / W, max t): the makespan of
a balanced pool, never shorter than its longest unit. A machine that is also busy with something
else while calibrating or training makes both estimates and runs slower together.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from mufno_core.provenance import cpu_model
from mufno_core.sweep.config import TrialConfig

# Calibrating (training, counting FLOPs) imports torch inside the functions that do it: a forecast
# of a store that holds every trial, and the book's time lines, load without it.

CALIBRATION_STEPS = (10, 20)
"""Steps of the two calibration runs of a unit (each records ten evaluations, as a full trial)."""

CALIBRATION_MEMBERS = 4
"""Most members of a stacked unit trained while calibrating (the rest are scaled linearly)."""


@dataclass(frozen=True)
class UnitTiming:
    """Measured seconds of one unit: ``fixed`` t₀ and ``per_step`` s, for ``members`` members
    whose one step costs ``flops`` (per member)."""

    flops: float
    members: int
    fixed: float
    per_step: float


@dataclass(frozen=True)
class SweepEstimate:
    """The expected seconds of a sweep's pending trials on this machine."""

    trials: int
    units: int
    workers: int
    seconds: float
    calibration_seconds: float
    machine: str

    def line(self, name: str) -> str:
        """One line for the terminal or the notebook, before the sweep starts."""
        if math.isnan(self.seconds):
            return f"{name}: {self.trials or 'its'} trials; no estimate ({self.machine})"
        if self.trials == 0:
            return f"{name}: every trial is stored; nothing to run"
        return (f"{name}: {self.trials} trials to run, expected {format_duration(self.seconds)} on "
                f"this machine ({self.machine}, {self.workers} worker"
                f"{'s' if self.workers > 1 else ''}; calibrated in {self.calibration_seconds:.1f} s)")


def format_duration(seconds: float) -> str:
    """``42 s``, ``3.5 min`` or ``1.2 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _unit_flops(unit: Sequence[TrialConfig]) -> float:
    """FLOPs of one step of one member of ``unit``."""
    from mufno_core.sweep.budget import step_flops, trial_grid  # imports torch

    return float(step_flops(unit[0], trial_grid(unit[0])))


def _truncated(unit: Sequence[TrialConfig], steps: int) -> list[TrialConfig]:
    return [replace(c, steps=steps, epochs=None) for c in unit[:CALIBRATION_MEMBERS]]


def time_unit(unit: Sequence[TrialConfig], data_dir: str, device: str, num_threads: int | None,
              stack: bool) -> UnitTiming:
    """Train ``unit`` (at most :data:`CALIBRATION_MEMBERS` members) for 10 and 20 steps; t₀ and s."""
    from mufno_core.sweep.trial import run_unit  # imports torch

    seconds = []
    for steps in CALIBRATION_STEPS:
        start = time.perf_counter()
        run_unit(_truncated(unit, steps), data_dir, device, num_threads, stack)
        seconds.append(time.perf_counter() - start)
    short, long = CALIBRATION_STEPS
    per_step = max((seconds[1] - seconds[0]) / (long - short), 1e-6)
    fixed = max(seconds[0] - short * per_step, 0.0)
    return UnitTiming(_unit_flops(unit), len(_truncated(unit, short)), fixed, per_step)


def _power_law(flops: float, low: UnitTiming, high: UnitTiming, attribute: str) -> float:
    """``attribute`` per member at ``flops``, on the log-log line through ``low`` and ``high``."""
    y0 = max(getattr(low, attribute) / low.members, 1e-9)
    y1 = max(getattr(high, attribute) / high.members, 1e-9)
    if high.flops <= low.flops:
        return (y0 + y1) / 2
    t = (math.log(flops) - math.log(low.flops)) / (math.log(high.flops) - math.log(low.flops))
    return math.exp(math.log(y0) + t * (math.log(y1) - math.log(y0)))


def unit_seconds(unit: Sequence[TrialConfig], low: UnitTiming, high: UnitTiming) -> float:
    """Expected seconds of a whole ``unit`` from the two calibrated units."""
    from mufno_core.sweep.budget import trial_steps  # imports torch

    flops = _unit_flops(unit)
    members = len(unit)
    fixed = _power_law(flops, low, high, "fixed") * members
    per_step = _power_law(flops, low, high, "per_step") * members
    return fixed + trial_steps(unit[0]) * per_step


def makespan(seconds: Sequence[float], workers: int) -> float:
    """Time of ``seconds`` of work on ``workers`` balanced workers: max(Σ / W, longest)."""
    return max(sum(seconds) / workers, max(seconds)) if seconds else 0.0


def estimate_sweep(units: Sequence[Sequence[TrialConfig]], data_dir: str = "data",
                   device: str = "cpu", workers: int = 1, one_thread: bool = True,
                   stack: bool = False) -> SweepEstimate:
    """Calibrate on the cheapest and the dearest of ``units`` and estimate the whole sweep.

    ``one_thread``: the executor's workers run one torch thread each (process and Dask pools), so
    calibrate with one too; the inline executor uses the process's threads.
    """
    trials = sum(len(u) for u in units)
    machine = cpu_model() if device == "cpu" else device
    if not units:
        return SweepEstimate(0, 0, workers, 0.0, 0.0, machine)
    import torch

    start = time.perf_counter()
    threads = torch.get_num_threads()
    try:
        ordered = sorted(units, key=lambda u: _unit_flops(u) * len(u))
        low = time_unit(ordered[0], data_dir, device, 1 if one_thread else None, stack)
        high = (low if len(ordered) == 1
                else time_unit(ordered[-1], data_dir, device, 1 if one_thread else None, stack))
    finally:
        torch.set_num_threads(threads)
    calibration = time.perf_counter() - start
    workers = max(1, min(workers, len(units)))
    total = makespan([unit_seconds(u, low, high) for u in units], workers)
    return SweepEstimate(trials, len(units), workers, total, calibration, machine)


def default_workers(executor: str, workers: int | None) -> int:
    """Workers an executor runs (the pools' default: one per CPU)."""
    if executor == "inline":
        return 1
    return workers or multiprocessing.cpu_count()
