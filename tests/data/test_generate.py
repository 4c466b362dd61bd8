"""Data generation: presets, HDF5 layout and attributes, determinism, atomic writes, CLI, and the
worker pool's lifecycle (signals)."""

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import psutil
import pytest

from mufno_core import __version__
from mufno_core.cli.main import main
from mufno_core.data import generate as gen
from mufno_core.data.presets import PRESETS, TABLE, dataset_spec, list_presets

NAMES = sorted(TABLE)


def tiny(name: str, **overrides):
    spec = dataset_spec(name, "smoke")
    return spec.with_overrides(n_train=overrides.get("n_train", 4),
                               n_test=overrides.get("n_test", 2), seed=overrides.get("seed"))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_is_consistent(name, preset):
    spec = dataset_spec(name, preset)
    assert spec.subsample >= 1 and spec.filename == f"{name}_{preset}.h5"
    assert spec.command() == f"mufno data {name} --preset {preset}"
    assert name in list_presets()


@pytest.mark.parametrize("name", NAMES)
def test_layout_attributes_and_determinism(tmp_path, name):
    spec = tiny(name)
    a = gen.generate_dataset(spec, tmp_path / "a.h5", workers=1, progress=False)
    b = gen.generate_dataset(spec, tmp_path / "b.h5", workers=2, progress=False)
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for key in ("input", "target", "grid"):
            np.testing.assert_array_equal(fa[key][:], fb[key][:])
        attrs = dict(fa.attrs)
        x, y = fa["input"], fa["target"]
        assert x.shape[0] == y.shape[0] == 6 and x.dtype == np.float32
        assert np.all(np.isfinite(x[:])) and np.all(np.isfinite(y[:]))
        assert fa["grid"].shape[-1] == (1 if spec.pde == "burgers" else 2)
    assert attrs["complete"] and attrs["seed"] == spec.seed and attrs["pde"] == spec.pde
    assert attrs["mufno_version"] == __version__ and attrs["generator"] == gen.GENERATOR
    assert all(f"const_{k}" in attrs for k in spec.constants)
    assert not list(tmp_path.glob("*.tmp*"))


def test_seed_changes_data_and_samples_do_not_depend_on_n(tmp_path):
    p4 = gen.generate_dataset(tiny("darcy"), tmp_path / "4.h5", progress=False)
    p8 = gen.generate_dataset(tiny("darcy", n_train=8), tmp_path / "8.h5", progress=False)
    p4s = gen.generate_dataset(tiny("darcy", seed=3), tmp_path / "s.h5", progress=False)
    with h5py.File(p4) as f4, h5py.File(p8) as f8, h5py.File(p4s) as fs:
        np.testing.assert_array_equal(f4["input"][:4], f8["input"][:4])
        assert not np.array_equal(f4["input"][:], fs["input"][:])


def test_navier_stokes_records(tmp_path):
    spec = tiny("navier_stokes")
    path = gen.generate_dataset(spec, tmp_path / "ns.h5", progress=False)
    with h5py.File(path) as f:
        assert f["input"].shape[1:] == (16, 16, 10) and f["target"].shape[-1] == spec.t_out
        np.testing.assert_array_equal(f["t_input"][:], np.arange(1, 11))
        np.testing.assert_array_equal(f["t_target"][:], np.arange(11, 11 + spec.t_out))


def test_interrupted_generation_leaves_no_file(tmp_path, monkeypatch):
    def boom(spec, start, stop):
        raise KeyboardInterrupt

    monkeypatch.setitem(gen.CHUNK_FUNCTIONS, "burgers", boom)
    out = tmp_path / "darcy.h5"  # six chunks: the pool runs them
    with pytest.raises(KeyboardInterrupt):
        gen.generate_dataset(tiny("burgers"), out, workers=1, progress=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("change", "message"), [
    ({"resolution": 30}, "does not divide"),
    ({"n_train": 0}, "n_train"),
    ({"seed": -1}, "seed"),
])
def test_bad_specs(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(dataset_spec("darcy", "smoke"), **change)


@pytest.mark.parametrize(("name", "preset"), [("nope", "smoke"), ("darcy", "huge")])
def test_unknown_names(name, preset):
    with pytest.raises(ValueError, match="unknown"):
        dataset_spec(name, preset)


def test_cli_generate_list_and_errors(tmp_path, capsys):
    out = tmp_path / "darcy.h5"  # six chunks: the pool runs them
    argv = ["data", "burgers", "--preset", "smoke", "--n", "4", "--n-test", "2", "--seed", "5",
            "--out", str(out), "--no-progress", "--workers", "1"]
    assert main(argv) == 0
    with h5py.File(out) as f:
        assert f.attrs["seed"] == 5 and f["input"].shape == (6, 64)
        assert "--seed 5" in f.attrs["command"]
    assert main(argv) == 0 and "exists" in capsys.readouterr().out
    assert main(["data", "--list"]) == 0 and "navier_stokes" in capsys.readouterr().out
    assert main(["data", "darcy", "--preset", "smoke", "--n", "0", "--out", str(out),
                 "--force"]) == 2
    assert "n_train must be" in capsys.readouterr().err
    assert main(["data"]) == 2 and "give a data set name" in capsys.readouterr().err


def test_ensure_dataset_generates_once(tmp_path):
    path = gen.ensure_dataset("darcy", "smoke", data_dir=tmp_path, workers=1)
    assert path == tmp_path / "darcy_smoke.h5" and path.exists()
    mtime = path.stat().st_mtime_ns
    assert gen.ensure_dataset("darcy", "smoke", data_dir=tmp_path) == path
    assert path.stat().st_mtime_ns == mtime


# --- the generation pool ends with its driver (issue 27) ----------------------------------------
ROOT = Path(__file__).resolve().parents[2]
LONG = ["navier_stokes", "--preset", "quick", "--n", "4000", "--workers", "2", "--no-progress"]
"""A generation that runs for many minutes on two workers unless it is stopped."""


def _workers_started(proc, out: Path, count: int = 2, timeout: float = 300) -> list[psutil.Process]:
    """The driver's worker processes, once ``count`` run and its temporary file exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        children = psutil.Process(proc.pid).children(recursive=True)
        if len(children) >= count and list(out.parent.glob(out.name + ".tmp*")):
            time.sleep(1.0)  # the workers are computing chunks
            return children
        time.sleep(0.1)
    raise AssertionError("the generation workers did not start")


def _alive_after(processes: list[psutil.Process], seconds: float = 10.0) -> list[int]:
    _, alive = psutil.wait_procs(processes, timeout=seconds)
    return [p.pid for p in alive if p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="signals and /proc")
@pytest.mark.parametrize("how,code", [("SIGTERM", 143), ("SIGINT to the group", 130),
                                      ("SIGKILL", -9)])
def test_a_stopped_generation_leaves_no_worker_and_no_file(how, code, tmp_path, processes):
    """SIGTERM, Ctrl-C and kill -9 of `mufno data` while its two workers compute: every worker
    is gone within 10 s (they outlived the driver with parent 1, or Ctrl-C waited 34 s for the
    queued chunks), nothing is left under the file's name or as NAME.tmpPID, one line (or none
    after kill -9), no traceback."""
    out = tmp_path / "ns.h5"
    proc = processes.start([sys.executable, "-m", "mufno_core.cli.main", "data", *LONG, "--out", str(out)],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers = _workers_started(proc, out)
    start = time.monotonic()
    if how == "SIGINT to the group":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(getattr(signal, how))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert not _alive_after(workers), "a generation worker outlived its driver by 10 s"
    assert time.monotonic() - start < 15
    assert list(tmp_path.iterdir()) == [], "a partial file was left"
    if code > 0:
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
        assert err.strip().splitlines()[-1].startswith("mufno data: "), err
        assert f"nothing written to {out}" in err


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="signals and /proc")
def test_sigterm_while_a_sweep_generates_its_data(tmp_path, processes):
    """A sweep that generates its own data set gets SIGTERM: exit 143 with the resume line (it
    died silently with 143, its pool orphaned), no worker left, no partial data file."""
    data = tmp_path / "data"
    proc = processes.start([sys.executable, "-m", "mufno_core.cli.main", "sweep", "navier_stokes_lr",
                            "--preset", "quick", "--limit", "1", "--no-progress", "--data-dir",
                            str(data), "--results", str(tmp_path / "results")],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers = _workers_started(proc, data / "navier_stokes_quick.h5")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err, err
    assert "stopped by SIGTERM: finished trials are stored in" in err
    assert "resume with: mufno sweep navier_stokes_lr" in err
    assert not _alive_after(workers)
    assert list(data.iterdir()) == []


TORCH_WATCH = """import importlib.abc, os, sys
class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            open(os.path.join(os.environ["TORCH_MARKS"], str(os.getpid())), "w").close()
        return None
sys.meta_path.insert(0, Watch())
"""


def test_generating_a_data_set_never_imports_torch(tmp_path, processes):
    """`mufno data` and its generation workers load no torch (seconds per process): a
    sitecustomize that every Python started here runs marks each process that imports it."""
    hook, marks = tmp_path / "hook", tmp_path / "marks"
    hook.mkdir()
    marks.mkdir()
    (hook / "sitecustomize.py").write_text(TORCH_WATCH)
    path = os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "TORCH_MARKS": str(marks)}
    out = tmp_path / "darcy.h5"  # six chunks: the pool runs them
    done = processes.run([sys.executable, "-m", "mufno_core.cli.main", "data", "darcy", "--preset",
                          "smoke", "--out", str(out), "--workers", "2", "--no-progress"], env=env)
    assert done.returncode == 0 and out.exists(), done.stderr
    control = processes.run([sys.executable, "-c", "import torch"], env=env)
    assert control.returncode == 0 and len(list(marks.iterdir())) == 1  # the hook works
