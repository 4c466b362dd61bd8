"""The PINO chapter's physics-loss floor and μP spread."""

import pandas as pd
import pytest

from mufno_core.book import pino_chapter
from mufno_core.sweep import grid


@pytest.mark.slow  # generates the smoke PINO data set
def test_the_coarse_discrete_solution_has_no_physics_loss_the_data_some(tmp_path):
    floor = pino_chapter.pde_floor(grid("pino_darcy", "smoke")[0], str(tmp_path))
    assert list(floor.index) == ["grid (nodes per side)", "PDE loss of the data u",
                                 "PDE loss of the coarse discrete solution", "rel. L2 between the two"]
    assert floor.iloc[2] < 1e-8 < floor.iloc[1]  # the discrete equation holds exactly on its own grid
    assert 0 < floor.iloc[3] < 0.5
    sentence = pino_chapter.floor_sentence(floor)
    assert f"{floor.iloc[1]:.2g}" in sentence and f"{floor.iloc[3]:.1%}" in sentence


def test_mup_spread_over_k():
    optima = pd.DataFrame({"parametrization": ["mup", "mup", "sp"], "modes": [4, 2, 2],
                           "lr_opt": [4e-3, 2e-3, 9e-3]})
    line = pino_chapter.mup_spread(optima)
    assert line.startswith("μP optimum: 2.0e-03 … 4.0e-03 over K [2, 4] (spread 2.00×); the paper: ")
    with pytest.raises(KeyError):
        pino_chapter.mup_spread(optima, "no_such_experiment")


def test_the_pde_floor_shows_as_a_table():
    import pandas as pd

    from mufno_core.book.pino_chapter import floor_table

    table = floor_table(pd.Series({"grid (nodes per side)": 29.0, "rel. L2 between the two": 0.0169445}))
    assert table["value"].tolist() == ["29", "0.0169"]
