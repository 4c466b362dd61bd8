"""What the data layer knows about each PDE, in one object per PDE (no branch on a PDE's name).

A :class:`PDESpec` says how a PDE's samples are stored and read: the spatial dimension, whether
the grid is closed (Darcy's nodes hold both ends of [0, 1], so a grid of s points subsamples by r
when r divides s − 1) or periodic (r divides s), whether samples carry time (Navier–Stokes: t_in
input snapshots as channels, t_out target records on a time axis), which of inputs and targets
are normalised, how many samples one generation task solves, and which constants the preset
list shows. The solvers themselves are :mod:`mufno_core.pde`'s (loaded only where data are
generated). A new PDE adds its spec to :data:`PDE_SPECS`, its solver and its data sets
(:mod:`mufno_core.data.presets`, :mod:`mufno_core.data.generate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PDESpec:
    """One PDE's data: see the module docstring for each field."""

    name: str
    dim: int
    closed_grid: bool
    time_steps: bool
    normalize: tuple[bool, bool]
    """(normalise inputs, normalise targets)."""
    chunk: int
    """Samples per generation task."""
    listed_constants: tuple[str, ...]

    @property
    def input_ndim(self) -> int:
        """Dimensions of the stored inputs, samples first (a time axis of snapshots last)."""
        return 1 + self.dim + int(self.time_steps)

    def points(self, n: int) -> np.ndarray:
        """The n grid points of one axis on [0, 1]: both ends on a closed grid, else n/n left out."""
        return np.linspace(0.0, 1.0, n) if self.closed_grid else np.arange(n) / n

    def fine_and_coarse(self, fine: int, coarse: int) -> tuple[int, int]:
        """The point counts whose ratio is the subsampling r: s − 1 on a closed grid, s otherwise."""
        return (fine - 1, coarse - 1) if self.closed_grid else (fine, coarse)

    def subsample_rule(self, s: int) -> str:
        """What r must divide, in words, for a stored grid of ``s`` points."""
        return f"(s − 1) = {s - 1}" if self.closed_grid else f"s = {s}"

    def solve_resolution(self, resolution: int, r: int) -> int:
        """The solver's points per axis for ``resolution`` stored points kept every r-th."""
        return (resolution - 1) * r + 1 if self.closed_grid else resolution * r

    def shapes(self, n: int, s: int, t_in: int = 0, t_out: int = 0) -> dict[str, tuple[int, ...]]:
        """The shape of each dataset of a file of ``n`` samples on ``s`` points per axis."""
        spatial = (s,) * self.dim
        if not self.time_steps:
            return {"input": (n, *spatial), "target": (n, *spatial), "grid": (*spatial, self.dim)}
        return {"input": (n, *spatial, t_in), "target": (n, *spatial, t_out),
                "grid": (*spatial, self.dim), "t_input": (t_in,), "t_target": (t_out,)}


PDE_SPECS: dict[str, PDESpec] = {spec.name: spec for spec in (
    # Burgers' targets are normalised too, unlike the FNO scripts: u(·,1) at ν = 0.1 is ~50× smaller
    # than u(·,0), and at the short budgets of the sweeps an FNO would spend them learning that
    # scale (the measurement: benchmarks/README.md)
    PDESpec("burgers", dim=1, closed_grid=False, time_steps=False, normalize=(False, True),
            chunk=64, listed_constants=("nu", "t_end", "t_out")),
    PDESpec("darcy", dim=2, closed_grid=True, time_steps=False, normalize=(True, True), chunk=8,
            listed_constants=("a_high", "a_low")),
    PDESpec("navier_stokes", dim=2, closed_grid=False, time_steps=True, normalize=(True, True),
            chunk=64, listed_constants=("nu", "t_end", "t_out")),
)}
"""Every PDE of the data sets, by name."""


def pde_spec(name: str) -> PDESpec:
    """The spec of PDE ``name`` (ValueError listing the known ones otherwise)."""
    try:
        return PDE_SPECS[name]
    except KeyError:
        raise ValueError(f"unknown pde {name!r}; expected one of {tuple(PDE_SPECS)}") from None
