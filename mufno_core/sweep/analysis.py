"""Moved: statistics to :mod:`mufno_core.stats`, optima and the quantities built on them (drift,
α, batch-size/β2 shift) to :mod:`mufno_core.optima`, axes to :mod:`mufno_core.axes`. The one name
left here is still imported by ``tests/test_sqrt_log.py``; import it from ``mufno_core.optima``."""

from __future__ import annotations

from mufno_core.optima import lr_exponent

__all__ = ["lr_exponent"]
