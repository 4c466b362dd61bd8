"""The coordinate-check chapter's run, tables and figures (one call each; the notebook holds the
prose), from :mod:`mufno_core.coord_check`.

    coords = run_preset(COORD_PRESETS["quick"], steps=3)
    factor_table(config); plot_coords(coords, 1, "mean_abs_delta", first_step=1)
    growth_view(update_growth(coords), step=3)
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from mufno_core.book.tables import readable
from mufno_core.coord_check import coord_check_sp_mup, lr_factor_table

VALUE_LABELS = {"mean_abs_delta": "mean |Δ activation|", "mean_abs": "mean |activation|"}


def run_preset(config: Mapping, **kwargs) -> pd.DataFrame:
    """:func:`~mufno_core.coord_check.coord_check_sp_mup` for every d of a
    :data:`~mufno_core.coord_check.COORD_PRESETS` entry (its grid, width, seeds and batch);
    ``kwargs`` (steps, lr, depth, input_decay, …) go to every run."""
    frames = [coord_check_sp_mup(d, modes, grid=config["grid_by_dim"][d], width=config["width"],
                                 seeds=config["seeds"], batch_size=config["batch_size"], **kwargs)
              for d, modes in config["modes_by_dim"].items()]
    return pd.concat(frames, ignore_index=True)


def factor_table(config: Mapping) -> pd.DataFrame:
    """μP's c(K) and b(K) relative to each d's smallest K, one row per (d, K)."""
    frames = {d: lr_factor_table(d, modes, min(modes)) for d, modes in config["modes_by_dim"].items()}
    table = pd.concat(frames, names=["d"]).reset_index(level=0).reset_index(drop=True)
    return readable(table.rename(columns={"modes": "K"}), digits=3)


def layer_rank(name: str) -> float:
    """Position of a recorded layer from input to output: lift, spectral 1, fourier 1, …, output."""
    kind, _, index = name.partition(" ")
    if kind == "lift":
        return 0
    if kind in ("spectral", "fourier"):
        return 2 * int(index) - (kind == "spectral")
    return float("inf")


def plotted_layers(coords: pd.DataFrame) -> list[str]:
    """The layers a coord-check figure shows, in order: lift, spectral 1 … L, output."""
    names = {layer for layer in coords["layer"] if layer.split()[0] in ("lift", "spectral", "output")}
    return sorted(names, key=layer_rank)


def plot_coords(coords: pd.DataFrame, dim: int, value: str = "mean_abs_delta", first_step: int = 1):
    """``value`` against K (log–log) for FNO-``dim``D: SP's row above μP's, one column per Adam
    step from ``first_step``, one line per layer (mean over seeds)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    layers = plotted_layers(coords)
    data = coords[(coords["dim"] == dim) & (coords["step"] >= first_step) & coords["layer"].isin(layers)]
    means = data.groupby(["parametrization", "step", "layer", "modes"])[value].mean()
    curves = set(means.index.droplevel("modes"))  # the (parametrization, step, layer) measured
    ks, steps = sorted(data["modes"].unique()), sorted(data["step"].unique())
    colours = dict(zip(layers, sns.color_palette("viridis", len(layers))))
    with sns.axes_style("whitegrid"):  # plain subplots: a FacetGrid took 3x longer to build
        fig, axes = plt.subplots(2, len(steps), figsize=(1.9 * len(steps), 3.8), sharex=True,
                                 sharey="row", squeeze=False)
    for row, parametrization in zip(axes, ("sp", "mup")):
        for ax, step in zip(row, steps):
            for layer in layers:
                key = (parametrization, step, layer)
                if key in curves:
                    curve = means.loc[key]
                    ax.plot(curve.index, curve.to_numpy(), marker="o", color=colours[layer],
                            markeredgecolor="white", markeredgewidth=0.75, label=layer)
            ax.set(xscale="log", yscale="log")
            ax.set_title(f"{parametrization} · step {step}", fontsize=plt.rcParams["axes.labelsize"])
            ax.set_xticks(ks, labels=[str(k) for k in ks])
            ax.minorticks_off()
    for ax in axes[-1]:
        ax.set_xlabel("K (modes per axis)")
    for ax in axes[:, 0]:
        ax.set_ylabel(VALUE_LABELS[value])
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.tight_layout()
    fig.legend(handles, labels, title="layer", loc="center left", bbox_to_anchor=(1.0, 0.5),
               frameon=False)
    fig.suptitle(f"FNO-{dim}D: {VALUE_LABELS[value]} against K", y=1.03)
    return fig


def growth_view(growth: pd.DataFrame, step: int) -> pd.DataFrame:
    """:func:`~mufno_core.coord_check.update_growth` after ``step``, one row per (d, layer) with
    SP's and μP's growth over the K range and fitted power of K side by side."""
    last = growth[growth["step"] == step]
    wide = last.pivot_table(index=["dim", "layer", "K"], columns="parametrization",
                            values=["growth", "power_of_K"], aggfunc="first")
    table = pd.DataFrame({"d": [d for d, _, _ in wide.index], "layer": [l for _, l, _ in wide.index],
                          "K": [k for _, _, k in wide.index]})
    for column, words in (("growth", "growth"), ("power_of_K", "power of K")):
        for param, name in (("sp", "SP"), ("mup", "μP")):
            if (column, param) in wide.columns:
                table[f"{name} {words}"] = wide[(column, param)].to_numpy()
    table = table.sort_values(["d", "layer"], key=lambda s: s.map(layer_rank) if s.name == "layer" else s)
    return readable(table.reset_index(drop=True), digits=3)
