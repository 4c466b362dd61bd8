"""Verdicts in words, from the intervals of :mod:`mufno_core.analysis.optima`: does the optimum move with K?

Every decision compares an interval with a threshold through :func:`~mufno_core.stats.compare`:
below, above, holds, or **borderline** when an end of the interval lies within the run-to-run
(round-off) variation of the threshold (:data:`ROUND_OFF_ALPHA`). A borderline decision is said as
such, with its measured margin, and a headline never depends on which side of the threshold a
borderline end fell, so it does not flip between CPUs. A verdict is a :class:`Verdict`: a headline,
the measured details, and notes (caveats); ``str(verdict)`` is the whole text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from mufno_core.axes import HparamAxis, display_name, hparam_axis
from mufno_core.stats import Comparison, compare

ROUND_OFF_ALPHA = 0.17
"""How far an exponent's interval ends move between runs that differ only by round-off, in α
units: the largest movement measured. The quick Burgers sweep, trained stacked (as the book does)
and again one trial at a time (the same arithmetic in another order, as on another CPU model),
gave SP α = −0.15 [−0.30, −0.00] against −0.24 [−0.47, −0.02] and μP +0.15 [+0.01, +0.28] against
+0.12 [−0.08, +0.33]: ends moved by 0.17, 0.02, 0.09 and 0.04 (and the LR drift's ends by up to
0.22 in ln, which :data:`ROUND_OFF_LOG_RATIO` matches). On an Intel Xeon the same stacked sweep
moved them by up to 0.05. Reproduce: ``mufno sweep burgers_lr --preset quick --executor process
--no-stack --results /tmp/one-by-one`` and compare ``lr_exponent`` of both stores. Every other
tolerance below follows from this one."""

QUICK_LOG_LOG_SPAN = math.log(math.log(64) / math.log(3))
"""ln(log K_max / log K_min) of the quick presets (Burgers K 3 → 64: 1.33; Darcy's 2 → 14: 1.34):
what turns a tolerance on α into one on the log of a K_min → K_max ratio."""

ROUND_OFF_LOG_RATIO = ROUND_OFF_ALPHA * QUICK_LOG_LOG_SPAN
"""The matching tolerance on ln of a ratio (an LR drift, a batch-size or 1 − β2 ratio): ≈ 0.23,
i.e. a ratio's interval end within ~25% of its threshold is borderline."""


@dataclass(frozen=True)
class Verdict:
    """``label`` ("Reproduced", "Borderline", …), a one-sentence ``headline`` (most start with the label),
    the measured ``details`` and ``notes`` (caveats, what to change)."""

    label: str
    headline: str
    details: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def text(self) -> str:
        """Headline, details and notes as one paragraph."""
        return " ".join([self.headline, *(f"{d}." for d in self.details), *self.notes])

    def __str__(self) -> str:
        return self.text()


def _verdict(label: str, rest: str, details: tuple[str, ...] = (),
             notes: tuple[str, ...] = ()) -> Verdict:
    """The verdict whose headline is "label: rest"."""
    return Verdict(label, f"{label}: {rest}", details, notes)


def sp_and_mup(frame: pd.DataFrame) -> tuple | None:
    """The SP and the μP row of a one-row-per-parametrization frame (None if one is missing)."""
    by = {row.parametrization: row for row in frame.itertuples()}
    return (by["sp"], by["mup"]) if {"sp", "mup"} <= by.keys() else None


NEED_BOTH = _verdict("No verdict", "both SP and μP are needed for a verdict.")


def _ks(ks) -> str:
    return ", ".join(str(k) for k in ks)


def _margin_words(c: Comparison, what: str, unit: str = "", scale: float = 1.0,
                  fmt: str = ".2f") -> str:
    """"its interval ends 0.00 beyond 0, inside the round-off tolerance ±0.17"."""
    where = "beyond" if c.margin > 0 else "inside"
    return (f"its interval ends {abs(c.margin) * scale:{fmt}}{unit} {where} {what}, within the "
            f"round-off tolerance ±{c.tolerance * scale:{fmt}}{unit}")


# --- the LR: exponent α and drift --------------------------------------------------------------------
def _not_located(row, subject: str, measured: str, what: str) -> str | None:
    """Why ``row``'s ``what`` (exponent, drift) is not located, or None when it is: every trial
    diverged at some K (``subject: …``), or an optimum sits on the LR grid's edge (``measured, …``)."""
    if getattr(row, "no_evidence", ()):
        return f"{subject}: every trial diverged at K = {_ks(row.no_evidence)}, so no {what}"
    if row.edge:
        return f"{measured}, but an optimum sits on the LR grid's edge: not located"
    return None


def alpha_side(row, threshold: float = 0.0) -> Comparison:
    """α's interval against ``threshold`` (0: no drift; −½: the √log K law)."""
    return compare(row.alpha_low, row.alpha_high, threshold, ROUND_OFF_ALPHA)


def exponent_sentence(row) -> str:
    """One parametrization's exponent in words, from its 95% interval."""
    name = display_name(row.parametrization)
    interval = f"α = {row.alpha:+.2f} [{row.alpha_low:+.2f}, {row.alpha_high:+.2f}]"
    unlocated = _not_located(row, name, f"{name} {interval}", "exponent")
    if unlocated:
        return unlocated
    zero = alpha_side(row)
    if zero.side == "borderline":
        moves = (f"{name}'s optimum tends {'down' if row.alpha < 0 else 'up'} with K ({interval}), "
                 f"but {_margin_words(zero, '0')}: borderline")
    elif zero.excludes:
        moves = f"{name}'s optimum moves {'down' if row.alpha < 0 else 'up'} with K ({interval})"
    else:
        moves = f"{name}'s optimum does not move resolvably ({interval})"
    if row.parametrization == "sp":
        half = alpha_side(row, -0.5)
        slope = "steeper" if row.alpha < -0.5 else "shallower"
        law = {"holds": "consistent with the √log K law's −½",
               "borderline": f"against the √log K law's −½ {_margin_words(half, '−½')}: "
                             "borderline"}.get(
            half.side, f"the interval excludes the √log K law's −½ ({slope})")
        return f"{moves}; {law}"
    return moves


def exponent_verdict(exponent: pd.DataFrame) -> Verdict:
    """A verdict on μTransfer of the LR from the exponents' intervals over all K.

    Reproduced: SP's α below 0, μP's holds 0. Partly reproduced: SP's below 0 and μP's clear of 0
    too. Not resolved: both hold 0. Not reproduced: otherwise. Borderline: an interval that ends
    within :data:`ROUND_OFF_ALPHA` of 0, whose side round-off could change; the headline then says
    which, not which side it fell on.
    """
    pair = sp_and_mup(exponent)
    if pair is None:
        return NEED_BOTH
    sp, mup = pair
    details = (exponent_sentence(sp), exponent_sentence(mup))
    empty = [r for r in pair if getattr(r, "no_evidence", ())]
    if empty:
        which = "; ".join(f"{display_name(r.parametrization)} at K = {_ks(r.no_evidence)}"
                          for r in empty)
        return _verdict("No verdict", f"every trial diverged for {which}, so those optima and the "
                        "exponent are not located. Lower the LR grid (parameter `lrs`).", details)
    if sp.edge or mup.edge:
        which = "; ".join(f"{display_name(r.parametrization)} at K = {_ks(r.edge_ks)}"
                          for r in pair if r.edge and getattr(r, "edge_ks", ()))
        return _verdict("No verdict", "an optimum lies on the edge of the LR grid"
                        + (f" ({which})" if which else "") + ", with no grid point beyond it, so "
                        "an exponent is not located. Widen the LR grid (parameter `lrs`).", details)
    side = {r.parametrization: alpha_side(r).side for r in pair}
    borderline = [display_name(p) for p in ("sp", "mup") if side[p] == "borderline"]
    if borderline:
        words = {"below": "moves down", "above": "moves up", "holds": "stays put"}
        others = [f"{display_name(p)}'s {words[side[p]]}" for p in ("sp", "mup")
                  if side[p] in words]
        if len(borderline) == 2:
            head = ("whether SP's and μP's optima move with K lies within round-off of the "
                    f"decision (their intervals end within ±{ROUND_OFF_ALPHA:.2f} of 0), so this run "
                    "decides neither.")
        else:
            head = (f"whether {borderline[0]}'s optimum moves with K lies within round-off of the "
                    f"decision (its interval ends within ±{ROUND_OFF_ALPHA:.2f} of 0), so this run "
                    f"does not decide it; {others[0]}.")
        return _verdict("Borderline", head, details)
    sp_down = side["sp"] == "below"
    mup_moves = side["mup"] != "holds"
    if sp_down and not mup_moves:
        label, head = "Reproduced", "under SP the optimal LR moves down as K grows, under μP it stays put."
    elif side["sp"] == "holds" and not mup_moves:
        label, head = "Not resolved", ("neither optimum moves beyond its uncertainty, so this run "
                                       "cannot tell SP from μP.")
    elif sp_down and side["mup"] == "above":
        label, head = "Partly reproduced", ("SP's optimal LR moves down as K grows, but μP's moves "
                                            "up — μP's 1/√log K correction overshoots at this scale.")
    elif sp_down:
        smaller = "less than" if abs(mup.alpha) < abs(sp.alpha) else "as much as"
        label, head = "Partly reproduced", (f"both optima move down as K grows, μP's {smaller} SP's "
                                            f"(|α| {abs(mup.alpha):.2f} against {abs(sp.alpha):.2f}).")
    elif side["mup"] == "above":
        label, head = "Not reproduced at this scale", (
            "SP's optimum does not move down resolvably, while μP's moves up — μP's 1/√log K "
            "correction is larger than what this model needs.")
    else:
        label, head = "Not reproduced", "the optima do not move the way the theory says."
    return _verdict(label, head, details)


def drift_side(row) -> Comparison:
    """The drift's interval against 1, on a log scale (tolerance :data:`ROUND_OFF_LOG_RATIO`)."""
    return compare(math.log(row.drift_low), math.log(row.drift_high), 0.0, ROUND_OFF_LOG_RATIO)


def drift_sentence(row) -> str:
    """One parametrization's LR drift in words, from its 95% interval."""
    interval = f"{row.drift:.2f}× (95% CI {row.drift_low:.2f}–{row.drift_high:.2f})"
    span = f"K {row.k_min} → {row.k_max}"
    unlocated = _not_located(row, f"over {span}", f"{interval} over {span}", "drift")
    if unlocated:
        return unlocated
    side = drift_side(row)
    if side.side == "borderline":
        return (f"{interval} over {span}: its interval ends {math.expm1(abs(side.margin)):.0%} "
                f"{'beyond' if side.margin > 0 else 'inside'} 1, within the round-off tolerance "
                f"±{math.expm1(side.tolerance):.0%}: borderline")
    if side.side == "holds":
        return f"{interval} over {span}: consistent with no drift"
    return f"{interval} over {span}: the optimum moves {'down' if row.drift < 1 else 'up'}"


# --- batch size and β2: the shift of the optimum -----------------------------------------------------
def shift_tolerance(axis: HparamAxis) -> float:
    """:data:`ROUND_OFF_LOG_RATIO` in the axis' units (octaves, decades)."""
    return ROUND_OFF_LOG_RATIO / math.log(axis.base)


def shift_size(row, hparam: str) -> str:
    """The measured shift with its 95% interval: a factor for batch size and LR ("×1.9 [1.2, 3.0]"),
    decades of 1 − β2 for β2."""
    axis = hparam_axis(hparam)
    if axis.towards_one:
        return (f"1 − β2 shifts {row.shift:+.2f} [{row.shift_low:+.2f}, {row.shift_high:+.2f}] "
                f"{axis.unit}")
    return f"×{row.ratio:.2f} [{row.ratio_low:.2f}, {row.ratio_high:.2f}]"


def shift_state(row, hparam: str) -> str:
    """"not located" (an optimum at K_min or K_max on the grid's edge, or every trial diverged),
    "moves" (the interval excludes 0), "stable" (it lies within ± one grid step of the axis, so it
    rules out a move of a whole grid step), "not resolved" (it holds 0 only because it is wide) or
    "borderline" (an end within round-off of 0 or of a grid step)."""
    if row.edge or getattr(row, "no_evidence", ()):
        return "not located"
    tolerance = shift_tolerance(hparam_axis(hparam))
    zero = compare(row.shift_low, row.shift_high, 0.0, tolerance)
    if zero.excludes:
        return "moves"
    steps = (compare(row.shift_low, row.shift_high, -row.grid_step, tolerance).side,
             compare(row.shift_low, row.shift_high, row.grid_step, tolerance).side)
    if zero.side == "borderline" or "borderline" in steps:
        return "borderline"
    return "stable" if steps == ("above", "below") else "not resolved"


_WHY_OPEN = {"not resolved": "interval holds 0 only because it is wider than one grid step",
             "not located": "optimum sits on the grid's edge (not located)",
             "borderline": "interval ends within round-off of 0 or of one grid step (borderline)"}


def grid_step_size(row, hparam: str) -> str:
    """One grid step of the axis in the units of :func:`shift_size`."""
    axis = hparam_axis(hparam)
    if axis.towards_one:
        return f"{row.grid_step:.2f} {axis.unit} of 1 − β2"
    return f"×{axis.base ** row.grid_step:.2g}"


def shift_sentence(row, hparam: str) -> str:
    """One parametrization's shift of the best ``hparam`` from K_min to K_max, in words."""
    axis = hparam_axis(hparam)
    name = display_name(row.parametrization)
    step = grid_step_size(row, hparam)
    state = shift_state(row, hparam)
    if state == "not located":
        tail = "not located (an optimum sits on the grid's edge)"
    elif state == "moves":
        direction = "up" if row.shift > 0 else "down"
        if axis.towards_one:
            direction = "towards 1" if row.shift < 0 else "away from 1"
        tail = f"moves {direction}"
    elif state == "stable":
        tail = f"stays put (the interval is within one grid step, {step})"
    elif state == "borderline":
        tail = (f"borderline (an end of the interval lies within round-off, "
                f"±{shift_tolerance(axis):.2f} {axis.unit}, of 0 or of one grid step, {step})")
    else:
        tail = f"not resolved (the interval holds 0 but reaches beyond one grid step, {step})"
    return (f"{name}'s best {axis.words} {axis.format(row.opt_k_min)} → "
            f"{axis.format(row.opt_k_max)} over K {row.k_min} → {row.k_max}: "
            f"{shift_size(row, hparam)}, {tail}")


def _shift_headline(state: dict[str, str], words: str) -> tuple[str, str]:
    """(label, the rest of the headline) from the two parametrizations' shift states."""
    if state["mup"] == "moves":
        return "Not reproduced", f"the best {words} moves with K under μP" + {
            "moves": " and under SP.", "stable": " but not under SP."}.get(
            state["sp"], f"; SP's {_WHY_OPEN.get(state['sp'])}.")
    if state["mup"] == "stable":
        if state["sp"] == "moves":
            return "Reproduced", f"under μP the best {words} stays put across K, under SP it moves."
        if state["sp"] == "stable":
            return "Stable under both", f"the best {words} does not depend on K here, SP or μP."
        return "Not resolved for SP", (f"under μP the best {words} stays put across K; SP's "
                                       f"{_WHY_OPEN.get(state['sp'])}.")
    if state["sp"] == "moves":
        return "Not resolved for μP", (f"under SP the best {words} moves with K; μP's "
                                       f"{_WHY_OPEN[state['mup']]}, so it cannot be called stable.")
    if state["sp"] == state["mup"]:
        why = "SP's and μP's " + {
            "not resolved": "intervals hold 0 only because they are wider than one grid step",
            "not located": "optima sit on the grid's edge (not located)",
            "borderline": "intervals end within round-off of 0 or of one grid step (borderline)",
        }[state["mup"]]
    else:
        why = f"μP's {_WHY_OPEN[state['mup']]}" + (
            "" if state["sp"] == "stable" else f", and SP's {_WHY_OPEN[state['sp']]}")
    if "not located" in state.values():
        return "Not resolved", f"{why}, so this run cannot say whether the best {words} moves with K."
    return "Not resolved", (f"no optimum is shown to move, but {why}, so this run cannot call the "
                            f"best {words} stable.")


def hparam_verdict(shift: pd.DataFrame, hparam: str) -> Verdict:
    """Does the best ``hparam`` stay put across K under μP, and move under SP? From the shifts'
    95% intervals (:func:`~mufno_core.analysis.optima.hparam_shift`), not from discrete picks.

    Each parametrization's shift is in one :func:`shift_state`. Reproduced: μP stable, SP moves.
    Stable under both: both stable. Not reproduced: μP moves. Otherwise not resolved. Notes: a
    loss that varies over the grid by less than twice the seed spread (``hparam`` barely matters
    at this scale), and an optimum on the grid's edge (with the grid parameter to widen).
    """
    pair = sp_and_mup(shift)
    if pair is None:
        return NEED_BOTH
    sp, mup = pair
    axis = hparam_axis(hparam)
    state = {"sp": shift_state(sp, hparam), "mup": shift_state(mup, hparam)}
    details = (shift_sentence(sp, hparam), shift_sentence(mup, hparam))
    notes = []
    flat = [r for r in pair if r.loss_range < 2 * r.seed_sd]
    if flat:
        names = " and ".join(display_name(r.parametrization) for r in flat)
        ranges = ", ".join(f"{display_name(r.parametrization)} {r.loss_range:.3f} against a seed "
                           f"spread of {r.seed_sd:.3f}" for r in flat)
        notes.append(f"At this scale the {axis.words} barely matters for {names}: the seed-mean "
                     f"log10 loss varies over the grid by less than twice the seed spread "
                     f"({ranges}).")
    edges = [display_name(r.parametrization) for r in pair if r.edge]
    if edges:
        notes.append(f"Widen the {axis.words} grid (parameter `{axis.grid}`): {' and '.join(edges)} "
                     f"{'has an optimum' if len(edges) == 1 else 'have optima'} on its edge, which "
                     "the grid does not locate: the optimum lies beyond the edge, or the loss is "
                     "flat there and no grid locates it (the figure tells which).")
    return _verdict(*_shift_headline(state, axis.words), details, tuple(notes))


# --- end to end ------------------------------------------------------------------------------------
def end_to_end_verdict(table: pd.DataFrame) -> Verdict:
    """Is μTransfer's model as good as direct tuning's (within the seed spread), and at what cost?"""
    direct, transfer = table.iloc[0], table.iloc[1]
    gap = transfer["test_rel_l2_mean"] - direct["test_rel_l2_mean"]
    spread = max(direct["test_rel_l2_std"], transfer["test_rel_l2_std"])
    if abs(gap) <= spread:
        label, quality = "As good as direct tuning", "as good as direct tuning (within the seed spread)"
    elif gap < 0:
        label, quality = "Better than direct tuning", "better than direct tuning beyond the seed spread"
    else:
        label, quality = "Worse than direct tuning", "worse than direct tuning beyond the seed spread"
    return Verdict(label, (
        f"μTransfer's model is {quality} ({transfer['test_rel_l2_mean']:.2%} vs "
        f"{direct['test_rel_l2_mean']:.2%}), at {transfer['cost_flops_vs_direct']:.2f}× the FLOPs "
        f"and {transfer['cost_wall_vs_direct']:.2f}× the wall time of direct tuning."))
