"""glibc malloc defaults against the tuning of ``mufno_core.sweep.malloc``, on a sweep's workload.

Each run is a fresh process that trains the quick Navier–Stokes model (FNO-3D, width 8, K = 8,
K_t = 6, 32²×10 grid, batch 5) on random data for ``--steps`` steps on one thread, as one worker of
the process executor does. Three settings, interleaved, ``--repeats`` rounds; medians of wall time,
kernel (system) time and minor page faults:

* ``default``: glibc as it comes;
* ``mallopt``: ``keep_freed_memory`` called in the running process (mmap threshold capped at 32 MB);
* ``environment``: started with ``GLIBC_TUNABLES`` (what the sweep's workers and the book's kernels get).

    .venv/bin/python benchmarks/bench_malloc.py --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from mufno_core.sweep.malloc import GLIBC_TUNABLES

WORKLOAD = """
import json, resource, sys, time
import torch
from mufno_core import FNO
from mufno_core.train import TrainConfig, train
torch.set_num_threads(1)
if sys.argv[1] == "mallopt":
    from mufno_core.sweep.malloc import keep_freed_memory
    keep_freed_memory(children=False)
g = torch.Generator().manual_seed(0)
x, y = torch.randn(100, 10, 32, 32, 10, generator=g), torch.randn(100, 1, 32, 32, 10, generator=g)
model = FNO(3, 10, 1, (8, 8, 6), width=8)
before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
train(model, (x, y), None, TrainConfig(lr=1e-3, steps=int(sys.argv[2]), batch_size=5), progress=False)
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.perf_counter() - start, "sys": after.ru_stime - before.ru_stime,
                  "minflt": after.ru_minflt - before.ru_minflt}))
"""


def run(setting: str, steps: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    if setting == "environment":
        env["GLIBC_TUNABLES"] = GLIBC_TUNABLES
    out = subprocess.run([sys.executable, "-c", WORKLOAD, setting, str(steps)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    settings = ("default", "mallopt", "environment")
    runs: dict[str, list[dict]] = {s: [] for s in settings}
    for _ in range(args.repeats):
        for setting in settings:
            runs[setting].append(run(setting, args.steps))
    rows = {s: {key: statistics.median(r[key] for r in runs[s]) for key in ("wall", "sys", "minflt")}
            for s in settings}
    print(f"# {args.steps} training steps of the quick Navier–Stokes FNO-3D, one thread, "
          f"median of {args.repeats} processes each")
    print(f"{'setting':<12}{'wall s':>8}{'sys s':>8}{'minor faults':>14}{'speed-up':>10}")
    for s in settings:
        r = rows[s]
        print(f"{s:<12}{r['wall']:>8.2f}{r['sys']:>8.2f}{r['minflt']:>14,.0f}"
              f"{rows['default']['wall'] / r['wall']:>9.2f}×")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"steps": args.steps, "repeats": args.repeats, "medians": rows}, f, indent=1)


if __name__ == "__main__":
    main()
