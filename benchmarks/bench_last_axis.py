#!/usr/bin/env python
"""Last axis of a Fourier layer: truncated rDFT as a GEMM vs the rFFT, side by side in one process.

    .venv/bin/python benchmarks/bench_last_axis.py [--repeats 20]

For each (grid, K): a SpectralConv forward + backward on a batch, alternating the two paths
(``mufno_core.spectral.last_axis_by_matmul`` forced True / False), median ms of each and the ratio
FFT / GEMM (> 1: the GEMM wins). The rule picks the GEMM while 2K <= 2 Σ prime factors of n.
"""

from __future__ import annotations

import argparse
import statistics

import torch
from timing import device_name, timed

import mufno_core.spectral as spectral

CASES = [  # (dim, grid, K, batch, width): the quick Darcy / PINO grids and a power-of-two reference
    (2, 29, 12, 10, 16), (2, 29, 14, 10, 16), (2, 31, 14, 10, 16), (2, 32, 14, 10, 16),
    (1, 128, 24, 20, 16), (1, 128, 64, 20, 16),
]


def step(layer: spectral.SpectralConv, x: torch.Tensor) -> None:
    layer.zero_grad(set_to_none=True)
    layer(x).square().mean().backward()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    original = spectral.last_axis_by_matmul
    print(f"# {device_name('cpu')}, torch {torch.__version__}; medians of {args.repeats} alternating steps")
    print("| d | grid | K | rule picks | GEMM ms | FFT ms | FFT / GEMM |\n|---|---|---|---|---|---|---|")
    for dim, n, k, batch, width in CASES:
        torch.manual_seed(0)
        layer = spectral.SpectralConv(dim, width, width, k)
        x = torch.randn(batch, width, *([n] * dim))
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.repeats + 2):
            for use_gemm in (True, False):
                spectral.last_axis_by_matmul = lambda k_, n_, g=use_gemm: g
                layer._dft_cache.clear()
                step(layer, x)  # builds the matrices of this path
                times[use_gemm].append(timed("cpu", lambda m=layer, v=x: step(m, v)))
        spectral.last_axis_by_matmul = original
        gemm = 1e3 * statistics.median(times[True][2:])
        fft = 1e3 * statistics.median(times[False][2:])
        picks = "GEMM" if original(k, n) else "FFT"
        print(f"| {dim} | {n} | {k} | {picks} | {gemm:.2f} | {fft:.2f} | {fft / gemm:.2f} |")


if __name__ == "__main__":
    main()
