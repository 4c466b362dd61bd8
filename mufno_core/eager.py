"""Adam without importing ``torch._dynamo``.

torch.optim imports ``torch._dynamo`` (1.5 s of CPU, as long as importing torch itself) in every
process that trains, for ``torch.compile``'s sake only: ``Optimizer.step``'s grad-mode wrapper
imports it on every step to mark graph breaks, and the "never compile" wrappers of
``Optimizer.add_param_group``, ``zero_grad``, ``state_dict``, ``load_state_dict`` and the functional
``adam`` import it on their first call to build the mark. Every sweep worker and CLI run paid it.

Outside ``torch.compile`` neither wrapper changes what runs, and nothing in this library compiles.
:class:`Adam` is ``torch.optim.Adam`` whose step is torch's own step function under
``torch.no_grad()`` (what the grad-mode wrapper sets for a non-differentiable Adam), and
:func:`skip_dynamo_import` caches each "never compile" function as its own mark, so the wrapper
calls it without the import: the same functions, the same numbers (``tests/test_eager.py``).
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Callable, Iterator

import torch

_CACHE_ATTRIBUTE = "__dynamo_disable"
"""Where torch's ``_disable_dynamo`` wrapper caches the disabled function (torch 2.13.0)."""

_ADAM_STEP: Callable = inspect.unwrap(torch.optim.Adam.step)
"""torch's Adam step, without the profiler hook and the grad-mode wrapper around it."""


_modules_scanned = 0
"""len(sys.modules) at the last scan: a scan again only when modules were imported since."""

SCANNED_MODULES = ("torch._refs", "torch._prims", "torch._prims_common", "torch.optim",
                   "torch.utils.flop_counter", "torch.utils._python_dispatch")
"""Where the "never compile" wrappers a trial meets live: the optimizers, and the reference
implementations that run every operation on the meta device (where a sweep estimates a trial's
memory before it starts)."""


def _closure_functions(function: types.FunctionType) -> list[types.FunctionType]:
    values = []
    for cell in function.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:  # a cell not filled yet
            continue
        if isinstance(value, types.FunctionType):
            values.append(value)
    return values


def _scanned(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in SCANNED_MODULES)


def dynamo_wrapped() -> Iterator[types.FunctionType]:
    """The original functions behind the ``_disable_dynamo`` wrappers in :data:`SCANNED_MODULES`
    (module functions and class methods, and wrappers held in their closures, four levels deep)."""
    code = torch._disable_dynamo(lambda: None).__code__
    seen: set[int] = set()

    def visit(function: object, depth: int) -> Iterator[types.FunctionType]:
        if not isinstance(function, types.FunctionType) or id(function) in seen or depth > 4:
            return
        seen.add(id(function))
        if function.__code__ is code:  # the wrapper's own ``fn`` (``__wrapped__`` may be re-pointed)
            yield function.__closure__[code.co_freevars.index("fn")].cell_contents
            return
        for inner in _closure_functions(function):
            yield from visit(inner, depth + 1)

    for name, module in list(sys.modules.items()):
        if module is None or not _scanned(name):
            continue
        for value in list(vars(module).values()):
            members = vars(value).values() if isinstance(value, type) else (value,)
            for member in list(members):
                yield from visit(member, 0)


def skip_dynamo_import() -> int:
    """Let the "never compile" wrappers of :data:`SCANNED_MODULES` call their function without
    importing ``torch._dynamo``, in a process that has not imported it (nobody compiled anything
    there); how many functions now skip it."""
    global _modules_scanned
    if "torch._dynamo" in sys.modules or len(sys.modules) == _modules_scanned:
        return 0
    _modules_scanned = len(sys.modules)
    count = 0
    for original in dynamo_wrapped():
        if getattr(original, _CACHE_ATTRIBUTE, None) is None:
            setattr(original, _CACHE_ATTRIBUTE, original)
            count += 1
    return count


class Adam(torch.optim.Adam):
    """``torch.optim.Adam`` that never imports ``torch._dynamo`` (see the module's docstring);
    its updates are torch's, bit for bit."""

    def __init__(self, *args, **kwargs) -> None:
        skip_dynamo_import()
        super().__init__(*args, **kwargs)

    @torch.no_grad()
    def step(self, closure=None):
        return _ADAM_STEP(self, closure)
