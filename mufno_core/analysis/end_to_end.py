"""End to end: tune the large model directly, or tune a small proxy and μTransfer (paper Table 1).

Both procedures are read off one LR sweep (parametrization × K × LR × seed) of the results store:

* **direct tuning**: every LR of the grid is trained at the target K* (the largest K of the sweep);
  the best grid LR wins, and its runs are the final model. Cost: all those runs.
* **μTransfer-FNO** (Algorithm 1): every LR is trained at the proxy K (the smallest K) under μP;
  the best grid LR is used, unchanged, as the base LR of the μP model at K* — μP's c(K) applies
  the factor sqrt(log K_proxy / log K*) to the spectral weights, which is Algorithm 1. Cost: the
  proxy sweep plus the final runs at K*.

The best LR is the grid point with the lowest seed-mean log-loss (diverged runs count as failures,
as in :mod:`mufno_core.analysis.optima`); the test error is the seed mean ± std at that LR. Cost is
measured twice: the wall time the runs took, and their FLOPs
(:func:`~mufno_core.sweep.budget.step_flops`), since wall times of small runs on a shared CPU are
noisy.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mufno_core.analysis.optima import DEFAULT_METRIC, NoEvidence, loss_table
from mufno_core.axes import display_name
from mufno_core.sweep.budget import step_flops
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.data import load_trial_data
from mufno_core.sweep.store import finished_trials


def row_config(row) -> TrialConfig:
    """The :class:`TrialConfig` of one row of a results frame."""
    fields = TrialConfig.__dataclass_fields__
    return TrialConfig(**{name: _plain(getattr(row, name)) for name in fields if hasattr(row, name)})


def run_flops(rows: pd.DataFrame, grid: tuple[int, ...]) -> float:
    """FLOPs of the runs in ``rows``: per-step FLOPs × steps actually done."""
    return float(sum(step_flops(row_config(r), grid) * (0.0 if pd.isna(r.steps_done) else float(r.steps_done))
                     for r in rows.itertuples()))


def best_grid_lr(rows: pd.DataFrame, metric: str = DEFAULT_METRIC) -> float:
    """The grid LR with the lowest seed-mean log-loss (failures penalised)."""
    if rows.empty:
        raise ValueError("no trials to choose an LR from")
    table = loss_table(rows, "lr", metric)
    return float(table.index[int(np.nanargmin(table.mean(axis=1).to_numpy()))])


def _outcome(method: str, lr: float, final: pd.DataFrame, tuning: pd.DataFrame,
             grid: tuple[int, ...]) -> dict:
    losses = final["final_test_loss"].astype(float)
    diverged = int(final["diverged"].astype(bool).sum())
    return {
        "method": method, "K": int(final["modes"].iloc[0]), "lr": lr,
        "test_rel_l2_mean": float(losses.mean()), "test_rel_l2_std": float(losses.std(ddof=1))
        if len(losses) > 1 else math.nan, "final_diverged": diverged, "runs": len(tuning),
        "wall_time_s": float(tuning["wall_time"].astype(float).sum()),
        "flops": run_flops(tuning, grid),
    }


def end_to_end(
    df: pd.DataFrame,
    grid: tuple[int, ...],
    proxy_k: int | None = None,
    target_k: int | None = None,
    direct_parametrization: str = "mup",
    metric: str = DEFAULT_METRIC,
) -> pd.DataFrame:
    """Direct tuning at K* against μTransfer from K_proxy, from one LR sweep ``df``.

    ``grid`` is the spatial grid of one input sample (the FLOP count needs it). Returns one row
    per method: the LR chosen, the test error of the final model (seed mean and std), the runs
    that were paid for, their wall time and FLOPs, and both costs relative to direct tuning.
    """
    df = finished_trials(df)
    if df.empty:
        raise NoEvidence("no finished trial (ok or diverged) to tune from")
    ks = sorted(df["modes"].unique())
    proxy_k = int(proxy_k if proxy_k is not None else ks[0])
    target_k = int(target_k if target_k is not None else ks[-1])
    if proxy_k >= target_k:
        raise ValueError(f"the proxy K ({proxy_k}) must be smaller than the target K ({target_k})")

    def rows(parametrization: str, k: int) -> pd.DataFrame:
        part = df[(df["parametrization"] == parametrization) & (df["modes"] == k)]
        if part.empty:
            raise ValueError(f"the sweep has no {parametrization} trials at K={k}")
        return part

    direct = rows(direct_parametrization, target_k)
    lr_direct = best_grid_lr(direct, metric)
    proxy = rows("mup", proxy_k)
    lr_proxy = best_grid_lr(proxy, metric)
    target = rows("mup", target_k)
    final = target[np.isclose(target["lr"], lr_proxy)]
    if final.empty:
        raise ValueError(f"the sweep has no μP run at K={target_k} with the proxy's LR {lr_proxy:g}")
    table = pd.DataFrame([
        _outcome(f"direct tuning at K={target_k} ({display_name(direct_parametrization)})", lr_direct,
                 direct[np.isclose(direct["lr"], lr_direct)], direct, grid),
        _outcome(f"μTransfer from K={proxy_k}", lr_proxy, final, pd.concat([proxy, final]), grid),
    ]).set_index("method")
    table["cost_wall_vs_direct"] = table["wall_time_s"] / table["wall_time_s"].iloc[0]
    table["cost_flops_vs_direct"] = table["flops"] / table["flops"].iloc[0]
    return table


def sample_grid(df: pd.DataFrame, data_dir: str = "data") -> tuple[int, ...]:
    """The spatial grid of one input sample of the sweep's data set (loaded as the trials load it)."""
    config = row_config(next(df.itertuples()))
    return tuple(int(n) for n in load_trial_data(config, data_dir).x_train.shape[2:])


def _plain(value):
    """pandas/numpy scalars (and NaN for None) back to plain Python values."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value
