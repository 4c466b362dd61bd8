"""SpectralConv against a straightforward reference, plus the layer's core properties.

The reference is the original FNO layer transcribed (Li et al. 2021, ``SpectralConv{1,2,3}d``):
one ``einsum("bi...,io...->bo...")`` per frequency quadrant, written into a zero spectrum. Each
quadrant's weight is read out of our ``weight`` by :func:`quadrant_weights`, the only place that
knows our storage layout.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from mufno_core.spectral import SpectralConv, last_axis_by_matmul, prime_factors

EINSUM = {1: "bix,iox->box", 2: "bixy,ioxy->boxy", 3: "bixyz,ioxyz->boxyz"}


def quadrant_weights(layer: SpectralConv) -> list[tuple[tuple[int, ...], torch.Tensor]]:
    """(signs, weight (m_in, m_out, K_1, …, K_d)) for each quadrant of ``layer``.

    ``signs[i]`` is 0 for the lowest K frequencies 0..K-1 of axis i, 1 for the most negative ones
    -K..-1 (non-last axes only). In our weight the low block comes first on each axis.
    """
    w = layer.weight  # (2K_1, …, 2K_{d-1}, K_d, m_in, m_out)
    out = []
    for signs in itertools.product((0, 1), repeat=layer.dim - 1):
        index = tuple(slice(s * k, (s + 1) * k) for s, k in zip(signs, layer.modes[:-1]))
        block = w[(*index, slice(None))]
        out.append((signs, block.permute(-2, -1, *range(layer.dim))))
    return out


def reference_spectral_conv(layer: SpectralConv, x: torch.Tensor) -> torch.Tensor:
    """The original FNO layer: rFFT, one einsum per quadrant into a zero spectrum, inverse rFFT."""
    d = layer.dim
    grid = x.shape[2:]
    x_ft = torch.fft.rfftn(x, dim=tuple(range(-d, 0)))
    out_ft = torch.zeros(x.shape[0], layer.out_channels, *x_ft.shape[2:], dtype=x_ft.dtype)
    for signs, weight in quadrant_weights(layer):
        index = [slice(0, k) if s == 0 else slice(n - k, n)
                 for s, k, n in zip(signs, layer.modes[:-1], grid[:-1])]
        index = (slice(None), slice(None), *index, slice(0, layer.modes[-1]))
        out_ft[index] = torch.einsum(EINSUM[d], x_ft[index], weight) * layer.multiplier
    return torch.fft.irfftn(out_ft, s=grid, dim=tuple(range(-d, 0)))


# (d, modes, grid): odd sizes, non-square modes, the smallest grids check_grid allows
CASES = [
    (1, (5,), (16,)),
    (1, (4,), (13,)),
    (1, (3,), (4,)),
    (2, (3, 4), (9, 11)),
    (2, (4, 2), (8, 2)),
    (2, (2, 3), (12, 7)),
    (3, (2, 3, 2), (5, 7, 6)),
    (3, (2, 2, 3), (4, 6, 5)),
    # K large for the last axis: it goes through the rFFT instead of the truncated DFT
    (1, (12,), (32,)),
    (2, (3, 17), (7, 33)),
    (3, (2, 2, 12), (5, 4, 32)),
]


@pytest.mark.parametrize("d,modes,grid", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_reference_forward_and_backward(d, modes, grid, dtype):
    torch.manual_seed(0)
    cdtype = torch.cfloat if dtype == torch.float32 else torch.cdouble
    layer = SpectralConv(d, 3, 5, modes, multiplier=0.7, dtype=cdtype)
    x = torch.randn(2, 3, *grid, dtype=dtype, requires_grad=True)
    probe = torch.randn(2, 5, *grid, dtype=dtype)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else {"rtol": 1e-11, "atol": 1e-11}

    ours = layer(x)
    (ours * probe).sum().backward()
    grads = (x.grad.clone(), layer.weight_as_real.grad.clone())
    x.grad, layer.weight_as_real.grad = None, None
    ref = reference_spectral_conv(layer, x)
    (ref * probe).sum().backward()

    assert ours.shape == ref.shape == (2, 5, *grid)
    torch.testing.assert_close(ours, ref, **tol)
    torch.testing.assert_close(grads[0], x.grad, **tol)
    torch.testing.assert_close(grads[1], layer.weight_as_real.grad, **tol)


def test_cases_cover_both_last_axis_transforms():
    by_matmul = {last_axis_by_matmul(modes[-1], grid[-1]) for _, modes, grid in CASES}
    assert by_matmul == {True, False}
    assert last_axis_by_matmul(16, 1024) and not last_axis_by_matmul(512, 1024)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_shapes_and_weight_count(d):
    k, m_in, m_out = 3, 4, 6
    layer = SpectralConv(d, m_in, m_out, k)
    assert layer.modes == (k,) * d
    assert layer.weight.numel() == 2 ** (d - 1) * k**d * m_in * m_out
    assert layer.weight.is_complex()
    grid = (8, 10, 6)[:d]
    assert layer(torch.randn(2, m_in, *grid)).shape == (2, m_out, *grid)


def test_init_std_and_multiplier_are_kept():
    layer = SpectralConv(2, 16, 16, 8, init_std=0.3, multiplier=2.0)
    assert layer.init_std == 0.3 and layer.multiplier == 2.0
    w = layer.weight.detach()
    assert (w.abs() ** 2).mean().sqrt().item() == pytest.approx(0.3, rel=0.05)
    assert w.real.std().item() == pytest.approx(0.3 / math.sqrt(2), rel=0.05)
    assert w.imag.std().item() == pytest.approx(0.3 / math.sqrt(2), rel=0.05)


def trig_polynomial(coefficients: torch.Tensor, grid: tuple[int, ...]) -> torch.Tensor:
    """Σ_k c_k exp(2πi k·x) sampled on a uniform periodic grid, real part; k over -K..K-1."""
    d = len(grid)
    k_max = coefficients.shape[-1] // 2
    points = torch.meshgrid(*[torch.arange(n, dtype=torch.float64) / n for n in grid], indexing="ij")
    value = torch.zeros(coefficients.shape[:2] + grid, dtype=torch.complex128)
    for k in itertools.product(range(-k_max + 1, k_max), repeat=d):
        phase = sum(ki * xi for ki, xi in zip(k, points)) * 2 * math.pi
        c = coefficients[(..., *[ki + k_max for ki in k])]
        value = value + c[(..., *[None] * d)] * torch.exp(1j * phase)
    return value.real


@pytest.mark.parametrize("d", [1, 2, 3])
def test_band_limited_input_gives_the_same_function_on_two_grids(d):
    """Frequencies < K pass through unchanged in shape: outputs agree at the shared points."""
    torch.manual_seed(1)
    k = 3
    coarse = (9, 12, 7)[:d]
    fine = tuple(2 * n for n in coarse)
    coefficients = torch.randn(2, 3, *[2 * k] * d, dtype=torch.complex128)
    layer = SpectralConv(d, 3, 4, k, dtype=torch.cdouble)
    out_coarse = layer(trig_polynomial(coefficients, coarse))
    out_fine = layer(trig_polynomial(coefficients, fine))
    shared = out_fine[(slice(None), slice(None), *[slice(None, None, 2)] * d)]
    torch.testing.assert_close(out_coarse, shared, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("d,modes,grid", [
    (1, 9, (15,)),
    (2, 5, (9, 16)),
    (2, 5, (10, 7)),
    (3, 3, (6, 5, 6)),
])
def test_too_many_modes_for_the_grid_is_a_clear_error(d, modes, grid):
    layer = SpectralConv(d, 2, 2, modes)
    with pytest.raises(ValueError, match="too many for"):
        layer(torch.randn(1, 2, *grid))


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="dim"):
        SpectralConv(4, 2, 2, 3)
    with pytest.raises(ValueError, match="one per axis"):
        SpectralConv(2, 2, 2, (3, 3, 3))
    with pytest.raises(ValueError, match=">= 1"):
        SpectralConv(1, 2, 2, 0)
    with pytest.raises(ValueError, match="spatial axes"):
        SpectralConv(2, 2, 2, 3)(torch.randn(1, 2, 8))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_dft_cache_keeps_the_last_few_grids(d):
    """PINO alternates a data grid and a finer PDE grid: both stay cached (at most GRIDS_CACHED)."""
    from mufno_core.spectral import GRIDS_CACHED

    layer = SpectralConv(d, 2, 2, 2)
    sizes = [8 + 2 * i for i in range(GRIDS_CACHED + 1)]
    layer(torch.randn(1, 2, *(sizes[0],) * d))
    first = layer.dft_matrices((sizes[0],) * d, "cpu", torch.float32)
    layer(torch.randn(1, 2, *(sizes[1],) * d))
    assert layer.dft_matrices((sizes[0],) * d, "cpu", torch.float32) is first  # not rebuilt
    for n in sizes[2:]:
        layer(torch.randn(1, 2, *(n,) * d))
    assert len(layer._dft_cache) == GRIDS_CACHED
    assert ((sizes[0],) * d, torch.device("cpu"), torch.float32) not in layer._dft_cache  # oldest out


@pytest.mark.parametrize("n, factors", [(29, [29]), (1024, [2] * 10), (10, [2, 5]), (31, [31]),
                                        (12, [2, 2, 3])])
def test_prime_factors(n, factors):
    assert prime_factors(n) == factors


def test_last_axis_rule_equals_the_power_of_two_rule_and_prefers_gemm_on_prime_grids():
    for m in range(3, 12):
        n = 2**m
        for k in range(1, n // 2 + 1):
            assert last_axis_by_matmul(k, n) == (2 * k <= 4 * math.log2(n))
    assert last_axis_by_matmul(12, 29) and last_axis_by_matmul(14, 31)
