"""A tiny built-in operator-learning problem for tests and smoke runs (no files, no solver), and the
Fourier tools it is made of.

Inputs are random band-limited periodic fields; the target is a fixed smoothing operator plus a mild
quadratic term, ``y = S x + 0.5 (S x)²`` with ``S`` a Gaussian low-pass filter. Learnable by an FNO
with few modes, and deterministic for a given seed. The coordinate check's batch
(:func:`mufno_core.coord_check.synthetic_regression`) is built from the same tools:
:func:`wavenumbers`, :func:`band_limited_field` and :func:`fourier_filter`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch


def wavenumbers(shape: Sequence[int]) -> torch.Tensor:
    """The integer wavenumbers of a real FFT over a periodic grid of ``shape`` (d axes):
    a tensor (d, n_1, …, n_{d-1}, n_d // 2 + 1), the last axis holding the non-negative half."""
    freqs = [torch.fft.fftfreq(n, 1 / n) for n in shape[:-1]]
    freqs.append(torch.fft.rfftfreq(shape[-1], 1 / shape[-1]))
    return torch.stack(torch.meshgrid(*freqs, indexing="ij"))


def band_limited_field(spectrum: torch.Tensor, envelope: torch.Tensor,
                       shape: Sequence[int]) -> torch.Tensor:
    """The real periodic fields whose Fourier coefficients (real-FFT layout over the last
    ``len(shape)`` axes) are ``spectrum · envelope``, scaled to unit std over the whole batch."""
    fields = torch.fft.irfftn(spectrum * envelope, s=tuple(shape),
                              dim=tuple(range(-len(shape), 0)))
    return fields / fields.std()


def fourier_filter(x: torch.Tensor, dim: int,
                   transfer: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """A Fourier multiplier over the last ``dim`` axes of ``x``: ``irfftn(transfer(x̂, k))`` with
    x̂ = ``rfftn(x)`` and k = :func:`wavenumbers` of the grid (``transfer`` scales x̂ by a function
    of k)."""
    axes = tuple(range(-dim, 0))
    n = x.shape[-dim:]
    return torch.fft.irfftn(transfer(torch.fft.rfftn(x, dim=axes), wavenumbers(n)), s=n, dim=axes)


def synthetic_fields(dim: int, resolution: int, n_samples: int, seed: int = 0,
                     band: int = 6) -> torch.Tensor:
    """Random real periodic fields (n_samples, 1, resolution, …) with modes |k_i| <= ``band``:
    white noise filtered by (1 + |k|²)^-1, in float64, returned as float32."""
    generator = torch.Generator().manual_seed(seed)
    shape = (resolution,) * dim
    noise = torch.randn((n_samples, 1, *shape), generator=generator, dtype=torch.float64)
    k = wavenumbers(shape)
    envelope = (1.0 + (k**2).sum(0)) ** -1.0 * (k.abs().amax(0) <= band)
    spectrum = torch.fft.rfftn(noise, dim=tuple(range(-dim, 0)))
    return band_limited_field(spectrum, envelope, shape).float()


def smoothing_operator(x: torch.Tensor, dim: int, width: float = 3.0) -> torch.Tensor:
    """``S x + 0.5 (S x)²`` with S the Gaussian filter exp(−|k|²/(2 width²)), normalised to std 1."""
    smooth = fourier_filter(x.double(), dim,
                            lambda spectrum, k: spectrum * torch.exp(-(k**2).sum(0) / (2 * width**2)))
    y = smooth + 0.5 * smooth**2
    return ((y - y.mean()) / y.std()).float()


def synthetic_dataset(dim: int, resolution: int, n_train: int, n_test: int,
                      seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_test, y_test) of the synthetic problem."""
    x = synthetic_fields(dim, resolution, n_train + n_test, seed)
    y = smoothing_operator(x, dim)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]
