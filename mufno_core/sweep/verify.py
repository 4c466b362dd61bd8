"""Rerun a random sample of stored trials and compare their loss histories with the records.

    python -m mufno_core.sweep.verify results/study --sample 5 [--seed 0] [--data-dir data]

On the CPU model and kernel level that wrote the records
(:func:`~mufno_core.provenance.cpu_kernels`) the histories should match bit for bit; on another CPU
they differ at round-off, which training can amplify to per cents by the last steps (the report
gives the largest relative difference). A record trained in a stacked group is rerun stacked (a
member's numbers do not depend on the other members of its group); one-by-one training equals the
stacked run only to round-off.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from mufno_core.provenance import cpu_kernels, recorded_kernels
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.store import DONE_STATUSES, iter_records
from mufno_core.sweep.trial import run_group_stacked, run_trial


def history_difference(stored: dict[str, Any], rerun: dict[str, Any]) -> float:
    """Largest relative difference between two records' train and test loss histories
    (0.0: bit-identical; inf: the histories have different lengths or one diverged)."""
    worst = 0.0
    for key in ("train_loss", "test_loss"):
        a, b = stored["history"][key], rerun["history"][key]
        if len(a) != len(b):
            return math.inf
        for x, y in zip(a, b):
            if x == y or (math.isnan(x) and math.isnan(y)):
                continue
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

def nudge_one_ulp(model: torch.nn.Module) -> torch.nn.Module:
    """Move every parameter of ``model`` up by one float ulp, in place: a perturbation the size of
    round-off, for measuring how far training carries it (tests/system/test_pinned.py,
    scripts/history_roundoff.py)."""
    with torch.no_grad():
        for p in model.parameters():
            w = torch.view_as_real(p) if p.is_complex() else p
            w.copy_(torch.nextafter(w, torch.full_like(w, math.inf)))
    return model


def rerun_record(record: dict[str, Any], data_dir: str = "data") -> dict[str, Any]:
    """Train ``record``'s trial again on the CPU, one torch thread, the way it was trained
    (stacked, as a group of one, if the record was; a member's numbers do not depend on the other
    members of its group)."""
    config = TrialConfig.from_dict(record["config"])
    if record.get("stacked"):
        torch.set_num_threads(1)
        return run_group_stacked([config], data_dir=data_dir, device="cpu")[0]
    return run_trial(config, data_dir=data_dir, device="cpu", num_threads=1)


def verify_sample(results: str | Path, sample: int = 5, seed: int = 0,
                  data_dir: str = "data") -> pd.DataFrame:
    """Rerun ``sample`` randomly chosen finished trials under ``results`` and compare histories.

    Columns: trial_id, experiment, modes, lr, seed, stacked, recorded_on (the record's
    :func:`~mufno_core.provenance.recorded_kernels`), same_cpu (they are this machine's CPU model
    and kernel level), max_rel_diff, identical.
    """
    records = [r for r in iter_records(Path(results)) if r.get("status") in DONE_STATUSES
               and "history" in r]
    if not records:
        raise ValueError(f"no finished trial records under {results}")
    chosen = random.Random(seed).sample(records, min(sample, len(records)))
    here = cpu_kernels()
    rows = []
    for record in chosen:
        config = TrialConfig.from_dict(record["config"])
        rerun = rerun_record(record, data_dir)
        diff = (history_difference(record, rerun) if rerun.get("status") in DONE_STATUSES
                else math.inf)
        rows.append({"trial_id": record["trial_id"], "experiment": config.experiment,
                     "modes": config.modes, "lr": config.lr, "seed": config.seed,
                     "stacked": bool(record.get("stacked")),
                     "recorded_on": recorded_kernels(record),
                     "same_cpu": recorded_kernels(record) == here,
                     "max_rel_diff": diff, "identical": diff == 0.0})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a results store, or one experiment's folder in it")
    parser.add_argument("--sample", type=int, default=5, help="trials to rerun (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="which random sample (default 0)")
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args(argv)
    if args.sample < 1:
        parser.error("--sample must be positive")
    try:
        table = verify_sample(args.results, args.sample, args.seed, args.data_dir)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
    identical = int(table["identical"].sum())
    print(f"{identical} of {len(table)} reruns bit-identical to their records; largest relative "
          f"difference {table['max_rel_diff'].max():.2e} (expected: 0 on the CPU model and kernel "
          f"level that wrote them, round-off elsewhere)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
