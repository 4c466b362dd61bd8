"""Darcy flow −∇·(a ∇u) = f on (0, 1)², u = 0 on the boundary.

Five-point finite differences on the s×s nodes x_i = i h, h = 1/(s−1), with face coefficients
averaged from the nodes, a_{i+½,j} = (a_{i,j} + a_{i+1,j})/2:

    [a_{i+½,j}(u_ij − u_{i+1,j}) + a_{i−½,j}(u_ij − u_{i−1,j}) + (same in j)] / h² = f_ij

for the (s−2)² interior nodes; one sparse direct solve per sample (SuperLU without pivoting;
the unknowns are numbered once per grid in nested-dissection order, the reused symbolic part).

Validated against the manufactured solution u = sin πx sin πy with a = 1 + x y²
(tests/pde/test_darcy.py): max error 2.8e-3 at s = 17, 7.1e-4 at s = 33, 1.8e-4 at s = 65:
order 2.00.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

_NEIGHBOURS = ((1, 0), (-1, 0), (0, 1), (0, -1))  # east, west, north, south


def nested_dissection_order(m: int) -> np.ndarray:
    """Geometric nested-dissection ordering of an m×m grid (row-major ids): both halves first,
    then the separating line, recursively. A fill-reducing order computed once per grid."""
    order: list[np.ndarray] = []
    stack: list[tuple[int, int, int, int, bool]] = [(0, m, 0, m, False)]
    while stack:  # iterative post-order: children before their separator
        i0, i1, j0, j1, emit_separator = stack.pop()
        if emit_separator:
            if i1 - i0 >= j1 - j0:
                c = (i0 + i1) // 2
                order.append(c * m + np.arange(j0, j1))
            else:
                c = (j0 + j1) // 2
                order.append(np.arange(i0, i1) * m + c)
            continue
        if i1 <= i0 or j1 <= j0:
            continue
        if (i1 - i0) <= 2 and (j1 - j0) <= 2:
            order.append((np.arange(i0, i1)[:, None] * m + np.arange(j0, j1)).ravel())
            continue
        stack.append((i0, i1, j0, j1, True))
        if i1 - i0 >= j1 - j0:
            c = (i0 + i1) // 2
            stack += [(c + 1, i1, j0, j1, False), (i0, c, j0, j1, False)]
        else:
            c = (j0 + j1) // 2
            stack += [(i0, i1, c + 1, j1, False), (i0, i1, j0, c, False)]
    return np.concatenate(order)


@lru_cache(maxsize=8)
def _pattern(s: int) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """Row and column indices (in nested-dissection order) of the interior 5-point matrix,
    diagonal first, then the four neighbour couplings; per neighbour, the mask of interior
    nodes (row-major) whose neighbour is interior; and the row-major → ND permutation."""
    m = s - 2
    idx = np.empty(m * m, dtype=np.int64)
    idx[nested_dissection_order(m)] = np.arange(m * m)  # unknown number = position in ND order
    idx = idx.reshape(m, m)
    i, j = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    rows, cols, masks = [idx.ravel()], [idx.ravel()], []
    for di, dj in _NEIGHBOURS:
        inside = (i + di >= 0) & (i + di < m) & (j + dj >= 0) & (j + dj < m)
        rows.append(idx[inside])
        cols.append(idx[i[inside] + di, j[inside] + dj])
        masks.append(inside.ravel())
    return np.concatenate(rows), np.concatenate(cols), tuple(masks), idx.ravel()


def _faces(a: np.ndarray) -> tuple[np.ndarray, ...]:
    """East, west, north, south face coefficients of every interior node, each (s−2, s−2)."""
    ax = 0.5 * (a[1:, :] + a[:-1, :])  # ax[i] sits between nodes i and i+1 along axis 0
    ay = 0.5 * (a[:, 1:] + a[:, :-1])
    return ax[1:, 1:-1], ax[:-1, 1:-1], ay[1:-1, 1:], ay[1:-1, :-1]


def assemble(a: np.ndarray) -> sp.csc_matrix:
    """The (s−2)²×(s−2)² matrix h²·(−∇·a∇) on the interior nodes, for a of shape (s, s),
    unknowns numbered in nested-dissection order (see :func:`nested_dissection_order`)."""
    s = a.shape[0]
    rows, cols, masks, _ = _pattern(s)
    faces = [f.ravel() for f in _faces(a)]
    data = np.concatenate([sum(faces)] + [-f[mask] for f, mask in zip(faces, masks)])
    m2 = (s - 2) ** 2
    return sp.csc_matrix((data, (rows, cols)), shape=(m2, m2))


def solve(a: np.ndarray, f: float | np.ndarray = 1.0) -> np.ndarray:
    """Solve for u of shape (batch, s, s), zero on the boundary, given a of shape (batch, s, s).

    ``f`` is a scalar or an array shaped like ``a`` (its boundary values are unused).
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 3 or a.shape[1] != a.shape[2] or a.shape[1] < 3:
        raise ValueError(f"a must have shape (batch, s, s) with s >= 3, got {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError("a must be finite and strictly positive")
    s = a.shape[1]
    f = np.asarray(f, dtype=np.float64)
    if f.ndim != 0 and f.shape != a.shape:
        raise ValueError(f"f must be a scalar or have the shape of a {a.shape}, got {f.shape}")
    h2 = 1.0 / (s - 1) ** 2
    perm = _pattern(s)[3]  # row-major interior node -> unknown number
    u = np.zeros_like(a)
    for b in range(a.shape[0]):
        rhs = np.empty((s - 2) ** 2)
        rhs[perm] = np.broadcast_to(f if f.ndim == 0 else f[b, 1:-1, 1:-1], (s - 2, s - 2)).ravel()
        lu = splu(assemble(a[b]), permc_spec="NATURAL", diag_pivot_thresh=0.0,
                  options={"SymmetricMode": True})
        u[b, 1:-1, 1:-1] = lu.solve(h2 * rhs)[perm].reshape(s - 2, s - 2)
    return u
