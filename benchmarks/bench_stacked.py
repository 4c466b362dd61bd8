"""Stacked training (``train_stacked``) against one-by-one ``train`` for M members of one K.

For each configuration and each M, a round trains the same M members (different LR, seed and β2,
``steps`` steps each, one evaluation at the end) once one by one with
:func:`mufno_core.train.train` and once stacked with :func:`mufno_core.stacked.train_stacked`;
rounds alternate the two in one process after one warm-up round. The table reports the median
time per member-step of each and the speed-up = one-by-one median / stacked median.

    .venv/bin/python benchmarks/bench_stacked.py --device cpu                  # quick-preset sizes
    .venv/bin/python benchmarks/bench_stacked.py --device cuda --members 8 16 48  # gpu-preset sizes

Data are random tensors of the right shapes: the cost of a step does not depend on the values.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
from dataclasses import asdict, dataclass

import torch
from timing import device_name, timed

from mufno_core.model import FNO
from mufno_core.stacked import build_members, train_stacked
from mufno_core.train import TrainConfig, train


@dataclass(frozen=True)
class Config:
    name: str
    dim: int
    modes: int
    grid: tuple[int, ...]
    width: int
    batch: int = 20
    depth: int = 4
    n_train: int = 200
    n_test: int = 20


CONFIGS = {
    c.name: c
    for c in [
        # the sizes of the quick presets (2-core CPU)
        Config("burgers-quick-k12", 1, 12, (128,), width=16),
        Config("darcy-quick-k6", 2, 6, (29, 29), width=16, batch=10),
        # the sizes of the gpu presets (FNO-1D on 1024 points, FNO-2D on 85², width 64)
        Config("burgers-gpu-k16", 1, 16, (1024,), width=64),
        Config("burgers-gpu-k128", 1, 128, (1024,), width=64),
        Config("darcy-gpu-k12", 2, 12, (85, 85), width=64),
        Config("darcy-gpu-k24", 2, 24, (85, 85), width=64),
    ]
}
DEFAULTS = {"cpu": ["burgers-quick-k12", "darcy-quick-k6"],
            "cuda": ["burgers-gpu-k16", "burgers-gpu-k128", "darcy-gpu-k12", "darcy-gpu-k24"]}


def member_configs(members: int, steps: int, batch: int) -> list[TrainConfig]:
    """M members as a sweep makes them: LRs on a log grid × 3 seeds, alternating β2."""
    return [TrainConfig(lr=10 ** (-4 + (i // 3) / 4), seed=i % 3, beta2=(0.999, 0.99)[i % 2],
                        steps=steps, batch_size=batch, eval_every=steps) for i in range(members)]


def bench(config: Config, members: int, steps: int, repeats: int, device: torch.device) -> dict:
    g = torch.Generator().manual_seed(0)
    n = config.n_train + config.n_test
    x = torch.randn(n, 1, *config.grid, generator=g).to(device)
    y = torch.randn(n, 1, *config.grid, generator=g).to(device)
    train_data = (x[: config.n_train], y[: config.n_train])
    test_data = (x[config.n_train :], y[config.n_train :])
    configs = member_configs(members, steps, config.batch)

    def make_model() -> FNO:
        return FNO(config.dim, 1, 1, config.modes, width=config.width, depth=config.depth,
                   parametrization="mup", device=device)

    def one_by_one() -> None:
        for c, model in zip(configs, build_members(make_model, [c.seed for c in configs])):
            train(model, train_data, test_data, c, progress=False)

    def stacked() -> None:
        models = build_members(make_model, [c.seed for c in configs])
        train_stacked(models, train_data, test_data, configs, progress=False)

    times: dict[str, list[float]] = {"one_by_one": [], "stacked": []}
    for round_ in range(repeats + 1):  # round 0 warms up
        for name, fn in (("one_by_one", one_by_one), ("stacked", stacked)):
            t = timed(device, fn)
            if round_ > 0:
                times[name].append(t)
    per_step = {name: statistics.median(ts) / (members * steps) for name, ts in times.items()}
    return {"config": asdict(config), "members": members, "steps": steps, "repeats": repeats,
            "ms_per_member_step_one_by_one": 1e3 * per_step["one_by_one"],
            "ms_per_member_step_stacked": 1e3 * per_step["stacked"],
            "speedup": per_step["one_by_one"] / per_step["stacked"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=None,
                        help="default: the quick-preset sizes on cpu, the gpu-preset sizes on cuda")
    parser.add_argument("--members", nargs="+", type=int, default=[8, 16])
    parser.add_argument("--steps", type=int, default=None, help="steps per run (cpu 5, cuda 20)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    steps = args.steps or (20 if device.type == "cuda" else 5)
    names = args.configs or DEFAULTS[device.type]
    torch.backends.cudnn.benchmark = False
    machine = device_name(device)
    print(f"# torch {torch.__version__} on {machine}; {steps} steps/run, median of {args.repeats}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'config':<20} {'M':>3} {'one-by-one ms':>14} {'stacked ms':>11} {'speed-up':>9}"
          "   (ms per member-step)")
    rows = []
    for name in names:
        for members in args.members:
            row = bench(CONFIGS[name], members, steps, args.repeats, device)
            rows.append(row)
            print(f"{name:<20} {members:>3} {row['ms_per_member_step_one_by_one']:>14.2f} "
                  f"{row['ms_per_member_step_stacked']:>11.2f} {row['speedup']:>8.2f}×", flush=True)
            if args.json:  # after every row: a run stopped by a time limit keeps what it measured
                with open(args.json, "w") as f:
                    json.dump({"date": datetime.datetime.now().isoformat(timespec="seconds"),
                               "torch": torch.__version__, "device": machine, "rows": rows}, f,
                              indent=1)
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
