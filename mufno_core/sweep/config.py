"""One trial of a sweep: every setting that decides its result, and the hash that names it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from torch import nn

from mufno_core.checks import (
    is_number,
    non_empty_string,
    non_negative_number,
    one_of,
    positive_int,
    positive_number,
)
from mufno_core.losses import Decode, LossFn
from mufno_core.model import ModelConfig
from mufno_core.mup import PARAMETRIZATIONS, Parametrization, spectral_layers
from mufno_core.pino import Mollified, make_pino_loss
from mufno_core.train import TrainConfig

SCHEMA = "mufno.trial/1"
"""Tag of a trial record; files without it are foreign to the store."""


@dataclass(frozen=True)
class TrialConfig:
    """Everything that decides a trial (experiment × data × model × optimiser × budget).

    One flat record (its JSON names the trial), made of the core's own configurations: the model
    fields are those of :class:`~mufno_core.model.ModelConfig` (:meth:`model_config`), the training
    fields those of :class:`~mufno_core.train.TrainConfig` (:meth:`train_config`, which also checks
    them), and the data fields select from a data set (:func:`~mufno_core.sweep.data.load_trial_data`).
    The trial builds its own objects: :meth:`build_model`, :meth:`train_config`,
    :meth:`loss_function`.

    ``steps`` or ``epochs`` (exactly one) is the budget. ``base_modes`` is μP's base K₀ (SP and μP
    coincide there). ``pde_weight > 0`` adds the PINO physics loss. ``n_train``/``n_test``/
    ``subsample`` select from the data set (None: the data preset's own choice).
    ``time_modes_max`` caps K on the last (time) axis of an FNO-3D whose time grid is short.
    ``other_lr`` fixes the LR of the K-independent weights (lifting, skips, projection), so that
    ``lr`` is the spectral weights' base LR alone (None: ``lr`` drives every weight).
    ``cal_exponent`` is β of the calibrated parametrization "cal" (c(K) = (log K₀_eff /
    log K_eff)^β, :mod:`mufno_core.analysis.calibrate`); only "cal" takes one, so other ids do not change.
    The device is not part of a trial: a trial is the same question on any machine.
    """

    experiment: str
    dataset: str
    preset: str
    dim: int
    in_channels: int
    out_channels: int
    parametrization: str
    modes: int
    lr: float
    seed: int
    base_modes: int | None = None
    width: int = ModelConfig.width
    depth: int = ModelConfig.depth
    init_scale: float = ModelConfig.init_scale
    batch_size: int = TrainConfig.batch_size
    beta1: float = TrainConfig.beta1
    beta2: float = TrainConfig.beta2
    steps: int | None = TrainConfig.steps
    epochs: int | None = TrainConfig.epochs
    clip_value: float | None = TrainConfig.clip_value
    clip_params: str = TrainConfig.clip_params
    lr_decay_every: int | None = TrainConfig.lr_decay_every
    lr_decay_gamma: float = TrainConfig.lr_decay_gamma
    n_train: int | None = None
    n_test: int | None = None
    subsample: int = 1
    data_weight: float = 1.0
    pde_weight: float = 0.0
    mollifier_scale: float = 1.0
    time_modes_max: int | None = None
    other_lr: float | None = None
    cal_exponent: float | None = None

    def __post_init__(self) -> None:
        _check_fields(self)
        self._training_settings()  # TrainConfig checks the training fields (ValueError naming one)
        if self.parametrization == "mup" and (self.modes < 2 or (self.base_modes or 2) < 2):
            raise ValueError(f"μP needs K >= 2 (log K = 0 at K = 1), got modes={self.modes}")
        if (self.parametrization == "cal") != (self.cal_exponent is not None):
            raise ValueError("cal_exponent is set exactly when parametrization is 'cal' (got "
                             f"parametrization={self.parametrization!r}, "
                             f"cal_exponent={self.cal_exponent!r})")
        if self.parametrization == "cal" and (self.base_modes is None or self.modes < 2
                                              or self.base_modes < 2):
            raise ValueError(f"the calibrated parametrization needs K, K₀ >= 2, got "
                             f"modes={self.modes}, base_modes={self.base_modes}")

    # --- the objects the trial trains with ---------------------------------------------------------
    def model_config(self) -> ModelConfig:
        """The FNO's settings (K per axis when the time axis is capped)."""
        return ModelConfig(self.dim, self.in_channels, self.out_channels, self.modes_per_axis(),
                           width=self.width, depth=self.depth,
                           parametrization=self.parametrization_rule(),
                           base_modes=self.base_modes_per_axis(), init_scale=self.init_scale)

    def parametrization_rule(self) -> Parametrization:
        """a(K), b(K), c(K) of the trial's spectral weights (relative to ``base_modes``)."""
        return Parametrization(self.parametrization, self.base_modes_per_axis(), self.init_scale,
                               self.cal_exponent)

    def build_model(self, device: str) -> nn.Module:
        """The trial's FNO (wrapped in PINO's mollifier when the trial has a physics loss).

        With ``other_lr`` set the trainer's LR is ``other_lr`` and the spectral layers' LR factor
        is multiplied by ``lr / other_lr``, so that the spectral weights train at ``lr`` · c(K).
        """
        model: nn.Module = self.model_config().build(device)
        if self.pde_weight > 0:
            model = Mollified(model, self.mollifier_scale)
        if self.other_lr is not None:
            for layer in spectral_layers(model):
                layer.lr_factor *= self.lr / self.other_lr
        return model

    def _training_settings(self) -> TrainConfig:
        """The trial's training fields as a :class:`~mufno_core.train.TrainConfig` (lr = ``lr``)."""
        return TrainConfig(**{name: getattr(self, name) for name in TRAINING_FIELDS})

    def train_config(self) -> TrainConfig:
        """The trainer's configuration: the training fields, with the trainer's LR ``other_lr``
        when it is set (see :meth:`build_model`)."""
        settings = self._training_settings()
        return settings if self.other_lr is None else replace(settings, lr=self.other_lr)

    def loss_function(self, decode: Decode | None = None,
                      decode_input: Decode | None = None) -> LossFn | None:
        """None (the trainer's relative L2), or with a physics loss PINO's data + physics loss, which
        reads the data in physical units through the normalisers' inverses ``decode`` (outputs)
        and ``decode_input`` (inputs)."""
        if self.pde_weight <= 0:
            return None
        return make_pino_loss(data_weight=self.data_weight, pde_weight=self.pde_weight,
                              mollifier_scale=None, decode_input=decode_input, decode_output=decode)

    # --- identity ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def canonical_json(self) -> str:
        """Sorted keys, no spaces, floats in repr form: the same config gives the same text.

        Fields added after the first release are left out while at their default (None), so that
        adding a field never changes the id of an existing trial.
        """
        d = {k: v for k, v in self.to_dict().items() if not (k in LATER_FIELDS and v is None)}
        return json.dumps(d, sort_keys=True, separators=(",", ":"))

    def modes_per_axis(self) -> int | tuple[int, ...]:
        """K, or (K, …, min(K, time_modes_max)) when the last axis is capped."""
        if self.time_modes_max is None:
            return self.modes
        return (self.modes,) * (self.dim - 1) + (min(self.modes, self.time_modes_max),)

    def base_modes_per_axis(self) -> int | tuple[int, ...] | None:
        if self.base_modes is None or self.time_modes_max is None:
            return self.base_modes
        return (self.base_modes,) * (self.dim - 1) + (min(self.base_modes, self.time_modes_max),)

    def trial_id(self) -> str:
        """First 16 hex digits of the SHA-256 of :meth:`canonical_json`."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]

    def at_base_modes(self) -> bool:
        """Whether K is μP's base K₀: there μP (relative to K₀) and SP are the same model, so the SP
        trial stands for the μP one (grids do not run the μP trial; the store mirrors the SP
        record under μP)."""
        return self.modes == self.base_modes

    def is_mirrored_by_sp(self) -> bool:
        """A μP trial at its base K, which the SP trial of the same settings stands for."""
        return self.parametrization == "mup" and self.at_base_modes()

    def mirrored_mup(self) -> TrialConfig | None:
        """The μP trial that this SP trial stands for (:meth:`at_base_modes`), or None."""
        if self.parametrization == "sp" and self.at_base_modes():
            return replace(self, parametrization="mup")
        return None

    def group_key(self) -> tuple:
        """Everything but (lr, seed, beta2): trials that a stacked trainer may run side by side
        (with ``other_lr`` set, lr lives in the model's spectral LR factor and is kept)."""
        d = self.to_dict()
        for name in ("seed", "beta2") if self.other_lr is not None else ("lr", "seed", "beta2"):
            d.pop(name)
        return tuple(sorted(d.items()))

    def with_(self, **changes: Any) -> TrialConfig:
        """A copy with some fields changed (unknown names are an error)."""
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error, so a foreign record is caught."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown trial fields: {sorted(unknown)}")
        return cls(**data)


TRAINING_FIELDS = tuple(f.name for f in fields(TrainConfig) if f.name in TrialConfig.__dataclass_fields__)
"""The fields a trial shares with :class:`~mufno_core.train.TrainConfig` (its checks apply)."""

LATER_FIELDS = ("time_modes_max", "other_lr", "cal_exponent")
"""Fields left out of the canonical JSON while None (see :meth:`TrialConfig.canonical_json`)."""


# --- validation of the fields that are not the trainer's (before any trial starts) --------------
_POSITIVE_INTS = ("dim", "in_channels", "out_channels", "modes", "width", "depth", "subsample")
_OPTIONAL_POSITIVE_INTS = ("base_modes", "n_train", "n_test", "time_modes_max")
_POSITIVE_NUMBERS = ("init_scale", "mollifier_scale")
_NON_NEGATIVE_NUMBERS = ("data_weight", "pde_weight")
_STRINGS = ("experiment", "dataset", "preset", "parametrization")


def _check_fields(config: TrialConfig) -> None:
    """ValueError naming the first model, data or experiment setting of ``config`` whose type or
    range cannot work (the training settings are :class:`~mufno_core.train.TrainConfig`'s to check).

    (A ``--set depth=2.5`` is caught here, when the grid is built, instead of failing inside every
    trial.)
    """
    for name in _STRINGS:
        non_empty_string(name, getattr(config, name))
    for name in _POSITIVE_INTS + _OPTIONAL_POSITIVE_INTS:
        positive_int(name, getattr(config, name), optional=name in _OPTIONAL_POSITIVE_INTS)
    one_of("dim", config.dim, (1, 2, 3))
    one_of("parametrization", config.parametrization, PARAMETRIZATIONS)
    for name in _POSITIVE_NUMBERS:
        positive_number(name, getattr(config, name))
    for name in _NON_NEGATIVE_NUMBERS:
        non_negative_number(name, getattr(config, name))
    positive_number("other_lr", config.other_lr, optional=True)
    if config.cal_exponent is not None and not is_number(config.cal_exponent):
        raise ValueError(f"cal_exponent must be a finite number or None, got {config.cal_exponent!r}")
