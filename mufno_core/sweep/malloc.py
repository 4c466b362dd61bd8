"""Keep freed memory in the process instead of handing it back to the OS after every step.

A training step on the CPU allocates and frees the same tensors of a few MB again and again. glibc's
malloc serves such sizes with fresh ``mmap`` s (or trims the heap after the free), so every step
faults the same pages in anew and spends kernel time on it. Raising glibc's mmap and trim
thresholds keeps those pages in the process (the effect, measured by ``benchmarks/bench_malloc.py``,
is in ``benchmarks/README.md``).

* :data:`GLIBC_TUNABLES` in the environment acts on processes started afterwards (the sweep's
  spawned workers, papermill's kernels): glibc reads it at start-up, without the ``mallopt`` cap.
* ``mallopt`` acts on the running process at once, with the mmap threshold capped at 32 MB.

Both are no-ops where the C library is not glibc (macOS, musl). The price: a process keeps its
peak heap until it exits, which is what a sweep worker wants.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

GLIBC_TUNABLES = "glibc.malloc.mmap_threshold=2147483647:glibc.malloc.trim_threshold=4294967295"
"""Never mmap (below 2 GiB) and never trim: freed memory stays in the heap for the next step."""

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # glibc's cap for mallopt on 64-bit
_applied = False


def keep_freed_memory(children: bool = True) -> bool:
    """Tune glibc malloc for repeated training steps in this process (and, with ``children``, in
    processes it starts later). Returns whether this process was tuned; idempotent."""
    global _applied
    if children and "GLIBC_TUNABLES" not in os.environ:
        os.environ["GLIBC_TUNABLES"] = GLIBC_TUNABLES
    if _applied or tuned_at_start():
        return True  # mallopt would lower the threshold that the environment set
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)) and bool(
        mallopt(_M_TRIM_THRESHOLD, 2**30))
    return _applied


def tuned_at_start() -> bool:
    """Whether this process started with our ``GLIBC_TUNABLES`` (its environment at exec time; glibc
    splits the value in place while parsing it, so only its first tunable is looked for)."""
    first = GLIBC_TUNABLES.split(":")[0]
    try:
        with open("/proc/self/environ", "rb") as f:
            return f"GLIBC_TUNABLES={first}".encode() in f.read()
    except OSError:
        return False
