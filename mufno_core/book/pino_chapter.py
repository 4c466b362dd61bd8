"""The PINO chapter's own measurements beside its LR sweep (:class:`~mufno_core.book.chapter.LRChapter`):
how small the physics loss can be on the data's grid, and how far μP's optimum spreads over K.

    floor = pde_floor(grid("pino_darcy", "quick")[0]); print(floor_sentence(floor))
"""

from __future__ import annotations

import pandas as pd
import torch

from mufno_core.analysis.paper import PAPER
from mufno_core.losses import darcy_pde_loss, relative_l2
from mufno_core.pde import darcy
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.data import load_trial_data


def pde_floor(config: TrialConfig, data_dir: str = "data") -> pd.Series:
    """On the test set of ``config``'s data: the physics loss of the stored solution u (solved on
    a finer grid, then subsampled), that of the discrete solution solved on this grid, and the
    relative L2 distance between the two (paper: PINO's loss = data + PDE residual)."""
    data = load_trial_data(config, data_dir)
    a = data.decode_input(data.x_test)[:, 0] if data.decode_input else data.x_test[:, 0]
    u = data.decode(data.y_test)[:, 0] if data.decode else data.y_test[:, 0]
    coarse = torch.from_numpy(darcy.solve(a.double().numpy(), 1.0))
    return pd.Series({
        "grid (nodes per side)": a.shape[-1],
        "PDE loss of the data u": darcy_pde_loss(u.double(), a.double()).item(),
        "PDE loss of the coarse discrete solution": darcy_pde_loss(coarse, a.double()).item(),
        "rel. L2 between the two": relative_l2(coarse, u.double()).item(),
    }, name="test set")


def floor_table(floor: pd.Series) -> pd.DataFrame:
    """:func:`pde_floor` as a two-column table (quantity, value)."""
    return pd.DataFrame({"on the test set": list(floor.index),
                         "value": [f"{int(v)}" if float(v).is_integer() else f"{v:.3g}" for v in floor]})


def floor_sentence(floor: pd.Series) -> str:
    """What :func:`pde_floor` means for the two terms of the loss, in one sentence."""
    return (f"On this grid the exact solution leaves a PDE loss of {floor.iloc[1]:.2g}, while the "
            f"coarse discrete solution, {floor.iloc[3]:.1%} away from the data, has none: the physics "
            "term and the data term pull towards slightly different targets.")


def mup_spread(optima: pd.DataFrame, experiment: str = "pino_darcy") -> str:
    """μP's located optimum over K (``optima``: an LR chapter's per-K table), its spread, and the
    paper's value beside it."""
    mup = optima[optima["parametrization"] == "mup"]
    low, high = mup["lr_opt"].min(), mup["lr_opt"].max()
    return (f"μP optimum: {low:.1e} … {high:.1e} over K {sorted(int(k) for k in mup['modes'])} "
            f"(spread {high / low:.2f}×); the paper: {PAPER[experiment]['mup']} (width 64, its own "
            "budget: the absolute value is not expected to match at this preset).")
