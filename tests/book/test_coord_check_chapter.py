"""The coord-check chapter's run, tables and figure, on tiny computed inputs."""

import math

import matplotlib
import pandas as pd
import pytest

from mufno_core.book import coord_check_chapter as cc
from mufno_core.coord_check import update_growth

matplotlib.use("Agg")

TINY = {"modes_by_dim": {1: [2, 4], 2: [2, 3]}, "grid_by_dim": {1: 16, 2: 8}, "width": 4, "seeds": [0],
        "batch_size": 2}


@pytest.fixture(scope="module")
def coords() -> pd.DataFrame:
    return cc.run_preset(TINY, steps=2, depth=2)


def test_run_preset_covers_every_dimension_both_parametrizations(coords):
    assert set(zip(coords["dim"], coords["modes"])) == {(1, 2), (1, 4), (2, 2), (2, 3)}
    assert set(coords["parametrization"]) == {"sp", "mup"} and set(coords["step"]) == {0, 1, 2}
    assert set(coords["layer"]) == {"lift", "spectral 1", "fourier 1", "spectral 2", "fourier 2", "output"}


def test_factor_table_one_row_per_dimension_and_k():
    table = cc.factor_table(TINY)
    assert list(table.columns) == ["d", "K", "c(K)", "b(K)", "sqrt(log K0 / log K)"]
    assert list(zip(table["d"], table["K"])) == [("1", "2"), ("1", "4"), ("2", "2"), ("2", "3")]
    assert float(table.loc[1, "c(K)"]) == pytest.approx(math.sqrt(math.log(2) / math.log(4)), abs=1e-3)
    assert float(table.loc[3, "c(K)"]) == pytest.approx(math.sqrt(math.log(4) / math.log(9)), abs=1e-3)


def test_layers_in_network_order():
    names = ["output", "fourier 2", "spectral 10", "lift", "spectral 2", "fourier 1", "spectral 1"]
    assert sorted(names, key=cc.layer_rank) == ["lift", "spectral 1", "fourier 1", "spectral 2",
                                                "fourier 2", "spectral 10", "output"]
    assert cc.plotted_layers(pd.DataFrame({"layer": names})) == ["lift", "spectral 1", "spectral 2",
                                                                 "spectral 10", "output"]


def test_plot_has_a_row_per_parametrization_and_a_column_per_step(coords):
    fig = cc.plot_coords(coords, 1, "mean_abs_delta", first_step=1)
    assert len(fig.axes) == 2 * 2
    assert [ax.get_title() for ax in fig.axes] == ["sp · step 1", "sp · step 2", "mup · step 1",
                                                   "mup · step 2"]
    ax = fig.axes[-1]
    assert ax.get_xscale() == "log" and list(ax.get_xticks()) == [2, 4]
    assert len(ax.get_lines()) >= 4  # lift, spectral 1, spectral 2, output


def test_growth_view_puts_sp_beside_mup():
    rows = [{"dim": 1, "parametrization": p, "step": 3, "layer": layer, "modes": k, "seed": 0,
             "mean_abs_delta": (2.0 if p == "sp" else 1.0) * k ** power}
            for p in ("sp", "mup") for layer, power in (("spectral 1", 0.5), ("lift", 0.0))
            for k in (2, 8)]
    view = cc.growth_view(update_growth(pd.DataFrame(rows)), step=3)
    assert list(view.columns) == ["d", "layer", "K", "SP growth", "μP growth", "SP power of K",
                                  "μP power of K"]
    assert list(view["layer"]) == ["lift", "spectral 1"]
    assert list(view.iloc[1][["SP growth", "μP growth", "SP power of K"]]) == ["2.00", "2.00", "0.500"]
    assert view.iloc[0]["SP growth"] == "1.00"
