"""Losses: the relative L2 error used throughout the FNO literature."""

from __future__ import annotations

import torch


def relative_l2(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Mean over the batch of ``‖pred − target‖₂ / ‖target‖₂``, norms over all non-batch axes."""
    diff = (pred - target).flatten(1).norm(dim=1)
    ref = target.flatten(1).norm(dim=1)
    return (diff / ref.clamp_min(eps)).mean()
