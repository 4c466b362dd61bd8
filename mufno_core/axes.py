"""What varies by axis, asked of the axis: the swept hyperparameters and the parametrizations.

A hyperparameter's optimum is located on a log axis (:data:`HPARAM_AXES`): log10 LR, log2 batch
size and log10(1 − β2) (the averaging window of Adam's second moment is ~1/(1 − β2) steps). Each
axis also holds the grid parameter that widens it, its words and its number format, so that no
report branches on the hyperparameter's name. :data:`PARAMETRIZATIONS` holds the display name,
panel title and colour of SP and μP (a third one is one more entry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HparamAxis:
    """A swept hyperparameter ``field`` and the axis ``forward(value) = log_base q`` its optimum is
    located on (q = the value, or 1 − β2 for β2)."""

    field: str
    grid: str  # the grid parameter (Preset field, ``--set`` key) that holds its values
    words: str  # "batch size"
    label: str  # the axis in words: "log2 batch size"
    forward: Callable[[np.ndarray], np.ndarray]
    inverse: Callable[[np.ndarray], np.ndarray]
    base: float
    unit: str  # what a unit of the axis is called
    number: str  # format of one value: ".3g", ".3f"
    towards_one: bool = False  # values approach 1 as the axis decreases (β2)

    def format(self, value: float) -> str:
        """One value of the hyperparameter, to the digits it is read at."""
        return format(value, self.number)

    def shown(self, value):
        """The quantity a figure's log axis shows: the value, or 1 − β2."""
        q = np.asarray(value, dtype=float)
        return 1.0 - q if self.towards_one else q


HPARAM_AXES: dict[str, HparamAxis] = {
    "lr": HparamAxis("lr", "lrs", "learning rate", "log10 lr", np.log10, lambda x: 10.0**x, 10.0,
                     "decades", ".3g"),
    "batch_size": HparamAxis("batch_size", "batch_sizes", "batch size", "log2 batch size", np.log2,
                             lambda x: 2.0**x, 2.0, "octaves", ".3g"),
    "beta2": HparamAxis("beta2", "beta2s", "Adam β2", "log10(1 − β2)",
                        lambda b: np.log10(1.0 - np.asarray(b, dtype=float)),
                        lambda x: 1.0 - 10.0**x, 10.0, "decades", ".3f", towards_one=True),
}


def hparam_axis(field: str) -> HparamAxis:
    """The axis of ``field``, or a ValueError naming the known ones."""
    if field not in HPARAM_AXES:
        raise ValueError(f"no hyperparameter axis {field!r}; known: {', '.join(HPARAM_AXES)}")
    return HPARAM_AXES[field]


@dataclass(frozen=True)
class Parametrization:
    """How a parametrization is shown: its short name, a figure panel's title and its colour."""

    key: str
    name: str
    title: str
    colour: str


PARAMETRIZATIONS: dict[str, Parametrization] = {
    "sp": Parametrization("sp", "SP", "SP (standard)", "#c0392b"),
    "mup": Parametrization("mup", "μP", "μP", "#2471a3"),
    "cal": Parametrization("cal", "calibrated", "calibrated (c(K) from a coordinate check)",
                           "#1e8449"),
}


def display_name(key: str) -> str:
    """"SP", "μP", …; an unknown key as it is."""
    return PARAMETRIZATIONS[key].name if key in PARAMETRIZATIONS else key
