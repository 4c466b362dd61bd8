"""The abc-parametrization of the spectral weights over the number of Fourier modes K.

Paper §3 (arXiv 2506.19396): only the spectral weight R of each Fourier layer is scaled with K,

    R = a(K) · r,    r_ij ~ N(0, b(K)²),    η_R = c(K) · η.

* SP (standard):  a = 1, b = Θ(1),                c = 1.
* μP for Adam (Theorem 3.5):  a = 1, b(K) = Θ(1/sqrt(d log K)),  c(K) = Θ(1/sqrt(d log K)).
* calibrated ("cal"):  a = 1, b = Θ(1),  c(K) = (log K₀_eff / log K_eff)^β, where β is the growth
  exponent of SP's update size measured by a coordinate check on the user's own model and data
  (:mod:`mufno_core.analysis.calibrate`). β = ½ is μP's learning-rate rule; β = 0 is SP.

The operator norm of the kernel integral behaves like the maximum of K^d sub-Gaussian variables,
≈ sqrt(2 d log K), hence the logarithm. With ``base_modes`` set, μP is written relative to a base
K₀ (as in microsoft/mup's base shapes): b and c are multiplied by sqrt(log K₀^d / log K^d), so SP and
μP coincide at K₀. For per-axis modes, d·log K generalises to log(K_1 ⋯ K_d).

Algorithm 1 (μTransfer-FNO) moves a tuned LR and init variance from a proxy K to a target K:
``η(K*) = sqrt(log K_proxy / log K*) · η(K_proxy)`` and
``σ²(K*) = (log K_proxy / log K*) · σ²(K_proxy)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from mufno_core.modes import Modes, log_modes

if TYPE_CHECKING:  # the rules load without torch: the analysis reads them from every record
    import torch
    from torch import nn

    from mufno_core.spectral import SpectralConv  # for the annotations

ParametrizationName = Literal["sp", "mup", "cal"]
PARAMETRIZATIONS: tuple[str, ...] = ("sp", "mup", "cal")
"""Every parametrization a model or a trial accepts."""


@dataclass(frozen=True)
class Parametrization:
    """How the spectral weights scale with K: ``name`` is "sp", "mup" or "cal".

    ``base_modes=None`` gives the paper's absolute form (b, c ∝ 1/sqrt(d log K)); an int or tuple
    gives the form relative to that base K₀ (b, c ∝ sqrt(log K₀ / log K), equal to SP at K₀).
    ``init_scale`` σ multiplies b(K): the spectral init std is ``σ · b(K) · sqrt(2/(m_in+m_out))``.
    "cal" needs ``base_modes`` and ``exponent`` β: c(K) = (log K₀_eff / log K_eff)^β, b = SP's
    (the choice is in ``book/choices.md``), so it equals SP at K₀.
    """

    name: ParametrizationName = "sp"
    base_modes: Modes | None = None
    init_scale: float = 1.0
    exponent: float | None = None

    def __post_init__(self) -> None:
        if self.name not in PARAMETRIZATIONS:
            raise ValueError(f"parametrization must be one of {', '.join(PARAMETRIZATIONS)}, "
                             f"got {self.name!r}")
        if self.init_scale <= 0:
            raise ValueError(f"init_scale must be positive, got {self.init_scale}")
        if self.name == "cal":
            if self.base_modes is None:
                raise ValueError("the calibrated parametrization needs base_modes K₀ (c(K₀) = 1)")
            if isinstance(self.exponent, bool) or not isinstance(self.exponent, int | float) \
                    or not math.isfinite(self.exponent):
                raise ValueError(f"the calibrated parametrization needs a finite exponent β, "
                                 f"got {self.exponent!r}")
        elif self.exponent is not None:
            raise ValueError(f"exponent is the calibrated parametrization's; {self.name!r} takes none")

    def _mup_factor(self, modes: Modes, dim: int) -> float:
        """1/sqrt(d log K), or sqrt(log K₀^d / log K^d) relative to the base."""
        factor = 1.0 / math.sqrt(log_modes(modes, dim))
        if self.base_modes is not None:
            factor *= math.sqrt(log_modes(self.base_modes, dim))
        return factor

    def _cal_factor(self, modes: Modes, dim: int) -> float:
        """(log K₀_eff / log K_eff)^β: 1 at the base, falling like μP's for β = ½."""
        return (log_modes(self.base_modes, dim) / log_modes(modes, dim)) ** self.exponent

    def multiplier(self, modes: Modes, dim: int) -> float:
        """a(K): 1 for every parametrization (Theorem 3.5 puts all the scaling in b and c)."""
        return 1.0

    def init_factor(self, modes: Modes, dim: int) -> float:
        """b(K) relative to the K-independent base std."""
        base = self.init_scale
        return base * self._mup_factor(modes, dim) if self.name == "mup" else base

    def lr_factor(self, modes: Modes, dim: int) -> float:
        """c(K): the factor on the base learning rate for the spectral weights."""
        if self.name == "cal":
            return self._cal_factor(modes, dim)
        return self._mup_factor(modes, dim) if self.name == "mup" else 1.0


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _check_k(*ks) -> None:
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, int) or k < 2:
            raise ValueError(f"μTransfer moves between K >= 2 modes (log K = 0 at K = 1), got {k!r}")


def transfer_lr(lr: float, k_proxy: int, k_target: int) -> float:
    """Algorithm 1: η(K*) = sqrt(log K_proxy / log K*) · η(K_proxy). d cancels."""
    _check_positive("lr", lr)
    _check_k(k_proxy, k_target)
    return lr * math.sqrt(log_modes(k_proxy, 1) / log_modes(k_target, 1))


def transfer_init_var(var: float, k_proxy: int, k_target: int) -> float:
    """Algorithm 1: σ²(K*) = (log K_proxy / log K*) · σ²(K_proxy). d cancels."""
    _check_positive("var", var)
    _check_k(k_proxy, k_target)
    return var * log_modes(k_proxy, 1) / log_modes(k_target, 1)


def spectral_layers(model: nn.Module) -> Iterator[SpectralConv]:
    """Every Fourier layer of ``model``."""
    from mufno_core.spectral import SpectralConv  # imports torch

    return (m for m in model.modules() if isinstance(m, SpectralConv))


WEIGHT_DECAY_MODES: tuple[str, ...] = ("l2", "adamw", "independent")
"""How weight decay λ enters Adam (with η_g a group's LR, s(t) the schedule's factor, η_g(t) = η_g·s(t)):

* "l2": the L2 penalty of ``torch.optim.Adam``, g ← g + λ θ before the moments (scaled by Adam's
  normalisation like the gradient).
* "adamw": decoupled and coupled to the LR, θ ← θ − η_g(t)·λ·θ (``torch.optim.AdamW``, the paper's
  Adam with weight decay): μP's per-group LR c(K)·η scales the decay of the spectral weights too.
* "independent": decoupled and independent of the LR, θ ← θ − s(t)·λ·θ (Loshchilov & Hutter's
  original form; the variant that Kosson et al. 2025, arXiv 2510.19093, find μP needs): the same
  decay for every group and every η, following only the schedule (s = 1 for a constant LR).
"""


def param_groups(model: nn.Module, lr: float, lr_factor: float, weight_decay: float = 0.0,
                 weight_decay_mode: str = "l2", other_lr: float | None = None) -> list[dict]:
    """Two optimizer groups: spectral weights at ``lr · c(K)``, everything else at ``lr`` (or at
    ``other_lr`` when given: then ``lr`` is the spectral weights' base LR alone).

    Each group carries its ``lr_factor`` and a ``name`` so that schedulers and logs keep them apart,
    and its weight decay as ``torch.optim.Adam`` reads it (``weight_decay``,
    ``decoupled_weight_decay``; see :data:`WEIGHT_DECAY_MODES`: "independent" stores λ / η_g, so
    that Adam's decoupled θ·(1 − η_g(t)·λ/η_g) is θ·(1 − s(t)·λ)).
    A plain ``torch.optim.Adam(param_groups(...))`` then trains the model in its parametrization.
    """
    if weight_decay_mode not in WEIGHT_DECAY_MODES:
        raise ValueError(f"weight_decay_mode must be one of {', '.join(WEIGHT_DECAY_MODES)}, "
                         f"got {weight_decay_mode!r}")
    spectral = {id(p) for layer in spectral_layers(model) for p in layer.parameters()}
    members = {"spectral": [p for p in model.parameters() if id(p) in spectral],
               "other": [p for p in model.parameters() if id(p) not in spectral]}
    factors = {"spectral": lr_factor, "other": 1.0}
    base_lrs = {"spectral": lr, "other": lr if other_lr is None else other_lr}
    groups = []
    for name, params in members.items():
        if not params:
            continue
        group_lr = base_lrs[name] * factors[name]
        decay = weight_decay / group_lr if weight_decay_mode == "independent" else weight_decay
        groups.append({"name": name, "params": params, "lr": group_lr, "lr_factor": factors[name],
                       "weight_decay": decay, "decoupled_weight_decay": weight_decay_mode != "l2"})
    return groups


def model_lr_factor(model: nn.Module) -> float:
    """c(K) of the Fourier layers inside ``model`` (wrappers included); 1 when it has none."""
    factors = {layer.lr_factor for layer in spectral_layers(model)}
    if len(factors) > 1:
        raise ValueError(f"the Fourier layers of this model disagree on c(K): {sorted(factors)}")
    return factors.pop() if factors else 1.0


def make_adam(
    model: nn.Module,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    fused: bool | None = None,
    weight_decay_mode: str = "l2",
    other_lr: float | None = None,
) -> torch.optim.Adam:
    """Adam over :func:`param_groups`, using the model's own parametrization for c(K), with weight
    decay λ = ``weight_decay`` in the coupling ``weight_decay_mode`` (:data:`WEIGHT_DECAY_MODES`)
    and the K-independent weights at ``other_lr`` when given (else at ``lr``).

    ``fused=None`` uses PyTorch's fused Adam kernel wherever it applies (real floating-point
    parameters on the CPU or CUDA, which holds for :class:`~mufno_core.model.FNO`: its spectral
    weights are stored as real (re, im) pairs). It makes one pass over parameters, gradients and
    moments instead of several, the lever for large models (measured against the foreach Adam in
    ``benchmarks/README.md``, ``bench_adam.py``); the update is Adam's, equal to the unfused one to
    round-off.
    """
    groups = param_groups(model, lr, model_lr_factor(model), weight_decay, weight_decay_mode,
                          other_lr)
    from mufno_core.eager import Adam  # imports torch

    if fused is None:
        fused = fused_adam_applies(model.parameters())
    return Adam(groups, lr=lr, betas=betas, eps=eps, fused=fused)


def fused_adam_applies(params: Iterable[torch.Tensor]) -> bool:
    """Whether torch's fused Adam accepts these parameters: real floating point, all on one CPU or
    CUDA device."""
    params = list(params)
    devices = {p.device for p in params}
    return (len(devices) == 1 and next(iter(devices)).type in ("cpu", "cuda")
            and all(p.is_floating_point() for p in params))
