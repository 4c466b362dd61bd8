"""The course: every exercise check accepts the right answer and rejects the classic wrong one, every
exercise command runs as written (at smoke, into a scratch store), and the student notebooks hold no
solution. ``MUFNO_EXERCISES_FULL=1`` also runs each command in full and checks the time the book states."""

from __future__ import annotations

import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mufno_core.book.build import toc_notebooks
from mufno_core.book.chapter import grid_overrides
from mufno_core.book.exercises import (
    CHECK_TAG,
    COMMANDS,
    SCRATCH,
    SOLUTION_TAG,
    check_base_factor,
    check_best_value,
    check_steps_of,
    check_transfer_lr,
    check_weight_seen,
    solution_cells,
    student_notebook,
)
from mufno_core.sweep.store import load_results

ROOT = Path(__file__).resolve().parents[2]
NAMES = toc_notebooks(ROOT / "_toc.yml")


def source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def notebook(name: str) -> dict:
    return json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))


# --- the checks -------------------------------------------------------------------------------------
def test_algorithm_1_by_hand():
    right = 4.2e-3 * math.sqrt(math.log(3) / math.log(24))
    assert "check passed" in check_transfer_lr(right, 4.2e-3, 3, 24)
    for wrong in (4.2e-3 * math.log(3) / math.log(24),      # the variance's rule, not the LR's
                  4.2e-3 * math.sqrt(3 / 24),                # K instead of log K
                  4.2e-3 * math.sqrt(math.log(24) / math.log(3))):  # upside down
        with pytest.raises(AssertionError, match="not Algorithm 1's"):
            check_transfer_lr(wrong, 4.2e-3, 3, 24)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_a_new_base_is_one_factor_at_every_k(dim):
    right = math.sqrt(math.log(4) / math.log(2))
    assert "check passed" in check_base_factor(right, 2, 4, [4, 8, 14], dim)
    for wrong in (math.log(4) / math.log(2),                 # the init variance's factor
                  math.sqrt(math.log(2) / math.log(4)),      # upside down
                  math.sqrt(math.log(4) / math.log(8))):     # a K-dependent factor (μP's own c at K=8)
        with pytest.raises(AssertionError, match="spectral LR moves"):
            check_base_factor(wrong, 2, 4, [4, 8, 14], dim)


def test_steps_per_epoch_rejects_rounding_down_at_smoke():
    records = load_results(ROOT / "results" / "smoke" / "darcy_batch_size")
    n_train = int(records["n_train"].iloc[0])
    assert all(n_train % b == 0 for b in records["batch_size"].unique()), \
        "the smoke grid no longer divides the training set: the records alone would then catch floor"

    def right(b):
        return int(records["epochs"].iloc[0]) * math.ceil(n_train / b)

    def floor(b):  # the classic wrong answer: the records of the smoke grid agree with it
        return int(records["epochs"].iloc[0]) * (n_train // b)

    assert "check passed" in check_steps_of(right, records)
    with pytest.raises(AssertionError, match="the training loop takes"):
        check_steps_of(floor, records)


def test_adam_memory():
    assert "check passed" in check_weight_seen(lambda b2, t: 1 - b2 ** t, [0.9, 0.999], 50)
    for wrong in (lambda b2, t: b2 ** t, lambda b2, t: 1 - b2 * t, lambda b2, t: (1 - b2) * t):
        with pytest.raises(AssertionError, match="the average holds"):
            check_weight_seen(wrong, [0.9, 0.999], 50)


def best_value_by(log: bool = True, drop: bool = False, worst: bool = False):
    """The rule of the best-value exercise (defaults), or one of its usual slips."""
    def best(curve, hparam):
        loss = curve["final_train_loss"].astype(float)
        failed = curve["diverged"].astype(bool) | ~np.isfinite(loss)
        if drop:
            curve, loss, failed = curve[~failed], loss[~failed], failed[~failed]
        value = loss.where(~failed, loss[~failed].max() if worst else max(1.0, loss[~failed].max()))
        value = np.log10(value) if log else value
        return value.groupby([curve[hparam], curve["seed"]]).mean().groupby(level=0).mean().idxmin()
    return best


@pytest.mark.parametrize("experiment,hparam", [("darcy_batch_size", "batch_size"), ("darcy_beta2", "beta2")])
def test_the_best_value_check_rejects_the_usual_slips_at_smoke(experiment, hparam, tmp_path):
    """At smoke the chapter's curves alone accept every slip (one clear optimum); the made-up curves
    do not."""
    from mufno_core.book.chapter import HparamChapter

    shutil.copytree(ROOT / "results" / "smoke" / experiment, tmp_path / experiment)
    ch = HparamChapter.run(experiment, "smoke", str(tmp_path), executor="inline")
    assert "check passed" in check_best_value(best_value_by(), ch.measured, ch.grid_optima, hparam)
    for slip in (dict(log=False), dict(drop=True), dict(worst=True)):
        with pytest.raises(AssertionError, match="made-up curve"):
            check_best_value(best_value_by(**slip), ch.measured, ch.grid_optima, hparam)


def test_a_list_parameter_may_come_as_papermill_passes_it():
    assert grid_overrides({"modes": "[2, 14]", "lrs": [], "seeds": "0, 1", "other": 3}) == {
        "modes": [2, 14], "seeds": [0, 1]}
    assert grid_overrides({"modes": [4]}) == {"modes": [4]}


# --- the notebooks: exercises, solutions, student copies ----------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_solutions_are_collapsed_and_checks_follow_them(name):
    cells = notebook(name)["cells"]
    for i, cell in enumerate(cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if SOLUTION_TAG in tags and cell["cell_type"] == "code":
            assert "hide-cell" in tags, f"{name} cell {i}: a solution shown open"
        if SOLUTION_TAG in tags and cell["cell_type"] == "markdown":
            assert ":class: dropdown" in source(cell), f"{name} cell {i}: a solution shown open"
        if CHECK_TAG in tags:
            assert any(SOLUTION_TAG in c.get("metadata", {}).get("tags", []) for c in cells[:i]), \
                f"{name} cell {i}: a check with no solution before it"
        if cell["cell_type"] == "code" and "check_" in source(cell) and "print(" in source(cell):
            assert CHECK_TAG in tags, f"{name} cell {i}: a check cell without the check tag"


def test_student_notebooks_hold_no_solution(tmp_path):
    from scripts.student_notebooks import main

    assert main(["--out", str(tmp_path)]) == 0
    assert sorted(p.stem for p in tmp_path.glob("*.ipynb")) == sorted(NAMES)
    checked = 0
    for name in NAMES:
        original, student = notebook(name), json.loads((tmp_path / f"{name}.ipynb").read_text())
        texts = [source(c) for c in student["cells"]]
        for cell in solution_cells(original):
            body = [line for line in source(cell).splitlines() if len(line.strip()) > 12]
            assert not any(line in text for line in body for text in texts), \
                f"{name}: a solution line survives in the student copy"
        assert not solution_cells(student)
        assert all(not c.get("outputs") for c in student["cells"] if c["cell_type"] == "code")
        assert student["metadata"]["kernelspec"]["name"] == "python3"
        checks = [source(c) for c in original["cells"] if CHECK_TAG in c.get("metadata", {}).get("tags", [])]
        assert all(check in texts for check in checks), f"{name}: a check cell is missing"
        checked += len(checks)
    assert checked >= 10  # the checked exercises of the book


def test_the_student_copy_keeps_questions_and_replaces_code():
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "**1.** Do it."},
             {"cell_type": "code", "metadata": {"tags": ["solution", "hide-cell"]}, "source": "a = 1",
              "outputs": [{"output_type": "stream"}], "execution_count": 3},
             {"cell_type": "code", "metadata": {"tags": ["solution", "hide-cell"]}, "source": "b = 2",
              "outputs": [], "execution_count": None},
             {"cell_type": "code", "metadata": {"tags": ["check"]}, "source": "print(check(a))",
              "outputs": [{"output_type": "stream"}], "execution_count": 4},
             {"cell_type": "markdown", "metadata": {"tags": ["solution"]}, "source": ":::{admonition} S"}]
    student = student_notebook({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    assert [source(c) for c in student["cells"]] == [
        "**1.** Do it.", "# your answer here (then run the check below)\n", "print(check(a))"]
    assert student["cells"][2]["outputs"] == [] and cells[3]["outputs"]  # the input is not changed


# --- the commands -----------------------------------------------------------------------------------
def test_every_command_is_in_its_notebook_and_writes_only_to_scratch():
    for command in COMMANDS:
        text = "".join(source(c) for c in notebook(command.notebook)["cells"] if c["cell_type"] == "markdown")
        assert command.text in text, f"{command.notebook} does not give: {command.text}"
        assert SCRATCH in command.text and "results/" not in command.text
    for name in NAMES:
        cells = notebook(name)["cells"]
        start = next((i for i, c in enumerate(cells) if "## Exercises" in source(c)
                      or "## Questions" in source(c)), len(cells))
        tail = "".join(source(c) for c in cells[start:])
        assert "results/quick" not in tail and "results/smoke" not in tail, name
        assert "--nu" not in tail, f"{name}: mufno data has no --nu"


def _snapshot(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in folder.rglob("*") if p.is_file()}


def _run(command: str, scratch: Path, limit: int | None) -> None:
    argv = shlex.split(command.replace(SCRATCH, str(scratch)))
    if argv[0] == "papermill":  # a notebook the build runs: its parameters checked, run in full on request
        import papermill as pm

        declared = set(pm.inspect_notebook(str(ROOT / argv[1])))
        given = {argv[i + 1] for i, a in enumerate(argv) if a == "-p"}
        assert given <= declared, f"{command}: {given - declared} are not parameters of {argv[1]}"
        if limit:
            (scratch / "parameters.json").parent.mkdir(parents=True, exist_ok=True)
            (scratch / "parameters.json").write_text(json.dumps(sorted(given)))
            return
        scratch.mkdir(parents=True, exist_ok=True)
        extra: list[str] = []
        papermill = str(Path(sys.executable).parent / "papermill")
        done = subprocess.run([papermill, *argv[1:], *extra, "--no-progress-bar"], cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        return
    if argv[0] == "mufno":
        from mufno_core.cli.main import main

        code = main(argv[1:] + (["--limit", str(limit), "--no-progress"] if limit else ["--no-progress"]))
    else:
        from mufno_core.analysis.calibrate import main

        assert argv[:3] == ["python", "-m", "mufno_core.analysis.calibrate"]
        code = main(argv[3:])
    assert code == 0, command


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.notebook)
def test_an_exercise_command_runs_as_written(command, tmp_path, monkeypatch):
    """At smoke, into a scratch store (the book's folder replaced by a temporary one); the committed
    stores stay as they are. Sweeps run their first 3 trials here, a notebook command has its
    parameters checked (the book's build runs that notebook); MUFNO_EXERCISES_FULL=1 runs every
    command in full and times it against what the book states."""
    monkeypatch.chdir(ROOT)
    full = os.environ.get("MUFNO_EXERCISES_FULL") == "1"
    before = {store: _snapshot(ROOT / "results" / store) for store in ("smoke", "quick")}
    start = time.perf_counter()
    _run(command.text, tmp_path / "scratch", None if full else 3)
    seconds = time.perf_counter() - start
    assert any(p.suffix in (".json", ".csv", ".ipynb") for p in (tmp_path / "scratch").rglob("*"))
    assert {store: _snapshot(ROOT / "results" / store) for store in ("smoke", "quick")} == before
    if full:
        stated = command.seconds
        assert seconds < stated, f"{command.text}: {seconds:.0f} s, the book states under {stated} s"


@pytest.mark.parametrize("name", NAMES)
def test_the_results_store_follows_the_preset(name):
    """``-p preset smoke`` reads results/smoke: an empty results_dir means results/PRESET."""
    from mufno_core.book.build import declared_parameters

    cells = notebook(name)["cells"]
    params = next(i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", []))
    if "results_dir" not in declared_parameters(ROOT / "notebooks" / f"{name}.ipynb"):
        return
    assert 'results_dir: str = ""' in source(cells[params])
    preset, results_dir = "smoke", ""
    namespace = {"preset": preset, "results_dir": results_dir}
    line = next(line for line in source(cells[params + 1]).splitlines() if 'f"results/{preset}"' in line)
    exec(line.split("  #")[0].replace("time.perf_counter()", "0"), {}, namespace)
    assert namespace["results_dir"] == "results/smoke"
