"""Adam without importing torch._dynamo: torch's updates bit for bit, and no import in a trial."""

import subprocess
import sys

import pytest
import torch

from mufno_core import FNO
from mufno_core.eager import Adam, dynamo_wrapped
from mufno_core.mup import make_adam, param_groups

DIMS = [1, 2, 3]


def _trained(dim: int, optimizer_class, fused: bool, weight_decay_mode: str, steps: int = 4):
    torch.manual_seed(dim)
    model = FNO(dim, 1, 1, 3, width=6, depth=2, parametrization="mup")
    x = torch.randn(3, 1, *([8] * dim))
    groups = param_groups(model, 1e-2, 0.5, weight_decay=1e-2, weight_decay_mode=weight_decay_mode)
    optimizer = optimizer_class(groups, lr=1e-2, fused=fused)
    for _ in range(steps):
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()], optimizer.state_dict()


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("weight_decay_mode", ["l2", "independent"])
def test_adam_updates_are_torchs_bit_for_bit(dim, fused, weight_decay_mode):
    ours, our_state = _trained(dim, Adam, fused, weight_decay_mode)
    theirs, their_state = _trained(dim, torch.optim.Adam, fused, weight_decay_mode)
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)
    for key, state in our_state["state"].items():
        for name, value in state.items():
            assert torch.equal(value, their_state["state"][key][name]), name


def test_the_step_keeps_the_callers_grad_mode_and_runs_a_closure():
    p = torch.nn.Parameter(torch.ones(3))
    optimizer = Adam([p], lr=0.1)
    loss = optimizer.step(lambda: p.square().sum().backward() or p.square().sum())
    assert torch.is_grad_enabled() and loss.item() == pytest.approx(3.0)
    assert (p < 1).all()


def test_every_never_compile_wrapper_a_trial_calls_is_found():
    """If a torch upgrade moves them, this names what changed (and the import comes back)."""
    names = {f"{f.__module__}.{f.__qualname__}" for f in dynamo_wrapped()}
    optimizer = {f"torch.optim.optimizer.Optimizer.{name}" for name in
                 ("state_dict", "load_state_dict", "zero_grad", "add_param_group")}
    assert optimizer | {"torch.optim.adam.adam"} <= names
    import torch.utils.flop_counter  # noqa: F401  (what a sweep's memory estimate runs under)

    names = {f"{f.__module__}.{f.__qualname__}" for f in dynamo_wrapped()}
    assert {"torch._refs.cat", "torch.utils.flop_counter._FlopCounterMode.__torch_dispatch__"} <= names


def test_a_trial_in_a_fresh_process_never_imports_dynamo(tmp_path):
    code = ("import sys\n"
            "from mufno_core.sweep import grid\n"
            "from mufno_core.sweep.trial import run_trial\n"
            f"record = run_trial(grid('synthetic_lr', 'smoke')[0], data_dir={str(tmp_path)!r})\n"
            "assert record['status'] == 'ok', record\n"
            "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_make_adam_builds_it():
    model = FNO(1, 1, 1, 3, width=4, depth=1)
    assert type(make_adam(model, 1e-3)) is Adam
