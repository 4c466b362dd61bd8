"""The theory chapter's tables and figures, from small computed inputs."""

import math

import matplotlib
import pandas as pd
import pytest

from mufno_core import theory
from mufno_core.book import theory_chapter as tc

matplotlib.use("Agg")

CONFIG = {"modes_by_dim": {1: [2, 4, 8], 2: [2, 4]}, "widths": [1, 4], "n_draws": 3}


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return theory.summarize_norms(tc.norm_sweep(CONFIG, seed=0))


def test_norm_sweep_covers_the_preset():
    norms = tc.norm_sweep(CONFIG, seed=0)
    assert len(norms) == (3 + 2) * 2 * 3  # (d, K) × widths × draws
    assert set(zip(norms["dim"], norms["modes"])) == {(1, 2), (1, 4), (1, 8), (2, 2), (2, 4)}


def test_layer_checks_one_row_per_dimension_the_gain_attains_the_block():
    table = tc.layer_checks(seed=0, modes=3, width=2)
    assert list(table["d"]) == ["1", "2", "3"]
    assert list(table.columns[1:]) == list(tc.CHECK_NAMES.values())
    block, top = table.columns[2], table.columns[3]
    assert (table[block] == table[top]).all()  # equal to the 4 digits shown


def test_norm_table_one_row_per_k_a_column_pair_per_width(summary):
    table = tc.norm_table(summary)
    assert list(table.columns) == ["d", "K", "n", "m = 1: measured", "m = 1: exact E max",
                                   "m = 4: measured", "m = 4: upper estimate"]
    assert list(zip(table["d"], table["K"])) == [("1", "2"), ("1", "4"), ("1", "8"), ("2", "2"), ("2", "4")]
    assert list(table["n"]) == ["2", "4", "8", "8", "32"]  # 2^(d-1) K^d
    row = summary[(summary["dim"] == 2) & (summary["modes"] == 4) & (summary["width"] == 4)].iloc[0]
    assert table.loc[4, "m = 4: measured"] == f"{row['norm']:.3f} ± {row['norm_std']:.3f}"
    assert table.loc[4, "m = 4: upper estimate"] == f"{2 * 2 + math.sqrt(math.log(32)):.3f}"


def test_growth_view_names_the_columns_in_words(summary):
    view = tc.growth_view(theory.growth_table(summary))
    assert list(view.columns) == ["d", "m", "K", "growth", "max law", "√n (a sum)", "power of n"]
    assert list(view["√n (a sum)"])[:2] == ["2.00", "2.00"]  # d = 1: n 2 → 8


def test_paper_units_width_one_only(summary):
    units = tc.paper_units(summary)
    assert len(units) == 5
    first = units.iloc[0]
    assert first["sqrt(2 d log K)"] == pytest.approx(math.sqrt(2 * math.log(2)))
    m1 = summary[(summary["width"] == 1)].iloc[0]
    assert first["norm / s"] == pytest.approx(m1["norm"] * math.sqrt(2))


def test_width_slopes_and_transfer_factors():
    slopes = tc.width_slopes(theory.width_sum_growth([16, 256, 4096], n_draws=64, seed=0))
    assert slopes["aligned (update built from the input)"] == pytest.approx(1.0, abs=0.05)
    factors = tc.transfer_factor_table()
    assert list(factors["K*"]) == [6, 12, 16, 24, 512]
    computed, paper = factors["computed η(K*)/η(3)"].astype(float), factors["paper"].astype(float)
    assert (computed - paper).abs().max() <= 0.001
    assert factors["paper"].iloc[0] == "0.783"  # printed as the paper prints it, not 0.783000
    assert tc.slope_table({"aligned": 0.987}).iloc[0].tolist() == ["aligned", "0.99"]


def test_comparison_table_rows(summary):
    growth = theory.growth_table(summary)
    table = tc.comparison_table(summary, growth, {"aligned (x)": 0.99, "random": 0.5})
    assert len(table) == 2 * 4 + 2  # two rows per (d, m), the width sum, Algorithm 1
    assert table.iloc[-1]["measured"] == "0.588"
    assert table.iloc[-2]["measured"] == "0.990"
    assert table.iloc[0]["quantity"] == "d=1, m=1: norm at K=8 / prediction"


def test_figures_have_their_panels_and_lines(summary):
    fig = tc.plot_operator_norms(summary)
    assert [ax.get_title() for ax in fig.axes] == ["d = 1", "d = 2"]
    assert len(fig.axes[0].get_lines()) >= 2 * 2  # prediction and √n per width (+ error bars)
    assert fig.axes[0].get_xscale() == "log"
    fig = tc.plot_paper_units(summary)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["d = 1", "d = 2", "y = x"]
    fig = tc.plot_width_sums(theory.width_sum_growth([4, 16], n_draws=4, seed=0))
    assert len(fig.axes[0].get_lines()) == 2 and fig.axes[0].get_yscale() == "log"
