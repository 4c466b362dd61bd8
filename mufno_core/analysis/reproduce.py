"""Does this machine reproduce a committed results store? Rerun a sample, or compare two stores.

    python -m mufno_core.analysis.reproduce check results/quick [--per-experiment 2] [--seed 0]
    python -m mufno_core.analysis.reproduce compare results/quick results/rerun-quick

``check`` reruns a random sample of each experiment's stored trials here (a record trained in a
stacked group is rerun stacked, :func:`~mufno_core.sweep.verify.rerun_record`) and reports, per
experiment, whether the reruns agree with the records: bit for bit on the CPU model and kernel
level that wrote them (:func:`~mufno_core.provenance.cpu_kernels`); elsewhere within the seed
spread, i.e. the rerun's change of log10(final training loss) is smaller than the standard
deviation of that quantity over the seeds of the same grid point (the noise every interval of the
book already carries), with both numbers. It then recomputes every experiment's verdict from the
store with the reruns put in place of their records and says whether it is the committed one.
``compare`` computes the verdicts of two whole stores (the committed one and a from-scratch rerun,
``make rerun-results``) and sets them side by side.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mufno_core.analysis.optima import NoEvidence
from mufno_core.analysis.paper import PAPER
from mufno_core.analysis.summary import experiment_summary, grid_results
from mufno_core.provenance import cpu_kernels, recorded_kernels
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.store import DONE_STATUSES, ResultsStore, iter_records, load_results
from mufno_core.sweep.verify import history_difference, rerun_record

SEED_FREE = ("trial_id", "seed")
"""Config columns that differ between the seeds of one grid point (everything else is the point)."""


def _log_loss(value: Any) -> float:
    value = float(value) if value is not None else math.nan
    return math.log10(value) if value > 0 else math.nan


def seed_spread(df: pd.DataFrame) -> pd.Series:
    """Per trial id: the standard deviation, over the seeds of its grid point, of log10(final
    training loss) (NaN where fewer than two seeds finished)."""
    point = [c for c in TrialConfig.__dataclass_fields__ if c not in SEED_FREE and c in df.columns]
    frame = df[~df["mirrored"]].assign(log_loss=df["final_train_loss"].map(_log_loss))
    spread = frame.groupby(point, dropna=False)["log_loss"].transform(lambda s: s.std(ddof=1))
    return pd.Series(spread.to_numpy(), index=frame["trial_id"])


def sample_records(results: str | Path, experiments: Iterable[str], per_experiment: int,
                   seed: int = 0) -> dict[str, list[dict[str, Any]]]:
    """``per_experiment`` finished records of each experiment found under ``results``, at random."""
    rng = random.Random(seed)
    chosen = {}
    for experiment in experiments:
        folder = Path(results) / experiment
        if not folder.is_dir():
            continue
        records = sorted((r for r in iter_records(folder)
                          if r.get("status") in DONE_STATUSES and "history" in r),
                         key=lambda r: r["trial_id"])
        if records:
            chosen[experiment] = rng.sample(records, min(per_experiment, len(records)))
    return chosen


def compare_rerun(record: dict[str, Any], rerun: dict[str, Any], spread: float,
                  here: str) -> dict[str, Any]:
    """One rerun against its record: history difference, change of log10 final loss, seed spread.
    ``here`` is this machine's :func:`~mufno_core.provenance.cpu_kernels`: where the record's is the
    same the rerun must be bit-identical, elsewhere within the seed spread."""
    same_cpu = recorded_kernels(record) == here
    finished = rerun.get("status") in DONE_STATUSES
    change = abs(_log_loss(rerun.get("final_train_loss")) - _log_loss(record.get("final_train_loss")))
    both_diverged = record.get("status") == rerun.get("status") == "diverged"
    if both_diverged:
        change = 0.0
    difference = history_difference(record, rerun) if finished else math.inf
    within = bool(both_diverged or (np.isfinite(change) and np.isfinite(spread) and change <= spread))
    return {"trial_id": record["trial_id"], "parametrization": record["config"]["parametrization"],
            "modes": record["config"]["modes"], "seed": record["config"]["seed"],
            "status": rerun.get("status"), "recorded_on": recorded_kernels(record),
            "same_cpu": same_cpu,
            "identical": difference == 0.0, "max_rel_diff": difference,
            "log_loss_change": change, "seed_spread": spread,
            "agrees": (difference == 0.0) if same_cpu else within}


def rerun_sample(results: str | Path, per_experiment: int = 2, seed: int = 0, data_dir: str = "data",
                 experiments: Iterable[str] = tuple(PAPER)
                 ) -> tuple[pd.DataFrame, dict[str, list[dict[str, Any]]]]:
    """Rerun a sample of each experiment's trials here: one row per rerun, and the reruns."""
    here = cpu_kernels()
    rows, reruns = [], {}
    for experiment, records in sample_records(results, experiments, per_experiment, seed).items():
        spread = seed_spread(load_results(Path(results) / experiment))
        reruns[experiment] = []
        for record in records:
            rerun = rerun_record(record, data_dir)
            reruns[experiment].append(rerun)
            rows.append({"experiment": experiment,
                         **compare_rerun(record, rerun, float(spread.get(record["trial_id"], math.nan)),
                                         here)})
    return pd.DataFrame(rows), reruns


def verdict_of(results: str | Path, experiment: str, preset: str) -> tuple[str, str]:
    """(label, what was measured) of one experiment's verdict from the store (label "absent"
    when the store holds too little of it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = grid_results(str(results), experiment, preset)
    if df is None:
        return "absent", ""
    try:
        words, verdict = experiment_summary(df, experiment)
    except NoEvidence as err:
        return "No verdict", str(err)
    return verdict.label, words


def verdicts_with_reruns(results: str | Path, reruns: dict[str, list[dict[str, Any]]],
                         preset: str) -> pd.DataFrame:
    """Each experiment's verdict from ``results`` as committed, and with the reruns in place of
    their records (a copy of the experiment's folder in a temporary store)."""
    rows = []
    for experiment, records in reruns.items():
        label, words = verdict_of(results, experiment, preset)
        with tempfile.TemporaryDirectory(prefix="mufno-check-") as tmp:
            shutil.copytree(Path(results) / experiment, Path(tmp) / experiment)
            store = ResultsStore(tmp, experiment)
            for record in records:
                if record.get("status") in DONE_STATUSES:
                    store.write(record)
            rerun_label, rerun_words = verdict_of(tmp, experiment, preset)
        rows.append({"experiment": experiment, "committed": label, "with reruns": rerun_label,
                     "same verdict": label == rerun_label, "measured (committed)": words,
                     "measured (with reruns)": rerun_words})
    return pd.DataFrame(rows)


def compare_stores(committed: str | Path, rerun: str | Path, preset: str) -> pd.DataFrame:
    """Verdicts of every experiment of the paper in two stores, side by side."""
    rows = []
    for experiment in PAPER:
        a, words_a = verdict_of(committed, experiment, preset)
        b, words_b = verdict_of(rerun, experiment, preset)
        if a == "absent" and b == "absent":
            continue
        rows.append({"experiment": experiment, "committed": a, "rerun": b, "same verdict": a == b,
                     "measured (committed)": words_a, "measured (rerun)": words_b})
    return pd.DataFrame(rows)


def agreement_by_experiment(reruns: pd.DataFrame) -> pd.DataFrame:
    """Per experiment: reruns, how many agree, bit-identical ones, the largest change of log10
    final loss against the median seed spread."""
    return (reruns.groupby("experiment", sort=False)
            .agg(reruns=("trial_id", "size"), same_cpu=("same_cpu", "all"),
                 identical=("identical", "sum"), agree=("agrees", "sum"),
                 largest_change=("log_loss_change", "max"), seed_spread=("seed_spread", "median"))
            .reset_index())


def _print(table: pd.DataFrame) -> None:
    with pd.option_context("display.width", 220, "display.max_columns", 20,
                           "display.max_colwidth", 90):
        print(table.to_string(index=False))


def _preset_of(results: str | Path) -> str:
    return Path(results).resolve().name.removeprefix("rerun-")


def check(results: str, per_experiment: int, seed: int, data_dir: str, preset: str) -> int:
    """The ``check`` command: 0 when every rerun agrees and every verdict is unchanged, else 1."""
    print(f"rerunning {per_experiment} trial(s) per experiment of {results} on this machine "
          f"({cpu_kernels()}) ...", file=sys.stderr, flush=True)
    table, reruns = rerun_sample(results, per_experiment, seed, data_dir)
    if table.empty:
        print(f"error: no finished trials of the paper's experiments under {results}", file=sys.stderr)
        return 2
    agreement = agreement_by_experiment(table)
    _print(agreement)
    verdicts = verdicts_with_reruns(results, reruns, preset)
    print()
    _print(verdicts[["experiment", "committed", "with reruns", "same verdict"]])
    recorded_on = sorted(table["recorded_on"].astype(str).unique())
    ok = bool(table["agrees"].all() and verdicts["same verdict"].all())
    how = ("bit for bit (same CPU model and kernel level)" if table["same_cpu"].all()
           else "within the seed spread (another CPU model or kernel level: round-off differs)")
    print(f"\nrecords made on {', '.join(recorded_on)}; this machine: {cpu_kernels()}. "
          f"{int(table['agrees'].sum())} of {len(table)} reruns agree {how}; "
          f"{int(verdicts['same verdict'].sum())} of {len(verdicts)} verdicts unchanged with the "
          f"reruns in place.")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("check", help="rerun a sample of a store here and compare")
    one.add_argument("results", help="the results store, e.g. results/quick")
    one.add_argument("--per-experiment", type=int, default=2, help="reruns per experiment (default 2)")
    one.add_argument("--seed", type=int, default=0, help="which random sample (default 0)")
    one.add_argument("--data-dir", default="data")
    one.add_argument("--preset", default=None, help="the store's preset (default: its folder's name)")
    two = commands.add_parser("compare", help="the verdicts of two stores side by side")
    two.add_argument("committed")
    two.add_argument("rerun")
    two.add_argument("--preset", default=None, help="default: the committed store's folder name")
    args = parser.parse_args(argv)
    if args.command == "check":
        if args.per_experiment < 1:
            parser.error("--per-experiment must be positive")
        if not Path(args.results).is_dir():
            parser.error(f"no results store at {args.results}")
        return check(args.results, args.per_experiment, args.seed, args.data_dir,
                     args.preset or _preset_of(args.results))
    for store in (args.committed, args.rerun):
        if not Path(store).is_dir():
            parser.error(f"no results store at {store}")
    table = compare_stores(args.committed, args.rerun, args.preset or _preset_of(args.committed))
    _print(table)
    same = int(table["same verdict"].sum())
    print(f"\n{same} of {len(table)} verdicts the same in both stores")
    return 0 if same == len(table) else 1


if __name__ == "__main__":
    sys.exit(main())
