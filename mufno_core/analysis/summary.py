"""The book's summary: every experiment of a results store, analysed with the chapters' settings,
its verdict's headline, and the figure of all exponents at a glance.

Nothing is trained here. Only the trials of each experiment's grid count (:func:`grid_results`), so
that trials of an earlier or another grid left in the store cannot change the answer; only
finished trials count (:func:`~mufno_core.sweep.store.finished_trials`). A store with nothing to show raises
:class:`~mufno_core.analysis.optima.NoEvidence` with one sentence.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from mufno_core.analysis.optima import (
    DEFAULT_METRIC,
    THEORY_ALPHA,
    NoEvidence,
    hparam_shift,
    lr_drift,
    lr_exponent,
    optimal_lr_per_k,
)
from mufno_core.analysis.paper import EXPERIMENT_LABELS, PAPER, paper_alpha
from mufno_core.analysis.verdicts import (
    Verdict,
    drift_sentence,
    exponent_verdict,
    hparam_verdict,
    shift_sentence,
)
from mufno_core.axes import PARAMETRIZATIONS, display_name
from mufno_core.sweep import grid, load_results
from mufno_core.sweep.experiments import CALIBRATED_EXPONENTS, get_experiment, in_grid
from mufno_core.sweep.store import finished_trials
from mufno_core.sweep.studies import calibrated_store


def summary_table(df: pd.DataFrame, metric: str = DEFAULT_METRIC) -> pd.DataFrame:
    """Optimal LR per K as 'lr* [low, high]' strings, one column per parametrization (for printing)."""
    optima = optimal_lr_per_k(df, metric, n_boot=300)
    optima["lr*"] = [f"{r.lr_opt:.2e} [{r.lr_low:.1e}, {r.lr_high:.1e}]" + (" edge" if r.edge else "")
                     for r in optima.itertuples()]
    return optima.pivot_table(index="modes", columns="parametrization", values="lr*", aggfunc="first")


def default_overrides(experiment: str, preset: str) -> dict[str, Any]:
    """The grid the summary reads: an LR experiment with a calibrated exponent at ``preset``
    (:data:`~mufno_core.sweep.experiments.CALIBRATED_EXPONENTS`) under SP, μP and the calibrated
    rule; any other under its preset's own parametrizations."""
    if preset in CALIBRATED_EXPONENTS.get(experiment, {}):
        return {"parametrizations": ("sp", "mup", "cal")}
    return {}


def grid_results(results_dir: str, experiment: str, preset: str,
                 overrides: Mapping[str, Any] | None = None) -> pd.DataFrame | None:
    """The measured trials of ``experiment``'s grid at ``preset`` in the store (None if absent,
    or if they span fewer than two K).

    Only the trials of the grid count (``overrides`` as passed to :func:`mufno_core.sweep.grid`,
    by default :func:`default_overrides`); a warning says how many were left out. The calibrated
    rule's trials are read where they live (:func:`~mufno_core.sweep.studies.calibrated_store`:
    at the quick preset a committed study). Only
    measurements count (status "ok" or "diverged").
    """
    folder = Path(results_dir) / experiment
    if not folder.is_dir():
        return None
    if overrides is None:
        overrides = default_overrides(experiment, preset)
    folders = [folder]
    calibrated = calibrated_store(results_dir, experiment, preset) / experiment
    if "cal" in (overrides or {}).get("parametrizations", ()) and calibrated != folder:
        folders.append(calibrated)
    frames = [df for f in folders if f.is_dir() and not (df := load_results(f)).empty]
    if not frames:
        return None
    df = pd.concat(frames, ignore_index=True)
    df = finished_trials(df[df["preset"] == preset])
    inside = in_grid(df, grid(experiment, preset, **(overrides or {})))
    outside = int((~inside).sum())
    if outside:
        warnings.warn(f"{experiment}: {outside} stored trial(s) of preset {preset!r} are not in "
                      f"its grid and were left out", stacklevel=2)
    df = df[inside]
    if df.empty or df["modes"].nunique() < 2:
        return None
    return df


def _by_parametrization(frame: pd.DataFrame) -> list:
    order = list(PARAMETRIZATIONS)
    return sorted(frame.itertuples(), key=lambda r: order.index(r.parametrization)
                  if r.parametrization in order else len(order))


def experiment_summary(df: pd.DataFrame, experiment: str) -> tuple[str, Verdict]:
    """What was measured (in words) and the verdict for one experiment's grid, with the chapters'
    settings so that the numbers agree."""
    swept = get_experiment(experiment).swept
    if swept == "lr":
        drift, exponent = lr_drift(df), lr_exponent(df)
        words = [f"{display_name(r.parametrization)} drift {drift_sentence(r)}"
                 for r in _by_parametrization(drift)]
        words += [f"{display_name(r.parametrization)} α = {r.alpha:+.2f} [{r.alpha_low:+.2f}, "
                  f"{r.alpha_high:+.2f}]" for r in _by_parametrization(exponent)]
        return "; ".join(words), exponent_verdict(exponent)
    shift = hparam_shift(df, swept)
    words = [shift_sentence(r, swept) for r in _by_parametrization(shift)]
    return "; ".join(words), hparam_verdict(shift, swept)


def summarize_results(
    results_dir: str, preset: str, grids: Mapping[str, Mapping[str, Any]] | None = None
) -> pd.DataFrame:
    """One row per experiment found in the results store: what was measured, the verdict's headline
    (and notes), and what the paper reports. An experiment whose every trial diverged gets its
    sentence instead of numbers; a store without any experiment raises :class:`NoEvidence`."""
    rows = []
    for experiment in PAPER:
        df = grid_results(results_dir, experiment, preset, (grids or {}).get(experiment))
        if df is None:
            continue
        try:
            words, verdict = experiment_summary(df, experiment)
            verdict_text = " ".join([verdict.headline, *verdict.notes])
        except NoEvidence as err:
            words, verdict_text = str(err), f"No verdict: {err}."
        rows.append({"experiment": experiment, "trials": int((~df["mirrored"]).sum()),
                     "training steps": training_steps(df),
                     "we measured": words, "verdict": verdict_text,
                     "the paper reports": f"SP: {PAPER[experiment]['sp']}; μP: {PAPER[experiment]['mup']}"})
    if not rows:
        raise NoEvidence(f"{results_dir} holds no measured trials of preset {preset!r} for any "
                         f"experiment the paper reports ({', '.join(PAPER)})")
    return pd.DataFrame(rows, columns=["experiment", "trials", "training steps", "we measured",
                                       "verdict", "the paper reports"])


def training_steps(df: pd.DataFrame) -> str:
    """The horizon a verdict was measured at: the Adam steps of the grid's trials ("300", or
    "100–300" when they differ), or its epochs where a budget is set in epochs (batch size), so
    that no verdict is read without its training length."""
    for column, unit in (("steps", ""), ("epochs", " epochs")):
        values = sorted({int(v) for v in df.get(column, pd.Series(dtype=float)).dropna()})
        if values:
            span = str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"
            return span + unit
    return "not recorded"


EXPONENT_COLUMNS = ["experiment", "parametrization", "alpha", "alpha_low", "alpha_high", "alpha_se",
                    "half_width", "theory", "ks", "n_seeds", "consistent", "excludes_zero",
                    "excludes_half", "edge", "edge_ks", "no_evidence", "paper"]


def exponents_of_store(results_dir: str, preset: str,
                       grids: Mapping[str, Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """:func:`~mufno_core.analysis.optima.lr_exponent` of every LR experiment in the store (the chapters'
    settings), with the paper's implied α (``paper``) beside the theory's. An experiment whose
    every trial diverged is left out (its summary row says so)."""
    frames = []
    for experiment in PAPER:
        if get_experiment(experiment).swept != "lr":
            continue
        df = grid_results(results_dir, experiment, preset, (grids or {}).get(experiment))
        if df is None:
            continue
        try:
            fit = lr_exponent(df).drop(columns="_samples")
        except NoEvidence:
            continue
        fit["paper"] = [paper_alpha(experiment, p) for p in fit["parametrization"]]
        frames.append(fit)
    if not frames:
        return pd.DataFrame(columns=EXPONENT_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def plot_exponent_summary(exponents: pd.DataFrame, ax=None):
    """The book's answer at a glance: α of every LR experiment, each parametrization's with its
    95% interval, the theory's values (−½ SP, 0 μP) as lines and the paper's as crosses."""
    import matplotlib.pyplot as plt

    experiments = [e for e in EXPERIMENT_LABELS if e in set(exponents["experiment"])]
    if not experiments:
        raise NoEvidence("no LR experiment with a located exponent to plot")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.2, 0.9 + 0.85 * len(experiments)), constrained_layout=True)
    else:
        fig = ax.figure
    params = [p for p in PARAMETRIZATIONS if p in set(exponents["parametrization"])]
    offsets = {p: 0.15 - 0.3 * i / max(len(params) - 1, 1) for i, p in enumerate(params)}
    labelled: set[str] = set()

    def label(text: str) -> str | None:
        if text in labelled:
            return None
        labelled.add(text)
        return text

    for y, experiment in enumerate(reversed(experiments)):
        for r in exponents[exponents["experiment"] == experiment].itertuples():
            if r.parametrization not in offsets:
                continue
            yy = y + offsets[r.parametrization]
            colour = PARAMETRIZATIONS[r.parametrization].colour
            ax.errorbar([r.alpha], [yy], xerr=[[r.alpha - r.alpha_low], [r.alpha_high - r.alpha]],
                        fmt="o", color=colour, capsize=3, ms=6,
                        label=label(f"{display_name(r.parametrization)} (measured, 95% CI)"))
            if not math.isnan(r.paper):
                ax.plot([r.paper], [yy], "x", color="black", ms=8, mew=1.8,
                        label=label("the paper's value"))
    for p, alpha in THEORY_ALPHA.items():
        ax.axvline(alpha, color=PARAMETRIZATIONS[p].colour, ls="--", lw=1,
                   label=f"theory {display_name(p)}: {'−½' if alpha == -0.5 else f'{alpha:g}'}")
    ax.set_yticks(range(len(experiments)), [EXPERIMENT_LABELS[e] for e in reversed(experiments)])
    ax.set_ylim(-0.6, len(experiments) - 0.4)
    ax.set_xlabel("exponent α of the optimal LR, η*(K) ∝ (log K)^α")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig
