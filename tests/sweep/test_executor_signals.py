"""Stopping a sweep: Ctrl-C at each phase, to the whole process group or while the workers start,
SIGTERM and kill -9 of the driver end the sweep, its pool workers and its resource tracker, and
write nothing half-done. (Beside ``test_executors.py``, so that pytest-xdist can run the two on
different workers: together they were the suite's longest file.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _group(pgid: int) -> set[int]:
    """Pids of the live processes of process group ``pgid`` (from /proc)."""
    members = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.add(int(entry))
    return members


def _gone_within(pids, seconds: float = 60.0) -> list[int]:
    """The processes of ``pids`` still alive after ``seconds`` (polled; [] as soon as all ended)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def sweep_command(results: Path, executor: str = "process", workers: int = 2) -> list[str]:
    """A sweep that trains for minutes unless it is stopped."""
    return [sys.executable, "-m", "mufno_core.cli.main", "sweep", "synthetic_lr", "--preset", "smoke",
            "--results", str(results), "--limit", "4", "--no-progress", "--executor", executor,
            "--workers", str(workers), "--set", "steps=100000"]


class Phases:
    """The ``MUFNO_PHASE_DIR`` hook of :mod:`mufno_core.phases`: wait until processes reached a
    phase (their pids), release a held phase."""

    def __init__(self, folder: Path, hold: str = "") -> None:
        self.folder = folder
        folder.mkdir()
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "MUFNO_PHASE_DIR": str(folder),
                    "MUFNO_PHASE_HOLD": hold}

    def wait(self, phase: str, count: int = 1, proc=None, timeout: float = 600) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [int(p.suffix[1:]) for p in self.folder.glob(f"{phase}.*") if p.suffix[1:].isdigit()]
            if len(pids) >= count:
                return pids
            assert proc is None or proc.poll() is None, f"ended before {phase}: {proc.communicate()}"
            time.sleep(0.05)
        raise AssertionError(f"{phase} not reached by {count} process(es) in {timeout} s")

    def release(self, phase: str) -> None:
        (self.folder / f"{phase}.go").touch()


def assert_stopped_cleanly(proc, err: str, results: Path, code: int = 130) -> None:
    assert proc.returncode == code, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert not list(results.rglob("*.json")), "a record of an interrupted trial was written"
    assert not list(results.rglob("*.tmp")), "a half-written record was left"


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("phase, executor, message", [
    ("import", "inline", False),   # imports (torch), before anything ran: no message
    ("validate", "inline", True),  # the whole sweep is checked before the first trial
    ("unit", "inline", True),      # between trials (a trial is about to train)
    ("write", "inline", True),     # a trial finished, its record not yet written
    pytest.param("pool-start", "process", True, marks=pytest.mark.slow),  # workers importing
])
def test_ctrl_c_at_each_phase_ends_in_one_line(phase, executor, message, tmp_path, processes):
    """SIGINT to the driver held at ``phase`` ends the sweep with exit 130, the resume line (or
    nothing, before anything ran), no traceback and no record."""
    hook = Phases(tmp_path / "phases", hold=phase)
    results = tmp_path / "results"
    command = sweep_command(results, executor)
    if phase in ("unit", "write"):
        command[command.index("steps=100000")] = "steps=2"
    proc = processes.start(command, cwd=ROOT, env=hook.env, stderr=subprocess.PIPE, text=True)
    hook.wait(phase, proc=proc)
    proc.send_signal(signal.SIGINT)
    hook.release(phase)  # Ctrl-C during the imports is held back until they are done
    _, err = proc.communicate(timeout=120)
    assert_stopped_cleanly(proc, err, results)
    assert not _gone_within(_group(proc.pid))  # pool workers and resource tracker too
    if message:
        assert err.strip().splitlines()[-1].startswith("interrupted: finished trials are stored")
        assert "resume with: mufno sweep synthetic_lr" in err
    else:
        assert err == ""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_ctrl_c_to_the_process_group_while_workers_start(tmp_path, processes):
    """Ctrl-C reaches every process of the group. A worker held before its initializer (SIGINT
    still blocked, as during its imports) prints nothing; the driver stops it and the sweep. (One
    worker shows it as two would; SIGTERM below stops two.)"""
    hook = Phases(tmp_path / "phases", hold="worker-init")
    results = tmp_path / "results"
    proc = processes.start(sweep_command(results, workers=1), cwd=ROOT, env=hook.env,
                           stderr=subprocess.PIPE, text=True)
    workers = hook.wait("worker-init", count=1, proc=proc)
    os.killpg(proc.pid, signal.SIGINT)
    hook.release("worker-init")
    _, err = proc.communicate(timeout=120)
    assert_stopped_cleanly(proc, err, results)
    assert "resume with: mufno sweep synthetic_lr" in err
    assert not _gone_within(set(workers) | _group(proc.pid))  # workers, resource tracker


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_workers_exit_when_the_driver_died_before_their_initializer(tmp_path, processes):
    """kill -9 of the driver while its workers start (held before their initializer): each worker
    knows its driver's pid from the driver, finds it gone and exits instead of training."""
    hook = Phases(tmp_path / "phases", hold="worker-init")
    proc = processes.start(sweep_command(tmp_path / "results", workers=1), cwd=ROOT, env=hook.env,
                           stderr=subprocess.DEVNULL)
    workers = hook.wait("worker-init", count=1, proc=proc)
    proc.kill()
    proc.wait()
    hook.release("worker-init")
    assert not _gone_within(set(workers) | _group(proc.pid)), "processes outlived their driver"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("sig,code,n_workers", [(signal.SIGTERM, 143, 2), (signal.SIGINT, 130, 1),
                                                (signal.SIGKILL, -9, 1)])
def test_a_signal_stops_the_pool_and_its_workers(sig, code, n_workers, tmp_path, processes):
    """SIGTERM (what SLURM sends) and Ctrl-C end the sweep, its workers and nothing half-done is
    written; after kill -9 of the driver the workers exit by themselves. (One worker shows each
    of the last two as well as two would, and starts in half the CPU time.)"""
    hook = Phases(tmp_path / "phases")
    results = tmp_path / "results"
    proc = processes.start(sweep_command(results, workers=n_workers), cwd=ROOT, env=hook.env,
                           stderr=subprocess.PIPE, text=True)
    workers = hook.wait("worker-init", count=n_workers, proc=proc)
    hook.wait("train", count=n_workers, proc=proc)  # every worker is training
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    if sig != signal.SIGKILL:
        assert_stopped_cleanly(proc, err, results, code)
        assert "resume with: mufno sweep synthetic_lr" in err
    assert not _gone_within(set(workers) | _group(proc.pid))  # workers, resource tracker
    assert not list(results.rglob("*.json"))  # nothing half-done


def test_processes_start_with_sigint_restored(processes):
    """A test runner that inherited SIGINT as ignored still starts its drivers interruptible."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        done = processes.run([sys.executable, "-c", "import signal; "
                              "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"])
    finally:
        signal.signal(signal.SIGINT, before)
    assert done.stdout.strip() == "True"
