"""Running trials: one trial in-process (:func:`run_trial`), and a sweep on an executor.

Executors: ``"inline"`` (this process, one trial after the other), ``"process"`` (a local pool of
spawned processes, one torch thread each) and ``"dask"`` (a Dask distributed cluster: an existing
scheduler address, or a LocalCluster on 127.0.0.1 started here). Whatever the executor, the driver
writes each record to the store as soon as its trial completes, so killing the sweep loses only
the trials in flight and rerunning it skips every finished trial. Dask is imported only when used.

Before the first trial the whole sweep is validated (:func:`~mufno_core.sweep.validate.validate_trials`:
device, data files, K against the grid, sample counts, batch size), so a setting that cannot work
ends in one line per problem with nothing trained. A record is reused only when it is current: the
same :data:`~mufno_core.sweep.store.RESULTS_VERSION` and the same data (``data_fingerprint``).
SIGTERM (and Ctrl-C) stop the sweep, its pool and its workers; :class:`SweepInterrupted` carries the
signal. A process-pool worker that dies has its unfinished trials retried once in a fresh pool.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import multiprocessing
import os
import platform
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import torch

from mufno_core.mup import spectral_layers
from mufno_core.provenance import code_commit
from mufno_core.sweep.config import SCHEMA, TrialConfig
from mufno_core.sweep.data import TrialData, load_trial_data, prepare_datasets
from mufno_core.sweep.fingerprint import data_fingerprint
from mufno_core.sweep.malloc import keep_freed_memory
from mufno_core.sweep.store import DONE_STATUSES, RESULTS_VERSION, ResultsStore
from mufno_core.sweep.validate import check_device, validate_trials

ExecutorName = Literal["inline", "process", "dask"]
EXECUTORS: tuple[str, ...] = ("inline", "process", "dask")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def resolve_device(device: str | None) -> str:
    """"auto" (or None) picks CUDA when available; anything else is checked (an unknown device
    or one this machine lacks is a one-line ValueError) and returned."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return check_device(device)


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo "model name"; else platform.processor())."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return platform.processor() or platform.machine() or "cpu"


def _base_record(config: TrialConfig, device: str) -> dict[str, Any]:
    from mufno_core import __version__

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


def build_model(config: TrialConfig, device: str) -> torch.nn.Module:
    """The FNO of a trial (wrapped in PINO's mollifier when the trial has a physics loss)."""
    from mufno_core.model import FNO

    model: torch.nn.Module = FNO(
        config.dim, config.in_channels, config.out_channels, config.modes_per_axis(),
        width=config.width, depth=config.depth, parametrization=config.parametrization,
        base_modes=config.base_modes_per_axis(),
        init_scale=config.init_scale, device=device)
    if config.pde_weight > 0:
        from mufno_core.pino import Mollified

        model = Mollified(model, config.mollifier_scale)
    if config.other_lr is not None:  # the trainer's LR is other_lr; the spectral layers get lr
        for layer in spectral_layers(model):
            layer.lr_factor *= config.lr / config.other_lr
    return model


def train_config(config: TrialConfig):
    """The trainer's :class:`~mufno_core.train.TrainConfig` of a trial."""
    from mufno_core.train import TrainConfig

    return TrainConfig(
        lr=config.lr if config.other_lr is None else config.other_lr, beta1=config.beta1,
        beta2=config.beta2, batch_size=config.batch_size,
        steps=config.steps, epochs=config.epochs, clip_value=config.clip_value,
        clip_params=config.clip_params, lr_decay_every=config.lr_decay_every,
        lr_decay_gamma=config.lr_decay_gamma, seed=config.seed)


def loss_function(config: TrialConfig, data: TrialData):
    """None (the trainer's relative L2) or the PINO data + physics loss."""
    if config.pde_weight <= 0:
        return None
    from mufno_core.pino import make_pino_loss

    return make_pino_loss(data_weight=config.data_weight, pde_weight=config.pde_weight,
                          mollifier_scale=None, decode_input=data.decode_input,
                          decode_output=data.decode)


def run_trial(config: TrialConfig, data_dir: str = "data", device: str | None = "cpu",
              num_threads: int | None = None) -> dict[str, Any]:
    """Train one trial and return its record (never raises for a failing trial).

    The record holds the config, the history, final train/test loss, ``diverged`` and its step,
    wall time, device and package versions. ``status`` is "ok", "diverged" (an ordinary outcome at
    a high LR) or "error" (an exception, e.g. out of memory, with its message).
    """
    from mufno_core.train import train

    if num_threads:
        torch.set_num_threads(num_threads)
    device = resolve_device(device)
    record = _base_record(config, device)
    start = time.perf_counter()
    try:
        data = load_trial_data(config, data_dir, device)
        record["data_fingerprint"] = data_fingerprint(config, data_dir)
        torch.manual_seed(config.seed)
        model = build_model(config, device)
        history = train(model, (data.x_train, data.y_train), (data.x_test, data.y_test),
                        train_config(config), decode=data.decode,
                        loss_fn=loss_function(config, data), progress=False)
    except Exception as err:  # one bad trial must not end the sweep
        record.update(error_record(config, device, f"{type(err).__name__}: {err}"))
        record["traceback"] = traceback.format_exc(limit=6)
        _release_gpu_memory(device)
        return record
    return _finish_record(record, history, time.perf_counter() - start)


def _finish_record(record: dict[str, Any], history, wall_time: float,
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


MAX_STACK = 48
"""Most members in one stacked group (bounds the GPU memory of one unit of work)."""


def group_trials(configs: Iterable[TrialConfig], max_size: int = MAX_STACK) -> list[list[TrialConfig]]:
    """Trials that share everything but (lr, seed, beta2), in first-seen order, in chunks of at
    most ``max_size``."""
    groups: dict[tuple, list[TrialConfig]] = {}
    for config in configs:
        groups.setdefault(config.group_key(), []).append(config)
    return [g[i : i + max_size] for g in groups.values() for i in range(0, len(g), max_size)]


def stacking_available() -> bool:
    """Whether ``mufno_core.stacked`` (vectorised training of trials sharing K) is installed."""
    return importlib.util.find_spec("mufno_core.stacked") is not None


def run_unit(configs: Sequence[TrialConfig], data_dir: str = "data", device: str | None = "cpu",
             num_threads: int | None = None, stack: bool = False) -> list[dict[str, Any]]:
    """One unit of work for an executor: a single trial, or a group run by the stacked trainer.

    The stacking hook: with ``stack`` and ``mufno_core.stacked`` present, a group
    of trials that differ only in (lr, seed, beta2) is trained at once by
    ``mufno_core.stacked.train_stacked``; a group too large for the GPU's memory is split in
    halves until it fits; on any other error the group runs one by one.
    """
    if num_threads:
        torch.set_num_threads(num_threads)
    if stack and len(configs) > 1 and stacking_available():
        return run_stacked_or_split(configs, data_dir, device)
    return [run_trial(c, data_dir, device) for c in configs]


def run_stacked_or_split(configs: Sequence[TrialConfig], data_dir: str = "data",
                         device: str | None = "cpu") -> list[dict[str, Any]]:
    """:func:`run_group_stacked`, halving the group on out-of-memory (one member: :func:`run_trial`)."""
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


def _release_gpu_memory(device: str | None) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.empty_cache()


def run_group_stacked(configs: Sequence[TrialConfig], data_dir: str = "data",
                      device: str | None = "cpu") -> list[dict[str, Any]]:
    """Trials sharing everything but (lr, seed, beta2), trained as one stacked model."""
    from mufno_core.stacked import train_stacked

    device = resolve_device(device)
    first = configs[0]
    start = time.perf_counter()
    data = load_trial_data(first, data_dir, device)
    histories = train_stacked(lambda: build_model(first, device), (data.x_train, data.y_train),
                              (data.x_test, data.y_test), [train_config(c) for c in configs],
                              decode=data.decode, progress=False,
                              loss_fn=loss_function(first, data))
    wall = (time.perf_counter() - start) / len(configs)
    fingerprint = data_fingerprint(first, data_dir)
    return [_finish_record({**_base_record(c, device), "data_fingerprint": fingerprint}, h, wall,
                           stacked=True)
            for c, h in zip(configs, histories)]


def _init_worker() -> None:
    torch.set_num_threads(1)
    keep_freed_memory()
    # Ctrl-C reaches the whole process group: the driver stops the workers, they do not print
    # a KeyboardInterrupt traceback each. A worker whose driver died (kill -9) exits by itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True,
                     name="mufno-parent-watch").start()


def _exit_with_parent(parent: int, every: float = 1.0) -> None:
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


class SweepInterrupted(KeyboardInterrupt):
    """A sweep stopped by a signal (SIGTERM, SIGINT); ``exit_code`` is 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum
        self.exit_code = 128 + signum


def _raise_interrupted(signum, frame) -> None:
    raise SweepInterrupted(signum)


class _StopOnSigterm:
    """While active, SIGTERM raises :class:`SweepInterrupted` in the main thread (as Ctrl-C raises
    KeyboardInterrupt), so the executors stop their workers and nothing half-done is written."""

    def __enter__(self):
        self.old = None
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGTERM, _raise_interrupted)
        return self

    def __exit__(self, *exc) -> None:
        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)


@dataclass
class SweepOutcome:
    """Counts of one sweep run: trials in the grid, skipped as done, run now, by status."""

    total: int
    skipped: int
    ran: int = 0
    ok: int = 0
    diverged: int = 0
    errors: int = 0

    def add(self, record: dict[str, Any]) -> None:
        self.ran += 1
        status = record.get("status")
        if status == "ok":
            self.ok += 1
        elif status == "diverged":
            self.diverged += 1
        else:
            self.errors += 1


def pending_trials(configs: Iterable[TrialConfig], store: ResultsStore,
                   data_dir: str = "data") -> tuple[list[TrialConfig], int]:
    """The trials still to run (unique, not finished and current in the store) and how many are
    done. A stored record made on other data than the file now in ``data_dir`` (or by an older
    :data:`~mufno_core.sweep.store.RESULTS_VERSION`) is not done; see
    :func:`~mufno_core.sweep.store.record_is_current`."""
    unique: dict[str, TrialConfig] = {}
    fingerprints: dict[tuple[str, str], str | None] = {}
    for config in configs:
        unique.setdefault(config.trial_id(), config)
        key = (config.dataset, config.preset)
        if key not in fingerprints:
            fingerprints[key] = data_fingerprint(config, data_dir)
    done = store.done_ids(fingerprints)
    todo = [c for tid, c in unique.items() if tid not in done]
    return todo, len(unique) - len(todo)


def run_sweep_trials(
    configs: Sequence[TrialConfig],
    store: ResultsStore,
    executor: ExecutorName = "inline",
    workers: int | None = None,
    scheduler: str | None = None,
    data_dir: str = "data",
    device: str | None = "cpu",
    stack: bool = False,
    progress: bool = True,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> SweepOutcome:
    """Run every unfinished trial of ``configs`` on ``executor``, storing each record as it completes.

    ``workers``: processes of the local pool or of the LocalCluster (default: CPU count).
    ``scheduler``: a Dask scheduler address ``tcp://host:port`` (default: start a LocalCluster).
    Progress is a tqdm bar over all trials of the grid (done ones count as done; ETA from the rest).
    """
    from tqdm import tqdm

    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive int (or None: one per CPU), got {workers!r}")
    if Path(data_dir).exists() and not Path(data_dir).is_dir():
        raise ValueError(f"data_dir {str(data_dir)!r} is a file, not a folder of data sets")
    check_device(device, local=executor != "dask")
    todo, skipped = pending_trials(configs, store, data_dir)
    outcome = SweepOutcome(total=len(todo) + skipped, skipped=skipped)
    if not todo:
        return outcome
    prepare_datasets(todo, data_dir)
    validate_trials(todo, data_dir)  # one line per problem, before any trial starts
    keep_freed_memory()  # here, and in the workers started below
    units = group_trials(todo) if stack and stacking_available() else [[c] for c in todo]
    bar = tqdm(total=outcome.total, initial=skipped, disable=not progress, desc=store.experiment,
               unit="trial", dynamic_ncols=True)

    def collect(records: list[dict[str, Any]]) -> None:
        for record in records:
            store.write(record)
            outcome.add(record)
            if on_record is not None:
                on_record(record)
        bar.update(len(records))
        bar.set_postfix(diverged=outcome.diverged, errors=outcome.errors)

    try:
        with _StopOnSigterm():
            if executor == "inline":
                for unit in units:
                    collect(run_unit(unit, data_dir, device, None, stack))
            elif executor == "process":
                _run_process_pool(units, collect, workers, data_dir, device, stack)
            else:
                _run_dask(units, collect, workers, scheduler, data_dir, device, stack)
    finally:
        bar.close()
    return outcome


def _run_process_pool(units, collect, workers, data_dir, device, stack, work=run_unit) -> None:
    """Run ``units`` on a pool of spawned processes; the units of a worker that died are run once
    more in a fresh pool, and recorded as errors (with the reason) if that fails too."""
    workers = workers or multiprocessing.cpu_count()
    pending, reason = list(units), ""
    for attempt in (1, 2):
        lost, reason = _run_pool_once(pending, collect, workers, data_dir, device, stack, work)
        if not lost:
            return
        pending = lost
        if attempt == 1:
            print(f"a worker process died ({reason}); retrying its {len(lost)} unfinished "
                  f"unit(s) once in a fresh pool", file=sys.stderr, flush=True)
    collect([error_record(c, str(device), f"{reason} (a worker process died; retried once)")
             for unit in pending for c in unit])


def _run_pool_once(units, collect, workers, data_dir, device, stack, work):
    """One pool over ``units``; returns the units lost to a dead worker and the reason."""
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker)
    lost, reason = [], ""
    try:
        futures = {pool.submit(work, unit, data_dir, device, 1, stack): unit for unit in units}
        for future in as_completed(futures):
            try:
                records = future.result()
            except BrokenProcessPool as err:  # a worker died (killed, out of memory)
                lost.append(futures[future])
                reason = f"{type(err).__name__}: {err}"
                continue
            except Exception as err:  # e.g. a unit that cannot be sent to a worker
                records = [error_record(c, str(device), f"{type(err).__name__}: {err}")
                           for c in futures[future]]
            collect(records)
    except BaseException:  # Ctrl-C, SIGTERM: drop the queue and stop the trials in flight now
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)
    return lost, reason


def _stop_pool(pool: ProcessPoolExecutor, grace: float = 5.0) -> None:
    """Cancel what is queued and end every worker process (terminate, then kill)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # before shutdown
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)


DASK_CONNECT_TIMEOUT = 45.0
"""Seconds to reach a Dask scheduler and complete the handshake (an address where something
else answers, or nothing speaks, fails after this long with one line)."""


def connect_dask(scheduler: str, timeout: float | None = None):
    """A ``distributed.Client`` of ``scheduler``, or a one-line error within ``timeout`` seconds.

    The connection and the handshake both run in a helper thread: ``Client(..., timeout=)``
    covers only the connect, and an address that accepts connections but never speaks Dask (or
    speaks another protocol) would otherwise hang or fail with a misleading error.
    """
    from distributed import Client

    timeout = DASK_CONNECT_TIMEOUT if timeout is None else timeout
    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = Client(scheduler, timeout=f"{timeout}s")
        except BaseException as err:  # noqa: BLE001  (reported below, in the caller's thread)
            box["error"] = err

    thread = threading.Thread(target=connect, daemon=True, name="mufno-dask-connect")
    thread.start()
    thread.join(timeout + 5.0)
    if thread.is_alive():
        raise TimeoutError(f"no Dask scheduler answered at {scheduler} within {timeout:.0f} s "
                           "(is it the scheduler's address, and is something else listening "
                           "there?)")
    if "error" in box:
        err = box["error"]
        if isinstance(err, KeyboardInterrupt):
            raise err
        first = str(err).splitlines()[0] if str(err) else ""
        raise ValueError(f"cannot use the Dask scheduler at {scheduler}: "
                         f"{type(err).__name__}: {first}"[:300]) from err
    return box["client"]


def _run_dask(units, collect, workers, scheduler, data_dir, device, stack) -> None:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_as_completed
    except ImportError as err:
        raise ImportError("the dask executor needs `pip install 'dask[distributed]'`") from err

    cluster = None
    if scheduler:
        client = connect_dask(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers or multiprocessing.cpu_count(), threads_per_worker=1,
                               processes=True, host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
    try:
        futures = {}
        for unit in units:
            key = "mufno-" + "-".join(c.trial_id() for c in unit)[:64]
            future = client.submit(run_unit, unit, data_dir, device, 1, stack, key=key, pure=False)
            futures[future.key] = (future, unit)
        for future in dask_as_completed([f for f, _ in futures.values()]):
            try:
                records = future.result()
            except Exception as err:
                records = [error_record(c, str(device), f"{type(err).__name__}: {err}")
                           for c in futures[future.key][1]]
            collect(records)
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def is_done(record: dict[str, Any]) -> bool:
    return record.get("status") in DONE_STATUSES
