"""Do the sweep's intervals cover the truth? Synthetic sweeps with a known exponent, and coverage.

A synthetic LR sweep draws, for every (parametrization, K, seed), a loss curve

    log10 L(lr) = floor + curvature · (log10 lr − log10 lr*_seed(K))² + ε,
    log10 lr*_seed(K) = log10 lr0 + α · log10(log K) + δ_seed,   δ ~ N(0, seed_shift²),
    ε ~ N(0, noise²) independently at every grid point,

so the exponent α of lr* ∝ (log K)^α is known. :func:`exponent_coverage` repeats such a sweep,
fits α with :func:`~mufno_core.sweep.analysis.lr_exponent` each time, and counts how often the 95%
interval holds the true α (it should, about 95% of the time).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mufno_core.sweep.analysis import lr_exponent
from mufno_core.sweep.experiments import lr_grid


@dataclass(frozen=True)
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
                      seed: int = 0, level: float = 0.95) -> dict[str, float]:
    """Coverage of :func:`lr_exponent`'s interval over ``repeats`` synthetic sweeps of ``spec``.

    Returns ``coverage`` (fraction of intervals holding the true α), its binomial standard error
    ``coverage_se``, the mean estimate ``mean_alpha`` (bias = mean − α) and ``mean_half_width``.
    """
    rng = np.random.default_rng(seed)
    hits, alphas, halves = [], [], []
    for _ in range(repeats):
        fit = lr_exponent(synthetic_sweep(spec, rng), n_boot=n_boot, level=level,
                          seed=int(rng.integers(2**31))).iloc[0]
        hits.append(fit.alpha_low <= spec.alpha <= fit.alpha_high)
        alphas.append(fit.alpha)
        halves.append(fit.half_width)
    coverage = float(np.mean(hits))
    return {"coverage": coverage, "coverage_se": math.sqrt(coverage * (1 - coverage) / repeats),
            "mean_alpha": float(np.mean(alphas)), "mean_half_width": float(np.mean(halves)),
            "repeats": repeats, "true_alpha": spec.alpha}


def coverage_table(alphas: Sequence[float] = (-0.5, 0.0), seeds: Sequence[int] = (4, 8, 12),
                   repeats: int = 200, n_boot: int = 300) -> pd.DataFrame:
    """:func:`exponent_coverage` for each true α and number of seeds (the book's coverage table)."""
    rows = []
    for alpha in alphas:
        for n in seeds:
            rows.append({"true α": alpha, "seeds": n,
                         **exponent_coverage(SyntheticSweep(alpha=alpha, seeds=n), repeats, n_boot)})
    return pd.DataFrame(rows)


def main() -> None:
    """``python -m mufno_core.sweep.coverage [REPEATS]``: the coverage table, printed."""
    import sys

    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    table = coverage_table(repeats=repeats)
    columns = ["true α", "seeds", "coverage", "coverage_se", "mean_alpha", "mean_half_width"]
    print(table[columns].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
