"""Time one training step (forward, backward, Adam) of our FNO against neuraloperator's FNO.

Matched configurations (issue 7): the same block, spectral convolution + linear 1×1 skip as in
the original FNO (theirs with ``use_channel_mlp=False``), width 64, depth 4, the same set of kept
Fourier modes (theirs counts all modes of an axis: ``n_modes = 2K`` on every axis, ``2K - 1`` on
the last one, which keeps ``(2K - 1) // 2 + 1 = K``), a linear lifting and a 64→128→out projection
on both sides, the grid appended as extra input channels on both sides, batch 20, MSE loss, the
same ``torch.optim.Adam`` for both. Remaining differences (they do not change the work done):
theirs puts the 64 bias entries of each layer on the spectral convolution instead of the skip,
applies GELU twice between layers (a quirk of neuraloperator 2.0.0 without channel MLP) and
uses ``fft_norm="forward"``.

Steps of ours and theirs alternate in one process; the table reports the median over
``--repeats`` steps after ``--warmup`` steps each, and the speed-up = their median / ours.

    .venv/bin/python benchmarks/bench_fno_speed.py --device cpu --repeats 20
    .venv/bin/python benchmarks/bench_fno_speed.py --device cuda --big   # H100: adds FNO-3D K=24
"""

from __future__ import annotations

import argparse
import datetime
import json
from dataclasses import dataclass

import torch
from timing import device_name, median_ms, timed
from torch.nn import functional as F

from mufno_core.model import FNO
from mufno_core.mup import fused_adam_applies


@dataclass(frozen=True)
class Config:
    name: str
    dim: int
    modes: int
    grid: tuple[int, ...]
    batch: int = 20
    width: int = 64
    depth: int = 4
    in_channels: int = 1
    out_channels: int = 1


CONFIGS = {
    c.name: c
    for c in [
        Config("fno1d-k16-1024", 1, 16, (1024,)),
        Config("fno2d-k8-32", 2, 8, (32, 32)),
        Config("fno2d-k12-64", 2, 12, (64, 64)),
        Config("fno3d-k4-32x32x16", 3, 4, (32, 32, 16), in_channels=10),
        Config("fno2d-k12-85", 2, 12, (85, 85)),
    ]
}
DEFAULT_CONFIGS = ["fno1d-k16-1024", "fno2d-k8-32", "fno2d-k12-64", "fno3d-k4-32x32x16"]
BIG = Config("fno3d-k24-64cubed-b2", 3, 24, (64, 64, 64), batch=2, in_channels=10)


def ours(cfg: Config, device: str) -> torch.nn.Module:
    return FNO(cfg.dim, cfg.in_channels, cfg.out_channels, cfg.modes, width=cfg.width,
               depth=cfg.depth, projection_width=2 * cfg.width, device=device)


def theirs(cfg: Config, device: str) -> torch.nn.Module:
    from neuralop.models import FNO as NeuralopFNO

    n_modes = (2 * cfg.modes,) * (cfg.dim - 1) + (2 * cfg.modes - 1,)
    return NeuralopFNO(n_modes=n_modes, in_channels=cfg.in_channels,
                       out_channels=cfg.out_channels, hidden_channels=cfg.width,
                       n_layers=cfg.depth, lifting_channel_ratio=0, projection_channel_ratio=2,
                       positional_embedding="grid", use_channel_mlp=False,
                       fno_skip="linear").to(device)


def parameter_count(model: torch.nn.Module) -> int:
    """Real scalars: a complex entry counts twice."""
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters())


class Stepper:
    """One Adam training step on a fixed batch, timed with device synchronisation."""

    def __init__(self, model: torch.nn.Module, cfg: Config, device: str, adam: dict,
                 compile: bool = False) -> None:
        self.model = model
        self.forward = torch.compile(model) if compile else model
        self.device = device
        if adam.get("fused") and not fused_adam_applies(model.parameters()):
            adam = {"foreach": True}  # complex parameters (neuraloperator's): fused Adam rejects them
        self.adam = next(iter(adam), "default")
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, **adam)
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(cfg.batch, cfg.in_channels, *cfg.grid, generator=g).to(device)
        self.y = torch.randn(cfg.batch, cfg.out_channels, *cfg.grid, generator=g).to(device)
        self.times: list[float] = []

    def step(self) -> float:
        self.optimizer.zero_grad(set_to_none=True)
        loss = F.mse_loss(self.forward(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def timed_step(self) -> None:
        self.times.append(timed(self.device, self.step))

    def median_ms(self) -> float:
        return median_ms(self.times)


def adam_options(name: str) -> dict:
    return {"default": {}, "foreach": {"foreach": True}, "fused": {"fused": True}}[name]


def bench_pair(cfg: Config, device: str, repeats: int, warmup: int, adam: dict,
               compile: bool = False) -> dict:
    torch.manual_seed(0)
    pair = {"ours": Stepper(ours(cfg, device), cfg, device, adam, compile),
            "theirs": Stepper(theirs(cfg, device), cfg, device, adam)}
    for _ in range(warmup):
        for s in pair.values():
            s.step()
    for _ in range(repeats):
        for s in pair.values():
            s.timed_step()
    row = {"config": cfg.name, "batch": cfg.batch,
           "ours_ms": pair["ours"].median_ms(), "theirs_ms": pair["theirs"].median_ms(),
           "ours_params": parameter_count(pair["ours"].model),
           "theirs_params": parameter_count(pair["theirs"].model),
           "ours_adam": pair["ours"].adam, "theirs_adam": pair["theirs"].adam}
    row["speedup"] = row["theirs_ms"] / row["ours_ms"]
    row["ours_steps_ms"] = [1e3 * t for t in pair["ours"].times]
    row["theirs_steps_ms"] = [1e3 * t for t in pair["theirs"].times]
    return row


def bench_big(device: str, repeats: int, warmup: int, adam: dict, compile: bool = False) -> dict:
    """The 906M-parameter FNO-3D alone (both side by side would not fit): step time, peak memory."""
    torch.manual_seed(0)
    stepper = Stepper(ours(BIG, device), BIG, device, adam, compile)
    for _ in range(warmup):
        stepper.step()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for _ in range(repeats):
        stepper.timed_step()
    peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else float("nan")
    return {"config": BIG.name, "batch": BIG.batch, "ours_ms": stepper.median_ms(),
            "ours_peak_gib": peak, "spectral_params": stepper.model.spectral_parameter_count(),
            "ours_params": parameter_count(stepper.model)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS, choices=list(CONFIGS))
    parser.add_argument("--repeats", type=int, default=20, help="timed steps per model (>= 10)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--adam", choices=["default", "foreach", "fused"], default="default",
                        help="torch.optim.Adam implementation, the same for both models, except "
                             "that fused falls back to foreach for complex parameters (theirs)")
    parser.add_argument("--big", action="store_true",
                        help="also FNO-3D K=24 width 64 (906M spectral weights) on 64³, batch 2")
    parser.add_argument("--big-only", action="store_true", help="only the --big case")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile our model (default mode); theirs stays eager")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    adam = adam_options(args.adam)

    import neuralop

    meta = {"device": device_name(args.device), "torch": torch.__version__,
            "neuraloperator": neuralop.__version__, "adam": args.adam, "repeats": args.repeats,
            "compile": args.compile, "date": datetime.date.today().isoformat()}
    print(f"# {meta['device']} | torch {meta['torch']} | neuraloperator {meta['neuraloperator']}"
          f" | Adam {args.adam} | median of {args.repeats} steps"
          + (" | ours torch.compile'd" if args.compile else ""))
    rows = []
    if not args.big_only:
        print(f"{'config':<22}{'ours ms':>10}{'theirs ms':>11}{'speed-up':>10}"
              f"{'ours params':>13}{'theirs params':>15}", flush=True)
        for name in args.configs:
            r = bench_pair(CONFIGS[name], args.device, args.repeats, args.warmup, adam, args.compile)
            rows.append(r)
            print(f"{r['config']:<22}{r['ours_ms']:>10.2f}{r['theirs_ms']:>11.2f}"
                  f"{r['speedup']:>9.2f}×{r['ours_params']:>13,}{r['theirs_params']:>15,}", flush=True)
    big = None
    if args.big or args.big_only:
        big = bench_big(args.device, args.repeats, args.warmup, adam, args.compile)
        print(f"{big['config']}: {big['ours_ms']:.1f} ms/step, peak {big['ours_peak_gib']:.1f} GiB, "
              f"{big['spectral_params']:,} complex spectral weights", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows, "big": big}, f, indent=2)


if __name__ == "__main__":
    main()
