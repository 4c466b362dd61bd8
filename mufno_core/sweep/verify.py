"""Rerun a random sample of stored trials and compare them with their records.

    python -m mufno_core.sweep.verify results/study --sample 5 [--seed N] [--data-dir data]

A rerun is compared on its loss histories *and* its final training and test losses (every optimum
of the book is computed from the final losses). On the CPU model and kernel level that wrote a
record (:func:`~mufno_core.provenance.cpu_kernels`) the rerun must be bit-identical. Elsewhere
round-off differs, and training can amplify it to a whole seed's worth in a chaotic trial: the
rerun agrees when neither final loss moved, in log10, by more than :func:`rerun_tolerance`, a
multiple of the spread between the seeds of the record's grid point calibrated on the committed
store (:data:`RERUN_Z`). Exit status 1 on any rerun that does not agree, 2 on bad
input. ``--seed`` picks the sample; without it a random seed is drawn and printed.

A record trained in a stacked group is rerun stacked (a member's numbers do not depend on the
other members of its group); one-by-one training equals the stacked run only to round-off.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from mufno_core.provenance import cpu_kernels, recorded_kernels
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.store import DONE_STATUSES, iter_records, load_results
from mufno_core.sweep.trial import run_group_stacked, run_trial

FINAL_LOSSES = ("final_train_loss", "final_test_loss")

RERUN_Z = 6.0
"""An honest rerun on another CPU agrees when each final loss moved by at most RERUN_Z·√2·σ in
log10, σ the standard deviation over the seeds of its grid point (from the store). Round-off can
decorrelate a chaotic trial from its record completely (Burgers: reruns under PyTorch's DEFAULT
kernels instead of AVX-512 moved 3 of 7 trials by 0.03-0.12, the issue's Xeon one by 0.092), so
the worst honest rerun is one more draw of its grid point. Seeds are not normal (a seed that
diverges late), so the factor is calibrated on the committed quick store: a seed differs from
another of its grid point by more than 6·√2·σ of the remaining seeds in 0.003% of the pairs
(:func:`seed_pair_exceedance`; 0.1% in results/study), so even a check whose 12 reruns were all
decorrelated fails an honest run about 1% of the time at most. A final loss edited by hand is
caught exactly by the manifest and :func:`inconsistency`, not by this tolerance."""


def _log10(value: Any) -> float:
    value = float(value) if value is not None else math.nan
    return math.log10(value) if value > 0 else math.nan


def history_difference(stored: dict[str, Any], rerun: dict[str, Any]) -> float:
    """Largest relative difference between two records' train and test loss histories and final
    losses (0.0: bit-identical; inf: the histories have different lengths or one diverged)."""
    worst = 0.0
    pairs = [(stored["history"][key], rerun["history"][key]) for key in ("train_loss", "test_loss")]
    pairs += [([stored[key]], [rerun[key]]) for key in FINAL_LOSSES if key in stored and key in rerun]
    for a, b in pairs:
        if len(a) != len(b):
            return math.inf
        for x, y in zip(a, b):
            x, y = (math.nan if v is None else v for v in (x, y))
            if x == y or (math.isnan(x) and math.isnan(y)):
                continue
            if math.isnan(x) or math.isnan(y):
                return math.inf
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-30))
    return worst


def histories_agree(stored: dict[str, Any], rerun: dict[str, Any], same_cpu: bool,
                    rtol: float = 1e-6) -> bool:
    """Whether ``rerun`` trained the same way as ``stored``: bit for bit when ``same_cpu`` (the CPU
    model and kernel level that wrote ``stored``), else with :func:`history_difference` at most ``rtol``.

    The default ``rtol`` is argued for 4-step smoke histories in ``tests/system/test_pinned.py``: round-off
    (another thread count, stacked training, a 1-ulp change of every initial weight) moves them by
    at most 1.2e-7 (one float32 ulp), a 1% change of the clip value, init scale or LR by 7.8e-6 or
    more. Training amplifies round-off, so longer histories need a larger ``rtol``.
    """
    difference = history_difference(stored, rerun)
    return difference == 0.0 if same_cpu else difference <= rtol


def inconsistency(record: dict[str, Any]) -> str | None:
    """Why a finished record contradicts itself (its final losses are its histories' last entries,
    as training writes them), or None. Catches a final loss edited by hand on any CPU."""
    if record.get("status") != "ok" or "history" not in record:
        return None
    for key, history in (("final_train_loss", "train_loss"), ("final_test_loss", "test_loss")):
        values = record["history"].get(history) or [None]
        if record.get(key) != values[-1]:
            return (f"{record['trial_id']}: {key} {record.get(key)!r} is not the last entry of its "
                    f"{history} history ({values[-1]!r})")
    return None


def nudge_one_ulp(model: torch.nn.Module) -> torch.nn.Module:
    """Move every parameter of ``model`` up by one float ulp, in place: a perturbation the size of
    round-off, for measuring how far training carries it (tests/system/test_pinned.py,
    scripts/history_roundoff.py)."""
    with torch.no_grad():
        for p in model.parameters():
            w = torch.view_as_real(p) if p.is_complex() else p
            w.copy_(torch.nextafter(w, torch.full_like(w, math.inf)))
    return model


SEED_FREE = ("trial_id", "seed")
"""Config columns that differ between the seeds of one grid point (everything else is the point)."""


def _grid_point(df: pd.DataFrame) -> list[str]:
    return [c for c in TrialConfig.__dataclass_fields__ if c not in SEED_FREE and c in df.columns]


def seed_spreads(df: pd.DataFrame) -> pd.DataFrame:
    """Per trial id: the standard deviation over the seeds of its grid point of log10(final
    training loss) and of log10(final test loss), columns ``train`` and ``test`` (NaN where fewer
    than two seeds finished)."""
    frame = df[~df["mirrored"]] if "mirrored" in df.columns else df
    logs = pd.DataFrame({"train": frame["final_train_loss"].map(_log10),
                         "test": frame["final_test_loss"].map(_log10)})
    groups = logs.groupby([frame[c] for c in _grid_point(frame)], dropna=False)
    spread = groups.transform(lambda s: s.std(ddof=1))
    spread.index = frame["trial_id"].to_numpy()
    return spread


def seed_pair_exceedance(df: pd.DataFrame, z: float = RERUN_Z) -> float:
    """The fraction of pairs of seeds of one grid point whose log10 final losses (train and test)
    differ by more than ``z``·√2·σ (σ over that point's seeds): how often :func:`rerun_tolerance`
    would fail a rerun that round-off decorrelated completely from its record."""
    frame = df[~df["mirrored"]] if "mirrored" in df.columns else df
    exceed = pairs = 0
    for _, point in frame.groupby(_grid_point(frame), dropna=False):
        for column in FINAL_LOSSES:
            logs = point[column].map(_log10).dropna().to_numpy()
            if len(logs) < 3:
                continue
            for j in range(len(logs)):  # seed j plays the rerun: σ from the others, as a check has it
                others = np.delete(logs, j)
                if len(others) < 2:
                    continue
                gaps = abs(others - logs[j])
                exceed += int((gaps > z * math.sqrt(2) * others.std(ddof=1)).sum())
                pairs += len(gaps)
    return exceed / pairs if pairs else math.nan


def rerun_tolerance(spread: float) -> float:
    """How far (log10) an honest rerun elsewhere may move a final loss whose seed spread is ``spread``."""
    return RERUN_Z * math.sqrt(2) * spread


def judge_rerun(record: dict[str, Any], rerun: dict[str, Any], spread: dict[str, float],
                here: str) -> dict[str, Any]:
    """One rerun against its record. ``spread``: the record's seed spreads (``train``, ``test``);
    ``here``: this machine's :func:`~mufno_core.provenance.cpu_kernels`. On the recording CPU the
    rerun agrees only bit for bit; elsewhere when both final losses moved within
    :func:`rerun_tolerance` (both diverged also agrees)."""
    same_cpu = recorded_kernels(record) == here
    finished = rerun.get("status") in DONE_STATUSES
    difference = history_difference(record, rerun) if finished else math.inf
    both_diverged = record.get("status") == rerun.get("status") == "diverged"
    changes = {key: 0.0 if both_diverged else abs(_log10(rerun.get(f"final_{key}_loss"))
                                                  - _log10(record.get(f"final_{key}_loss")))
               for key in ("train", "test")}
    tolerances = {key: rerun_tolerance(spread.get(key, math.nan)) for key in ("train", "test")}
    within = all(math.isfinite(changes[k]) and math.isfinite(tolerances[k])
                 and changes[k] <= tolerances[k] for k in changes)
    return {"trial_id": record["trial_id"], "parametrization": record["config"]["parametrization"],
            "modes": record["config"]["modes"], "lr": record["config"]["lr"],
            "seed": record["config"]["seed"], "stacked": bool(record.get("stacked")),
            "status": rerun.get("status"), "recorded_on": recorded_kernels(record),
            "same_cpu": same_cpu, "identical": difference == 0.0, "max_rel_diff": difference,
            "log_loss_change": changes["train"], "test_log_loss_change": changes["test"],
            "tolerance": tolerances["train"], "test_tolerance": tolerances["test"],
            "agrees": difference == 0.0 if same_cpu else bool(both_diverged or within)}


def rerun_record(record: dict[str, Any], data_dir: str = "data") -> dict[str, Any]:
    """Train ``record``'s trial again on the CPU, one torch thread, the way it was trained
    (stacked, as a group of one, if the record was; a member's numbers do not depend on the other
    members of its group)."""
    config = TrialConfig.from_dict(record["config"])
    if record.get("stacked"):
        torch.set_num_threads(1)
        return run_group_stacked([config], data_dir=data_dir, device="cpu")[0]
    return run_trial(config, data_dir=data_dir, device="cpu", num_threads=1)


def draw_seed() -> int:
    """A fresh sample seed (printed by the commands, so that a sample can be rerun)."""
    return random.SystemRandom().randrange(1_000_000)


def verify_sample(results: str | Path, sample: int = 5, seed: int = 0,
                  data_dir: str = "data") -> pd.DataFrame:
    """Rerun ``sample`` randomly chosen finished trials under ``results`` and judge each
    (:func:`judge_rerun`; columns trial_id, experiment, …, same_cpu, identical, max_rel_diff,
    log_loss_change, test_log_loss_change, tolerance, agrees)."""
    records = sorted((r for r in iter_records(Path(results)) if r.get("status") in DONE_STATUSES
                      and "history" in r), key=lambda r: r["trial_id"])
    if not records:
        raise ValueError(f"no finished trial records under {results}")
    chosen = random.Random(seed).sample(records, min(sample, len(records)))
    here = cpu_kernels()
    spreads: dict[str, pd.DataFrame] = {}
    rows = []
    for record in chosen:
        experiment = record["config"]["experiment"]
        if experiment not in spreads:
            spreads[experiment] = seed_spreads(load_results(
                Path(results) / experiment if (Path(results) / experiment).is_dir() else results,
                mirror=False))
        frame = spreads[experiment]
        spread = frame.loc[record["trial_id"]].to_dict() if record["trial_id"] in frame.index else {}
        rows.append({"experiment": experiment,
                     **judge_rerun(record, rerun_record(record, data_dir), spread, here)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a results store, or one experiment's folder in it")
    parser.add_argument("--sample", type=int, default=5, help="trials to rerun (default 5)")
    parser.add_argument("--seed", type=int, default=None,
                        help="which random sample (default: a fresh one, printed)")
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args(argv)
    if args.sample < 1:
        parser.error("--sample must be positive")
    seed = draw_seed() if args.seed is None else args.seed
    print(f"sample seed {seed} (the same sample again: --seed {seed})", flush=True)
    try:
        table = verify_sample(args.results, args.sample, seed, args.data_dir)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.drop(columns=["recorded_on"]).to_string(index=False))
    agree, identical = int(table["agrees"].sum()), int(table["identical"].sum())
    print(f"{agree} of {len(table)} reruns agree with their records ({identical} bit-identical; "
          f"largest relative difference {table['max_rel_diff'].max():.2e}; bit for bit on the CPU "
          f"model and kernel level that wrote them, else each final loss within "
          f"{RERUN_Z:g}·√2 seed spreads)", file=sys.stdout if agree == len(table) else sys.stderr)
    return 0 if agree == len(table) else 1


if __name__ == "__main__":
    sys.exit(main())
