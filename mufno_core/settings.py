"""What a model and a training run are built from: :class:`ModelConfig` and :class:`TrainConfig`.

Plain dataclasses that load without torch (building the model or its optimizer imports it): a
trial (:class:`~mufno_core.sweep.config.TrialConfig`) is made of their fields, and the analysis,
the book's drivers and ``mufno data`` read trials without training any. :mod:`mufno_core.train`
re-exports :class:`TrainConfig`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Literal

from mufno_core.checks import (
    non_negative_number,
    one_of,
    positive_int,
    positive_number,
    seed_int,
    unit_interval,
)
from mufno_core.mup import WEIGHT_DECAY_MODES, Modes, Parametrization, ParametrizationName

if TYPE_CHECKING:
    import torch
    from torch import nn

    from mufno_core.model import FNO  # for the annotations


@dataclass(frozen=True)
class ModelConfig:
    """The settings an :class:`FNO` is built from (the arguments of the same names)."""

    dim: int
    in_channels: int
    out_channels: int
    modes: Modes
    width: int = 64
    depth: int = 4
    parametrization: ParametrizationName | Parametrization = "sp"
    base_modes: Modes | None = None
    init_scale: float = 1.0

    def build(self, device: torch.device | str | None = None,
              dtype: torch.dtype | None = None) -> FNO:
        """A freshly initialised FNO (drawing its weights from torch's global generator), float32
        unless ``dtype`` says otherwise."""
        import torch

        from mufno_core.model import FNO  # imports torch

        return FNO(**{f.name: getattr(self, f.name) for f in fields(self)}, device=device,
                   dtype=torch.float32 if dtype is None else dtype)


@dataclass
class TrainConfig:
    """Everything that decides a training run, besides the model and the data.

    The budget is ``steps`` optimizer steps, or ``epochs`` passes over the training set.
    ``lr_decay_every``/``lr_decay_gamma`` give a step schedule (None: constant LR).
    ``clip_value`` None switches clipping off; ``clip_params`` is "all" or "spectral".
    ``weight_decay`` λ enters Adam as ``weight_decay_mode`` says (:data:`~mufno_core.mup.WEIGHT_DECAY_MODES`).
    ``other_lr`` fixes the LR of the K-independent weights (lifting, skips, projection), so that
    ``lr`` is the spectral weights' base LR alone (None: ``lr`` drives every weight).
    """

    lr: float = 1e-3
    other_lr: float | None = None
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    weight_decay_mode: str = "l2"
    batch_size: int = 20
    steps: int | None = 500
    epochs: int | None = None
    clip_value: float | None = 0.01
    clip_params: Literal["all", "spectral"] = "all"
    lr_decay_every: int | None = None
    lr_decay_gamma: float = 0.5
    eval_every: int | None = None
    seed: int = 0
    divergence_factor: float = 100.0

    def __post_init__(self) -> None:
        positive_number("lr", self.lr)
        positive_number("other_lr", self.other_lr, optional=True)
        unit_interval("beta1", self.beta1)
        unit_interval("beta2", self.beta2)
        positive_number("eps", self.eps)
        non_negative_number("weight_decay", self.weight_decay)
        one_of("weight_decay_mode", self.weight_decay_mode, WEIGHT_DECAY_MODES)
        positive_int("batch_size", self.batch_size)
        positive_int("steps", self.steps, optional=True)
        positive_int("epochs", self.epochs, optional=True)
        if (self.steps is None) == (self.epochs is None):
            raise ValueError("give exactly one budget: steps or epochs")
        positive_number("clip_value", self.clip_value, optional=True)
        one_of("clip_params", self.clip_params, ("all", "spectral"))
        positive_int("lr_decay_every", self.lr_decay_every, optional=True)
        positive_number("lr_decay_gamma", self.lr_decay_gamma)
        seed_int("seed", self.seed)

    def adam(self, model: nn.Module) -> torch.optim.Adam:
        """The optimizer of this configuration over ``model``: :func:`~mufno_core.mup.make_adam`
        with the model's c(K) and these LRs, β's, eps and weight decay."""
        from mufno_core.mup import make_adam  # imports torch

        return make_adam(model, self.lr, (self.beta1, self.beta2), self.eps, self.weight_decay,
                         weight_decay_mode=self.weight_decay_mode, other_lr=self.other_lr)

    def total_steps(self, n_train: int) -> int:
        """Optimizer steps of the whole run for a training set of ``n_train`` samples."""
        if self.steps is not None:
            return self.steps
        return self.epochs * math.ceil(n_train / self.batch_size)


MEMBER_FIELDS = ("lr", "other_lr", "seed", "beta1", "beta2", "eps", "weight_decay",
                 "weight_decay_mode")
"""The TrainConfig fields that may differ between stacked members; all others must agree."""
