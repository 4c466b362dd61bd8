"""Tables a reader can read: numbers to the digits that mean something, columns named in words.

:func:`readable` turns an analysis DataFrame into strings (2–3 significant digits, scientific
where the magnitude calls for it, intervals as ``a [lo, hi]``), renames columns with
:data:`COLUMN_NAMES` and drops the index, so that a chapter prints it as it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from mufno_core.axes import display_name

COLUMN_NAMES: dict[str, str] = {
    "parametrization": "parametrization",
    "modes": "K",
    "lr_opt": "optimal LR",
    "lr_interval": "optimal LR [95% CI]",
    "lr_grid_opt": "best grid LR",
    "loss_opt": "loss at optimum",
    "n_seeds": "seeds",
    "n_diverged": "diverged runs",
    "k_min": "K min",
    "k_max": "K max",
    "drift_interval": "drift lr*(K max)/lr*(K min) [95% CI]",
    "moves": "interval excludes 1",
    "theory_sp": "√log law for SP",
    "edge": "on grid edge",
    "alpha_interval": "exponent α [95% CI]",
    "half_width": "CI half-width",
    "theory": "theory",
    "ks": "K values",
    "beta_interval": "exponent β [95% CI]",
    "growth": "growth K min → max",
    "axis": "axis",
    "opt_k_min_interval": "optimum at K min [95% CI]",
    "opt_k_max_interval": "optimum at K max [95% CI]",
    "shift_interval": "shift K min → max on the axis [95% CI]",
    "ratio_interval": "ratio K max / K min [95% CI]",
    "grid_step": "grid step on the axis",
    "loss_range": "loss range over the grid (log10)",
    "seed_sd": "seed spread (log10)",
}


def minus(text: str) -> str:
    """ASCII hyphen-minus before a digit as the typographic minus (−0.51, not -0.51)."""
    return re.sub(r"(?<![\w-])-(?=\d)", "−", text)


def sig(x: float, digits: int = 2) -> str:
    """``x`` to ``digits`` significant digits: fixed point for 1e-3 <= |x| < 1e4, else scientific."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if x == 0:
        return "0"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    magnitude = math.floor(math.log10(abs(x)))
    if -3 <= magnitude < 4:
        decimals = digits - 1 - magnitude
        if decimals < 0:  # 1234.5 -> 1200
            return minus(f"{round(x, decimals):.0f}")
        return minus(f"{x:.{decimals}f}")
    return minus(f"{x:.{digits - 1}e}")


def signed_value(value: float, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals and always a sign, the minus typographic (exponents)."""
    return minus(f"{value:+.{digits}f}")


def interval(value: float, low: float, high: float, digits: int = 2, signed: bool = False) -> str:
    """``value [low, high]`` with :func:`sig` (``signed``: always a sign, for exponents); without
    an interval (one seed: its ends are nan) ``value (no interval: one seed)``."""
    if math.isnan(low) or math.isnan(high):
        head = signed_value(value, digits) if signed else sig(value, digits)
        return f"{head} (no interval: one seed)"
    if signed:
        return (f"{signed_value(value, digits)} [{signed_value(low, digits)}, "
                f"{signed_value(high, digits)}]")
    return f"{sig(value, digits)} [{sig(low, digits)}, {sig(high, digits)}]"


def readable(df: pd.DataFrame, columns: Sequence[str] | None = None, digits: int = 2,
             names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``df`` with numbers as short strings, booleans as yes/no, parametrizations as SP/μP,
    interval columns joined (``lr_opt``/``lr_low``/``lr_high`` → ``lr_interval``, likewise
    ``drift``, ``alpha``, ``beta``, ``shift``, ``ratio`` and the optima ``opt_k_min``/``opt_k_max``
    of :func:`~mufno_core.analysis.optima.hparam_shift`), columns named in words, and a plain 0…n
    index hidden by the caller (``.style.hide()`` or ``to_string(index=False)``)."""
    out = df.copy()
    joins = {"lr_interval": ("lr_opt", "lr_low", "lr_high", False),
             "drift_interval": ("drift", "drift_low", "drift_high", False),
             "alpha_interval": ("alpha", "alpha_low", "alpha_high", True),
             "beta_interval": ("beta", "beta_low", "beta_high", True),
             "opt_k_min_interval": ("opt_k_min", "opt_low_k_min", "opt_high_k_min", False),
             "opt_k_max_interval": ("opt_k_max", "opt_low_k_max", "opt_high_k_max", False),
             "shift_interval": ("shift", "shift_low", "shift_high", True),
             "ratio_interval": ("ratio", "ratio_low", "ratio_high", False)}
    for name, (v, lo, hi, signed) in joins.items():
        if {v, lo, hi} <= set(out.columns):
            out[name] = [interval(a, b, c, digits, signed) for a, b, c in zip(out[v], out[lo], out[hi])]
    if columns is not None:
        out = out[list(columns)]
    for column in out.columns:
        if column == "parametrization":
            out[column] = out[column].map(display_name)
        elif column == "ks":
            out[column] = out[column].map(lambda ks: ", ".join(str(k) for k in ks))
        elif out[column].dtype == bool:
            out[column] = out[column].map(lambda b: "yes" if b else "no")
        elif pd.api.types.is_integer_dtype(out[column]):
            out[column] = out[column].astype(str)
        elif pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].map(lambda x: sig(x, digits))
    out = out.rename(columns={**COLUMN_NAMES, **(names or {})})
    return out.reset_index(drop=True)


def show(df: pd.DataFrame):
    """A Styler without the index, for a notebook cell's last line."""
    return df.style.hide(axis="index")


def settings_table(settings: Mapping[str, Any]) -> pd.DataFrame:
    """A preset's settings (a mapping, values may be lists or mappings) as a two-column table."""
    def words(value: Any) -> str:
        if isinstance(value, Mapping):
            return "; ".join(f"{k}: {words(v)}" for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return ", ".join(words(v) for v in value)
        return str(value)

    return pd.DataFrame({"setting": [str(k) for k in settings],
                         "value": [words(v) for v in settings.values()]})
