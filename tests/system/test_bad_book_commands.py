"""The book's commands given bad input or stopped half-way (issue 27): one line, the right exit
code, nothing half-made. (Beside ``test_bad_inputs.py``, whose catalogue runs in-process: these
start ``make``, the driver scripts and notebook kernels, and pytest-xdist can now run the two files
on different workers.)"""

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

from mufno_core.data.generate import generate
from tests.system.test_bad_inputs import truncate

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def truncated_smoke_data(tmp: Path) -> dict[str, str]:
    data = tmp / "data"
    data.mkdir()
    path = generate("burgers", "smoke", out=data / "burgers_smoke.h5", workers=1, progress=False)
    truncate(path)
    return {"DATA": str(data)}


def executed_with_error(tmp: Path) -> dict[str, str]:
    """An executed copy of every notebook, one of them stopped by Ctrl-C in its second cell."""
    from mufno_core.book.build import toc_notebooks

    executed = tmp / "executed"
    executed.mkdir()
    for name in toc_notebooks(ROOT / "_toc.yml"):
        cells = [{"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
                  "source": "x = 1"},
                 {"cell_type": "code", "execution_count": 2, "metadata": {}, "source": "run()",
                  "outputs": [{"output_type": "error", "ename": "KeyboardInterrupt", "evalue": "",
                               "traceback": []}]},
                 {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                  "source": "plot()"}]
        notebook = {"cells": cells if name == "theory" else cells[:1], "metadata": {},
                    "nbformat": 4, "nbformat_minor": 5}
        (executed / f"{name}.ipynb").write_text(json.dumps(notebook))
    return {"EXECUTED": str(executed)}


BOOK_CASES = [
    # name, command (make VAR=value ... or a script), setup of tmp -> make variables, exit code, line
    ("make book PRESET=nonsense", ["make", "book", "PRESET=nonsense"], None, 2,
     "*** unknown PRESET=nonsense: one of smoke, quick, gpu, paper.  Stop."),
    ("a truncated data file in make data", ["make", "--no-print-directory", "data", "PRESET=smoke"],
     truncated_smoke_data, 2, "burgers_smoke.h5: not a readable HDF5 file (truncated or corrupt?)"),
    ("run_notebooks.py --only nosuch", [PYTHON, "scripts/run_notebooks.py", "--preset", "smoke",
                                        "--only", "nosuch"], None, 2,
     "notebooks: error: no notebook 'nosuch' in _toc.yml"),
    ("run_notebooks.py --preset nonsense", [PYTHON, "scripts/run_notebooks.py", "--preset", "nonsense"],
     None, 2, "notebooks: error: unknown preset 'nonsense'"),
    ("notebooks with a results folder that cannot be written",
     [PYTHON, "scripts/run_notebooks.py", "--preset", "smoke", "--only", "theory", "--results",
      "/proc/mufno-results"], None, 2, "--results /proc/mufno-results: cannot write in /proc"),
    ("the site from a notebook stopped half-way", ["make", "--no-print-directory", "site"],
     executed_with_error, 2, "theory.ipynb: cell 2 ended in KeyboardInterrupt"),
]


@pytest.mark.skipif(not Path("/proc/self").is_dir() or shutil.which("make") is None,
                    reason="needs make and /proc")
@pytest.mark.parametrize("name,command,setup,code,message", BOOK_CASES, ids=[c[0] for c in BOOK_CASES])
def test_a_book_command_ends_in_one_line(name, command, setup, code, message, tmp_path, processes):
    """Each ended in 2-36 lines of tracebacks (or, for the site, built a chapter with a traceback
    and no figures): now one line of ours (make adds its own 'Error' line), no traceback, and
    nothing built."""
    variables = setup(tmp_path) if setup is not None else {}
    extra = [f"{k}={v}" for k, v in variables.items()] + [f"BUILD={tmp_path / 'build'}"]
    done = processes.run([*command, *extra] if command[0] == "make" else command, cwd=ROOT, timeout=300)
    assert done.returncode == code, done.stdout + done.stderr
    ours = [line for line in done.stderr.splitlines() if not line.startswith("make")]
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert any(message in line for line in done.stderr.splitlines()), done.stderr
    assert len(ours) <= 1, done.stderr
    assert not (tmp_path / "build" / "html").exists()


def fake_book(root: Path, name: str, sources: list[str]) -> Path:
    """A book of one notebook ``notebooks/<name>.ipynb`` with these code cells, run from ``root``."""
    (root / "notebooks").mkdir(parents=True)
    (root / "_toc.yml").write_text(f"format: jb-book\nroot: intro\nchapters:\n- file: notebooks/{name}\n")
    cells = [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {},
              "outputs": [], "source": source} for i, source in enumerate(sources)]
    notebook = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": "mufno", "display_name": "Python (mufno)",
                                            "language": "python"}}}
    (root / "notebooks" / f"{name}.ipynb").write_text(json.dumps(notebook))
    out = root / "executed"
    out.mkdir()
    (out / f"{name}.ipynb").write_text("{}")  # an earlier run's copy: must not survive a failed run
    return out


def run_notebooks(root: Path) -> list[str]:
    return [PYTHON, str(ROOT / "scripts" / "run_notebooks.py"), "--preset", "smoke", "--results",
            str(root / "results"), "--out", str(root / "executed")]


def test_a_failing_notebook_is_one_line_and_leaves_no_executed_copy(tmp_path, processes):
    out = fake_book(tmp_path, "bad", ["x = 1", "raise ValueError('a test fault')", "y = 2"])
    done = processes.run(run_notebooks(tmp_path), cwd=tmp_path, timeout=300)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(
        "notebooks: error: notebooks/bad.ipynb failed: ValueError: a test fault"), done.stderr
    assert "Traceback" not in done.stderr
    assert not (out / "bad.ipynb").exists() and (out / ".bad.partial.ipynb").exists()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="signals")
def test_ctrl_c_during_the_notebooks_leaves_no_half_executed_notebook(tmp_path, processes):
    """Ctrl-C to the process group (papermill and its kernel) while a notebook runs: exit 130,
    one line, and no copy of that notebook under its name (it was overwritten half-executed, 5 of
    10 cells unrun, and `make site` published it). The signal comes as soon as the first cell has
    run: then the kernel's shutdown waited for ever on the interrupted cell's reply."""
    started = tmp_path / "started"
    out = fake_book(tmp_path, "slow", [f"open({str(started)!r}, 'w').close()",
                                       "import time; time.sleep(600)", "z = 3"])
    proc = processes.start(run_notebooks(tmp_path), cwd=tmp_path, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not started.exists():  # the notebook runs its second cell
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    ours = [line for line in err.strip().splitlines() if line and not line.startswith("[IPKernelApp]")]
    assert ours == ["notebooks: interrupted while running slow; its executed copy was not written "
                    "(the same command runs it again)"], err  # the kernel's own warnings aside
    assert not (out / "slow.ipynb").exists()
