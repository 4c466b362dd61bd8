"""Bad inputs and faults (issue 12): each ends in one line naming the problem, and nothing is lost.

Table-driven: a bad input, then the message expected. The CLI cases run ``mufno sweep`` in this
process and check that it stops before any trial (exit 2, nothing in the results store).
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import torch

from mufno_core.cli import main
from mufno_core.data.generate import generate, remove_stale_temporaries
from mufno_core.losses import relative_l2
from mufno_core.model import FNO
from mufno_core.mup import transfer_init_var, transfer_lr
from mufno_core.stacked import build_members, train_stacked
from mufno_core.sweep import grid
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.errors import error_groups, error_line
from mufno_core.sweep.executors import connect_dask, run_sweep_trials
from mufno_core.sweep.store import ResultsStore, StoreWarning, load_results
from mufno_core.sweep.validate import SweepConfigError, check_device, validate_trials
from mufno_core.train import TrainConfig, train


@pytest.fixture(scope="module")
def smoke_files(tmp_path_factory):
    """Good burgers and darcy smoke files, a 32-point burgers file and a seed-1 burgers file."""
    root = tmp_path_factory.mktemp("smoke_data")
    files = {
        "burgers": generate("burgers", "smoke", root / "burgers_smoke.h5", workers=1, progress=False),
        "darcy": generate("darcy", "smoke", root / "darcy_smoke.h5", workers=1, progress=False),
        "res32": generate("burgers", "smoke", root / "res32.h5", resolution=32, workers=1,
                          progress=False),
        "seed1": generate("burgers", "smoke", root / "seed1.h5", seed=1, workers=1, progress=False),
    }
    return files


def data_dir_with(tmp_path: Path, source: Path, name: str = "burgers_smoke.h5") -> Path:
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    shutil.copyfile(source, folder / name)
    return folder


def no_resolution(path: Path) -> None:
    with h5py.File(path, "r+") as h5:
        del h5.attrs["resolution"]


def nan_bytes(path: Path) -> None:
    """The issue's reproduction: 64 bytes of 0xff at the `input` dataset's offset + 768."""
    with h5py.File(path, "r") as h5:
        offset = h5["input"].id.get_offset()
    with open(path, "r+b") as fh:
        fh.seek(offset + 768)
        fh.write(b"\xff" * 64)


def nan_test_target(path: Path) -> None:
    with h5py.File(path, "r+") as h5:
        h5["target"][-1, 3] = np.nan


SWEEP = ["sweep", "synthetic_lr", "--preset", "smoke", "--no-progress", "--limit", "1"]
BURGERS = ["sweep", "burgers_lr", "--preset", "smoke", "--no-progress", "--limit", "2"]

# (name, argv, data file to place as data/burgers_smoke.h5 (key of smoke_files), how to damage
# it, expected message)
CLI_CASES = [
    ("steps not a number", [*SWEEP, "--set", "steps=abc"], None, None,
     "steps must be a positive int, got 'abc'"),
    ("depth not an int", [*SWEEP, "--set", "depth=2.5"], None, None,
     "depth must be a positive int, got 2.5"),
    ("modes not a number", [*SWEEP, "--set", "modes=abc"], None, None,
     "modes must be a positive int, got 'abc'"),
    ("negative seed", [*SWEEP, "--set", "seeds=-1"], None, None, "seed must be an int >= 0"),
    ("unknown device", [*SWEEP, "--device", "tpu"], None, None, "unknown device 'tpu'"),
    ("no workers", [*SWEEP, "--executor", "process", "--workers", "0"], None, None,
     "--workers must be a positive number"),
    ("batch larger than the training set", [*SWEEP, "--set", "batch_size=100"], None, None,
     "batch_size=100 is larger than the training set (16 samples)"),
    ("K too large for the synthetic grid", [*SWEEP, "--set", "modes=100"], None, None,
     "K=100 Fourier modes are too many for 64 grid points"),
    ("K too large for the data grid", [*BURGERS, "--set", "modes=40"], "burgers", None,
     "modes=40: K=40 Fourier modes are too many for 64 grid points"),
    ("more samples than the file", [*BURGERS, "--set", "n_train=1000"], "burgers", None,
     "n_train=1000: asks for more training samples than"),
    ("more test samples than the file", [*BURGERS, "--set", "n_test=1000"], "burgers", None,
     "n_test=1000: asks for more test samples than"),
    ("file without resolution", BURGERS, "burgers", no_resolution,
     "missing attribute 'resolution'"),
    ("darcy file under a burgers name", BURGERS, "darcy", None,
     "holds darcy data, but data set 'burgers' is burgers"),
    ("32-point file under the smoke name", BURGERS, "res32", None,
     "stored at 32 points per axis, but 'burgers' at preset 'smoke' has 64"),
    ("NaN bytes in the input", BURGERS, "burgers", nan_bytes, "the data contain NaN/inf"),
    ("NaN in a test target", BURGERS, "burgers", nan_test_target,
     "1 non-finite values in 'target'"),
]


@pytest.mark.parametrize("name,argv,source,damage,message", CLI_CASES,
                         ids=[c[0] for c in CLI_CASES])
def test_cli_rejects_before_any_trial(name, argv, source, damage, message, smoke_files, tmp_path,
                                      capsys):
    data_dir = tmp_path / "data"
    if source is not None:
        data_dir = data_dir_with(tmp_path, smoke_files[source])
        if damage is not None:
            damage(data_dir / "burgers_smoke.h5")
    results = tmp_path / "results"
    assert main([*argv, "--results", str(results), "--data-dir", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and "mufno sweep: error: " in err
    assert not list(results.rglob("*.json"))  # nothing trained, nothing written


def test_data_dir_that_is_a_file(tmp_path, capsys):
    file = tmp_path / "plain"
    file.write_text("x")
    assert main([*BURGERS, "--results", str(tmp_path / "r"), "--data-dir", str(file)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_validation_lists_every_problem_one_per_line(smoke_files, tmp_path):
    data_dir = data_dir_with(tmp_path, smoke_files["burgers"])
    configs = grid("burgers_lr", "smoke", modes=(2, 40), n_train=1000, batch_size=100)
    with pytest.raises(SweepConfigError) as caught:
        validate_trials(configs, data_dir, device="tpu")
    lines = str(caught.value).splitlines()
    assert len(lines) == len(set(lines)) == 4, lines
    assert any("tpu" in line for line in lines) and any("K=40" in line for line in lines)


@pytest.mark.parametrize("device,message", [("tpu", "unknown device"), (3, "must be a string"),
                                            ("cuda:99", "CUDA")])
def test_bad_device(device, message):
    if device == "cuda:99" and torch.cuda.device_count() > 99:
        pytest.skip("a machine with 100 GPUs")
    with pytest.raises(ValueError, match=message):
        check_device(device)


def _silent_server():
    """A TCP server that accepts connections and never says a word (not Dask)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    conns = []

    def accept():
        while True:
            try:
                conns.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return server, conns


def _http_server():
    """A TCP server that answers every connection with an HTTP response (another protocol)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def serve():
        while True:
            try:
                conn = server.accept()[0]
            except OSError:
                return
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>hello</html>\n")

    threading.Thread(target=serve, daemon=True).start()
    return server, []


@pytest.mark.parametrize("make_server,message", [
    (_silent_server, "no Dask scheduler answered"),
    (_http_server, "cannot use the Dask scheduler"),
])
def test_dask_address_that_does_not_speak_dask_fails_in_one_line(make_server, message):
    pytest.importorskip("distributed")
    server, _ = make_server()
    try:
        port = server.getsockname()[1]
        with pytest.raises((TimeoutError, ValueError), match=message):
            connect_dask(f"tcp://127.0.0.1:{port}", timeout=3)
    finally:
        server.close()


def tiny_data(n=10, res=16):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, res, generator=g)
    return x, x.roll(1, -1)


def run_train(batch_size=20, test_nan=False):
    x, y = tiny_data()
    xt, yt = tiny_data(4)
    if test_nan:
        yt = yt.clone()
        yt[0, 0, 0] = math.nan
    model = FNO(1, 1, 1, 2, width=4, depth=1)
    train(model, (x, y), (xt, yt), TrainConfig(steps=2, batch_size=batch_size), progress=False)


def run_train_stacked(batch_size=20):
    x, y = tiny_data()
    configs = [TrainConfig(lr=lr, steps=2, batch_size=batch_size) for lr in (1e-3, 1e-2)]
    models = build_members(lambda: FNO(1, 1, 1, 2, width=4, depth=1), [c.seed for c in configs])
    train_stacked(models, (x, y), None, configs, progress=False)


API_CASES = [
    ("FNO with fractional modes", lambda: FNO(1, 1, 1, modes=2.7), "modes must be a positive int"),
    ("FNO with wrong channel count",
     lambda: FNO(1, 1, 1, 2, width=4, depth=1)(torch.zeros(2, 3, 16)),
     "takes 1 input channel(s), got 3"),
    ("negative LR to transfer", lambda: transfer_lr(-1, 3, 24), "lr must be a positive"),
    ("K = 1 to transfer", lambda: transfer_lr(1e-3, 1, 24), "K >= 2"),
    ("negative variance to transfer", lambda: transfer_init_var(-1.0, 3, 24), "var must be"),
    ("loss with a broadcasting target",
     lambda: relative_l2(torch.zeros(4, 1, 32), torch.ones(4, 1, 1)),
     "prediction and target shapes differ"),
    ("batch larger than the data (train)", lambda: run_train(batch_size=100),
     "batch_size=100 is larger than the training set (10 samples)"),
    ("batch larger than the data (stacked)", lambda: run_train_stacked(batch_size=100),
     "batch_size=100 is larger than the training set (10 samples)"),
    ("NaN in the test targets", lambda: run_train(batch_size=5, test_nan=True),
     "test targets contain NaN/inf"),
    ("negative seed in a trial", lambda: grid("synthetic_lr", "smoke", seeds=(-1,)),
     "seed must be an int >= 0"),
    ("a float where an int belongs", lambda: grid("synthetic_lr", "smoke", width=8.5),
     "width must be a positive int, got 8.5"),
    ("a string where a float belongs", lambda: grid("synthetic_lr", "smoke", init_scale="x"),
     "init_scale must be a positive finite number"),
]


@pytest.mark.parametrize("name,call,message", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_bad_input_is_one_clear_error(name, call, message):
    with pytest.raises(ValueError) as caught:
        call()
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_nan_in_training_data_is_refused_not_diverged(smoke_files, tmp_path):
    data_dir = data_dir_with(tmp_path, smoke_files["burgers"])
    nan_bytes(data_dir / "burgers_smoke.h5")
    from mufno_core.data import load_splits

    with pytest.raises(ValueError, match="burgers_smoke.h5: the training inputs contain"):
        load_splits(data_dir / "burgers_smoke.h5")


def frame(statuses, errors):
    return pd.DataFrame({"trial_id": [f"t{i}" for i in range(len(statuses))], "status": statuses,
                         "error": errors})


def test_error_line():
    assert error_line(frame(["ok", "diverged"], [None, None])) is None
    df = frame(["error", "ok", "error", "error"],
               ["ValueError: K=100 Fourier modes are too many for 64 grid points\nmore", None,
                "ValueError: K=100 Fourier modes are too many for 64 grid points\nmore",
                "RuntimeError: out of memory"])
    line = error_line(df)
    assert line == ("3 of 4 trials failed with an error (commonest: ValueError: K=100 Fourier "
                    "modes are too many for 64 grid points; 2 different reasons); they are left "
                    "out of the analysis")
    groups = error_groups(df)
    assert list(groups["count"]) == [2, 1] and groups["trial_id"][0] == "t0"
    mirrored = pd.concat([df, df.iloc[:1].assign(mirrored=True)]).assign(
        mirrored=lambda d: d["mirrored"].fillna(False) if "mirrored" in d else False)
    assert error_line(mirrored).startswith("3 of 4 trials")


def test_cli_summary_says_why_trials_failed(tmp_path, capsys, monkeypatch):
    def broken_model(config, device):
        raise RuntimeError("the model could not be built (a test fault)")

    monkeypatch.setattr(TrialConfig, "build_model", broken_model)
    argv = [*SWEEP[:-1], "2", "--results", str(tmp_path)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("2 of 2 trials failed with an error (commonest: RuntimeError: the "
                            "model could not be built")
    assert "2 × RuntimeError" in out and "traceback: " in out


def test_store_skips_foreign_and_copied_records(tmp_path):
    configs = grid("synthetic_lr", "smoke")[:2]
    store = ResultsStore(tmp_path, "synthetic_lr")
    run_sweep_trials(configs, store, progress=False)
    first = store.path(configs[0].trial_id())
    shutil.copyfile(first, store.folder / "copy.json")  # a record copied under a second name
    other = ResultsStore(tmp_path, "burgers_lr")
    record = json.loads(first.read_text())
    record = {**record, "config": {**record["config"], "experiment": "burgers_lr"}}
    record["trial_id"] = TrialConfig.from_dict(record["config"]).trial_id()
    (store.folder / f"{record['trial_id']}.json").write_text(json.dumps(record))
    with pytest.warns(StoreWarning) as caught:
        df = load_results(tmp_path, "synthetic_lr")
    message = str(caught[0].message)
    assert len(df) == 2 and "copy.json" in message and "'burgers_lr' inside" in message
    assert not other.folder.exists()
    assert oct(first.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_stale_temporary_of_a_dead_writer_is_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "burgers_smoke.h5"
    stale = tmp_path / f"burgers_smoke.h5.tmp{dead.pid}"
    live = tmp_path / f"burgers_smoke.h5.tmp{os.getpid()}"
    stale.write_bytes(b"half")
    live.write_bytes(b"mine")
    assert remove_stale_temporaries(out) == [stale]
    assert not stale.exists() and live.exists()


def test_disk_full_is_one_line_and_removes_the_partial_file(tmp_path, monkeypatch, capsys):
    from mufno_core.data import generate as gen

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setitem(gen.CHUNK_FUNCTIONS, "burgers", full)
    out = tmp_path / "b.h5"
    argv = ["data", "burgers", "--preset", "smoke", "--out", str(out), "--workers", "1",
            "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "disk full while writing" in err and "partial file was removed" in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_renamed_record_alone_still_counts(tmp_path):
    configs = grid("synthetic_lr", "smoke")[:1]
    store = ResultsStore(tmp_path, "synthetic_lr")
    run_sweep_trials(configs, store, progress=False)
    store.path(configs[0].trial_id()).rename(store.folder / "renamed.json")
    assert len(load_results(tmp_path)) == 1
    loose = tmp_path / "elsewhere"  # records outside an experiment's folder are not foreign
    loose.mkdir()
    shutil.copyfile(store.folder / "renamed.json", loose / f"{configs[0].trial_id()}.json")
    assert len(load_results(loose)) == 1


@pytest.mark.parametrize("field,value", [("steps", "abc"), ("beta2", 1.0), ("seed", -1),
                                         ("clip_params", "lift"), ("lr_decay_gamma", 0),
                                         ("batch_size", 2.5)])
def test_a_trial_checks_its_training_fields_as_the_trainer_does(field, value):
    with pytest.raises(ValueError) as by_trainer:
        TrainConfig(**{field: value})
    with pytest.raises(ValueError) as by_trial:
        grid("synthetic_lr", "smoke")[0].with_(**{field: value})
    assert str(by_trial.value) == str(by_trainer.value) and field in str(by_trial.value)
