"""Figures of a sweep: a panel per parametrization, a star per located optimum, and one sentence
(NoEvidence) instead of a traceback when there is nothing to draw."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

from mufno_core.analysis.optima import NoEvidence
from mufno_core.book.plots import plot_hparam_curves, plot_lr_curves
from mufno_core.sweep.experiments import lr_grid

matplotlib.use("Agg")

LRS = lr_grid(-28, -12)


def bowl(optima: dict[tuple[str, int], float], seeds: int = 3) -> pd.DataFrame:
    """log10 loss = 0.5 (log10 lr − log10 lr*)² − 1 + noise, for each (parametrization, K)."""
    rng = np.random.default_rng(0)
    return pd.DataFrame([
        {"experiment": "e", "parametrization": param, "modes": k, "lr": lr, "seed": seed,
         "final_train_loss": 10 ** (0.5 * (math.log10(lr / lr_opt)) ** 2 - 1 + rng.normal(0, 0.01)),
         "diverged": False, "status": "ok"}
        for (param, k), lr_opt in optima.items() for lr in LRS for seed in range(seeds)])


def as_hparam(df: pd.DataFrame, kind: str) -> pd.DataFrame:
    values = (5, 10, 20, 40, 80) if kind == "batch_size" else (0.9, 0.95, 0.98, 0.99, 0.999)
    df = df[df["lr"].isin(LRS[6:6 + len(values)])].copy()
    df[kind] = df["lr"].map(dict(zip(LRS[6:], values)))
    return df


@pytest.mark.parametrize("kind", ["lr", "batch_size", "beta2"])
def test_figures_have_an_sp_and_a_mup_panel_and_a_star_per_k(kind):
    df = bowl({("sp", 3): 3e-3, ("sp", 12): 2e-3, ("mup", 3): 3e-3, ("mup", 12): 3e-3})
    fig = plot_lr_curves(df, title="test") if kind == "lr" else plot_hparam_curves(as_hparam(df, kind), kind)
    assert [ax.get_title() for ax in fig.axes][:2] == ["SP (standard)", "μP"]
    for ax in fig.axes[:2]:
        stars = [c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]
        assert len(stars) == 2  # one located optimum per K
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("kind", ["lr", "batch_size", "beta2"])
def test_nothing_to_draw_is_one_sentence(kind):
    df = bowl({("sp", 3): 3e-3, ("sp", 12): 2e-3})
    df = df if kind == "lr" else as_hparam(df, kind)
    draw = (lambda d: plot_lr_curves(d)) if kind == "lr" else (lambda d: plot_hparam_curves(d, kind))
    with pytest.raises(NoEvidence, match="no records"):
        draw(df.iloc[0:0])
    with pytest.raises(NoEvidence, match="valid status"):
        draw(df.assign(status="error"))
