"""One trial of a sweep: every setting that decides its result, and the hash that names it."""

from __future__ import annotations

import hashlib
import json
import math
import operator
from dataclasses import MISSING, asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from mufno_core.checks import (
    is_number,
    non_empty_string,
    non_negative_number,
    one_of,
    positive_int,
    positive_number,
)
from mufno_core.mup import PARAMETRIZATIONS, Parametrization
from mufno_core.settings import MEMBER_FIELDS, ModelConfig, TrainConfig

if TYPE_CHECKING:  # a trial is read without torch; building or training one imports it
    from torch import nn

    from mufno_core.losses import Decode, LossFn  # for the annotations

SCHEMA = "mufno.trial/1"
"""Tag of a trial record; files without it are foreign to the store."""

FIRST_FIELDS = (
    "experiment", "dataset", "preset", "dim", "in_channels", "out_channels", "parametrization",
    "modes", "lr", "seed", "base_modes", "width", "depth", "init_scale", "batch_size", "beta1",
    "beta2", "steps", "epochs", "clip_value", "clip_params", "lr_decay_every", "lr_decay_gamma",
    "n_train", "n_test", "subsample", "data_weight", "pde_weight", "mollifier_scale")
"""The fields of the first trial schema, in its order: always in the canonical JSON. Every field
added since (a new training field included) is left out while at its default, so that adding a
field never changes the id of an existing trial (:meth:`TrialConfig.canonical_json`)."""

COMPOSED = (ModelConfig, TrainConfig)
"""The core configurations whose fields a trial has, by the same names and defaults."""
REQUIRED = ("parametrization", "lr", "seed")
"""Fields of :data:`COMPOSED` with a default there that a trial must name all the same."""


def _composes(*parts: type, required: tuple[str, ...]):
    """Class decorator: give the class every field of the dataclasses ``parts`` (their annotations
    and defaults; none for the names in ``required``, nor where the part has none), ordered
    :data:`FIRST_FIELDS` first, then make it a frozen, keyword-only dataclass. A field added to a
    part is a trial field at once."""

    def wrap(cls: type) -> type:
        annotations = dict(cls.__dict__.get("__annotations__", {}))
        for part in parts:
            for f in fields(part):
                if f.name in annotations:
                    raise TypeError(f"{cls.__name__}.{f.name} is also a field of {part.__name__}")
                annotations[f.name] = f.type
                if f.name not in required and f.default is not MISSING:
                    setattr(cls, f.name, f.default)
        order = [*FIRST_FIELDS, *(name for name in annotations if name not in FIRST_FIELDS)]
        cls.__annotations__ = {name: annotations[name] for name in order}
        return dataclass(frozen=True, kw_only=True)(cls)

    return wrap


@_composes(*COMPOSED, required=REQUIRED)
class TrialConfig:
    """Everything that decides a trial (experiment × data × model × optimiser × budget).

    One flat record (its JSON names the trial), composed of the core's own configurations: besides
    the fields declared here (the experiment, the data selection, the physics loss and the trial's
    own adjustments), every field of :class:`~mufno_core.settings.ModelConfig` and of
    :class:`~mufno_core.settings.TrainConfig` is a trial field of the same name and default
    (:func:`_composes`; ``parametrization``, ``lr`` and ``seed`` without one), so every training
    setting (``weight_decay``, ``weight_decay_mode``, ``eps``, …) is an axis a sweep can set.
    :meth:`model_config` and :meth:`train_config` (which also checks the training fields) hand them
    back; the data fields select from a data set (:func:`~mufno_core.sweep.data.load_trial_data`).
    The trial builds its own objects: :meth:`build_model`, :meth:`train_config`,
    :meth:`loss_function`.

    ``steps`` or ``epochs`` (exactly one) is the budget. ``base_modes`` is μP's base K₀ (SP and μP
    coincide there). ``pde_weight > 0`` adds the PINO physics loss. ``n_train``/``n_test``/
    ``subsample`` select from the data set (None: the data preset's own choice).
    ``time_modes_max`` caps K on the last (time) axis of an FNO-3D whose time grid is short.
    The learning rates travel one way, as numbers: ``lr`` (and ``other_lr``, the K-independent
    weights' LR when set) go into :meth:`train_config`, whose optimizer
    (:meth:`~mufno_core.settings.TrainConfig.adam`) multiplies the spectral weights' by the model's c(K).
    ``cal_exponent`` is β of the calibrated parametrization "cal" (c(K) = (log K₀_eff /
    log K_eff)^β, :mod:`mufno_core.analysis.calibrate`); only "cal" takes one, so other ids do not change.
    The device is not part of a trial: a trial is the same question on any machine.
    """

    experiment: str
    dataset: str
    preset: str
    n_train: int | None = None
    n_test: int | None = None
    subsample: int = 1
    data_weight: float = 1.0
    pde_weight: float = 0.0
    mollifier_scale: float = 1.0
    time_modes_max: int | None = None
    cal_exponent: float | None = None

    def __post_init__(self) -> None:
        key = _values_key(self)
        if key is not None and key in _CHECKED:  # these very values passed the checks before
            return
        _check_fields(self)
        self.train_config()  # TrainConfig checks the training fields (ValueError naming one)
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
        if key is not None:
            _remember(key, None)

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
        """The trial's FNO (wrapped in PINO's mollifier when the trial has a physics loss)."""
        from mufno_core.pino import Mollified  # imports torch

        model: nn.Module = self.model_config().build(device)
        if self.pde_weight > 0:
            model = Mollified(model, self.mollifier_scale)
        return model

    def train_config(self) -> TrainConfig:
        """The trial's training fields as a :class:`~mufno_core.settings.TrainConfig`."""
        return TrainConfig(**{name: getattr(self, name) for name in TRAINING_FIELDS})

    def loss_function(self, decode: Decode | None = None,
                      decode_input: Decode | None = None) -> LossFn | None:
        """None (the trainer's relative L2), or with a physics loss PINO's data + physics loss, which
        reads the data in physical units through the normalisers' inverses ``decode`` (outputs)
        and ``decode_input`` (inputs)."""
        if self.pde_weight <= 0:
            return None
        from mufno_core.pino import make_pino_loss  # imports torch

        return make_pino_loss(data_weight=self.data_weight, pde_weight=self.pde_weight,
                              mollifier_scale=None, decode_input=decode_input, decode_output=decode)

    # --- identity ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The fields by name: as :func:`dataclasses.asdict` gives them, without its deep copy where
        every value is plain (a number, string, None or a tuple of those), as in every trial."""
        values = {name: getattr(self, name) for name in _FIELD_NAMES}
        if all(_plain(v) for v in values.values()):
            return values
        return asdict(self)

    def canonical_json(self) -> str:
        """Sorted keys, no spaces, floats in repr form: the same config gives the same text.

        Fields added after the first release (not in :data:`FIRST_FIELDS`) are left out while at
        their default, so that adding a field never changes the id of an existing trial.
        """
        d = {k: v for k, v in self.to_dict().items()
             if k in FIRST_FIELDS or v != DEFAULTS[k]}
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
        """First 16 hex digits of the SHA-256 of :meth:`canonical_json` (computed once per config:
        the fields are frozen)."""
        cached = self.__dict__.get("_trial_id")
        if cached is None:
            key = _values_key(self)
            cached = _CHECKED.get(key) if key is not None else None
            if cached is None:
                cached = hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]
                if key is not None:
                    _remember(key, cached)
            object.__setattr__(self, "_trial_id", cached)
        return cached

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
        """Everything but the fields stacked members may differ in
        (:data:`~mufno_core.settings.MEMBER_FIELDS`): trials that a stacked trainer may run side by
        side."""
        return tuple(sorted((k, v) for k, v in self.to_dict().items() if k not in MEMBER_FIELDS))

    def with_(self, **changes: Any) -> TrialConfig:
        """A copy with some fields changed (unknown names are an error)."""
        return replace(self, **changes)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error, so a foreign record is caught."""
        unknown = set(data) - _FIELD_SET
        if unknown:
            raise ValueError(f"unknown trial fields: {sorted(unknown)}")
        return cls(**data)


_FIELD_NAMES = tuple(f.name for f in fields(TrialConfig))
_FIELD_SET = frozenset(_FIELD_NAMES)
_field_values = operator.attrgetter(*_FIELD_NAMES)

_CHECKED: dict[tuple, str | None] = {}
"""The field values (with their types) of every trial this process has built and checked, with
its id once computed: a grid built again, a record read again or a ``with_`` copy skips the
checks and the hash (both depend on the values alone). At most :data:`_CHECKED_MAX` entries."""
_CHECKED_MAX = 200_000
_SCALAR_TYPES = frozenset({int, float, str, bool, type(None)})


def _values_key(config: TrialConfig) -> tuple | None:
    """The field values of ``config`` and their types (1, 1.0 and True are equal keys but not the
    same trial), or None where a value is not a number, string or None, or is −0.0 (equal to 0.0
    but another canonical JSON): such a trial is checked and hashed every time."""
    values = _field_values(config)
    types = tuple(map(type, values))
    if not _SCALAR_TYPES.issuperset(types):
        return None
    if 0.0 in values and any(t is float and v == 0.0 and math.copysign(1.0, v) < 0
                             for v, t in zip(values, types)):
        return None
    return values, types


def _remember(key: tuple, trial_id: str | None) -> None:
    if len(_CHECKED) >= _CHECKED_MAX:
        _CHECKED.clear()
    _CHECKED[key] = trial_id


def _plain(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float))


DEFAULTS = {f.name: f.default for f in fields(TrialConfig) if f.default is not MISSING}
"""Each field's default: what a record written before the field existed holds."""

TRAINING_FIELDS = tuple(f.name for f in fields(TrainConfig))
"""The fields a trial has from :class:`~mufno_core.settings.TrainConfig` (its checks apply)."""


# --- validation of the fields that are not the trainer's (before any trial starts) --------------
_POSITIVE_INTS = ("dim", "in_channels", "out_channels", "modes", "width", "depth", "subsample")
_OPTIONAL_POSITIVE_INTS = ("base_modes", "n_train", "n_test", "time_modes_max")
_POSITIVE_NUMBERS = ("init_scale", "mollifier_scale")
_NON_NEGATIVE_NUMBERS = ("data_weight", "pde_weight")
_STRINGS = ("experiment", "dataset", "preset", "parametrization")


def _check_fields(config: TrialConfig) -> None:
    """ValueError naming the first model, data or experiment setting of ``config`` whose type or
    range cannot work (the training settings are :class:`~mufno_core.settings.TrainConfig`'s to check).

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
    if config.cal_exponent is not None and not is_number(config.cal_exponent):
        raise ValueError(f"cal_exponent must be a finite number or None, got {config.cal_exponent!r}")
