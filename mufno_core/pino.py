"""PINO on Darcy flow: a data loss plus the physics loss of the equation (Li et al., PINO, 2021).

    L = w_data · ‖û − u‖/‖u‖ + w_pde · ‖−∇·(a∇û) − f‖/‖f‖,      û = mollify(FNO(a))

* The zero boundary condition is built into the prediction: the network output is multiplied by the
  mollifier ``scale · sin(πx) sin(πy)`` on the node grid of the unit square (PINO: scale = 1e-3).
  Wrap the FNO in :class:`Mollified` so that the trainer's evaluation sees the same prediction.
* The physics loss is :func:`mufno_core.losses.darcy_pde_loss`: the 5-point scheme of the data
  solver, relative to ‖f‖ over the interior nodes. It needs u and a in physical units, so the loss
  takes the decoders (inverse normalisers) of the model's input and output.
* It may be evaluated on a finer grid than the data (``pde_resolution``): the coefficient is
  interpolated there and the model, resolution invariant, runs on it.
* Either weight may be 0; ``data_weight = 0`` is data-free physics training (the targets are unused).

Scale and normalisers: PINO trains on unnormalised u (O(1e-2) for f = 1) with scale 1e-3, so the raw
network output at the centre is O(10). With normalised targets the mollified output is the
*normalised* prediction and ``decode_output`` turns it into u; the boundary then stays at 0 only if
the decoder maps 0 to 0 on the boundary (true for a point-wise Gaussian normaliser of u, whose mean and
std both vanish there; not for a scalar one with non-zero mean), and the scale should be O(1), since
the normalised target is O(1). The scale is a parameter for this reason. (The normalised target
(u − μ)/σ stays O(1) up to the first interior node, so the raw output has to grow like 1/distance
towards the boundary; in a small check the mollifier cost little test accuracy.)

The two terms do not share a minimiser: data subsampled from a finer solve are not the discrete
solution of the coarse 5-point scheme, so the physics loss of the exact data is not zero on the data
grid: for the piecewise-constant coefficient the residual is O(1/h) at the nodes next to a jump of a,
an O(h) fraction of the nodes, so the loss is O(1) and even grows like h^(−1/2) as the grid is refined.
The coarse discrete solution has a zero residual but differs from the data by the scheme's
discretisation error (a few per cent in relative L2 at s ≈ 30).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from mufno_core.losses import Decode, LossFn, darcy_pde_loss, relative_l2

Interpolation = Literal["bilinear", "nearest"]
Model = nn.Module | Callable[[torch.Tensor], torch.Tensor]

PINO_MOLLIFIER_SCALE = 1e-3
"""PINO's Darcy choice: the network output is multiplied by 1e-3 · sin(πx) sin(πy)."""


def mollifier(shape: tuple[int, int], scale: float = PINO_MOLLIFIER_SCALE, device=None,
              dtype=None) -> torch.Tensor:
    """``scale · sin(πx) sin(πy)`` at the nodes x_i = i/(n_1−1), y_j = j/(n_2−1); shape ``shape``."""
    n1, n2 = shape
    if n1 < 2 or n2 < 2:
        raise ValueError(f"the node grid needs at least 2 nodes per side, got {shape}")
    x = torch.sin(math.pi * torch.linspace(0.0, 1.0, n1, device=device, dtype=torch.float64))
    y = torch.sin(math.pi * torch.linspace(0.0, 1.0, n2, device=device, dtype=torch.float64))
    m = scale * x[:, None] * y[None, :]
    m[0, :] = m[-1, :] = 0.0  # sin(π) is 1.2e-16, not 0
    m[:, 0] = m[:, -1] = 0.0
    return m.to(dtype or torch.get_default_dtype())


def mollify(u: torch.Tensor, scale: float = PINO_MOLLIFIER_SCALE) -> torch.Tensor:
    """``scale · sin(πx) sin(πy) · u`` over the last two axes (a node grid of the unit square).

    Exactly zero on the boundary nodes, so the Dirichlet condition u = 0 holds by construction.
    """
    if u.dim() < 2:
        raise ValueError(f"mollify needs at least two (spatial) axes, got shape {tuple(u.shape)}")
    return u * mollifier(tuple(u.shape[-2:]), scale, device=u.device, dtype=u.dtype)


class Mollified(nn.Module):
    """``forward(x) = mollify(model(x), scale)``: a 2-D operator with u = 0 built in on the boundary.

    The wrapped model stays reachable as ``.model``; μP's parameter groups find its spectral layers
    through ``modules()``, so :func:`mufno_core.train.train` treats the wrapper like the FNO itself.
    """

    def __init__(self, model: nn.Module, scale: float = PINO_MOLLIFIER_SCALE) -> None:
        super().__init__()
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"the mollifier scale must be a positive number, got {scale!r}")
        self.model = model
        self.scale = float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return mollify(self.model(x), self.scale)

    def extra_repr(self) -> str:
        return f"scale={self.scale:g}"


def resample_nodes(field: torch.Tensor, size: int, mode: Interpolation = "bilinear") -> torch.Tensor:
    """Resample a channel-first field (B, C, s, s) on the node grid of the unit square to (B, C, n, n).

    Node grids share their corners, so ``bilinear`` uses ``align_corners=True`` (every coarse node that
    is also a fine node keeps its value; a piecewise-constant coefficient gets linear ramps across its
    jumps). ``nearest`` copies the value of the closest coarse node, round(i·(s−1)/(n−1)) (the two
    values of the coefficient are kept, its interfaces become staircases). PyTorch's own "nearest"
    is not node-aligned, hence the explicit index.
    """
    if field.dim() != 4 or field.shape[-1] != field.shape[-2]:
        raise ValueError(f"expected a channel-first square field (B, C, s, s), got {tuple(field.shape)}")
    s = field.shape[-1]
    if size == s:
        return field
    if mode == "bilinear":
        return F.interpolate(field, size=(size, size), mode="bilinear", align_corners=True)
    if mode == "nearest":
        index = torch.round(torch.arange(size, device=field.device, dtype=torch.float64)
                            * (s - 1) / (size - 1)).long()
        return field[:, :, index][:, :, :, index]
    raise ValueError(f"mode must be 'bilinear' or 'nearest', got {mode!r}")


def make_pino_loss(
    data_weight: float = 5.0,
    pde_weight: float = 1.0,
    mollifier_scale: float | None = None,
    decode_input: Decode | None = None,
    decode_output: Decode | None = None,
    pde_resolution: int | None = None,
    f: float | torch.Tensor = 1.0,
    interpolation: Interpolation = "bilinear",
) -> LossFn:
    """The PINO loss ``w_data · L_data + w_pde · L_pde`` as a ``loss_fn(model, x, y)`` for ``train``.

    Args:
        data_weight, pde_weight: the weights (PINO's Darcy config: 5 and 1); either may be 0, not both.
            A zero-weight term is not computed (``data_weight = 0``: data-free, y is ignored).
        mollifier_scale: ``None`` when the model already returns the boundary-conditioned prediction
            (a :class:`Mollified` wrapper, the recommended way: the trainer's test error then measures
            the same prediction). A number multiplies the raw model output by the mollifier inside
            the loss only; then the evaluation must mollify too.
        decode_input: maps the model input x (B, 1, s, s), possibly normalised, to the coefficient a.
        decode_output: maps the model output / target (B, 1, s, s) to u in physical units.
        pde_resolution: nodes per side of the grid of the physics loss (None: the data grid). On a
            different grid the model runs a second time, on the resampled input (see
            :func:`resample_nodes`): x is resampled for the model and decode_input(x) for the PDE.
            Take n with (n−1) a multiple of (s−1) so the data nodes are fine nodes. ``decode_output``
            then meets a fine-grid output: it must not depend on the grid (no normaliser, or a
            scalar one), PINO's setting.
        f: the source, a scalar or a (s, s)/(B, s, s) tensor on the PDE grid (Darcy data: f = 1).
        interpolation: "bilinear" or "nearest", how the coefficient reaches the PDE grid.

    The data loss is ``relative_l2(decode_output(ŷ), decode_output(y))``, the trainer's default loss.
    ``model`` may be any callable x ↦ prediction: the loss is pure tensor code and works under
    ``torch.vmap`` with a ``torch.func.functional_call`` closure (stacked training of many members).
    """
    for name, w in (("data_weight", data_weight), ("pde_weight", pde_weight)):
        if not (math.isfinite(w) and w >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {w!r}")
    if data_weight == 0 and pde_weight == 0:
        raise ValueError("data_weight and pde_weight are both 0: nothing to train")
    if mollifier_scale is not None and not (math.isfinite(mollifier_scale) and mollifier_scale > 0):
        raise ValueError(f"mollifier_scale must be a positive number or None, got {mollifier_scale!r}")
    if pde_resolution is not None and (not isinstance(pde_resolution, int) or pde_resolution < 3):
        raise ValueError(f"pde_resolution must be an int >= 3 or None, got {pde_resolution!r}")
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")

    def identity(t: torch.Tensor) -> torch.Tensor:
        return t

    dec_in = decode_input or identity
    dec_out = decode_output or identity

    def predict(model: Model, x: torch.Tensor) -> torch.Tensor:
        if mollifier_scale is not None and isinstance(model, Mollified):
            raise ValueError("the model is already Mollified; pass mollifier_scale=None")
        out = model(x)
        return mollify(out, mollifier_scale) if mollifier_scale is not None else out

    def single_channel(t: torch.Tensor, what: str) -> torch.Tensor:
        if t.dim() != 4 or t.shape[1] != 1:
            raise ValueError(f"{what} must have shape (batch, 1, s, s), got {tuple(t.shape)}")
        return t[:, 0]

    def loss_fn(model: Model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        single_channel(x, "the model input (the coefficient a)")
        s = x.shape[-1]
        total = x.new_zeros(())
        pred = None
        if data_weight > 0:
            pred = predict(model, x)
            total = total + data_weight * relative_l2(dec_out(pred), dec_out(y))
        if pde_weight > 0:
            n = pde_resolution or s
            a = dec_in(x)
            if n != s:
                x, a = resample_nodes(x, n, interpolation), resample_nodes(a, n, interpolation)
                pred = None
            u = dec_out(pred if pred is not None else predict(model, x))
            total = total + pde_weight * darcy_pde_loss(
                single_channel(u, "the decoded prediction"), single_channel(a, "decode_input(x)"), f)
        return total

    return loss_fn
