"""The FNO network: shapes in 1, 2, 3 dimensions, parameter counts, the pointwise layer."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from mufno_core.model import FNO, Pointwise, grid_coordinates
from mufno_core.spectral import SpectralConv
from tests.test_spectral import previous_spectral_conv


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
    torch.testing.assert_close(layer(x.movedim(1, -1)).movedim(-1, 1), conv(x))  # channels last


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


def previous_fno(model: FNO, x: torch.Tensor) -> torch.Tensor:
    """The FNO's forward before issue 29, channel-first throughout (1×1 layers as ``baddbmm``)."""
    def pointwise(layer: Pointwise, v: torch.Tensor) -> torch.Tensor:
        flat = v.flatten(2)
        out = torch.baddbmm(layer.bias[:, None].expand(-1, flat.shape[-1]),
                            layer.weight.expand(flat.shape[0], -1, -1), flat)
        return out.view(v.shape[0], -1, *v.shape[2:])

    grid = grid_coordinates(x.shape[2:], dtype=x.dtype)
    v = pointwise(model.lift, torch.cat([x, grid.expand(x.shape[0], *grid.shape)], dim=1))
    for i, (spectral, skip) in enumerate(zip(model.spectral, model.skip)):
        v = previous_spectral_conv(spectral, v) + pointwise(skip, v)
        if i < model.depth - 1:
            v = F.gelu(v)
    return pointwise(model.project_out, F.gelu(pointwise(model.project_hidden, v)))


@pytest.mark.parametrize("d,modes,grid", [(1, 5, (16,)), (1, 100, (256,)), (2, (3, 4), (9, 11)),
                                          (3, (2, 3, 2), (5, 7, 6))])
@pytest.mark.parametrize("parametrization", ["sp", "mup"])
def test_fno_equals_the_previous_fno_to_float64_round_off(d, modes, grid, parametrization):
    """Output and every parameter's gradient equal the channel-first FNO of before issue 29."""
    torch.manual_seed(0)
    model = FNO(d, in_channels=2, out_channels=3, modes=modes, width=6, depth=3,
                parametrization=parametrization, base_modes=2 if parametrization == "mup" else None,
                projection_width=10, dtype=torch.float64)
    x = torch.randn(4, 2, *grid, dtype=torch.float64)
    probe = torch.randn(4, 3, *grid, dtype=torch.float64)
    results = []
    for forward in (model, lambda v: previous_fno(model, v)):
        out = forward(x)
        results.append((out, *torch.autograd.grad((out * probe).sum(), list(model.parameters()))))
    for ours, previous in zip(*results, strict=True):
        torch.testing.assert_close(ours, previous, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("chunk", [5, 1024])
@pytest.mark.parametrize("out_channels", [1, 3])
def test_projection_head_equals_the_unfused_layers(monkeypatch, chunk, out_channels):
    """Chunk by chunk (the last one short) or in one: the same output and gradients (float64)."""
    import mufno_core.model as model_module

    monkeypatch.setattr(model_module, "POINTS_PER_CHUNK", chunk)
    torch.manual_seed(1)
    hidden, out = Pointwise(6, 9, dtype=torch.float64), Pointwise(9, out_channels, dtype=torch.float64)
    v = torch.randn(7, 3, 2, 6, dtype=torch.float64, requires_grad=True)
    probe = torch.randn(7, 3, 2, out_channels, dtype=torch.float64)
    inputs = (v, hidden.weight, hidden.bias, out.weight, out.bias)
    fused = model_module.ProjectionHead.apply(*inputs)
    unfused = out(F.gelu(hidden(v)))
    for a, b in zip((fused, *torch.autograd.grad((fused * probe).sum(), inputs)),
                    (unfused, *torch.autograd.grad((unfused * probe).sum(), inputs)), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_fno_under_vmap_equals_one_by_one():
    """The stacked members run the FNO under torch.vmap (the unfused head there)."""
    from torch.func import functional_call, stack_module_state

    torch.manual_seed(2)
    models = [FNO(2, 1, 1, modes=3, width=4, depth=2, dtype=torch.float64) for _ in range(2)]
    params, buffers = stack_module_state(models)
    x = torch.randn(3, 1, 9, 8, dtype=torch.float64)
    stacked = torch.vmap(lambda p, b: functional_call(models[0], (p, b), (x,)))(params, buffers)
    torch.testing.assert_close(stacked, torch.stack([m(x) for m in models]))
