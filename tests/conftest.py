"""Fixtures shared by the tests: processes a test starts end with the test, pass or fail; the
project's data folder."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs a pytest-xdist worker per core and one more: one torch thread each (and in
    # the processes they start), or the OpenMP threads of one spin on the cores the others need
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser test first: its smoke book (minutes) then builds beside the rest of the suite
    on the other worker instead of after it."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is None)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection imported (torch, pandas, matplotlib: ~300,000 objects) out of the
    garbage collector's reach, which walked them all at each full collection (the collector's CPU
    in a three-worker run of the fast tests: 8.1 s before, 6.9 s after), and collect the young
    generation every 10,000 allocations instead of 700: the tests allocate millions of short-lived
    objects (frames, records, pandas' blocks), and the full collections this set off took 4 of the
    5 s the collector spent in the three workers of a whole run (2.0 s in all after; measured with
    ``gc.callbacks``)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def _default_signals() -> None:
    """In the child before exec: SIGINT as a user's shell gives it (a test runner started in the
    background, under nohup or by some CI runners, passes SIGINT on as ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


class ProcessGroups:
    """Starts commands each in a new session (its own process group, SIGINT restored) and, at
    :meth:`close`, kills every such group and every child process of this one started since."""

    def __init__(self) -> None:
        self.groups: list[subprocess.Popen] = []
        self.children_before = {p.pid for p in psutil.Process().children(recursive=True)}

    def start(self, cmd: list[str], **kwargs) -> subprocess.Popen:
        """``subprocess.Popen(cmd, **kwargs)`` in a new session; ``proc.pid`` is its group id."""
        proc = subprocess.Popen(cmd, start_new_session=True, preexec_fn=_default_signals, **kwargs)
        self.groups.append(proc)
        return proc

    def run(self, cmd: list[str], timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
        """``subprocess.run(cmd, capture_output=True, text=True)`` in a new session."""
        proc = self.start(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
        out, err = proc.communicate(timeout=timeout)
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)

    def close(self) -> None:
        for proc in self.groups:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.communicate(timeout=30)  # reaps it and closes its pipes
            except subprocess.TimeoutExpired:  # it left its group: end it alone
                proc.kill()
                proc.communicate()
        new = [c for c in psutil.Process().children(recursive=True)  # pools started in-process
               if c.pid not in self.children_before]
        for child in new:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(new, timeout=5)


@pytest.fixture
def processes() -> Iterator[ProcessGroups]:
    """Start processes with ``processes.start`` / ``processes.run``; all are killed at teardown."""
    groups = ProcessGroups()
    try:
        yield groups
    finally:
        groups.close()


@pytest.fixture(scope="module")
def module_processes() -> Iterator[ProcessGroups]:
    """:func:`processes` for a module-scoped fixture (killed when the module's tests are done)."""
    groups = ProcessGroups()
    try:
        yield groups
    finally:
        groups.close()


@pytest.fixture
def project_data() -> Path:
    """The project's data folder (``data/``, ignored by git), where ``make data`` and every sweep
    run with the default ``data_dir`` keep the generated data sets: a test that only reads smoke
    data uses it, so each data set is made once for the whole suite (the browser test's ``make
    book`` makes them all first) instead of once per test. A data set is written under a
    temporary name and renamed, so two workers making one at once is harmless."""
    return Path(__file__).resolve().parents[1] / "data"
