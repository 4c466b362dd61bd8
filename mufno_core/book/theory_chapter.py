"""The tables and figures of the chapter *Why μP over Fourier modes is logarithmic*, from the
measurements of :mod:`mufno_core.theory` (one call per table or figure; the notebook holds the prose).

    norms = norm_sweep(THEORY_PRESETS["quick"]); summary = summarize_norms(norms)
    norm_table(summary); plot_operator_norms(summary); plot_paper_units(summary)
    growth_view(growth_table(summary)); transfer_factor_table(); comparison_table(...)

Tables are narrow enough for the book's column: a measured value and its spread share a cell,
one row per (d, K) with a column pair per width.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from mufno_core import theory
from mufno_core.book.answers import Answer, text_answer
from mufno_core.book.tables import readable
from mufno_core.mup import transfer_lr
from mufno_core.theory import (
    loglog_slope,
    max_gaussian_asymptote,
    operator_norm_vs_modes,
    random_spectral_layer,
    verify_with_layer,
)

PAPER_TRANSFER_FACTORS: dict[int, float] = {6: 0.783, 12: 0.665, 16: 0.629, 24: 0.588, 512: 0.420}
"""The paper's Algorithm 1 factors η(K*)/η(3) for a proxy at K = 3, as it reports them."""

CHECK_NAMES = {"norm_from_weights": "‖K‖ from the weights",
               "largest_block_off_zero_plane": "largest block off the zero plane",
               "gain_on_top_mode_input": "gain on that block's input",
               "gain_on_random_input": "gain on a random input"}


def layer_checks(seed: int = 0, modes: int = 8, width: int = 8) -> pd.DataFrame:
    """:func:`~mufno_core.theory.verify_with_layer` for one random layer per d = 1, 2, 3, named in
    words: the third column must equal the second, the fourth stay below the first."""
    rows = [{"d": d, **verify_with_layer(random_spectral_layer(d, modes, width, std=1.0, seed=seed + d))}
            for d in (1, 2, 3)]
    return readable(pd.DataFrame(rows), digits=4, names=CHECK_NAMES)


def norm_sweep(config: Mapping, seed: int = 0) -> pd.DataFrame:
    """Every (d, K, width, draw) of a :data:`~mufno_core.theory.THEORY_PRESETS` entry."""
    frames = [operator_norm_vs_modes(d, modes, width=m, n_draws=config["n_draws"], seed=seed)
              for d, modes in config["modes_by_dim"].items() for m in config["widths"]]
    return pd.concat(frames, ignore_index=True)


def norm_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per (d, K): for each width m, the measured norm (mean ± std over draws) and the
    prediction (m = 1: the exact E max; m > 1: the upper estimate 2√m + √log n)."""
    table = summary[["dim", "modes", "n_modes"]].drop_duplicates().sort_values(["dim", "modes"])
    table = table.rename(columns={"dim": "d", "modes": "K", "n_modes": "n"}).astype(str)
    for width, part in summary.groupby("width"):
        part = part.sort_values(["dim", "modes"])
        kind = "exact E max" if width == 1 else "upper estimate"
        table[f"m = {width}: measured"] = [f"{v:.3f} ± {s:.3f}"
                                           for v, s in zip(part["norm"], part["norm_std"])]
        table[f"m = {width}: {kind}"] = [f"{v:.3f}" for v in part["predicted"]]
    return table.reset_index(drop=True)


def growth_view(growth: pd.DataFrame) -> pd.DataFrame:
    """:func:`~mufno_core.theory.growth_table` in words: the norm's growth over the K range against
    the max law's and a sum's (√n), and the fitted power of n."""
    return readable(growth, ["dim", "width", "K", "measured_growth", "predicted_growth",
                             "sqrt_n_growth", "power_of_n"], digits=3,
                    names={"dim": "d", "width": "m", "measured_growth": "growth",
                           "predicted_growth": "max law", "sqrt_n_growth": "√n (a sum)",
                           "power_of_n": "power of n"})


def paper_units(summary: pd.DataFrame) -> pd.DataFrame:
    """Width 1 in the paper's units: the measured norm over the std s = b/√2 of a real component
    (b = 1) beside sqrt(2 d log K) and sqrt(2 log n)."""
    m1 = summary[summary["width"] == 1]
    return pd.DataFrame({
        "dim": m1["dim"].to_numpy(), "modes": m1["modes"].to_numpy(),
        "norm / s": m1["norm"].to_numpy() * math.sqrt(2.0),
        "sqrt(2 d log K)": [math.sqrt(2 * d * math.log(k)) for d, k in zip(m1["dim"], m1["modes"])],
        "sqrt(2 log n)": [max_gaussian_asymptote(n) for n in m1["n_modes"]],
    })


def width_slopes(sums: pd.DataFrame) -> dict[str, float]:
    """The fitted power of m of each kind of sum of :func:`~mufno_core.theory.width_sum_growth`."""
    return {kind: loglog_slope(g["width"], g["value"]) for kind, g in sums.groupby("kind")}


def transfer_factor_table() -> pd.DataFrame:
    """Algorithm 1's factor η(K*)/η(3) = sqrt(log 3 / log K*), computed beside the paper's."""
    ks = list(PAPER_TRANSFER_FACTORS)
    return pd.DataFrame({"K*": ks, "computed η(K*)/η(3)": [f"{transfer_lr(1.0, 3, k):.3f}" for k in ks],
                         "paper": [f"{v:.3f}" for v in PAPER_TRANSFER_FACTORS.values()]})


def slope_table(slopes: Mapping[str, float]) -> pd.DataFrame:
    """:func:`width_slopes` as a table: each kind of sum and its fitted power of m."""
    return pd.DataFrame({"sum over m terms": list(slopes),
                         "fitted power of m": [f"{v:.2f}" for v in slopes.values()]})


def comparison_table(summary: pd.DataFrame, growth: pd.DataFrame,
                     slopes: Mapping[str, float]) -> pd.DataFrame:
    """What was measured against what the paper or the theory says: the norm at the largest K over
    its prediction and its growth per (d, m), the power of m of an aligned sum, Algorithm 1's 3 → 24."""
    largest = summary.loc[summary.groupby(["dim", "width"])["modes"].idxmax()]
    rows = []
    for _, r in largest.iterrows():
        d, m, k = int(r["dim"]), int(r["width"]), int(r["modes"])
        g = growth[(growth["dim"] == d) & (growth["width"] == m)].iloc[0]
        rows.append({"quantity": f"d={d}, m={m}: norm at K={k} / prediction",
                     "measured": f"{r['ratio']:.3f}",
                     "paper / theory": "≈ 1 (exact E max)" if m == 1 else "≤ 1 (upper estimate)"})
        rows.append({"quantity": f"d={d}, m={m}: growth of the norm, K {g['K']}",
                     "measured": f"{g['measured_growth']:.2f}×",
                     "paper / theory": f"{g['predicted_growth']:.2f}× (max law); "
                                       f"a sum: {g['sqrt_n_growth']:.1f}× (√n)"})
    aligned = next(kind for kind in slopes if kind.startswith("aligned"))
    rows.append({"quantity": "width: power of m, aligned sum", "measured": f"{slopes[aligned]:.3f}",
                 "paper / theory": "1 (why width-μP uses 1/m)"})
    rows.append({"quantity": "Algorithm 1 factor 3 → 24", "measured": f"{transfer_lr(1.0, 3, 24):.3f}",
                 "paper / theory": f"{PAPER_TRANSFER_FACTORS[24]:.3f} (paper)"})
    return pd.DataFrame(rows)


def plot_operator_norms(summary: pd.DataFrame):
    """One panel per d: the measured norm (± std) against n on log–log axes, the prediction
    (dashed) and the √n a sum would give (dotted), one colour per width."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    dims = sorted(summary["dim"].unique())
    fig, axes = plt.subplots(1, len(dims), figsize=(7.2, 3.2), sharey=True, squeeze=False)
    for ax, d in zip(axes[0], dims):
        for i, (m, g) in enumerate(summary[summary["dim"] == d].groupby("width")):
            colour = f"C{i}"
            ax.errorbar(g["n_modes"], g["norm"], yerr=g["norm_std"], marker="o", ls="none",
                        color=colour, label=f"measured, m={m}")
            kind = "exact E max" if m == 1 else "upper estimate 2√m + √log n"
            ax.plot(g["n_modes"], g["predicted"], color=colour, ls="--", label=f"{kind}, m={m}")
            ref = g["norm"].iloc[0] * np.sqrt(g["n_modes"] / g["n_modes"].iloc[0])
            ax.plot(g["n_modes"], ref, color=colour, ls=":", alpha=0.6,
                    label=f"∝ √n (what a sum would do), m={m}")
        ax.set(xscale="log", yscale="log", title=f"d = {d}")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(0.8, 3 * summary["norm"].max())
    axes[0, 0].set_ylabel("operator norm max_k ‖R_k‖\n(b = 1)", fontsize=10)
    fig.supxlabel("kept modes n = 2^(d-1) K^d", fontsize=10)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=7, bbox_to_anchor=(0.5, -0.2))
    fig.suptitle("The operator norm of a random Fourier layer grows like sqrt(log n), not sqrt(n)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def plot_paper_units(summary: pd.DataFrame):
    """Width 1: the measured max |r_k| in units of s against the paper's sqrt(2 d log K), one
    colour per d, with the diagonal y = x."""
    import matplotlib.pyplot as plt

    units = paper_units(summary)
    fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    for i, (d, part) in enumerate(units.groupby("dim")):
        ax.scatter(part["sqrt(2 d log K)"], part["norm / s"], s=40, color=f"C{i}", label=f"d = {d}")
    top = float(units[["sqrt(2 d log K)", "norm / s"]].to_numpy().max())
    ax.plot([0, top], [0, top], "k--", lw=1, label="y = x")
    ax.set(xlabel="sqrt(2 d log K)", ylabel="measured max |r_k| / s")
    ax.legend()
    ax.set_title("m = 1: measured max |r_k| against the paper's sqrt(2 d log K)", fontsize=10)
    return fig


def plot_width_sums(sums: pd.DataFrame):
    """|Σ_j u_j x_j| against the width m (log–log), one line per kind of sum."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    for kind, part in sums.groupby("kind"):
        ax.plot(part["width"], part["value"], marker="o", label=kind)
    ax.set(xscale="log", yscale="log", xlabel="width m", ylabel="|Σ_j u_j x_j|",
           title="width: sums of m terms")
    ax.legend()
    return fig


def answer(summary: pd.DataFrame, growth: pd.DataFrame, preset: str) -> Answer:
    """The chapter's verdict as the box it opens with (:func:`~mufno_core.theory.theory_verdict`)."""
    return text_answer("theory", "The operator norm of a Fourier layer over K",
                       theory.theory_verdict(summary, growth), preset)
