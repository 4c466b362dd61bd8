"""Losses: the relative L2 error used throughout the FNO literature, and the types of a loss."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

Decode = Callable[[torch.Tensor], torch.Tensor]
"""The inverse of a data normaliser: normalised tensor -> physical units."""

LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
"""``loss_fn(model, inputs, targets)``: the training loss of one batch (it runs the model itself)."""


def relative_l2(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Mean over the batch of ``‖pred − target‖₂ / ‖target‖₂``, norms over all non-batch axes.

    ``pred`` and ``target`` must have the same shape (no broadcasting: a target of shape (B, 1, 1)
    against a prediction (B, 1, 32) is an error, not a silently different loss).
    """
    if pred.shape != target.shape:
        raise ValueError(f"prediction and target shapes differ: {tuple(pred.shape)} vs "
                         f"{tuple(target.shape)}")
    diff = (pred - target).flatten(1).norm(dim=1)
    ref = target.flatten(1).norm(dim=1)
    return (diff / ref.clamp_min(eps)).mean()


def _interior_source(f: float | torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """``f`` on the interior nodes of ``u``'s grid, broadcastable to (batch, s−2, s−2)."""
    if not isinstance(f, torch.Tensor):
        return torch.full((1, 1, 1), float(f), dtype=u.dtype, device=u.device)
    f = f.to(dtype=u.dtype, device=u.device)
    if f.dim() == 0:
        return f.reshape(1, 1, 1)
    if f.dim() == 2:
        f = f[None]
    if f.dim() != 3 or f.shape[-2:] != u.shape[-2:] or f.shape[0] not in (1, u.shape[0]):
        raise ValueError(f"f must be a scalar or shaped like u {tuple(u.shape)} (or one (s, s) field), "
                         f"got shape {tuple(f.shape)}")
    return f[:, 1:-1, 1:-1]


def darcy_residual(u: torch.Tensor, a: torch.Tensor, f: float | torch.Tensor = 1.0) -> torch.Tensor:
    """Residual of the Darcy equation −∇·(a∇u) = f on the interior nodes of the unit square.

    ``u`` and ``a`` have shape (batch, s, s): values at the nodes x_i = i·h, y_j = j·h of the closed
    unit square, h = 1/(s−1), first axis x. ``f`` is a scalar or a tensor shaped like ``u`` (or one
    (s, s) field). The operator is the 5-point finite-volume scheme of the Darcy data solver, with face
    coefficients averaged from the neighbouring nodes, a_{i±1/2,j} = (a_{i,j} + a_{i±1,j})/2:

        (−∇·(a∇u))_{ij} ≈ −[ a_{i+1/2,j}(u_{i+1,j} − u_{ij}) − a_{i−1/2,j}(u_{ij} − u_{i−1,j})
                             + a_{i,j+1/2}(u_{i,j+1} − u_{ij}) − a_{i,j−1/2}(u_{ij} − u_{i,j−1}) ] / h²

    Returns ``−∇·(a∇u) − f`` at the interior nodes, shape (batch, s−2, s−2); the discrete solution of
    the solver makes it vanish up to round-off, a smooth exact solution to O(h²). The boundary
    values of ``u`` enter the stencils next to the boundary (the Dirichlet data), no condition is
    imposed here. Differentiable in ``u`` and ``a``.
    """
    if u.dim() != 3 or a.shape != u.shape:
        raise ValueError(f"u and a must both have shape (batch, s, s), got {tuple(u.shape)} and "
                         f"{tuple(a.shape)}")
    s1, s2 = u.shape[-2:]
    if s1 != s2 or s1 < 3:
        raise ValueError(f"the grid must be square with s >= 3 nodes per side, got {s1} x {s2}")
    inv_h2 = float(s1 - 1) ** 2
    a_x = 0.5 * (a[:, 1:, :] + a[:, :-1, :])  # faces between nodes along x: (B, s−1, s)
    a_y = 0.5 * (a[:, :, 1:] + a[:, :, :-1])  # faces along y: (B, s, s−1)
    flux_x = a_x * (u[:, 1:, :] - u[:, :-1, :])  # a_{i+1/2,j} (u_{i+1,j} − u_{ij})
    flux_y = a_y * (u[:, :, 1:] - u[:, :, :-1])
    div = (flux_x[:, 1:, 1:-1] - flux_x[:, :-1, 1:-1]) + (flux_y[:, 1:-1, 1:] - flux_y[:, 1:-1, :-1])
    return -div * inv_h2 - _interior_source(f, u)


def darcy_pde_loss(u: torch.Tensor, a: torch.Tensor, f: float | torch.Tensor = 1.0,
                   eps: float = 1e-12) -> torch.Tensor:
    """PINO's Darcy physics loss: the residual's L2 norm relative to the source's, batch-averaged.

        L_pde = mean_b ‖−∇·(a_b∇u_b) − f_b‖₂ / ‖f_b‖₂,   norms over the interior nodes,

    i.e. ``relative_l2(−∇·(a∇u), f)`` on the interior, as PINO compares the discrete operator with f
    (``book/choices.md``, "The data"). For f = 1 the denominator is sqrt((s−2)²), so the loss is the
    RMS residual. It is 1 for u = 0 and does not depend on the grid size for a given field; see
    :func:`darcy_residual` for the discretisation.
    """
    res = darcy_residual(u, a, f)
    ref = _interior_source(f, u).expand_as(res)
    return (res.flatten(1).norm(dim=1) / ref.flatten(1).norm(dim=1).clamp_min(eps)).mean()
