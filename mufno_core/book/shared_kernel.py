"""The book's notebooks run one after another in one kernel, each finding what a fresh kernel offers.

A kernel's start and its first imports (IPython, torch, pandas, SciPy, matplotlib) cost about 3.5 s
of CPU, most of what a notebook of the smoke preset takes; the 14 notebooks of the book ran in
93 s with a kernel each and in 38 s in one (``make book PRESET=smoke``, measured 2026-12-04). So
:func:`shared_kernel` starts one kernel and, before each notebook, :data:`RESET` calls
:func:`restore_fresh_state`, which clears the user namespace (``%reset -f``, keeping
``__main__``'s module attributes) and puts back what a notebook
could read from the process: the warnings already shown (each is shown again), matplotlib's
settings and open figures, the global random generators (torch's, NumPy's and Python's seeded
from fresh entropy, as a new process seeds them), torch's threads and default dtype,
and the working directory. Modules stay imported: that is the saving. What survives the reset is
then frozen out of the garbage collector's reach (:func:`gc.freeze`): IPython's reset runs two full
collections, each of which walked the ~290,000 objects of torch, pandas and matplotlib (0.18 s)
for every notebook. ``--fresh-kernels``
(``scripts/run_notebooks.py``) gives each notebook its own kernel, as a reader running one has.
"""

from __future__ import annotations

import gc
import os
import random
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESET = ("from mufno_core.book.shared_kernel import restore_fresh_state as _restore\n"
         "_restore(get_ipython())\n")
"""What the kernel runs before each notebook (not part of any notebook's cells)."""

_FRESH: dict[str, Any] = {}
"""The state found at the first call, in the kernel before any notebook ran."""


def restore_fresh_state(shell: Any = None) -> None:
    """Put back the process state a notebook could read (see the module docstring); the first call
    records it. With IPython's ``shell``, first clear its user namespace (``%reset -f``) and put
    back the module attributes a fresh kernel's ``__main__`` has (``__spec__``, ``__builtins__``
    …: a spawned process pool reads ``__main__.__spec__``)."""
    import matplotlib
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    if shell is not None:
        if "module_names" not in _FRESH:
            _FRESH["module_names"] = {k: v for k, v in shell.user_ns.items()
                                      if k.startswith("__") and k.endswith("__")}
        shell.run_line_magic("reset", "-f")
        for name, value in _FRESH["module_names"].items():
            shell.user_ns.setdefault(name, value)
    if "filters" not in _FRESH:
        _FRESH.update(filters=list(warnings.filters), rc=matplotlib.rcParams.copy(),
                      threads=torch.get_num_threads(),
                      dtype=torch.get_default_dtype(), cwd=os.getcwd())
    warnings.resetwarnings()  # also forgets which warnings were shown where
    warnings.filters[:] = _FRESH["filters"]
    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rcParams deprecated since the copy was taken
        matplotlib.rcParams.update(_FRESH["rc"])
    torch.seed()
    np.random.seed()
    random.seed()
    torch.set_num_threads(_FRESH["threads"])
    torch.set_default_dtype(_FRESH["dtype"])
    os.chdir(_FRESH["cwd"])
    gc.freeze()  # what is alive now is the kernel's and its modules': later collections skip it


def renumber_executions(notebook: dict) -> dict:
    """Execution counts from 1 in each notebook, as a kernel of its own would number them."""
    count = 0
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code" or cell.get("execution_count") is None:
            continue
        count += 1
        cell["execution_count"] = count
        for output in cell.get("outputs", []):
            if "execution_count" in output:
                output["execution_count"] = count
    return notebook


@contextmanager
def shared_kernel(kernel_name: str, cwd: str | Path) -> Iterator[Any]:
    """A started kernel (a ``jupyter_client`` KernelManager) in ``cwd``, shut down on leaving."""
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name=kernel_name)
    manager.start_kernel(cwd=str(Path(cwd).resolve()))
    try:
        yield manager
    except BaseException:
        kill(manager)
        raise
    manager.shutdown_kernel(now=True)


def kill(manager: Any) -> None:
    """End the kernel's process at once, outside the client's event loop: after Ctrl-C that loop
    may still hold the interrupted cell's wait for a reply that never comes, which a shutdown
    request (run on the same loop) would wait on for ever."""
    process = getattr(getattr(manager, "provisioner", None), "process", None)
    if process is None:
        manager.shutdown_kernel(now=True)
        return
    process.kill()
    process.wait()
    manager.cleanup_connection_file()  # what cleanup_resources removes, without the loop
    manager.cleanup_ipc_files()


def reset(manager: Any, timeout: float = 60.0) -> None:
    """Run :data:`RESET` in the kernel; raises RuntimeError if it fails."""
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
        reply = client.execute_interactive(RESET, silent=True, timeout=timeout)
    finally:
        client.stop_channels()
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"the shared kernel could not be reset: {reply['content'].get('evalue')}")
