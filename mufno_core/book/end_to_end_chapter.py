"""The end-to-end chapter as calls: both LR sweeps run (or loaded) once, direct tuning against
μTransfer for each (:func:`~mufno_core.analysis.end_to_end.end_to_end`), one call per table.

    ch = EndToEndChapter.run("quick", "results/quick", executor="process", workers=2)
    ch.outcome_table("Darcy"); ch.comparison(); ch.paper(); ch.verdict()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mufno_core.analysis.end_to_end import end_to_end, sample_grid
from mufno_core.analysis.paper import PAPER_END_TO_END, end_to_end_comparison
from mufno_core.analysis.verdicts import end_to_end_verdict
from mufno_core.book.answers import Answer, Boxes
from mufno_core.book.chapter import GRID_OVERRIDES, grid_overrides, with_caption
from mufno_core.book.tables import readable
from mufno_core.provenance import provenance_line
from mufno_core.sweep import run_sweep

SWEEPS = {"Darcy": "darcy_lr", "Navier–Stokes": "navier_stokes_lr"}
"""The LR sweeps the chapter tunes from, by the PDE's name."""

OUTCOME_COLUMNS = {"method": "method", "K": "K", "lr": "LR chosen",
                   "test rel. L2": "test rel. L2 (mean ± std)", "runs": "runs paid for",
                   "GFLOPs": "GFLOPs", "cost_wall_vs_direct": "cost vs direct (wall time)",
                   "cost_flops_vs_direct": "cost vs direct (FLOPs)"}


@dataclass
class EndToEndChapter:
    """Each PDE's sweep (``sweeps``), its sample grid (``grids``, for the FLOP count) and its
    direct-against-μTransfer table (``tables``)."""

    preset: str
    sweeps: dict[str, pd.DataFrame]
    grids: dict[str, tuple[int, ...]]

    def __post_init__(self) -> None:
        self.tables = {label: end_to_end(df, self.grids[label]) for label, df in self.sweeps.items()}

    @classmethod
    def run(cls, preset: str, results_dir: str, data_dir: str = "data", **kwargs: Any) -> EndToEndChapter:
        """Run (or resume) both sweeps; empty grid overrides and an empty scheduler mean "the
        preset's" and "a local cluster", as in :meth:`~mufno_core.book.chapter.SweepChapter.run`."""
        overrides = grid_overrides(kwargs)
        rest = {k: v for k, v in kwargs.items() if k not in GRID_OVERRIDES}
        if "scheduler" in rest:
            rest["scheduler"] = rest["scheduler"] or None
        sweeps = {label: run_sweep(name, preset, results_dir, data_dir=data_dir, progress=False,
                                   **rest, **overrides) for label, name in SWEEPS.items()}
        return cls(preset, sweeps, {label: sample_grid(df, data_dir) for label, df in sweeps.items()})

    def source(self, label: str | None = None) -> str:
        """The provenance line of one PDE's sweep, or of both."""
        frames = [self.sweeps[label]] if label else list(self.sweeps.values())
        return provenance_line(pd.concat(frames, ignore_index=True), self.preset)

    def outcome_table(self, label: str):
        """One PDE: the LR each procedure picked, the final model's test error (mean ± std over
        seeds), the runs paid for, their FLOPs, and both costs relative to direct tuning."""
        table = self.tables[label]
        shown = table.reset_index().assign(**{
            "test rel. L2": [f"{m:.2%} ± {s:.2%}" for m, s in
                             zip(table["test_rel_l2_mean"], table["test_rel_l2_std"])],
            "GFLOPs": table["flops"].to_numpy() / 1e9})
        return with_caption(readable(shown, list(OUTCOME_COLUMNS), names=OUTCOME_COLUMNS),
                            self.source(label))

    def comparison(self):
        """Our numbers in the paper's layout."""
        ours = end_to_end_comparison(self.tables, self.preset).reset_index()
        return with_caption(readable(ours), self.source())

    def paper(self):
        """The paper's Table 1."""
        return with_caption(PAPER_END_TO_END.reset_index(), "The paper's Table 1")

    def verdict(self) -> str:
        """One verdict per PDE (Markdown)."""
        return "\n\n".join(f"**Verdict, {label} ({self.preset} preset).** {end_to_end_verdict(table)}"
                           for label, table in self.tables.items())

    def answers(self) -> Boxes:
        """One verdict box per PDE (:mod:`mufno_core.book.answers`)."""
        return Boxes(Answer(f"end_to_end_{label.lower().replace('–', '_').replace('-', '_')}",
                            f"{label}: a tuned proxy + μTransfer against direct tuning",
                            end_to_end_verdict(table), self.preset)
                     for label, table in self.tables.items())

    # --- exercise checks ---------------------------------------------------------------------
    def check_runs(self, runs_direct: int, runs_transfer: int, label: str = "Darcy") -> str:
        """A reader's count of the runs each procedure pays for, against the ``runs`` column."""
        expected = self.tables[label]["runs"].tolist()
        assert [runs_direct, runs_transfer] == expected, (
            f"you count {[runs_direct, runs_transfer]}, the table {expected}")
        return f"check passed: direct tuning pays for {runs_direct} runs, μTransfer for {runs_transfer}"

    def check_sp_direct(self, sp_table: pd.DataFrame, sp_better: bool, label: str = "Darcy") -> str:
        """A reader's table of direct tuning under SP, and whether SP tuned directly beats μTransfer."""
        first = sp_table.index[0]
        assert first.endswith("(SP)"), f"the first row should be SP's direct tuning: {first}"
        same = ["K", "lr", "test_rel_l2_mean", "runs"]
        ours, theirs = sp_table.iloc[1][same].astype(float), self.tables[label].iloc[1][same].astype(float)
        assert np.allclose(ours, theirs, equal_nan=True), "μTransfer's row cannot depend on the direct method"
        errors = sp_table["test_rel_l2_mean"]
        truth = bool(errors.iloc[0] < errors.iloc[1])
        assert sp_better == truth, "look again at test_rel_l2_mean"
        return (f"check passed: SP tuned directly is {'better' if truth else 'not better'} "
                f"({errors.iloc[0]:.2%} vs μTransfer's {errors.iloc[1]:.2%})")
