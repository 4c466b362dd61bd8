"""How much faster a quick trial could get: the three trials of issue 29 with parts of a trial
removed or rebuilt, each against the library as it is, side by side in one process.

Issue 29 asks for 1.4× less CPU per trial (darcy_lr K 14, navier_stokes_lr K 8, pino_darcy K 14 at
the quick preset; μP, seed 0, the middle of the LR grid, as ``bench_trials.py``) from three changes:
a spectral layer without layout copies, a projection head that materialises less, and a cheaper
evaluation. Each variant below swaps one piece of a trial for a measuring device; most compute wrong
numbers on purpose (so they train other models, which the script checks run all their steps), but
do the same GEMMs (shapes, FLOPs) as the pieces they stand for, or nothing at all:

* ``no_layout_copies``: every spectral layer runs the reference's GEMMs (the truncated DFTs as one
  matrix product per axis, the mode mixing as one batched product over modes) on reshaped views, so
  none of the permute copies that ``einsum`` makes in the forward and autograd in the backward
  remain: the most any layout of these GEMMs can save (item 1);
* ``fused_head``: the projection σ(W₁v + b₁) → W₂ · + b₂ as one autograd Function that folds b₁ into
  the first GEMM and, for one output channel, W₂ into the backward's GEMMs (no outer product, no
  broadcast bias copy; equal to the layers to 1e-15 in float64, checked at start): a candidate for
  item 2;
* ``batched_dfts``: as ``no_layout_copies``, but each non-last axis's DFT computed right without a
  copy, as one small GEMM per leading index (a batched GEMM): what a correct copy-free DFT costs;
* ``batched_dft_layer``: ``batched_dfts`` with the mixing done right, on the modes-first copy it
  needs: a correct layer (equal to the library's to round-off), one way item 1 could be built;
* ``no_head``: the head replaced by the first hidden channel times a parameter: its whole cost,
  the most item 2 could save;
* ``inference_evaluation``: the library's evaluation under ``torch.inference_mode`` (same numbers);
* ``no_evaluation``: the test error not computed (a constant logged instead): the most item 3 could save;
* ``realistic``: ``no_layout_copies`` and ``fused_head`` together, evaluation kept;
* ``bound``: ``no_layout_copies``, ``no_head`` and ``no_evaluation`` together: an upper bound for
  items 1–3 at once.

Every variant alternates with the reference (which goes first alternates with every repeat), after
one warm-up run of each; CPU seconds (``time.process_time``) of ``run_trial`` with one torch thread
and the sweep workers' malloc settings. The table gives the median of the paired ratios
reference / variant.

    .venv/bin/python scripts/ensure_data.py --preset quick --data-dir /tmp/data
    .venv/bin/python benchmarks/bench_trial_ceiling.py --data-dir /tmp/data --repeats 3
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import torch
from torch.nn import functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_trials import TRIALS, history_difference  # noqa: E402
from timing import device_name  # noqa: E402

import mufno_core.train as train_module  # noqa: E402
from mufno_core.model import FNO  # noqa: E402
from mufno_core.spectral import SpectralConv  # noqa: E402
from mufno_core.sweep.experiments import grid  # noqa: E402
from mufno_core.sweep.malloc import keep_freed_memory  # noqa: E402
from mufno_core.sweep.trial import run_trial  # noqa: E402

LIBRARY_EVALUATE = train_module.evaluate


def replaced(shape: torch.Size, axis: int, size: int) -> tuple[int, ...]:
    return tuple(size if i == axis else n for i, n in enumerate(shape))


def spectral_stand_in(layer: SpectralConv, x: torch.Tensor,
                      dft_along: Callable[[torch.Tensor, int, torch.Tensor], torch.Tensor],
                      mix_right: bool = False) -> torch.Tensor:
    """``layer.forward`` with each non-last axis's truncated DFT done by ``dft_along(h, axis,
    matrix)`` (matrix (n, m): n points in, m out) and the mode mixing as the library's batched GEMM,
    on a reshaped view instead of a permuted copy (wrong numbers: it pairs modes with the wrong
    samples) or, with ``mix_right``, on the modes-first copy it needs."""
    dft = layer.dft_matrices(tuple(x.shape[2:]), x.device, x.dtype)
    k_last = layer.modes[-1]
    if dft["rfft_last"]:
        h = torch.view_as_complex((x @ dft["rfft_last"][0]).unflatten(-1, (k_last, 2)))
    else:
        h = torch.fft.rfft(x, dim=-1)[..., :k_last]
    for axis, matrix in enumerate(dft["forward"]):
        h = dft_along(h, 2 + axis, matrix)
    kept = h.shape[2:]
    modes, (batch, channels) = math.prod(kept), h.shape[:2]
    if mix_right:
        out = ModesFirstMixing.apply(h.reshape(batch, channels, modes),
                                     layer.weight.reshape(modes, channels, -1))
        out = out.view(batch, -1, *kept)
    else:
        out = torch.bmm(h.reshape(modes, batch, channels), layer.weight.reshape(modes, channels, -1))
        out = out.reshape(batch, -1, *kept)
    if layer.multiplier != 1.0:
        out = out * layer.multiplier
    for axis, matrix in enumerate(dft["inverse"]):
        out = dft_along(out, 2 + axis, matrix)
    if dft["irfft_last"]:
        return torch.view_as_real(out).flatten(-2) @ dft["irfft_last"][0]
    return torch.fft.irfft(out, n=x.shape[-1], dim=-1)


def on_a_view(h: torch.Tensor, axis: int, matrix: torch.Tensor) -> torch.Tensor:
    """The library's GEMM for this axis, (rest × n) @ (n × m), on a reshaped view: the right shapes,
    wrong numbers (it contracts whatever lies last)."""
    return (h.reshape(-1, matrix.shape[0]) @ matrix).view(replaced(h.shape, axis, matrix.shape[1]))


def copy_free_spectral(layer: SpectralConv, x: torch.Tensor) -> torch.Tensor:
    """The GEMMs of ``layer.forward``, every one on a reshaped view instead of a permuted copy."""
    return spectral_stand_in(layer, x, on_a_view)


def batched_dft_spectral(layer: SpectralConv, x: torch.Tensor) -> torch.Tensor:
    """``copy_free_spectral`` with each non-last axis's DFT done right without a copy: one small
    (m × n) @ (n × rest) product per leading index, as a batched GEMM (the mixing still on views)."""
    return spectral_stand_in(layer, x, lambda h, axis, matrix: along_axis(h, axis, matrix.T.contiguous()))


def batched_dft_layer(layer: SpectralConv, x: torch.Tensor) -> torch.Tensor:
    """A correct layer: the batched DFTs of ``batched_dft_spectral`` and the mixing on the modes-first
    copy it needs (the same numbers as ``layer`` up to rounding)."""
    return spectral_stand_in(layer, x, lambda h, axis, matrix: along_axis(h, axis, matrix.T.contiguous()),
                             mix_right=True)


class ModesFirstMixing(torch.autograd.Function):
    """(B, C, M) ↦ (B, O, M), one C × O complex matrix per mode: the batched GEMM on the modes-first
    copy it needs, every operand contiguous forward and backward (autograd would hand ``bmm`` the
    permuted gradient, which it multiplies matrix by matrix)."""

    @staticmethod
    def forward(ctx, spectrum: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        modes_first = spectrum.permute(2, 0, 1).contiguous()
        ctx.save_for_backward(modes_first, weight)
        return torch.bmm(modes_first, weight).permute(1, 2, 0).contiguous()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        modes_first, weight = ctx.saved_tensors
        grad = grad.permute(2, 0, 1).contiguous()
        grad_spectrum = torch.bmm(grad, weight.mH).permute(1, 2, 0).contiguous()
        return grad_spectrum, torch.bmm(modes_first.mH, grad)


def along_axis(h: torch.Tensor, axis: int, matrix: torch.Tensor) -> torch.Tensor:
    """``matrix`` (m × n) applied along ``axis`` of ``h`` as a batched GEMM over the axes before it."""
    lead = math.prod(h.shape[:axis])
    out = AlongAxis.apply(h.reshape(lead, h.shape[axis], -1), matrix)
    return out.view(replaced(h.shape, axis, matrix.shape[0]))


class AlongAxis(torch.autograd.Function):
    """(lead, n, rest) ↦ M @ each (n, rest) block, M constant; the backward multiplies by Mᴴ,
    conjugated once (autograd would materialise the conjugate of the expanded M, lead copies)."""

    @staticmethod
    def forward(ctx, blocks: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
        ctx.adjoint = matrix.mH.resolve_conj().contiguous()
        return torch.bmm(matrix.expand(blocks.shape[0], -1, -1), blocks)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return torch.bmm(ctx.adjoint.expand(grad.shape[0], -1, -1), grad), None


class FusedHead(torch.autograd.Function):
    """``W₂ σ(W₁ v + b₁) + b₂`` over channel-first points (B, C, n…), σ = GELU, with b₁ as an extra
    input channel of ones (the hidden layer's bias costs no pass over it) and, for one output
    channel, W₂ folded into the backward's GEMMs: ∂L/∂h = W₂ᵀ ⊙ (g · σ'(h)) is never formed."""

    generate_vmap_rule = True

    @staticmethod
    def forward(v, w1, b1, w2, b2):
        x = v.flatten(2)
        ones = torch.cat([x, x.new_ones(x.shape[0], 1, x.shape[2])], 1)
        w1b = torch.cat([w1, b1[:, None]], 1)
        hidden = torch.bmm(w1b.expand(x.shape[0], -1, -1), ones)
        act = F.gelu(hidden)
        out = torch.bmm(w2.expand(x.shape[0], -1, -1), act).add_(b2[:, None])
        return out.view(v.shape[0], -1, *v.shape[2:]), ones, hidden, act

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        _, w1, b1, w2, _ = inputs
        _, ones, hidden, act = output
        ctx.save_for_backward(ones, w1, b1, w2, hidden, act)
        ctx.mark_non_differentiable(ones, hidden, act)

    @staticmethod
    def backward(ctx, grad, *_):
        ones, w1, b1, w2, hidden, act = ctx.saved_tensors
        g = grad.flatten(2)  # (B, O, N)
        batch = g.shape[0]
        grad_w2 = torch.bmm(act, g.transpose(1, 2)).sum(0).T
        w1b = torch.cat([w1, b1[:, None]], 1)
        if w2.shape[0] == 1:  # σ'(h) · g, then W₂ on the small side of each GEMM
            scaled = torch.ops.aten.gelu_backward(g.expand(-1, hidden.shape[1], -1), hidden)
            grad_w1b = torch.bmm(ones, scaled.transpose(1, 2)).sum(0).T * w2.T
            back = (w1b * w2.T)[:, :-1]
        else:
            scaled = torch.ops.aten.gelu_backward(torch.bmm(w2.T.expand(batch, -1, -1), g), hidden)
            grad_w1b = torch.bmm(ones, scaled.transpose(1, 2)).sum(0).T
            back = w1b[:, :-1]
        grad_v = torch.bmm(back.T.expand(batch, -1, -1), scaled)
        return (grad_v.view(grad.shape[0], -1, *grad.shape[2:]), grad_w1b[:, :-1], grad_w1b[:, -1],
                grad_w2, g.sum((0, 2)))


def fused_head(model: FNO, v: torch.Tensor) -> torch.Tensor:
    hidden, out = model.project_hidden, model.project_out
    return FusedHead.apply(v, hidden.weight, hidden.bias, out.weight, out.bias)[0]


def no_head(model: FNO, v: torch.Tensor) -> torch.Tensor:
    return v[:, :1] * model.project_out.weight[0, 0]


def reference_head(model: FNO, v: torch.Tensor) -> torch.Tensor:
    return model.project_out(F.gelu(model.project_hidden(v)))


def check_fused_head(dim: int = 2) -> float:
    """Largest relative difference of ``FusedHead`` against the reference layers in float64
    (output and the five gradients) for a ``dim``-D FNO, one and three output channels."""
    worst = 0.0
    for out_channels in (1, 3):
        torch.manual_seed(0)
        model = FNO(dim, 1, out_channels, 3, width=16, dtype=torch.float64)
        grid = (9, 7, 6)[:dim]
        v = torch.randn(3, 16, *grid, dtype=torch.float64, requires_grad=True)
        upstream = torch.randn(3, out_channels, *grid, dtype=torch.float64)
        inputs = [v, model.project_hidden.weight, model.project_hidden.bias,
                  model.project_out.weight, model.project_out.bias]
        results = []
        for head in (reference_head, fused_head):
            y = head(model, v)
            results.append([y.detach(), *torch.autograd.grad(y, inputs, upstream)])
        for a, b in zip(*results):
            worst = max(worst, float((a - b).abs().max() / a.abs().max()))
    return worst


@contextmanager
def patched_forward(spectral: Callable | None, head: Callable) -> Iterator[None]:
    """``FNO.forward`` with the spectral layers and the head swapped (None: the layer itself)."""
    original = FNO.forward

    def forward(self: FNO, x: torch.Tensor) -> torch.Tensor:
        if self.append_grid:
            coords = self.grid(x.shape[2:], x.device, x.dtype)
            x = torch.cat([x, coords.expand(x.shape[0], *coords.shape)], dim=1)
        v = self.lift(x)
        for i, (layer, skip) in enumerate(zip(self.spectral, self.skip)):
            v = (spectral(layer, v) if spectral else layer(v)) + skip(v)
            if i < self.depth - 1:
                v = F.gelu(v)
        return head(self, v)

    FNO.forward = forward
    try:
        yield
    finally:
        FNO.forward = original


@contextmanager
def evaluation_replaced(evaluate: Callable) -> Iterator[None]:
    original = train_module.evaluate
    train_module.evaluate = evaluate
    try:
        yield
    finally:
        train_module.evaluate = original


def no_evaluation(*args, **kwargs) -> float:
    return 0.5


def evaluation_in_inference_mode(*args, **kwargs) -> float:
    """The library's ``evaluate`` under ``torch.inference_mode`` instead of ``no_grad`` (the same
    numbers: no autograd bookkeeping, no version counters)."""
    with torch.inference_mode():
        return LIBRARY_EVALUATE(*args, **kwargs)


VARIANTS: dict[str, tuple[Callable | None, Callable, Callable | None]] = {
    # name: (spectral layer, head, evaluation; None: the library's)
    "no_layout_copies": (copy_free_spectral, reference_head, None),
    "batched_dfts": (batched_dft_spectral, reference_head, None),
    "batched_dft_layer": (batched_dft_layer, reference_head, None),
    "fused_head": (None, fused_head, None),
    "no_head": (None, no_head, None),
    "inference_evaluation": (None, reference_head, evaluation_in_inference_mode),
    "no_evaluation": (None, reference_head, no_evaluation),
    "realistic": (copy_free_spectral, fused_head, None),
    "bound": (copy_free_spectral, no_head, no_evaluation),
}


def run(config, data_dir: str, variant: str | None) -> tuple[float, dict]:
    """CPU seconds of one ``run_trial`` and its record, the library's own or ``variant``'s."""
    with ExitStack() as stack:
        if variant is not None:
            spectral, head, evaluate = VARIANTS[variant]
            stack.enter_context(patched_forward(spectral, head))
            if evaluate is not None:
                stack.enter_context(evaluation_replaced(evaluate))
        start = time.process_time()
        record = run_trial(config, data_dir)
        return time.process_time() - start, record


def gemm_rate(m: int, k: int, n: int, repeats: int = 30) -> float:
    """GFLOP/s of a float32 (m × k) @ (k × n) product, median of ``repeats`` after a warm-up."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    seconds = []
    for i in range(repeats + 3):
        start = time.perf_counter()
        a @ b
        if i >= 3:
            seconds.append(time.perf_counter() - start)
    return 2 * m * k * n / statistics.median(seconds) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--trials", nargs="+", default=list(TRIALS), choices=list(TRIALS))
    parser.add_argument("--json", help="write every measurement here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    keep_freed_memory(children=False)
    data_dir = str(Path(args.data_dir).resolve())
    head = max(check_fused_head(d) for d in (1, 2, 3))
    print(f"{device_name('cpu').split(',')[0]}, one torch thread; fused head against the layers "
          f"in float64, d = 1, 2, 3: {head:.1e}; GEMM GFLOP/s: 1024³ {gemm_rate(1024, 1024, 1024):.0f}"
          f", the Darcy head's 8410 × 16 × 128 {gemm_rate(8410, 16, 128):.0f} and 8410 × 128 × 16 "
          f"{gemm_rate(8410, 128, 16):.0f}; load average {os.getloadavg()[0]:.1f}", flush=True)
    rows, measured = [], {}
    for experiment in args.trials:
        configs = [c for c in grid(experiment, "quick") if c.modes == TRIALS[experiment]
                   and c.parametrization == "mup" and c.seed == 0]
        config = configs[len(configs) // 2]
        _, reference = run(config, data_dir, None)  # warm-up: caches, the data file
        if reference["status"] != "ok":
            sys.exit(f"{experiment}: the library's own trial ended {reference['status']}: "
                     f"{reference.get('error', 'diverged')}")
        for variant in args.variants:
            _, record = run(config, data_dir, variant)
            steps = (record.get("steps_done"), reference["steps_done"])
            if record["status"] != "ok" or steps[0] != steps[1]:
                print(f"{experiment} {variant}: {record['status']} after {steps[0]} of {steps[1]} "
                      "steps: not comparable", flush=True)
                continue
            times: dict[str, list[float]] = {"reference": [], variant: []}
            for repeat in range(args.repeats):
                order = (None, variant) if repeat % 2 == 0 else (variant, None)
                for side in order:
                    times[side or "reference"].append(run(config, data_dir, side)[0])
            paired = statistics.median(r / v for r, v in zip(times["reference"], times[variant]))
            measured[f"{experiment}/{variant}"] = times
            rows.append((experiment, variant, statistics.median(times["reference"]),
                         statistics.median(times[variant]), paired))
            difference = history_difference(record["history"], reference["history"])
            print(f"{experiment} K {TRIALS[experiment]} {variant}: reference "
                  f"{rows[-1][2]:.2f} s, variant {rows[-1][3]:.2f} s, ratio {paired:.2f}; loss "
                  f"histories differ by up to {difference:.1e} (relative); load "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
    print("\n| trial | variant | reference CPU s | variant CPU s | reference / variant |")
    print("|---|---|---|---|---|")
    for experiment, variant, ref, var, paired in rows:
        print(f"| {experiment} K {TRIALS[experiment]} | {variant} | {ref:.2f} | {var:.2f} | "
              f"{paired:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(measured, indent=1))


if __name__ == "__main__":
    main()
