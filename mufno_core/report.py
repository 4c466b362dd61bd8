"""The paper's reported results, and our measurements set beside them with a plain verdict.

The numbers in :data:`PAPER` are the paper's (arXiv 2506.19396, as collected in the project's
REFERENCE.md); they are labelled as such wherever they appear. Everything measured comes in as a
DataFrame from :mod:`mufno_core.sweep.analysis`; the verdicts are computed from its intervals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

PAPER: dict[str, dict[str, str]] = {
    "burgers_lr": {
        "setup": "FNO-1D, width 64, 4 layers, K 3 → 512",
        "sp": "optimal LR shifts with K",
        "mup": "optimal LR stable across K",
    },
    "darcy_lr": {
        "setup": "FNO-2D, width 64, 4 layers, K 3 → 24, Darcy at 85²",
        "sp": "optimal LR shifts clearly with K",
        "mup": "optimal LR stable across K",
    },
    "navier_stokes_lr": {
        "setup": "FNO-3D, width 64, 4 layers, K 3 → 24 (1.7M → 906M parameters)",
        "sp": "1.8e-3 at K=3 → 7.4e-4 at K=24: drift ≈ 0.41 (2.4× down)",
        "mup": "≈ 4.2e-3 at every K: drift ≈ 1",
    },
    "pino_darcy": {
        "setup": "PINO (data + physics loss) on Darcy, FNO-2D",
        "sp": "not reported",
        "mup": "best LR stable at ≈ 5.6e-3",
    },
    "darcy_batch_size": {
        "setup": "FNO-2D on Darcy",
        "sp": "larger models want larger batches",
        "mup": "best batch size 20 at every K",
    },
    "darcy_beta2": {
        "setup": "FNO-2D on Darcy",
        "sp": "best β2 varies with K",
        "mup": "best β2 = 0.98 at every K",
    },
}

PAPER_END_TO_END = pd.DataFrame(
    {"Darcy rel. L2": ["1.25%", "1.22%"], "Darcy tuning cost": ["1×", "1.38×"],
     "NS rel. L2": ["5.69%", "5.34%"], "NS tuning cost": ["1×", "0.30×"]},
    index=pd.Index(["direct tuning on the large model", "μTransfer-FNO"], name="method (paper)"),
)
"""The paper's end-to-end table (Darcy and Navier–Stokes)."""

NAMES = {"sp": "SP", "mup": "μP"}

PAPER_LR_NUMBERS: dict[str, dict[str, tuple[int, int, float, float]]] = {
    "navier_stokes_lr": {"sp": (3, 24, 1.8e-3, 7.4e-4)},
}
"""The paper's reported optima (K_min, K_max, lr*(K_min), lr*(K_max)) where it gives numbers; its
μP optima are reported stable (α = 0) for Burgers, Darcy, Navier–Stokes and PINO."""


def paper_alpha(experiment: str, parametrization: str, dim: int = 3) -> float:
    """The exponent α implied by the paper's numbers: log(lr*₁/lr*₀) / log(log K₁ / log K₀)
    (d cancels); 0 where it reports μP stable; NaN where it gives no number."""
    numbers = PAPER_LR_NUMBERS.get(experiment, {}).get(parametrization)
    if numbers is not None:
        k0, k1, lr0, lr1 = numbers
        return math.log(lr1 / lr0) / math.log(math.log(k1) / math.log(k0))
    if parametrization == "mup" and experiment in PAPER:
        return 0.0
    return math.nan


def exponent_sentence(row) -> str:
    """One parametrization's exponent in words, from its 95% interval."""
    name = NAMES.get(row.parametrization, row.parametrization)
    interval = f"α = {row.alpha:+.2f} [{row.alpha_low:+.2f}, {row.alpha_high:+.2f}]"
    if row.edge:
        return f"{name} {interval}, but an optimum sits on the LR grid's edge: not located"
    if row.excludes_zero:
        moves = f"{name}'s optimum moves {'down' if row.alpha < 0 else 'up'} with K ({interval})"
    else:
        moves = f"{name}'s optimum does not move resolvably ({interval})"
    if row.parametrization == "sp":
        slope = "steeper" if row.alpha < -0.5 else "shallower"
        law = ("consistent with the √log K law's −½" if not row.excludes_half
               else f"the interval excludes the √log K law's −½ ({slope})")
        return f"{moves}; {law}"
    return moves


def sp_and_mup(frame: pd.DataFrame) -> tuple | None:
    """The SP and the μP row of a one-row-per-parametrization frame (None if one is missing)."""
    by = {row.parametrization: row for row in frame.itertuples()}
    return (by["sp"], by["mup"]) if {"sp", "mup"} <= by.keys() else None


def exponent_verdict(exponent: pd.DataFrame, drift: pd.DataFrame | None = None) -> str:
    """A verdict on μTransfer of the LR from the exponents' intervals (all K), with the drift's."""
    pair = sp_and_mup(exponent)
    if pair is None:
        return "Both SP and μP are needed for a verdict."
    sp, mup = pair
    if sp.edge or mup.edge:
        return ("No verdict: an optimum lies on the edge of the LR grid, so an exponent is not "
                "located. Widen the LR grid (parameter `lrs`).")
    details = f"{exponent_sentence(sp)}. {exponent_sentence(mup)}."
    sp_moves_down = sp.excludes_zero and sp.alpha < 0
    if sp_moves_down and not mup.excludes_zero:
        head = "Reproduced: under SP the optimal LR moves down as K grows, under μP it stays put."
    elif not sp.excludes_zero and not mup.excludes_zero:
        head = ("Not resolved: neither optimum moves beyond its uncertainty, so this run cannot "
                "tell SP from μP.")
    elif sp_moves_down and mup.excludes_zero and mup.alpha > 0:
        head = ("Partly reproduced: SP's optimal LR moves down as K grows, but μP's moves up — "
                "μP's 1/√log K correction overshoots at this scale.")
    elif sp_moves_down and mup.excludes_zero:
        smaller = "less than" if abs(mup.alpha) < abs(sp.alpha) else "as much as"
        head = (f"Partly reproduced: both optima move down as K grows, μP's {smaller} SP's "
                f"(|α| {abs(mup.alpha):.2f} against {abs(sp.alpha):.2f}).")
    elif mup.excludes_zero and mup.alpha > 0:
        head = ("Not reproduced at this scale: SP's optimum does not move down resolvably, while "
                "μP's moves up — μP's 1/√log K correction is larger than what this model needs.")
    else:
        head = "Not reproduced: the optima do not move the way the theory says."
    return f"{head} {details}"


def drift_sentence(row: pd.Series) -> str:
    """One parametrization's LR drift in words, from its 95% interval."""
    interval = f"{row.drift:.2f}× (95% CI {row.drift_low:.2f}–{row.drift_high:.2f})"
    span = f"K {row.k_min} → {row.k_max}"
    if row.edge:
        return f"{interval} over {span}, but an optimum sits on the edge of the LR grid: not located"
    if not row.moves:
        return f"{interval} over {span}: consistent with no drift"
    direction = "down" if row.drift < 1 else "up"
    return f"{interval} over {span}: the optimum moves {direction}"


def lr_comparison(experiment: str, drift: pd.DataFrame,
                  exponent: pd.DataFrame | None = None) -> pd.DataFrame:
    """The table "what we measured / what the paper reports" for an LR-transfer experiment
    (with ``exponent``, from :func:`~mufno_core.sweep.analysis.lr_exponent`, its α too)."""
    paper = PAPER[experiment]
    alphas = {} if exponent is None else {r.parametrization: r for r in exponent.itertuples()}
    rows = []
    for row in drift.sort_values("parametrization", ascending=False).itertuples():
        entry = {
            "parametrization": NAMES[row.parametrization],
            "we measured: lr*(K_min) → lr*(K_max)": f"{row.lr_opt_k_min:.2g} → {row.lr_opt_k_max:.2g}",
            "we measured: drift": drift_sentence(row),
        }
        if row.parametrization in alphas:
            a = alphas[row.parametrization]
            entry["we measured: α over all K"] = (f"{a.alpha:+.2f} [{a.alpha_low:+.2f}, "
                                                  f"{a.alpha_high:+.2f}]")
            entry["theory α"] = f"{a.theory:+.1f}"
            implied = paper_alpha(experiment, row.parametrization)
            entry["the paper's α"] = "not reported" if math.isnan(implied) else f"{implied:+.2f}"
        entry["the paper reports"] = paper[row.parametrization]
        rows.append(entry)
    return pd.DataFrame(rows).set_index("parametrization")


def lr_verdict(drift: pd.DataFrame) -> str:
    """A plain verdict on μTransfer of the LR, from the drift intervals of SP and μP."""
    pair = sp_and_mup(drift)
    if pair is None:
        return "Both SP and μP are needed for a verdict."
    sp, mup = pair
    if sp.edge or mup.edge:
        return ("No verdict: an optimum lies on the edge of the LR grid, so at least one drift is "
                "not located. Widen the LR grid (parameter `lrs`).")
    closer = abs(math.log(mup.drift)) < abs(math.log(sp.drift))
    if sp.moves and not mup.moves:
        return ("Reproduced: under SP the optimal LR moves with K, under μP it stays put within "
                "its uncertainty.")
    if not sp.moves and not mup.moves:
        return ("Not resolved at this scale: neither optimum moves beyond its uncertainty, so this "
                "run cannot tell SP from μP" + (" (μP's drift is the smaller)." if closer else "."))
    if sp.moves and mup.moves:
        return ("Partly reproduced: both optima move; μP's drift is "
                + ("smaller" if closer else "not smaller") + " than SP's.")
    return "Not reproduced: μP's optimum moves while SP's does not."


HPARAM_WORDS = {"batch_size": "batch size", "beta2": "Adam β2", "lr": "learning rate"}
HPARAM_GRIDS = {"batch_size": "batch_sizes", "beta2": "beta2s", "lr": "lrs"}
"""The words for a swept hyperparameter, and the grid parameter that widens it."""


def _hparam_value(value: float, hparam: str) -> str:
    return f"{value:.3f}" if hparam == "beta2" else f"{value:.3g}"


def shift_size(row, hparam: str) -> str:
    """The measured shift with its 95% interval: a factor for batch size and LR ("×1.9 [1.2, 3.0]"),
    decades of 1 − β2 for β2."""
    if hparam == "beta2":
        return (f"1 − β2 shifts {row.shift:+.2f} [{row.shift_low:+.2f}, {row.shift_high:+.2f}] "
                "decades")
    return f"×{row.ratio:.2f} [{row.ratio_low:.2f}, {row.ratio_high:.2f}]"


def shift_state(row) -> str:
    """"not located" (an optimum at K_min or K_max on the grid's edge), "moves" (the interval
    excludes 0), "stable" (it lies within ± one grid step of the axis, so it rules out a move of a
    whole grid step) or "not resolved" (it holds 0 only because it is wide)."""
    if row.edge:
        return "not located"
    if row.moves:
        return "moves"
    if -row.grid_step < row.shift_low and row.shift_high < row.grid_step:
        return "stable"
    return "not resolved"


_WHY_OPEN = {"not resolved": "interval holds 0 only because it is wider than one grid step",
             "not located": "optimum sits on the grid's edge (not located)"}


def grid_step_size(row, hparam: str) -> str:
    """One grid step of the axis in the units of :func:`shift_size`."""
    if hparam == "beta2":
        return f"{row.grid_step:.2f} decades of 1 − β2"
    return f"×{(2.0 if hparam == 'batch_size' else 10.0) ** row.grid_step:.2g}"


def shift_sentence(row, hparam: str) -> str:
    """One parametrization's shift of the best ``hparam`` from K_min to K_max, in words."""
    name = NAMES.get(row.parametrization, row.parametrization)
    word = HPARAM_WORDS.get(hparam, hparam)
    step = grid_step_size(row, hparam)
    state = shift_state(row)
    if state == "not located":
        tail = "not located (an optimum sits on the grid's edge)"
    elif state == "moves":
        direction = "up" if row.shift > 0 else "down"
        if hparam == "beta2":
            direction = "towards 1" if row.shift < 0 else "away from 1"
        tail = f"moves {direction}"
    elif state == "stable":
        tail = f"stays put (the interval is within one grid step, {step})"
    else:
        tail = f"not resolved (the interval holds 0 but reaches beyond one grid step, {step})"
    return (f"{name}'s best {word} {_hparam_value(row.opt_k_min, hparam)} → "
            f"{_hparam_value(row.opt_k_max, hparam)} over K {row.k_min} → {row.k_max}: "
            f"{shift_size(row, hparam)}, {tail}")


def hparam_comparison(experiment: str, optima: pd.DataFrame, hparam: str,
                      shift: pd.DataFrame | None = None) -> pd.DataFrame:
    """Best ``hparam`` per K and parametrization (the grid value, with its bootstrap frequency),
    beside the paper; with ``shift`` (:func:`~mufno_core.sweep.analysis.hparam_shift`) also the
    located optima at K_min and K_max and the shift between them, with their 95% intervals."""
    table = optima.assign(
        best=[f"{getattr(r, hparam + '_opt')} ({r.freq_opt:.0%} of bootstraps)"
              for r in optima.itertuples()],
        parametrization=optima["parametrization"].map(NAMES),
    ).pivot_table(index="modes", columns="parametrization", values="best", aggfunc="first")
    table = table.reindex(columns=["SP", "μP"])
    if shift is not None and len(shift):
        rows = {r.parametrization: r for r in shift.itertuples()}
        first = next(iter(rows.values()))
        span = f"K {first.k_min} → {first.k_max}"

        def located(r) -> str:
            ends = [f"{_hparam_value(getattr(r, f'opt_{e}'), hparam)} "
                    f"[{_hparam_value(getattr(r, f'opt_low_{e}'), hparam)}, "
                    f"{_hparam_value(getattr(r, f'opt_high_{e}'), hparam)}]" for e in ("k_min", "k_max")]
            return " → ".join(ends) + (" (grid edge)" if r.edge else "")

        table.loc[f"located optimum, {span} [95% CI]"] = [
            located(rows[p]) if p in rows else "" for p in ("sp", "mup")]
        table.loc[f"shift {span} [95% CI]"] = [
            f"{shift_size(rows[p], hparam)}: {shift_state(rows[p])}" if p in rows else ""
            for p in ("sp", "mup")]
    table.loc["the paper reports"] = [PAPER[experiment]["sp"], PAPER[experiment]["mup"]]
    return table


def hparam_verdict(shift: pd.DataFrame, hparam: str, details: bool = True) -> str:
    """Does the best ``hparam`` stay put across K under μP, and move under SP? From the shifts'
    95% intervals (:func:`~mufno_core.sweep.analysis.hparam_shift`), not from discrete picks.

    Each parametrization's shift "moves" (its interval excludes 0), is "stable" (its interval lies
    within ± one grid step of the axis), "not resolved" (its interval holds 0 but reaches past one
    grid step) or "not located" (an optimum on the grid's edge; said again at the end, with the
    grid parameter to widen). Reproduced: μP stable, SP moves. Stable under both: both stable.
    Not reproduced: μP moves. Otherwise not resolved. A loss that varies over the grid by less than
    twice the seed spread gets a caveat (``hparam`` barely matters at this scale). ``details`` adds
    the measured shifts in words (:func:`shift_sentence`).
    """
    pair = sp_and_mup(shift)
    if pair is None:
        return "Both SP and μP are needed for a verdict."
    sp, mup = pair
    word = HPARAM_WORDS.get(hparam, hparam)
    state = {"sp": shift_state(sp), "mup": shift_state(mup)}
    if state["mup"] == "moves":
        head = f"Not reproduced: the best {word} moves with K under μP" + {
            "moves": " and under SP.", "stable": " but not under SP."}.get(
            state["sp"], f"; SP's {_WHY_OPEN.get(state['sp'])}.")
    elif state["mup"] == "stable":
        head = {"moves": f"Reproduced: under μP the best {word} stays put across K, under SP it "
                         "moves.",
                "stable": f"Stable under both: the best {word} does not depend on K here, SP or μP.",
                }.get(state["sp"], f"Not resolved for SP: under μP the best {word} stays put across "
                                   f"K; SP's {_WHY_OPEN.get(state['sp'])}.")
    elif state["sp"] == "moves":
        head = (f"Not resolved for μP: under SP the best {word} moves with K; μP's "
                f"{_WHY_OPEN[state['mup']]}, so it cannot be called stable.")
    else:
        if state["sp"] == state["mup"]:
            why = "SP's and μP's " + {"not resolved": "intervals hold 0 only because they are wider "
                                                      "than one grid step",
                                      "not located": "optima sit on the grid's edge (not located)"
                                      }[state["mup"]]
        else:
            why = f"μP's {_WHY_OPEN[state['mup']]}" + (
                "" if state["sp"] == "stable" else f", and SP's {_WHY_OPEN[state['sp']]}")
        head = (f"Not resolved: {why}, so this run cannot say whether the best {word} moves with "
                "K." if "not located" in state.values() else
                f"Not resolved: no optimum is shown to move, but {why}, so this run cannot call the "
                f"best {word} stable.")
    text = head
    if details:
        text += f" {shift_sentence(sp, hparam)}. {shift_sentence(mup, hparam)}."
    flat = [r for r in (sp, mup) if r.loss_range < 2 * r.seed_sd]
    if flat:
        names = " and ".join(NAMES[r.parametrization] for r in flat)
        ranges = ", ".join(f"{NAMES[r.parametrization]} {r.loss_range:.3f} against a seed spread "
                           f"of {r.seed_sd:.3f}" for r in flat)
        text += (f" At this scale the {word} barely matters for {names}: the seed-mean log10 loss "
                 f"varies over the grid by less than twice the seed spread ({ranges}).")
    edges = [NAMES[r.parametrization] for r in (sp, mup) if r.edge]
    if edges:
        text += (f" Widen the {word} grid (parameter `{HPARAM_GRIDS.get(hparam, hparam)}`): "
                 f"{' and '.join(edges)} {'has an optimum' if len(edges) == 1 else 'have optima'} on "
                 "its edge, which the grid does not locate: the optimum lies beyond the edge, or the "
                 "loss is flat there and no grid locates it (the figure tells which).")
    return text


def end_to_end_comparison(tables: dict[str, pd.DataFrame], preset: str) -> pd.DataFrame:
    """Our end-to-end table in the paper's layout (``tables``: PDE label → ``end_to_end`` result)."""
    columns: dict[str, list[str]] = {}
    for label, table in tables.items():
        columns[f"{label} rel. L2"] = [f"{m:.2%}" for m in table["test_rel_l2_mean"]]
        columns[f"{label} tuning cost (FLOPs)"] = [f"{c:.2f}×" for c in table["cost_flops_vs_direct"]]
    index = pd.Index(list(PAPER_END_TO_END.index), name=f"method (ours, {preset})")
    return pd.DataFrame(columns, index=index)


def end_to_end_verdict(table: pd.DataFrame) -> str:
    """Is μTransfer's model as good as direct tuning's (within the seed spread), and at what cost?"""
    direct, transfer = table.iloc[0], table.iloc[1]
    gap = transfer["test_rel_l2_mean"] - direct["test_rel_l2_mean"]
    spread = max(direct["test_rel_l2_std"], transfer["test_rel_l2_std"])
    if abs(gap) <= spread:
        quality = "as good as direct tuning (within the seed spread)"
    else:
        quality = ("better than" if gap < 0 else "worse than") + " direct tuning beyond the seed spread"
    return (f"μTransfer's model is {quality} ({transfer['test_rel_l2_mean']:.2%} vs "
            f"{direct['test_rel_l2_mean']:.2%}), at {transfer['cost_flops_vs_direct']:.2f}× the FLOPs "
            f"and {transfer['cost_wall_vs_direct']:.2f}× the wall time of direct tuning.")


def grid_results(results_dir: str, experiment: str, preset: str,
                 overrides: Mapping[str, Any] | None = None) -> pd.DataFrame | None:
    """The measured trials of ``experiment``'s grid at ``preset`` in the store (None if absent).

    Only the trials of the grid count (``overrides`` as passed to :func:`mufno_core.sweep.grid`),
    so that trials of an earlier or another grid left in the store cannot change the answer; a
    warning says how many were left out. Error trials are not measurements and are dropped.
    """
    import warnings
    from pathlib import Path

    from mufno_core.sweep import grid, load_results
    from mufno_core.sweep.experiments import in_grid

    folder = Path(results_dir) / experiment
    if not folder.is_dir():
        return None
    df = load_results(folder)
    df = df[(df["preset"] == preset) & (df["status"].fillna("done") != "error")]
    inside = in_grid(df, grid(experiment, preset, **(overrides or {})))
    outside = int((~inside).sum())
    if outside:
        warnings.warn(f"{experiment}: {outside} stored trial(s) of preset {preset!r} are not in "
                      f"its grid and were left out", stacklevel=3)
    df = df[inside]
    if df.empty or df["modes"].nunique() < 2:
        return None
    return df


def summarize_results(
    results_dir: str, preset: str, grids: Mapping[str, Mapping[str, Any]] | None = None
) -> pd.DataFrame:
    """One row per experiment found in the results store: what was measured, the verdict, and what
    the paper reports. Nothing is trained here; the chapters' own functions and settings compute
    every number, so the two agree (only the trials of each grid count, :func:`grid_results`).
    """
    from mufno_core.sweep import get_experiment, lr_drift
    from mufno_core.sweep.analysis import hparam_shift, lr_exponent

    rows = []
    for experiment in PAPER:
        df = grid_results(results_dir, experiment, preset, (grids or {}).get(experiment))
        if df is None:
            continue
        swept = get_experiment(experiment).swept
        if swept == "lr":
            drift = lr_drift(df)  # the chapters' settings, so that the numbers agree
            exponent = lr_exponent(df)
            measured = "; ".join(
                f"{NAMES[r.parametrization]} drift {drift_sentence(r)}"
                for r in drift.sort_values("parametrization", ascending=False).itertuples())
            measured += "; " + "; ".join(
                f"{NAMES[r.parametrization]} α = {r.alpha:+.2f} [{r.alpha_low:+.2f}, "
                f"{r.alpha_high:+.2f}]"
                for r in exponent.sort_values("parametrization", ascending=False).itertuples())
            verdict = exponent_verdict(exponent, drift).split(". ")[0].rstrip(".") + "."
        else:
            shift = hparam_shift(df, swept)  # the chapters' settings
            measured = "; ".join(
                shift_sentence(r, swept)
                for r in shift.sort_values("parametrization", ascending=False).itertuples())
            verdict = hparam_verdict(shift, swept, details=False)
        rows.append({"experiment": experiment, "trials": int((~df["mirrored"]).sum()),
                     "we measured": measured, "verdict": verdict,
                     "the paper reports": f"SP: {PAPER[experiment]['sp']}; μP: {PAPER[experiment]['mup']}"})
    return pd.DataFrame(rows, columns=["experiment", "trials", "we measured", "verdict",
                                       "the paper reports"])


def exponents_of_store(results_dir: str, preset: str,
                       grids: Mapping[str, Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """:func:`~mufno_core.sweep.analysis.lr_exponent` of every LR experiment in the store (the
    chapters' settings), with the paper's implied α (``paper``) beside the theory's."""
    from mufno_core.sweep import get_experiment
    from mufno_core.sweep.analysis import lr_exponent

    frames = []
    for experiment in PAPER:
        if get_experiment(experiment).swept != "lr":
            continue
        df = grid_results(results_dir, experiment, preset, (grids or {}).get(experiment))
        if df is None:
            continue
        fit = lr_exponent(df)
        fit["paper"] = [paper_alpha(experiment, p) for p in fit["parametrization"]]
        frames.append(fit)
    if not frames:
        return pd.DataFrame(columns=["experiment", "parametrization", "alpha", "alpha_low",
                                     "alpha_high", "alpha_se", "half_width", "theory", "ks",
                                     "n_seeds", "consistent", "excludes_zero", "excludes_half",
                                     "edge", "paper"])
    return pd.concat(frames, ignore_index=True)


EXPERIMENT_LABELS = {"burgers_lr": "Burgers (FNO-1D)", "darcy_lr": "Darcy (FNO-2D)",
                     "navier_stokes_lr": "Navier–Stokes (FNO-3D)", "pino_darcy": "PINO Darcy (FNO-2D)"}


def plot_exponent_summary(exponents: pd.DataFrame, ax=None):
    """The book's answer at a glance: α of every LR experiment, SP and μP side by side with their
    95% intervals, the theory's values (−½ SP, 0 μP) as lines and the paper's as crosses."""
    import matplotlib.pyplot as plt

    experiments = [e for e in EXPERIMENT_LABELS if e in set(exponents["experiment"])]
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.2, 0.9 + 0.85 * len(experiments)), constrained_layout=True)
    else:
        fig = ax.figure
    colours = {"sp": "#c0392b", "mup": "#2471a3"}
    offsets = {"sp": 0.15, "mup": -0.15}
    labelled: set[str] = set()

    def label(text: str) -> str | None:
        if text in labelled:
            return None
        labelled.add(text)
        return text

    for y, experiment in enumerate(reversed(experiments)):
        for r in exponents[exponents["experiment"] == experiment].itertuples():
            yy = y + offsets[r.parametrization]
            ax.errorbar([r.alpha], [yy], xerr=[[r.alpha - r.alpha_low], [r.alpha_high - r.alpha]],
                        fmt="o", color=colours[r.parametrization], capsize=3, ms=6,
                        label=label(f"{NAMES[r.parametrization]} (measured, 95% CI)"))
            if not math.isnan(r.paper):
                ax.plot([r.paper], [yy], "x", color="black", ms=8, mew=1.8,
                        label=label("the paper's value"))
    ax.axvline(-0.5, color=colours["sp"], ls="--", lw=1, label="theory SP: −½")
    ax.axvline(0.0, color=colours["mup"], ls="--", lw=1, label="theory μP: 0")
    ax.set_yticks(range(len(experiments)), [EXPERIMENT_LABELS[e] for e in reversed(experiments)])
    ax.set_ylim(-0.6, len(experiments) - 0.4)
    ax.set_xlabel("exponent α of the optimal LR, η*(K) ∝ (log K)^α")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig
