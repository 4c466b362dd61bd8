"""One trial of a sweep: every setting that decides its result, and the hash that names it."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

SCHEMA = "mufno.trial/1"
"""Tag of a trial record; files without it are foreign to the store."""


@dataclass(frozen=True)
class TrialConfig:
    """Everything that decides a trial (experiment × data × model × optimiser × budget).

    ``steps`` or ``epochs`` (exactly one) is the budget. ``base_modes`` is μP's base K₀ (SP and μP
    coincide there). ``pde_weight > 0`` adds the PINO physics loss. ``n_train``/``n_test``/
    ``subsample`` select from the data set (None: the data preset's own choice).
    ``time_modes_max`` caps K on the last (time) axis of an FNO-3D whose time grid is short.
    ``other_lr`` fixes the LR of the K-independent weights (lifting, skips, projection), so that
    ``lr`` is the spectral weights' base LR alone (None: ``lr`` drives every weight).
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
    width: int = 64
    depth: int = 4
    init_scale: float = 1.0
    batch_size: int = 20
    beta1: float = 0.9
    beta2: float = 0.999
    steps: int | None = 500
    epochs: int | None = None
    clip_value: float | None = 0.01
    clip_params: str = "all"
    lr_decay_every: int | None = None
    lr_decay_gamma: float = 0.5
    n_train: int | None = None
    n_test: int | None = None
    subsample: int = 1
    data_weight: float = 1.0
    pde_weight: float = 0.0
    mollifier_scale: float = 1.0
    time_modes_max: int | None = None
    other_lr: float | None = None

    def __post_init__(self) -> None:
        _check_types(self)
        if self.parametrization not in ("sp", "mup"):
            raise ValueError(f"parametrization must be 'sp' or 'mup', got {self.parametrization!r}")
        if not (isinstance(self.lr, int | float) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive finite number, got {self.lr!r}")
        if (self.steps is None) == (self.epochs is None):
            raise ValueError("give exactly one budget: steps or epochs")
        if self.parametrization == "mup" and (self.modes < 2 or (self.base_modes or 2) < 2):
            raise ValueError(f"μP needs K >= 2 (log K = 0 at K = 1), got modes={self.modes}")

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


LATER_FIELDS = ("time_modes_max", "other_lr")
"""Fields left out of the canonical JSON while None (see :meth:`TrialConfig.canonical_json`)."""


# --- validation of every field's type and range (before any trial starts) ------------------------
_POSITIVE_INTS = ("dim", "in_channels", "out_channels", "modes", "width", "depth", "batch_size",
                  "subsample")
_OPTIONAL_POSITIVE_INTS = ("base_modes", "steps", "epochs", "lr_decay_every", "n_train", "n_test",
                           "time_modes_max")
_POSITIVE_FLOATS = ("lr", "init_scale", "lr_decay_gamma", "mollifier_scale")
_NON_NEGATIVE_FLOATS = ("data_weight", "pde_weight")
_STRINGS = ("experiment", "dataset", "preset", "parametrization", "clip_params")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_types(config: TrialConfig) -> None:
    """ValueError naming the first setting of ``config`` whose type or range cannot work.

    (A ``--set steps=abc`` or ``depth=2.5`` is caught here, when the grid is built, instead of
    failing inside every trial.)
    """
    for name in _STRINGS:
        value = getattr(config, name)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    for name in _POSITIVE_INTS + _OPTIONAL_POSITIVE_INTS:
        value = getattr(config, name)
        if value is None and name in _OPTIONAL_POSITIVE_INTS:
            continue
        if not _is_int(value) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if config.dim not in (1, 2, 3):
        raise ValueError(f"dim must be 1, 2 or 3, got {config.dim!r}")
    if not _is_int(config.seed) or config.seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {config.seed!r}")
    for name in _POSITIVE_FLOATS:
        value = getattr(config, name)
        if not _is_number(value) or value <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    for name in _NON_NEGATIVE_FLOATS:
        value = getattr(config, name)
        if not _is_number(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    for name in ("beta1", "beta2"):
        value = getattr(config, name)
        if not _is_number(value) or not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    if config.other_lr is not None and (not _is_number(config.other_lr) or config.other_lr <= 0):
        raise ValueError(f"other_lr must be a positive finite number or None, got {config.other_lr!r}")
    if config.clip_value is not None and (not _is_number(config.clip_value)
                                          or config.clip_value <= 0):
        raise ValueError(f"clip_value must be a positive number or None, got {config.clip_value!r}")
    if config.clip_params not in ("all", "spectral"):
        raise ValueError(f"clip_params must be 'all' or 'spectral', got {config.clip_params!r}")
