"""PDE solvers and random initial data of the FNO benchmarks (defined in ``book/choices.md``,
"The data").

One module per PDE, each with a ``solve`` taking explicit inputs so that it can be validated:

- :func:`burgers.solve` (u0 (B, N), ν, t_end) -> u(t_end) (B, N): pseudo-spectral + ETDRK4.
- :func:`darcy.solve` (a (B, s, s), f) -> u (B, s, s): 5-point finite differences, sparse LU.
- :func:`navier_stokes.solve` (w0 (B, s, s), ν, t_end, forcing) -> w (B, s, s, n_records):
  pseudo-spectral vorticity, Crank–Nicolson viscosity.
- :mod:`grf`: the Gaussian random fields of the three data sets, one generator per sample.
"""

from mufno_core.pde import burgers, darcy, grf, navier_stokes

__all__ = ["burgers", "darcy", "grf", "navier_stokes"]
