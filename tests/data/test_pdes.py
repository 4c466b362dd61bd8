"""One spec per PDE: the grid rules, the stored shapes and the normalisation a PDE's data follow,
and no branch on a PDE's name left in the package."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from mufno_core.data.pdes import PDE_SPECS, PDESpec, pde_spec
from mufno_core.data.presets import PRESETS, TABLE, dataset_spec

ROOT = Path(__file__).resolve().parents[2]


def test_every_data_set_has_the_spec_of_its_pde():
    assert {dataset_spec(name, preset).pde for name in TABLE for preset in PRESETS} == set(PDE_SPECS)
    with pytest.raises(ValueError, match="unknown pde 'heat'"):
        pde_spec("heat")


@pytest.mark.parametrize("name", list(PDE_SPECS))
@pytest.mark.parametrize("r", [1, 2, 7])
def test_the_solver_grid_subsamples_to_the_stored_grid(name, r):
    spec = PDE_SPECS[name]
    fine, coarse = spec.fine_and_coarse(spec.solve_resolution(29, r), 29)
    assert fine == r * coarse
    points = spec.points(29)
    assert points[0] == 0.0 and (points[-1] == 1.0) == spec.closed_grid


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("time_steps", [False, True])
def test_the_stored_shapes_follow_the_dimension_and_the_time_axis(dim, time_steps):
    spec = PDESpec("toy", dim, closed_grid=False, time_steps=time_steps, normalize=(True, True),
                   chunk=4, listed_constants=())
    shapes = spec.shapes(5, 8, t_in=3, t_out=2)
    assert shapes["grid"] == (8,) * dim + (dim,)
    assert len(shapes["input"]) == spec.input_ndim == 1 + dim + time_steps
    assert shapes["target"] == (5, *(8,) * dim, *((2,) if time_steps else ()))
    assert ("t_input" in shapes) == time_steps
    assert np.array_equal(spec.points(4), [0.0, 0.25, 0.5, 0.75])


def test_no_branch_on_a_pde_name_is_left():
    branch = re.compile(r"""pde\s*(==|!=)\s*["']|\bif\s+\w*\s*==\s*["'](burgers|darcy|navier_stokes)["']""")
    found = [f"{path.relative_to(ROOT)}:{i}" for path in sorted((ROOT / "mufno_core").rglob("*.py"))
             for i, line in enumerate(path.read_text().splitlines(), start=1) if branch.search(line)]
    assert found == []
