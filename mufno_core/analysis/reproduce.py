"""Does this machine reproduce a committed results store? Check it, rerun a sample, or compare two stores.

    python -m mufno_core.analysis.reproduce check results/quick [--per-experiment 2] [--seed N]
    python -m mufno_core.analysis.reproduce compare results/quick results/rerun-quick
    python -m mufno_core.analysis.reproduce manifest results/study [--write]

``check`` first verifies every record of the store, exactly: its bytes against the store's
integrity manifest (:mod:`mufno_core.sweep.manifest`) and its final losses against the last
entries of its histories (:func:`~mufno_core.sweep.verify.inconsistency`). It then reruns a random
sample of each experiment's stored trials here (the seed is printed; ``--seed`` repeats a sample;
a record trained in a stacked group is rerun stacked) and judges each rerun on its histories and
both final losses (:func:`~mufno_core.sweep.verify.judge_rerun`): bit for bit on the CPU model and
kernel level that wrote it, elsewhere within a multiple of the seed spread calibrated on the
committed store (:data:`~mufno_core.sweep.verify.RERUN_Z`). Last, it recomputes every
experiment's verdict from the store with the reruns put in place of their records and says whether
it is the committed one. Exit status 0 only when all of that holds.
``compare`` computes the verdicts of two whole stores (the committed one and a from-scratch rerun,
``make rerun-results``) and sets them side by side. ``manifest`` checks the manifest alone, or
(``--write``) rewrites it from the records in place (after a sweep into a committed store that ran
with older code).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from mufno_core.analysis.optima import NoEvidence
from mufno_core.analysis.paper import PAPER
from mufno_core.analysis.summary import experiment_summary, grid_results
from mufno_core.provenance import cpu_kernels
from mufno_core.sweep import manifest
from mufno_core.sweep.store import DONE_STATUSES, ResultsStore, iter_records, load_results
from mufno_core.sweep.verify import (
    RERUN_Z,
    draw_seed,
    inconsistency,
    judge_rerun,
    rerun_record,
    seed_spreads,
)


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


def compare_rerun(record: dict[str, Any], rerun: dict[str, Any], spread: dict[str, float],
                  here: str) -> dict[str, Any]:
    """One rerun against its record (:func:`~mufno_core.sweep.verify.judge_rerun`): ``spread`` holds
    the seed spreads of log10 final ``train`` and ``test`` loss at the record's grid point, ``here``
    is this machine's :func:`~mufno_core.provenance.cpu_kernels`."""
    return judge_rerun(record, rerun, spread, here)


def rerun_sample(results: str | Path, per_experiment: int = 2, seed: int = 0, data_dir: str = "data",
                 experiments: Iterable[str] = tuple(PAPER)
                 ) -> tuple[pd.DataFrame, dict[str, list[dict[str, Any]]]]:
    """Rerun a sample of each experiment's trials here: one row per rerun, and the reruns."""
    here = cpu_kernels()
    rows, reruns = [], {}
    for experiment, records in sample_records(results, experiments, per_experiment, seed).items():
        spreads = seed_spreads(load_results(Path(results) / experiment, mirror=False))
        reruns[experiment] = []
        for record in records:
            rerun = rerun_record(record, data_dir)
            reruns[experiment].append(rerun)
            spread = (spreads.loc[record["trial_id"]].to_dict()
                      if record["trial_id"] in spreads.index else {})
            rows.append({"experiment": experiment, **compare_rerun(record, rerun, spread, here)})
    return pd.DataFrame(rows), reruns


def integrity(results: str | Path) -> tuple[bool, list[str]]:
    """Every record of a store checked exactly: against the store's manifest, and each finished
    record's final losses against its histories. (all good, lines to print)."""
    found = manifest.check(results)
    lines = [found.line()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        contradictions = [why for r in iter_records(results) if (why := inconsistency(r))]
    if contradictions:
        lines.append(f"records: {len(contradictions)} contradict their own histories: "
                     + "; ".join(contradictions[:3]))
    return found.ok and not contradictions, lines


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
    """Per experiment: reruns, how many agree, bit-identical ones, the largest change of a log10
    final loss (train or test) against the median tolerance of the training loss."""
    changes = reruns[["log_loss_change", "test_log_loss_change"]].max(axis=1)
    return (reruns.assign(largest=changes).groupby("experiment", sort=False)
            .agg(reruns=("trial_id", "size"), same_cpu=("same_cpu", "all"),
                 identical=("identical", "sum"), agree=("agrees", "sum"),
                 largest_change=("largest", "max"), tolerance=("tolerance", "median"))
            .reset_index())


def _print(table: pd.DataFrame) -> None:
    with pd.option_context("display.width", 220, "display.max_columns", 20,
                           "display.max_colwidth", 90):
        print(table.to_string(index=False))


def _preset_of(results: str | Path) -> str:
    return Path(results).resolve().name.removeprefix("rerun-")


def check(results: str, per_experiment: int, seed: int | None, data_dir: str, preset: str) -> int:
    """The ``check`` command: 0 when every record is intact, every rerun agrees and every verdict
    is unchanged, else 1 (2: nothing to check)."""
    try:
        intact, lines = integrity(results)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("\n".join(lines), file=sys.stdout if intact else sys.stderr, flush=True)
    if not intact:
        print(f"check: {results} is not the committed store; no trial rerun", file=sys.stderr)
        return 1
    seed = draw_seed() if seed is None else seed
    print(f"rerunning {per_experiment} trial(s) per experiment of {results} on this machine "
          f"({cpu_kernels()}), sample seed {seed} (the same sample: --seed {seed}, or "
          f"make check-results CHECK_SEED={seed}) ...", file=sys.stderr, flush=True)
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
           else f"bit for bit, or elsewhere each final loss within {RERUN_Z:g}·√2 seed spreads "
                "(another CPU model or kernel level: round-off differs)")
    print(f"\nrecords made on {', '.join(recorded_on)}; this machine: {cpu_kernels()}. "
          f"{int(table['agrees'].sum())} of {len(table)} reruns agree {how}; "
          f"{int(verdicts['same verdict'].sum())} of {len(verdicts)} verdicts unchanged with the "
          f"reruns in place.")
    return 0 if ok else 1


def manifest_command(results: str, rewrite: bool) -> int:
    """The ``manifest`` command: check a store's manifest (exit 1 on any difference) or rewrite it."""
    if rewrite:
        print(f"manifest: wrote {Path(results) / manifest.MANIFEST} ({manifest.write(results)} records)")
        return 0
    try:
        found = manifest.check(results)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(found.line(), file=sys.stdout if found.ok else sys.stderr)
    return 0 if found.ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("check", help="rerun a sample of a store here and compare")
    one.add_argument("results", help="the results store, e.g. results/quick")
    one.add_argument("--per-experiment", type=int, default=2, help="reruns per experiment (default 2)")
    one.add_argument("--seed", type=int, default=None,
                     help="which random sample (default: a fresh one, printed)")
    one.add_argument("--data-dir", default="data")
    one.add_argument("--preset", default=None, help="the store's preset (default: its folder's name)")
    two = commands.add_parser("compare", help="the verdicts of two stores side by side")
    two.add_argument("committed")
    two.add_argument("rerun")
    two.add_argument("--preset", default=None, help="default: the committed store's folder name")
    three = commands.add_parser("manifest", help="check a store's integrity manifest, or rewrite it")
    three.add_argument("results")
    three.add_argument("--write", action="store_true", help="rewrite it from the records in place")
    args = parser.parse_args(argv)
    if args.command == "manifest":
        if not Path(args.results).is_dir():
            parser.error(f"no results store at {args.results}")
        return manifest_command(args.results, args.write)
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
