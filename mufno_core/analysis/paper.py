"""The paper's reported results, and the tables that set our measurements beside them.

The numbers are the paper's (arXiv 2506.19396), declared with each experiment
(:attr:`~mufno_core.sweep.experiments.Experiment.paper`) and read here from the registry; they are
labelled as such wherever they appear.
What we measured comes in as DataFrames from :mod:`mufno_core.analysis.optima` (and
:mod:`mufno_core.analysis.end_to_end`); the words come from :mod:`mufno_core.analysis.verdicts`.
"""

from __future__ import annotations

import math

import pandas as pd

from mufno_core.analysis.verdicts import drift_sentence, shift_size, shift_state
from mufno_core.axes import PARAMETRIZATIONS, display_name, hparam_axis
from mufno_core.sweep.experiments import Registered

PAPER: Registered[dict[str, str]] = Registered(lambda exp: exp.paper.as_dict() if exp.paper else None)
"""What the paper reports for each of its experiments ("setup", "sp", "mup"), as registered
(:class:`~mufno_core.sweep.experiments.PaperReport`)."""

EXPERIMENT_LABELS: Registered[str] = Registered(lambda exp: exp.label if exp.is_lr_transfer else None)
"""The LR experiments by the names the book gives them (their registered ``label``)."""

PAPER_END_TO_END = pd.DataFrame(
    {"Darcy rel. L2": ["1.25%", "1.22%"], "Darcy tuning cost": ["1×", "1.38×"],
     "NS rel. L2": ["5.69%", "5.34%"], "NS tuning cost": ["1×", "0.30×"]},
    index=pd.Index(["direct tuning on the large model", "μTransfer-FNO"], name="method (paper)"),
)
"""The paper's end-to-end table (Darcy and Navier–Stokes)."""

PAPER_LR_NUMBERS: Registered[dict[str, tuple[int, int, float, float]]] = Registered(
    lambda exp: exp.paper.lr_optima if exp.paper and exp.paper.lr_optima else None)
"""The paper's reported optima (K_min, K_max, lr*(K_min), lr*(K_max)) where it gives numbers; its
μP optima are reported stable (α = 0) for Burgers, Darcy, Navier–Stokes and PINO."""


def paper_alpha(experiment: str, parametrization: str) -> float:
    """The exponent α implied by the paper's numbers: log(lr*₁/lr*₀) / log(log K₁ / log K₀)
    (d cancels); 0 where it reports μP stable; NaN where it gives no number."""
    numbers = PAPER_LR_NUMBERS.get(experiment, {}).get(parametrization)
    if numbers is not None:
        k0, k1, lr0, lr1 = numbers
        return math.log(lr1 / lr0) / math.log(math.log(k1) / math.log(k0))
    if parametrization == "mup" and experiment in PAPER:
        return 0.0
    return math.nan


def lr_comparison(experiment: str, drift: pd.DataFrame,
                  exponent: pd.DataFrame | None = None) -> pd.DataFrame:
    """The table "what we measured / what the paper reports" for an LR-transfer experiment
    (with ``exponent``, from :func:`~mufno_core.analysis.optima.lr_exponent`, its α too)."""
    paper = PAPER[experiment]
    alphas = {} if exponent is None else {r.parametrization: r for r in exponent.itertuples()}
    rows = []
    for row in drift.sort_values("parametrization", ascending=False).itertuples():
        entry = {
            "parametrization": display_name(row.parametrization),
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
        entry["the paper reports"] = paper.get(row.parametrization, "not reported")
        rows.append(entry)
    return pd.DataFrame(rows).set_index("parametrization")


def hparam_comparison(experiment: str, optima: pd.DataFrame, hparam: str,
                      shift: pd.DataFrame | None = None) -> pd.DataFrame:
    """Best ``hparam`` per K and parametrization (the grid value, with its bootstrap frequency,
    :func:`~mufno_core.analysis.optima.optimal_hparam_per_k`), beside the paper; with ``shift``
    (:func:`~mufno_core.analysis.optima.hparam_shift`) also the located optima at K_min and K_max and the
    shift between them, with their 95% intervals."""
    axis = hparam_axis(hparam)
    names = [p.name for p in PARAMETRIZATIONS.values()]
    table = optima.assign(
        best=[f"{getattr(r, hparam + '_opt')} ({r.freq_opt:.0%} of bootstraps)"
              for r in optima.itertuples()],
        parametrization=optima["parametrization"].map(display_name),
    ).pivot_table(index="modes", columns="parametrization", values="best", aggfunc="first")
    table = table.reindex(columns=names).astype(object)
    if shift is not None and len(shift):
        rows = {r.parametrization: r for r in shift.itertuples()}
        first = next(iter(rows.values()))
        span = f"K {first.k_min} → {first.k_max}"

        def located(r) -> str:
            ends = [f"{axis.format(getattr(r, f'opt_{e}'))} [{axis.format(getattr(r, f'opt_low_{e}'))}, "
                    f"{axis.format(getattr(r, f'opt_high_{e}'))}]" for e in ("k_min", "k_max")]
            return " → ".join(ends) + (" (grid edge)" if r.edge else "")

        table.loc[f"located optimum, {span} [95% CI]"] = [
            located(rows[p]) if p in rows else "" for p in PARAMETRIZATIONS]
        table.loc[f"shift {span} [95% CI]"] = [
            f"{shift_size(rows[p], hparam)}: {shift_state(rows[p], hparam)}" if p in rows else ""
            for p in PARAMETRIZATIONS]
    table.loc["the paper reports"] = [PAPER[experiment].get(p, "not reported") for p in PARAMETRIZATIONS]
    return table


def end_to_end_comparison(tables: dict[str, pd.DataFrame], preset: str) -> pd.DataFrame:
    """Our end-to-end table in the paper's layout (``tables``: PDE label → ``end_to_end`` result)."""
    columns: dict[str, list[str]] = {}
    for label, table in tables.items():
        columns[f"{label} rel. L2"] = [f"{m:.2%}" for m in table["test_rel_l2_mean"]]
        columns[f"{label} tuning cost (FLOPs)"] = [f"{c:.2f}×" for c in table["cost_flops_vs_direct"]]
    index = pd.Index(list(PAPER_END_TO_END.index), name=f"method (ours, {preset})")
    return pd.DataFrame(columns, index=index)
