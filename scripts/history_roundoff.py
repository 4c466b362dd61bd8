"""How far round-off and small real changes move a 4-step smoke history (tests/system/test_pinned.py).

    .venv/bin/python scripts/history_roundoff.py

For each of the two pinned smoke trials, prints the largest relative difference of its train and
test loss histories (``mufno_core.sweep.verify.history_difference``) from a rerun under round-off
(1 vs 2 torch threads, stacked with another member, every initial weight one ulp up) and under
1% changes of behaviour (clip value, init scale, LR, other weights' LR; no clipping; another batch
order). The pinned tolerance must sit between the two groups.
"""

from __future__ import annotations

import dataclasses
import tempfile

import torch

import mufno_core.train as train_module
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.experiments import grid
from mufno_core.sweep.trial import run_group_stacked, run_trial
from mufno_core.sweep.verify import history_difference, nudge_one_ulp


def one_ulp_up(build):
    def nudged(self, *args, **kwargs):
        return nudge_one_ulp(build(self, *args, **kwargs))
    return nudged


def reruns(config: TrialConfig, data: str) -> dict[str, dict]:
    out = {}
    torch.set_num_threads(1)
    out["round-off: 1 torch thread"] = run_trial(config, data, "cpu")
    torch.set_num_threads(2)
    twin = dataclasses.replace(config, lr=3 * config.lr)
    out["round-off: stacked with another member"] = run_group_stacked([config, twin], data, "cpu")[0]
    build = TrialConfig.build_model
    TrialConfig.build_model = one_ulp_up(build)
    try:
        out["round-off: initial weights +1 ulp"] = run_trial(config, data, "cpu")
    finally:
        TrialConfig.build_model = build
    other_lr = config.other_lr or config.lr
    for field, value in [("clip_value", config.clip_value * 1.01), ("init_scale", 1.01),
                         ("lr", config.lr * 1.01), ("other_lr", other_lr * 1.01),
                         ("clip_value", None)]:
        out[f"change: {field} = {value:.6g}" if value else f"change: {field} = None"] = run_trial(
            dataclasses.replace(config, **{field: value}), data, "cpu")
    batches = train_module.batches
    train_module.batches = lambda n, size, generator: batches(
        n, size, torch.Generator().manual_seed(generator.initial_seed() + 1))
    try:
        out["change: another batch order"] = run_trial(config, data, "cpu")
    finally:
        train_module.batches = batches
    return out


def main() -> None:
    data = tempfile.mkdtemp()
    for name, overrides in [("pinned 1", {}), ("pinned 2 (other_lr)", {"other_lr": 1e-2})]:
        config = grid("synthetic_lr", "smoke", **overrides)[0]
        torch.set_num_threads(2)
        base = run_trial(config, data, "cpu")
        for label, record in reruns(config, data).items():
            print(f"{name:20s} {label:42s} {history_difference(base, record):.2e}", flush=True)


if __name__ == "__main__":
    main()
