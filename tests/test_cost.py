"""FLOP counting: complex contractions and FFTs are counted, and scale as the maths says."""

import pytest
import torch

from mufno_core import FNO
from mufno_core.cost import training_step_flops

GRIDS = {1: (64,), 2: (24, 24), 3: (12, 12, 8)}


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_more_modes_cost_at_least_the_extra_spectral_contraction(dim):
    """Forward + backward of the mode-wise product costs 3 × 8 · B · m² · 2^(d-1) K^d FLOPs; the
    transforms may add more (truncated DFTs grow with K too)."""
    batch, width, depth = 2, 8, 2
    x, y = torch.randn(batch, 1, *GRIDS[dim]), torch.randn(batch, 1, *GRIDS[dim])
    flops = {k: training_step_flops(FNO(dim, 1, 1, k, width=width, depth=depth), x, y)
             for k in (2, 4)}
    modes = {k: 2 ** (dim - 1) * k**dim for k in (2, 4)}
    expected = depth * 3 * 8 * batch * width**2 * (modes[4] - modes[2])
    assert flops[4] - flops[2] >= expected


def test_complex_products_count_four_real_ones():
    from torch.utils.flop_counter import FlopCounterMode

    from mufno_core.cost import _custom_mapping

    a, b = torch.randn(3, 5, 7, dtype=torch.cfloat), torch.randn(3, 7, 4, dtype=torch.cfloat)
    with FlopCounterMode(display=False, custom_mapping=_custom_mapping()) as counter:
        torch.bmm(a, b)
    assert counter.get_total_flops() == 4 * 2 * 3 * 5 * 7 * 4
    with FlopCounterMode(display=False, custom_mapping=_custom_mapping()) as counter:
        torch.fft.rfft(torch.randn(4, 1024))
    assert counter.get_total_flops() == int(2.5 * 4 * 1024 * 10)
