"""The N-dimensional Fourier layer of the FNO: ``F^-1( R · T_K(F v) )``.

One class serves d = 1, 2, 3. The real FFT runs over the last axis, so that axis keeps the
frequencies 0..K-1; every other axis keeps both the lowest K non-negative and the K most negative
frequencies. The kept block therefore has shape (2K, …, 2K, K): it is the original FNO's
2^(d-1) "quadrants" of K^d modes each, stored as one tensor. The weight R holds one complex
m_in × m_out matrix per kept mode, 2^(d-1) · K^d · m_in · m_out complex entries in all.

Only the kept modes are ever used, so the forward rFFT and the inverse rFFT are computed as
products with truncated DFT matrices (n × 2K per axis, cached per grid) instead of full FFTs:
the same numbers up to rounding, but plain GEMMs forward and backward, with no full-size complex
spectrum to allocate, zero-fill and scatter into (profile: those, and the backward of rfftn, a
zero-padded full complex FFT, dominated the FFT version on the CPU).
"""

from __future__ import annotations

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
        self._dft_cache: dict[tuple, tuple[torch.Tensor, ...]] = {}
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

    def dft_matrices(self, grid: tuple[int, ...], device, dtype) -> tuple[torch.Tensor, ...]:
        """The truncated DFTs of ``grid`` that keep exactly the modes of ``weight``, cached.

        Returns ``(rfft_last, forward_1, …, forward_{d-1}, inverse_1, …, inverse_{d-1},
        irfft_last)``. Only the kept modes are ever used, so the rFFT / inverse rFFT reduce to
        products with thin (n × 2K) matrices, which are plain GEMMs forward and backward.
        """
        key = (grid, torch.device(device), dtype)
        if key not in self._dft_cache:
            self._dft_cache.clear()
            self._dft_cache[key] = tuple(
                m.to(device=device, dtype=dtype if i in (0, 2 * self.dim - 1) else complex_of(dtype))
                for i, m in enumerate(truncated_dfts(self.modes, grid))
            )
        return self._dft_cache[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, m_in, n_1, …, n_d) -> (B, m_out, n_1, …, n_d); spectral tensors are
        # (B, m, 2K_1, …, 2K_{d-1}, K_d) with the kept frequencies in the order of ``weight``
        grid = tuple(x.shape[2:])
        if len(grid) != self.dim:
            raise ValueError(f"expected {self.dim} spatial axes, got input of shape {tuple(x.shape)}")
        check_grid(self.modes, grid)
        rfft_last, *forward_inverse, irfft_last = self.dft_matrices(grid, x.device, x.dtype)
        forward, inverse = forward_inverse[: self.dim - 1], forward_inverse[self.dim - 1 :]
        spatial, kept = "xyz"[: self.dim - 1], "pqr"[: self.dim - 1]
        # rFFT on the last axis, modes 0..K_d-1: one real GEMM, read as complex
        x_ft = torch.view_as_complex((x @ rfft_last).unflatten(-1, (self.modes[-1], 2)))
        if self.dim > 1:  # full DFT on the other axes, kept modes only
            x_ft = torch.einsum(f"bi{spatial}w,{','.join(a + k for a, k in zip(spatial, kept))}"
                                f"->bi{kept}w", x_ft, *forward)
        # one complex m_in × m_out matrix per mode
        out_ft = torch.einsum(f"bi{kept}w,{kept}wio->bo{kept}w", x_ft, self.weight)
        if self.multiplier != 1.0:
            out_ft = out_ft * self.multiplier
        if self.dim > 1:
            out_ft = torch.einsum(f"bo{kept}w,{','.join(k + a for a, k in zip(spatial, kept))}"
                                  f"->bo{spatial}w", out_ft, *inverse)
        # inverse rFFT on the last axis: one real GEMM on (re, im) pairs
        return torch.view_as_real(out_ft).flatten(-2) @ irfft_last


def complex_of(dtype: torch.dtype) -> torch.dtype:
    return torch.cdouble if dtype == torch.float64 else torch.cfloat


def truncated_dfts(modes: tuple[int, ...], grid: tuple[int, ...]) -> list[torch.Tensor]:
    """DFT matrices (float64 / complex128) equal to ``rfftn`` / ``irfftn`` restricted to the kept modes.

    * last axis, forward: (n, 2K) real, columns (cos, -sin) of 2πjk/n interleaved per k, so that
      ``x @ F`` viewed as complex is ``rfft(x)[:K]``;
    * other axes, forward: (n, 2K) complex exp(-2πi j f/n) for f = 0..K-1, -K..-1;
    * other axes, inverse: (2K, n) complex exp(+2πi j f/n)/n;
    * last axis, inverse: (2K, n) real, rows (c_k cos, -c_k sin)/n with c_k = 1 for k = 0 and the
      Nyquist mode k = n/2 and 2 otherwise (Hermitian symmetry: the imaginary parts there drop out,
      as in ``irfft``).
    """
    def phase(n: int, freqs: torch.Tensor) -> torch.Tensor:
        j = torch.arange(n, dtype=torch.int64)
        return 2 * math.pi * ((j[:, None] * freqs[None, :]) % n).to(torch.float64) / n  # (n, f)

    *other, (k_last, n_last) = zip(modes, grid)
    k = torch.arange(k_last)
    angle = phase(n_last, k)
    rfft_last = torch.stack([angle.cos(), -angle.sin()], dim=-1).reshape(n_last, 2 * k_last)
    weight = torch.where((k == 0) | (2 * k == n_last), 1.0, 2.0).to(torch.float64)
    irfft_last = (torch.stack([angle.cos(), -angle.sin()], dim=-1) * weight[:, None] / n_last)
    irfft_last = irfft_last.permute(1, 2, 0).reshape(2 * k_last, n_last)
    forward, inverse = [], []
    for k_axis, n in other:
        freqs = torch.cat([torch.arange(k_axis), torch.arange(-k_axis, 0)])
        angle = phase(n, freqs)
        forward.append(torch.polar(torch.ones_like(angle), -angle))
        inverse.append(torch.polar(torch.ones_like(angle), angle).T / n)
    return [rfft_last, *forward, *inverse, irfft_last]
