"""The chapter "Can a coordinate check tell you the transfer rule?" as library calls.

    ch = CalibratedChapter.run("quick", "results/quick", data_dir="data")
    ch.candidate_table(); ch.prediction_table(); ch.prediction_figure()
    ch.lr_figures(); ch.flatness_table(); ch.held_out_table(); ch.conclusion()

The check (:mod:`mufno_core.analysis.calibrate`) is read from ``RESULTS/calibration/`` or run; the sweeps
of SP and μP resume from the results store, the calibrated rule's from where its trials live (at the
quick preset the committed study ``results/study/calibrated_rule``); the held-out studies (Burgers
at width 32 and for 1000 steps, Navier–Stokes at width 16) are read from ``results/study`` (their
check is run or read beside them).
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mufno_core.analysis import calibrate
from mufno_core.analysis.optima import lr_exponent
from mufno_core.analysis.paper import EXPERIMENT_LABELS
from mufno_core.analysis.verdicts import alpha_side
from mufno_core.axes import PARAMETRIZATIONS, display_name
from mufno_core.book.chapter import LRChapter, add_provenance, sweep_arguments, with_caption
from mufno_core.book.tables import interval, minus, readable, signed_value
from mufno_core.provenance import provenance_line
from mufno_core.sweep import run_sweep
from mufno_core.sweep.experiments import CALIBRATED_EXPONENTS
from mufno_core.sweep.studies import STUDIES, calibrated_store, run_study

LABELS = ChainMap({"burgers_width32": "Burgers, width 32", "burgers_steps1000": "Burgers, 1000 steps",
                   "navier_stokes_width16": "Navier–Stokes, width 16"}, EXPERIMENT_LABELS)
"""The LR experiments' registered labels (:data:`~mufno_core.analysis.paper.EXPERIMENT_LABELS`),
then the held-out studies'."""
HELD_OUT_STUDIES = ("burgers_width32", "burgers_steps1000", "navier_stokes_width16")
"""Settings the measure never saw: the committed Burgers studies (SP only) and Navier–Stokes at
twice the quick width (SP and μP)."""
CHECK_KEYS = ("width", "depth", "steps", "n_train", "batch_size")
"""The study overrides that change the check's trial (its seeds, LRs and parametrizations are
the check's own)."""


def sweep_exponent(experiment: str, preset: str, betas: pd.DataFrame) -> float:
    """The calibrated rule's β for a sweep: the frozen one of
    :data:`~mufno_core.sweep.experiments.CALIBRATED_EXPONENTS` (so that trial ids stay stable),
    else the check's β_SP rounded to 2 decimals
    (:func:`~mufno_core.analysis.calibrate.calibrated_exponent`)."""
    frozen = CALIBRATED_EXPONENTS.get(experiment, {}).get(preset)
    return frozen if frozen is not None else calibrate.calibrated_exponent(betas, experiment)


def _study_check(name: str, preset: str, store: str, data_dir: str) -> pd.DataFrame:
    study = STUDIES[name]
    overrides = study.smoke_overrides if preset == "smoke" else study.overrides
    kept = {k: v for k, v in overrides.items() if k in CHECK_KEYS}
    seeds = calibrate.CHECK_SEEDS if preset != "smoke" else (0, 1)
    df = calibrate.stored_check(study.experiment, preset, store, data_dir, seeds=seeds, name=name,
                                **kept)
    return df.assign(experiment=name)


def three_rules(experiment: str, preset: str, results_dir: str, beta: float,
                **sweep: Any) -> LRChapter:
    """The sweep of ``experiment`` under SP and μP (run or resumed in ``results_dir``) and under
    the calibrated rule with exponent ``beta`` (run or resumed where its trials live,
    :func:`~mufno_core.sweep.studies.calibrated_store`: at the quick preset the committed study),
    analysed as one chapter (``sweep`` as :func:`~mufno_core.book.chapter.sweep_arguments` reads
    it, as :meth:`LRChapter.run` does)."""
    overrides, rest = sweep_arguments(sweep)
    main = run_sweep(experiment, preset, results_dir, progress=False,
                     parametrizations=("sp", "mup"), **rest, **overrides)
    cal = run_sweep(experiment, preset, str(calibrated_store(results_dir, experiment, preset)),
                    progress=False, parametrizations=("cal",), cal_exponent=beta, **rest, **overrides)
    return LRChapter(experiment, preset, pd.concat([main, cal], ignore_index=True), overrides)


@dataclass
class CalibratedChapter:
    """The check of the four LR experiments, their sweeps under three parametrizations, and the
    held-out Burgers studies, analysed once."""

    preset: str
    checks: pd.DataFrame
    chapters: dict[str, LRChapter]
    studies: dict[str, pd.DataFrame]
    study_checks: pd.DataFrame

    def __post_init__(self) -> None:
        self.betas = calibrate.update_exponents(self.checks)
        self.alphas = pd.concat([ch.exponent for ch in self.chapters.values()], ignore_index=True)
        self.predictions = calibrate.prediction_table(self.betas, self.alphas)
        self.flatness = calibrate.flatness_table(self.alphas)
        held = [lr_exponent(df).assign(experiment=name) for name, df in self.studies.items()]
        held_alphas = pd.concat(held, ignore_index=True) if held else pd.DataFrame()
        self.held_out = (calibrate.prediction_table(calibrate.update_exponents(self.study_checks),
                                                    held_alphas) if held else pd.DataFrame())
        self.predictions = not_located(self.predictions, self.alphas)
        self.held_out = not_located(self.held_out, held_alphas)

    @classmethod
    def run(cls, preset: str, results_dir: str, data_dir: str = "data",
            study_dir: str = "results/study", experiments: Sequence[str] = calibrate.LR_EXPERIMENTS,
            **sweep: Any) -> CalibratedChapter:
        """Run (or read) the checks, then run (or resume) each sweep under SP, μP and the
        calibrated rule (``sweep``: executor, workers, … of :meth:`LRChapter.run`)."""
        seeds = calibrate.CHECK_SEEDS if preset != "smoke" else (0, 1)
        checks = pd.concat([calibrate.stored_check(e, preset, results_dir, data_dir, seeds=seeds)
                            for e in experiments], ignore_index=True)
        betas = calibrate.update_exponents(checks)
        chapters = {e: three_rules(e, preset, results_dir, sweep_exponent(e, preset, betas),
                                   data_dir=data_dir, **sweep)
                    for e in experiments}
        study_store = study_dir if preset != "smoke" else results_dir
        studies = {name: run_study(name, study_store, preset="smoke" if preset == "smoke" else "quick",
                                   data_dir=data_dir, **sweep)
                   for name in HELD_OUT_STUDIES}
        study_checks = pd.concat([_study_check(n, preset, study_store, data_dir)
                                  for n in HELD_OUT_STUDIES], ignore_index=True)
        return cls(preset, checks, chapters, studies, study_checks)

    # --- tables ----------------------------------------------------------------------------------
    def check_source(self) -> str:
        seconds = self.checks.groupby("experiment")["seconds"].first()
        return (f"Source: coordinate check, {self.checks['seed'].nunique()} seeds × SP and μP × "
                f"{len(seconds)} experiments, {calibrate.CHECK_STEPS} Adam steps each, "
                f"{seconds.sum():.0f} s on one thread")

    def candidate_table(self):
        """β_SP and β_μP of every candidate measure, per experiment (the frozen one is marked)."""
        rows = []
        for measure in calibrate.CANDIDATE_MEASURES:
            fit = calibrate.update_exponents(self.checks, measure, n_boot=300)
            for r in fit.itertuples():
                rows.append({"experiment": LABELS.get(r.experiment, r.experiment),
                             "measure": measure.label() + (" (frozen)" if measure ==
                                                           calibrate.FROZEN_MEASURE else ""),
                             "parametrization": r.parametrization, "beta": r.beta,
                             "beta_low": r.beta_low, "beta_high": r.beta_high})
        table = pd.DataFrame(rows)
        table["beta_interval"] = readable(table)["exponent β [95% CI]"]
        wide = table.pivot_table(index=["experiment", "measure"], columns="parametrization",
                                 values="beta_interval", aggfunc="first").reset_index()
        wide.columns = [f"β {display_name(c)}" if c in PARAMETRIZATIONS else c for c in wide.columns]
        return with_caption(wide, self.check_source())

    def _prediction_rows(self, table: pd.DataFrame) -> pd.DataFrame:
        out = table.assign(experiment=table["experiment"].map(lambda e: LABELS.get(e, e)))
        shown = readable(out, ["experiment", "parametrization", "alpha_interval"])
        if "located" in out:
            column = "exponent α [95% CI]"
            shown[column] = shown[column].where(out["located"].to_numpy(), "not located")
        shown["predicted α = −β [95% CI]"] = [
            interval(a, lo, hi, signed=True) for a, lo, hi in
            zip(out["alpha_pred"], out["alpha_pred_low"], out["alpha_pred_high"])]
        shown["α − predicted [95% CI]"] = [
            interval(a, lo, hi, signed=True) for a, lo, hi in
            zip(out["difference"], out["difference_low"], out["difference_high"])]
        shown["verdict"] = out["verdict"].to_numpy()
        return shown.rename(columns={"exponent α [95% CI]": "measured α [95% CI]"})

    def prediction_table(self):
        """α_pred = −β beside the sweeps' α, for SP, μP and the calibrated rule."""
        table = self.predictions[self.predictions["parametrization"].isin(("sp", "mup"))]
        sources = "; ".join(ch.source for ch in self.chapters.values())
        return with_caption(self._prediction_rows(table), f"{self.check_source()}; {sources}")

    def held_out_table(self):
        """The same prediction on further settings (:data:`HELD_OUT_STUDIES`)."""
        if self.held_out.empty:
            return with_caption(pd.DataFrame(), "no held-out studies")
        sources = "; ".join(provenance_line(df) for df in self.studies.values())
        return with_caption(self._prediction_rows(self.held_out), sources)

    def flatness_table(self):
        """α of the calibrated rule, whether it holds 0, and |α_cal| − |α_μP| (paired by seed)."""
        f = self.flatness.assign(experiment=self.flatness["experiment"].map(lambda e: LABELS.get(e, e)))
        shown = pd.DataFrame({
            "experiment": f["experiment"],
            "β used (c(K) exponent)": [minus(f"{self.exponent_used(e):.2f}")
                                       for e in self.flatness["experiment"]],
            "α calibrated [95% CI]": [interval(a, lo, hi, signed=True) for a, lo, hi in
                                      zip(f["alpha_cal"], f["alpha_cal_low"], f["alpha_cal_high"])],
            "against 0": [zero_words(self._cal_row(e)) for e in self.flatness["experiment"]],
            "α μP": f["alpha_mup"].map(signed_value),
            "|α cal| − |α μP| [95% CI]": [interval(a, lo, hi, signed=True) for a, lo, hi in
                                          zip(f["flatter_by"], f["flatter_low"], f["flatter_high"])],
            "verdict": f["verdict"]})
        return with_caption(shown, "; ".join(ch.source for ch in self.chapters.values()))

    def _cal_row(self, experiment: str):
        return next(r for r in self.alphas.itertuples()
                    if r.experiment == experiment and r.parametrization == "cal")

    def exponent_used(self, experiment: str) -> float:
        """The β of the calibrated trials of ``experiment`` (read from their records)."""
        df = self.chapters[experiment].df
        return float(df.loc[df["parametrization"] == "cal", "cal_exponent"].iloc[0])

    # --- figures ---------------------------------------------------------------------------------
    def lr_figures(self) -> list:
        """One loss-vs-LR figure per experiment: SP, μP and the calibrated rule side by side, each
        K's optimum starred with its 95% interval."""
        figures = []
        for experiment, chapter in self.chapters.items():
            fig = chapter.curves()
            fig.suptitle(LABELS.get(experiment, experiment))
            figures.append(fig)
        return figures

    def prediction_figure(self, ax=None):
        """Measured α against predicted α = −β, with both intervals; on the diagonal the check
        predicts the sweep."""
        import matplotlib.pyplot as plt

        table = pd.concat([self.predictions, self.held_out], ignore_index=True)
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.0, 4.6), constrained_layout=True)
        else:
            fig = ax.figure
        markers = {e: m for e, m in zip(LABELS, "osD^vPX")}
        for r in table.itertuples():
            colour = PARAMETRIZATIONS[r.parametrization].colour
            ax.errorbar([r.alpha_pred], [r.alpha],
                        xerr=[[r.alpha_pred - r.alpha_pred_low], [r.alpha_pred_high - r.alpha_pred]],
                        yerr=[[r.alpha - r.alpha_low], [r.alpha_high - r.alpha]],
                        fmt=markers.get(r.experiment, "o"), color=colour, ms=6, capsize=2,
                        label=f"{LABELS.get(r.experiment, r.experiment)}, {display_name(r.parametrization)}")
        lo = min(table["alpha_low"].min(), table["alpha_pred_low"].min(), -0.6)
        hi = max(table["alpha_high"].max(), table["alpha_pred_high"].max(), 0.6)
        ax.plot([lo, hi], [lo, hi], color="0.4", ls="--", lw=1)
        ax.set_xlabel("predicted α = −β (coordinate check)")
        ax.set_ylabel("measured α (sweep)")
        ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return add_provenance(fig, self.check_source())

    # --- words -----------------------------------------------------------------------------------
    def conclusion(self) -> str:
        """What is and what is not resolved, computed from the intervals (Markdown bullets)."""
        lines = []
        for param in ("sp", "mup"):
            part = self.predictions[self.predictions["parametrization"] == param]
            lines.append(f"* **{display_name(param)}: the check predicts α** in "
                         + _count(part, "predicts") + ", does not in " + _count(part, "does not")
                         + ", cannot tell in " + _count(part, "cannot tell") + ".")
        if not self.held_out.empty:
            lines.append("* **Further settings** (the studies of the held-out table): " + "; ".join(
                f"{LABELS.get(r.experiment, r.experiment)}, {display_name(r.parametrization)}: "
                f"predicted {signed_value(r.alpha_pred)}, measured "
                + (f"{interval(r.alpha, r.alpha_low, r.alpha_high, signed=True)}: {r.verdict}"
                   if getattr(r, "located", True) else NOT_LOCATED)
                for r in self.held_out.itertuples()) + ".")
        for r in self.flatness.itertuples():
            zero = zero_words(self._cal_row(r.experiment))
            lines.append(
                f"* **{LABELS.get(r.experiment, r.experiment)}, calibrated rule** (β = "
                f"{minus(f'{self.exponent_used(r.experiment):.2f}')}): α = "
                f"{interval(r.alpha_cal, r.alpha_cal_low, r.alpha_cal_high, signed=True)} ({zero}); "
                f"against μP (α = {signed_value(r.alpha_mup)}) |α| changes by "
                f"{interval(r.flatter_by, r.flatter_low, r.flatter_high, signed=True)}: {r.verdict}.")
        return "\n".join(lines)


NOT_LOCATED = "not located (an optimum on the LR grid's edge)"


def not_located(predictions: pd.DataFrame, alphas: pd.DataFrame) -> pd.DataFrame:
    """``predictions`` with the verdict "not located" where the sweep's α rests on an optimum on the
    LR grid's edge (``alphas``' ``edge``): such an α is no measurement to compare a prediction with."""
    if predictions.empty or "edge" not in alphas:
        return predictions
    edges = {(r.experiment, r.parametrization) for r in alphas.itertuples() if r.edge}
    located = [(e, p) not in edges for e, p in zip(predictions["experiment"], predictions["parametrization"])]
    return predictions.assign(verdict=predictions["verdict"].where(located, NOT_LOCATED),
                              located=located)


def zero_words(row) -> str:
    """Whether an exponent's interval holds 0, with the round-off tolerance: "holds 0", "excludes 0"
    or "borderline" (an end within round-off of 0)."""
    side = alpha_side(row).side
    return {"holds": "holds 0", "borderline": "borderline: an end lies within round-off of 0"}.get(
        side, "excludes 0")


def _count(part: pd.DataFrame, verdict: str) -> str:
    names = [LABELS.get(e, e) for e in part.loc[part["verdict"] == verdict, "experiment"]]
    return f"{len(names)} of {len(part)}" + (f" ({', '.join(names)})" if names else "")

