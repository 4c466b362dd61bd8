"""The book's exercises: the checks a reader's answer must pass, the commands the exercises tell a
reader to run, and the student copy of a notebook (the solutions removed).

A notebook's exercise cells carry tags: ``solution`` on every cell that holds an answer (code
cells are collapsed with ``hide-cell`` as well, markdown answers sit in a dropdown admonition) and
``check`` on the code cell that checks the reader's answer. :func:`student_notebook` drops the
solution cells and leaves, in place of each run of solution code cells, one empty code cell that
says what to define. Each check below recomputes its truth from the library (never from the
solution) and is tested against the classic wrong answer (``tests/book/test_exercises.py``).

Every command an exercise gives is in :data:`COMMANDS`, with the preset it names and the time the
book states for it; the test runs each one as written (at smoke, into a scratch store) and times it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mufno_core.mup import Parametrization, transfer_init_var, transfer_lr
from mufno_core.train import TrainConfig

SOLUTION_TAG = "solution"
CHECK_TAG = "check"
SCRATCH = "/tmp/mufno-scratch"
"""The exercises' results store: never the committed ``results/quick`` or ``results/smoke``."""


@dataclass(frozen=True)
class Command:
    """A shell command an exercise of ``notebook`` gives, which runs in under ``seconds`` (measured
    at the preset it names, on 2 CPU cores) and writes only under :data:`SCRATCH`."""

    notebook: str
    text: str
    seconds: int


def _sweep(experiment: str, modes: str, base: int) -> str:
    return (f"mufno sweep {experiment} --preset smoke --results {SCRATCH} "
            f"--set base_modes={base} --set modes={modes}")


COMMANDS: tuple[Command, ...] = (
    Command("lr_drift_burgers", _sweep("burgers_lr", "8,16", 8), 60),
    Command("lr_drift_darcy", _sweep("darcy_lr", "4,8", 4), 60),
    Command("lr_drift_navier_stokes", _sweep("navier_stokes_lr", "3,5", 3), 60),
    *(Command(f"lr_drift_{pde}", f"mufno sweep {pde}_lr --preset smoke --results {SCRATCH} "
              "--set width=32", 60) for pde in ("burgers", "darcy", "navier_stokes")),
    Command("batch_size_darcy", _sweep("darcy_batch_size", "4,14", 4), 60),
    Command("beta2_darcy", _sweep("darcy_beta2", "4,14", 4), 60),
    Command("mup_in_ten_minutes", f"papermill notebooks/mup_in_ten_minutes.ipynb {SCRATCH}/ten.ipynb "
            "-k mufno -p input_decay 2", 60),
    Command("calibrated_rule",
            f"python -m mufno_core.analysis.calibrate darcy_lr --preset smoke --results {SCRATCH}", 60),
)


# --- checks: each raises AssertionError on a wrong answer and returns a "check passed" line ---------
def check_transfer_lr(lr_target: float, lr_proxy: float, k_proxy: int, k_target: int) -> str:
    """A reader's Algorithm 1 learning rate at ``k_target`` from ``lr_proxy`` tuned at ``k_proxy``."""
    want = transfer_lr(lr_proxy, k_proxy, k_target)
    assert math.isclose(lr_target, want, rel_tol=1e-6), (
        f"η({k_target}) = {lr_target:.4g} is not Algorithm 1's: the learning rate moves with the square "
        "root of the ratio of the logarithms (the init variance moves with the ratio itself)")
    var = transfer_init_var(1.0, k_proxy, k_target)
    return (f"check passed: η({k_target}) = {lr_target:.4g} (×{want / lr_proxy:.3f}); "
            f"the init variance moves by ×{var:.3f}")


def check_base_factor(factor: float, old_base: int, new_base: int, modes: Iterable[int], dim: int) -> str:
    """A reader's factor by which moving μP's base K₀ from ``old_base`` to ``new_base`` multiplies
    the spectral learning rate at each K of ``modes`` (read from :class:`~mufno_core.mup.Parametrization`)."""
    old, new = Parametrization("mup", base_modes=old_base), Parametrization("mup", base_modes=new_base)
    ratios = {k: new.lr_factor(k, dim) / old.lr_factor(k, dim) for k in modes}
    for k, ratio in ratios.items():
        assert math.isclose(factor, ratio, rel_tol=1e-6), (
            f"at K = {k} μP's spectral LR moves by ×{ratio:.4f}, not ×{factor:.4f}")
    return (f"check passed: ×{factor:.4f} at every K ({', '.join(map(str, ratios))}): one constant, "
            "so the exponent α of μP's optimum does not change with the base")


def check_steps_of(steps_of: Callable[[int], int], records: pd.DataFrame) -> str:
    """A reader's ``steps_of(batch_size)`` against every finished trial's ``steps_done`` and against
    the training loop's budget (:meth:`TrainConfig.total_steps`) for every batch size up to the
    training set, also those that do not divide it."""
    finished = records[~records["diverged"].astype(bool)]
    for batch, done in zip(finished["batch_size"], finished["steps_done"]):
        got = steps_of(int(batch))
        assert got == int(done), f"batch size {batch}: you give {got} steps, the trial took {int(done)}"
    epochs, n_train = int(records["epochs"].iloc[0]), int(records["n_train"].iloc[0])
    for batch in range(1, n_train + 1):
        want = TrainConfig(lr=1.0, steps=None, epochs=epochs, batch_size=batch).total_steps(n_train)
        got = steps_of(batch)
        assert got == want, (f"batch size {batch} ({n_train} samples, {epochs} epochs): you give {got} "
                             f"steps, the training loop takes {want}")
    return f"check passed: {n_train} samples, {epochs} epochs, every batch size 1 … {n_train}"


def check_weight_seen(weight_seen: Callable[[float, int], float], beta2s: Sequence[float],
                      steps: int) -> str:
    """A reader's ``weight_seen(beta2, t)`` against Adam's moving average run on g² = 1."""
    for beta2 in beta2s:
        v = 0.0
        for t in range(1, steps + 1):
            v = beta2 * v + (1 - beta2)
            got = weight_seen(beta2, t)
            assert abs(got - v) < 1e-9, f"β2 = {beta2}, t = {t}: you give {got}, the average holds {v}"
    return f"check passed for every β2 of the sweep and t = 1 … {steps}"


def _made_up_curves(hparam: str) -> list[tuple[pd.DataFrame, float]]:
    """Two curves (two values of ``hparam`` × two seeds) and their best value under the book's rule:
    one where the mean of the raw loss picks the other value, one where dropping a diverged run (or
    counting it as the worst finished loss) does."""
    def curve(losses: dict[float, list[float]]) -> pd.DataFrame:
        rows = [{hparam: value, "seed": seed, "final_train_loss": loss, "diverged": math.isnan(loss)}
                for value, pair in losses.items() for seed, loss in enumerate(pair)]
        return pd.DataFrame(rows)

    return [(curve({2.0: [1e-3, 1.0], 4.0: [0.1, 0.1]}), 2.0),
            (curve({2.0: [1e-4, math.nan], 4.0: [1e-3, 1e-3]}), 4.0)]


def check_best_value(best_value: Callable[[pd.DataFrame, str], float], measured: pd.DataFrame,
                     grid_optima: pd.DataFrame, hparam: str) -> str:
    """A reader's ``best_value(curve, hparam)`` on every curve of ``measured`` against the chapter's
    table of grid optima, and on two made-up curves that the mean of the raw loss, or a diverged
    run dropped or counted as the worst finished loss, get wrong."""
    expected = {(r.parametrization, int(r.modes)): float(getattr(r, f"{hparam}_opt"))
                for r in grid_optima.itertuples()}
    for (param, modes), curve in measured.groupby(["parametrization", "modes"]):
        got, want = float(best_value(curve, hparam)), expected[(param, int(modes))]
        assert math.isclose(got, want), f"{param} K={modes}: you find {got:g}, the chapter {want:g}"
    for i, (curve, want) in enumerate(_made_up_curves(hparam), start=1):
        got = float(best_value(curve, hparam))
        assert math.isclose(got, want), (
            f"made-up curve {i}:\n{curve.to_string(index=False)}\nyou find {got:g}, the rule gives "
            f"{want:g}: average log10 of the loss over seeds, a diverged run at max(1, worst finished)")
    return f"check passed: all {len(expected)} curves of the chapter and two made-up ones"


# --- the student copy ------------------------------------------------------------------------------
def _tags(cell: Mapping[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def solution_cells(notebook: Mapping[str, Any]) -> list[dict]:
    """The cells tagged ``solution``."""
    return [cell for cell in notebook.get("cells", []) if SOLUTION_TAG in _tags(cell)]


def student_notebook(notebook: Mapping[str, Any]) -> dict:
    """A copy without outputs and without solutions: each run of solution code cells becomes one
    empty code cell (``# your answer here``) before its check; markdown solutions are dropped."""
    out = copy.deepcopy(dict(notebook))
    cells: list[dict] = []
    for cell in out.get("cells", []):
        if SOLUTION_TAG in _tags(cell):
            after_stub = bool(cells) and cells[-1].get("id", "").startswith("answer-")
            if cell.get("cell_type") == "code" and not after_stub:
                cells.append({"cell_type": "code", "id": f"answer-{len(cells)}", "metadata": {},
                              "execution_count": None, "outputs": [],
                              "source": "# your answer here (then run the check below)\n"})
            continue
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    out["cells"] = cells
    return out
