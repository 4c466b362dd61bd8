"""Training an FNO with Adam, element-wise gradient clipping and the per-group LRs of μP.

The theory (paper §3) assumes every gradient entry is clamped to [−c, c] (c = 0.01) before the Adam
update; whether every parameter or only the spectral weights were clipped is not known, so
``clip_params`` chooses. A run whose loss turns NaN/inf or explodes is stopped and marked diverged:
at a high learning rate that is an ordinary outcome of a sweep, not an error.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch
from torch import nn
from tqdm import tqdm

from mufno_core.losses import Decode, LossFn, relative_l2
from mufno_core.mup import spectral_layers
from mufno_core.settings import TrainConfig  # noqa: F401  (re-exported)


@dataclass
class History:
    """What a run produced: plain types only, so it serialises to JSON as it is."""

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    final_train_loss: float = math.nan
    final_test_loss: float = math.nan
    diverged: bool = False
    diverged_step: int | None = None
    steps_done: int = 0
    wall_time: float = 0.0
    steps_per_second: float = 0.0
    n_parameters: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def log(self, step: int, train_loss: float, test_loss: float) -> None:
        """One evaluation point: the step, the mean training loss since the last one, the test loss."""
        self.step.append(step)
        self.train_loss.append(train_loss)
        self.test_loss.append(test_loss)

    def finish(self, wall_time: float) -> None:
        """Set the wall time, the speed and the final losses (NaN for a diverged run: its last
        logged losses are not those of a trained model)."""
        self.wall_time = wall_time
        self.steps_per_second = self.steps_done / max(wall_time, 1e-9)
        if self.diverged:
            self.final_train_loss = self.final_test_loss = math.nan
        elif self.train_loss:
            self.final_train_loss, self.final_test_loss = self.train_loss[-1], self.test_loss[-1]


def batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """The batch order of training: index batches of a fresh permutation of the ``n`` samples every
    epoch (drawn from ``generator``), the last incomplete batch of an epoch dropped."""
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size={batch_size} is larger than the training set ({n} samples)")
    while True:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - batch_size + 1 or 1, batch_size):
            yield order[start : start + batch_size]


def is_divergence(loss: float, first_loss: float, factor: float) -> bool:
    """Whether a run whose first batch loss was ``first_loss`` has diverged at batch loss ``loss``:
    NaN/inf, or more than ``factor`` × max(first loss, 1)."""
    return not math.isfinite(loss) or loss > factor * max(first_loss, 1.0)


def clip_gradients_elementwise(params: list[nn.Parameter], value: float) -> None:
    """Clamp every real scalar of every gradient to [−value, value] (complex: re and im apart)."""
    real = [p for p in params if p.grad is not None and not p.grad.is_complex()]
    nn.utils.clip_grad_value_(real, value)  # one foreach kernel for all
    for p in params:
        if p.grad is not None and p.grad.is_complex():
            torch.view_as_real(p.grad).clamp_(-value, value)


def clipped_parameters(model: nn.Module, which: Literal["all", "spectral"]) -> list[nn.Parameter]:
    if which == "all":
        return list(model.parameters())
    return [p for layer in spectral_layers(model) for p in layer.parameters()]


@torch.no_grad()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 100,
    decode: Decode | None = None,
) -> float:
    """Relative L2 error over a data set (decoded to physical units first if ``decode``)."""
    was_training = model.training
    model.eval()
    total = 0.0
    for start in range(0, len(x), batch_size):
        pred = model(x[start : start + batch_size])
        target = y[start : start + batch_size]
        if decode is not None:
            pred, target = decode(pred), decode(target)
        total += relative_l2(pred, target).item() * len(pred)
    model.train(was_training)
    return total / len(x)


def check_training_data(
    train_data: tuple[torch.Tensor, torch.Tensor],
    test_data: tuple[torch.Tensor, torch.Tensor] | None,
    batch_size: int,
    targets_used: bool = True,
) -> None:
    """ValueError in one line when the data cannot train: empty or unequal train inputs/targets,
    a batch larger than the training set, or NaN/inf values (which would pass for a diverged run
    or a NaN test loss). ``targets_used`` False (a custom loss, e.g. PINO's data-free physics
    loss, may take placeholder targets) skips the check of the training targets."""
    x_train, y_train = train_data
    if len(x_train) != len(y_train) or len(x_train) == 0:
        raise ValueError(f"train inputs and targets must be non-empty and of equal length, got "
                         f"{len(x_train)} and {len(y_train)}")
    if batch_size > len(x_train):
        raise ValueError(f"batch_size={batch_size} is larger than the training set "
                         f"({len(x_train)} samples)")
    named = [("training inputs", x_train)] + ([("training targets", y_train)] if targets_used
                                              else [])
    if test_data is not None:
        if len(test_data[0]) != len(test_data[1]) or len(test_data[0]) == 0:
            raise ValueError(f"test inputs and targets must be non-empty and of equal length, "
                             f"got {len(test_data[0])} and {len(test_data[1])}")
        named += [("test inputs", test_data[0]), ("test targets", test_data[1])]
    for name, tensor in named:
        if tensor.is_floating_point() or tensor.is_complex():
            if not bool(torch.isfinite(tensor).all()):
                raise ValueError(f"the {name} contain NaN/inf values; training on them would "
                                 "only look like a diverged run")


def _default_loss(decode: Decode | None) -> LossFn:
    def loss(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pred = model(x)
        if decode is not None:
            pred, target = decode(pred), decode(target)
        return relative_l2(pred, target)

    return loss


def train(
    model: nn.Module,
    train_data: tuple[torch.Tensor, torch.Tensor],
    test_data: tuple[torch.Tensor, torch.Tensor] | None,
    config: TrainConfig,
    decode: Decode | None = None,
    loss_fn: LossFn | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` in place with Adam and return its :class:`History`.

    ``train_data``/``test_data`` are (inputs, targets) tensors on the model's device. The loss
    defaults to the relative L2 error, computed after ``decode`` (the target normaliser's inverse);
    ``loss_fn(model, inputs, targets)`` replaces it (e.g. data + physics loss for PINO, which may
    also run the model on a finer grid). The test
    error is always the relative L2 error. The same seed gives the same history on the CPU.
    """
    x_train, y_train = train_data
    check_training_data(train_data, test_data, config.batch_size, targets_used=loss_fn is None)
    loss_fn = loss_fn or _default_loss(decode)
    total = config.total_steps(len(x_train))
    eval_every = config.eval_every or max(1, total // 10)
    optimizer = config.adam(model)
    scheduler = None
    if config.lr_decay_every:
        scheduler = torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=config.lr_decay_every, gamma=config.lr_decay_gamma)
    clip = clipped_parameters(model, config.clip_params) if config.clip_value else []
    generator = torch.Generator().manual_seed(config.seed)
    history = History(n_parameters=sum(
        p.numel() * (2 if p.is_complex() else 1) for p in model.parameters()))

    model.train()
    first_loss: float | None = None
    running, count = 0.0, 0
    start_time = time.perf_counter()
    bar = tqdm(total=total, disable=not progress, desc="train", leave=False)
    batch_iter = batches(len(x_train), config.batch_size, generator)
    for step in range(1, total + 1):
        index = next(batch_iter).to(x_train.device)
        xb, yb = x_train[index], y_train[index]
        loss = loss_fn(model, xb, yb)
        value = loss.item()
        first_loss = value if first_loss is None else first_loss
        if is_divergence(value, first_loss, config.divergence_factor):
            history.diverged, history.diverged_step = True, step
            break
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            clip_gradients_elementwise(clip, config.clip_value)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        running, count = running + value, count + 1
        history.steps_done = step
        if step % eval_every == 0 or step == total:
            history.log(step, running / count, evaluate(model, *test_data, decode=decode)
                        if test_data is not None else math.nan)
            running, count = 0.0, 0
            bar.set_postfix(train=f"{history.train_loss[-1]:.3g}", test=f"{history.test_loss[-1]:.3g}")
        bar.update(1)
    bar.close()
    history.finish(time.perf_counter() - start_time)
    return history
