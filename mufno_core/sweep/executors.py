"""Running a sweep on an executor: which trials are pending, how they are cut into units of work,
and where the units run.

Executors: ``"inline"`` (this process, one unit after the other), ``"process"`` (a local pool of
spawned processes, one torch thread each) and ``"dask"`` (a Dask distributed cluster: an existing
scheduler address, or a LocalCluster on 127.0.0.1 started here). A unit is one trial, or with
``stack`` a group of trials that differ only in (lr, seed, beta2) (:func:`group_trials`), run by
:func:`~mufno_core.sweep.trial.run_unit`. Whatever the executor, the driver writes each record to
the store as soon as its unit completes, so killing the sweep loses only the trials in flight and
rerunning it skips every finished trial. Dask is imported only when used (an optional dependency).

Before the first trial the whole sweep is validated (:func:`~mufno_core.sweep.validate.validate_trials`:
device, data files, K against the grid, sample counts, batch size), so a setting that cannot work
ends in one line per problem with nothing trained. A record is reused only when it is current: the
same :data:`~mufno_core.sweep.store.RESULTS_VERSION` and the same data (``data_fingerprint``).
SIGTERM (and Ctrl-C) stop the sweep, its pool and its workers; :class:`SweepInterrupted` carries the
signal. A process-pool worker that dies has its unfinished units retried once in a fresh pool.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.context import SpawnContext, SpawnProcess
from pathlib import Path
from typing import Any, Literal

import torch
from tqdm import tqdm

from mufno_core import phases
from mufno_core.data.generate import stop_pool
from mufno_core.sweep.budget import sweep_flops
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.data import prepare_datasets
from mufno_core.sweep.estimate import default_workers, estimate_sweep
from mufno_core.sweep.malloc import keep_freed_memory
from mufno_core.sweep.store import ResultsStore, pending_trials
from mufno_core.sweep.trial import error_record, run_unit
from mufno_core.sweep.twins import copy_of, without_twins
from mufno_core.sweep.validate import check_device, validate_trials

ExecutorName = Literal["inline", "process", "dask"]
EXECUTORS: tuple[str, ...] = ("inline", "process", "dask")

ESTIMATE_MIN_FLOPS = 1e11
"""Training FLOPs from which a sweep first estimates its time (a few seconds of this CPU's work)."""

MAX_STACK = 48
"""Most members in one stacked group (bounds the GPU memory of one unit of work)."""


def group_trials(configs: Iterable[TrialConfig], max_size: int = MAX_STACK) -> list[list[TrialConfig]]:
    """Trials that share everything but :data:`~mufno_core.settings.MEMBER_FIELDS` (their
    :meth:`~mufno_core.sweep.config.TrialConfig.group_key`), in first-seen order, in chunks of at
    most ``max_size``."""
    groups: dict[tuple, list[TrialConfig]] = {}
    for config in configs:
        groups.setdefault(config.group_key(), []).append(config)
    return [g[i : i + max_size] for g in groups.values() for i in range(0, len(g), max_size)]


class _WorkerProcess(SpawnProcess):
    """A spawned pool worker that starts with SIGINT blocked, so that a Ctrl-C reaching the whole
    process group while it imports torch stays pending (no traceback); :func:`_init_worker` then
    ignores it. Every worker started is remembered until it ends (:func:`_stop_pool`)."""

    started: weakref.WeakSet = weakref.WeakSet()

    def start(self) -> None:
        resource_tracker.ensure_running()  # its first start unblocks SIGINT in this thread
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            super().start()
            _WorkerProcess.started.add(self)
        finally:  # a Ctrl-C that came meanwhile is delivered now
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


class _WorkerContext(SpawnContext):
    Process = _WorkerProcess


def _init_worker(driver: int) -> None:
    """Set up a pool worker of the driver process ``driver`` (its pid, passed by the driver: a
    worker that read its parent after start-up would take PID 1 for it if the driver had died)."""
    phases.reach("worker-init")
    # Ctrl-C reaches the whole process group: the driver stops the workers, they do not print
    # a KeyboardInterrupt traceback each.
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # discards a Ctrl-C pending since the spawn
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if os.getppid() != driver:  # the driver died (kill -9) before this worker was ready
        os._exit(1)
    threading.Thread(target=_exit_with_parent, args=(driver,), daemon=True,
                     name="mufno-parent-watch").start()
    torch.set_num_threads(1)
    keep_freed_memory()


def _exit_with_parent(driver: int, every: float = 1.0) -> None:
    """End this worker as soon as its driver has died (its parent is no longer ``driver``)."""
    while os.getppid() == driver:
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


def copy_twins(todo: list[TrialConfig], store: ResultsStore,
               data_dir: str = "data") -> tuple[list[TrialConfig], int]:
    """Store the trials of ``todo`` that have a stored twin (:mod:`mufno_core.sweep.twins`) as
    copies of it; the trials still to train and how many were copied (one line on stderr)."""
    rest, twins = without_twins(todo, store, data_dir)
    for config in todo:
        if config.trial_id() in twins:
            store.write(copy_of(config, twins[config.trial_id()]))
    if twins:
        print(f"sweep {store.experiment}: {len(twins)} trial(s) copied from a stored twin that "
              "computes the same (SP at the base K, or another experiment's equal trial)",
              file=sys.stderr, flush=True)
    return rest, len(twins)


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
    estimate: bool = True,
) -> SweepOutcome:
    """Run every unfinished trial of ``configs`` on ``executor``, storing each record as it completes.

    ``workers``: processes of the local pool or of the LocalCluster (default: CPU count).
    ``scheduler``: a Dask scheduler address ``tcp://host:port`` (default: start a LocalCluster).
    Progress is a tqdm bar over all trials of the grid (done ones count as done; ETA from the rest).
    ``estimate``: before a sweep of at least :data:`ESTIMATE_MIN_FLOPS` starts, print its expected
    time on this machine (:func:`~mufno_core.sweep.estimate.estimate_sweep`, a few seconds).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive int (or None: one per CPU), got {workers!r}")
    if Path(data_dir).exists() and not Path(data_dir).is_dir():
        raise ValueError(f"data_dir {str(data_dir)!r} is a file, not a folder of data sets")
    check_device(device, local=executor != "dask")
    todo, skipped = pending_trials(configs, store, data_dir)
    todo, copied = copy_twins(todo, store, data_dir)
    outcome = SweepOutcome(total=len(todo) + skipped + copied, skipped=skipped + copied)
    if not todo:
        return outcome
    with _StopOnSigterm():  # data generated here: SIGTERM stops its pool as it stops a sweep's
        prepare_datasets(todo, data_dir)
    phases.reach("validate")
    # one line per problem, first; a remote Dask cluster's memory is not this machine's
    validate_trials(todo, data_dir, device, local=executor != "dask" or scheduler is None,
                    results=store.folder)
    keep_freed_memory()  # here, and in the workers started below
    units = group_trials(todo) if stack else [[c] for c in todo]
    if estimate and sweep_flops(todo) >= ESTIMATE_MIN_FLOPS:
        expected = estimate_sweep(units, data_dir, device, default_workers(executor, workers),
                                  one_thread=executor != "inline", stack=stack)
        print(expected.line(f"sweep {store.experiment}"), file=sys.stderr, flush=True)
    bar = tqdm(total=outcome.total, initial=skipped, disable=not progress, desc=store.experiment,
               unit="trial", dynamic_ncols=True)

    def collect(records: list[dict[str, Any]]) -> None:
        for record in records:
            phases.reach("write")
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
                    phases.reach("unit")
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
    pool = ProcessPoolExecutor(workers, mp_context=_WorkerContext(), initializer=_init_worker,
                               initargs=(os.getpid(),))
    lost, reason = [], ""
    try:
        futures = {pool.submit(work, unit, data_dir, device, 1, stack): unit for unit in units}
        phases.reach("pool-start")
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
    """Cancel what is queued and end every worker process, those still starting included."""
    stop_pool(pool, grace, also=list(_WorkerProcess.started))


DASK_CONNECT_TIMEOUT = 45.0
"""Seconds to reach a Dask scheduler and complete the handshake (an address where something
else answers, or nothing speaks, fails after this long with one line)."""


def connect_dask(scheduler: str, timeout: float | None = None):
    """A ``distributed.Client`` of ``scheduler``, or a one-line error within ``timeout`` seconds
    (and at most half of it, or 5 s, more).

    The connection and the handshake both run in a helper thread: ``Client(..., timeout=)``
    covers only the connect, and an address that accepts connections but never speaks Dask (or
    speaks another protocol) would otherwise hang or fail with a misleading error.
    """
    from distributed import Client  # optional dependency: only the dask executor needs it

    timeout = DASK_CONNECT_TIMEOUT if timeout is None else timeout
    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = Client(scheduler, timeout=f"{timeout}s")
        except BaseException as err:  # noqa: BLE001  (reported below, in the caller's thread)
            box["error"] = err

    thread = threading.Thread(target=connect, daemon=True, name="mufno-dask-connect")
    thread.start()
    thread.join(timeout + min(5.0, timeout / 2))  # Client's own timeout error first, if it comes
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
    try:  # an optional dependency, imported only when the dask executor is used
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
