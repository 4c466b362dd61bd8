"""Where is the optimum, and how sure are we? One locator, and the quantities built on it.

:func:`locate` finds, for every curve of a sweep (one experiment, one parametrization, one K),
the optimum of a hyperparameter between grid points, and its seed-bootstrap samples. The
hyperparameter's axis (:data:`~mufno_core.axes.HPARAM_AXES`: log10 LR, log2 batch size,
log10(1 − β2)) is where a parabola is fitted to the seed-mean log10 loss over the grid minimum and
its neighbours (``window`` points each side); its vertex, kept inside the fitted window, is the
optimum x*. Its uncertainty: seeds are resampled with replacement and every fit is redone; one
draw of seeds resamples every K of a parametrization alike, because all its curves are trained
with the same seeds, so the samples are **paired** across K (and across parametrizations with the
same seeds). A diverged trial is a failure, not a missing value: its loss counts as
``failure_loss`` (at least as bad as the untrained model, relative L2 = 1).

Everything else is a reduction of :func:`locate`'s samples, with 95% intervals estimate ± t(n−1) ·
bootstrap SE (:mod:`mufno_core.stats`):

* :func:`per_k` — each curve's optimum in the hyperparameter's own units (:func:`optimal_lr_per_k`
  for the LR); :func:`optimal_hparam_per_k` — the best grid value and how often the bootstrap
  picks it;
* :func:`shift` — Δ = x*(K_max) − x*(K_min) on the axis with its paired interval; for the LR,
  :func:`lr_drift` = lr*(K_max) / lr*(K_min) = 10^Δ (1: the optimum stays put);
  :func:`hparam_shift` for batch size and β2;
* :func:`exponent` — α of lr*(K) ∝ (log K_eff)^α over all K, the least-squares slope of
  ln lr* against ln(log K_eff), K_eff = K₁ ⋯ K_d. μP's c(K) ∝ 1/sqrt(d log K) (paper Thm. 3.5)
  predicts α = −½ for SP's optimum and 0 for μP's (:data:`THEORY_ALPHA`); :func:`lr_exponent`.

Only records with a valid status ("ok" or "diverged") are measurements (the store's
:func:`~mufno_core.sweep.store.finished_trials`: a NaN or missing status is none); with none,
or with every trial diverged, :func:`locate` raises :class:`NoEvidence` with one sentence. A curve
whose every trial diverged has no optimum (NaN; listed in ``no_evidence``); an optimum whose grid
minimum is the first or last grid point (``edge``) has points on one side only and is not located:
the verdicts say so rather than read it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mufno_core.axes import HPARAM_AXES, hparam_axis
from mufno_core.modes import log_modes
from mufno_core.stats import (
    bootstrap_indices,
    bootstrap_se,
    exponent_fit,
    resampled_means,
    student_t,
)
from mufno_core.sweep.store import finished_trials

DEFAULT_METRIC = "final_train_loss"
"""The loss the optima refer to: training loss, as in the μP papers (test loss: pass metric=)."""

THEORY_ALPHA = {"sp": -0.5, "mup": 0.0}
"""The exponent α of lr* ∝ (log K)^α that μP's c(K) ∝ 1/sqrt(d log K) predicts (paper Thm. 3.5)."""


class NoEvidence(ValueError):
    """Nothing to estimate from (no measured trial, or every trial diverged); the message is one
    sentence that a CLI or a chapter prints as it is."""


def _failed(df: pd.DataFrame, metric: str) -> pd.Series:
    return df["diverged"].astype(bool) | ~np.isfinite(df[metric].astype(float))


def failure_values(df: pd.DataFrame, metric: str, failure_loss: float | None) -> pd.Series:
    """The metric with diverged/failed trials replaced by ``failure_loss`` (default: max(1, worst))."""
    values = df[metric].astype(float)
    return pd.Series(_with_failures(values.to_numpy(), _failed(df, metric).to_numpy(), failure_loss),
                     index=values.index, name=values.name)


def _with_failures(values: np.ndarray, failed: np.ndarray, failure_loss: float | None) -> np.ndarray:
    """``values`` with the ``failed`` entries replaced by ``failure_loss`` (default: max(1, worst))."""
    if failure_loss is None:
        finite = values[~failed]
        failure_loss = max(1.0, float(finite.max()) if len(finite) else 1.0)
    return np.where(failed, failure_loss, values)


def _cell_means(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The mean of ``values`` in each (row, col) cell of a ``shape`` table, NaN values left out;
    NaN where a cell has none. A cell holds one value in a sweep's curve; repeated cells are
    averaged by pandas' groupby mean (its compensated sum, to the last bit)."""
    table = np.full(shape, np.nan)
    count = np.zeros(shape)
    np.add.at(count, (rows, cols), 1.0)
    if count.max(initial=0.0) <= 1:
        table[rows, cols] = values
        return table
    means = pd.Series(values).groupby([rows, cols]).mean()
    table[means.index.get_level_values(0), means.index.get_level_values(1)] = means.to_numpy()
    return table


def _loss_grid(x: np.ndarray, seed: np.ndarray, log_loss: np.ndarray,
               seeds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x values ascending, seeds, mean log loss per (x, seed)) of one curve's rows; rows with a
    missing x or seed, or a seed not in ``seeds`` (default: every seed of the rows), are left out."""
    known = ~(pd.isna(x) | pd.isna(seed))
    x, seed, log_loss = x[known], seed[known], log_loss[known]
    if seeds is None:
        seeds, col = np.unique(seed, return_inverse=True)
    else:
        seeds = np.asarray(seeds)
        col = np.minimum(np.searchsorted(seeds, seed), max(len(seeds) - 1, 0))
        listed = (seeds[col] == seed) if len(seeds) else np.zeros(len(seed), bool)
        x, col, log_loss = x[listed], col[listed], log_loss[listed]
    grid, row = np.unique(x, return_inverse=True)
    return grid, seeds, _cell_means(row, col, log_loss, (len(grid), len(seeds)))


def loss_table(df: pd.DataFrame, x: str, metric: str = DEFAULT_METRIC,
               failure_loss: float | None = None) -> pd.DataFrame:
    """log10-losses of one curve as a (len(x values), n seeds) table, rows in ascending ``x``.

    A missing (x, seed) cell is NaN and left out of the means.
    """
    log_loss = np.log10(failure_values(df, metric, failure_loss).to_numpy())
    grid, seeds, table = _loss_grid(df[x].to_numpy(), df["seed"].to_numpy(), log_loss)
    return pd.DataFrame(table, index=pd.Index(grid, name=x), columns=pd.Index(seeds, name="seed"))


def fit_optimum(log_x: np.ndarray, mean_log_loss: np.ndarray, window: int = 2) -> tuple[float, float, bool]:
    """Vertex of a parabola through the grid minimum ± ``window`` points: (log x*, loss*, edge).

    The vertex is kept within the fitted points; a parabola that opens downwards, or too few points,
    gives the grid minimum. ``edge`` is True when the grid minimum is the first or last point
    (the true optimum may lie outside the grid).
    """
    ok = np.isfinite(mean_log_loss)
    log_x, y = np.asarray(log_x)[ok], np.asarray(mean_log_loss)[ok]
    if len(y) == 0:
        return math.nan, math.nan, False
    j = int(np.argmin(y))
    edge = j in (0, len(y) - 1)
    lo, hi = max(0, j - window), min(len(y), j + window + 1)
    if hi - lo >= 3:
        a, b, c = np.polyfit(log_x[lo:hi], y[lo:hi], 2)
        if a > 0:
            vertex = float(np.clip(-b / (2 * a), log_x[lo], log_x[hi - 1]))
            return vertex, float(np.polyval([a, b, c], vertex)), edge
    return float(log_x[j]), float(y[j]), edge


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
    windowed = mask[:, None, :] * np.stack([x**k for k in range(5)])  # (B, 5, L): mask · x^k
    powers = windowed.sum(axis=2)  # Σ x^k over each window, k = 0 … 4
    rhs = (windowed[:, :3] * yf[:, None, :]).sum(axis=2)  # Σ x^k y, k = 0 … 2
    # normal equations for y ≈ c + b x + a x²
    normal = powers[:, [[0, 1, 2], [1, 2, 3], [2, 3, 4]]]
    enough = (hi - lo) >= 3
    coef = np.full((len(yf), 3), np.nan)
    if enough.any():
        coef[enough] = np.linalg.solve(normal[enough], rhs[enough][..., None])[..., 0]
    c_b, c_a = coef[:, 1], coef[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = -c_b / (2 * c_a) + log_x.mean()
    vertex = np.clip(vertex, log_x[lo], log_x[hi - 1])
    use_vertex = enough & (c_a > 0)
    out[finite] = np.where(use_vertex, vertex, log_x[j])
    return out


def log_k_eff(modes: int, dim: int = 1, time_modes_max: float | None = None) -> float:
    """log(K₁ ⋯ K_d) of :func:`mufno_core.modes.log_modes`, with the last axis capped at
    ``time_modes_max`` when given (NaN: no cap)."""
    ks = [int(modes)] * int(dim)
    if time_modes_max is not None and not (isinstance(time_modes_max, float) and math.isnan(time_modes_max)):
        ks[-1] = min(ks[-1], int(time_modes_max))
    return log_modes(tuple(ks))


def _evidence(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """``df``'s measurements, or :class:`NoEvidence` saying why there are none."""
    done = finished_trials(df)
    if done.empty:
        invalid = len(df)
        raise NoEvidence("no trial with a valid status (ok or diverged) to locate an optimum from"
                         + (f" ({invalid} record(s) without one)" if invalid else ": no records"))
    if _failed(done, metric).all():
        raise NoEvidence(f"every one of the {len(done)} measured trials diverged (or has no finite "
                         f"{metric}): there is no optimum to locate")
    return done


@dataclass(frozen=True)
class _Columns:
    """The columns of a results frame that :func:`locate` reads, as arrays (one row per trial)."""

    axis: np.ndarray
    seed: np.ndarray
    value: np.ndarray
    failed: np.ndarray
    diverged: np.ndarray
    modes: np.ndarray
    dim: np.ndarray
    time_modes_max: np.ndarray

    @classmethod
    def of(cls, df: pd.DataFrame, hparam: str, metric: str) -> _Columns:
        def column(name: str, default) -> np.ndarray:
            return df[name].to_numpy() if name in df.columns else np.full(len(df), default, object)

        return cls(axis=df[hparam].to_numpy(), seed=df["seed"].to_numpy(),
                   value=df[metric].astype(float).to_numpy(), failed=_failed(df, metric).to_numpy(),
                   diverged=df["diverged"].to_numpy(), modes=df["modes"].to_numpy(),
                   dim=column("dim", 1), time_modes_max=column("time_modes_max", None))


def _locate_curve(columns: _Columns, rows: np.ndarray, hparam: str, failure_loss: float | None,
                  seeds: np.ndarray, indices: np.ndarray, window: int) -> dict:
    """One curve's row of :func:`locate` (every column but the keys, ``modes`` and ``hparam``):
    the trials ``rows`` of ``columns``, log10 losses tabled over the axis (ascending) × ``seeds``
    (the group's seeds in order, so that a seed resample means the same seeds at every K)."""
    failed = columns.failed[rows]
    log_loss = np.log10(_with_failures(columns.value[rows], failed, failure_loss))
    grid, _, values = _loss_grid(columns.axis[rows], columns.seed[rows], log_loss, seeds)
    grid = grid.astype(float)
    x = np.asarray(HPARAM_AXES[hparam].forward(grid), dtype=float)
    order = np.argsort(x)
    x, grid, values = x[order], grid[order], values[order]
    n_ok = int((~failed).sum())
    with warnings.catch_warnings():  # an all-NaN grid point, or one seed: no mean, no std
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=1) if n_ok else np.full(len(x), np.nan)
        sd = np.nanstd(values, axis=1, ddof=1)
    boot = resampled_means(values, indices)
    x_opt, loss_opt, edge = fit_optimum(x, mean, window)
    samples = fit_optima(x, boot, window) if n_ok else np.full(len(indices), np.nan)
    drawn = np.isfinite(boot).any(axis=1)
    picks = np.full(len(indices), np.nan)
    picks[drawn] = grid[np.argmin(np.where(np.isfinite(boot[drawn]), boot[drawn], np.inf), axis=1)]
    best = int(np.nanargmin(mean)) if np.isfinite(mean).any() else None
    n_seeds = len(pd.unique(columns.seed[rows][~pd.isna(columns.seed[rows])]))
    first = rows[0]
    return {
        "x_opt": x_opt, "x_se": bootstrap_se(samples, n_seeds), "loss_opt": 10**loss_opt,
        "grid_opt": math.nan if best is None else float(grid[best]),
        "grid_freq": math.nan if best is None else float(np.mean(picks == grid[best])),
        "grid_loss": math.nan if best is None else float(10 ** mean[best]),
        "loss_range": math.nan if best is None else float(np.nanmax(mean) - np.nanmin(mean)),
        "edge": bool(edge), "n_seeds": n_seeds, "n_diverged": int(columns.diverged[rows].sum()),
        "n_ok": n_ok, "group_seeds": len(seeds),
        "log_k": log_k_eff(int(columns.modes[first]), int(columns.dim[first] or 1),
                           columns.time_modes_max[first]),
        "_samples": samples, "_picks": picks, "_seed_sd": sd, "_x": x,
    }


def locate(
    df: pd.DataFrame,
    hparam: str = "lr",
    metric: str = DEFAULT_METRIC,
    by: Sequence[str] = ("experiment", "parametrization"),
    window: int = 2,
    n_boot: int = 1000,
    failure_loss: float | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Every curve's optimum of ``hparam`` on its axis, with paired seed-bootstrap samples.

    One row per (``by`` keys, K): ``hparam``, ``x_opt`` (the vertex on the axis, NaN when every
    trial of the curve diverged), ``x_se`` (bootstrap SE, corrected for few seeds), ``loss_opt``,
    ``grid_opt`` (the best grid value), ``grid_freq`` (how often the bootstrap picks it),
    ``grid_loss`` (the seed-mean loss there),
    ``loss_range`` (max − min of the seed-mean log10 loss), ``edge`` (grid minimum on the grid's
    first or last point), ``n_seeds``, ``n_diverged``, ``n_ok`` (non-diverged trials),
    ``group_seeds`` (the seeds of the whole group), ``log_k`` (log K_eff) and, for reductions,
    ``_samples`` (x* of every draw; the same draws for every K of a group), ``_picks`` (the grid
    minimum of every draw), ``_seed_sd`` (the seeds' std of log10 loss per grid point), ``_x``
    (the grid on the axis).
    Raises :class:`NoEvidence` when ``df`` holds no measurement or only diverged ones.
    """
    hparam_axis(hparam)
    done = _evidence(df, metric).reset_index(drop=True)
    columns = _Columns.of(done, hparam, metric)
    keys = [c for c in by if c in done.columns]
    rows = []
    for key, group in done.groupby(keys, sort=True, dropna=False) if keys else [((), done)]:
        key = key if isinstance(key, tuple) else (key,)
        members = group.index.to_numpy()
        seeds = np.array(sorted(group["seed"].unique()))
        indices = bootstrap_indices(len(seeds), n_boot, np.random.default_rng(seed))
        modes = columns.modes[members]
        for k in sorted(int(k) for k in pd.unique(modes)):
            curve = _locate_curve(columns, members[modes == k], hparam, failure_loss, seeds,
                                  indices, window)
            rows.append({**dict(zip(keys, key)), "modes": k, "hparam": hparam, **curve})
    return pd.DataFrame(rows)


_LOCATED_COLUMNS = {"modes", "hparam", "x_opt", "x_se", "loss_opt", "grid_opt", "grid_freq",
                    "grid_loss", "loss_range", "edge", "n_seeds", "n_diverged", "n_ok",
                    "group_seeds", "log_k", "_samples", "_picks", "_seed_sd", "_x"}


def _by_keys(located: pd.DataFrame) -> list[str]:
    """The grouping keys of :func:`locate`'s rows (experiment, parametrization, …)."""
    return [c for c in located.columns if c not in _LOCATED_COLUMNS]


def _grouped(located: pd.DataFrame):
    keys = _by_keys(located)
    if not keys:
        return keys, [((), located)]
    return keys, located.groupby(keys, sort=True, dropna=False)


def per_k(located: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Each curve's located optimum in the hyperparameter's units: ``opt`` with its interval
    ``opt_low``/``opt_high`` (x* ± t(n−1)·SE on the axis, mapped back), ``axis_se``,
    ``grid_opt``, ``loss_opt``, ``edge``, ``n_seeds``, ``n_diverged`` beside the ``by`` keys."""
    out = located[_by_keys(located) + ["modes"]].copy()
    opt, low, high = [], [], []
    for r in located.itertuples():
        axis = HPARAM_AXES[r.hparam]
        half = student_t(r.n_seeds - 1, level) * r.x_se
        ends = sorted(axis.inverse(np.array([r.x_opt - half, r.x_opt + half])))
        opt.append(float(axis.inverse(r.x_opt)))
        low.append(float(ends[0]))
        high.append(float(ends[1]))
    return out.assign(opt=opt, opt_low=low, opt_high=high, axis_se=located["x_se"].to_numpy(),
                      grid_opt=located["grid_opt"].to_numpy(), loss_opt=located["loss_opt"].to_numpy(),
                      edge=located["edge"].to_numpy(), n_seeds=located["n_seeds"].to_numpy(),
                      n_diverged=located["n_diverged"].to_numpy())


def _no_evidence(part: pd.DataFrame) -> tuple[int, ...]:
    return tuple(int(k) for k in part.loc[part["n_ok"] == 0, "modes"])


def shift(located: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """How far each group's optimum moves from the smallest to the largest K, with a paired CI.

        Δ = x*(K_max) − x*(K_min)   (on the axis: decades of lr or of 1 − β2, octaves of batch),

    ``ratio`` = base^Δ = q*(K_max) / q*(K_min). The seeds are shared across K, so one draw of seeds
    resamples both ends and Δ's interval is Δ ± t(n−1) · SE(Δ's samples) (``half_width``).

    Columns: the ``by`` keys, ``axis``, ``k_min``, ``k_max``, ``opt_k_min``, ``opt_low_k_min``,
    ``opt_high_k_min`` (each end's optimum and interval, natural units), the same for ``k_max``,
    ``shift``, ``shift_low``, ``shift_high``, ``half_width``, ``ratio``, ``ratio_low``,
    ``ratio_high``, ``moves`` (the interval excludes 0), ``edge`` (an end's grid minimum on the
    grid's edge: not located; ``edge_ks`` which), ``no_evidence`` (K's whose every trial
    diverged), ``grid_step`` (median spacing of the grid on the axis), ``loss_range`` (max − min
    of the seed-mean log10 loss over the grid, the largest over K: how much the hyperparameter
    matters at all),
    ``seed_sd`` (median over grid points and K of the seeds' std of log10 loss: the noise it
    competes with), ``n_seeds``.
    """
    keys, groups = _grouped(located)
    ends = per_k(located, level)
    rows = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        part = part.sort_values("modes")
        axis = HPARAM_AXES[part["hparam"].iloc[0]]
        lo, hi = part.iloc[0], part.iloc[-1]
        n_seeds = int(lo["group_seeds"])
        row = dict(zip(keys, key))
        row.update(axis=axis.label, k_min=int(lo["modes"]), k_max=int(hi["modes"]))
        for end, r in (("k_min", lo), ("k_max", hi)):
            e = ends.loc[r.name]
            row.update({f"opt_{end}": e["opt"], f"opt_low_{end}": e["opt_low"],
                        f"opt_high_{end}": e["opt_high"]})
        if len(part) > 1:
            delta = hi["x_opt"] - lo["x_opt"]
            half = student_t(n_seeds - 1, level) * bootstrap_se(hi["_samples"] - lo["_samples"],
                                                                n_seeds)
        else:
            delta = half = math.nan
        grid = lo["_x"]
        sds = np.concatenate(list(part["_seed_sd"]))
        row.update(
            shift=delta, shift_low=delta - half, shift_high=delta + half, half_width=half,
            ratio=axis.base**delta, ratio_low=axis.base ** (delta - half),
            ratio_high=axis.base ** (delta + half),
            moves=bool(delta - half > 0 or delta + half < 0), edge=bool(lo["edge"] or hi["edge"]),
            edge_ks=tuple(int(r["modes"]) for r in (lo, hi) if r["edge"]),
            no_evidence=_no_evidence(part),
            grid_step=float(np.median(np.diff(grid))) if len(grid) > 1 else math.nan,
            loss_range=float(part["loss_range"].max()),
            seed_sd=float(np.nanmedian(sds)) if np.isfinite(sds).any() else math.nan,
            n_seeds=n_seeds,
        )
        rows.append(row)
    return pd.DataFrame(rows)


def exponent(located: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """The exponent α of q*(K) ∝ (log K_eff)^α over all K of each group, with a paired seed CI.

    α is the least-squares slope of ln q* against ln(log K_eff); the interval refits α on every
    bootstrap draw (the same seeds at every K) and is α ± t(n−1) · SE. Columns: the ``by`` keys,
    ``alpha``, ``alpha_low``/``alpha_high``, ``alpha_se``, ``half_width``, ``theory`` (−½ for SP,
    0 for μP), ``consistent``, ``excludes_zero``, ``excludes_half`` (the interval holds the
    theory's value / excludes 0 / excludes −½), ``ks``, ``n_seeds``, ``edge`` (some optimum on the
    grid's edge; ``edge_ks`` which), ``no_evidence`` (K's whose every trial diverged: α is NaN), ``_samples``.
    """
    keys, groups = _grouped(located)
    rows = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        part = part.sort_values("modes")
        row = dict(zip(keys, key))
        axis = HPARAM_AXES[part["hparam"].iloc[0]]
        n_seeds = int(part["group_seeds"].iloc[0])
        theory = THEORY_ALPHA.get(str(row.get("parametrization")), math.nan)
        x = np.log(part["log_k"].to_numpy(dtype=float))
        # natural logs throughout (log10 q* against log10(log K) would give the same slope)
        y = part["x_opt"].to_numpy(dtype=float) * math.log(axis.base)
        y_boot = np.stack(list(part["_samples"]), axis=-1) * math.log(axis.base)
        fit = exponent_fit("alpha", x, y, y_boot, n_seeds, theory, -0.5, level)
        row.update({k: v for k, v in fit.items() if k != "_samples"})
        row.update(ks=tuple(int(k) for k in part["modes"]), n_seeds=n_seeds,
                   edge=bool(part["edge"].any()),
                   edge_ks=tuple(int(k) for k in part.loc[part["edge"], "modes"]),
                   no_evidence=_no_evidence(part), _samples=fit["_samples"])
        rows.append(row)
    return pd.DataFrame(rows)


# --- the reductions by name, from the records ------------------------------------------------------
def optimal_lr_per_k(df: pd.DataFrame, metric: str = DEFAULT_METRIC,
                     by: Sequence[str] = ("experiment", "parametrization"), window: int = 2,
                     n_boot: int = 1000, failure_loss: float | None = None,
                     seed: int = 0) -> pd.DataFrame:
    """The optimal LR of every (experiment, parametrization, K) curve, between grid points.

    Columns: the ``by`` keys, ``modes``, ``lr_opt`` (parabola vertex), ``lr_low``/``lr_high`` (95%
    interval from the seed bootstrap), ``axis_se`` (bootstrap SE of log10 lr*), ``lr_grid_opt``
    (best grid point), ``loss_opt``, ``edge`` (optimum on the grid's edge: not located),
    ``n_seeds``, ``n_diverged``.
    """
    located = locate(df, "lr", metric, by, window, n_boot, failure_loss, seed)
    return per_k(located).rename(columns={"opt": "lr_opt", "opt_low": "lr_low", "opt_high": "lr_high",
                                          "grid_opt": "lr_grid_opt"})


def drift(located: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """:func:`shift` of the LR as a drift, ``lr*(K_max) / lr*(K_min)``, per group, with its paired CI.

    1 means the optimum stays put (μTransfer works); < 1 means it moves down as K grows (the paper's
    SP on Navier–Stokes: 7.4e-4 / 1.8e-3 ≈ 0.41). ``theory_sp`` is the drift that μP's scaling
    c(K) ∝ 1/sqrt(log K) predicts for SP: sqrt(log K_min / log K_max). ``moves``: the 95% interval
    excludes 1. Columns: the ``by`` keys, ``k_min``, ``k_max``, ``lr_opt_k_min``, ``lr_opt_k_max``,
    ``drift``, ``drift_low``, ``drift_high``, ``moves``, ``theory_sp``, ``edge``, ``no_evidence``.
    """
    moved = shift(located, level)
    keys = _by_keys(located)
    out = moved[keys + ["k_min", "k_max"]].assign(
        lr_opt_k_min=moved["opt_k_min"], lr_opt_k_max=moved["opt_k_max"], drift=moved["ratio"],
        drift_low=moved["ratio_low"], drift_high=moved["ratio_high"], moves=moved["moves"],
        theory_sp=[math.sqrt(math.log(a) / math.log(b)) if a >= 2 else math.nan
                   for a, b in zip(moved["k_min"], moved["k_max"])],
        edge=moved["edge"], no_evidence=moved["no_evidence"])
    return out


def lr_drift(df: pd.DataFrame, metric: str = DEFAULT_METRIC,
             by: Sequence[str] = ("experiment", "parametrization"), window: int = 2,
             n_boot: int = 1000, failure_loss: float | None = None, seed: int = 0,
             level: float = 0.95) -> pd.DataFrame:
    """:func:`drift` of the located LR optima of ``df``."""
    return drift(locate(df, "lr", metric, by, window, n_boot, failure_loss, seed), level)


def lr_exponent(df: pd.DataFrame, metric: str = DEFAULT_METRIC,
                by: Sequence[str] = ("experiment", "parametrization"), window: int = 2,
                n_boot: int = 1000, failure_loss: float | None = None, seed: int = 0,
                level: float = 0.95) -> pd.DataFrame:
    """:func:`exponent` of the located LR optima of ``df``: α of lr*(K) ∝ (log K_eff)^α."""
    return exponent(locate(df, "lr", metric, by, window, n_boot, failure_loss, seed), level)


def hparam_shift(df: pd.DataFrame, hparam: str, metric: str = DEFAULT_METRIC,
                 by: Sequence[str] = ("experiment", "parametrization"), window: int = 2,
                 n_boot: int = 1000, failure_loss: float | None = None, seed: int = 0,
                 level: float = 0.95) -> pd.DataFrame:
    """:func:`shift` of the located optima of ``hparam`` (``"batch_size"``, ``"beta2"``, ``"lr"``)."""
    return shift(locate(df, hparam, metric, by, window, n_boot, failure_loss, seed), level)


def optimal_hparam_per_k(df: pd.DataFrame, hparam: str, metric: str = DEFAULT_METRIC,
                         by: Sequence[str] = ("experiment", "parametrization"), n_boot: int = 1000,
                         failure_loss: float | None = None, seed: int = 0) -> pd.DataFrame:
    """The best grid value of ``hparam`` per curve, and how sure the seeds are of it.

    ``{hparam}_opt`` is the grid value with the lowest seed-mean log-loss, ``freq_opt`` how often
    the seed bootstrap picks it, ``bootstrap`` the frequency of every value it picks, ``loss_opt``
    the seed-mean loss there. The verdicts use the optimum located between grid values instead
    (:func:`hparam_shift`).
    """
    located = locate(df, hparam, metric, by, n_boot=n_boot, failure_loss=failure_loss, seed=seed)
    rows = []
    for r in located.to_dict("records"):
        picks = pd.Series(r["_picks"]).dropna().value_counts(normalize=True).sort_index()
        rows.append({**{k: r[k] for k in _by_keys(located)}, "modes": r["modes"],
                     f"{hparam}_opt": _natural(r["grid_opt"], df[hparam]),
                     "freq_opt": r["grid_freq"], "loss_opt": r["grid_loss"],
                     "bootstrap": {_natural(v, df[hparam]): round(float(f), 3)
                                   for v, f in picks.items()},
                     "n_seeds": r["n_seeds"], "n_diverged": r["n_diverged"]})
    return pd.DataFrame(rows)


def _natural(value: float, column: pd.Series):
    """A grid value in its column's own type (an int batch size stays an int)."""
    return int(value) if pd.api.types.is_integer_dtype(column) and math.isfinite(value) else value
