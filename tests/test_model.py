"""The FNO network: shapes in 1, 2, 3 dimensions, parameter counts, the pointwise layer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mufno_core.model import FNO, Pointwise, grid_coordinates
from mufno_core.spectral import SpectralConv


@pytest.mark.parametrize("d", [1, 2, 3])
def test_fno_shapes(d):
    model = FNO(d, in_channels=2, out_channels=3, modes=3, width=8, depth=2)
    grid = (12, 10, 8)[:d]
    out = model(torch.randn(4, 2, *grid))
    assert out.shape == (4, 3, *grid)
    out.square().mean().backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("d", [1, 2, 3])
def test_fno_runs_on_two_resolutions(d):
    model = FNO(d, in_channels=1, out_channels=1, modes=2, width=4, depth=1)
    for grid in ((8, 6, 4)[:d], (9, 12, 7)[:d]):
        assert model(torch.randn(1, 1, *grid)).shape == (1, 1, *grid)


@pytest.mark.parametrize("k,count", [(24, 905_969_664), (3, 1_769_472)])
def test_fno3d_spectral_parameter_count_matches_the_paper(k, count):
    model = FNO(3, in_channels=13, out_channels=1, modes=k, width=64, depth=4, device="meta")
    assert model.spectral_parameter_count() == count
    assert all(layer.weight.device.type == "meta" for layer in model.spectral)


def test_spectral_parameter_count_formula():
    model = FNO(2, 1, 1, modes=(3, 5), width=6, depth=3)
    assert model.spectral_parameter_count() == 3 * 2 * 3 * 5 * 6 * 6
    spectral = [p for m in model.modules() if isinstance(m, SpectralConv) for p in m.parameters()]
    assert sum(p.numel() for p in spectral) == 2 * model.spectral_parameter_count()  # (re, im)


def test_pointwise_equals_a_1x1_convolution():
    torch.manual_seed(0)
    layer = Pointwise(5, 7, dtype=torch.float64)
    conv = nn.Conv2d(5, 7, 1, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(layer.weight[:, :, None, None])
        conv.bias.copy_(layer.bias)
    x = torch.randn(3, 5, 6, 4, dtype=torch.float64)
    torch.testing.assert_close(layer(x), conv(x))


def test_grid_coordinates():
    grid = grid_coordinates((3, 5))
    assert grid.shape == (2, 3, 5)
    torch.testing.assert_close(grid[0, :, 0], torch.tensor([0.0, 0.5, 1.0]))
    torch.testing.assert_close(grid[1, 0], torch.linspace(0, 1, 5))


def test_fno_rejects_wrong_rank_input():
    model = FNO(2, 1, 1, modes=2, width=4, depth=1)
    with pytest.raises(ValueError, match="FNO-2D expects"):
        model(torch.randn(1, 1, 8))


def test_evaluation_under_inference_mode_then_training():
    """The cached grid and DFT matrices built under inference_mode must serve training too."""
    model = FNO(2, 1, 1, modes=3, width=4, depth=1)
    x = torch.randn(2, 1, 12, 10)
    with torch.inference_mode():
        expected = model(x)
    out = model(x)
    out.square().mean().backward()
    torch.testing.assert_close(out.detach(), expected)
