"""Where is the optimum, and does it move with K? Optimal LR per K, its drift, batch size and β2.

The optimal LR of one curve (one parametrization, one K) is located between grid points: a parabola
is fitted to the seed-mean log10-loss against log10 LR over the grid minimum and its neighbours
(``window`` points each side), and its vertex, kept inside the fitted window, is the optimum. Its
uncertainty is a bootstrap over seeds: seeds are resampled with replacement and the whole fit is
redone; the 95% interval is ± t(n−1) bootstrap standard errors in log LR (with 3 seeds a plain
percentile interval covers only ~85%). A diverged trial is a failure, not a missing value: its
loss counts as ``failure_loss`` (at least as bad as the untrained model, relative L2 = 1), so a LR
at which some seeds diverge is penalised rather than ignored.

The drift of the optimum is ``lr*(K_max) / lr*(K_min)`` for SP and for μP; its CI combines the two
bootstrap standard errors (the K's are trained independently), with a Student-t quantile.

The scaling exponent uses every K of a curve, not only the two ends: :func:`lr_exponent` fits

    log lr*(K) = a + α · log(log K_eff),    K_eff = K₁ ⋯ K_d  (= K^d; d cancels in α),

by least squares over the K's. μP's rule c(K) ∝ 1/sqrt(d log K) (paper Thm. 3.5) predicts α = −½ for
SP's optimum and α = 0 for μP's. Its 95% interval resamples seeds jointly over all K and refits
every optimum and α (coverage measured in :mod:`mufno_core.sweep.coverage`).

The batch size and Adam β2 are located the same way on their own axes, log2 batch size and
log10(1 − β2) (:data:`HPARAM_AXES`); :func:`hparam_shift` gives the shift of the optimum from the
smallest to the largest K with a paired seed bootstrap (the seeds are shared across K).

Trials with ``status == "error"`` are not measurements (a bad setting, a lost worker): every function
here leaves them out (:func:`measured`); :func:`~mufno_core.sweep.errors.error_line` says so in words.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

DEFAULT_METRIC = "final_train_loss"
"""The loss the optima refer to: training loss, as in the μP papers (test loss: pass metric=)."""


def measured(df: pd.DataFrame) -> pd.DataFrame:
    """The rows that are measurements: trials that ran ("ok" or "diverged"), not errors."""
    if "status" not in df.columns:
        return df
    return df[df["status"].fillna("ok") != "error"]


def _failure_values(df: pd.DataFrame, metric: str, failure_loss: float | None) -> pd.Series:
    """The metric with diverged/failed trials replaced by ``failure_loss`` (default: max(1, worst))."""
    values = df[metric].astype(float)
    failed = df["diverged"].astype(bool) | ~np.isfinite(values)
    if failure_loss is None:
        finite = values[~failed]
        failure_loss = max(1.0, float(finite.max()) if len(finite) else 1.0)
    return values.where(~failed, failure_loss)


def loss_table(df: pd.DataFrame, x: str, metric: str = DEFAULT_METRIC,
               failure_loss: float | None = None) -> np.ndarray:
    """log10-losses of one curve as a (len(x values), n seeds) array, rows in ascending ``x``.

    A missing (x, seed) cell is NaN and left out of the means.
    """
    data = df.assign(_loss=np.log10(_failure_values(df, metric, failure_loss)))
    table = data.pivot_table(index=x, columns="seed", values="_loss", aggfunc="mean")
    return table.sort_index()


def fit_optimum(log_x: np.ndarray, mean_log_loss: np.ndarray, window: int = 2) -> tuple[float, float, bool]:
    """Vertex of a parabola through the grid minimum ± ``window`` points: (log x*, loss*, at_edge).

    The vertex is kept within the fitted points; a parabola that opens downwards, or too few points,
    gives the grid minimum. ``at_edge`` is True when the grid minimum is the first or last point
    (the true optimum may lie outside the grid).
    """
    ok = np.isfinite(mean_log_loss)
    log_x, y = np.asarray(log_x)[ok], np.asarray(mean_log_loss)[ok]
    if len(y) == 0:
        return math.nan, math.nan, False
    j = int(np.argmin(y))
    at_edge = j in (0, len(y) - 1)
    lo, hi = max(0, j - window), min(len(y), j + window + 1)
    if hi - lo >= 3:
        a, b, c = np.polyfit(log_x[lo:hi], y[lo:hi], 2)
        if a > 0:
            vertex = float(np.clip(-b / (2 * a), log_x[lo], log_x[hi - 1]))
            return vertex, float(np.polyval([a, b, c], vertex)), at_edge
    return float(log_x[j]), float(y[j]), at_edge


def fit_optima(log_x: np.ndarray, mean_log_loss: np.ndarray, window: int = 2) -> np.ndarray:
    """:func:`fit_optimum`'s log x* for every row of ``mean_log_loss`` (shape (B, L)) at once.

    Rows with a non-finite entry go through :func:`fit_optimum` one by one; the others solve the
    3 × 3 normal equations of the windowed parabola together (x centred, so they are well posed).
    """
    log_x = np.asarray(log_x, dtype=float)
    y = np.atleast_2d(np.asarray(mean_log_loss, dtype=float))
    out = np.empty(len(y))
    finite = np.isfinite(y).all(axis=1)
    for i in np.flatnonzero(~finite):
        out[i] = fit_optimum(log_x, y[i], window)[0]
    yf = y[finite]
    if len(yf) == 0:
        return out
    n = len(log_x)
    j = np.argmin(yf, axis=1)
    lo, hi = np.maximum(0, j - window), np.minimum(n, j + window + 1)  # window [lo, hi)
    cols = np.arange(n)
    mask = ((cols >= lo[:, None]) & (cols < hi[:, None])).astype(float)
    x = log_x - log_x.mean()
    powers = [np.sum(mask * x**k, axis=1) for k in range(5)]
    rhs = [np.sum(mask * x**k * yf, axis=1) for k in range(3)]
    # normal equations for y ≈ c + b x + a x²
    normal = np.stack([np.stack([powers[0], powers[1], powers[2]], -1),
                       np.stack([powers[1], powers[2], powers[3]], -1),
                       np.stack([powers[2], powers[3], powers[4]], -1)], -2)
    enough = (hi - lo) >= 3
    coef = np.full((len(yf), 3), np.nan)
    if enough.any():
        coef[enough] = np.linalg.solve(normal[enough], np.stack(rhs, -1)[enough][..., None])[..., 0]
    c_b, c_a = coef[:, 1], coef[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = -c_b / (2 * c_a) + log_x.mean()
    vertex = np.clip(vertex, log_x[lo], log_x[hi - 1])
    use_vertex = enough & (c_a > 0)
    out[finite] = np.where(use_vertex, vertex, log_x[j])
    return out


def bootstrap_se(samples: np.ndarray, n_seeds: int) -> float:
    """Bootstrap standard error, corrected for few seeds (the plug-in bootstrap's variance is
    (n−1)/n of the unbiased one)."""
    if n_seeds < 2:
        return math.nan
    return float(np.nanstd(samples) * math.sqrt(n_seeds / (n_seeds - 1)))


def student_t(dof: int, level: float = 0.95) -> float:
    """The two-sided Student-t quantile: with 3 seeds a percentile bootstrap covers ~85%, not 95%."""
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, max(dof, 1)))


def _bootstrap_indices(n_seeds: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, n_seeds, size=(n_boot, n_seeds))


def _resampled_means(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Seed means of a (L, S) table for each row of seed ``indices`` (B, S): shape (B, L)."""
    with warnings.catch_warnings():  # a resample may miss every seed of a sparse cell
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values[:, indices], axis=2).T


def _curve_optimum(table: pd.DataFrame, window: int, n_boot: int, rng: np.random.Generator) -> dict:
    log_x = np.log10(table.index.to_numpy(dtype=float))
    values = table.to_numpy(dtype=float)
    mean = np.nanmean(values, axis=1)
    x_opt, loss_opt, at_edge = fit_optimum(log_x, mean, window)
    samples = fit_optima(log_x, _resampled_means(values, _bootstrap_indices(values.shape[1], n_boot,
                                                                            rng)), window)
    grid_best = float(table.index[int(np.nanargmin(mean))]) if np.isfinite(mean).any() else math.nan
    n_seeds = values.shape[1]
    se = bootstrap_se(samples, n_seeds)
    half = student_t(n_seeds - 1) * se
    return {
        "log10_lr_opt": x_opt,
        "lr_opt": 10**x_opt,
        "lr_low": 10 ** (x_opt - half),
        "lr_high": 10 ** (x_opt + half),
        "log10_lr_se": se,
        "lr_grid_opt": grid_best,
        "loss_opt": 10**loss_opt,
        "at_edge": at_edge,
        "n_seeds": values.shape[1],
        "_samples": samples,
    }


def _groups(df: pd.DataFrame, by: Sequence[str]):
    by = [c for c in by if c in df.columns]
    return by, df.groupby(by, sort=True, dropna=False)


def optimal_lr_per_k(
    df: pd.DataFrame,
    metric: str = DEFAULT_METRIC,
    by: Sequence[str] = ("experiment", "parametrization", "modes"),
    window: int = 2,
    n_boot: int = 1000,
    failure_loss: float | None = None,
    seed: int = 0,
    keep_samples: bool = False,
) -> pd.DataFrame:
    """The optimal LR of every (experiment, parametrization, K) curve, between grid points.

    Columns: the ``by`` keys, ``lr_opt`` (parabola vertex), ``lr_low``/``lr_high`` (95% interval from the seed
    bootstrap), ``log10_lr_se`` (bootstrap std of log10 lr*), ``lr_grid_opt`` (best grid
    point), ``loss_opt``, ``at_edge`` (optimum on the grid's edge: not located), ``n_seeds``,
    ``n_diverged``. ``keep_samples`` adds the bootstrap samples of log10 lr* (for :func:`lr_drift`).
    Error trials are left out (:func:`measured`).
    """
    keys, groups = _groups(measured(df), by)
    rows = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        rng = np.random.default_rng(seed)  # per curve: equal data give equal intervals
        table = loss_table(part, "lr", metric, failure_loss)
        row = dict(zip(keys, key))
        row.update(_curve_optimum(table, window, n_boot, rng))
        row["n_diverged"] = int(part["diverged"].sum())
        if not keep_samples:
            row.pop("_samples")
        rows.append(row)
    return pd.DataFrame(rows)


def lr_drift(
    df: pd.DataFrame,
    metric: str = DEFAULT_METRIC,
    by: Sequence[str] = ("experiment", "parametrization"),
    n_boot: int = 1000,
    seed: int = 0,
    optima: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The drift of the optimal LR, ``lr*(K_max) / lr*(K_min)``, per parametrization, with a 95% CI.

    1 means the optimum stays put (μTransfer works); < 1 means it moves down as K grows (the paper's
    SP on Navier–Stokes: 7.4e-4 / 1.8e-3 ≈ 0.41). ``theory_sp`` is the drift that the μP scaling
    c(K) ∝ 1/sqrt(log K) predicts for SP: sqrt(log K_min / log K_max). ``moves`` says whether the
    95% interval excludes 1. ``optima`` may pass a precomputed ``optimal_lr_per_k(...,
    keep_samples=True)``.
    """
    if optima is None or "_samples" not in optima:
        optima = optimal_lr_per_k(df, metric, by=(*by, "modes"), n_boot=n_boot, seed=seed,
                                  keep_samples=True)
    keys, groups = _groups(optima, by)
    rows = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        part = part.sort_values("modes")
        lo, hi = part.iloc[0], part.iloc[-1]
        k_min, k_max = int(lo["modes"]), int(hi["modes"])
        log_ratio = hi["log10_lr_opt"] - lo["log10_lr_opt"]
        n_lo, n_hi = int(lo["n_seeds"]), int(hi["n_seeds"])
        se = math.hypot(bootstrap_se(np.asarray(lo["_samples"]), n_lo),
                        bootstrap_se(np.asarray(hi["_samples"]), n_hi))
        half = student_t(n_lo + n_hi - 2) * se
        low, high = 10 ** (log_ratio - half), 10 ** (log_ratio + half)
        row = dict(zip(keys, key))
        row.update(
            k_min=k_min, k_max=k_max, lr_opt_k_min=lo["lr_opt"], lr_opt_k_max=hi["lr_opt"],
            drift=10**log_ratio, drift_low=low, drift_high=high,
            moves=bool(high < 1 or low > 1),
            theory_sp=math.sqrt(math.log(k_min) / math.log(k_max)) if k_min >= 2 else math.nan,
            edge=bool(lo["at_edge"] or hi["at_edge"]),
        )
        rows.append(row)
    return pd.DataFrame(rows)


THEORY_ALPHA = {"sp": -0.5, "mup": 0.0}
"""The exponent α of lr* ∝ (log K)^α that μP's c(K) ∝ 1/sqrt(d log K) predicts (paper Thm. 3.5)."""


def log_k_eff(modes: int, dim: int = 1, time_modes_max: float | None = None) -> float:
    """log(K₁ ⋯ K_d): d · log K, with the last axis capped at ``time_modes_max`` when given."""
    if time_modes_max is None or (isinstance(time_modes_max, float) and math.isnan(time_modes_max)):
        return dim * math.log(modes)
    return (dim - 1) * math.log(modes) + math.log(min(modes, int(time_modes_max)))


def _log_k_of(part: pd.DataFrame, k: int) -> float:
    row = part[part["modes"] == k].iloc[0]
    return log_k_eff(int(k), int(row.get("dim", 1) or 1), row.get("time_modes_max"))


def slope(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slope of ``y`` (…, n) against ``x`` (n): Σ(x−x̄)(y−ȳ) / Σ(x−x̄)²."""
    dx = np.asarray(x, dtype=float) - np.mean(x)
    y = np.asarray(y, dtype=float)
    return np.sum(dx * (y - y.mean(axis=-1, keepdims=True)), axis=-1) / np.sum(dx**2)


def exponent_interval(name: str, estimate: float, samples: np.ndarray | float, n_seeds: int,
                      theory: float, half_value: float, level: float = 0.95) -> dict:
    """An exponent with its interval, estimate ± t(n−1) · bootstrap SE of ``samples``, and what the
    interval decides: ``consistent`` (holds ``theory``), ``excludes_zero``, ``excludes_half``
    (excludes ``half_value``, ±½). Keys: ``name``, ``name_low``, ``name_high``, ``name_se``,
    ``half_width``, ``theory`` and the three decisions."""
    se = samples if np.isscalar(samples) else bootstrap_se(np.asarray(samples), n_seeds)
    half = student_t(n_seeds - 1, level) * se
    low, high = estimate - half, estimate + half
    return {name: estimate, f"{name}_low": low, f"{name}_high": high, f"{name}_se": se,
            "half_width": half, "theory": theory, "consistent": bool(low <= theory <= high),
            "excludes_zero": bool(high < 0 or low > 0),
            "excludes_half": bool(high < half_value or low > half_value)}


def lr_exponent(
    df: pd.DataFrame,
    metric: str = DEFAULT_METRIC,
    by: Sequence[str] = ("experiment", "parametrization"),
    window: int = 2,
    n_boot: int = 1000,
    failure_loss: float | None = None,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """The exponent α of lr*(K) ∝ (log K_eff)^α over all K of each curve, with a seed-bootstrap CI.

    For every (experiment, parametrization): each K's optimum is located as in
    :func:`optimal_lr_per_k`, and α is the least-squares slope of log lr* against log(log K_eff).
    The interval resamples the seeds (the same draw for every K), relocates every optimum and
    refits α; it is α ± t(n−1) · (bootstrap standard error), like the optima's own intervals.

    Columns: the ``by`` keys, ``alpha``, ``alpha_low``/``alpha_high``, ``alpha_se``,
    ``half_width``, ``theory`` (−½ for SP, 0 for μP), ``ks`` (the K's), ``n_seeds``,
    ``consistent`` (the interval holds the theory's value), ``excludes_zero`` and
    ``excludes_half`` (the interval excludes 0 / −½), ``edge`` (some optimum on the grid's edge).
    """
    keys, groups = _groups(measured(df), by)
    rows = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key))
        ks = sorted(int(k) for k in part["modes"].unique())
        seeds = sorted(part["seed"].unique())
        rng = np.random.default_rng(seed)
        indices = _bootstrap_indices(len(seeds), n_boot, rng)
        x = np.log([_log_k_of(part, k) for k in ks])
        point, boot, edge = [], [], False
        for k in ks:
            log_lr, values = _axis_curve(part[part["modes"] == k], "lr", metric, failure_loss, seeds)
            x_opt, _, at_edge = fit_optimum(log_lr, np.nanmean(values, axis=1), window)
            point.append(x_opt)
            boot.append(fit_optima(log_lr, _resampled_means(values, indices), window))
            edge = edge or at_edge
        # log10 lr* against log10(log K) would give the same slope; natural logs throughout
        y, y_boot = np.array(point) * math.log(10), np.stack(boot, axis=-1) * math.log(10)
        n_seeds = len(seeds)
        theory = THEORY_ALPHA.get(str(row.get("parametrization")), math.nan)
        if len(ks) < 2:
            row.update(exponent_interval("alpha", math.nan, math.nan, n_seeds, theory, -0.5, level))
        else:
            row.update(exponent_interval("alpha", float(slope(x, y)), slope(x, y_boot), n_seeds,
                                         theory, -0.5, level))
        row.update(ks=tuple(ks), n_seeds=n_seeds, edge=edge)
        rows.append(row)
    return pd.DataFrame(rows)


def optimal_hparam_per_k(
    df: pd.DataFrame,
    hparam: str,
    metric: str = DEFAULT_METRIC,
    by: Sequence[str] = ("experiment", "parametrization", "modes"),
    n_boot: int = 1000,
    failure_loss: float | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """The best grid value of a hyperparameter (``"batch_size"``, ``"beta2"``) per curve.

    The optimum is the grid value with the lowest seed-mean log-loss; ``freq_opt`` is how often the
    seed bootstrap picks the same value, ``bootstrap`` the frequency of every value. ``loss_opt``
    is the seed-mean loss there. Error trials are left out. The verdicts use the located optimum
    between grid values instead (:func:`hparam_shift`).
    """
    keys, groups = _groups(measured(df), by)
    rows = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        rng = np.random.default_rng(seed)
        table = loss_table(part, hparam, metric, failure_loss)
        values = table.to_numpy(dtype=float)
        grid = table.index.to_numpy()
        mean = np.nanmean(values, axis=1)
        best = grid[int(np.nanargmin(mean))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            picks = [grid[int(np.nanargmin(np.nanmean(values[:, idx], axis=1)))]
                     for idx in _bootstrap_indices(values.shape[1], n_boot, rng)]
        counts = pd.Series(picks).value_counts(normalize=True)
        row = dict(zip(keys, key))
        row.update({f"{hparam}_opt": best.item() if hasattr(best, "item") else best,
                    "freq_opt": float(counts.get(best, 0.0)),
                    "loss_opt": float(10 ** np.nanmin(mean)),
                    "bootstrap": {(k.item() if hasattr(k, "item") else k): round(float(v), 3)
                                  for k, v in counts.sort_index().items()},
                    "n_seeds": values.shape[1], "n_diverged": int(part["diverged"].sum())})
        rows.append(row)
    return pd.DataFrame(rows)


class HparamAxis(NamedTuple):
    """The axis on which a hyperparameter's optimum is located: ``forward(value) = log_base q``."""

    label: str
    forward: Callable[[np.ndarray], np.ndarray]
    inverse: Callable[[np.ndarray], np.ndarray]
    base: float
    unit: str  # what a unit of the axis is called


HPARAM_AXES: dict[str, HparamAxis] = {
    "lr": HparamAxis("log10 lr", np.log10, lambda x: 10.0**x, 10.0, "decades"),
    "batch_size": HparamAxis("log2 batch size", np.log2, lambda x: 2.0**x, 2.0, "octaves"),
    "beta2": HparamAxis("log10(1 − β2)", lambda b: np.log10(1.0 - np.asarray(b, dtype=float)),
                        lambda x: 1.0 - 10.0**x, 10.0, "decades"),
}
"""Where :func:`hparam_shift` fits its parabolas: log LR, log2 batch size, log10(1 − β2) (the
averaging window of Adam's second moment is ~1/(1 − β2) steps)."""


def _axis_curve(part: pd.DataFrame, hparam: str, metric: str, failure_loss: float | None,
                seeds: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """One curve on its axis: the grid's axis values (ascending) and the log10 losses (grid × seeds,
    the columns ``seeds`` in that order, so that a seed resample means the same seeds at every K)."""
    table = loss_table(part, hparam, metric, failure_loss).reindex(columns=seeds)
    x = np.asarray(HPARAM_AXES[hparam].forward(table.index.to_numpy(dtype=float)), dtype=float)
    order = np.argsort(x)
    return x[order], table.to_numpy(dtype=float)[order]


def hparam_shift(
    df: pd.DataFrame,
    hparam: str,
    metric: str = DEFAULT_METRIC,
    by: Sequence[str] = ("experiment", "parametrization"),
    window: int = 2,
    n_boot: int = 1000,
    failure_loss: float | None = None,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """How far the best ``hparam`` moves from the smallest to the largest K, with a paired seed CI.

    Each K's optimum x* is the vertex of a parabola in the seed-mean log10 loss against
    x = ``HPARAM_AXES[hparam].forward(value)`` (log2 batch size, log10(1 − β2), log10 lr), over the
    grid minimum ± ``window`` points, as :func:`fit_optimum` does for the LR. The shift is

        Δ = x*(K_max) − x*(K_min)   (octaves of batch size; decades of 1 − β2 or of lr),

    and ``ratio`` = base^Δ = q*(K_max) / q*(K_min) for the quantity q on the log axis (batch size,
    1 − β2, lr): "the best batch size changes ×ratio". The seeds are shared across K, so the
    bootstrap is paired: one draw of seeds resamples every K, both vertices are refitted and Δ's
    interval is Δ ± t(n−1) · SE (``half_width``); each K's own interval likewise (natural units).

    Columns: the ``by`` keys, ``axis``, ``k_min``, ``k_max``, ``opt_k_min``, ``opt_low_k_min``,
    ``opt_high_k_min``, the same for ``k_max``, ``shift``, ``shift_low``, ``shift_high``,
    ``half_width``, ``ratio``, ``ratio_low``, ``ratio_high``, ``moves`` (the interval excludes 0),
    ``edge`` (a grid minimum at K_min or K_max on the grid's first/last value: not located),
    ``grid_step`` (median spacing of the grid on the axis), ``loss_range`` (max − min of the
    seed-mean log10 loss over the grid, the largest over K: how much ``hparam`` matters at all),
    ``seed_sd`` (median over grid points and K of the seeds' std of log10 loss: the noise it
    competes with), ``n_seeds``. Error trials are left out (:func:`measured`).
    """
    if hparam not in HPARAM_AXES:
        raise ValueError(f"hparam_shift knows {', '.join(HPARAM_AXES)}, not {hparam!r}")
    axis = HPARAM_AXES[hparam]
    keys, groups = _groups(measured(df), by)
    rows = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(keys, key))
        ks = sorted(int(k) for k in part["modes"].unique())
        seeds = sorted(part["seed"].unique())
        n_seeds = len(seeds)
        indices = _bootstrap_indices(n_seeds, n_boot, np.random.default_rng(seed))
        t = student_t(n_seeds - 1, level)
        curves = {k: _axis_curve(part[part["modes"] == k], hparam, metric, failure_loss, seeds)
                  for k in ks}
        with warnings.catch_warnings():  # a grid point with one seed has no std
            warnings.simplefilter("ignore", RuntimeWarning)
            means = {k: np.nanmean(values, axis=1) for k, (_, values) in curves.items()}
            sds = np.concatenate([np.nanstd(v, axis=1, ddof=1) for _, v in curves.values()])
        row.update(axis=axis.label, k_min=ks[0], k_max=ks[-1])
        point, boot, edge = {}, {}, False
        for end, k in (("k_min", ks[0]), ("k_max", ks[-1])):
            x = curves[k][0]
            point[end], _, at_edge = fit_optimum(x, means[k], window)
            boot[end] = fit_optima(x, _resampled_means(curves[k][1], indices), window)
            half = t * bootstrap_se(boot[end], n_seeds)
            low, high = sorted(axis.inverse(np.array([point[end] - half, point[end] + half])))
            row.update({f"opt_{end}": float(axis.inverse(point[end])), f"opt_low_{end}": float(low),
                        f"opt_high_{end}": float(high)})
            edge = edge or at_edge
        if len(ks) > 1:
            shift = point["k_max"] - point["k_min"]
            half = t * bootstrap_se(boot["k_max"] - boot["k_min"], n_seeds)
        else:
            shift = half = math.nan
        grid = curves[ks[0]][0]
        row.update(
            shift=shift, shift_low=shift - half, shift_high=shift + half, half_width=half,
            ratio=axis.base**shift, ratio_low=axis.base ** (shift - half),
            ratio_high=axis.base ** (shift + half),
            moves=bool(shift - half > 0 or shift + half < 0), edge=edge,
            grid_step=float(np.median(np.diff(grid))) if len(grid) > 1 else math.nan,
            loss_range=max(float(np.nanmax(m) - np.nanmin(m)) for m in means.values()),
            seed_sd=float(np.nanmedian(sds)) if np.isfinite(sds).any() else math.nan,
            n_seeds=n_seeds,
        )
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(df: pd.DataFrame, metric: str = DEFAULT_METRIC) -> pd.DataFrame:
    """Optimal LR per K as 'lr* [low, high]' strings, one column per parametrization (for printing)."""
    optima = optimal_lr_per_k(df, metric, n_boot=300)
    optima["lr*"] = [f"{r.lr_opt:.2e} [{r.lr_low:.1e}, {r.lr_high:.1e}]" + (" edge" if r.at_edge else "")
                     for r in optima.itertuples()]
    return optima.pivot_table(index="modes", columns="parametrization", values="lr*", aggfunc="first")
