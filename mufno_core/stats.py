"""Generic statistics: the seed bootstrap, Student-t intervals, least-squares slopes, and what an
interval says about a threshold.

The intervals of this project are estimate ± t(n−1) · SE, with SE the standard deviation of a seed
bootstrap (seeds resampled with replacement, the whole estimate redone), corrected for few seeds:
with 3 seeds a plain percentile interval covers only ~85%, the t-interval ~95% (coverage measured
in :mod:`mufno_core.analysis.coverage`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import stdtrit


def bootstrap_indices(n_seeds: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` resamples of ``n_seeds`` seeds with replacement: an (n_boot, n_seeds) index array.
    One array resamples every curve of a sweep alike (paired draws: the curves share their seeds)."""
    return rng.integers(0, n_seeds, size=(n_boot, n_seeds))


def resampled_means(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Seed means of a (L, S) table for each row of seed ``indices`` (B, S): shape (B, L)."""
    with warnings.catch_warnings():  # a resample may miss every seed of a sparse cell
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values[:, indices], axis=2).T


def bootstrap_se(samples: np.ndarray, n_seeds: int) -> float:
    """Bootstrap standard error, corrected for few seeds: the plug-in bootstrap's variance is
    (n−1)/n of the unbiased one, so SE = std(samples) · sqrt(n / (n−1))."""
    if n_seeds < 2 or not np.isfinite(samples).any():
        return math.nan
    return float(np.nanstd(samples) * math.sqrt(n_seeds / (n_seeds - 1)))


def student_t(dof: int, level: float = 0.95) -> float:
    """The two-sided Student-t quantile t_{(1+level)/2}(dof) (the inverse of the t CDF;
    ``scipy.special`` loads in a fraction of ``scipy.stats``'s time, in every sweep command)."""
    return float(stdtrit(max(dof, 1), 0.5 + level / 2))


def slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of ``y`` (…, n) against ``x`` (n): Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²."""
    dx = np.asarray(x, dtype=float) - np.mean(x)
    y = np.asarray(y, dtype=float)
    return np.sum(dx * (y - y.mean(axis=-1, keepdims=True)), axis=-1) / np.sum(dx**2)


def exponent_interval(name: str, estimate: float, samples: np.ndarray | float, n_seeds: int,
                      theory: float, half_value: float, level: float = 0.95) -> dict:
    """An exponent with its interval, estimate ± t(n−1) · bootstrap SE of ``samples`` (or ``samples``
    itself when it is the SE), and what the interval decides: ``consistent`` (holds ``theory``),
    ``excludes_zero``, ``excludes_half`` (excludes ``half_value``, ±½). Keys: ``name``,
    ``name_low``, ``name_high``, ``name_se``, ``half_width``, ``theory`` and the three decisions."""
    se = samples if np.isscalar(samples) else bootstrap_se(np.asarray(samples), n_seeds)
    half = student_t(n_seeds - 1, level) * se
    low, high = estimate - half, estimate + half
    return {name: estimate, f"{name}_low": low, f"{name}_high": high, f"{name}_se": se,
            "half_width": half, "theory": theory, "consistent": bool(low <= theory <= high),
            "excludes_zero": bool(high < 0 or low > 0),
            "excludes_half": bool(high < half_value or low > half_value)}


def exponent_fit(name: str, x: np.ndarray, estimates: np.ndarray, samples: np.ndarray,
                 n_seeds: int, theory: float = math.nan, half_value: float = 0.5,
                 level: float = 0.95) -> dict:
    """The exponent of a power law q ∝ (log K_eff)^e, the one fit of this project (α of the optimal
    LR, β of an update size or of an operator norm).

    ``x`` is ln(log K_eff) per K, ``estimates`` ln q per K, ``samples`` (B, K) ln q of every bootstrap
    draw (for a paired seed bootstrap, one draw of seeds for every K: :func:`paired_seed_exponent`).
    e is the least-squares slope of ``estimates`` against ``x``, its interval e ± t(n−1)·SE from the
    draws' slopes (:func:`exponent_interval`, whose keys it returns, plus ``_samples``: the draws'
    slopes). With fewer than two K, e and its interval are NaN.
    """
    if len(x) < 2:
        slopes = np.full(len(samples), np.nan)
        fit = exponent_interval(name, math.nan, math.nan, n_seeds, theory, half_value, level)
    else:
        slopes = slope(x, samples)
        fit = exponent_interval(name, float(slope(x, estimates)), slopes, n_seeds, theory,
                                half_value, level)
    return {**fit, "_samples": slopes}


def paired_seed_exponent(name: str, x: np.ndarray, values: np.ndarray, n_boot: int = 1000,
                         seed: int = 0, theory: float = math.nan, half_value: float = 0.5,
                         level: float = 0.95) -> dict:
    """:func:`exponent_fit` of a (K, seeds) table ``values`` of ln q: the estimate per K is the
    seed mean, and each bootstrap draw resamples the seeds once for every K (paired: the K share
    their seeds). Adds ``growth``: q's seed-mean ratio between the last and the first K."""
    n_seeds = values.shape[1]
    indices = bootstrap_indices(n_seeds, n_boot, np.random.default_rng(seed))
    fit = exponent_fit(name, x, values.mean(axis=1), values[:, indices].mean(axis=2).T, n_seeds,
                       theory, half_value, level)
    return {**fit, "growth": float(np.exp(values[-1].mean() - values[0].mean()))}


@dataclass(frozen=True)
class Comparison:
    """Where an interval [low, high] lies against a threshold, given a ``tolerance`` on its ends.

    ``side``: "below" (high < threshold − tolerance), "above" (low > threshold + tolerance),
    "holds" (low < threshold − tolerance and high > threshold + tolerance, or the whole interval
    within ± tolerance of the threshold: indistinguishable from it at round-off precision),
    else "borderline": one end lies within ``tolerance`` of the threshold, so a change of that
    size (round-off on another CPU, say) could move the decision. ``margin`` is the signed
    distance between the threshold and the interval's nearest end: > 0 when the interval excludes
    the threshold (by that much), < 0 when it holds it. A NaN interval gives side "unknown".
    """

    side: str
    margin: float
    threshold: float
    tolerance: float

    @property
    def excludes(self) -> bool:
        """The interval lies clear of the threshold, beyond the tolerance."""
        return self.side in ("below", "above")


def compare(low: float, high: float, threshold: float, tolerance: float) -> Comparison:
    """The three-valued (plus borderline) comparison of [low, high] with ``threshold``."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return Comparison("unknown", math.nan, threshold, tolerance)
    if high < threshold:
        margin = threshold - high
    elif low > threshold:
        margin = low - threshold
    else:
        margin = -min(threshold - low, high - threshold)
    if margin > tolerance:
        side = "below" if high < threshold else "above"
    elif margin < -tolerance or (low >= threshold - tolerance and high <= threshold + tolerance):
        side = "holds"
    else:
        side = "borderline"
    return Comparison(side, float(margin), threshold, tolerance)
