"""glibc malloc tuning for sweep processes: set for children, applied here, never harmful."""

from __future__ import annotations

import os
import sys

import pytest
import torch

from mufno_core import FNO
from mufno_core.sweep import malloc


def test_children_start_with_the_tunables(monkeypatch, processes):
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    malloc.keep_freed_memory()
    assert os.environ["GLIBC_TUNABLES"] == malloc.GLIBC_TUNABLES
    code = "from mufno_core.sweep.malloc import tuned_at_start; print(tuned_at_start())"
    out = processes.run([sys.executable, "-c", code])
    assert out.returncode == 0, out.stderr
    expected = "True" if sys.platform.startswith("linux") else "False"
    assert out.stdout.strip() == expected


def test_a_users_own_setting_is_kept(monkeypatch):
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    malloc.keep_freed_memory()
    assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_this_process_is_tuned_and_training_still_works():
    """The tuning changes where freed memory goes, never a number: a training step's gradients
    are bit-identical before and after it."""

    def gradients() -> list[torch.Tensor]:
        torch.manual_seed(0)
        model = FNO(2, 1, 1, 3, width=8)
        model(torch.randn(2, 1, 16, 16)).sum().backward()
        return [p.grad.clone() for p in model.parameters()]

    before = gradients()
    assert malloc.keep_freed_memory(children=False)
    after = gradients()
    assert all(torch.isfinite(g).all() and g.abs().sum() > 0 for g in after)
    assert all(torch.equal(a, b) for a, b in zip(before, after))
