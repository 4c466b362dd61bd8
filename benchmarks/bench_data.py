"""Data benchmarks (not a test): Darcy samples/s, Navier–Stokes steps/s against a straightforward
implementation of the same scheme, and the time and size of every quick-preset data set.

    .venv/bin/python benchmarks/bench_data.py [--repeats 5] [--skip-presets]

Prints a Markdown table for the README. The machine may be shared: report the medians.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from mufno_core.data.generate import generate_dataset
from mufno_core.data.presets import dataset_spec
from mufno_core.pde import darcy, grf
from mufno_core.pde import navier_stokes as ns


def reference_navier_stokes(w0: torch.Tensor, f: torch.Tensor, visc: float, t_end: float,
                            delta_t: float, record_steps: int) -> torch.Tensor:
    """The straightforward loop of the FNO data script (torch, complex FFTs per derivative)."""
    n = w0.size()[-1]
    k_max = math.floor(n / 2.0)
    steps = math.ceil(t_end / delta_t)
    w_h = torch.fft.rfft2(w0)
    f_h = torch.fft.rfft2(f)
    if len(f_h.size()) < len(w_h.size()):
        f_h = torch.unsqueeze(f_h, 0)
    record_time = math.floor(steps / record_steps)
    k_y = torch.cat((torch.arange(start=0, end=k_max, step=1),
                     torch.arange(start=-k_max, end=0, step=1)), 0).repeat(n, 1)
    k_x = k_y.transpose(0, 1)
    k_x = k_x[..., :k_max + 1]
    k_y = k_y[..., :k_max + 1]
    lap = 4 * (math.pi ** 2) * (k_x ** 2 + k_y ** 2)
    lap[0, 0] = 1.0
    dealias = torch.unsqueeze(torch.logical_and(torch.abs(k_y) <= (2.0 / 3.0) * k_max,
                                                torch.abs(k_x) <= (2.0 / 3.0) * k_max).float(), 0)
    sol = torch.zeros(*w0.size(), record_steps, dtype=w0.dtype)
    c = 0
    for j in range(steps):
        psi_h = w_h / lap
        q = torch.fft.irfft2(2.0 * math.pi * k_y * 1j * psi_h, s=(n, n))
        v = torch.fft.irfft2(-2.0 * math.pi * k_x * 1j * psi_h, s=(n, n))
        w_x = torch.fft.irfft2(2.0 * math.pi * k_x * 1j * w_h, s=(n, n))
        w_y = torch.fft.irfft2(2.0 * math.pi * k_y * 1j * w_h, s=(n, n))
        f_nl = dealias * torch.fft.rfft2(q * w_x + v * w_y)
        w_h = (-delta_t * f_nl + delta_t * f_h + (1.0 - 0.5 * delta_t * visc * lap) * w_h) / (
            1.0 + 0.5 * delta_t * visc * lap)
        if (j + 1) % record_time == 0:
            sol[..., c] = torch.fft.irfft2(w_h, s=(n, n))
            c += 1
    return sol


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_darcy(repeats: int) -> list[str]:
    rows = []
    for s, batch in ((85, 16), (211, 4)):
        a = grf.darcy_coefficient(grf.darcy_gaussian_field(grf.sample_rngs(0, 0, batch), s))
        darcy.solve(a[:1])
        solve = timed(lambda a=a: darcy.solve(a), repeats)
        field = timed(lambda s=s, b=batch: grf.darcy_gaussian_field(grf.sample_rngs(0, 0, b), s),
                      repeats)
        rows.append(f"| Darcy {s}² (1 process) | solve {batch / solve:.1f} samples/s, "
                    f"with the random field {batch / (solve + field):.1f} samples/s |")
    return rows


def bench_navier_stokes(repeats: int, batch: int = 64, s: int = 64, steps: int = 50) -> list[str]:
    rows = []
    w0 = grf.navier_stokes_initial_vorticity(grf.sample_rngs(0, 0, batch), s)
    f = ns.forcing_fno(s)
    dt, t_end = 1e-2, steps * 1e-2
    torch.set_num_threads(2)
    for dtype, tdtype in ((np.float32, torch.float32), (np.float64, torch.float64)):
        ours = ns.solve(w0, 1e-3, t_end, f, dt=dt, dtype=dtype)[..., -1]
        w0_t, f_t = torch.from_numpy(w0).to(tdtype), torch.from_numpy(f).to(tdtype)
        ref = reference_navier_stokes(w0_t, f_t, 1e-3, t_end, dt, 1)[..., -1].numpy()
        diff = np.abs(ours - ref).max() / np.abs(ref).max()
        ratios, t_ours, t_ref = [], [], []
        for _ in range(repeats):  # interleaved, so that load on a shared machine hits both
            t_ours.append(timed(lambda d=dtype: ns.solve(w0, 1e-3, t_end, f, dt=dt, dtype=d), 1))
            t_ref.append(timed(lambda a=w0_t, b=f_t: reference_navier_stokes(
                a, b, 1e-3, t_end, dt, 1), 1))
            ratios.append(t_ref[-1] / t_ours[-1])
        rows.append(
            f"| Navier–Stokes {s}², batch {batch}, {np.dtype(dtype).name} | ours "
            f"{steps / statistics.median(t_ours):.0f} steps/s "
            f"({batch * steps / statistics.median(t_ours):.0f} sample-steps/s), reference "
            f"{steps / statistics.median(t_ref):.0f} steps/s; median speed-up "
            f"{statistics.median(ratios):.2f}×; max rel. difference {diff:.1e} |")
    return rows


def bench_presets(preset: str = "quick") -> list[str]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        total = 0.0
        for name in ("burgers", "darcy", "navier_stokes", "darcy_pino"):
            spec = dataset_spec(name, preset)
            start = time.perf_counter()
            path = generate_dataset(spec, Path(tmp) / spec.filename, workers=2, progress=False)
            elapsed = time.perf_counter() - start
            total += elapsed if name != "darcy_pino" else 0.0
            rows.append(f"| `mufno data {name} --preset {preset}` | {elapsed:.1f} s, "
                        f"{path.stat().st_size / 2 ** 20:.1f} MiB |")
        rows.append(f"| {preset}: Burgers + Darcy + Navier–Stokes | {total:.1f} s |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-presets", action="store_true")
    args = parser.parse_args()
    print("| benchmark | result |\n|---|---|")
    for row in bench_darcy(args.repeats) + bench_navier_stokes(args.repeats):
        print(row, flush=True)
    if not args.skip_presets:
        for row in bench_presets():
            print(row, flush=True)


if __name__ == "__main__":
    main()
