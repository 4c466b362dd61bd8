"""A sweep chapter as library calls: run (or load) the sweep once, then one call per figure and
table (d2l's pattern: the code lives here, tested; the notebook holds the prose).

    ch = LRChapter.run("burgers_lr", "quick", "results/quick", executor="process", workers=2)
    ch.overview(); ch.curves(); ch.optima_table(); ch.exponent_figure(); ch.exponent_table()
    ch.drift_table(); ch.comparison(); ch.verdict()

    ch = HparamChapter.run("darcy_beta2", "quick", "results/quick")   # batch size or Adam β2
    ch.overview(); ch.curves(); ch.optima_table(); ch.shift_table(); ch.comparison(); ch.verdict()

Both share :class:`SweepChapter` (the run, the overview, the status line); what varies with the
swept hyperparameter comes from its axis (:func:`~mufno_core.axes.hparam_axis`). Every figure
carries its provenance line (:func:`~mufno_core.provenance.provenance_line`) at its foot and
every table as its caption.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mufno_core.analysis.optima import (
    THEORY_ALPHA,
    drift,
    exponent,
    locate,
    log_k_eff,
    optimal_hparam_per_k,
    per_k,
    shift,
)
from mufno_core.analysis.paper import hparam_comparison, lr_comparison
from mufno_core.analysis.verdicts import alpha_side, drift_side, exponent_verdict, hparam_verdict
from mufno_core.axes import PARAMETRIZATIONS, display_name, hparam_axis
from mufno_core.book.answers import Answer, lr_answer, shift_answer
from mufno_core.book.plots import plot_hparam_curves, plot_lr_curves
from mufno_core.book.tables import readable
from mufno_core.provenance import provenance_line
from mufno_core.sweep import run_sweep
from mufno_core.sweep.errors import error_line
from mufno_core.sweep.experiments import describe_preset, get_experiment
from mufno_core.sweep.store import finished_trials

SIDE_WORDS = {"below": "below", "above": "above", "holds": "holds it",
              "borderline": "borderline (within round-off)"}
"""An interval against a threshold (:func:`~mufno_core.stats.compare`), in a table's words."""

GRID_OVERRIDES = ("modes", "lrs", "seeds")
"""Notebook parameters that replace a preset's grid axis; empty means "the preset's"."""


def grid_overrides(kwargs: Mapping[str, Any]) -> dict[str, list]:
    """The non-empty grid axes among ``kwargs``. A value may be a list or, as papermill's ``-p modes
    "[2, 14]"`` passes it, a string holding one (YAML: "[2, 14]", "2, 14" or "2")."""
    out = {}
    for key in GRID_OVERRIDES:
        value = kwargs.get(key)
        if isinstance(value, str):
            value = yaml.safe_load(value if value.strip().startswith("[") else f"[{value}]")
            if not isinstance(value, list):
                raise ValueError(f"{key} must be a list such as [2, 14], got {kwargs[key]!r}")
        if value:
            out[key] = list(value)
    return out


def sweep_arguments(kwargs: Mapping[str, Any]) -> tuple[dict[str, list], dict[str, Any]]:
    """A chapter's keyword arguments as (:func:`grid_overrides`, the rest for
    :func:`~mufno_core.sweep.run_sweep`): empty grid axes mean "the preset's", and an empty
    ``scheduler`` means "start a local cluster"."""
    rest = {k: v for k, v in kwargs.items() if k not in GRID_OVERRIDES}
    if "scheduler" in rest:
        rest["scheduler"] = rest["scheduler"] or None
    return grid_overrides(kwargs), rest


def in_words(provenance: str) -> str:
    """A provenance line as a reader sees it: a code id with uncommitted changes said in words."""
    return provenance.replace("+dirty", " (with uncommitted changes)")


def with_caption(table: pd.DataFrame, caption: str):
    """A Styler of ``table`` without its index, captioned (:func:`in_words` of the provenance)."""
    return table.style.hide(axis="index").set_caption(in_words(caption))


def caption_html(text: str) -> str:
    """A figure's caption as readable HTML: one line per source ("; " separates them), in words
    (:func:`in_words`). The book's style sheet numbers the captions."""
    text = in_words(text)
    lines = [html.escape(part.strip()) for part in text.split("; ") if part.strip()]
    return f'<p class="mufno-caption">{"<br>".join(lines)}</p>'


def add_provenance(fig, text: str):
    """Caption ``fig`` with ``text`` (its provenance; kept as ``fig.mufno_caption``) and return it.

    In a notebook the figure is shown at once, as SVG (sharp at any screen width), with the caption
    under it as text (:func:`caption_html`), and closed so that it is not shown twice."""
    fig.mufno_caption = text
    try:
        from IPython import get_ipython
    except ImportError:  # IPython is the notebooks' dependency, not the library's
        return fig
    if get_ipython() is None:
        return fig
    import matplotlib.pyplot as plt
    from IPython.display import HTML, SVG, display

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    display(SVG(buffer.getvalue()), HTML(caption_html(text)))
    plt.close(fig)
    return fig


@dataclass
class SweepChapter:
    """The sweep of one experiment at one preset: its records, what it trained, how it went.
    Subclasses analyse the records once in ``__post_init__`` for all their figures and tables."""

    experiment: str
    preset: str
    df: pd.DataFrame
    overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.measured = finished_trials(self.df)
        self.source = provenance_line(self.df, self.preset)

    @classmethod
    def run(cls, experiment: str, preset: str, results_dir: str, **kwargs: Any):
        """Run (or resume) the sweep with :func:`~mufno_core.sweep.run_sweep` and analyse it
        (``kwargs`` as :func:`sweep_arguments` reads them)."""
        overrides, rest = sweep_arguments(kwargs)
        df = run_sweep(experiment, preset, results_dir, progress=False, **rest, **overrides)
        return cls(experiment, preset, df, overrides)

    def status(self) -> str:
        """Trials, diverged runs, training time, and the errors first if there are any."""
        real = self.df[~self.df["mirrored"]] if "mirrored" in self.df else self.df
        line = (f"{len(real)} trials, {int(real['diverged'].sum())} diverged, "
                f"{real['wall_time'].fillna(0).sum() / 60:.1f} core-minutes of training.")
        errors = error_line(self.df)
        return f"**{errors}**\n\n{line}" if errors else line

    def overview(self):
        """What the preset trains (K, LRs, seeds, width, budget), as a one-row table."""
        info = describe_preset(self.experiment, self.preset, **self.overrides)
        info["K"] = ", ".join(map(str, info["K"]))
        table = pd.DataFrame([{k: v for k, v in info.items() if k not in ("experiment", "preset")}])
        table = table.astype(str)
        return with_caption(table, f"{self.experiment}, preset {self.preset}")


@dataclass
class LRChapter(SweepChapter):
    """The sweep of one LR experiment at one preset, analysed once for all figures and tables."""

    def __post_init__(self) -> None:
        super().__post_init__()
        located = locate(self.measured)  # raises NoEvidence (one sentence) when there is nothing
        self.optima = per_k(located).rename(columns={"opt": "lr_opt", "opt_low": "lr_low",
                                                     "opt_high": "lr_high", "grid_opt": "lr_grid_opt"})
        self.drift = drift(located)
        self.exponent = exponent(located)

    # --- words -------------------------------------------------------------------------------
    def verdict(self) -> str:
        """The verdict from the exponent's and the drift's intervals (Markdown)."""
        return f"**Verdict ({self.preset} preset).** {exponent_verdict(self.exponent)}"

    def answer(self) -> Answer:
        """The verdict as the box the chapter opens with (:mod:`mufno_core.book.answers`)."""
        return lr_answer(self.experiment, self.exponent, self.preset)

    # --- tables ------------------------------------------------------------------------------
    def optima_table(self):
        columns = ["parametrization", "modes", "lr_interval", "lr_grid_opt", "loss_opt", "edge",
                   "n_seeds", "n_diverged"]
        return with_caption(readable(self.optima, columns), self.source)

    def drift_table(self):
        """The drift K_min → K_max with its interval, read against 1 as the verdict reads it (with
        the round-off tolerance: "borderline" where an end lies within it)."""
        drift = self.drift.assign(against=[SIDE_WORDS[drift_side(r).side] for r in self.drift.itertuples()])
        columns = ["parametrization", "k_min", "k_max", "drift_interval", "against", "theory_sp", "edge"]
        return with_caption(readable(drift, columns, names={"against": "against 1 (no drift)"}),
                            self.source)

    def exponent_table(self):
        """α with its interval, read against 0 and −½ as the verdict reads it (round-off tolerance)."""
        rows = list(self.exponent.itertuples())
        table = self.exponent.assign(
            zero=[SIDE_WORDS[alpha_side(r).side] for r in rows],
            half=[SIDE_WORDS[alpha_side(r, -0.5).side] for r in rows])
        columns = ["parametrization", "ks", "alpha_interval", "half_width", "theory", "zero", "half"]
        names = {"zero": "against 0 (no drift)", "half": "against −½ (√log law)"}
        return with_caption(readable(table, columns, names=names), self.source)

    def comparison(self):
        return with_caption(lr_comparison(self.experiment, self.drift, self.exponent)
                            .reset_index(), self.source)

    # --- figures -----------------------------------------------------------------------------
    def curves(self):
        """Loss against LR, one curve per K, SP beside μP, each optimum starred with its CI."""
        return add_provenance(plot_lr_curves(self.measured, optima=self.optima), self.source)

    def test_curves(self, title: str | None = None):
        """The test loss against LR, as :meth:`curves` (no stars: optima are located on the
        training loss)."""
        return add_provenance(plot_lr_curves(self.measured, "final_test_loss", title=title), self.source)

    def exponent_figure(self):
        """lr*(K) against log K_eff on log–log axes: a straight line of slope α is the fit; the
        dashed line is the theory's slope (−½ for SP, 0 for μP) through the fit's centre."""
        return add_provenance(plot_exponent(self.optima, self.exponent, self.measured), self.source)


@dataclass
class HparamChapter(SweepChapter):
    """The sweep of a batch-size or Adam β2 experiment at one preset (the LR held fixed), analysed
    once: the best grid value per K, and the optimum located between grid values at the smallest
    and largest K with its paired seed-bootstrap shift (what the verdict uses)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.hparam = get_experiment(self.experiment).swept
        self.axis = hparam_axis(self.hparam)
        self.grid_optima = optimal_hparam_per_k(self.measured, self.hparam)
        self.shift = shift(locate(self.measured, self.hparam))

    # --- words -------------------------------------------------------------------------------
    def verdict(self) -> str:
        """The verdict from the shifts' intervals (Markdown)."""
        return f"**Verdict ({self.preset} preset).** {hparam_verdict(self.shift, self.hparam)}"

    def answer(self) -> Answer:
        """The verdict as the box the chapter opens with (:mod:`mufno_core.book.answers`)."""
        return shift_answer(self.experiment, self.shift, self.hparam, self.preset)

    # --- tables ------------------------------------------------------------------------------
    def optima_table(self):
        """The best grid value per (parametrization, K), how often a seed bootstrap picks it, the
        loss there."""
        best = f"{self.hparam}_opt"
        table = self.grid_optima.assign(freq_opt=self.grid_optima["freq_opt"].map("{:.0%}".format))
        columns = ["parametrization", "modes", best, "freq_opt", "loss_opt", "n_seeds", "n_diverged"]
        names = {best: f"best {self.axis.words}", "freq_opt": "bootstrap picks it"}
        return with_caption(readable(table, columns, digits=3, names=names), self.source)

    def shift_table(self):
        """The located optimum at K min and K max [95% CI], their ratio (of 1 − β2 for β2) with
        its paired interval, whether an end sits on the grid's edge, and how much the loss varies
        over the grid against the seeds' spread (log10)."""
        s = self.shift
        table = s.assign(matters=[f"{a:.2f} / {b:.2f}" for a, b in zip(s["loss_range"], s["seed_sd"])])
        names = {"opt_k_min_interval": f"optimum at K = {s['k_min'].iloc[0]} [95% CI]",
                 "opt_k_max_interval": f"optimum at K = {s['k_max'].iloc[0]} [95% CI]",
                 "matters": "loss range / seed spread (log10)"}
        columns = ["parametrization", "opt_k_min_interval", "opt_k_max_interval", "ratio_interval",
                   "edge", "matters"]
        return with_caption(readable(table, columns, digits=3, names=names), self.source)

    def comparison(self):
        """Our best values and located optima beside the paper's."""
        table = hparam_comparison(self.experiment, self.grid_optima, self.hparam, self.shift)
        swept = {display_name(p) for p in self.measured["parametrization"].unique()}
        table = table[[c for c in table.columns if c in swept]].fillna("—")  # no column of nan
        return with_caption(table.reset_index().rename(columns={"modes": "K"}), self.source)

    # --- figures -----------------------------------------------------------------------------
    def curves(self):
        """Loss against the hyperparameter, one curve per K, SP beside μP, the located optimum
        starred with its interval."""
        fig = plot_hparam_curves(self.measured, self.hparam)
        fig.set_size_inches(6.8, 3.3)  # the page column's width: the legend stays legible
        return add_provenance(fig, self.source)

    # --- exercise checks ---------------------------------------------------------------------
    def check_per_trial(self, answer: Callable[[Any], Any], column: str) -> str:
        """Check a reader's ``answer(value of the hyperparameter)`` against ``column`` of every
        finished trial; AssertionError naming the first mismatch, else a "check passed" line."""
        finished = self.measured[~self.measured["diverged"].astype(bool)]
        for value, want in zip(finished[self.hparam], finished[column]):
            got = answer(value)
            assert got == want, f"{self.axis.words} {value}: you give {got}, the trial has {want}"
        values = sorted(finished[self.hparam].unique())
        return "check passed: " + ", ".join(f"{v:g} → {answer(v)}" for v in values)

    def check_grid_optima(self, best: Mapping[tuple[str, int], float]) -> str:
        """Check a reader's best grid value per (parametrization, K) against the chapter's."""
        expected = {(r.parametrization, int(r.modes)): getattr(r, f"{self.hparam}_opt")
                    for r in self.grid_optima.itertuples()}
        assert set(best) == set(expected), f"curves: yours {sorted(best)}, the chapter's {sorted(expected)}"
        for key, value in expected.items():
            assert np.isclose(best[key], value), f"{key}: you find {best[key]}, the chapter {value}"
        return "check passed: " + ", ".join(f"{display_name(p)} K={k}: {float(v):g}"
                                            for (p, k), v in sorted(best.items()))


def plot_exponent(optima: pd.DataFrame, exponent: pd.DataFrame, df: pd.DataFrame, ax=None):
    """Optimal LR per K with its 95% CI against log K_eff (log axes), the fitted power law of
    :func:`~mufno_core.analysis.optima.lr_exponent`, and the theory's slope (dashed)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    else:
        fig = ax.figure
    dims = df.drop_duplicates("modes").set_index("modes")
    for param in ("sp", "mup"):
        part = optima[optima["parametrization"] == param].sort_values("modes")
        fit = exponent[exponent["parametrization"] == param]
        if part.empty or fit.empty:
            continue
        fit = fit.iloc[0]
        x = np.array([log_k_eff(int(k), int(dims.loc[k].get("dim", 1)),
                                dims.loc[k].get("time_modes_max")) for k in part["modes"]])
        y = part["lr_opt"].to_numpy()
        colour = PARAMETRIZATIONS[param].colour
        shift = 1.02 if param == "mup" else 0.98  # keep the two sets of error bars apart
        ax.errorbar(x * shift, y, yerr=[y - part["lr_low"], part["lr_high"] - y], fmt="o",
                    color=colour, capsize=3, ms=5,
                    label=f"{display_name(param)}: α = {fit.alpha:+.2f} "
                          f"[{fit.alpha_low:+.2f}, {fit.alpha_high:+.2f}]")
        centre_x, centre_y = np.exp(np.mean(np.log(x))), np.exp(np.mean(np.log(y)))
        grid = np.geomspace(x.min(), x.max(), 50)
        ax.plot(grid, centre_y * (grid / centre_x) ** fit.alpha, "-", color=colour, lw=1.5)
        ax.plot(grid, centre_y * (grid / centre_x) ** THEORY_ALPHA[param], "--", color=colour,
                lw=1, alpha=0.6)
    ks = sorted(optima["modes"].unique())
    ticks = [log_k_eff(int(k), int(dims.loc[k].get("dim", 1)), dims.loc[k].get("time_modes_max"))
             for k in ks]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(ticks, [f"K={k}" for k in ks])
    ax.minorticks_off()
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2g}"))
    ax.set_xlabel("log K_eff = log(K₁⋯K_d)  (log axis)")
    ax.set_ylabel("optimal base LR η*")
    ax.legend(fontsize="small", title="fit (solid) · theory slope (dashed)", title_fontsize="small")
    return fig
