"""Figures in the style of the μP papers: loss against log LR, one curve per K, SP beside μP.

Each curve is the seed mean of the log-loss (diverged trials count as failures, as in
:mod:`mufno_core.sweep.analysis`), the band is the seed spread (min to max), the star marks the
located optimum and the horizontal bar its 95% bootstrap interval. Imports matplotlib/seaborn
lazily, so running a sweep does not need them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mufno_core.sweep.analysis import (
    DEFAULT_METRIC,
    HPARAM_AXES,
    hparam_shift,
    loss_table,
    optimal_hparam_per_k,
    optimal_lr_per_k,
)

PANEL_TITLES = {"sp": "SP (standard)", "mup": "μP"}
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
    fig, axes = plt.subplots(1, n_panels, figsize=(4.6 * n_panels, height), sharey=True,
                             squeeze=False, constrained_layout=True)
    return fig, axes[0]


def _no_minor_labels(axis) -> None:
    from matplotlib.ticker import NullFormatter

    axis.xaxis.set_minor_formatter(NullFormatter())


def _curve(ax, table: pd.DataFrame, colour, label: str, log_x: bool) -> None:
    x = table.index.to_numpy(dtype=float)
    values = table.to_numpy(dtype=float)
    mean = 10 ** np.nanmean(values, axis=1)
    ax.plot(x, mean, "-o", color=colour, label=label, ms=3, lw=1.5)
    if values.shape[1] > 1:
        ax.fill_between(x, 10 ** np.nanmin(values, axis=1), 10 ** np.nanmax(values, axis=1),
                        color=colour, alpha=0.18, lw=0)


def plot_lr_curves(
    df: pd.DataFrame,
    metric: str = DEFAULT_METRIC,
    ax=None,
    title: str | None = None,
    optima: pd.DataFrame | None = None,
    ylim: tuple[float, float] | None = None,
):
    """Loss vs LR (log axes), one curve per K (colour ramp), one panel per parametrization.

    Returns the Figure. ``optima`` (from :func:`optimal_lr_per_k`) is computed if not given.
    """
    params = [p for p in ("sp", "mup") if p in set(df["parametrization"])]
    fig, axes = _axes(len(params), ax)
    optima = optimal_lr_per_k(df, metric, n_boot=300) if optima is None else optima
    colours = _palette(df["modes"].unique())
    for axis, param in zip(axes, params):
        part = df[df["parametrization"] == param]
        for k in sorted(part["modes"].unique()):
            _curve(axis, loss_table(part[part["modes"] == k], "lr", metric), colours[k], f"K={k}", True)
            opt = optima[(optima["parametrization"] == param) & (optima["modes"] == k)]
            for r in opt.itertuples():
                axis.errorbar([r.lr_opt], [r.loss_opt], xerr=[[r.lr_opt - r.lr_low], [r.lr_high - r.lr_opt]],
                              fmt="*", ms=12, color=colours[k], mec="black", mew=0.6, capsize=3, zorder=5)
        axis.set_xscale("log")
        axis.set_yscale("log")
        _no_minor_labels(axis)
        axis.set_xlabel("base learning rate η")
        axis.set_title(PANEL_TITLES.get(param, param))
        if ylim:
            axis.set_ylim(*ylim)
    axes[0].set_ylabel(METRIC_LABELS.get(metric, metric))
    axes[-1].legend(title="modes", fontsize="small", loc="best")
    if title:
        fig.suptitle(title)
    return fig


def plot_hparam_curves(
    df: pd.DataFrame,
    hparam: str = "batch_size",
    metric: str = DEFAULT_METRIC,
    ax=None,
    title: str | None = None,
):
    """Loss vs a discrete hyperparameter (``"batch_size"`` on a log2 axis, ``"beta2"`` on a 1−β2
    log axis), one curve per K, SP beside μP. At the smallest and largest K a star marks the
    optimum located between grid values with its 95% interval (:func:`hparam_shift`, what the
    verdict uses); at any other K, the best grid value."""
    params = [p for p in ("sp", "mup") if p in set(df["parametrization"])]
    fig, axes = _axes(len(params), ax)
    optima = optimal_hparam_per_k(df, hparam, metric, n_boot=300)
    located = hparam_shift(df, hparam, metric, n_boot=300).set_index("parametrization")
    to_axis = HPARAM_AXES[hparam].forward
    shown = (lambda v: 1.0 - np.asarray(v, dtype=float)) if hparam == "beta2" else np.asarray
    colours = _palette(df["modes"].unique())
    for axis, param in zip(axes, params):
        part = df[df["parametrization"] == param]
        for k in sorted(part["modes"].unique()):
            table = loss_table(part[part["modes"] == k], hparam, metric)
            grid = table.index.to_numpy(dtype=float)
            mean = np.nanmean(table.to_numpy(dtype=float), axis=1)
            table.index = shown(grid)
            _curve(axis, table, colours[k], f"K={k}", True)
            fit = located.loc[param] if param in located.index else None
            end = next((e for e in ("k_min", "k_max") if fit is not None and fit[e] == k), None)
            if end is not None:
                best = fit[f"opt_{end}"]
                low, high = sorted(shown([fit[f"opt_low_{end}"], fit[f"opt_high_{end}"]]))
                x = float(shown(best))
                order = np.argsort(to_axis(grid))
                y = 10 ** np.interp(to_axis(best), to_axis(grid)[order], mean[order])
                axis.errorbar([x], [y], xerr=[[x - low], [high - x]], fmt="*", ms=12,
                              color=colours[k], mec="black", mew=0.6, capsize=3, zorder=5)
                continue
            for r in optima[(optima["parametrization"] == param) & (optima["modes"] == k)].itertuples():
                axis.plot([float(shown(getattr(r, f"{hparam}_opt")))], [r.loss_opt], "*", ms=13,
                          color=colours[k], mec="black", mew=0.6, zorder=5)
        values = sorted(part[hparam].unique())
        if hparam == "beta2":
            axis.set_xscale("log")
            axis.set_xticks([1 - v for v in values], [f"{v:g}" for v in values], rotation=45,
                            fontsize="small")
            axis.invert_xaxis()
            axis.set_xlabel("Adam β2")
        else:
            axis.set_xscale("log", base=2)
            axis.set_xticks(values, [str(v) for v in values])
            axis.set_xlabel(hparam.replace("_", " "))
        axis.minorticks_off()
        axis.set_yscale("log")
        axis.set_title(PANEL_TITLES.get(param, param))
    axes[0].set_ylabel(METRIC_LABELS.get(metric, metric))
    axes[-1].legend(title="modes", fontsize="small", loc="best")
    if title:
        fig.suptitle(title)
    return fig
