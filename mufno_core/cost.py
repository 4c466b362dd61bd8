"""What a training run costs in floating-point operations and in memory.

The count is of the operations the implementation runs (e.g. the truncated-DFT products of
:class:`~mufno_core.spectral.SpectralConv`), not of an idealised algorithm.

PyTorch's :class:`torch.utils.flop_counter.FlopCounterMode` counts matrix products and
convolutions; the FNO also spends work in FFTs and in complex products, which it does not count.
Here a complex matrix product counts 4 real ones (8 FLOPs per multiply-add), and an FFT over N
points counts the textbook 5·N·log₂N FLOPs (complex) or half of that (real-to-complex and back).

Memory (:func:`training_step_memory`) is counted the same way, by running the step: the bytes of
the parameters and of the activations autograd keeps for the backward pass.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mufno_core.losses import relative_l2

aten = torch.ops.aten


def _fft_flops(total_elements: int, dims: list[int], shape: list[int], factor: float) -> int:
    n = math.prod(shape[d] for d in dims)
    return int(factor * total_elements * math.log2(max(n, 2)))


def _r2c(x_shape, dim, *args, out_shape=None, **kwargs) -> int:
    return _fft_flops(math.prod(x_shape), list(dim), list(x_shape), 2.5)


def _c2r(x_shape, dim, *args, out_shape=None, **kwargs) -> int:
    return _fft_flops(math.prod(out_shape), list(dim), list(out_shape), 2.5)


def _c2c(x_shape, dim, *args, out_shape=None, **kwargs) -> int:
    return _fft_flops(math.prod(x_shape), list(dim), list(x_shape), 5.0)


def _complex_aware(op):
    """Wrap PyTorch's own formula for ``op``: ×4 when the operands are complex."""
    from torch.utils.flop_counter import flop_registry

    base = flop_registry[op]

    def formula(*args, out_val=None, **kwargs) -> int:
        flops = base(*args, out_val=out_val, **kwargs)
        complex_args = any(isinstance(a, torch.Tensor) and a.is_complex() for a in args)
        return 4 * flops if complex_args else flops

    formula._get_raw = True
    return formula


def _custom_mapping() -> dict:
    mapping = {aten._fft_r2c: _r2c, aten._fft_c2r: _c2r, aten._fft_c2c: _c2c}
    for op in (aten.mm, aten.bmm, aten.addmm, aten.baddbmm):
        mapping[op] = _complex_aware(op)
    return mapping


def training_step_flops(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> int:
    """FLOPs of one forward + backward pass on this batch (the Adam update is not counted:
    it is a few FLOPs per parameter, negligible next to the FFTs and the contractions)."""
    with FlopCounterMode(display=False, custom_mapping=_custom_mapping()) as counter:
        relative_l2(model(inputs), targets).backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


def training_step_memory(model: nn.Module, inputs: torch.Tensor,
                         targets: torch.Tensor) -> tuple[int, int]:
    """(parameter bytes, activation bytes) of one training step on this batch.

    Activations are the tensors autograd saves for the backward pass (each storage once, the
    parameters left out): what a step holds at its peak besides the weights. On meta tensors
    nothing is allocated, so any size can be counted.
    """
    parameters = {p.untyped_storage()._cdata for p in model.parameters()}
    saved: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage._cdata not in parameters:
            saved.setdefault(storage._cdata, storage.nbytes())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        relative_l2(model(inputs), targets)
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return weights, sum(saved.values())
