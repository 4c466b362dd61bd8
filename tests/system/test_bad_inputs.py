"""Bad inputs and faults (issues 12 and 21): each ends in one line naming the problem, nothing lost.

Table-driven: a bad input, then the message expected. The catalogue (:data:`CASES`) runs
``mufno sweep`` in this process on tiny smoke files and checks that it stops before any trial:
the exit code, the one line naming what is wrong, no traceback, no "ok"/"diverged" record kept.
Signals and crashes are tested in ``tests/sweep/test_executors.py`` and ``tests/test_cli.py``.
"""

from __future__ import annotations

import errno
import functools
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import torch

from mufno_core.analysis.optima import NoEvidence, lr_exponent, optimal_lr_per_k
from mufno_core.analysis.summary import summary_table
from mufno_core.book.plots import plot_hparam_curves, plot_lr_curves
from mufno_core.cli.main import main
from mufno_core.data.generate import generate, remove_stale_temporaries
from mufno_core.data.integrity import inspect_file
from mufno_core.losses import relative_l2
from mufno_core.model import FNO
from mufno_core.mup import transfer_init_var, transfer_lr
from mufno_core.stacked import build_members, train_stacked
from mufno_core.sweep import grid, validate
from mufno_core.sweep.config import SCHEMA, TrialConfig
from mufno_core.sweep.errors import error_groups, error_line
from mufno_core.sweep.executors import connect_dask, run_sweep_trials
from mufno_core.sweep.store import (
    ResultsStore,
    StoreWarning,
    finished_trials,
    load_results,
    records_to_frame,
)
from mufno_core.sweep.trial import error_record
from mufno_core.sweep.validate import SweepConfigError, check_device, validate_trials
from mufno_core.train import TrainConfig, train


@pytest.fixture(scope="session")
def smoke_files(tmp_path_factory):
    """Good burgers, darcy and (6-sample) Navier–Stokes smoke files, and a 32-point burgers file."""
    root = tmp_path_factory.mktemp("smoke_data")
    make = functools.partial(generate, preset="smoke", workers=1, progress=False)
    return {
        "burgers": make("burgers", out=root / "burgers_smoke.h5"),
        "darcy": make("darcy", out=root / "darcy_smoke.h5"),
        "res32": make("burgers", out=root / "res32.h5", resolution=32),
        "navier_stokes": make("navier_stokes", out=root / "ns.h5", n_train=4, n_test=2),
    }


def data_dir_with(tmp_path: Path, source: Path, name: str = "burgers_smoke.h5") -> Path:
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    shutil.copyfile(source, folder / name)
    return folder


# --- ways to damage a data file (each takes its path) -------------------------------------------
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


def replace_dataset(name: str, change: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    """Rewrite dataset ``name`` as ``change(its values)``, attributes untouched."""
    def damage(path: Path) -> None:
        with h5py.File(path, "r+") as h5:
            values = change(h5[name][()])
            del h5[name]
            h5[name] = values
    return damage


def set_attribute(key: str, value) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        with h5py.File(path, "r+") as h5:
            h5.attrs[key] = value
    return damage


def delete(name: str) -> Callable[[Path], None]:
    """Remove dataset or attribute ``name``."""
    def damage(path: Path) -> None:
        with h5py.File(path, "r+") as h5:
            del (h5 if name in h5 else h5.attrs)[name]
    return damage


def chain(*damages: Callable[[Path], None]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        for step in damages:
            step(path)
    return damage


def arrays_at_32(path: Path) -> None:
    """The issue's file: arrays of 32 points while the attributes and the grid say 64."""
    for name in ("input", "target"):
        replace_dataset(name, lambda a: a[:, ::2])(path)


def input_group(path: Path) -> None:
    with h5py.File(path, "r+") as h5:
        del h5["input"]
        h5.create_group("input")


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garbage(path: Path) -> None:
    path.write_bytes(b"this is not hdf5" * 100)


def empty(path: Path) -> None:
    path.write_bytes(b"")


def folder_instead(path: Path) -> None:
    path.unlink()
    path.mkdir()


# --- the catalogue ------------------------------------------------------------------------------
SWEEP = ["sweep", "synthetic_lr", "--preset", "smoke", "--no-progress", "--limit", "1"]
BURGERS = ["sweep", "burgers_lr", "--preset", "smoke", "--no-progress", "--limit", "2"]
NAVIER_STOKES = ["sweep", "navier_stokes_lr", "--preset", "smoke", "--no-progress", "--limit", "1",
                 "--set", "n_train=4", "--set", "n_test=2", "--set", "batch_size=2"]
FILE_OF = {"burgers": "burgers_smoke.h5", "darcy": "burgers_smoke.h5",
           "res32": "burgers_smoke.h5", "navier_stokes": "navier_stokes_smoke.h5"}
"""Where each source file is placed in the data folder (darcy under burgers' name on purpose)."""
GIB = 2**30


@dataclass(frozen=True)
class Case:
    """A bad input: the command line, the data file placed (a key of ``smoke_files``) and how it
    is damaged, the folders (``paths``: tmp_path -> {"results": …, "data_dir": …}), this machine's
    memory as validation sees it (None: the real one), then the exit code and the message."""

    name: str
    argv: list[str]
    message: str
    source: str | None = None
    damage: Callable[[Path], None] | None = None
    paths: Callable[[Path], dict[str, str]] | None = None
    memory: int | None = None
    code: int = 2


def a_file(tmp_path: Path) -> Path:
    (tmp_path / "plain").write_text("x")
    return tmp_path / "plain"


def read_only(tmp_path: Path) -> Path:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


ROOT_WRITES_ANYWHERE = os.name != "posix" or os.geteuid() == 0

CASES = [
    # settings: type and range, checked when the grid is made
    Case("steps not a number", [*SWEEP, "--set", "steps=abc"],
         "steps must be a positive int, got 'abc'"),
    Case("steps zero", [*SWEEP, "--set", "steps=0"], "steps must be a positive int, got 0"),
    Case("steps and epochs both", [*SWEEP, "--set", "epochs=2"],
         "give exactly one budget: steps or epochs"),
    Case("depth not an int", [*SWEEP, "--set", "depth=2.5"], "depth must be a positive int, got 2.5"),
    Case("width zero", [*SWEEP, "--set", "width=0"], "width must be a positive int, got 0"),
    Case("modes not a number", [*SWEEP, "--set", "modes=abc"],
         "modes must be a positive int, got 'abc'"),
    Case("K = 1 under muP", [*SWEEP, "--set", "modes=1"], "μP needs K >= 2"),
    Case("negative seed", [*SWEEP, "--set", "seeds=-1"], "seed must be an int >= 0"),
    Case("seed 1e23 (a float)", [*SWEEP, "--set", "seeds=1e23"],
         "seed must be an int >= 0 and < 2**64 (torch's seed range), got 1e+23"),
    Case("seed 10^23 (an int)", [*SWEEP, "--set", "seeds=100000000000000000000000"],
         "seed must be an int >= 0 and < 2**64 (torch's seed range), got 100000000000000000000000"),
    Case("seed 2^64", [*SWEEP, "--set", f"seeds={2**64}"], f"got {2**64}"),
    Case("negative LR", [*SWEEP, "--set", "lrs=-1"], "lr must be a positive finite number"),
    Case("NaN LR", [*SWEEP, "--set", "lrs=nan"], "lr must be a positive finite number, got nan"),
    Case("infinite LR", [*SWEEP, "--set", "lrs=inf"], "lr must be a positive finite number, got inf"),
    Case("beta2 = 1", [*SWEEP, "--set", "beta2s=1.0"], "beta2 must be in [0, 1), got 1.0"),
    Case("batch size zero", [*SWEEP, "--set", "batch_size=0"],
         "batch_size must be a positive int, got 0"),
    Case("negative clip value", [*SWEEP, "--set", "clip_value=-1"], "clip_value must be a positive"),
    Case("init scale zero", [*SWEEP, "--set", "init_scale=0"], "init_scale must be a positive"),
    Case("unknown parametrization", [*SWEEP, "--set", "parametrizations=xyz"],
         "parametrization must be"),
    Case("n_train zero", [*SWEEP, "--set", "n_train=0"], "n_train must be a positive int, got 0"),
    Case("n_test zero", [*SWEEP, "--set", "n_test=0"], "n_test must be a positive int, got 0"),
    Case("unknown setting", [*SWEEP, "--set", "colour=red"], "unknown override 'colour'"),
    Case("setting without a value", [*SWEEP, "--set", "steps"], "--set expects KEY=VALUE"),
    Case("the experiment's own field", [*SWEEP, "--set", "dataset=burgers"],
         "'dataset' is set by the experiment"),
    Case("unknown experiment", ["sweep", "no_such_sweep", "--preset", "smoke"],
         "no_such_sweep"),
    # the command line: options and paths
    Case("unknown device", [*SWEEP, "--device", "tpu"], "unknown device 'tpu'"),
    Case("no workers", [*SWEEP, "--executor", "process", "--workers", "0"],
         "--workers must be a positive number"),
    Case("workers not a number", [*SWEEP, "--workers", "abc"], "invalid int value: 'abc'"),
    Case("unknown preset", [*SWEEP, "--preset", "huge"], "invalid choice: 'huge'"),
    Case("unknown executor", [*SWEEP, "--executor", "slurm"], "invalid choice: 'slurm'"),
    Case("limit zero", [*SWEEP, "--limit", "0"], "--limit must be positive, got 0"),
    Case("empty --results", [*SWEEP, "--results", ""], "--results is empty; give a folder"),
    Case("empty --data-dir", [*BURGERS, "--data-dir", ""], "--data-dir is empty; give a folder"),
    Case("blank --results", [*SWEEP, "--results", " "], "--results is empty"),
    Case("--results is a file", SWEEP, "is a file, not a folder",
         paths=lambda tmp: {"results": str(a_file(tmp))}),
    Case("--results under a file", SWEEP, "a file, not a folder",
         paths=lambda tmp: {"results": str(a_file(tmp) / "sub")}),
    Case("--data-dir is a file", BURGERS, "is a file, not a folder",
         paths=lambda tmp: {"data_dir": str(a_file(tmp))}),
    Case("--data-dir under a file", BURGERS, "a file, not a folder",
         paths=lambda tmp: {"data_dir": str(a_file(tmp) / "data")}),
    pytest.param(Case("results store without write permission", SWEEP, "cannot write in",
                      paths=lambda tmp: {"results": str(read_only(tmp))}),
                 marks=pytest.mark.skipif(ROOT_WRITES_ANYWHERE,
                                          reason="root writes into a read-only folder"),
                 id="results store without write permission"),
    pytest.param(Case("results store where no file can be made", SWEEP, "cannot write in /proc",
                      paths=lambda tmp: {"results": "/proc/mufno-results"}),
                 marks=pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="no /proc"),
                 id="results store where no file can be made"),
    # sizes: against the data and this machine's memory
    Case("batch larger than the training set", [*SWEEP, "--set", "batch_size=100"],
         "batch_size=100 is larger than the training set (16 samples)"),
    Case("K too large for the synthetic grid", [*SWEEP, "--set", "modes=100"],
         "K=100 Fourier modes are too many for 64 grid points"),
    Case("width 10^7", [*SWEEP, "--set", "width=10000000"],
         "width=10000000, depth=2, modes=2, batch_size=8: one trial needs"),
    Case("depth 10^6 on a 16 GiB machine", [*SWEEP, "--set", "depth=1000000"],
         "depth=1000000, modes=2, batch_size=8: one trial needs 38.3 GiB", memory=16 * GIB),
    Case("depth 10^8", [*SWEEP, "--set", "depth=100000000"], "more than this machine's"),
    Case("n_train = 1", [*BURGERS, "--set", "n_train=1", "--set", "batch_size=1"],
         "n_train=1: the data's normaliser is fitted on the training samples and needs at "
         "least 2", "burgers"),
    Case("K too large for the data grid", [*BURGERS, "--set", "modes=40"],
         "modes=40: K=40 Fourier modes are too many for 64 grid points", "burgers"),
    Case("more samples than the file", [*BURGERS, "--set", "n_train=1000"],
         "n_train=1000: asks for more training samples than", "burgers"),
    Case("more test samples than the file", [*BURGERS, "--set", "n_test=1000"],
         "n_test=1000: asks for more test samples than", "burgers"),
    Case("subsample that does not divide the grid", [*BURGERS, "--set", "subsample=3"],
         "subsample=3: ", "burgers"),
    # data files against their own description and against the trial
    Case("file without resolution", BURGERS, "missing attribute 'resolution'", "burgers",
         no_resolution),
    Case("darcy file under a burgers name", BURGERS,
         "holds darcy data, but data set 'burgers' is burgers", "darcy"),
    Case("32-point file under the smoke name", BURGERS,
         "stored at 32 points per axis, but 'burgers' at preset 'smoke' has 64", "res32"),
    Case("arrays of 32 points, attributes and grid of 64", BURGERS,
         "burgers_smoke.h5: wrong layout for burgers: dataset 'input' has shape (48, 32), but the "
         "attributes (n_train + n_test = 48, resolution = 64) say (48, 64)", "burgers", arrays_at_32),
    Case("grid of 32 points, arrays of 64", BURGERS, "dataset 'grid' has shape (32, 1)", "burgers",
         replace_dataset("grid", lambda a: a[::2])),
    Case("input a group, not a dataset", BURGERS, "burgers_smoke.h5: 'input' is a group, not a "
         "dataset", "burgers", input_group),
    Case("target missing", BURGERS, "missing dataset(s) ['target']", "burgers", delete("target")),
    Case("n_train attribute 'abc'", BURGERS,
         "burgers_smoke.h5: attribute 'n_train' must be an integer, got 'abc'", "burgers",
         set_attribute("n_train", "abc")),
    Case("n_train attribute 2.5", BURGERS, "attribute 'n_train' must be an integer, got", "burgers",
         set_attribute("n_train", 2.5)),
    Case("resolution attribute a string", BURGERS,
         "attribute 'resolution' must be an integer, got '64'", "burgers",
         set_attribute("resolution", "64")),
    Case("n_test attribute negative", BURGERS, "attribute 'n_test' must be >= 0, got -1", "burgers",
         set_attribute("n_test", -1)),
    Case("n_train attribute larger than the arrays", BURGERS,
         "dataset 'input' has shape (48, 64), but the attributes (n_train + n_test = 116",
         "burgers", set_attribute("n_train", 100)),
    Case("unknown pde attribute", BURGERS, "attribute 'pde' is 'heat'", "burgers",
         set_attribute("pde", "heat")),
    Case("integer input values", BURGERS, "dataset 'input' holds int64, not floating-point",
         "burgers", replace_dataset("input", lambda a: a.astype(np.int64))),
    Case("text target values", BURGERS, "dataset 'target' holds |S8, not floating-point",
         "burgers", replace_dataset("target", lambda a: a.astype("S8"))),
    Case("generation did not complete", BURGERS, "generation did not complete", "burgers",
         set_attribute("complete", False)),
    Case("truncated file", BURGERS, "(truncated or corrupt?)", "burgers", truncate),
    Case("not an HDF5 file", BURGERS, "(truncated or corrupt?)", "burgers", garbage),
    Case("empty file", BURGERS, "(truncated or corrupt?)", "burgers", empty),
    Case("a folder where the data file belongs", BURGERS, "is a folder", "burgers",
         folder_instead),
    Case("NaN bytes in the input", BURGERS, "the data contain NaN/inf", "burgers", nan_bytes),
    Case("NaN in a test target", BURGERS, "1 non-finite values in 'target'", "burgers",
         nan_test_target),
    Case("Navier–Stokes input of 5 steps, attributes of 10", NAVIER_STOKES,
         "navier_stokes_smoke.h5: wrong layout for navier_stokes: dataset 'input' has shape "
         "(6, 16, 16, 5)", "navier_stokes", replace_dataset("input", lambda a: a[..., :5])),
    Case("Navier–Stokes file of 5 input channels for a trial of 10", NAVIER_STOKES,
         "dataset 'input' gives 5 channel(s) (shape (6, 16, 16, 5)), but experiment "
         "'navier_stokes_lr' expects in_channels=10", "navier_stokes",
         chain(replace_dataset("input", lambda a: a[..., :5]),
               replace_dataset("t_input", lambda a: a[:5]), set_attribute("const_t_in", 5))),
    Case("Navier–Stokes file without its time steps", NAVIER_STOKES,
         "missing attribute 'const_t_in'", "navier_stokes", delete("const_t_in")),
    Case("Navier–Stokes t_target of the wrong length", NAVIER_STOKES,
         "dataset 't_target' has shape (4,)", "navier_stokes",
         replace_dataset("t_target", lambda a: a[:4])),
]


def kept_results(root: Path) -> list[Path]:
    """Records under ``root`` that claim a result ("ok" or "diverged")."""
    kept = []
    for path in root.rglob("*.json"):
        if not path.is_file():  # a FIFO would block
            continue
        try:
            status = json.loads(path.read_text()).get("status")
        except (OSError, ValueError, AttributeError, RecursionError):
            continue
        if status in ("ok", "diverged"):
            kept.append(path)
    return kept


def run_cli(argv: list[str]) -> int:
    """``mufno ARGV`` in this process; argparse's exit counts as the exit code."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)


@pytest.mark.parametrize("case", CASES,
                         ids=[c.name if isinstance(c, Case) else c.id for c in CASES])
def test_bad_input_ends_in_one_line_before_any_trial(case, smoke_files, tmp_path, capsys,
                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything written relative to the working folder lands here
    paths = {"results": str(tmp_path / "results"), "data_dir": str(tmp_path / "data")}
    if case.source is not None:
        data_dir_with(tmp_path, smoke_files[case.source], FILE_OF[case.source])
        if case.damage is not None:
            case.damage(tmp_path / "data" / FILE_OF[case.source])
    if case.paths is not None:
        paths.update(case.paths(tmp_path))
    if case.memory is not None:
        monkeypatch.setattr(validate, "machine_memory", lambda: case.memory)
    argv = [*case.argv[:2], "--results", paths["results"], "--data-dir", paths["data_dir"],
            *case.argv[2:]]
    code = run_cli(argv)
    out, err = capsys.readouterr()
    assert code == case.code, err
    assert "Traceback" not in out + err
    assert any(case.message in line for line in err.splitlines()), err
    assert not kept_results(tmp_path)


def test_the_catalogue_holds_every_case_of_issue_21():
    names = {c.name if isinstance(c, Case) else c.id for c in CASES}
    assert len(names) == len(CASES) >= 60
    issue = {"arrays of 32 points, attributes and grid of 64", "input a group, not a dataset",
             "n_train attribute 'abc'", "empty --results", "empty --data-dir",
             "depth 10^6 on a 16 GiB machine", "seed 1e23 (a float)", "width 10^7",
             "Navier–Stokes file of 5 input channels for a trial of 10", "n_train = 1",
             "results store without write permission", "results store where no file can be made"}
    assert issue <= names


def test_a_trial_that_fits_is_not_refused(smoke_files, tmp_path, monkeypatch):
    configs = grid("synthetic_lr", "smoke", depth=1000000)
    monkeypatch.setattr(validate, "machine_memory", lambda: 64 * GIB)  # 38.3 GiB fit here
    validate_trials(configs[:1], tmp_path)
    monkeypatch.setattr(validate, "machine_memory", lambda: 32 * GIB)
    with pytest.raises(SweepConfigError, match="38.3 GiB"):
        validate_trials(configs[:1], tmp_path)


@pytest.mark.parametrize("source", ["burgers", "darcy", "navier_stokes"])
def test_a_generated_file_matches_its_description(source, smoke_files):
    facts = inspect_file(smoke_files[source])
    assert facts.n_train + facts.n_test == facts.input_shape[0]
    assert facts.in_channels == (10 if source == "navier_stokes" else 1)


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
            connect_dask(f"tcp://127.0.0.1:{port}", timeout=2)
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


# --- analysis of a store that holds no evidence (issue 21, item 4) ----------------------------
def frame_of(kind: str) -> pd.DataFrame:
    """A results frame that holds no measurement: no records, or only "error" records."""
    configs = grid("synthetic_lr", "smoke")
    records = [] if kind == "empty" else [error_record(c, "cpu", "ValueError: a test fault")
                                          for c in configs]
    return records_to_frame(records)


ANALYSIS_CASES = [
    (f"{kind} store: {name}", kind, call)
    for kind in ("empty", "error-only")
    for name, call in (("summary_table", summary_table), ("plot_lr_curves", plot_lr_curves),
                       ("plot_hparam_curves", lambda df: plot_hparam_curves(df, "batch_size")),
                       ("optimal_lr_per_k", optimal_lr_per_k), ("lr_exponent", lr_exponent))
]


@pytest.mark.parametrize("name,kind,call", ANALYSIS_CASES, ids=[c[0] for c in ANALYSIS_CASES])
def test_analysis_of_no_evidence_is_one_sentence(name, kind, call):
    with pytest.raises(NoEvidence) as caught:
        call(frame_of(kind))
    message = str(caught.value)
    assert "\n" not in message and "no trial with a valid status" in message


def test_a_sweep_where_every_trial_diverged_estimates_nothing(tmp_path, capsys):
    argv = [*SWEEP[:-1], "2", "--set", "lrs=1e30", "--results", str(tmp_path)]
    assert run_cli(argv) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "every one of the 2 measured trials diverged" in out
    assert "[+0.00, +0.00]" not in out and "1.00e+30 [" not in out


def synthetic_record(config: TrialConfig, loss: float, status: str | None = "ok") -> dict:
    record = {"schema": SCHEMA, "trial_id": config.trial_id(), "config": config.to_dict(),
              "final_train_loss": loss, "final_test_loss": loss, "diverged": False}
    return record if status is None else {**record, "status": status}


def test_a_record_without_a_status_is_never_a_result(tmp_path):
    """The issue's case: a status-less record at lr = 0.5 moved the optimum to 0.5."""
    store = ResultsStore(tmp_path, "synthetic_lr")
    configs = grid("synthetic_lr", "smoke")
    for c in configs:  # a bowl in log10 LR around 10^-2.25, a little worse for seed 1
        store.write(synthetic_record(c, 1 + (math.log10(c.lr) + 2.25) ** 2 + 0.01 * c.seed))
    before = optimal_lr_per_k(load_results(tmp_path))
    stray = configs[0].with_(lr=0.5)
    store.write(synthetic_record(stray, 1e-6, status=None))
    with pytest.warns(StoreWarning, match="no valid status"):
        after = optimal_lr_per_k(load_results(tmp_path))
    pd.testing.assert_frame_equal(before, after)
    store.write(synthetic_record(stray, 1e-6, status="ok"))  # the same record as a result moves it
    moved = optimal_lr_per_k(load_results(tmp_path))
    assert not moved["lr_opt"].equals(before["lr_opt"])
    frame = load_results(tmp_path).assign(status=lambda d: d["status"].where(d["lr"] != 0.5))
    assert 0.5 not in set(finished_trials(frame)["lr"])
    assert finished_trials(frame.drop(columns="status")).empty


@pytest.mark.parametrize("call,message", [
    (lambda tmp: ResultsStore("", "synthetic_lr"), "the results folder is empty"),
    (lambda tmp: validate_trials(grid("synthetic_lr", "smoke")[:1], ""), "data folder is empty"),
    (lambda tmp: validate_trials(grid("synthetic_lr", "smoke")[:1], tmp, results="/proc/x"),
     "results folder /proc/x: cannot write in /proc"),
])
def test_the_api_refuses_empty_and_unwritable_folders(call, message, tmp_path):
    if "/proc" in message and not Path("/proc/self").is_dir():
        pytest.skip("no /proc")
    with pytest.raises(ValueError) as caught:
        call(tmp_path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


DATA_CASES = [
    ("empty --out", ["burgers", "--out", ""], "is a folder, not a file name"),
    ("--out a folder", ["burgers", "--out", "."], "is a folder, not a file name"),
    ("--out under a file", ["burgers", "--out", "plain/b.h5"], "is a file, not a folder"),
    ("no samples", ["burgers", "--n", "0"], "n_train must be an int >= 1, got 0"),
    ("negative test samples", ["burgers", "--n-test", "-1"], "n_test must be an int >= 0, got -1"),
    ("no grid points", ["burgers", "--res", "0"], "resolution must be an int >= 1, got 0"),
    ("negative seed", ["burgers", "--seed", "-1"], "seed must be an int >= 0, got -1"),
    ("no workers", ["burgers", "--workers", "0"], "workers must be a positive int, got 0"),
    ("samples not a number", ["burgers", "--n", "many"], "invalid int value: 'many'"),
    ("unknown data set", ["heat"], "invalid choice: 'heat'"),
    ("no data set", [], "give a data set name"),
]


@pytest.mark.parametrize("name,argv,message", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_mufno_data_refuses_in_one_line(name, argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plain").write_text("x")
    workers = [] if "--workers" in argv else ["--workers", "1"]
    code = run_cli(["data", *argv, "--preset", "smoke", "--no-progress", *workers])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in out + err
    assert any(message in line for line in err.splitlines()), err
    assert not list(tmp_path.rglob("*.h5*"))


# --- hostile files in a results store (issue 27) ------------------------------------------------
def deep_json(folder: Path, trial_id: str) -> None:
    """A file named like a record holding JSON nested 100000 deep (RecursionError in json)."""
    (folder / "0000000000000000.json").write_text("[" * 100000 + "]" * 100000)


def fifo_record(folder: Path, trial_id: str) -> None:
    """A FIFO named like a record: opening it for reading blocks until a writer comes."""
    os.mkfifo(folder / "0000000000000000.json")


def folder_at_record(folder: Path, trial_id: str) -> None:
    """A folder where the sweep's first trial must write its record."""
    (folder / f"{trial_id}.json").mkdir()


STORE_CASES = [
    # name, what is put in the store, exit code, the line expected on stderr
    ("a record of JSON nested 100000 deep", deep_json, 0, "JSON nested too deeply to be a record"),
    ("a FIFO named like a record", fifo_record, 2, "(a FIFO (named pipe)); move it away and rerun"),
    ("a folder at a record's path", folder_at_record, 2, "(a folder); move it away and rerun"),
]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
@pytest.mark.timeout(120, method="signal")  # a hang fails here: SIGALRM interrupts a FIFO's open
@pytest.mark.parametrize("name,put,code,message", STORE_CASES, ids=[c[0] for c in STORE_CASES])
def test_a_hostile_file_in_the_store_ends_in_one_line(name, put, code, message, tmp_path, capsys,
                                                      monkeypatch):
    """Each ends within a minute (a FIFO hung the sweep forever, deep JSON ended it in a
    RecursionError traceback, a folder in a bare [Errno 21] after training), with one line naming
    the file; a file that is not a record is skipped with a warning, one in a record's way stops
    the sweep before any trial. (In this process: a sweep's Python with torch costs 2 s of CPU.)"""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "results" / "synthetic_lr"
    folder.mkdir(parents=True)
    trial_id = grid("synthetic_lr", "smoke")[0].trial_id()
    put(folder, trial_id)
    with warnings.catch_warnings(record=True) as caught:  # a skipped file is a StoreWarning
        warnings.simplefilter("always")
        got = run_cli([*SWEEP, "--results", str(tmp_path / "results")])
    out, err = capsys.readouterr()
    assert got == code, err
    assert "Traceback" not in out + err
    lines = err.splitlines() + [line for w in caught for line in str(w.message).splitlines()]
    assert any(message in line for line in lines), lines
    assert len(kept_results(tmp_path)) == (1 if code == 0 else 0)


def test_load_results_skips_a_deeply_nested_record(tmp_path):
    folder = tmp_path / "synthetic_lr"
    folder.mkdir()
    deep_json(folder, "")
    with pytest.warns(StoreWarning, match="nested too deeply"):
        assert load_results(tmp_path).empty
