"""The N-dimensional Fourier layer of the FNO: ``F^-1( R · T_K(F v) )``.

One class serves d = 1, 2, 3. The real FFT runs over the last axis, so that axis keeps the
frequencies 0..K-1; every other axis keeps both the lowest K non-negative and the K most negative
frequencies. The kept block therefore has shape (2K, …, 2K, K): it is the original FNO's
2^(d-1) "quadrants" of K^d modes each, stored as one tensor. The weight R holds one complex
m_in × m_out matrix per kept mode, 2^(d-1) · K^d · m_in · m_out complex entries in all.

Only the kept modes are ever used, so the transforms are products with truncated DFT matrices
(n × 2K per axis, cached per grid) instead of full FFTs: the same numbers up to rounding, but
plain GEMMs forward and backward, with no full-size complex spectrum to allocate, zero-fill and
scatter into (why that matters, profiled: ``benchmarks/README.md``). Where K is a large fraction
of the last axis (e.g. K = 512 of 1024 points) the last axis goes through the rFFT instead, which
then does far less work (:func:`last_axis_by_matmul`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch
from torch import nn

T = TypeVar("T")

GRIDS_CACHED = 4
"""How many grids' DFT matrices (and grid coordinates, :class:`~mufno_core.model.FNO`) a layer keeps."""


def cached_per_grid(cache: dict, key: tuple, build: Callable[[], T]) -> T:
    """``cache[key]``, built by ``build()`` on a miss; the oldest of :data:`GRIDS_CACHED` entries
    makes room. Built outside inference mode, so a tensor made during evaluation also serves a
    later training step."""
    if key not in cache:
        if len(cache) >= GRIDS_CACHED:
            del cache[next(iter(cache))]
        with torch.inference_mode(False):
            cache[key] = build()
    return cache[key]


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

    ``weight`` is R, of shape (2K_1, …, 2K_{d-1}, K_d, m_in, m_out), complex ``dtype``: modes
    first, so the contraction is one batched matrix product over modes. It is a view of the
    parameter ``weight_as_real``, the same numbers as (re, im) pairs in a real tensor of shape
    (…, m_in, m_out, 2): torch.optim.Adam treats complex parameters as that real view anyway, and
    stored so every Adam implementation applies (the fused CUDA kernel rejects complex tensors)
    and element-wise clipping is a plain clamp. ``multiplier`` is a(K) of the abc-parametrization
    (paper §3); the init std b(K) is applied by :func:`reset_parameters`.
    """

    def __init__(
        self,
        dim: int,
        in_channels: int,
        out_channels: int,
        modes: int | Sequence[int],
        init_std: float | None = None,
        multiplier: float = 1.0,
        lr_factor: float = 1.0,
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
        self.lr_factor = float(lr_factor)  # c(K): read by mufno_core.mup.make_adam
        self.init_std = (
            math.sqrt(2.0 / (in_channels + out_channels)) if init_std is None else float(init_std)
        )
        if not dtype.is_complex:
            raise ValueError(f"dtype is the complex dtype of R (torch.cfloat or torch.cdouble), "
                             f"got {dtype}")
        shape = kept_shape(self.modes) + (in_channels, out_channels, 2)
        self.weight_as_real = nn.Parameter(
            torch.empty(shape, dtype=dtype.to_real(), device=device))
        self._dft_cache: dict[tuple, dict[str, list[torch.Tensor]]] = {}
        self.reset_parameters()

    @property
    def weight(self) -> torch.Tensor:
        """R as a complex tensor (a view: writes to it change the parameter)."""
        return torch.view_as_complex(self.weight_as_real)

    def reset_parameters(self) -> None:
        """r ~ CN(0, b²): real and imaginary parts i.i.d. N(0, b²/2), so E|r|² = b² (nothing on the
        meta device, which holds no values: its sampler would import torch._dynamo)."""
        if self.weight_as_real.is_meta:
            return
        with torch.no_grad():
            self.weight_as_real.normal_(0.0, self.init_std / math.sqrt(2.0))

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, in={self.in_channels}, out={self.out_channels}, modes={self.modes}, "
            f"init_std={self.init_std:.4g}, multiplier={self.multiplier:g}"
        )

    def dft_matrices(self, grid: tuple[int, ...], device, dtype) -> dict[str, list[torch.Tensor]]:
        """The truncated DFTs for ``grid`` (see :func:`truncated_dfts`), cached for the last
        :data:`GRIDS_CACHED` grids (PINO alternates between the data grid and a finer PDE grid)."""
        def build() -> dict[str, list[torch.Tensor]]:
            return {name: [m.to(device, dtype if m.dtype == torch.float64 else complex_of(dtype))
                           for m in matrices]
                    for name, matrices in truncated_dfts(self.modes, grid).items()}

        return cached_per_grid(self._dft_cache, (grid, torch.device(device), dtype), build)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, m_in, n_1, …, n_d) -> (B, m_out, n_1, …, n_d); spectral tensors are
        # (B, m, 2K_1, …, 2K_{d-1}, K_d) with the kept frequencies in the order of ``weight``
        grid = tuple(x.shape[2:])
        if len(grid) != self.dim:
            raise ValueError(f"expected {self.dim} spatial axes, got input of shape {tuple(x.shape)}")
        check_grid(self.modes, grid)
        dft = self.dft_matrices(grid, x.device, x.dtype)
        spatial, kept = "xyz"[: self.dim - 1], "pqr"[: self.dim - 1]
        # rFFT on the last axis, modes 0..K_d-1: one real GEMM read as complex, or the FFT
        if dft["rfft_last"]:
            x_ft = x @ dft["rfft_last"][0]
            x_ft = torch.view_as_complex(x_ft.unflatten(-1, (self.modes[-1], 2)))
        else:
            x_ft = torch.fft.rfft(x, dim=-1)[..., : self.modes[-1]]
        if self.dim > 1:  # DFT on the other axes, kept modes only
            x_ft = torch.einsum(f"bi{spatial}w,{','.join(a + k for a, k in zip(spatial, kept))}"
                                f"->bi{kept}w", x_ft, *dft["forward"])
        # one complex m_in × m_out matrix per mode
        out_ft = torch.einsum(f"bi{kept}w,{kept}wio->bo{kept}w", x_ft, self.weight)
        if self.multiplier != 1.0:
            out_ft = out_ft * self.multiplier
        if self.dim > 1:
            out_ft = torch.einsum(f"bo{kept}w,{','.join(k + a for a, k in zip(spatial, kept))}"
                                  f"->bo{spatial}w", out_ft, *dft["inverse"])
        # inverse rFFT on the last axis: one real GEMM on (re, im) pairs, or the FFT
        if dft["irfft_last"]:
            return torch.view_as_real(out_ft).flatten(-2) @ dft["irfft_last"][0]
        return torch.fft.irfft(out_ft, n=grid[-1], dim=-1)


def complex_of(dtype: torch.dtype) -> torch.dtype:
    return torch.cdouble if dtype == torch.float64 else torch.cfloat


def prime_factors(n: int) -> list[int]:
    """The prime factors of ``n`` with multiplicity (``prime_factors(12) == [2, 2, 3]``)."""
    factors, p = [], 2
    while p * p <= n:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors + ([n] if n > 1 else [])


def last_axis_by_matmul(k: int, n: int) -> bool:
    """Whether the truncated rDFT (n × 2K multiply-adds a line, as a GEMM) beats the rFFT.

    A mixed-radix FFT of n points costs about n · Σ p over the prime factors p of n (2 log₂ n for a
    power of two; a prime n, such as the 29 or 31 points of the Darcy grids, costs ~n²). The GEMM
    costs n · 2K, and wins while 2K <= 2 Σ p: for n = 2^m that is 2K <= 4 log₂ n (K = 16 of 1024
    points); beyond, e.g. K = 512 of 1024 points, the FFT does far less work.
    ``benchmarks/bench_last_axis.py`` measures both sides.
    """
    return 2 * k <= 2 * sum(prime_factors(n))


def truncated_dfts(modes: tuple[int, ...], grid: tuple[int, ...]) -> dict[str, list[torch.Tensor]]:
    """DFT matrices (float64 / complex128) equal to ``rfftn`` / ``irfftn`` restricted to the kept modes.

    * ``forward``, one per non-last axis: (n, 2K) complex exp(-2πi j f/n), f = 0..K-1, -K..-1;
    * ``inverse``, one per non-last axis: (2K, n) complex exp(+2πi j f/n)/n;
    * ``rfft_last``: (n, 2K) real, columns (cos, -sin) of 2πjk/n interleaved per k, so that
      ``x @ F`` viewed as complex is ``rfft(x)[:K]``;
    * ``irfft_last``: (2K, n) real, rows (c_k cos, -c_k sin)/n with c_k = 1 for k = 0 and the
      Nyquist mode k = n/2 and 2 otherwise (Hermitian symmetry: the imaginary parts there drop out,
      as in ``irfft``).

    The last-axis pair is empty where :func:`last_axis_by_matmul` prefers the FFT.
    """
    def phase(n: int, freqs: torch.Tensor) -> torch.Tensor:
        j = torch.arange(n, dtype=torch.int64)
        return 2 * math.pi * ((j[:, None] * freqs[None, :]) % n).to(torch.float64) / n  # (n, f)

    out: dict[str, list[torch.Tensor]] = {"forward": [], "inverse": [], "rfft_last": [],
                                          "irfft_last": []}
    *other, (k_last, n_last) = zip(modes, grid)
    for k_axis, n in other:
        angle = phase(n, torch.cat([torch.arange(k_axis), torch.arange(-k_axis, 0)]))
        out["forward"].append(torch.polar(torch.ones_like(angle), -angle))
        out["inverse"].append(torch.polar(torch.ones_like(angle), angle).T / n)
    if last_axis_by_matmul(k_last, n_last):
        k = torch.arange(k_last)
        angle = phase(n_last, k)
        cos_sin = torch.stack([angle.cos(), -angle.sin()], dim=-1)  # (n, K, 2)
        out["rfft_last"].append(cos_sin.reshape(n_last, 2 * k_last))
        c = torch.where((k == 0) | (2 * k == n_last), 1.0, 2.0).to(torch.float64)
        out["irfft_last"].append((cos_sin * c[:, None] / n_last).permute(1, 2, 0).flatten(0, 1))
    return out
