"""Figures in the style of the μP papers: loss against a hyperparameter on its log axis, one curve
per K, one panel per parametrization (SP beside μP).

Each curve is the seed mean of the log-loss (diverged trials count as failures, as in
:mod:`mufno_core.analysis.optima`), the band is the seed spread (min to max), the star marks the located
optimum and the horizontal bar its 95% bootstrap interval. Only finished trials are drawn
(:func:`~mufno_core.sweep.store.finished_trials`); with none,
:class:`~mufno_core.analysis.optima.NoEvidence`. Imports
matplotlib/seaborn lazily, so running a sweep does not need them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mufno_core.analysis.optima import (
    DEFAULT_METRIC,
    locate,
    loss_table,
    optimal_lr_per_k,
    per_k,
)
from mufno_core.axes import PARAMETRIZATIONS, hparam_axis
from mufno_core.sweep.store import finished_trials

METRIC_LABELS = {"final_train_loss": "training loss (rel. L2)", "final_test_loss": "test loss (rel. L2)"}


def _palette(ks: Sequence[int]):
    import seaborn as sns

    return dict(zip(sorted(ks), sns.color_palette("viridis", len(ks))))


def _axes(n_panels: int, ax=None, height: float = 3.6):
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    if ax is not None:
        axes = np.atleast_1d(ax)
        return axes[0].figure, axes
    # at most 8.4 in: a third panel (the calibrated rule) narrows the panels instead of widening
    # the figure past the book's column (a title and legend need the rest)
    fig, axes = plt.subplots(1, n_panels, figsize=(min(4.6 * n_panels, 8.4), height), sharey=True,
                             squeeze=False, constrained_layout=True)
    return fig, axes[0]


def _lr_ticks(axis) -> None:
    """Labelled LR ticks at 1, 2 and 5 per decade, as plain numbers (a sweep spans about a decade,
    where the default log axis labels a single power of ten); no minor labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.xaxis.set_minor_formatter(NullFormatter())


def _curve(ax, table: pd.DataFrame, colour, label: str, log_x: bool) -> None:
    x = table.index.to_numpy(dtype=float)
    values = table.to_numpy(dtype=float)
    mean = 10 ** np.nanmean(values, axis=1)
    ax.plot(x, mean, "-o", color=colour, label=label, ms=3, lw=1.5)
    if values.shape[1] > 1:
        ax.fill_between(x, 10 ** np.nanmin(values, axis=1), 10 ** np.nanmax(values, axis=1),
                        color=colour, alpha=0.18, lw=0)


def _panels(df: pd.DataFrame) -> list[str]:
    """The parametrizations of ``df`` in the registry's order (SP, μP, …)."""
    present = set(df["parametrization"])
    return [p for p in PARAMETRIZATIONS if p in present] + sorted(present - set(PARAMETRIZATIONS))


def _title(param: str) -> str:
    return PARAMETRIZATIONS[param].title if param in PARAMETRIZATIONS else param


def _figure(df: pd.DataFrame, ax):
    """The measurements, the figure, its (axis, parametrization) panels and a colour per K."""
    df = finished_trials(df)
    params = _panels(df)
    fig, axes = _axes(len(params), ax)
    return df, fig, list(zip(axes, params)), _palette(df["modes"].unique())


def _finish(fig, panels, metric: str, title: str | None):
    """Each panel's title, the loss label, the legend of K and the figure's title."""
    for axis, param in panels:
        axis.set_title(_title(param))
    panels[0][0].set_ylabel(METRIC_LABELS.get(metric, metric))
    panels[-1][0].legend(title="modes", fontsize="small", loc="best")
    if title:
        fig.suptitle(title)
    return fig


def plot_lr_curves(
    df: pd.DataFrame,
    metric: str = DEFAULT_METRIC,
    ax=None,
    title: str | None = None,
    optima: pd.DataFrame | None = None,
    ylim: tuple[float, float] | None = None,
):
    """Loss vs LR (log axes), one curve per K (colour ramp), one panel per parametrization.

    Returns the Figure. ``optima`` (from :func:`~mufno_core.analysis.optima.optimal_lr_per_k`) is computed
    if not given.
    """
    optima = optimal_lr_per_k(df, metric, n_boot=300) if optima is None else optima
    df, fig, panels, colours = _figure(df, ax)
    for axis, param in panels:
        part = df[df["parametrization"] == param]
        for k in sorted(part["modes"].unique()):
            _curve(axis, loss_table(part[part["modes"] == k], "lr", metric), colours[k], f"K={k}", True)
            opt = optima[(optima["parametrization"] == param) & (optima["modes"] == k)]
            for r in opt.itertuples():
                axis.errorbar([r.lr_opt], [r.loss_opt], xerr=[[r.lr_opt - r.lr_low], [r.lr_high - r.lr_opt]],
                              fmt="*", ms=12, color=colours[k], mec="black", mew=0.6, capsize=3, zorder=5)
        axis.set_xscale("log")
        axis.set_yscale("log")
        _lr_ticks(axis)
        axis.set_xlabel("base learning rate η")
        if ylim:
            axis.set_ylim(*ylim)
    fig = _finish(fig, panels, metric, title)
    if metric == "final_train_loss" and (df.get("pde_weight", pd.Series(dtype=float)).fillna(0) > 0).any():
        panels[0][0].set_ylabel("PINO training loss (weighted data + PDE losses)")
    return fig


def plot_hparam_curves(
    df: pd.DataFrame,
    hparam: str = "batch_size",
    metric: str = DEFAULT_METRIC,
    ax=None,
    title: str | None = None,
):
    """Loss vs a discrete hyperparameter on its axis (:data:`~mufno_core.axes.HPARAM_AXES`: batch
    size on a log2 axis, β2 on a log axis of 1 − β2), one curve per K, one panel per
    parametrization. A star marks each K's optimum located between grid values, with its 95%
    interval (:func:`~mufno_core.analysis.optima.locate`, what the verdicts use)."""
    located = locate(df, hparam, metric, n_boot=300)
    optima = per_k(located)
    axis_of = hparam_axis(hparam)
    df, fig, panels, colours = _figure(df, ax)
    for axis, param in panels:
        part = df[df["parametrization"] == param]
        for k in sorted(part["modes"].unique()):
            table = loss_table(part[part["modes"] == k], hparam, metric)
            grid = table.index.to_numpy(dtype=float)
            mean = np.nanmean(table.to_numpy(dtype=float), axis=1)
            table.index = axis_of.shown(grid)
            _curve(axis, table, colours[k], f"K={k}", True)
            on_axis = np.asarray(axis_of.forward(grid), dtype=float)
            order = np.argsort(on_axis)
            for r in optima[(optima["parametrization"] == param) & (optima["modes"] == k)].itertuples():
                if not np.isfinite(r.opt):
                    continue
                x = float(axis_of.shown(r.opt))
                low, high = sorted(axis_of.shown([r.opt_low, r.opt_high]))
                y = 10 ** np.interp(float(axis_of.forward(r.opt)), on_axis[order], mean[order])
                axis.errorbar([x], [y], xerr=[[x - low], [high - x]], fmt="*", ms=12,
                              color=colours[k], mec="black", mew=0.6, capsize=3, zorder=5)
        values = sorted(part[hparam].unique())
        axis.set_xscale("log", base=axis_of.base)
        axis.set_xticks(axis_of.shown(values), [f"{v:g}" for v in values],
                        **({"rotation": 45, "fontsize": "small"} if axis_of.towards_one else {}))
        if axis_of.towards_one:
            axis.invert_xaxis()
        axis.set_xlabel(axis_of.words)
        axis.minorticks_off()
        axis.set_yscale("log")
    return _finish(fig, panels, metric, title)
