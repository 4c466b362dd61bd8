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

Layout. Inside an :class:`~mufno_core.model.FNO` the layer works *points first*: hidden functions
are (n_1, …, n_d, batch, m), so that every transform is one (batched) GEMM that reads and writes
its operands in place, with no permute copies forward or backward (:func:`points_first_dfts`):

* forward: the last axis as x ↦ F_d x with F_d the (2K_d, n_d) real matrix of rows (cos; −sin), then
  each other axis, last to first, as one real GEMM with the 2×2 real block form of its complex DFT,
  acting on (n_i, re/im) at once, so the kept spectrum arrives *modes first*, as (re/im, modes,
  batch, m);
* mode mixing: one complex batched matmul over the modes, (modes, batch, m_in) @ (modes, m_in,
  m_out), on the stored weight as it is;
* inverse: the same steps transposed, first axis first, the last one real with irfft's weights.

Standalone (``points_first=False``, the default) the layer takes (batch, m, n_1, …, n_d) like the
original FNO layer and moves the axes around that core.
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
    """Fourier layer ``v ↦ F^-1(a · R · T_K(F v))`` for inputs (batch, m_in, n_1, …, n_d), or
    (n_1, …, n_d, batch, m_in) with ``points_first`` (the layout inside :class:`~mufno_core.model.FNO`).

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
        points_first: bool = False,
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
        self.points_first = points_first
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
        """r ~ CN(0, b²): real and imaginary parts i.i.d. N(0, b²/2), so E|r|² = b²."""
        with torch.no_grad():
            self.weight_as_real.normal_(0.0, self.init_std / math.sqrt(2.0))

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, in={self.in_channels}, out={self.out_channels}, modes={self.modes}, "
            f"init_std={self.init_std:.4g}, multiplier={self.multiplier:g}"
            + (", points_first=True" if self.points_first else "")
        )

    def dft_matrices(self, grid: tuple[int, ...], device, dtype) -> dict[str, list[torch.Tensor]]:
        """The transforms for ``grid`` (see :func:`points_first_dfts`), cached for the last
        :data:`GRIDS_CACHED` grids (PINO alternates between the data grid and a finer PDE grid)."""
        def build() -> dict[str, list[torch.Tensor]]:
            return {name: [m.to(device, dtype) for m in matrices]
                    for name, matrices in points_first_dfts(self.modes, grid).items()}

        return cached_per_grid(self._dft_cache, (grid, torch.device(device), dtype), build)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.points_first:
            return self.points_first_forward(x)
        # (B, m, n_1, …, n_d) -> (n_1, …, n_d, B, m) and back: copies the standalone layer pays
        d = self.dim
        if x.dim() != d + 2:
            raise ValueError(f"expected {d} spatial axes, got input of shape {tuple(x.shape)}")
        out = self.points_first_forward(x.permute(*range(2, d + 2), 0, 1))
        return out.permute(d, d + 1, *range(d)).contiguous()

    def points_first_forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (n_1, …, n_d, B, m_in) -> (n_1, …, n_d, B, m_out). Spectral tensors are real planes
        # (…, re/im, kept modes of the axes done so far, B·m), modes first once all axes are done.
        d = self.dim
        grid = tuple(x.shape[:d])
        if x.dim() != d + 2:
            raise ValueError(f"expected {d} spatial axes, got input of shape {tuple(x.shape)}")
        check_grid(self.modes, grid)
        batch, m_in, m_out = x.shape[d], x.shape[d + 1], self.out_channels
        dft = self.dft_matrices(grid, x.device, x.dtype)
        kept = kept_shape(self.modes)
        n_modes = math.prod(kept)
        # forward: the last axis (real -> (re, im) planes), then the others, last to first
        y = x.reshape(-1, grid[-1], batch * m_in)
        if dft["forward_last"]:
            y = torch.matmul(dft["forward_last"][0], y)  # (n_1…n_{d-1}, 2·K_d, B·m)
        else:
            y_ft = torch.fft.rfft(y, dim=1)[:, : self.modes[-1]]
            y = torch.stack([y_ft.real, y_ft.imag], dim=1)
        for axis in reversed(range(d - 1)):  # (…, n_i, re/im, …) -> (…, re/im, 2K_i, …)
            y = _matmul(dft["forward"][axis], y.reshape(math.prod(grid[:axis]), 2 * grid[axis], -1))
        # one complex m_in × m_out matrix per mode: (re/im, modes, B, m_in) -> (re/im, modes, B, m_out)
        y = ModeMixing.apply(y.reshape(2, n_modes, batch, m_in),
                             self.weight.reshape(n_modes, m_in, m_out))
        # inverse: the first axis first, the last axis back to real values
        for axis in range(d - 1):  # (…, re/im, 2K_i, …) -> (…, n_i, re/im, …)
            y = _matmul(dft["inverse"][axis], y.reshape(math.prod(grid[:axis]), 2 * kept[axis], -1))
        y = y.reshape(-1, 2 * self.modes[-1], batch * m_out)  # (n_1…n_{d-1}, 2·K_d, B·m)
        if dft["inverse_last"]:
            inverse = dft["inverse_last"][0]
            y = torch.matmul(inverse * self.multiplier if self.multiplier != 1.0 else inverse, y)
        else:
            if self.multiplier != 1.0:
                y = y * self.multiplier
            y = torch.fft.irfft(torch.complex(y[:, : self.modes[-1]], y[:, self.modes[-1]:]),
                                n=grid[-1], dim=1)
        return y.view(*grid, batch, m_out)


class ModeMixing(torch.autograd.Function):
    """(re, im) planes (2, modes, B, m_in) times one complex (m_in, m_out) matrix per mode, as (re,
    im) planes (2, modes, B, m_out): one complex batched matmul forward, two backward (grad R^H and
    X^H grad, autograd's own formulas), with the planes read and written by one pass each way
    instead of autograd's zero-filled gradients of ``.real``/``.imag``/``torch.complex``."""

    generate_vmap_rule = True  # the stacked members of mufno_core.stacked run it under torch.vmap

    @staticmethod
    def forward(planes: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        out = torch.bmm(torch.complex(planes[0], planes[1]), weight)
        return torch.stack([out.real, out.imag])

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        # conjugates built from the planes, so that every bmm operand is a plain transpose (a
        # conjugate-transposed operand would be copied)
        planes, weight = ctx.saved_tensors
        grad_planes = grad_weight = None
        if ctx.needs_input_grad[0]:  # conj(grad_x) = conj(grad) @ R^T
            conj_grad_x = torch.bmm(torch.complex(grad[0], -grad[1]), weight.mT)
            grad_planes = torch.stack([conj_grad_x.real, -conj_grad_x.imag])
        if ctx.needs_input_grad[1]:  # X^H @ grad
            grad_weight = torch.bmm(torch.complex(planes[0], -planes[1]).mT,
                                    torch.complex(grad[0], grad[1]))
        return grad_planes, grad_weight


def _matmul(matrix: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``matrix @ y[i]`` for every i of y's leading axis: one GEMM when that axis has length 1."""
    if y.shape[0] == 1:
        return torch.mm(matrix, y.squeeze(0)).unsqueeze(0)
    return torch.matmul(matrix, y)


def points_first_dfts(modes: tuple[int, ...], grid: tuple[int, ...]) -> dict[str, list[torch.Tensor]]:
    """:func:`truncated_dfts` rearranged for :meth:`SpectralConv.points_first_forward` (float64).

    A complex matrix C = A + iB acts on (re, im) pairs as the real block [[A, −B], [B, A]]; here
    the blocks are ordered so that every product is a plain GEMM on the tensor as it lies:

    * ``forward_last``: (2K_d, n_d), rows (re: cos; im: −sin) of 2πjk/n, k = 0..K_d-1;
    * ``forward``, one per non-last axis: (2·2K, 2n), rows (re/im out, f), columns (j, re/im in);
    * ``inverse``, one per non-last axis: (2n, 2·2K), rows (j, re/im out), columns (re/im in, f);
    * ``inverse_last``: (n_d, 2K_d), columns (re, im) × k with irfft's weights c_k/n.

    The last-axis pair is empty where :func:`last_axis_by_matmul` prefers the FFT.
    """
    dfts = truncated_dfts(modes, grid)

    out: dict[str, list[torch.Tensor]] = {"forward_last": [], "forward": [], "inverse": [],
                                          "inverse_last": []}
    for forward, inverse in zip(dfts["forward"], dfts["inverse"]):
        c = forward.T  # (2K, n): y_f = Σ_j c[f, j] x_j
        # rows (re/im out, f), columns (j, re/im in)
        real = torch.stack([torch.stack([c.real, -c.imag], -1), torch.stack([c.imag, c.real], -1)])
        out["forward"].append(real.reshape(2 * c.shape[0], 2 * c.shape[1]))
        c = inverse.T  # (n, 2K): x_j = Σ_f c[j, f] y_f
        # rows (j, re/im out), columns (re/im in, f)
        real = torch.stack([torch.cat([c.real, -c.imag], 1), torch.cat([c.imag, c.real], 1)], 1)
        out["inverse"].append(real.reshape(2 * c.shape[0], 2 * c.shape[1]))
    if dfts["rfft_last"]:
        n, k = grid[-1], modes[-1]
        out["forward_last"].append(dfts["rfft_last"][0].view(n, k, 2).permute(2, 1, 0).reshape(2 * k, n))
        out["inverse_last"].append(dfts["irfft_last"][0].view(k, 2, n).permute(2, 1, 0).reshape(n, 2 * k))
    return out


def prime_factors(n: int) -> list[int]:
    """The prime factors of ``n`` with multiplicity (``prime_factors(12) == [2, 2, 3]``)."""
    factors, p = [], 2
    while p * p <= n:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors + ([n] if n > 1 else [])


FFT_COST_FACTOR = 10
"""How many GEMM multiply-adds per point one FFT butterfly stage costs here (see below)."""


def last_axis_by_matmul(k: int, n: int) -> bool:
    """Whether the truncated rDFT (n × 2K multiply-adds a line, as a GEMM) beats the rFFT.

    A mixed-radix FFT of n points costs about n · Σ p over the prime factors p of n (2 log₂ n for a
    power of two; a prime n, such as the 29 or 31 points of the Darcy grids, costs ~n²). The GEMM
    costs n · 2K. Points first, the FFT runs along a strided axis and its half spectrum must be
    sliced and laid out as (re, im) planes, while the GEMM reads and writes in place, so the GEMM
    wins while 2K <= :data:`FFT_COST_FACTOR` · Σ p: for n = 2^m, K <= 10 log₂ n (K = 64 of 128
    points; K = 100 of 1024); beyond, e.g. K = 512 of 1024 points, the FFT does far less work.
    ``benchmarks/bench_last_axis.py`` measures both sides.
    """
    return 2 * k <= FFT_COST_FACTOR * sum(prime_factors(n))


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
