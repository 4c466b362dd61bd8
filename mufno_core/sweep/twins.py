"""A trial that computes exactly what a stored trial computed takes that record instead of training.

Two kinds of twin are the same computation by construction:

* **μP and the calibrated rule at their base K₀ are SP.** μP's factors are ratios to K₀ and the
  calibrated rule's are c(K₀) = (log K₀ / log K₀)^β = 1 with SP's b, so model, initialisation and
  Adam steps are SP's, float for float.
* **An experiment that repeats another's trials** (:attr:`~mufno_core.sweep.experiments.Experiment.
  same_trials_as`): the β2 sweep at Adam's default β2 0.999 and LR 1e-2 runs darcy_lr's trial of
  the same settings; only the experiment's name differs, and no computation reads it.

In the committed quick store the 232 calibrated trials at K₀ and the 24 β2 trials at 0.999 equal
their twins bit for bit (final losses and loss histories), 256 of the quick book's 2,840 trials. A
copy keeps its twin's losses, history and wall time (the cost of the computation, paid once) and
names it in ``twin_of``; it counts as a stored trial, and ``verify`` reruns it as its own config.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.experiments import EXPERIMENTS
from mufno_core.sweep.fingerprint import data_fingerprint
from mufno_core.sweep.store import ResultsStore, read_record, record_is_current

SP_AT_BASE_K = ("mup", "cal")
"""Parametrizations that are SP at their base K₀."""


def twin_configs(config: TrialConfig) -> list[TrialConfig]:
    """The trials whose record stands for ``config``, nearest first: SP at K₀ (for μP and the
    calibrated rule there), then the same trials in the experiment ``config``'s repeats."""
    twins = []
    if config.parametrization in SP_AT_BASE_K and config.at_base_modes():
        twins.append(config.with_(parametrization="sp", cal_exponent=None))
    experiment = EXPERIMENTS.get(config.experiment)
    if experiment is not None and experiment.same_trials_as:
        twins += [c.with_(experiment=experiment.same_trials_as) for c in (config, *twins)]
    return twins


def twin_records(configs: Iterable[TrialConfig], store: ResultsStore,
                 data_dir: str = "data") -> dict[str, dict[str, Any]]:
    """For each of ``configs`` with a current twin record in the store's root: its trial id → that
    record (finished, of this code's results version, made on the data file now in place)."""
    found: dict[str, dict[str, Any]] = {}
    for config in configs:
        for twin in twin_configs(config):
            path = ResultsStore(store.root, twin.experiment).path(twin.trial_id())
            if not path.is_file():
                continue
            try:
                record = read_record(path)
            except ValueError:
                continue
            if record_is_current(record, data_fingerprint(config, data_dir)):
                found[config.trial_id()] = record
                break
    return found


def without_twins(todo: list[TrialConfig], store: ResultsStore, data_dir: str = "data"
                  ) -> tuple[list[TrialConfig], dict[str, dict[str, Any]]]:
    """The trials of ``todo`` still to train, and the twin records of the others
    (:func:`twin_records`)."""
    twins = twin_records(todo, store, data_dir)
    return [c for c in todo if c.trial_id() not in twins], twins


def copy_of(config: TrialConfig, twin: dict[str, Any]) -> dict[str, Any]:
    """The record of ``config`` made from its twin's record (``twin_of``: ``experiment/trial_id``)."""
    return {**twin, "config": config.to_dict(), "trial_id": config.trial_id(),
            "twin_of": f"{twin['config']['experiment']}/{twin['trial_id']}"}
