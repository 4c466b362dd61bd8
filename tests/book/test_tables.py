"""Tables a reader can read: significant digits, intervals joined, columns named."""

import pandas as pd
import pytest

from mufno_core.book.tables import readable, sig


@pytest.mark.parametrize("x, text", [(0.013511, "0.014"), (1234.5, "1200"), (2.5e-5, "2.5e-05"),
                                     (float("nan"), "–"), (0.0, "0")])
def test_sig_keeps_the_digits_that_mean_something(x, text):
    assert sig(x) == text


def test_readable_joins_intervals_and_names_columns():
    df = pd.DataFrame({"parametrization": ["sp"], "alpha": [-0.1234], "alpha_low": [-0.3],
                       "alpha_high": [0.05], "edge": [False], "ks": [(3, 8)]})
    out = readable(df, ["parametrization", "alpha_interval", "edge", "ks"])
    assert list(out.columns) == ["parametrization", "exponent α [95% CI]", "on grid edge", "K values"]
    assert out.iloc[0].tolist() == ["SP", "−0.12 [−0.30, +0.05]", "no", "3, 8"]  # typographic minus


def test_settings_show_as_words_not_a_dict():
    from mufno_core.book.tables import settings_table

    table = settings_table({"modes_by_dim": {1: [2, 4]}, "width": 8})
    assert table.to_dict("list") == {"setting": ["modes_by_dim", "width"], "value": ["1: 2, 4", "8"]}


def test_an_interval_without_ends_is_said_in_words():
    from mufno_core.book.tables import interval

    assert interval(0.89, float("nan"), float("nan"), signed=True) == "+0.89 (no interval: one seed)"
    assert interval(0.5, 0.25, 0.75) == "0.50 [0.25, 0.75]"
