"""A tiny built-in operator-learning problem for tests and smoke runs (no files, no solver).

Inputs are random band-limited periodic fields; the target is a fixed smoothing operator plus a mild
quadratic term, ``y = S x + 0.5 (S x)²`` with ``S`` a Gaussian low-pass filter. Learnable by an FNO
with few modes, and deterministic for a given seed.
"""

from __future__ import annotations

import torch


def synthetic_fields(dim: int, resolution: int, n_samples: int, seed: int = 0,
                     band: int = 6) -> torch.Tensor:
    """Random real periodic fields (n_samples, 1, resolution, …) with modes |k_i| <= ``band``."""
    generator = torch.Generator().manual_seed(seed)
    shape = (n_samples, 1) + (resolution,) * dim
    noise = torch.randn(shape, generator=generator, dtype=torch.float64)
    spectrum = torch.fft.rfftn(noise, dim=tuple(range(2, 2 + dim)))
    freqs = [torch.fft.fftfreq(resolution, 1 / resolution)] * (dim - 1)
    freqs.append(torch.fft.rfftfreq(resolution, 1 / resolution))
    k = torch.stack(torch.meshgrid(*freqs, indexing="ij"))
    k_max = k.abs().amax(0)
    decay = (1.0 + (k**2).sum(0)) ** -1.0 * (k_max <= band)
    fields = torch.fft.irfftn(spectrum * decay, s=shape[2:], dim=tuple(range(2, 2 + dim)))
    return (fields / fields.std()).float()


def smoothing_operator(x: torch.Tensor, dim: int, width: float = 3.0) -> torch.Tensor:
    """``S x + 0.5 (S x)²`` with S the Gaussian filter exp(−|k|²/(2 width²)), normalised to std 1."""
    axes = tuple(range(2, 2 + dim))
    n = x.shape[2:]
    freqs = [torch.fft.fftfreq(s, 1 / s) for s in n[:-1]] + [torch.fft.rfftfreq(n[-1], 1 / n[-1])]
    k2 = sum(f**2 for f in torch.meshgrid(*freqs, indexing="ij"))
    smooth = torch.fft.irfftn(torch.fft.rfftn(x.double(), dim=axes) * torch.exp(-k2 / (2 * width**2)),
                              s=n, dim=axes)
    y = smooth + 0.5 * smooth**2
    return ((y - y.mean()) / y.std()).float()


def synthetic_dataset(dim: int, resolution: int, n_train: int, n_test: int,
                      seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x_train, y_train, x_test, y_test) of the synthetic problem."""
    x = synthetic_fields(dim, resolution, n_train + n_test, seed)
    y = smoothing_operator(x, dim)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]
