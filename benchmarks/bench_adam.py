"""Adam on the FNO's spectral weights: PyTorch's default (foreach) Adam against its fused kernel.

``mufno_core.mup.make_adam`` picks the fused kernel, which the FNO allows because its spectral
weights are stored as real (re, im) pairs (``SpectralConv.weight_as_real``; the fused kernel
rejects complex tensors). The default Adam does exactly what it did on the complex weights before
(it views complex parameters as real itself), so "default" is also the cost of the old storage.

One model, two optimizers over its parameters (each with its own moments), steps alternating in one
process: a training step = forward, MSE, backward, element-wise clipping, Adam step, and the Adam
step alone timed within it. Medians over ``--repeats`` steps after ``--warmup``.

    .venv/bin/python benchmarks/bench_adam.py                  # CPU: FNO-3D K=12, width 32, 32³
    python benchmarks/bench_adam.py --device cuda --config big   # FNO-3D K=24, width 64, 64³ (906M)
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from timing import device_name, median_ms, timed
from torch.nn import functional as F

from mufno_core.model import FNO
from mufno_core.mup import make_adam
from mufno_core.train import clip_gradients_elementwise


@dataclass(frozen=True)
class Config:
    dim: int
    modes: int
    grid: tuple[int, ...]
    width: int
    batch: int = 2
    in_channels: int = 10


CONFIGS = {
    "tiny": Config(2, 4, (16, 16), width=8, in_channels=1),  # seconds: for the script's dry run
    "mid": Config(3, 12, (32, 32, 32), width=32),  # 28M complex spectral weights: fits a laptop
    "big": Config(3, 24, (64, 64, 64), width=64),  # issue 7's 906M-parameter FNO-3D
}


def bench(config: Config, device: str, repeats: int, warmup: int,
          profile: bool = False) -> dict:
    torch.manual_seed(0)
    model = FNO(config.dim, config.in_channels, 1, config.modes, width=config.width,
                projection_width=2 * config.width, device=device)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(config.batch, config.in_channels, *config.grid, generator=g).to(device)
    y = torch.randn(config.batch, 1, *config.grid, generator=g).to(device)
    optimizers = {"default": make_adam(model, 1e-6, fused=False), "fused": make_adam(model, 1e-6)}
    step_times: dict[str, list[float]] = {name: [] for name in optimizers}
    adam_times: dict[str, list[float]] = {name: [] for name in optimizers}

    def train_step(name: str) -> None:
        optimizer = optimizers[name]
        optimizer.zero_grad(set_to_none=True)
        F.mse_loss(model(x), y).backward()
        clip_gradients_elementwise(list(model.parameters()), 1.0)
        adam_times[name].append(timed(device, optimizer.step))

    for round_ in range(warmup + repeats):
        for name in optimizers:
            seconds = timed(device, functools.partial(train_step, name))
            if round_ < warmup:
                adam_times[name].pop()
            else:
                step_times[name].append(seconds)
    row = {"config": asdict(config), "spectral_params": model.spectral_parameter_count()}
    for name in optimizers:
        row[f"{name}_step_ms"] = median_ms(step_times[name])
        row[f"{name}_adam_ms"] = median_ms(adam_times[name])
    row["step_speedup"] = row["default_step_ms"] / row["fused_step_ms"]
    row["adam_speedup"] = row["default_adam_ms"] / row["fused_adam_ms"]
    if torch.device(device).type == "cuda":
        row["peak_gib_both_optimizers"] = torch.cuda.max_memory_allocated(device) / 2**30
    if profile:
        print_profile(device, functools.partial(train_step, "fused"))
    return row


def print_profile(device: str, step: Callable[[], None], rows: int = 15) -> None:
    """The operators of two training steps with the fused Adam, by their own time on the device."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    cuda = torch.device(device).type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with torch_profile(activities=activities, record_shapes=True) as prof:
        for _ in range(2):
            timed(device, step)
    key = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    print(prof.key_averages(group_by_input_shape=True).table(sort_by=key, row_limit=rows,
                                                             max_name_column_width=40))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--config", default="mid", choices=sorted(CONFIGS))
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--profile", action="store_true",
                        help="also print the top operators of two fused-Adam training steps")
    parser.add_argument("--json", default=None, help="also write the result to this file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    row = bench(CONFIGS[args.config], args.device, args.repeats, args.warmup, args.profile)
    row.update(device=device_name(args.device), torch=torch.__version__,
               date=datetime.date.today().isoformat(), repeats=args.repeats)
    print(f"# {row['device']} | torch {row['torch']} | {args.config}: "
          f"{row['spectral_params']:,} complex spectral weights | median of {args.repeats}")
    print(f"{'Adam':<9}{'step ms':>10}{'Adam step ms':>14}")
    for name in ("default", "fused"):
        print(f"{name:<9}{row[f'{name}_step_ms']:>10.1f}{row[f'{name}_adam_ms']:>14.1f}")
    print(f"fused speed-up: {row['step_speedup']:.2f}× per training step, "
          f"{row['adam_speedup']:.2f}× per Adam step")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(row, f, indent=1)


if __name__ == "__main__":
    main()
