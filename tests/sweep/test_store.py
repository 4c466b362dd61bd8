"""Sweep trial ids and the results store: stable ids, atomic records, tolerant loading, resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mufno_core.sweep import grid, grid_ids, load_results, run_sweep
from mufno_core.sweep.config import SCHEMA, TrialConfig
from mufno_core.sweep.executors import run_sweep_trials
from mufno_core.sweep.store import ResultsStore, StoreWarning, read_record, write_json_atomic
from mufno_core.sweep.trial import run_trial

ROOT = Path(__file__).resolve().parents[2]


def tiny(**changes) -> TrialConfig:
    base = TrialConfig(experiment="t", dataset="synthetic", preset="smoke", dim=1, in_channels=1,
                       out_channels=1, parametrization="mup", modes=4, base_modes=2, lr=1e-2, seed=0,
                       width=8, depth=2, steps=3, batch_size=8, n_train=16, n_test=8)
    return base.with_(**changes)


def test_trial_id_is_stable_and_canonical():
    a, b = tiny(), tiny()
    assert a.trial_id() == b.trial_id() and len(a.trial_id()) == 16
    assert a.trial_id() == TrialConfig.from_dict(json.loads(a.canonical_json())).trial_id()
    # a golden value: changing the canonical form would orphan every stored result
    assert a.trial_id() == "41bc824a5075a05c"


@pytest.mark.parametrize("field,value", [("lr", 1.1e-2), ("seed", 1), ("modes", 8), ("beta2", 0.98),
                                         ("batch_size", 4), ("parametrization", "sp")])
def test_trial_id_changes_with_every_field(field, value):
    assert tiny(**{field: value}).trial_id() != tiny().trial_id()


@pytest.mark.parametrize("bad", [{"lr": -1.0}, {"lr": float("nan")}, {"parametrization": "ntk"},
                                 {"steps": None}, {"modes": 1}])
def test_bad_trial_config_is_a_clear_error(bad):
    with pytest.raises(ValueError):
        tiny(**bad)


def test_group_key_ignores_lr_seed_beta2():
    assert tiny(lr=1.0, seed=3, beta2=0.9).group_key() == tiny().group_key()
    assert tiny(modes=8).group_key() != tiny().group_key()


def test_record_roundtrip_and_atomic_write(tmp_path):
    record = run_trial(tiny())
    assert record["status"] == "ok" and record["history"]["train_loss"]
    store = ResultsStore(tmp_path, "t")
    path = store.write(record)
    assert path.name == f"{record['trial_id']}.json"
    assert read_record(path)["final_train_loss"] == pytest.approx(record["final_train_loss"])
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left behind
    assert store.done_ids() == {record["trial_id"]}


def test_write_never_leaves_a_partial_file(tmp_path):
    path = tmp_path / "x.json"
    write_json_atomic(path, {"a": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


def test_a_record_read_again_is_checked_again_when_its_text_changed(tmp_path, monkeypatch):
    """A text read before is not checked again (the store is read by every chapter), and a record
    whose text changed is, even within the same clock tick and at the same size."""
    from mufno_core.sweep import store as store_module

    config = tiny()
    record = {"schema": SCHEMA, "trial_id": config.trial_id(), "config": config.to_dict(),
              "status": "ok", "final_train_loss": 0.5}
    path = tmp_path / f"{config.trial_id()}.json"
    path.write_text(json.dumps(record))
    checked = []
    real_check = store_module._check_record
    monkeypatch.setattr(store_module, "_check_record", lambda p, r: checked.append(p) or real_check(p, r))
    assert read_record(path) == read_record(path) == record and len(checked) <= 1
    path.write_text(json.dumps({**record, "trial_id": "0" * 16}))
    with pytest.raises(ValueError, match="trial_id does not match"):
        read_record(path)


@pytest.mark.parametrize("content,reason", [("{not json", "corrupt JSON"), ('{"hello": 1}', "not a mufno"),
                                            ("", "corrupt JSON")])
def test_corrupt_or_foreign_files_are_named_and_skipped(tmp_path, content, reason):
    store = ResultsStore(tmp_path, "t")
    store.write(run_trial(tiny()))
    bad = store.folder / "0000000000000000.json"
    bad.write_text(content)
    (store.folder / ".abc.tmp").write_text("{half")  # a temporary of a killed writer: ignored
    with pytest.warns(StoreWarning, match=reason) as caught:
        df = load_results(tmp_path)
    assert bad.name in str(caught[0].message)
    assert len(df) == 1
    with pytest.warns(StoreWarning):
        assert len(store.done_ids()) == 1


def test_resume_skips_finished_trials(tmp_path):
    configs = grid("synthetic_lr", "smoke")[:4]
    store = ResultsStore(tmp_path, "synthetic_lr")
    first = run_sweep_trials(configs[:2], store, progress=False)
    assert (first.ran, first.skipped) == (2, 0)
    mtimes = {p.name: p.stat().st_mtime_ns for p in store.folder.iterdir()}
    second = run_sweep_trials(configs, store, progress=False)
    assert (second.ran, second.skipped, second.total) == (2, 2, 4)
    assert all(store.folder.joinpath(n).stat().st_mtime_ns == t for n, t in mtimes.items())
    df = load_results(tmp_path)
    assert len(df) == 4 and set(df["status"]) == {"ok"}
    assert {"parametrization", "modes", "lr", "seed", "batch_size", "beta2", "final_train_loss",
            "final_test_loss", "diverged"} <= set(df.columns)


def test_diverged_trial_is_recorded_not_raised(tmp_path):
    record = run_trial(tiny(lr=1e4, clip_value=None, steps=20))
    assert record["status"] == "diverged" and record["diverged"] and record["diverged_step"] >= 1
    store = ResultsStore(tmp_path, "t")
    store.write(record)
    df = load_results(tmp_path)
    assert bool(df["diverged"].iloc[0]) and df["final_train_loss"].isna().all()
    assert store.done_ids() == {record["trial_id"]}  # a diverged trial is finished


def test_failing_trial_is_an_error_record_and_retried(tmp_path):
    record = run_trial(tiny(dataset="no_such_dataset"))
    assert record["status"] == "error" and "no_such_dataset" in record["error"]
    store = ResultsStore(tmp_path, "t")
    store.write(record)
    assert store.done_ids() == set()


@pytest.mark.slow
def test_kill_minus_9_loses_nothing_but_the_trial_in_flight(tmp_path, processes):
    cmd = [sys.executable, "-m", "mufno_core.cli.main", "sweep", "synthetic_lr", "--preset", "smoke",
           "--results", str(tmp_path), "--limit", "10", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    folder = tmp_path / "synthetic_lr"
    proc = processes.start(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(folder.glob("*.json"))) < 3:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name for p in folder.glob("*.json")}
    assert 3 <= len(before) < 10
    for path in folder.glob("*.json"):
        read_record(path)  # every record is whole
    done = processes.run(cmd, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} already done, {10 - len(before)} run now" in done.stderr
    assert len(load_results(tmp_path)) == 10


def test_mup_at_the_base_k_is_the_sp_trial(tmp_path):
    configs = grid("synthetic_lr", "smoke", lrs=(1e-2,), seeds=(0,))
    assert sorted((c.parametrization, c.modes) for c in configs) == [("mup", 4), ("sp", 2), ("sp", 4)]
    run_sweep_trials(configs, ResultsStore(tmp_path, "synthetic_lr"), progress=False)
    df = load_results(tmp_path).set_index(["parametrization", "modes"])
    assert len(df) == 4 and bool(df.loc[("mup", 2), "mirrored"])
    assert df.loc[("mup", 2), "final_train_loss"] == df.loc[("sp", 2), "final_train_loss"]
    # and it is the same model: running μP at K₀ gives the same result
    real = run_trial(configs[0].with_(parametrization="mup"))
    assert real["final_train_loss"] == pytest.approx(df.loc[("sp", 2), "final_train_loss"], rel=1e-6)
    assert len(load_results(tmp_path, mirror=False)) == 3


def test_a_record_binds_to_its_data_and_code(tmp_path, monkeypatch):
    """Issue 12: a record made on other data, by other code (RESULTS_VERSION) or before records
    carried a data fingerprint is not done; synthetic data have no file to bind to."""
    from mufno_core.data.generate import generate
    from mufno_core.sweep import store as store_module
    from mufno_core.sweep.store import RESULTS_VERSION

    data = tmp_path / "data"
    good = generate("burgers", "smoke", data / "burgers_smoke.h5", workers=1, progress=False)
    other = generate("burgers", "smoke", tmp_path / "seed1.h5", seed=1, workers=1, progress=False)
    configs = grid("burgers_lr", "smoke", modes=(2,), lrs=(1e-2,), seeds=(0,), steps=2)
    store = ResultsStore(tmp_path / "results", "burgers_lr")
    first = run_sweep_trials(configs, store, data_dir=str(data), progress=False)
    record = read_record(store.path(configs[0].trial_id()))
    assert first.ran == 1 and record["data_fingerprint"].startswith("sha256:")
    assert record["results_version"] == RESULTS_VERSION and record["cpu_model"]
    assert run_sweep_trials(configs, store, data_dir=str(data), progress=False).skipped == 1

    good_bytes = good.read_bytes()
    good.write_bytes(other.read_bytes())  # other data under the same name: rerun
    again = run_sweep_trials(configs, store, data_dir=str(data), progress=False)
    assert (again.ran, again.skipped) == (1, 0)
    assert read_record(store.path(configs[0].trial_id()))["data_fingerprint"] != \
        record["data_fingerprint"]
    good.write_bytes(good_bytes)
    assert run_sweep_trials(configs, store, data_dir=str(data), progress=False).ran == 1

    legacy = read_record(store.path(configs[0].trial_id()))
    del legacy["data_fingerprint"], legacy["results_version"]  # written before this change
    write_json_atomic(store.path(configs[0].trial_id()), legacy)
    assert run_sweep_trials(configs, store, data_dir=str(data), progress=False).ran == 1

    monkeypatch.setattr(store_module, "RESULTS_VERSION", RESULTS_VERSION + 1)  # code changed
    assert run_sweep_trials(configs, store, data_dir=str(data), progress=False).ran == 1
    monkeypatch.undo()

    synthetic = ResultsStore(tmp_path / "results", "t")
    rec = run_trial(tiny())
    assert rec["data_fingerprint"] is None
    del rec["data_fingerprint"], rec["results_version"]
    synthetic.write(rec)
    assert synthetic.done_ids() == {rec["trial_id"]}


def test_one_rule_says_which_sp_trial_stands_for_mup():
    configs = grid("synthetic_lr", "smoke", lrs=(1e-2,), seeds=(0,))
    sp_base = [c for c in configs if c.parametrization == "sp" and c.modes == c.base_modes]
    assert len(sp_base) == 1 and sp_base[0].at_base_modes()
    mup = sp_base[0].mirrored_mup()
    assert mup is not None and mup.is_mirrored_by_sp() and mup.parametrization == "mup"
    assert [c.mirrored_mup() for c in configs if c is not sp_base[0]] == [None, None]
    assert not any(c.is_mirrored_by_sp() for c in configs)  # the grid leaves it out ...
    assert grid_ids(configs) == {c.trial_id() for c in configs} | {mup.trial_id()}  # ... selects it
    only_mup = grid("synthetic_lr", "smoke", lrs=(1e-2,), seeds=(0,), parametrizations=("mup",))
    assert [c.is_mirrored_by_sp() for c in only_mup] == [True, False]  # no SP trial: run it
    assert grid_ids(only_mup) == {c.trial_id() for c in only_mup}


def test_an_sp_only_grid_gets_no_mirrored_mup_rows(tmp_path):
    """A store that also holds μP trials mirrors SP's K₀ trials as μP rows; a grid of SP alone
    (e.g. a study) must not receive them."""
    both = run_sweep("synthetic_lr", "smoke", str(tmp_path), seeds=[0], lrs=[1e-3], progress=False)
    assert set(both["parametrization"]) == {"sp", "mup"} and both["mirrored"].any()
    sp_only = run_sweep("synthetic_lr", "smoke", str(tmp_path), seeds=[0], lrs=[1e-3],
                        parametrizations=["sp"], progress=False)
    assert set(sp_only["parametrization"]) == {"sp"} and not sp_only["mirrored"].any()


# --- tables a chapter writes into the store, and the manifest (issue 27) -----------------------
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("table", ["results/smoke/coord_check/coord_check.csv",
                                   "results/smoke/theory/operator_norms.csv"])
def test_a_table_is_rewritten_only_beyond_round_off(table, tmp_path):
    """The committed tables on another CPU (measured: at most 2.3e-6 relative with PyTorch's DEFAULT
    kernels) stay untouched, byte for byte; a change of 1e-3 is written."""
    import pandas as pd

    from mufno_core.sweep.store import write_table

    path = tmp_path / "table.csv"
    shutil.copyfile(ROOT / table, path)
    committed = path.read_bytes()
    df = pd.read_csv(path)
    column = df.select_dtypes("float").columns[-1]
    assert not write_table(df.assign(**{column: df[column] * (1 + 3e-6)}), path)
    assert path.read_bytes() == committed
    assert write_table(df.assign(**{column: df[column] * (1 + 1e-3)}), path)
    assert path.read_bytes() != committed
    assert write_table(df.iloc[:-1], path)  # a row fewer is a change however close the rest


def test_every_record_written_is_in_the_manifest(tmp_path):
    from mufno_core.sweep import manifest

    store = ResultsStore(tmp_path, "synthetic_lr")
    run_sweep_trials(grid("synthetic_lr", "smoke")[:2], store, progress=False)
    found = manifest.check(tmp_path)
    assert found.ok and found.matching == 2
    record = next(store.folder.glob("*.json"))
    record.write_text(record.read_text().replace('"ok"', '"diverged"', 1))
    (store.folder / "stray.json").write_text("{}")
    (tmp_path / "synthetic_lr" / "gone.json").unlink(missing_ok=True)
    found = manifest.check(tmp_path)
    assert found.changed == [f"synthetic_lr/{record.name}"] and found.unlisted == ["synthetic_lr/stray.json"]
    assert "1 changed since the manifest was written" in found.line() and "1 not listed" in found.line()
    record.unlink()
    assert manifest.check(tmp_path).missing == [f"synthetic_lr/{record.name}"]
    assert manifest.write(tmp_path) == 2 and manifest.check(tmp_path).ok


def test_a_store_nested_in_a_committed_store_is_listed_in_its_manifest(tmp_path):
    """A study's sub-store (results/study/horizons) writes its lines into results/study's manifest,
    which the check of results/study reads."""
    from mufno_core.sweep import manifest

    (tmp_path / manifest.MANIFEST).write_text("")
    nested = ResultsStore(tmp_path / "horizons", "synthetic_lr")
    run_sweep_trials(grid("synthetic_lr", "smoke")[:1], nested, progress=False)
    assert not (tmp_path / "horizons" / manifest.MANIFEST).exists()
    found = manifest.check(tmp_path)
    assert found.ok and found.matching == 1
