"""The N-dimensional Fourier layer of the FNO: ``F^-1( R · T_K(F v) )``.

One class serves d = 1, 2, 3. The real FFT runs over the last axis, so that axis keeps the
frequencies 0..K-1; every other axis keeps both the lowest K non-negative and the K most negative
frequencies. The kept block therefore has shape (2K, …, 2K, K): it is the original FNO's
2^(d-1) "quadrants" of K^d modes each, stored as one tensor. The weight R holds one complex
m_in × m_out matrix per kept mode, 2^(d-1) · K^d · m_in · m_out complex entries in all.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn


def as_modes(modes: int | Sequence[int], dim: int) -> tuple[int, ...]:
    """Normalise ``modes`` (one K for every axis, or one per axis) to a tuple of length ``dim``."""
    if isinstance(modes, int):
        modes = (modes,) * dim
    modes = tuple(int(k) for k in modes)
    if len(modes) != dim:
        raise ValueError(f"modes {modes} has {len(modes)} entries, expected one per axis (d={dim})")
    if any(k < 1 for k in modes):
        raise ValueError(f"modes must be >= 1 on every axis, got {modes}")
    return modes


def kept_shape(modes: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of the block of kept frequencies: (2K_1, …, 2K_{d-1}, K_d)."""
    return tuple(2 * k for k in modes[:-1]) + (modes[-1],)


def check_grid(modes: tuple[int, ...], grid: Sequence[int]) -> None:
    """Raise a clear error when the grid has too few points to hold K modes on some axis."""
    d = len(modes)
    for axis, (k, n) in enumerate(zip(modes, grid)):
        last = axis == d - 1
        need = 2 * k - 2 if last else 2 * k
        if n < max(need, 1):
            kind = "the rFFT axis keeps K and needs n >= 2K-2" if last else "needs n >= 2K"
            raise ValueError(
                f"K={k} Fourier modes are too many for {n} grid points on axis {axis} "
                f"({kind}); use K <= {(n + 2) // 2 if last else n // 2} or a finer grid"
            )


class SpectralConv(nn.Module):
    """Fourier layer ``v ↦ F^-1(a · R · T_K(F v))`` for inputs (batch, m_in, n_1, …, n_d).

    ``weight`` has shape (2K_1, …, 2K_{d-1}, K_d, m_in, m_out), complex: modes first, so the
    contraction is one batched matrix product over modes. ``multiplier`` is a(K) of the
    abc-parametrization (paper §3); the init std b(K) is applied by :func:`reset_parameters`.
    """

    def __init__(
        self,
        dim: int,
        in_channels: int,
        out_channels: int,
        modes: int | Sequence[int],
        init_std: float | None = None,
        multiplier: float = 1.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.cfloat,
    ) -> None:
        super().__init__()
        if dim not in (1, 2, 3):
            raise ValueError(f"dim must be 1, 2 or 3, got {dim}")
        self.dim = dim
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.modes = as_modes(modes, dim)
        self.multiplier = float(multiplier)
        self.init_std = (
            math.sqrt(2.0 / (in_channels + out_channels)) if init_std is None else float(init_std)
        )
        shape = kept_shape(self.modes) + (in_channels, out_channels)
        self.weight = nn.Parameter(torch.empty(shape, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """r ~ CN(0, b²): real and imaginary parts i.i.d. N(0, b²/2), so E|r|² = b²."""
        with torch.no_grad():
            torch.view_as_real(self.weight).normal_(0.0, self.init_std / math.sqrt(2.0))

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, in={self.in_channels}, out={self.out_channels}, modes={self.modes}, "
            f"init_std={self.init_std:.4g}, multiplier={self.multiplier:g}"
        )

    def quadrants(self, grid: Sequence[int]) -> list[tuple[tuple[slice, ...], tuple[slice, ...]]]:
        """Pairs (slice of the kept block, slice of the rFFT spectrum), one per quadrant.

        Each non-last axis contributes its lowest K frequencies (0..K-1) and its K most negative
        ones (n-K..n-1); the last (rFFT) axis contributes 0..K-1.
        """
        pairs = []
        for signs in itertools.product((0, 1), repeat=self.dim - 1):
            block, spectrum = [], []
            for sign, k, n in zip(signs, self.modes[:-1], grid[:-1]):
                block.append(slice(sign * k, (sign + 1) * k))
                spectrum.append(slice(0, k) if sign == 0 else slice(n - k, n))
            last = slice(0, self.modes[-1])
            pairs.append(((*block, last), (*spectrum, last)))
        return pairs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, m_in, n_1, …, n_d) -> (B, m_out, n_1, …, n_d)
        grid = tuple(x.shape[2:])
        if len(grid) != self.dim:
            raise ValueError(f"expected {self.dim} spatial axes, got input of shape {tuple(x.shape)}")
        check_grid(self.modes, grid)
        axes = tuple(range(-self.dim, 0))
        x_ft = torch.fft.rfftn(x, dim=axes)
        quadrants = self.quadrants(grid)
        # gather the kept modes, modes first: (*kept, B, m_in)
        kept = x_ft.new_empty((*kept_shape(self.modes), x.shape[0], self.in_channels))
        for block, spectrum in quadrants:
            kept[block] = x_ft[(slice(None), slice(None), *spectrum)].movedim((0, 1), (-2, -1))
        # one complex m_in × m_out matrix per mode: (*kept, B, m_in) @ (*kept, m_in, m_out)
        out_kept = torch.matmul(kept, self.weight)
        if self.multiplier != 1.0:
            out_kept = out_kept * self.multiplier
        out_ft = x_ft.new_zeros((x.shape[0], self.out_channels, *x_ft.shape[2:]))
        for block, spectrum in quadrants:
            out_ft[(slice(None), slice(None), *spectrum)] = out_kept[block].movedim((-2, -1), (0, 1))
        return torch.fft.irfftn(out_ft, s=grid, dim=axes)
