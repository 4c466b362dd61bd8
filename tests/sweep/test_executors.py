"""Sweep executors: a local process pool and a real Dask LocalCluster on loopback give the same
records as running the trials in-process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from mufno_core.sweep import grid, load_results, trial
from mufno_core.sweep.executors import _run_process_pool, group_trials, run_sweep_trials
from mufno_core.sweep.store import ResultsStore
from mufno_core.sweep.trial import run_trial, run_unit

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = grid("synthetic_lr", "smoke", modes=(2, 4), seeds=(0,), lrs=(1e-2, 1e3), parametrizations=("mup",))


def losses(path) -> dict[str, float]:
    df = load_results(path)
    return dict(zip(df["trial_id"], df["final_train_loss"].fillna(-1.0)))


@pytest.fixture(scope="module")
def inline_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("inline")
    run_sweep_trials(CONFIGS, ResultsStore(root, "synthetic_lr"), progress=False)
    return losses(root)


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["process", "dask"])
def test_executor_matches_inline(executor, tmp_path, inline_results):
    store = ResultsStore(tmp_path, "synthetic_lr")
    kwargs = {"workers": 2}
    if executor == "dask":
        distributed = pytest.importorskip("distributed")
        import dask

        with dask.config.set({"temporary-directory": str(tmp_path / "dask")}):  # not /tmp's
            # one worker process: the four trials cross to it and back as with many (each
            # worker imports torch, 2 s of CPU)
            cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                               host="127.0.0.1", dashboard_address=None)
        kwargs = {"scheduler": cluster.scheduler_address}
    try:
        outcome = run_sweep_trials(CONFIGS, store, executor=executor, progress=False, **kwargs)
    finally:
        if executor == "dask":
            cluster.close()
    assert (outcome.ran, outcome.errors, outcome.diverged) == (4, 0, 2)
    got = losses(tmp_path)
    assert got.keys() == inline_results.keys()
    for key, value in inline_results.items():  # torch threads differ: equal up to round-off
        assert got[key] == pytest.approx(value, rel=1e-4, abs=1e-6)
    again = run_sweep_trials(CONFIGS, store, executor=executor, progress=False, **kwargs) \
        if executor == "process" else None
    assert again is None or (again.ran, again.skipped) == (0, 4)


def test_unknown_executor_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="executor"):
        run_sweep_trials(CONFIGS, ResultsStore(tmp_path, "x"), executor="slurm")


def test_stack_hook_matches_one_by_one():
    configs = [c for c in CONFIGS if c.modes == 2]  # one group: same K, two LRs
    assert len(group_trials(configs)) == 1
    stacked = run_unit(configs, stack=True)
    single = [run_trial(c) for c in configs]
    for a, b in zip(stacked, single):
        assert a["stacked"] and a["trial_id"] == b["trial_id"] and a["status"] == b["status"]
        if a["status"] == "ok":
            assert a["final_train_loss"] == pytest.approx(b["final_train_loss"], rel=1e-3)


def test_stacked_group_out_of_memory_is_split_until_it_fits(monkeypatch):
    """A group too large for the GPU is halved (and halved again), never run one by one."""
    configs = grid("synthetic_lr", "smoke", modes=(2,), seeds=(0, 1), lrs=(1e-3, 1e-2, 3e-2),
                   parametrizations=("mup",))
    assert len(group_trials(configs)) == 1 and len(configs) == 6
    sizes = []
    real = trial.run_group_stacked

    def at_most_two(group, *args):
        sizes.append(len(group))
        if len(group) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(group, *args)

    monkeypatch.setattr(trial, "run_group_stacked", at_most_two)
    records = run_unit(configs, stack=True)
    assert sizes == [6, 3, 2, 3, 2]  # 6 -> 3 + 3 -> (1 + 2) + (1 + 2); single members run plainly
    assert [r["trial_id"] for r in records] == [c.trial_id() for c in configs]
    assert sum(r.get("stacked", False) for r in records) == 4
    assert all(r["status"] in ("ok", "diverged") for r in records)


def _die_once(unit, marker, device, threads, stack):
    """A unit of work whose worker dies the first time (``marker`` is a file path)."""
    from pathlib import Path

    if not Path(marker).exists():
        Path(marker).write_text("died")
        os._exit(1)
    return [{"trial_id": c.trial_id(), "status": "ok"} for c in unit]


def _always_die(unit, marker, device, threads, stack):

    os._exit(1)


@pytest.mark.slow
@pytest.mark.parametrize("work,status", [(_die_once, "ok"), (_always_die, "error")])
def test_a_dead_workers_trials_are_retried_once(work, status, tmp_path, capsys):
    units = [[c] for c in CONFIGS[:2]]
    records = []
    _run_process_pool(units, records.extend, 1, str(tmp_path / "marker"), "cpu", False, work=work)
    assert sorted(r["trial_id"] for r in records) == sorted(c.trial_id() for c in CONFIGS[:2])
    assert {r["status"] for r in records} == {status}
    assert "retrying its" in capsys.readouterr().err
    if status == "error":
        assert all("BrokenProcessPool" in r["error"] and "retried once" in r["error"]
                   for r in records)
