"""Does the √log K law hold at finite K? Three measurements of one exponent, side by side.

The μP rule c(K) ∝ 1/sqrt(d log K) (paper Thm. 3.5) rests on one growth law, (log K)^½, that shows up
three ways, each measured in its own chapter with a 95% interval:

* the operator norm of a random Fourier layer, ∝ (log n)^β (:func:`mufno_core.theory.norm_exponent`);
* the size of SP's spectral updates, ∝ (d log K)^β (:func:`mufno_core.coord_check.update_exponent`);
* the optimal LR under SP, ∝ (d log K)^α, so −α is the growth
  (:func:`~mufno_core.optima.lr_exponent`).

The theory sets each growth exponent to ½. :func:`growth_exponents` puts them in one table,
:func:`plot_growth_exponents` on one axis, and :func:`scale_effect` asks whether SP's α moves toward
−½ when the model is wider or trained longer (the Burgers studies of :mod:`mufno_core.sweep.studies`).
"""

from __future__ import annotations

import math

import pandas as pd

from mufno_core.paper import EXPERIMENT_LABELS
from mufno_core.stats import student_t

THEORY_GROWTH = 0.5


def growth_exponents(norms: pd.DataFrame, updates: pd.DataFrame, lrs: pd.DataFrame) -> pd.DataFrame:
    """One row per measured growth exponent (theory: ½ for every row).

    ``norms``: :func:`~mufno_core.theory.norm_exponent`; ``updates``:
    :func:`~mufno_core.coord_check.update_exponent` (its SP rows); ``lrs``:
    :func:`~mufno_core.summary.exponents_of_store` (its SP rows; the growth is −α).
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
        rows.append({"variant": name, "alpha": row["alpha"], "alpha_low": row["alpha_low"],
                     "alpha_high": row["alpha_high"], "change": delta, "change_low": low,
                     "change_high": high, "verdict": moved})
    return pd.DataFrame(rows)


def conclusion(growth: pd.DataFrame, scale: pd.DataFrame | None,
               spectral: pd.DataFrame | None) -> str:
    """What is and what is not resolved, computed from the intervals (Markdown bullet list)."""
    lines = []
    for measurement, part in growth.groupby("measurement", sort=False):
        n = len(part)
        consistent, below = int(part["consistent"].sum()), int(part["below"].sum())
        cases = ", ".join(f"{r.case} {r.growth:+.2f} [{r.low:+.2f}, {r.high:+.2f}]"
                          for r in part.itertuples())
        above = n - consistent - below
        counts = [f"{consistent} of {n} intervals hold ½"] + [
            f"{count} {'lies' if count == 1 else 'lie'} {where} it"
            for count, where in ((below, "below"), (above, "above")) if count]
        lines.append(f"* **{measurement}**: {', '.join(counts)} ({cases}).")
    if scale is not None and len(scale):
        lines.append("* **Scale (Burgers, SP)**: " + "; ".join(
            f"{r.variant}: α = {r.alpha:+.2f} [{r.alpha_low:+.2f}, {r.alpha_high:+.2f}], change "
            f"{r.change:+.2f} [{r.change_low:+.2f}, {r.change_high:+.2f}]: {r.verdict}"
            for r in scale.itertuples()) + ".")
    if spectral is not None and len(spectral):
        parts = []
        for r in spectral.itertuples():
            target = -0.5 if r.parametrization == "sp" else 0.0
            holds = r.alpha_low <= target <= r.alpha_high
            parts.append(f"{'SP' if r.parametrization == 'sp' else 'μP'} α = {r.alpha:+.2f} "
                         f"[{r.alpha_low:+.2f}, {r.alpha_high:+.2f}] "
                         f"({'holds' if holds else 'excludes'} the theory's {target:+.1f})")
        lines.append("* **Spectral LR alone** (lifting, skips and projection held at SP's K = 3 "
                     "optimum): " + "; ".join(parts) + ".")
    return "\n".join(lines)

