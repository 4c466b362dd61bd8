"""Stacked training equals one-by-one training: histories, final parameters, divergence, the optimizer."""

import math

import pytest
import torch

from mufno_core import FNO
from mufno_core.mup import make_adam
from mufno_core.stacked import (
    FlatMembers,
    StackedAdam,
    build_members,
    check_stackable,
    train_stacked,
)
from mufno_core.train import TrainConfig, train
from tests.test_mup import (
    WD_BETAS,
    WD_EPS,
    WD_EVERY,
    WD_GAMMA,
    WD_LAMBDA,
    WD_LR,
    WD_STEPS,
    expected_after_decay,
    tiny_mup_model,
    wd_gradients,
)

GRIDS = {1: (16,), 2: (10, 10), 3: (8, 6, 6)}
TOLERANCE = {torch.float64: {"rtol": 1e-9, "atol": 1e-11}, torch.float32: {"rtol": 2e-4, "atol": 2e-5}}


def smoothing_problem(dim: int, dtype: torch.dtype, n: int = 20):
    """Random inputs → a low-pass filter of them (as in test_train), 12 train and 8 test samples."""
    g = torch.Generator().manual_seed(dim)
    x = torch.randn(n, 1, *GRIDS[dim], generator=g, dtype=dtype)
    axes = tuple(range(-dim, 0))
    y = torch.fft.irfftn(torch.fft.rfftn(x, dim=axes) * 0.5, s=GRIDS[dim], dim=axes) + 0.3 * x
    return (x[:12], y[:12]), (x[12:], y[12:])


def model_factory(dim: int, dtype: torch.dtype):
    return lambda: FNO(dim, 1, 1, 2, width=6, depth=2, parametrization="mup", projection_width=8,
                       dtype=dtype)


def member_configs(lrs=(1e-2, 3e-3, 2e-2), **shared) -> list[TrainConfig]:
    """Members that differ in lr, seed, β1, β2, eps and weight decay (each coupling of
    :data:`~mufno_core.mup.WEIGHT_DECAY_MODES`); a step schedule for all."""
    shared = {"steps": 6, "batch_size": 4, "eval_every": 2, "lr_decay_every": 4, **shared}
    members = [(0, 0.9, 0.999, 1e-8, 0.05, "independent"), (1, 0.8, 0.99, 1e-6, 1e-3, "l2"),
               (2, 0.9, 0.95, 1e-8, 0.5, "adamw"), (3, 0.85, 0.999, 1e-7, 0.0, "l2")]
    return [TrainConfig(lr=lr, seed=s, beta1=b1, beta2=b2, eps=eps, weight_decay=wd,
                        weight_decay_mode=mode, **shared)
            for lr, (s, b1, b2, eps, wd, mode) in zip(lrs, members)]


def one_by_one(make_model, train_data, test_data, configs):
    models, histories = [], []
    for config in configs:
        torch.manual_seed(config.seed)
        models.append(make_model())
        histories.append(train(models[-1], train_data, test_data, config, progress=False))
    return models, histories


@pytest.mark.parametrize("dim,dtype", [(1, torch.float64), (2, torch.float64), (3, torch.float64),
                                       (1, torch.float32), (2, torch.float32)])
def test_stacked_equals_one_by_one(dim, dtype):
    train_data, test_data = smoothing_problem(dim, dtype)
    make_model = model_factory(dim, dtype)
    configs = member_configs(clip_params="spectral" if dim == 2 else "all")
    models, expected = one_by_one(make_model, train_data, test_data, configs)
    stacked = build_members(make_model, [c.seed for c in configs])
    histories = train_stacked(stacked, train_data, test_data, configs, progress=False)
    tol = TOLERANCE[dtype]
    for want, got, model, member in zip(expected, histories, models, stacked):
        assert got.step == want.step == [2, 4, 6]
        assert not got.diverged and got.steps_done == want.steps_done
        torch.testing.assert_close(torch.tensor(got.train_loss), torch.tensor(want.train_loss), **tol)
        torch.testing.assert_close(torch.tensor(got.test_loss), torch.tensor(want.test_loss), **tol)
        assert got.final_test_loss == got.test_loss[-1] and got.n_parameters == want.n_parameters
        for p, q in zip(member.parameters(), model.parameters()):
            torch.testing.assert_close(p, q, **tol)


def test_a_diverging_member_stops_alone():
    dtype = torch.float64
    train_data, test_data = smoothing_problem(1, dtype)
    make_model = model_factory(1, dtype)
    configs = member_configs(lrs=(1e-2, 1e4, 2e-2), clip_value=None, steps=8, lr_decay_every=None)
    models, expected = one_by_one(make_model, train_data, test_data, configs)
    assert [h.diverged for h in expected] == [False, True, False]  # the setup diverges member 1
    stacked = build_members(make_model, [c.seed for c in configs])
    histories = train_stacked(stacked, train_data, test_data, configs, progress=False)
    for want, got, model, member in zip(expected, histories, models, stacked):
        assert (got.diverged, got.diverged_step, got.steps_done) == (
            want.diverged, want.diverged_step, want.steps_done)
        assert got.step == want.step
        torch.testing.assert_close(got.test_loss, want.test_loss, rtol=1e-9, atol=0)
        for p, q in zip(member.parameters(), model.parameters()):
            assert torch.isfinite(p).all()
            torch.testing.assert_close(p, q, rtol=1e-7, atol=1e-9)
    assert math.isnan(histories[1].final_test_loss)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_stacked_adam_is_torch_adam_bit_for_bit(dtype):
    """Same gradients in, same parameters out as torch's unfused Adam, with clipping and StepLR."""
    make_model = model_factory(2, dtype)
    configs = member_configs(steps=7, lr_decay_every=3)
    models = build_members(make_model, [c.seed for c in configs])
    flat = FlatMembers(models)
    adam = StackedAdam(flat, configs, models[0], total_steps=7)
    optimizers = [make_adam(m, c.lr, (c.beta1, c.beta2), c.eps, c.weight_decay, fused=False,
                            weight_decay_mode=c.weight_decay_mode) for m, c in zip(models, configs)]
    schedulers = [torch.optim.lr_scheduler.StepLR(o, 3, 0.5) for o in optimizers]
    g = torch.Generator().manual_seed(0)
    for t in range(1, 8):
        for grad in flat.views(flat.grad).values():
            grad.copy_(torch.randn(grad.shape, generator=g, dtype=grad.dtype) * 0.01)
        for i, model in enumerate(models):
            for name, p in model.named_parameters():
                p.grad = flat.views(flat.grad)[name][i].clone()
            optimizers[i].step()
            schedulers[i].step()
        adam.step(t, flat.grad)
    for i, model in enumerate(models):
        for name, p in model.named_parameters():
            assert torch.equal(flat.params[name][i].detach(), p.detach()), name


def test_build_members_from_their_seeds_and_train_stacked_decodes():
    train_data, _ = smoothing_problem(1, torch.float64)
    make_model = model_factory(1, torch.float64)
    configs = member_configs(steps=2, eval_every=1)
    mean, std = torch.linspace(-1, 1, 16, dtype=torch.float64), torch.linspace(1, 2, 16, dtype=torch.float64)

    def decode(t: torch.Tensor) -> torch.Tensor:  # a per-point normaliser's inverse
        return t * std.to(t.device) + mean

    expected = []
    for config in configs:
        torch.manual_seed(config.seed)
        expected.append(train(make_model(), train_data, None, config, decode=decode, progress=False))
    members = build_members(make_model, [c.seed for c in configs])
    histories = train_stacked(members, train_data, None, configs, decode=decode, progress=False)
    for want, got in zip(expected, histories):
        torch.testing.assert_close(got.train_loss, want.train_loss, rtol=1e-12, atol=0)
        assert all(math.isnan(v) for v in got.test_loss)


@pytest.mark.parametrize("field,value", [("batch_size", 8), ("steps", 9), ("clip_value", None),
                                         ("clip_params", "spectral"), ("lr_decay_every", 2),
                                         ("eval_every", 3)])
def test_configs_that_differ_in_a_shared_field_are_refused(field, value):
    configs = member_configs()
    configs[1] = TrainConfig(**{**configs[1].__dict__, field: value})
    with pytest.raises(ValueError, match=field):
        check_stackable(configs)
    with pytest.raises(ValueError, match=field):
        train_stacked(build_members(model_factory(1, torch.float32), [0, 1, 2]),
                      *smoothing_problem(1, torch.float32), configs, progress=False)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_stacked_weight_decay_matches_the_hand_computation(dim):
    """One member per coupling (l2, adamw, independent) against Adam written out by hand, with the
    groups' LRs of make_adam and a step schedule."""
    modes = ("l2", "adamw", "independent")
    configs = [TrainConfig(lr=WD_LR, beta1=WD_BETAS[0], beta2=WD_BETAS[1], eps=WD_EPS,
                           weight_decay=WD_LAMBDA, weight_decay_mode=mode, steps=WD_STEPS,
                           lr_decay_every=WD_EVERY, lr_decay_gamma=WD_GAMMA) for mode in modes]
    models = [tiny_mup_model(dim) for _ in modes]
    grads = wd_gradients(models[0], WD_STEPS)
    expected = [expected_after_decay(models[0], grads, mode, dim) for mode in modes]
    flat = FlatMembers(models)
    adam = StackedAdam(flat, configs, models[0], total_steps=WD_STEPS)
    for t, step_grads in enumerate(grads, start=1):
        for name, grad in flat.views(flat.grad).items():
            grad.copy_(step_grads[name].expand_as(grad))
        adam.step(t, flat.grad)
    for i, mode in enumerate(modes):
        for name, want in expected[i].items():
            torch.testing.assert_close(flat.params[name][i].detach(), want, rtol=1e-12, atol=1e-14,
                                       msg=f"{mode} {name}")
