"""Moved: statistics to :mod:`mufno_core.stats`, optima and the quantities built on them (drift,
α, batch-size/β2 shift) to :mod:`mufno_core.optima`, axes to :mod:`mufno_core.axes`. These names
stay importable from here only while code outside the analysis layer still imports them."""

from __future__ import annotations

import pandas as pd

from mufno_core.axes import HPARAM_AXES, HparamAxis  # noqa: F401
from mufno_core.optima import (  # noqa: F401
    DEFAULT_METRIC,
    THEORY_ALPHA,
    fit_optima,
    fit_optimum,
    hparam_shift,
    locate,
    log_k_eff,
    loss_table,
    lr_drift,
    lr_exponent,
    optimal_hparam_per_k,
    per_k,
)
from mufno_core.optima import optimal_lr_per_k as _optimal_lr_per_k
from mufno_core.stats import bootstrap_se, exponent_interval, slope, student_t  # noqa: F401
from mufno_core.sweep.store import finished_trials as measured  # noqa: F401


def optimal_lr_per_k(df: pd.DataFrame, metric: str = DEFAULT_METRIC, n_boot: int = 1000,
                     seed: int = 0, keep_samples: bool = False, **kwargs) -> pd.DataFrame:
    """:func:`mufno_core.optima.optimal_lr_per_k`; ``keep_samples`` adds ``log10_lr_opt`` and the
    bootstrap samples of log10 lr* (``_samples``, paired across K: :func:`locate`'s)."""
    kwargs.pop("by", None)
    if not keep_samples:
        return _optimal_lr_per_k(df, metric, n_boot=n_boot, seed=seed, **kwargs)
    located = locate(df, "lr", metric, n_boot=n_boot, seed=seed, **kwargs)
    out = _optimal_lr_per_k(df, metric, n_boot=n_boot, seed=seed, **kwargs)
    return out.assign(log10_lr_opt=located["x_opt"].to_numpy(),
                      _samples=list(located["_samples"]))


__all__ = ["DEFAULT_METRIC", "HPARAM_AXES", "HparamAxis", "THEORY_ALPHA", "bootstrap_se",
           "exponent_interval", "fit_optima", "fit_optimum", "hparam_shift", "locate", "log_k_eff",
           "loss_table", "lr_drift", "lr_exponent", "measured", "optimal_hparam_per_k",
           "optimal_lr_per_k", "per_k", "slope", "student_t"]
