"""The Fourier Neural Operator (Li et al. 2021) in 1, 2 or 3 dimensions.

    x ──[append grid]── lift (1×1) ──┬─ L Fourier layers: v ↦ σ(K v + W v) ─┬─ project m→128→out
                                                (no σ after the last layer)

``K`` is the spectral convolution (:class:`~mufno_core.spectral.SpectralConv`) with ``modes`` = K
kept per axis, ``W`` a pointwise (1×1) linear skip, σ = GELU. Only the spectral weights follow the
parametrization (SP or μP over K); everything else keeps PyTorch's default init.

Inside, hidden functions are laid out points first, (n_1, …, n_d, batch, m): the 1×1 layers are
then one GEMM over all points and the Fourier layers' transforms GEMMs on the tensors as they lie
(:mod:`mufno_core.spectral`); the input and the output are channel-first as everywhere else.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

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
    """A 1×1 convolution on channels-last tensors (…, C_in) -> (…, C_out): one GEMM over all points."""

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
        return PointwiseFunction.apply(x, self.weight, self.bias)


class PointwiseFunction(torch.autograd.Function):
    """``F.linear`` over channels-last points, with the backward's weight gradient taken as
    (xᵀ g)ᵀ instead of autograd's gᵀ x: the same numbers up to rounding, but for the FNO's few
    input channels (width 8 or 16 against up to 10⁴ points) MKL's GEMM is several times faster
    this way round (``benchmarks/README.md``)."""

    generate_vmap_rule = True  # stacked members (mufno_core.stacked) run under torch.vmap

    @staticmethod
    def forward(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return F.linear(x, weight, bias)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        x, weight, _ = inputs
        ctx.save_for_backward(x, weight)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        points = grad.reshape(-1, grad.shape[-1])
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = (points @ weight).view(x.shape)
        if ctx.needs_input_grad[1]:
            grad_weight = (x.reshape(-1, x.shape[-1]).T @ points).T
        if ctx.needs_input_grad[2]:
            grad_bias = points.sum(0)
        return grad_x, grad_weight, grad_bias


POINTS_PER_CHUNK = 1024
"""Points per chunk of :class:`ProjectionHead`: its (chunk, 128) hidden activations stay in cache."""


class ProjectionHead(torch.autograd.Function):
    """The projection ``v ↦ W₂ σ(W₁ v + b₁) + b₂`` over channels-last points, chunk by chunk.

    Its hidden layer (128 channels against the FNO's 8–16) is the largest activation of the
    network; autograd would write it, its GELU and their gradients to memory at full size. Here
    each chunk of :data:`POINTS_PER_CHUNK` points is computed in cache, forward and again in the
    backward (recomputing W₁ v + b₁ costs a GEMM with K = width), and only v is saved. The same
    numbers as the unfused layers up to rounding (the weight gradients sum chunk by chunk).
    """

    @staticmethod
    def forward(ctx, v, w1, b1, w2, b2):
        points = v.reshape(-1, v.shape[-1])
        out = points.new_empty(points.shape[0], w2.shape[0])
        for start in range(0, points.shape[0], POINTS_PER_CHUNK):
            chunk = slice(start, start + POINTS_PER_CHUNK)
            torch.addmm(b2, F.gelu(torch.addmm(b1, points[chunk], w1.T)), w2.T, out=out[chunk])
        ctx.save_for_backward(v, w1, b1, w2)
        return out.view(*v.shape[:-1], w2.shape[0])

    @staticmethod
    def backward(ctx, grad):
        v, w1, b1, w2 = ctx.saved_tensors
        points, grad = v.reshape(-1, v.shape[-1]), grad.reshape(-1, grad.shape[-1])
        grad_v = torch.empty_like(points)
        # weight gradients transposed, (xᵀ g) rather than gᵀ x: see PointwiseFunction
        grad_w1, grad_w2 = w1.new_zeros(w1.shape[::-1]), w2.new_zeros(w2.shape[::-1])
        grad_b1 = b1.new_zeros(b1.shape)
        for start in range(0, points.shape[0], POINTS_PER_CHUNK):
            chunk = slice(start, start + POINTS_PER_CHUNK)
            hidden = torch.addmm(b1, points[chunk], w1.T)
            grad_w2.addmm_(F.gelu(hidden).T, grad[chunk])
            grad_hidden = torch.ops.aten.gelu_backward(grad[chunk] @ w2, hidden)
            grad_w1.addmm_(points[chunk].T, grad_hidden)
            grad_b1 += grad_hidden.sum(0)
            torch.mm(grad_hidden, w1, out=grad_v[chunk])
        return grad_v.view(v.shape), grad_w1.T, grad_b1, grad_w2.T, grad.sum(0)


def grid_coordinates(shape: Sequence[int], device=None, dtype=None) -> torch.Tensor:
    """Coordinates in [0, 1] of a uniform grid, shape (d, n_1, …, n_d)."""
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
                         device=device, dtype=complex_dtype, points_first=True)
            for _ in range(depth)
        )
        self.skip = nn.ModuleList(Pointwise(width, width, **factory) for _ in range(depth))
        self.project_hidden = Pointwise(width, projection_width, **factory)
        self.project_out = Pointwise(projection_width, out_channels, **factory)
        self._grid_cache: dict[tuple, torch.Tensor] = {}

    def grid(self, shape: Sequence[int], device, dtype) -> torch.Tensor:
        """:func:`grid_coordinates` points first, (n_1, …, n_d, d), built once per (shape, device,
        dtype) for the last few grids."""
        return cached_per_grid(self._grid_cache, (tuple(shape), torch.device(device), dtype),
                               lambda: grid_coordinates(shape, device=device, dtype=dtype).movedim(
                                   0, -1).contiguous())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, in_channels, n_1, …, n_d) -> (B, out_channels, n_1, …, n_d); inside, points
        # first: v is (n_1, …, n_d, B, width)
        d = self.dim
        if x.dim() != d + 2:
            raise ValueError(
                f"FNO-{d}D expects input (batch, channels, {', '.join(['n'] * d)}), "
                f"got shape {tuple(x.shape)}"
            )
        if x.shape[1] != self.in_channels:
            raise ValueError(f"this FNO takes {self.in_channels} input channel(s), got "
                             f"{x.shape[1]} (input shape {tuple(x.shape)}, channels first)")
        x = x.permute(*range(2, d + 2), 0, 1)
        if self.append_grid:
            grid = self.grid(x.shape[:d], x.device, x.dtype)
            x = torch.cat([x, grid.unsqueeze(d).expand(*x.shape[:-1], d)], dim=-1)
        v = self.lift(x)
        for i, (spectral, skip) in enumerate(zip(self.spectral, self.skip)):
            v = spectral(v) + skip(v)
            if i < self.depth - 1:
                v = F.gelu(v)
        if torch._C._functorch.is_functorch_wrapped_tensor(v):  # torch.vmap (stacked members)
            out = self.project_out(F.gelu(self.project_hidden(v)))
        else:
            out = ProjectionHead.apply(v, self.project_hidden.weight, self.project_hidden.bias,
                                       self.project_out.weight, self.project_out.bias)
        return out.permute(d, d + 1, *range(d)).contiguous()

    def spectral_parameter_count(self) -> int:
        """Complex entries in all spectral weights: depth · 2^(d-1) · K^d · m²."""
        return sum(layer.weight.numel() for layer in self.spectral)


@dataclass(frozen=True)
class ModelConfig:
    """The settings an :class:`FNO` is built from (the arguments of the same names)."""

    dim: int
    in_channels: int
    out_channels: int
    modes: Modes
    width: int = 64
    depth: int = 4
    parametrization: ParametrizationName | Parametrization = "sp"
    base_modes: Modes | None = None
    init_scale: float = 1.0

    def build(self, device: torch.device | str | None = None,
              dtype: torch.dtype = torch.float32) -> FNO:
        """A freshly initialised FNO (drawing its weights from torch's global generator)."""
        return FNO(**{f.name: getattr(self, f.name) for f in fields(self)}, device=device,
                   dtype=dtype)
