"""Checks of a setting's type and range, each raising a ValueError that names the setting.

One wording for the whole package: the trainer's :class:`~mufno_core.settings.TrainConfig` and a
sweep's :class:`~mufno_core.sweep.config.TrialConfig` check their fields with these, so that
``--set steps=abc`` and ``TrainConfig(steps="abc")`` fail with the same message.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def is_int(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def positive_int(name: str, value: Any, optional: bool = False) -> None:
    """An int >= 1 (or None where ``optional``)."""
    if optional and value is None:
        return
    if not is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def non_negative_int(name: str, value: Any) -> None:
    if not is_int(value) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {value!r}")


SEED_MAX = 2**64 - 1
"""The largest seed ``torch.manual_seed`` accepts."""


def seed_int(name: str, value: Any) -> None:
    """An int in [0, 2⁶⁴ − 1], the range of ``torch.manual_seed``."""
    if not is_int(value) or not 0 <= value <= SEED_MAX:
        raise ValueError(f"{name} must be an int >= 0 and < 2**64 (torch's seed range), "
                         f"got {value!r}")


def positive_number(name: str, value: Any, optional: bool = False) -> None:
    """A finite number > 0 (or None where ``optional``)."""
    if optional and value is None:
        return
    if not is_number(value) or value <= 0:
        or_none = " or None" if optional else ""
        raise ValueError(f"{name} must be a positive finite number{or_none}, got {value!r}")


def non_negative_number(name: str, value: Any) -> None:
    if not is_number(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def unit_interval(name: str, value: Any) -> None:
    """A number in [0, 1) (Adam's β₁ and β₂)."""
    if not is_number(value) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")


def one_of(name: str, value: Any, choices: Sequence[Any]) -> None:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"
        raise ValueError(f"{name} must be {options}, got {value!r}")


def non_empty_string(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")


def check_folder(option: str, path: str | Path | None) -> Path:
    """``path`` as a folder a sweep may use: not empty, and neither it nor a parent a file.

    ValueError in one line naming ``option`` (e.g. "--results") otherwise. Nothing is created.
    """
    if path is None or str(path).strip() == "":
        raise ValueError(f"{option} is empty; give a folder (e.g. {option} results/quick)")
    folder = Path(path)
    for existing in (folder, *folder.parents):
        if existing.exists():
            if not existing.is_dir():
                what = "is a file" if existing == folder else f"lies under {existing}, a file"
                raise ValueError(f"{option} {folder}: {what}, not a folder")
            break
    return folder


def check_writable(option: str, path: str | Path) -> None:
    """``path`` (or, before it exists, the nearest folder above it) accepts a new file.

    Tried by writing and removing an empty temporary file, so that a read-only file system or
    a folder without write permission is found before any trial runs (ValueError, one line).
    """
    folder = check_folder(option, path)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    try:
        fd, probe = tempfile.mkstemp(prefix=".mufno-write-test.", dir=existing)
    except OSError as err:
        raise ValueError(f"{option} {folder}: cannot write in {existing} "
                         f"({err.strerror or err}); give a writable folder") from None
    os.close(fd)
    os.unlink(probe)
