"""Checking a committed results store on this machine (mufno_core.analysis.reproduce)."""

from __future__ import annotations

import json
import math

import pytest

from mufno_core.analysis.reproduce import (
    agreement_by_experiment,
    compare_rerun,
    compare_stores,
    main,
    rerun_sample,
    seed_spread,
    verdicts_with_reruns,
)
from mufno_core.provenance import cpu_kernels, cpu_model, recorded_kernels
from mufno_core.sweep import run_sweep
from mufno_core.sweep.store import iter_records, load_results

EXPERIMENT = "synthetic_lr"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    run_sweep(EXPERIMENT, "smoke", str(root), stack=True, progress=False)
    return root


def _a_record(store):
    return next(r for r in iter_records(store / EXPERIMENT) if r["status"] == "ok")


def test_a_rerun_on_the_recording_cpu_is_bit_identical(store):
    table, reruns = rerun_sample(store, per_experiment=2, experiments=[EXPERIMENT])
    assert len(table) == 2 and table["same_cpu"].all()
    assert table["identical"].all() and table["agrees"].all()
    assert (table["log_loss_change"] == 0).all()
    summary = agreement_by_experiment(table)
    assert summary.loc[0, "agree"] == 2 and summary.loc[0, "identical"] == 2
    verdicts = verdicts_with_reruns(store, reruns, "smoke")
    assert verdicts["same verdict"].all()


def test_the_seed_spread_is_the_sd_over_seeds_of_a_grid_point(store):
    df = load_results(store / EXPERIMENT)
    spread = seed_spread(df)
    record = _a_record(store)
    c = record["config"]
    same_point = df[(df["modes"] == c["modes"]) & (df["lr"] == c["lr"])
                    & (df["parametrization"] == c["parametrization"]) & ~df["mirrored"]]
    expected = same_point["final_train_loss"].map(math.log10).std(ddof=1)
    assert spread[record["trial_id"]] == pytest.approx(expected)


@pytest.mark.parametrize("factor, agrees", [(1 + 1e-6, True), (3.0, False)])
def test_on_another_cpu_a_rerun_agrees_only_within_the_seed_spread(store, factor, agrees):
    record = {**_a_record(store), "cpu_model": "Some Other CPU"}
    rerun = json.loads(json.dumps(record))
    rerun["final_train_loss"] *= factor
    rerun["history"]["train_loss"][-1] *= factor
    row = compare_rerun(record, rerun, spread=0.05, here="This CPU")
    assert not row["same_cpu"] and not row["identical"]
    assert row["log_loss_change"] == pytest.approx(math.log10(factor))
    assert row["agrees"] is agrees


def test_a_changed_result_on_the_recording_cpu_does_not_agree(store):
    record = _a_record(store)
    rerun = json.loads(json.dumps(record))
    rerun["history"]["train_loss"][0] += 1e-7
    row = compare_rerun(record, rerun, spread=1.0, here=recorded_kernels(record))
    assert row["same_cpu"] and not row["agrees"]


@pytest.mark.parametrize("written, same", [
    ({}, True),
    ({"cpu_capability": "SOME_OTHER_LEVEL"}, False),  # one model name, other SIMD kernels
    ({"cpu_capability": None}, False),  # written before the kernel level was recorded
])
def test_a_rerun_is_held_to_bit_identity_only_on_the_same_model_and_kernel_level(store, written, same):
    record = {**_a_record(store), **written}
    assert record["cpu_model"] == cpu_model() and "cpu_capability" in _a_record(store)
    row = compare_rerun(record, json.loads(json.dumps(record)), spread=0.05, here=cpu_kernels())
    assert row["same_cpu"] is same and row["agrees"]


def test_two_stores_give_their_verdicts_side_by_side(tmp_path):
    store = tmp_path / "smoke"
    run_sweep("burgers_lr", "smoke", str(store), data_dir=str(tmp_path / "data"), stack=True,
              progress=False)
    same = compare_stores(store, store, "smoke")
    assert list(same["experiment"]) == ["burgers_lr"] and same["same verdict"].all()
    (tmp_path / "empty" / "burgers_lr").mkdir(parents=True)
    other = compare_stores(store, tmp_path / "empty", "smoke")
    assert other.loc[0, "rerun"] == "absent" and not other.loc[0, "same verdict"]


def test_a_missing_store_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["check", str(tmp_path / "nothing")])
    assert stop.value.code == 2
    assert "no results store" in capsys.readouterr().err
