"""FLOP counting: complex contractions and FFTs are counted, and scale as the maths says."""

import pytest
import torch

from mufno_core import FNO
from mufno_core.cost import training_run_flops, training_step_flops

GRIDS = {1: (64,), 2: (24, 24), 3: (12, 12, 8)}


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_extra_flops_of_more_modes_are_the_spectral_contraction(dim):
    """Forward + backward of the mode-wise product costs 3 × 8 · B · m² · 2^(d-1) K^d FLOPs."""
    batch, width, depth = 2, 8, 2
    x, y = torch.randn(batch, 1, *GRIDS[dim]), torch.randn(batch, 1, *GRIDS[dim])
    flops = {k: training_step_flops(FNO(dim, 1, 1, k, width=width, depth=depth), x, y)
             for k in (2, 4)}
    modes = {k: 2 ** (dim - 1) * k**dim for k in (2, 4)}
    expected = depth * 3 * 8 * batch * width**2 * (modes[4] - modes[2])
    assert flops[4] - flops[2] == expected


def test_ffts_are_counted():
    """A model without any matmul-heavy part still costs the FFTs of its Fourier layers."""
    model = FNO(1, 1, 1, 2, width=1, depth=1, projection_width=1)
    x = torch.randn(1, 1, 1024)
    assert training_step_flops(model, x, x) > 2.5 * 1024 * 10 * 2  # r2c + c2r at least


def test_run_flops():
    assert training_run_flops(1000, 30) == 30_000
