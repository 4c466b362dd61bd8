"""One trial, or one stacked group of trials, from its :class:`TrialConfig` to its record.

A :class:`~mufno_core.sweep.config.TrialConfig` builds the objects the core trains with
(:meth:`~mufno_core.sweep.config.TrialConfig.build_model`, ``.train_config``, ``.loss_function``);
the data come from :func:`~mufno_core.sweep.data.load_trial_data`. :func:`run_trial` trains one
trial into a record; :func:`run_group_stacked` trains trials that differ only in (lr, seed, beta2)
as one stacked model (:mod:`mufno_core.stacked`); :func:`run_unit` is the unit of work an executor
(:mod:`mufno_core.sweep.executors`) hands to a worker.

A record holds the config, the history, final train/test loss, ``diverged`` and its step, wall
time, device, package versions and the fingerprint of the data. ``status`` is "ok", "diverged" (an
ordinary outcome at a high LR) or "error" (an exception, with its message); running a trial never
raises for a failing trial.
"""

from __future__ import annotations

import functools
import math
import platform
import socket
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import torch

from mufno_core import __version__, phases
from mufno_core.provenance import code_commit, cpu_capability, cpu_model
from mufno_core.stacked import build_members, train_stacked
from mufno_core.sweep.config import SCHEMA, TrialConfig
from mufno_core.sweep.data import load_trial_data
from mufno_core.sweep.fingerprint import data_fingerprint
from mufno_core.sweep.store import RESULTS_VERSION
from mufno_core.sweep.validate import check_device
from mufno_core.train import History, train


# --- the device ------------------------------------------------------------------------------------
def resolve_device(device: str | None) -> str:
    """"auto" (or None) picks CUDA when available; anything else is checked (an unknown device
    or one this machine lacks is a one-line ValueError) and returned."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return check_device(device)


# --- records ---------------------------------------------------------------------------------------
def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@functools.lru_cache(maxsize=1)
def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return platform.processor() or platform.machine() or "cpu"


def _base_record(config: TrialConfig, device: str) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "trial_id": config.trial_id(),
        "config": config.to_dict(),
        "status": "error",
        "results_version": RESULTS_VERSION,
        "data_fingerprint": None,
        "device": device,
        "device_name": _device_name(device),
        "cpu_model": cpu_model(),
        "cpu_capability": cpu_capability(),
        "host": socket.gethostname(),
        "version": __version__,
        "torch_version": torch.__version__,
        "code_commit": code_commit(),
        "torch_threads": torch.get_num_threads(),
        "started_at": _now(),
    }


def error_record(config: TrialConfig, device: str, message: str) -> dict[str, Any]:
    """The record of a trial that raised (out of memory, a bad input, a lost worker, …)."""
    record = _base_record(config, device)
    record.update(status="error", error=message, diverged=False, final_train_loss=math.nan,
                  final_test_loss=math.nan, finished_at=_now())
    return record


def _finish_record(record: dict[str, Any], history: History, wall_time: float,
                   stacked: bool = False) -> dict[str, Any]:
    h = history.to_dict()
    record.update(
        status="diverged" if history.diverged else "ok",
        final_train_loss=history.final_train_loss,
        final_test_loss=history.final_test_loss,
        diverged=history.diverged,
        diverged_step=history.diverged_step,
        steps_done=history.steps_done,
        steps_per_second=history.steps_per_second,
        n_parameters=history.n_parameters,
        train_time=history.wall_time,
        wall_time=wall_time,
        stacked=stacked,
        history={k: h[k] for k in ("step", "train_loss", "test_loss")},
        finished_at=_now(),
    )
    return record


def _release_gpu_memory(device: str | None) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.empty_cache()


# --- running ---------------------------------------------------------------------------------------
def run_trial(config: TrialConfig, data_dir: str = "data", device: str | None = "cpu",
              num_threads: int | None = None) -> dict[str, Any]:
    """Train one trial and return its record (never raises for a failing trial)."""
    if num_threads:
        torch.set_num_threads(num_threads)
    device = resolve_device(device)
    record = _base_record(config, device)
    start = time.perf_counter()
    try:
        data = load_trial_data(config, data_dir, device)
        record["data_fingerprint"] = data_fingerprint(config, data_dir)
        torch.manual_seed(config.seed)
        model = config.build_model(device)
        phases.reach("train")
        history = train(model, (data.x_train, data.y_train), (data.x_test, data.y_test),
                        config.train_config(), decode=data.decode,
                        loss_fn=config.loss_function(data.decode, data.decode_input),
                        progress=False)
    except Exception as err:  # one bad trial must not end the sweep
        record.update(error_record(config, device, f"{type(err).__name__}: {err}"))
        record["traceback"] = traceback.format_exc(limit=6)
        _release_gpu_memory(device)
        return record
    return _finish_record(record, history, time.perf_counter() - start)


def run_group_stacked(configs: Sequence[TrialConfig], data_dir: str = "data",
                      device: str | None = "cpu") -> list[dict[str, Any]]:
    """Trials sharing everything but :data:`~mufno_core.settings.MEMBER_FIELDS` (lr, seed, Adam's
    settings and weight decay), trained as one stacked model."""
    device = resolve_device(device)
    first = configs[0]
    start = time.perf_counter()
    data = load_trial_data(first, data_dir, device)
    models = build_members(lambda: first.build_model(device), [c.seed for c in configs])
    phases.reach("train")
    histories = train_stacked(models, (data.x_train, data.y_train),
                              (data.x_test, data.y_test), [c.train_config() for c in configs],
                              decode=data.decode, progress=False,
                              loss_fn=first.loss_function(data.decode, data.decode_input))
    wall = (time.perf_counter() - start) / len(configs)
    fingerprint = data_fingerprint(first, data_dir)
    return [_finish_record({**_base_record(c, device), "data_fingerprint": fingerprint}, h, wall,
                           stacked=True)
            for c, h in zip(configs, histories)]


def run_stacked_or_split(configs: Sequence[TrialConfig], data_dir: str = "data",
                         device: str | None = "cpu") -> list[dict[str, Any]]:
    """:func:`run_group_stacked`, halving the group on out-of-memory (one member: :func:`run_trial`);
    on any other error the group runs one by one (each trial records its own error)."""
    if len(configs) == 1:
        return [run_trial(configs[0], data_dir, device)]
    try:
        return run_group_stacked(configs, data_dir, device)
    except torch.OutOfMemoryError:
        _release_gpu_memory(device)
        half = len(configs) // 2
        print(f"stacked group of {len(configs)} ran out of memory: splitting it in two",
              file=sys.stderr, flush=True)
        return (run_stacked_or_split(configs[:half], data_dir, device)
                + run_stacked_or_split(configs[half:], data_dir, device))
    except Exception:  # the trials still run, one by one, and record their own errors
        traceback.print_exc()
        _release_gpu_memory(device)
        return [run_trial(c, data_dir, device) for c in configs]


def run_unit(configs: Sequence[TrialConfig], data_dir: str = "data", device: str | None = "cpu",
             num_threads: int | None = None, stack: bool = False) -> list[dict[str, Any]]:
    """One unit of work for an executor: its trials one by one, or (``stack``, more than one
    trial) as a stacked group (:func:`run_stacked_or_split`). The trials of a stacked unit must
    differ only in (lr, seed, beta2) (:func:`~mufno_core.sweep.executors.group_trials`)."""
    if num_threads:
        torch.set_num_threads(num_threads)
    if stack and len(configs) > 1:
        return run_stacked_or_split(configs, data_dir, device)
    return [run_trial(c, data_dir, device) for c in configs]
