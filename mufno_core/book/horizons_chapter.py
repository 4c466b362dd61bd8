"""The chapter "Does the transfer hold after the first hundred steps?" as library calls.

    ch = HorizonsChapter.run("quick", "results/study")
    ch.design_table(); ch.alpha_figure(); ch.verdict_table("navier_stokes_lr")
    ch.trend_table(); ch.weight_decay_table(); ch.lr_figure("navier_stokes_lr"); ch.conclusion()

The horizon studies of :mod:`mufno_core.sweep.studies` (those whose records live in the store's
``horizons/`` folder) are read, every trial at every step it logged (:mod:`mufno_core.analysis.horizons`);
α per horizon comes from the one locator, so an optimum on the LR grid's edge is "not located" at
that horizon. At the quick preset the committed records are read and nothing is trained (a missing
trial is counted and named with the command that trains it); at smoke the toy-size studies are run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mufno_core.analysis import horizons
from mufno_core.analysis.optima import DEFAULT_METRIC
from mufno_core.analysis.paper import EXPERIMENT_LABELS
from mufno_core.axes import PARAMETRIZATIONS
from mufno_core.book.chapter import add_provenance, with_caption
from mufno_core.book.plots import plot_lr_curves
from mufno_core.book.tables import interval, minus
from mufno_core.provenance import provenance_line
from mufno_core.sweep.experiments import grid, grid_ids
from mufno_core.sweep.studies import STUDIES, Study, run_study

STORE = "horizons"
"""The studies' subfolder that holds the horizon studies (:attr:`~mufno_core.sweep.studies.Study.store`)."""

WEIGHT_DECAY_COLOURS = ("#1e8449", "#b9770e", "#7d3c98")


def horizon_studies(experiment: str | None = None) -> list[Study]:
    """The horizon studies (of ``experiment``), in :data:`~mufno_core.sweep.studies.STUDIES` order."""
    return [s for s in STUDIES.values() if s.store == STORE
            and (experiment is None or s.experiment == experiment)]


def study_command(study: Study) -> str:
    return f"python -m mufno_core.sweep.studies {study.name} --workers 1"


@dataclass
class StudyRecords:
    """One study's stored records (read at no horizon yet) and how many of its trials are missing."""

    study: Study
    records: list[dict[str, Any]]
    expected: int
    missing: int


def read_study(study: Study, study_dir: str, preset: str) -> StudyRecords:
    """The finished records of ``study`` under ``study_dir`` (none when the folder is absent)."""
    overrides = study.smoke_overrides if preset == "smoke" else study.overrides
    configs = grid(study.experiment, preset, **overrides)
    folder = Path(study_dir) / study.store
    records = []
    if (folder / study.experiment).exists():
        records = horizons.read_records(folder, study.experiment, grid_ids(configs))
        records = [r for r in records if r.get("status") in ("ok", "diverged")
                   and (r["config"]["parametrization"] in {c.parametrization for c in configs})]
    done = {r["trial_id"] for r in records if not r.get("mirrored")}
    return StudyRecords(study, records, len(configs), sum(c.trial_id() not in done for c in configs))


@dataclass
class HorizonsChapter:
    """Every horizon study of one preset, analysed once: α per (experiment, curve, horizon)."""

    preset: str
    studies: dict[str, StudyRecords]
    metric: str = DEFAULT_METRIC
    n_boot: int = 1000
    exponents: pd.DataFrame = field(init=False)
    frames: dict[str, pd.DataFrame] = field(init=False)

    def __post_init__(self) -> None:
        self.frames, parts = {}, []
        for experiment in self.experiments():
            records = [r for s in self.studies.values() if s.study.experiment == experiment
                       for r in s.records]
            if not records:
                continue
            steps = horizons.logged_steps(records)
            self.frames[experiment] = horizons.horizon_frame(records, steps)
            parts.append(horizons.horizon_exponents(self.frames[experiment], self.metric,
                                                    n_boot=self.n_boot))
        self.exponents = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    @classmethod
    def run(cls, preset: str, results_dir: str = "", study_dir: str = "", compute: bool | None = None,
            metric: str = DEFAULT_METRIC, **sweep: Any) -> HorizonsChapter:
        """Read the horizon studies of ``preset`` ("quick" or "smoke") from ``study_dir`` (empty:
        ``results/study`` at quick, ``results_dir`` at smoke); with ``compute`` (default: at smoke
        only) first run what is missing (``sweep``: executor, workers, data_dir of
        :func:`~mufno_core.sweep.studies.run_study`)."""
        study_dir = study_dir or ("results/study" if preset != "smoke" else results_dir)
        compute = preset == "smoke" if compute is None else compute
        if compute:
            for study in horizon_studies():
                run_study(study.name, study_dir, preset=preset, **sweep)
        return cls(preset, {s.name: read_study(s, study_dir, preset) for s in horizon_studies()},
                   metric)

    # --- what is there ------------------------------------------------------------------------------
    def experiments(self) -> list[str]:
        return list(dict.fromkeys(s.study.experiment for s in self.studies.values()))

    def verdict_horizons(self, experiment: str) -> tuple[int, ...]:
        """The horizons the verdicts are read at (the study's, or its toy version's)."""
        study = next(s.study for s in self.studies.values() if s.study.experiment == experiment)
        return study.smoke_horizons if self.preset == "smoke" else study.horizons

    def source(self, experiment: str | None = None) -> str:
        """The provenance line of the studies' trials (of ``experiment``)."""
        frames = [f[(f["horizon"] == f["horizon"].max()) & ~f["mirrored"]]
                  for e, f in self.frames.items() if experiment is None or e == experiment]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return provenance_line(frame, self.preset) if len(frame) else "no records"

    def design_table(self):
        """Each study: what it trains, how much of it is stored, its CPU time, its command."""
        rows = []
        for s in self.studies.values():
            configs = grid(s.study.experiment, self.preset, **(
                s.study.smoke_overrides if self.preset == "smoke" else s.study.overrides))
            first = configs[0]
            rows.append({
                "study": s.study.name,
                "experiment": EXPERIMENT_LABELS.get(s.study.experiment, s.study.experiment),
                "curves": ", ".join(sorted({horizons.variant_label(c.to_dict()) for c in configs})),
                "K": ", ".join(str(k) for k in sorted({c.modes for c in configs})),
                "LRs": len({c.lr for c in configs}), "seeds": len({c.seed for c in configs}),
                "steps (logged every)": f"{first.steps} ({first.eval_every or '1/10 of the run'})",
                "trials stored / planned": f"{s.expected - s.missing} / {s.expected}",
                "training CPU min": "{:.1f}".format(sum(r.get("wall_time") or 0 for r in s.records
                                                        if not r.get("mirrored")) / 60),
                "command (resumes)": study_command(s.study)})
        return with_caption(pd.DataFrame(rows), "Source: the study stores; CPU minutes are the "
                            "trials' own wall times (one thread each)")

    def missing_note(self) -> str:
        """Which studies miss how many trials and the command that trains them, or that every
        planned trial is stored (a sentence either way: an empty Markdown output reaches the page as
        its Python repr)."""
        gaps = [f"{s.study.name}: {s.missing} of {s.expected} trials missing "
                f"(`{study_command(s.study)}`)" for s in self.studies.values() if s.missing]
        if not gaps:
            return f"Every planned trial of the {len(self.studies)} studies is stored."
        return ("Not every planned trial is stored, so the curves below rest on fewer trials: "
                + "; ".join(gaps) + ".")

    # --- α against the training length --------------------------------------------------------------
    def _colour(self, label: str, labels: list[str]) -> str:
        if label == "SP":
            return PARAMETRIZATIONS["sp"].colour
        if label == "μP":
            return PARAMETRIZATIONS["mup"].colour
        decayed = [x for x in labels if x not in ("SP", "μP")]
        return WEIGHT_DECAY_COLOURS[decayed.index(label) % len(WEIGHT_DECAY_COLOURS)]

    def alpha_figure(self):
        """α against the training length, one panel per experiment, one line per curve (SP, μP,
        μP + weight decay) with its 95% band; a hollow marker (no band) where an optimum sits on the
        LR grid's edge, so α is not located at that horizon."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        sns.set_theme(style="whitegrid", context="notebook")
        experiments = list(self.frames)
        fig, axes = plt.subplots(1, max(1, len(experiments)), figsize=(4.2 * max(1, len(experiments)),
                                 3.8), sharey=True, squeeze=False, constrained_layout=True)
        for ax, experiment in zip(axes[0], experiments):
            part = self.exponents[self.exponents["experiment"] == experiment]
            labels = list(dict.fromkeys(part.sort_values("label", key=_label_order)["label"]))
            for label in labels:
                rows = part[part["label"] == label].sort_values("horizon")
                colour = self._colour(label, labels)
                ok = ~(rows["edge"] | rows["no_evidence"].map(bool))
                h = rows["horizon"].to_numpy()
                located = rows["alpha"].where(ok)
                ax.plot(h, located, "-", color=colour, lw=1.6, label=label)
                ax.fill_between(h, rows["alpha_low"].where(ok), rows["alpha_high"].where(ok),
                                color=colour, alpha=0.15, lw=0)
                ax.plot(h[~ok.to_numpy()], rows["alpha"][~ok], "o", mfc="none", color=colour, ms=4)
            for value, style in ((0.0, "-"), (-0.5, "--")):
                ax.axhline(value, color="0.4", lw=0.8, ls=style)
            ax.set_title(EXPERIMENT_LABELS.get(experiment, experiment))
            ax.set_xlabel("training steps (horizon)")
        axes[0][0].set_ylabel("α of lr*(K) ∝ (log K_eff)^α")
        axes[0][-1].legend(fontsize="small", loc="best")
        return add_provenance(fig, "Lines: α where every optimum is located (band: 95% interval); "
                              "hollow: an optimum on the LR grid's edge (not located). Solid grey: "
                              "0 (μP's theory), dashed: −½ (SP's). " + self.source())

    def _cell(self, row) -> str:
        if not math.isfinite(row.alpha) and not (row.edge or row.no_evidence):
            return "not measured (trials missing)"
        if row.edge or row.no_evidence:
            ks = ", ".join(str(k) for k in (row.edge_ks or row.no_evidence))
            return f"not located (edge at K = {ks})"
        return interval(row.alpha, row.alpha_low, row.alpha_high, signed=True)

    def verdict_table(self, experiment: str):
        """Per verdict horizon: α [95% CI] of every curve and the SP-vs-μP verdict's label."""
        part = self.exponents[self.exponents["experiment"] == experiment]
        rows = []
        for h in self.verdict_horizons(experiment):
            at = part[part["horizon"] == h].sort_values("label", key=_label_order)
            if at.empty:
                continue
            row = {"horizon (steps)": h}
            row.update({f"α {r.label}": self._cell(r) for r in at.itertuples()})
            row["verdict (SP vs μP)"] = horizons.sp_mup_verdict(part, h).label
            rows.append(row)
        return with_caption(pd.DataFrame(rows), self.source(experiment))

    def verdict_text(self, experiment: str) -> str:
        """The verdict per horizon in words: the SP-vs-μP headline, its details and weight decay's
        change of μP's α."""
        table = horizons.horizon_verdicts(
            self.exponents[self.exponents["experiment"] == experiment]).set_index("horizon")
        lines = []
        for h in self.verdict_horizons(experiment):
            if h in table.index:
                r = table.loc[h]
                lines.append(f"* **{h} steps.** {r['headline']} {r['details']} {r['weight_decay']}"
                             .strip())
        return minus("\n".join(lines))

    def trend_table(self):
        """Per experiment and curve: α at the last verdict horizon minus α at the first, paired."""
        rows = []
        for experiment in self.frames:
            hs = self.verdict_horizons(experiment)
            part = self.exponents[self.exponents["experiment"] == experiment].reset_index(drop=True)
            trend = horizons.horizon_trend(part, hs[0], hs[-1])
            for r in trend.itertuples():
                rows.append({"experiment": EXPERIMENT_LABELS.get(experiment, experiment),
                             "curve": r.label, f"α change {hs[0]} → {hs[-1]} steps [95% CI]":
                             interval(r.change, r.change_low, r.change_high, signed=True)
                             if r.side not in ("not located", "unknown") else "—",
                             "decision": _TREND_WORDS.get(r.side, r.side)})
        return with_caption(pd.DataFrame(rows), "The same seeds and bootstrap draws at both horizons: "
                            "the interval is that of the paired differences")

    def weight_decay_table(self):
        """At each experiment's longest verdict horizon: every curve's optimum per K, the loss
        there, and α — does weight decay keep the optimum in place, and at what loss?"""
        rows = []
        for experiment in self.frames:
            h = self.verdict_horizons(experiment)[-1]
            alphas = self.exponents[(self.exponents["experiment"] == experiment)
                                    & (self.exponents["horizon"] == h)].set_index("label")
            for r in self.optimum_losses(experiment, h).itertuples():
                rows.append({"experiment": EXPERIMENT_LABELS.get(experiment, experiment),
                             "horizon": h, "curve": r.curve, "K": r.K,
                             "lr*": "edge" if r.edge else f"{r.lr:.2g}", "loss at lr*": f"{r.loss:.4f}",
                             "α [95% CI]": self._cell(alphas.loc[r.curve])})
        table = pd.DataFrame(rows)
        if not table.empty:
            table = table.sort_values(["experiment", "curve", "K"], key=_label_order, kind="stable")
        return with_caption(table, "lr*: the located optimum (parabola vertex over the grid "
                            "minimum ± 2 points); loss: its seed-mean training loss")

    def optimum_losses(self, experiment: str, horizon: int) -> pd.DataFrame:
        """Every curve's located optimum at ``horizon``: ``curve``, its ``parametrization``,
        ``weight_decay`` (λ, 0 without) and ``weight_decay_mode``, ``K``, ``lr`` (NaN on the grid's
        edge), ``loss`` (the seed-mean loss there), ``edge``."""
        frame = self.frames[experiment]
        located = horizons.locate_horizons(frame[frame["horizon"] == horizon], self.metric,
                                           n_boot=300)
        return pd.DataFrame([{"curve": horizons.variant_label(r),
                              "parametrization": r["parametrization"],
                              "weight_decay": (float(r["weight_decay"])
                                               if horizons.has_weight_decay(r) else 0.0),
                              "weight_decay_mode": (r.get("weight_decay_mode")
                                                    if horizons.has_weight_decay(r) else None),
                              "K": int(r["modes"]),
                              "lr": math.nan if r["edge"] else 10 ** r["x_opt"],
                              "loss": r["loss_opt"], "edge": bool(r["edge"])}
                             for r in located.to_dict("records")])

    def lr_figure(self, experiment: str, horizon: int | None = None):
        """Loss against LR at ``horizon`` (default: the longest verdict horizon), SP beside μP
        without weight decay, one curve per K with each located optimum."""
        h = horizon or self.verdict_horizons(experiment)[-1]
        frame = self.frames[experiment]
        plain = frame[(frame["horizon"] == h) & ~(frame["weight_decay"].fillna(0) > 0)]
        return add_provenance(plot_lr_curves(plain, self.metric,
                                             title=f"{EXPERIMENT_LABELS.get(experiment, experiment)}"
                                                   f" after {h} steps"), self.source(experiment))

    def conclusion(self) -> str:
        """What the intervals decide, per experiment: the verdict at each horizon, μP's change with
        the training length, and weight decay's change of μP's α at the longest horizon."""
        if self.exponents.empty:
            return "No verdict: no horizon study is stored yet."
        return minus("\n".join(line for _, line in self.findings()))

    def findings(self) -> list[tuple[str, str]]:
        """The conclusion's lines, each with its kind: "verdict", "trend" (α's change with the
        training length), "weight decay" (its change of μP's α), "loss" (the loss at the optimum
        per curve) and "decay optimum" (weight decay's own optimum)."""
        lines = []
        for experiment in self.frames:
            hs = self.verdict_horizons(experiment)
            part = self.exponents[self.exponents["experiment"] == experiment].reset_index(drop=True)
            labels = [horizons.sp_mup_verdict(part, h).label for h in hs]
            name = EXPERIMENT_LABELS.get(experiment, experiment)
            lines.append(("verdict", f"* {name}: " + "; ".join(
                f"{h} steps {label}" for h, label in zip(hs, labels))
                + f". At {hs[-1]} steps: " + horizons.sp_mup_verdict(part, hs[-1]).headline))
            trend = horizons.horizon_trend(part, hs[0], hs[-1]).set_index("label")
            for label in ("SP", "μP"):
                if label in trend.index and math.isfinite(trend.loc[label, "change"]):
                    t = trend.loc[label]
                    lines.append(("trend", f"* {name}, {label}'s α from {hs[0]} to {hs[-1]} steps: "
                                  + minus(f"{t['alpha_first']:+.2f} → {t['alpha_last']:+.2f}")
                                  + ", change "
                                  + interval(t["change"], t["change_low"], t["change_high"], signed=True)
                                  + f" ({_TREND_WORDS.get(t['side'], t['side'])})."))
            for sentence in horizons.weight_decay_sentence(part, hs[-1]):
                lines.append(("weight decay", f"* {name} at {hs[-1]} steps: {sentence}."))
            losses = self.optimum_losses(experiment, hs[-1])
            if len(losses) > 1:
                k = int(losses["K"].max())
                at = losses[losses["K"] == k].sort_values("curve", key=_label_order)
                lines.append(("loss", f"* {name} at {hs[-1]} steps, K = {k}: the training loss at "
                              "the located optimum (seed mean) is " + ", ".join(
                                  f"{r.loss:.4f} for {r.curve}" for r in at.itertuples()) + "."))
                lines.append(("decay optimum", f"* {name} at {hs[-1]} steps: "
                              + horizons.weight_decay_optimum_sentence(losses) + "."))
        return lines


def readme_findings(study_dir: str = "results/study", preset: str = "quick") -> str:
    """The README's lines on training length and weight decay, computed from the committed study
    records (lines of :meth:`HorizonsChapter.findings`): per experiment, how SP's and
    μP's α change from the first to the last horizon, and weight decay's own optimum."""
    chapter = HorizonsChapter.run(preset, study_dir=study_dir, compute=False)
    kinds = ("trend", "weight decay", "decay optimum")
    return minus("\n".join(line for kind, line in chapter.findings() if kind in kinds))


_TREND_WORDS = {"below": "α falls resolvably with training length",
                "above": "α rises resolvably with training length",
                "holds": "no resolvable change", "borderline": "borderline (within round-off)",
                "not located": "not located (an optimum on the LR grid's edge)",
                "unknown": "not measured (trials missing)"}


def _label_order(values: pd.Series) -> pd.Series:
    """SP, μP, then the weight-decay curves in increasing λ (a sort key for labels and K)."""
    def key(value):
        if not isinstance(value, str):
            return value
        if value == "SP":
            return (0, 0.0, value)
        if value == "μP":
            return (1, 0.0, value)
        number = value.rsplit(" ", 1)[-1]
        try:
            return (2, float(number), value)
        except ValueError:
            return (3, math.inf, value)
    return values.map(key) if values.dtype == object else values

