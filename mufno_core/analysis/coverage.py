"""Do the sweep's intervals cover the truth? Synthetic sweeps with a known exponent, and coverage.

A synthetic LR sweep draws, for every (parametrization, K, seed), a loss curve

    log10 L(lr) = floor + curvature · (log10 lr − log10 lr*_seed(K))² + ε,
    log10 lr*_seed(K) = log10 lr0 + α · log10(log K) + δ_seed,   δ ~ N(0, seed_shift²),
    ε ~ N(0, noise²) independently at every grid point,

so the exponent α of lr* ∝ (log K)^α is known. :func:`exponent_coverage` repeats such a sweep,
fits α with :func:`~mufno_core.analysis.optima.lr_exponent` each time, and counts how often the 95%
interval holds the true α (it should, about 95% of the time).

A synthetic batch-size or β2 sweep (:class:`SyntheticShift`) does the same on the hyperparameter's
axis x (log2 batch size, log10(1 − β2)), with an optimum that moves by a known ``shift`` from the
smallest to the largest K:

    log10 L(x) = floor + curvature · (x − x*_seed(K))² + ε,
    x*_seed(K) = x0 + shift · (log K − log K_min) / (log K_max − log K_min) + δ_seed + η_seed,K,

δ ~ N(0, seed_shift²) shared by every K of a seed (the paired bootstrap cancels it),
η ~ N(0, k_shift²) and ε ~ N(0, noise²) independent. :func:`shift_coverage` counts how often
:func:`~mufno_core.analysis.optima.hparam_shift`'s interval holds the true shift.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from mufno_core.analysis.optima import exponent, locate, shift
from mufno_core.axes import HPARAM_AXES
from mufno_core.sweep.experiments import lr_grid


@dataclasses.dataclass(frozen=True)
class SyntheticSweep:
    """The shape and noise of a synthetic LR sweep (defaults: the size of the quick Burgers sweep,
    noise of the order measured there)."""

    alpha: float = -0.5
    ks: tuple[int, ...] = (3, 8, 24, 64)
    lrs: tuple[float, ...] = lr_grid(-29, -21)
    seeds: int = 12
    lr0: float = 1e-3
    curvature: float = 2.0
    noise: float = 0.01
    seed_shift: float = 0.05
    floor: float = -1.5


def synthetic_sweep(spec: SyntheticSweep, rng: np.random.Generator,
                    parametrization: str = "sp") -> pd.DataFrame:
    """One synthetic sweep as the rows :func:`~mufno_core.sweep.store.load_results` would give."""
    log_lr = np.log10(np.asarray(spec.lrs, dtype=float))
    rows = []
    for k in spec.ks:
        centre = math.log10(spec.lr0) + spec.alpha * math.log10(math.log(k))
        for seed in range(spec.seeds):
            optimum = centre + rng.normal(0.0, spec.seed_shift)
            log_loss = (spec.floor + spec.curvature * (log_lr - optimum) ** 2
                        + rng.normal(0.0, spec.noise, size=len(log_lr)))
            rows += [{"experiment": "synthetic", "parametrization": parametrization, "modes": k,
                      "dim": 1, "lr": lr, "seed": seed, "final_train_loss": 10.0**value,
                      "diverged": False, "status": "ok"}
                     for lr, value in zip(spec.lrs, log_loss)]
    return pd.DataFrame(rows)


def exponent_coverage(spec: SyntheticSweep, repeats: int = 200, n_boot: int = 300,
                      seed: int = 0, level: float = 0.95,
                      more_levels: Sequence[float] = ()) -> dict[str, float]:
    """Coverage of :func:`~mufno_core.analysis.optima.lr_exponent`'s interval over ``repeats`` synthetic
    sweeps of ``spec``.

    Returns ``coverage`` (fraction of intervals holding the true α), its binomial standard error
    ``coverage_se``, the mean estimate ``mean_alpha`` (bias = mean − α) and ``mean_half_width``;
    ``coverage_at`` {level: coverage} also for ``more_levels`` (the same sweeps and bootstraps).
    """
    rng = np.random.default_rng(seed)
    levels = (level, *more_levels)
    hits, alphas, halves = {lv: [] for lv in levels}, [], []
    for _ in range(repeats):
        located = locate(synthetic_sweep(spec, rng), n_boot=n_boot, seed=int(rng.integers(2**31)))
        fits = {lv: exponent(located, lv).iloc[0] for lv in levels}
        for lv, fit in fits.items():
            hits[lv].append(fit.alpha_low <= spec.alpha <= fit.alpha_high)
        alphas.append(fits[level].alpha)
        halves.append(fits[level].half_width)
    return {**_coverage(hits, level, repeats), "mean_alpha": float(np.mean(alphas)),
            "mean_half_width": float(np.mean(halves)), "repeats": repeats, "true_alpha": spec.alpha}


def _coverage(hits: dict[float, list[bool]], level: float, repeats: int) -> dict:
    coverage = float(np.mean(hits[level]))
    return {"coverage": coverage, "coverage_se": math.sqrt(coverage * (1 - coverage) / repeats),
            "coverage_at": {lv: float(np.mean(h)) for lv, h in hits.items()}}


DESIGNS = {
    "8 per decade": SyntheticSweep(),
    "4 per decade, flat": SyntheticSweep(ks=(2, 3, 5, 8), lrs=lr_grid(-22, -10, step=2), lr0=1e-2,
                                         curvature=0.5),
}
"""The two LR-grid designs of the quick presets: 8 LRs per decade around a Burgers-like bowl, and
Navier–Stokes' 4 per decade around a bowl four times flatter (so the ±2-point fit spans a decade)."""


def coverage_table(alphas: Sequence[float] = (-0.5, 0.0), seeds: Sequence[int] = (4, 8, 12),
                   repeats: int = 200, n_boot: int = 300,
                   designs: Sequence[str] = tuple(DESIGNS)) -> pd.DataFrame:
    """:func:`exponent_coverage` for each design of :data:`DESIGNS`, true α and number of seeds
    (the book's coverage table)."""
    rows = []
    for design in designs:
        for alpha in alphas:
            for n in seeds:
                spec = dataclasses.replace(DESIGNS[design], alpha=alpha, seeds=n)
                rows.append({"design": design, "true α": alpha, "seeds": n,
                             **exponent_coverage(spec, repeats, n_boot)})
    return pd.DataFrame(rows)


@dataclasses.dataclass(frozen=True)
class SyntheticShift:
    """The shape and noise of a synthetic batch-size / β2 sweep with a known ``shift`` of the
    optimum on the axis (defaults: the gpu preset's batch sizes, K 3 → 12, 4 seeds)."""

    hparam: str = "batch_size"
    values: tuple[float, ...] = (5, 10, 20, 40, 80)
    ks: tuple[int, ...] = (3, 12)
    optimum: float = 14.0  # at K_min, natural units
    shift: float = 1.0  # x*(K_max) − x*(K_min) on the axis
    seeds: int = 4
    curvature: float = 0.05  # log10 loss per axis unit squared
    noise: float = 0.005
    seed_shift: float = 0.2
    k_shift: float = 0.1
    floor: float = -1.5


SHIFT_SPECS = {
    "batch_size": SyntheticShift(),
    "beta2": SyntheticShift(hparam="beta2", values=(0.9, 0.95, 0.98, 0.99, 0.995, 0.999),
                            optimum=0.98, shift=-0.5, curvature=0.1, seed_shift=0.1, k_shift=0.1),
}
"""A batch-size sweep whose optimum doubles (14 → 28) and a β2 sweep whose 1 − β2 shrinks half a
decade (0.98 → 0.994) over K 3 → 12."""


def synthetic_hparam_sweep(spec: SyntheticShift, rng: np.random.Generator,
                           parametrization: str = "sp") -> pd.DataFrame:
    """One synthetic batch-size / β2 sweep of ``spec`` as :func:`load_results`-like rows."""
    axis = HPARAM_AXES[spec.hparam]
    x = np.asarray(axis.forward(np.asarray(spec.values, dtype=float)), dtype=float)
    x0 = float(axis.forward(np.asarray(spec.optimum, dtype=float)))
    span = math.log(max(spec.ks)) - math.log(min(spec.ks))
    rows = []
    offsets = rng.normal(0.0, spec.seed_shift, size=spec.seeds)
    for k in spec.ks:
        centre = x0 + spec.shift * (math.log(k) - math.log(min(spec.ks))) / span
        for seed in range(spec.seeds):
            optimum = centre + offsets[seed] + rng.normal(0.0, spec.k_shift)
            log_loss = (spec.floor + spec.curvature * (x - optimum) ** 2
                        + rng.normal(0.0, spec.noise, size=len(x)))
            rows += [{"experiment": "synthetic", "parametrization": parametrization, "modes": k,
                      spec.hparam: value, "seed": seed, "final_train_loss": 10.0**loss,
                      "diverged": False, "status": "ok"}
                     for value, loss in zip(spec.values, log_loss)]
    return pd.DataFrame(rows)


def shift_coverage(spec: SyntheticShift, repeats: int = 200, n_boot: int = 300, seed: int = 0,
                   level: float = 0.95, more_levels: Sequence[float] = ()) -> dict[str, float]:
    """Coverage of :func:`~mufno_core.analysis.optima.hparam_shift`'s interval over ``repeats`` synthetic
    sweeps of ``spec``.

    Returns ``coverage`` (fraction of intervals holding the true shift), ``coverage_se``,
    ``coverage_at`` (as in :func:`exponent_coverage`), ``mean_shift`` (bias = mean − shift),
    ``mean_half_width`` and ``edge`` (fraction of sweeps with an optimum on the grid's edge).
    """
    rng = np.random.default_rng(seed)
    levels = (level, *more_levels)
    hits, shifts, halves, edges = {lv: [] for lv in levels}, [], [], []
    for _ in range(repeats):
        located = locate(synthetic_hparam_sweep(spec, rng), spec.hparam, n_boot=n_boot,
                         seed=int(rng.integers(2**31)))
        fits = {lv: shift(located, lv).iloc[0] for lv in levels}
        for lv, fit in fits.items():
            hits[lv].append(fit["shift_low"] <= spec.shift <= fit["shift_high"])
        shifts.append(fits[level]["shift"])  # .shift would be pandas' Series.shift
        halves.append(fits[level].half_width)
        edges.append(fits[level].edge)
    return {**_coverage(hits, level, repeats), "mean_shift": float(np.mean(shifts)),
            "mean_half_width": float(np.mean(halves)), "edge": float(np.mean(edges)),
            "repeats": repeats, "true_shift": spec.shift}


def shift_coverage_table(hparams: Sequence[str] = ("batch_size", "beta2"),
                         seeds: Sequence[int] = (3, 4, 8), repeats: int = 200,
                         n_boot: int = 300) -> pd.DataFrame:
    """:func:`shift_coverage` of :data:`SHIFT_SPECS` for each hyperparameter and number of seeds."""
    rows = []
    for hparam in hparams:
        for n in seeds:
            spec = dataclasses.replace(SHIFT_SPECS[hparam], seeds=n)
            rows.append({"hparam": hparam, "seeds": n, **shift_coverage(spec, repeats, n_boot)})
    return pd.DataFrame(rows)


def main() -> None:
    """``python -m mufno_core.analysis.coverage [REPEATS]``: the coverage tables, printed."""
    import sys

    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    table = coverage_table(repeats=repeats)
    columns = ["design", "true α", "seeds", "coverage", "coverage_se", "mean_alpha", "mean_half_width"]
    print("exponent α of lr* ∝ (log K)^α (lr_exponent):")
    print(table[columns].round(3).to_string(index=False))
    shifts = shift_coverage_table(repeats=repeats)
    columns = ["hparam", "true_shift", "seeds", "coverage", "coverage_se", "mean_shift",
               "mean_half_width", "edge"]
    print("\nshift of the best batch size / β2 from K_min to K_max (hparam_shift):")
    print(shifts[columns].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
