"""The trainer: it learns, it is deterministic, it clips element-wise, it survives divergence."""

import json
import math

import pytest
import torch

from mufno_core import FNO
from mufno_core.train import (
    TrainConfig,
    clip_gradients_elementwise,
    clipped_parameters,
    evaluate,
    train,
)

DIMS = [1, 2, 3]
GRIDS = {1: (32,), 2: (12, 12), 3: (8, 8, 6)}


def smoothing_problem(dim: int, n: int = 24, seed: int = 0):
    """Random inputs → a fixed low-pass filter of them: a map an FNO represents exactly."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, *GRIDS[dim], generator=g)
    axes = tuple(range(-dim, 0))
    spectrum = torch.fft.rfftn(x, dim=axes)
    y = torch.fft.irfftn(spectrum * 0.5, s=GRIDS[dim], dim=axes) + 0.3 * x.mean(axes, keepdim=True)
    return (x[: n - 8], y[: n - 8]), (x[n - 8 :], y[n - 8 :])


def small_fno(dim: int, parametrization: str = "mup", seed: int = 0) -> FNO:
    torch.manual_seed(seed)
    return FNO(dim, 1, 1, 3, width=8, depth=2, parametrization=parametrization)


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("parametrization", ["sp", "mup"])
def test_training_lowers_the_loss(dim, parametrization):
    train_data, test_data = smoothing_problem(dim)
    model = small_fno(dim, parametrization)
    before = evaluate(model, *test_data)
    history = train(model, train_data, test_data,
                    TrainConfig(lr=1e-2, steps=40, batch_size=8, eval_every=10), progress=False)
    assert not history.diverged
    assert history.step == [10, 20, 30, 40]
    assert history.test_loss[-1] < 0.5 * before
    assert history.final_test_loss == history.test_loss[-1]
    json.dumps(history.to_dict())  # plain types only


@pytest.mark.parametrize("dim", DIMS)
def test_same_seed_gives_identical_history(dim):
    train_data, test_data = smoothing_problem(dim)
    config = TrainConfig(lr=3e-3, steps=12, batch_size=4, eval_every=4, seed=7)
    runs = [train(small_fno(dim), train_data, test_data, config, progress=False) for _ in range(2)]
    assert runs[0].train_loss == runs[1].train_loss
    assert runs[0].test_loss == runs[1].test_loss
    other = train(small_fno(dim), train_data, test_data, TrainConfig(
        lr=3e-3, steps=12, batch_size=4, eval_every=4, seed=8), progress=False)
    assert other.train_loss != runs[0].train_loss  # the seed sets the batch order


@pytest.mark.parametrize("dim", DIMS)
def test_divergence_is_recorded_not_raised(dim):
    train_data, test_data = smoothing_problem(dim)
    history = train(small_fno(dim, "sp"), train_data, test_data,
                    TrainConfig(lr=1e4, steps=50, batch_size=4), progress=False)
    assert history.diverged
    assert 1 < history.diverged_step <= 50
    assert math.isnan(history.final_test_loss)
    json.dumps(history.to_dict())


def test_nan_loss_is_divergence():
    train_data, test_data = smoothing_problem(1)

    def nan_loss(model, x, y):
        return model(x).sum() * float("nan")

    history = train(small_fno(1), train_data, test_data,
                    TrainConfig(lr=1e-3, steps=20, batch_size=16), loss_fn=nan_loss, progress=False)
    assert history.diverged and history.diverged_step == 1


@pytest.mark.parametrize("which", ["x_train", "y_train", "x_test", "y_test"])
def test_nan_in_the_data_is_refused_not_a_divergence(which):
    (x, y), (xt, yt) = smoothing_problem(1)
    data = {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt}
    data[which] = data[which].clone()
    data[which][0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="contain NaN/inf"):
        train(small_fno(1), (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"]),
              TrainConfig(lr=1e-3, steps=2, batch_size=16), progress=False)


def test_batch_larger_than_the_training_set_is_an_error_not_a_hang():
    train_data, test_data = smoothing_problem(1)
    with pytest.raises(ValueError, match="larger than the training set"):
        train(small_fno(1), train_data, test_data,
              TrainConfig(lr=1e-3, steps=2, batch_size=len(train_data[0]) + 50), progress=False)


def test_clipping_is_elementwise_including_complex():
    real = torch.nn.Parameter(torch.zeros(4))
    real.grad = torch.tensor([-1.0, -0.005, 0.003, 2.0])
    cplx = torch.nn.Parameter(torch.zeros(2, dtype=torch.cfloat))
    cplx.grad = torch.tensor([3 - 0.001j, -0.002 + 5j])
    clip_gradients_elementwise([real, cplx], 0.01)
    assert real.grad.tolist() == pytest.approx([-0.01, -0.005, 0.003, 0.01])
    assert torch.view_as_real(cplx.grad).flatten().tolist() == pytest.approx(
        [0.01, -0.001, -0.002, 0.01])


@pytest.mark.parametrize("dim", DIMS)
def test_clip_params_choice(dim):
    model = small_fno(dim)
    spectral = clipped_parameters(model, "spectral")
    assert {id(p) for p in spectral} == {id(layer.weight_as_real) for layer in model.spectral}
    assert len(clipped_parameters(model, "all")) == len(list(model.parameters()))


def test_clipping_bounds_the_first_adam_free_step():
    """With clipping every first-step gradient entry is within ±c (checked through a hook)."""
    train_data, test_data = smoothing_problem(1)
    model = small_fno(1)
    raw = []  # the largest entry of each gradient as backward leaves it, before clipping

    def largest_entry(p):
        raw.append(float((torch.view_as_real(p.grad) if p.grad.is_complex() else p.grad).abs().max()))

    for p in model.parameters():
        p.register_post_accumulate_grad_hook(largest_entry)
    train(model, train_data, None, TrainConfig(lr=1e-3, steps=1, batch_size=4, clip_value=1e-4),
          progress=False)
    assert len(raw) == len(list(model.parameters()))  # one backward reached every parameter
    assert max(raw) > 1e-4  # so clipping had something to clip
    for p in model.parameters():
        grad = torch.view_as_real(p.grad) if p.grad.is_complex() else p.grad
        assert grad.abs().max() <= 1e-4 + 1e-12


def test_epoch_budget_and_schedule():
    train_data, test_data = smoothing_problem(1)
    config = TrainConfig(lr=1e-2, steps=None, epochs=3, batch_size=4, lr_decay_every=2)
    assert config.total_steps(len(train_data[0])) == 3 * 4
    history = train(small_fno(1), train_data, test_data, config, progress=False)
    assert history.steps_done == 12 and history.steps_per_second > 0


@pytest.mark.parametrize(("field", "value", "message"), [
    ("lr", -1.0, "lr must be a positive"),
    ("lr", float("nan"), "lr must be a positive"),
    ("beta2", 1.0, r"beta2 must be in \[0, 1\)"),
    ("batch_size", 0, "batch_size must be a positive"),
    ("steps", 0, "steps must be a positive int"),
    ("clip_value", -0.1, "clip_value"),
    ("clip_params", "lift", "clip_params"),
])
def test_invalid_config_is_a_clear_error(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: value})


def test_both_budgets_is_an_error():
    with pytest.raises(ValueError, match="exactly one budget"):
        TrainConfig(steps=10, epochs=2)
