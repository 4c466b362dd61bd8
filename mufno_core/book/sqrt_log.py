"""Does the √log K law hold at finite K? Three measurements of one exponent, side by side.

The μP rule c(K) ∝ 1/sqrt(d log K) (paper Thm. 3.5) rests on one growth law, (log K)^½, that shows up
three ways, each measured in its own chapter with a 95% interval:

* the operator norm of a random Fourier layer, ∝ (log n)^β (:func:`mufno_core.theory.norm_exponent`);
* the size of SP's spectral updates, ∝ (d log K)^β (:func:`mufno_core.coord_check.update_exponent`);
* the optimal LR under SP, ∝ (d log K)^α, so −α is the growth
  (:func:`~mufno_core.analysis.optima.lr_exponent`).

The theory sets each growth exponent to ½. :func:`growth_exponents` puts them in one table,
:func:`plot_growth_exponents` on one axis, and :func:`scale_effect` asks whether SP's α moves toward
−½ when the model is wider or trained longer (the Burgers studies of :mod:`mufno_core.sweep.studies`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from mufno_core.analysis.optima import lr_exponent
from mufno_core.analysis.paper import EXPERIMENT_LABELS
from mufno_core.analysis.summary import exponents_of_store, grid_results
from mufno_core.book.tables import interval, readable
from mufno_core.coord_check import COORD_PRESETS, coord_check_sp_mup
from mufno_core.provenance import provenance_line
from mufno_core.stats import student_t
from mufno_core.sweep.experiments import Registered, get_experiment
from mufno_core.sweep.studies import run_study
from mufno_core.theory import operator_norm_vs_modes

THEORY_GROWTH = 0.5
LR_SWEEPS = Registered(lambda exp: exp if exp.is_lr_transfer and not exp.fixed.get("pde_weight")
                       else None)
"""The learning-rate sweeps on data alone (no physics loss), whose K (one per dimension) the
operator norms are measured at: Burgers, Darcy and Navier–Stokes, from the registry."""


# --- the three measurements ------------------------------------------------------------------
def sweep_operator_norms(n_draws: int, widths: tuple[int, ...] = (1, 16), seed: int = 0) -> pd.DataFrame:
    """:func:`~mufno_core.theory.operator_norm_vs_modes` at the K of the quick LR sweeps (one per
    dimension), at each width."""
    ks = {exp.dim: list(exp.presets["quick"].modes) for exp in map(get_experiment, LR_SWEEPS)}
    return pd.concat([operator_norm_vs_modes(d, k, width=m, n_draws=n_draws, seed=seed)
                      for d, k in ks.items() for m in widths], ignore_index=True)


def coord_updates(results_dir: str, preset: str) -> tuple[pd.DataFrame, str]:
    """The coord-check chapter's table from ``results_dir/coord_check/coord_check.csv``, or (if
    that chapter has not run) computed here at ``preset``; with a note saying which."""
    path = Path(results_dir) / "coord_check" / "coord_check.csv"
    if path.exists():
        return pd.read_csv(path), f"coord check table of {path}"
    config = COORD_PRESETS[preset]
    coords = pd.concat([coord_check_sp_mup(d, ks, grid=config["grid_by_dim"][d], width=config["width"],
                                           seeds=config["seeds"], batch_size=config["batch_size"])
                        for d, ks in config["modes_by_dim"].items()], ignore_index=True)
    return coords, "coord check"


def lr_exponents(results_dir: str, preset: str) -> tuple[pd.DataFrame, str]:
    """The learning-rate chapters' exponents recomputed from their store, and their source line."""
    exponents = exponents_of_store(results_dir, preset)
    frames = [grid_results(results_dir, e, preset) for e in exponents["experiment"].unique()]
    source = (provenance_line(pd.concat(frames), preset) if frames
              else f"Source: no learning-rate sweeps of the {preset} preset in {results_dir}")
    return exponents, source


BURGERS_STUDIES = ("burgers_width32", "burgers_steps1000", "burgers_spectral_lr")
"""The chapter's Burgers studies (:data:`~mufno_core.sweep.studies.STUDIES`): wider, longer, and the
spectral weights' LR alone."""


def burgers_studies(results_dir: str, preset: str, study_dir: str = "",
                    **run: Any) -> tuple[dict[str, pd.DataFrame], str]:
    """The records of the chapter's Burgers studies (:data:`BURGERS_STUDIES`; run where missing,
    ``run`` going to :func:`~mufno_core.sweep.studies.run_study`) and the preset they are at: quick
    from ``results/study``, or their toy versions in ``results_dir`` at smoke."""
    study_preset = "smoke" if preset == "smoke" else "quick"
    study_dir = study_dir or (results_dir if preset == "smoke" else "results/study")
    return {name: run_study(name, study_dir, preset=study_preset, **run)
            for name in BURGERS_STUDIES}, study_preset


def burgers_scale(results_dir: str, preset: str, studies: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """:func:`scale_effect` of SP's α from the chapter's Burgers sweep to the wider and the longer
    study."""
    base = lr_exponent(grid_results(results_dir, "burgers_lr", preset)).set_index("parametrization")
    variants = {label: lr_exponent(studies[name]).set_index("parametrization").loc["sp"]
                for label, name in (("width 32", "burgers_width32"), ("1000 steps", "burgers_steps1000"))}
    return scale_effect(base.loc["sp"], variants)


# --- the tables, in words -------------------------------------------------------------------
def norm_table(exponents: pd.DataFrame) -> pd.DataFrame:
    """The operator-norm exponents of :func:`~mufno_core.theory.norm_exponent`."""
    return readable(exponents, ["dim", "width", "ks", "beta_interval", "predicted_beta", "n_draws"],
                    names={"dim": "d", "width": "m", "predicted_beta": "predicted β (exact / estimate)"})


def update_table(exponents: pd.DataFrame) -> pd.DataFrame:
    """The update-size exponents of :func:`~mufno_core.coord_check.update_exponent`."""
    return readable(exponents, ["dim", "parametrization", "ks", "beta_interval", "theory", "n_seeds"],
                    names={"dim": "d"})


def lr_table(exponents: pd.DataFrame) -> pd.DataFrame:
    """The learning-rate exponents of the chapters, one row per experiment and parametrization."""
    table = exponents.assign(experiment=exponents["experiment"].map(lambda e: EXPERIMENT_LABELS.get(e, e)))
    return readable(table, ["experiment", "parametrization", "ks", "alpha_interval", "theory", "n_seeds"])


def scale_table(scale: pd.DataFrame) -> pd.DataFrame:
    """:func:`scale_effect`'s rows: α of each variant and its change, each with its interval."""
    table = scale.rename(columns={"change": "delta", "change_low": "delta_low", "change_high": "delta_high"})
    table = table.assign(delta_interval=[interval(a, b, c, signed=True) for a, b, c in
                                         zip(table["delta"], table["delta_low"], table["delta_high"])])
    located = table["located"] if "located" in table else pd.Series(True, index=table.index)
    table = table.assign(delta_interval=table["delta_interval"].where(located, "not located"))
    shown = readable(table, ["variant", "alpha_interval", "delta_interval", "verdict"],
                     names={"variant": "Burgers SP", "delta_interval": "change of α [95% CI]"})
    alpha = [c for c in shown.columns if c.startswith("exponent α")]
    if alpha:
        shown[alpha[0]] = shown[alpha[0]].where(located.to_numpy(), "not located")
    return shown


def growth_exponents(norms: pd.DataFrame, updates: pd.DataFrame, lrs: pd.DataFrame) -> pd.DataFrame:
    """One row per measured growth exponent (theory: ½ for every row).

    ``norms``: :func:`~mufno_core.theory.norm_exponent`; ``updates``:
    :func:`~mufno_core.coord_check.update_exponent` (its SP rows); ``lrs``:
    :func:`~mufno_core.analysis.summary.exponents_of_store` (its SP rows; the growth is −α).
    Columns: measurement, case, growth, low, high, consistent (the interval holds ½), below (the
    interval lies below ½).
    """
    rows = []
    for r in norms.itertuples():
        rows.append(("operator norm of a random layer", f"d = {r.dim}, width {r.width}",
                     r.beta, r.beta_low, r.beta_high))
    for r in updates[updates["parametrization"] == "sp"].itertuples():
        rows.append(("SP update size (coord check)", f"d = {r.dim}", r.beta, r.beta_low, r.beta_high))
    for r in lrs[lrs["parametrization"] == "sp"].itertuples():
        if getattr(r, "edge", False):  # not located: no exponent to compare
            continue
        rows.append(("SP optimal LR, −α", EXPERIMENT_LABELS.get(r.experiment, r.experiment),
                     -r.alpha, -r.alpha_high, -r.alpha_low))
    table = pd.DataFrame(rows, columns=["measurement", "case", "growth", "low", "high"])
    table["consistent"] = (table["low"] <= THEORY_GROWTH) & (THEORY_GROWTH <= table["high"])
    table["below"] = table["high"] < THEORY_GROWTH
    return table


def plot_growth_exponents(table: pd.DataFrame, ax=None):
    """Every growth exponent of :func:`growth_exponents` with its 95% CI, against the theory's ½."""
    import matplotlib.pyplot as plt

    colours = {"operator norm of a random layer": "#7d3c98", "SP update size (coord check)": "#d68910",
               "SP optimal LR, −α": "#c0392b"}
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.2, 0.8 + 0.32 * len(table)), constrained_layout=True)
    else:
        fig = ax.figure
    labels = []
    for y, r in enumerate(table.iloc[::-1].itertuples()):
        ax.errorbar([r.growth], [y], xerr=[[r.growth - r.low], [r.high - r.growth]], fmt="o",
                    color=colours.get(r.measurement, "black"), capsize=3, ms=5)
        labels.append(f"{r.measurement}: {r.case}")
    ax.axvline(THEORY_GROWTH, color="black", ls="--", lw=1, label="√log K law: ½")
    ax.axvline(0.0, color="0.6", ls=":", lw=1, label="no growth: 0")
    ax.set_yticks(range(len(labels)), labels, fontsize="small")
    ax.set_xlabel("growth exponent: quantity ∝ (log K)^exponent")
    ax.legend(fontsize="small", loc="lower right")
    return fig


def difference(a: pd.Series, b: pd.Series, level: float = 0.95) -> tuple[float, float, float]:
    """α(b) − α(a) with a 95% interval from the two (independent) bootstrap standard errors."""
    delta = float(b["alpha"] - a["alpha"])
    se = math.hypot(a["alpha_se"], b["alpha_se"])
    half = student_t(int(min(a["n_seeds"], b["n_seeds"])) - 1, level) * se
    return delta, delta - half, delta + half


def scale_effect(base: pd.Series, variants: dict[str, pd.Series]) -> pd.DataFrame:
    """How SP's α moves from ``base`` (an :func:`lr_exponent` row) to each variant: the change
    and its interval, and whether it moves toward −½ (``toward``), away, or not resolvably."""
    rows = []
    for name, row in variants.items():
        delta, low, high = difference(base, row)
        moved = "toward −½" if high < 0 else ("away from −½" if low > 0 else "no resolved change")
        located = not (bool(row.get("edge", False)) or bool(base.get("edge", False)))
        rows.append({"variant": name, "alpha": row["alpha"], "alpha_low": row["alpha_low"],
                     "alpha_high": row["alpha_high"], "change": delta, "change_low": low,
                     "change_high": high, "verdict": moved if located else NOT_LOCATED,
                     "located": located})
    return pd.DataFrame(rows)


NOT_LOCATED = "not located: an optimum sits on the LR grid's edge (the study needs lower LRs)"


def conclusion(growth: pd.DataFrame, scale: pd.DataFrame | None,
               spectral: pd.DataFrame | None) -> str:
    """What is and what is not resolved, computed from the intervals (Markdown bullet list)."""
    lines = []
    for measurement, part in growth.groupby("measurement", sort=False):
        n = len(part)
        consistent, below = int(part["consistent"].sum()), int(part["below"].sum())
        cases = ", ".join(f"{r.case} {interval(r.growth, r.low, r.high, signed=True)}"
                          for r in part.itertuples())
        above = n - consistent - below
        counts = [f"{consistent} of {n} intervals hold ½"] + [
            f"{count} {'lies' if count == 1 else 'lie'} {where} it"
            for count, where in ((below, "below"), (above, "above")) if count]
        lines.append(f"* **{measurement}**: {', '.join(counts)} ({cases}).")
    if scale is not None and len(scale):
        lines.append("* **Scale (Burgers, SP)**: " + "; ".join(
            f"{r.variant}: α = {interval(r.alpha, r.alpha_low, r.alpha_high, signed=True)}, change "
            f"{interval(r.change, r.change_low, r.change_high, signed=True)}: {r.verdict}"
            if getattr(r, "located", True) else f"{r.variant}: {r.verdict}"
            for r in scale.itertuples()) + ".")
    if spectral is not None and len(spectral):
        parts = []
        for r in spectral.itertuples():
            if getattr(r, "edge", False):
                parts.append(f"{'SP' if r.parametrization == 'sp' else 'μP'} α not located (an "
                             "optimum on the LR grid's edge)")
                continue
            target = -0.5 if r.parametrization == "sp" else 0.0
            holds = r.alpha_low <= target <= r.alpha_high
            parts.append(f"{'SP' if r.parametrization == 'sp' else 'μP'} α = {r.alpha:+.2f} "
                         f"[{r.alpha_low:+.2f}, {r.alpha_high:+.2f}] "
                         f"({'holds' if holds else 'excludes'} the theory's {target:+.1f})")
        lines.append("* **Spectral LR alone** (lifting, skips and projection held at SP's K = 3 "
                     "optimum): " + "; ".join(parts) + ".")
    return "\n".join(lines)

