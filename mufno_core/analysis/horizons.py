"""The optimum as a function of training length, read from the same runs.

A run at a constant learning rate is, up to step h, the run of h steps: the same batches (drawn from
the seed), the same updates, and evaluating draws no random numbers. So a trial that logs its losses
every few steps (``eval_every``) holds the result of a shorter trial at every logged step: the test
loss the h-step run ends with, and the training loss averaged over the steps since the previous log
(with ``eval_every`` 10 that is what a 100-step run of the quick preset records as its final
training loss). :func:`at_horizon` reads records as if every trial had ended at step h: a trial that
diverged at step h or before is diverged there, one that diverged later is an ordinary result.

One :func:`~mufno_core.analysis.optima.locate` over every horizon (``horizon`` is a grouping key)
gives each horizon's optima, and :func:`~mufno_core.analysis.optima.exponent` its α; an optimum on
the LR grid's edge at a horizon is not located there, never a value. Every group draws the same
seed resamples, so α is paired across horizons and across weight decays (the same seeds train every
curve): :func:`exponent_change` is the difference of two rows' α with the interval of the paired
differences. :func:`horizon_verdicts` says in words, per horizon, what SP against μP decides
(:func:`~mufno_core.analysis.verdicts.exponent_verdict`) and what weight decay changes in μP's α.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mufno_core.analysis.optima import DEFAULT_METRIC, exponent, locate
from mufno_core.analysis.verdicts import ROUND_OFF_ALPHA, exponent_sentence, exponent_verdict
from mufno_core.stats import compare, exponent_interval
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.store import (
    FRAME_ORDER,
    iter_records,
    mirror_base_trials,
    records_to_frame,
    typed_columns,
)

BY = ("experiment", "parametrization", "weight_decay_mode", "weight_decay")
"""What tells the curves of a horizon study apart (besides K and the horizon)."""

WEIGHT_DECAY_WORDS = {"l2": "L2", "adamw": "AdamW-coupled", "independent": "independent"}
"""A weight-decay coupling (:data:`~mufno_core.mup.WEIGHT_DECAY_MODES`) in a label."""


# --- records read at a horizon -----------------------------------------------------------------------
def logged_steps(records: Iterable[dict[str, Any]]) -> tuple[int, ...]:
    """The steps at which every finished, non-diverged trial of ``records`` logged its losses."""
    common: set[int] | None = None
    for r in records:
        if r.get("status") != "ok" or not r.get("history"):
            continue
        steps = set(int(s) for s in r["history"]["step"])
        common = steps if common is None else common & steps
    return tuple(sorted(common or ()))


def record_at_horizon(record: dict[str, Any], horizon: int) -> dict[str, Any]:
    """``record`` as if its trial had ended at step ``horizon`` (a copy; an "error" record as it is).

    ValueError when the trial neither logged that step nor diverged before it.
    """
    if record.get("status") not in ("ok", "diverged"):
        return record
    history = record.get("history") or {"step": [], "train_loss": [], "test_loss": []}
    steps = [int(s) for s in history["step"]]
    if horizon in steps:
        i = steps.index(horizon)
        return {**record, "status": "ok", "diverged": False, "diverged_step": None,
                "final_train_loss": history["train_loss"][i],
                "final_test_loss": history["test_loss"][i]}
    if record.get("diverged") and record.get("diverged_step") is not None \
            and int(record["diverged_step"]) <= horizon:
        return {**record, "final_train_loss": math.nan, "final_test_loss": math.nan}
    raise ValueError(f"trial {record['trial_id']} logged no loss at step {horizon} (it logged "
                     f"{len(steps)} steps, the last {steps[-1] if steps else None}); read it at a "
                     "logged step (logged_steps)")


def at_horizon(records: Sequence[dict[str, Any]], horizon: int) -> pd.DataFrame:
    """The results frame (:func:`~mufno_core.sweep.store.records_to_frame`) of ``records`` read at
    step ``horizon``, with a ``horizon`` column."""
    frame = records_to_frame([record_at_horizon(r, horizon) for r in records])
    return frame.assign(horizon=int(horizon))


def read_records(path: str | Path, experiment: str | None = None,
                 ids: set[str] | None = None) -> list[dict[str, Any]]:
    """The records under ``path`` (or its folder ``experiment``), only the trials ``ids`` when
    given, with the μP records at the base K that the SP trials stand for
    (:func:`~mufno_core.sweep.store.mirror_base_trials`)."""
    path = Path(path) / experiment if experiment else Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no results at {path}")
    records = [r for r in iter_records(path) if ids is None or r["trial_id"] in ids]
    return mirror_base_trials(records)


OUTCOME_COLUMNS = ("status", "final_train_loss", "final_test_loss", "diverged", "diverged_step")
"""The columns :func:`record_at_horizon` can change (the rest of a record is the same at every step)."""


def horizon_frame(records: Sequence[dict[str, Any]], horizons: Sequence[int]) -> pd.DataFrame:
    """:func:`at_horizon` of ``records`` at every horizon, one frame (the ``horizon`` column apart).

    The frame of the records is built once; each horizon replaces only its :data:`OUTCOME_COLUMNS`
    (the same frame as concatenating :func:`at_horizon` at each horizon, in a fraction of the time).
    """
    if not horizons:
        raise ValueError("no horizon to read the records at")
    records = list(records)
    unsorted = records_to_frame(records, sort=False)
    order = unsorted.sort_values(list(FRAME_ORDER), kind="stable").index.to_numpy()
    at = [record_at_horizon(records[i], h) for h in horizons for i in order]
    outcome = typed_columns(pd.DataFrame({c: [r.get(c) for r in at] for c in OUTCOME_COLUMNS}))
    frame = unsorted.iloc[np.tile(order, len(horizons))].reset_index(drop=True)
    frame = frame.assign(**{c: outcome[c].to_numpy() for c in OUTCOME_COLUMNS},
                         horizon=np.repeat(np.asarray(horizons, dtype=int), len(records)))
    defaults = {c: TrialConfig.__dataclass_fields__[c].default for c in BY
                if c in TrialConfig.__dataclass_fields__ and c in frame.columns}
    return frame.fillna(defaults)  # a record written before a field existed holds its default


# --- α per horizon -----------------------------------------------------------------------------------
def _by(frame: pd.DataFrame, by: Sequence[str]) -> list[str]:
    return [c for c in (*by, "horizon") if c in frame.columns]


def locate_horizons(frame: pd.DataFrame, metric: str = DEFAULT_METRIC, by: Sequence[str] = BY,
                    n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """:func:`~mufno_core.analysis.optima.locate` of the LR over every (``by`` keys, horizon)
    curve of :func:`horizon_frame`'s ``frame``."""
    return locate(frame, "lr", metric, _by(frame, by), n_boot=n_boot, seed=seed)


def horizon_exponents(frame: pd.DataFrame, metric: str = DEFAULT_METRIC, by: Sequence[str] = BY,
                      n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """α of lr*(K) ∝ (log K_eff)^α per (``by`` keys, horizon), with its paired seed interval and
    ``edge`` (an optimum on the LR grid's edge: α not located); a ``label`` column names the curve
    (:func:`variant_label`)."""
    located = locate_horizons(frame, metric, by, n_boot, seed)
    out = exponent(located, level)
    return out.assign(label=[variant_label(r) for r in out.to_dict("records")])


def has_weight_decay(row: dict[str, Any] | Any) -> bool:
    """Whether a curve trains with weight decay (λ > 0)."""
    value = row.get("weight_decay", 0.0) if isinstance(row, dict) else getattr(row, "weight_decay", 0.0)
    return bool(value) and not (isinstance(value, float) and math.isnan(value)) and value > 0


def variant_label(row: dict[str, Any] | Any) -> str:
    """"SP", "μP", "μP + independent WD 0.01", …"""
    get = row.get if isinstance(row, dict) else lambda k, d=None: getattr(row, k, d)
    name = {"sp": "SP", "mup": "μP"}.get(get("parametrization"), str(get("parametrization")))
    if not has_weight_decay(row):
        return name
    mode = WEIGHT_DECAY_WORDS.get(get("weight_decay_mode"), str(get("weight_decay_mode")))
    return f"{name} + {mode} WD {get('weight_decay'):g}"


def exponent_change(rows: pd.DataFrame, first: Any, second: Any, level: float = 0.95) -> dict:
    """α of row ``second`` minus α of row ``first`` (index labels of :func:`horizon_exponents`), with
    the interval of the paired bootstrap differences (the same seeds and the same draws train and
    resample both); ``located`` False when either α is not (an optimum on the grid's edge)."""
    a, b = rows.loc[first], rows.loc[second]
    n_seeds = int(min(a["n_seeds"], b["n_seeds"]))
    located = not (a["edge"] or b["edge"] or a["no_evidence"] or b["no_evidence"])
    out = exponent_interval("change", float(b["alpha"] - a["alpha"]),
                            np.asarray(b["_samples"]) - np.asarray(a["_samples"]), n_seeds,
                            math.nan, 0.0, level)
    side = compare(out["change_low"], out["change_high"], 0.0, ROUND_OFF_ALPHA).side
    return {**out, "side": side if located else "not located", "located": located}


# --- verdicts per horizon ----------------------------------------------------------------------------
def _rows_at(exponents: pd.DataFrame, horizon: int, experiment: str | None) -> pd.DataFrame:
    part = exponents[exponents["horizon"] == horizon]
    return part if experiment is None else part[part["experiment"] == experiment]


def sp_mup_verdict(exponents: pd.DataFrame, horizon: int, experiment: str | None = None):
    """:func:`~mufno_core.analysis.verdicts.exponent_verdict` of SP and μP without weight decay at
    ``horizon``."""
    part = _rows_at(exponents, horizon, experiment)
    plain = part[[not has_weight_decay(r) for r in part.to_dict("records")]]
    return exponent_verdict(plain)


def weight_decay_sentence(exponents: pd.DataFrame, horizon: int,
                          experiment: str | None = None) -> list[str]:
    """What each weight decay does to μP's α at ``horizon``: its α in words and the paired change
    against μP without weight decay."""
    part = _rows_at(exponents, horizon, experiment)
    mup = [i for i, r in part.iterrows() if r["parametrization"] == "mup" and not has_weight_decay(r)]
    out = []
    for i, r in part.iterrows():
        if r["parametrization"] != "mup" or not has_weight_decay(r):
            continue
        if not math.isfinite(r["alpha"]):
            out.append(f"{r['label']}: no α (its trials are not all stored)")
            continue
        alpha = exponent_sentence(r).replace("μP", r["label"], 1)
        if not mup:
            out.append(alpha)
            continue
        change = exponent_change(part, mup[0], i)
        shift = f"Δα against μP {change['change']:+.2f} [{change['change_low']:+.2f}, " \
                f"{change['change_high']:+.2f}]"
        towards = (change["change"] > 0) == (part.loc[mup[0], "alpha"] < 0)
        words = {"not located": "not located (an optimum on the LR grid's edge)",
                 "holds": "no resolvable change",
                 "borderline": f"an end within round-off (±{ROUND_OFF_ALPHA:.2f}) of 0: borderline",
                 "unknown": "no interval"}.get(
            change["side"], "resolvably towards 0" if towards else "resolvably away from 0")
        out.append(f"{alpha}; {shift}: {words}")
    return out


def weight_decay_optimum_sentence(losses: pd.DataFrame) -> str:
    """Weight decay's own optimum on its grid, per coupling: per K, the λ of μP whose located LR
    optimum has the lowest seed-mean loss (``losses``: ``parametrization``, ``weight_decay``,
    ``weight_decay_mode``, ``K``, ``loss`` per curve, as the chapter's optimum table gives them; μP
    without decay is λ = 0 of every coupling). λ cannot go below 0, so a best λ of 0 is located on
    the grid's natural end; the largest λ tried is its edge."""
    mup = losses[losses["parametrization"] == "mup"].reset_index(drop=True)
    if mup.empty:
        return "no μP curve stored"
    decayed = mup["weight_decay"] > 0
    modes = mup["weight_decay_mode"] if "weight_decay_mode" in mup else pd.Series("", index=mup.index)
    couplings = sorted(set(modes[decayed].fillna("")))
    if not couplings:
        return "weight decay not swept (λ ∈ {0})"
    return "; ".join(_optimum_over_lambda(mup[~decayed | (modes == mode)],
                                          WEIGHT_DECAY_WORDS.get(mode, mode))
                     for mode in couplings)


def _optimum_over_lambda(mup: pd.DataFrame, coupling: str) -> str:
    grid = sorted(mup["weight_decay"].unique())
    best = {int(k): float(part.loc[part["loss"].idxmin(), "weight_decay"])
            for k, part in mup.dropna(subset=["loss"]).groupby("K")}
    tried = ", ".join(f"{lam:g}" for lam in grid)
    name = f"{coupling} weight decay's optimum".strip()
    if len(set(best.values())) == 1:
        lam = next(iter(best.values()))
        where = ("λ = 0 (no decay) at every K" if lam == 0 else
                 f"λ = {lam:g}, the grid's largest: not located" if lam == grid[-1] else
                 f"λ = {lam:g}, inside the grid")
        return f"{name} over λ ∈ {{{tried}}} (lowest seed-mean loss at the LR optimum) is {where}"
    return f"{name} over λ ∈ {{{tried}}} differs with K: " + ", ".join(
        f"λ = {lam:g} at K = {k}" for k, lam in sorted(best.items()))


def horizon_verdicts(exponents: pd.DataFrame, experiment: str | None = None) -> pd.DataFrame:
    """One row per horizon: the SP-vs-μP verdict's ``label`` and ``headline``, its ``details``, and
    what weight decay does to μP's α (``weight_decay``, sentences)."""
    rows = []
    for h in sorted(exponents["horizon"].unique()):
        verdict = sp_mup_verdict(exponents, h, experiment)
        rows.append({"horizon": int(h), "label": verdict.label, "headline": verdict.headline,
                     "details": " ".join(f"{d}." for d in verdict.details),
                     "weight_decay": " ".join(f"{s}." for s in
                                              weight_decay_sentence(exponents, h, experiment))})
    return pd.DataFrame(rows)


def horizon_trend(exponents: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    """Per curve (``label`` and experiment), α at horizon ``last`` minus α at ``first``, paired:
    columns ``experiment``, ``label``, ``alpha_first``, ``alpha_last``, ``change``, ``change_low``,
    ``change_high``, ``side`` ("below": α falls resolvably with training length, "above": rises,
    "holds", "borderline", "not located")."""
    rows = []
    keys = [c for c in ("experiment", "label") if c in exponents.columns]
    for key, part in exponents.groupby(keys, sort=False):
        by_h = {int(h): i for i, h in part["horizon"].items()}
        if first not in by_h or last not in by_h:
            continue
        change = exponent_change(exponents, by_h[first], by_h[last])
        rows.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,))),
                     "alpha_first": exponents.loc[by_h[first], "alpha"],
                     "alpha_last": exponents.loc[by_h[last], "alpha"],
                     **{k: change[k] for k in ("change", "change_low", "change_high", "side")}})
    return pd.DataFrame(rows)
