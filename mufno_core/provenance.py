"""Where a result came from: the code's commit, the machine, and a one-line provenance of a table.

Every trial record stores ``code_commit`` (:func:`code_commit`), ``cpu_model``, ``device_name`` and
``torch_version``; :func:`provenance_line` summarises the records behind a figure or table.
"""

from __future__ import annotations

import functools
import platform
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

PACKAGE_DIR = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def code_commit() -> str:
    """The git commit of the library's checkout (``<hash>`` or ``<hash>+dirty`` when its files
    differ from the commit), or "unknown" outside a git checkout."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(PACKAGE_DIR), *args], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short=10", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", str(PACKAGE_DIR))
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def _distinct(df: pd.DataFrame, column: str) -> str:
    if column not in df.columns:
        return "unknown"
    values = sorted({str(v) for v in df[column].dropna() if str(v)})
    if not values:
        return "unknown"
    return values[0] if len(values) == 1 else f"{values[0]} and {len(values) - 1} other(s)"


def provenance_line(df: pd.DataFrame, preset: str | None = None) -> str:
    """One line under a result: preset, trials and seeds, K values, hardware, torch, code commit
    and total training time, all read from the records in ``df`` (mirrored rows not counted)."""
    real = df[~df["mirrored"]] if "mirrored" in df.columns else df
    if real.empty:
        return "no trials"
    preset = preset or _distinct(real, "preset")
    hardware = _distinct(real, "device_name")
    if "cpu_model" in real.columns and (real["device"].fillna("cpu") == "cpu").all():
        hardware = _distinct(real, "cpu_model")
    ks = sorted({int(k) for k in real["modes"]})
    minutes = real["wall_time"].fillna(0).sum() / 60 if "wall_time" in real.columns else float("nan")
    return (f"Source: {len(real)} trials of the {preset} preset ({real['seed'].nunique()} seeds, "
            f"K {', '.join(map(str, ks))}) · {hardware} · torch {_distinct(real, 'torch_version')} · "
            f"code {_distinct(real, 'code_commit')} · {minutes:.1f} core-min of training")


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo "model name"; else platform.processor())."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_capability() -> str:
    """The SIMD level PyTorch dispatches its CPU kernels to ("AVX512", "AVX2", "DEFAULT", …). Two
    CPUs sold under one model name can differ here (a virtual "AMD EPYC" with and without
    AVX-512): another level runs other kernels, whose round-off differs by an ulp."""
    import torch  # only here and below: reading records' provenance does not load torch

    return torch.backends.cpu.get_cpu_capability()


def cpu_kernels() -> str:
    """What fixes a CPU training run's round-off here: the CPU model and PyTorch's kernel level,
    e.g. "AMD EPYC (AVX2 kernels)". Runs are bit-identical only between equal values."""
    return f"{cpu_model()} ({cpu_capability()} kernels)"


def recorded_kernels(record: dict) -> str:
    """:func:`cpu_kernels` of the machine that wrote ``record`` (records written before the kernel
    level was recorded say so, and are never taken for this machine's)."""
    capability = record.get("cpu_capability")
    level = f"{capability} kernels" if capability else "kernels not recorded"
    return f"{record.get('cpu_model', 'unknown CPU')} ({level})"


def cpu_or_gpu_name() -> str:
    """The CPU model of this machine (or the CUDA device's name when one is in use)."""
    import torch

    return torch.cuda.get_device_name() if torch.cuda.is_available() else cpu_model()


def run_provenance(description: str, seconds: float) -> str:
    """The provenance line of a result computed in the notebook itself (not from trial records)."""
    import torch

    return (f"Source: {description}, computed here · {cpu_or_gpu_name()} · torch {torch.__version__}"
            f" · code {code_commit()} · {seconds:.0f} s")
