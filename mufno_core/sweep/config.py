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

    def __post_init__(self) -> None:
        if self.parametrization not in ("sp", "mup"):
            raise ValueError(f"parametrization must be 'sp' or 'mup', got {self.parametrization!r}")
        if not (isinstance(self.lr, int | float) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive finite number, got {self.lr!r}")
        if (self.steps is None) == (self.epochs is None):
            raise ValueError("give exactly one budget: steps or epochs")
        if self.modes < 1 or self.width < 1 or self.depth < 1 or self.batch_size < 1:
            raise ValueError(f"modes, width, depth and batch_size must be positive: {self}")
        if self.parametrization == "mup" and (self.modes < 2 or (self.base_modes or 2) < 2):
            raise ValueError(f"μP needs K >= 2 (log K = 0 at K = 1), got modes={self.modes}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def canonical_json(self) -> str:
        """Sorted keys, no spaces, floats in repr form: the same config gives the same text."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def trial_id(self) -> str:
        """First 16 hex digits of the SHA-256 of :meth:`canonical_json`."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]

    def group_key(self) -> tuple:
        """Everything but (lr, seed, beta2): trials that a stacked trainer may run side by side."""
        d = self.to_dict()
        for name in ("lr", "seed", "beta2"):
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


SWEPT_FIELDS = ("parametrization", "modes", "lr", "seed", "batch_size", "beta2")
"""The hyperparameters that the experiments sweep (the columns that analysis groups by)."""
