"""The number of Fourier modes K and d·log K, the quantity μP's rules scale with (paper §3).

Torch-free, so that the analysis layer (exponents are fitted against log K_eff) loads without it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Modes = int | Sequence[int]
"""One K for every axis, or one per axis."""


def log_modes(modes: Modes, dim: int | None = None) -> float:
    """d·log K for an int K on ``dim`` axes, or log(K_1 ⋯ K_d) for per-axis modes."""
    if isinstance(modes, int):
        if dim is None:
            raise ValueError("log_modes needs dim when modes is a single int")
        ks: tuple[int, ...] = (modes,) * dim
    else:
        ks = tuple(int(k) for k in modes)
    if any(k < 2 for k in ks):
        raise ValueError(f"μP needs K >= 2 on every axis (log K = 0 at K = 1), got modes={ks}")
    return sum(math.log(k) for k in ks)
