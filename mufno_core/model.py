"""The Fourier Neural Operator (Li et al. 2021) in 1, 2 or 3 dimensions.

    x ──[append grid]── lift (1×1) ──┬─ L Fourier layers: v ↦ σ(K v + W v) ─┬─ project m→128→out
                                                (no σ after the last layer)

``K`` is the spectral convolution (:class:`~mufno_core.spectral.SpectralConv`) with ``modes`` = K
kept per axis, ``W`` a pointwise (1×1) linear skip, σ = GELU. Only the spectral weights follow the
parametrization (SP or μP over K); everything else keeps PyTorch's default init.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from mufno_core.mup import Modes, Parametrization, ParametrizationName
from mufno_core.spectral import SpectralConv, as_modes, cached_per_grid


def _check_modes(modes, dim: int) -> None:
    """ValueError unless ``modes`` is a positive int or a sequence of ``dim`` positive ints."""
    def is_k(k) -> bool:
        return isinstance(k, int) and not isinstance(k, bool) and k >= 1

    if is_k(modes):
        return
    if isinstance(modes, Sequence) and not isinstance(modes, str) and all(is_k(k) for k in modes):
        return
    raise ValueError(f"modes must be a positive int K or one positive int per axis (d={dim}), "
                     f"got {modes!r}")


class Pointwise(nn.Module):
    """A 1×1 convolution on channel-first tensors (B, C_in, n_1, …, n_d) -> (B, C_out, …)."""

    def __init__(self, in_channels: int, out_channels: int, device=None, dtype=None) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, device=device, dtype=dtype))
        self.bias = nn.Parameter(torch.empty(out_channels, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """nn.Linear's default init (Kaiming-uniform weight, uniform bias in ±1/sqrt(C_in))."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1.0 / math.sqrt(self.weight.shape[1])
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(2)  # (B, C_in, N)
        out = torch.baddbmm(self.bias[:, None].expand(-1, flat.shape[-1]), self.weight.expand(
            flat.shape[0], -1, -1), flat)
        return out.view(x.shape[0], -1, *x.shape[2:])


def grid_coordinates(shape: Sequence[int], device=None, dtype=None) -> torch.Tensor:
    """Coordinates in [0, 1] of a uniform grid, shape (d, n_1, …, n_d) (on the meta device, which
    holds no values, only the shape: meta's linspace imports sympy, 0.6 s)."""
    if torch.device(device or "cpu").type == "meta":
        return torch.empty(len(shape), *shape, device=device, dtype=dtype)
    axes = [torch.linspace(0.0, 1.0, n, device=device, dtype=dtype) for n in shape]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"))


class FNO(nn.Module):
    """FNO with ``depth`` Fourier layers of ``width`` channels keeping ``modes`` = K per axis.

    Args:
        dim: number of spatial axes d (1, 2 or 3; FNO-3D treats time as the third axis).
        in_channels, out_channels: channels of the input function and of the output.
        modes: K, one int for every axis or a tuple with one per axis.
        width: hidden channels m (the paper uses 64).
        depth: number of Fourier layers L (the paper uses 4).
        parametrization: "sp" or "mup", the scaling of the spectral weights over K (paper §3).
        base_modes: for μP relative to a base K₀ (equal to SP there); ``None`` for the absolute form.
        init_scale: σ, multiplies the spectral init std b(K).
        projection_width: hidden channels of the projection (128 in the original FNO).
        append_grid: append the d grid coordinates to the input channels.
    Inputs are channel-first: (batch, in_channels, n_1, …, n_d).
    """

    def __init__(
        self,
        dim: int,
        in_channels: int,
        out_channels: int,
        modes: Modes,
        width: int = 64,
        depth: int = 4,
        parametrization: ParametrizationName | Parametrization = "sp",
        base_modes: Modes | None = None,
        init_scale: float = 1.0,
        projection_width: int = 128,
        append_grid: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        if dim not in (1, 2, 3):
            raise ValueError(f"dim must be 1, 2 or 3, got {dim}")
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("width", width), ("depth", depth)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        _check_modes(modes, dim)
        if not isinstance(parametrization, Parametrization):
            parametrization = Parametrization(parametrization, base_modes, init_scale)
        self.dim = dim
        self.in_channels = in_channels
        self.modes = as_modes(modes, dim)
        self.width = width
        self.depth = depth
        self.append_grid = append_grid
        self.parametrization = parametrization
        self.lr_factor = parametrization.lr_factor(self.modes, dim)
        complex_dtype = torch.cfloat if dtype == torch.float32 else torch.cdouble
        init_std = parametrization.init_factor(self.modes, dim) * math.sqrt(2.0 / (2 * width))
        factory = {"device": device, "dtype": dtype}

        lifted = in_channels + (dim if append_grid else 0)
        self.lift = Pointwise(lifted, width, **factory)
        self.spectral = nn.ModuleList(
            SpectralConv(dim, width, width, self.modes, init_std=init_std,
                         multiplier=parametrization.multiplier(self.modes, dim),
                         lr_factor=self.lr_factor,
                         device=device, dtype=complex_dtype)
            for _ in range(depth)
        )
        self.skip = nn.ModuleList(Pointwise(width, width, **factory) for _ in range(depth))
        self.project_hidden = Pointwise(width, projection_width, **factory)
        self.project_out = Pointwise(projection_width, out_channels, **factory)
        self._grid_cache: dict[tuple, torch.Tensor] = {}

    def grid(self, shape: Sequence[int], device, dtype) -> torch.Tensor:
        """:func:`grid_coordinates`, built once per (shape, device, dtype) for the last few grids."""
        return cached_per_grid(self._grid_cache, (tuple(shape), torch.device(device), dtype),
                               lambda: grid_coordinates(shape, device=device, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, in_channels, n_1, …, n_d) -> (B, out_channels, n_1, …, n_d)
        if x.dim() != self.dim + 2:
            raise ValueError(
                f"FNO-{self.dim}D expects input (batch, channels, {', '.join(['n'] * self.dim)}), "
                f"got shape {tuple(x.shape)}"
            )
        if x.shape[1] != self.in_channels:
            raise ValueError(f"this FNO takes {self.in_channels} input channel(s), got "
                             f"{x.shape[1]} (input shape {tuple(x.shape)}, channels first)")
        if self.append_grid:
            grid = self.grid(x.shape[2:], x.device, x.dtype)
            x = torch.cat([x, grid.expand(x.shape[0], *grid.shape)], dim=1)
        v = self.lift(x)
        for i, (spectral, skip) in enumerate(zip(self.spectral, self.skip)):
            v = spectral(v) + skip(v)
            if i < self.depth - 1:
                v = F.gelu(v)
        return self.project_out(F.gelu(self.project_hidden(v)))

    def spectral_parameter_count(self) -> int:
        """Complex entries in all spectral weights: depth · 2^(d-1) · K^d · m²."""
        return sum(layer.weight.numel() for layer in self.spectral)
