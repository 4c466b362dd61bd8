"""Train the members of a sweep that share a K as one stacked model, vectorised over members.

A sweep trains many copies of one architecture that differ only in (lr, other_lr, seed, β1, β2,
eps, weight_decay, weight_decay_mode). Where a step of a small FNO is bound by kernel launches rather
than arithmetic (a GPU), M members run as one model with a leading member axis cost little more
than one member (measurements: ``benchmarks/README_stacked.md``):

* every member is built as in the one-by-one run (``torch.manual_seed(seed_i); make_model()``),
  then its parameters are laid side by side in one flat buffer of shape (M, N) (complex weights as
  their real view, the spectral group first);
* the forward is ``torch.vmap`` over members of ``torch.func.functional_call`` of the model, each
  member on its own batch (its own shuffle, ``torch.Generator().manual_seed(seed_i)``, as in
  :func:`~mufno_core.train.train`); the backward of Σ_i L_i gives every member its own gradient;
* element-wise clipping, weight decay and Adam run on the whole (M, N) buffer at once, with the
  per-member hyperparameters as (M, 1) columns and the step schedule and bias corrections as
  per-step tables:

      g ← clamp(g, −c, c) + λ_L2 θ,   θ ← θ · (1 − lr_g(t) · λ_g),
      m ← β1 m + (1 − β1) g,   v ← β2 v + (1 − β2) g²,
      θ ← θ − lr_g(t) / (1 − β1^t) · m / (sqrt(v) / sqrt(1 − β2^t) + eps),

  exactly ``torch.optim.Adam``'s operations (complex parameters as ``view_as_real``) on the
  parameter groups of :func:`~mufno_core.mup.param_groups`, the ones ``make_adam`` trains with:
  lr_g = lr · c(K) for the spectral group and lr for the rest, and each group's weight decay
  (λ_L2 for the "l2" mode, the decoupled λ_g otherwise; :data:`~mufno_core.mup.WEIGHT_DECAY_MODES`).

A member whose loss turns NaN/inf or explodes is marked diverged at that step, as ``train`` does,
and frozen: its gradient is zeroed and its step size set to 0, so it neither moves nor spreads NaN.

Usage (the sweep engine calls this for a group of trials that share everything else)::

    configs = [TrainConfig(lr=lr, seed=s, steps=500) for lr in lrs for s in seeds]
    models = build_members(lambda: FNO(2, 1, 1, modes=12, width=32), [c.seed for c in configs])
    histories = train_stacked(models, train_data, test_data, configs)

Member i matches ``torch.manual_seed(seed_i); model = make_model(); train(model, …, configs[i])``
up to round-off (the batched kernels sum in another order; float64 agrees to ~1e-12). Whether a
sweep stacks is its preset's choice (:attr:`~mufno_core.sweep.experiments.Preset.stack`, ``mufno
sweep --stack``).

Limits: a custom ``loss_fn`` (PINO's physics loss) must be vmappable tensor code; all members
share one device and one precision; memory grows with M (a step holds M × batch samples'
activations); ``History.wall_time`` is the group's wall time / M.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call, stack_module_state
from tqdm import tqdm

from mufno_core.losses import Decode, LossFn, relative_l2
from mufno_core.mup import model_lr_factor, param_groups
from mufno_core.settings import MEMBER_FIELDS
from mufno_core.train import History, TrainConfig, batches, check_training_data, is_divergence

EVAL_BATCH = 100  # samples per evaluation call, as mufno_core.train.evaluate
EVAL_MEMBERS = 8  # members per evaluation call: bounds the memory of M × EVAL_BATCH samples


def check_stackable(configs: Sequence[TrainConfig]) -> None:
    """Raise ValueError unless the configs differ at most in :data:`MEMBER_FIELDS`."""
    if not configs:
        raise ValueError("train_stacked needs at least one TrainConfig")
    first = configs[0]
    for i, config in enumerate(configs[1:], start=1):
        for f in dataclasses.fields(TrainConfig):
            if f.name in MEMBER_FIELDS:
                continue
            a, b = getattr(first, f.name), getattr(config, f.name)
            if a != b:
                raise ValueError(
                    f"stacked members may differ only in {', '.join(MEMBER_FIELDS)}; config {i} has "
                    f"{f.name}={b!r} but config 0 has {f.name}={a!r}")


def build_members(make_model: Callable[[], nn.Module], seeds: Sequence[int]) -> list[nn.Module]:
    """One model per seed, each built right after ``torch.manual_seed(seed)``."""
    models = []
    for seed in seeds:
        torch.manual_seed(seed)
        models.append(make_model())
    return models


def _merged_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted column ranges with the adjacent ones joined: [(0, 4), (4, 6), (8, 9)] -> [(0, 6), (8, 9)]."""
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(ranges):
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], stop)
        else:
            merged.append((start, stop))
    return merged


class FlatMembers:
    """The parameters of M same-shaped models in one real buffer ``flat`` of shape (M, N).

    The columns hold the parameter groups of :func:`~mufno_core.mup.param_groups` one after the
    other (``group_columns``: group name → (start, stop); the spectral group first); each parameter
    is a view (complex ones through ``view_as_complex``) and its ``.grad`` a view of ``grad``, so that
    backward writes every member's gradient straight into the (M, N) gradient buffer.
    """

    def __init__(self, models: Sequence[nn.Module]) -> None:
        base = models[0]
        group_of = {id(p): g["name"] for g in param_groups(base, 1.0, 1.0) for p in g["params"]}
        names = list(dict.fromkeys(group_of.values()))  # the groups in param_groups' order
        named = list(base.named_parameters())
        named.sort(key=lambda item: names.index(group_of[id(item[1])]))  # stable within a group
        stacked, self.buffers = stack_module_state(list(models))
        first = next(iter(stacked.values()))
        real_dtypes = {p.real.dtype for p in stacked.values()}
        if len(real_dtypes) > 1:
            raise ValueError(f"stacked members need parameters of one precision, got {real_dtypes}")
        self.members = first.shape[0]
        self.layout: list[tuple[str, int, tuple[int, ...], bool]] = []
        self.group_columns: dict[str, tuple[int, int]] = {}
        offset = 0
        for name, p in named:
            size = p.numel() * (2 if p.is_complex() else 1)
            self.layout.append((name, offset, tuple(p.shape), p.is_complex()))
            start = self.group_columns.get(group_of[id(p)], (offset, offset))[0]
            offset += size + size % 2  # even offsets keep complex views aligned
            self.group_columns[group_of[id(p)]] = (start, offset)
        self.n_spectral = self.group_columns.get("spectral", (0, 0))[1]
        self.complex_columns = _merged_ranges(
            [(start, start + math.prod(shape) * 2) for _, start, shape, is_complex in self.layout
             if is_complex])
        real_dtype = first.real.dtype
        self.flat = torch.zeros(self.members, offset, dtype=real_dtype, device=first.device)
        self.grad = torch.zeros_like(self.flat)
        with torch.no_grad():
            for name, view in self.views(self.flat).items():
                view.copy_(stacked[name])
        self.params = self.views(self.flat)
        for name, grad in self.views(self.grad).items():
            self.params[name].requires_grad_(True)
            self.params[name].grad = grad

    def views(self, buffer: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each parameter as a (M, *shape) view of ``buffer`` (complex where the model's is)."""
        out = {}
        for name, offset, shape, is_complex in self.layout:
            size = math.prod(shape) * (2 if is_complex else 1)
            column = buffer[:, offset : offset + size]
            out[name] = (torch.view_as_complex(column.view(self.members, *shape, 2)) if is_complex
                         else column.view(self.members, *shape))
        return out

    def write_back(self, models: Sequence[nn.Module]) -> None:
        """Copy member i's parameters into ``models[i]``."""
        with torch.no_grad():
            for i, model in enumerate(models):
                for name, p in model.named_parameters():
                    p.copy_(self.params[name][i])


class StackedAdam:
    """``torch.optim.Adam`` over the (M, N) buffer of :class:`FlatMembers`, per-member hyperparameters.

    Member i's groups are those ``make_adam`` gives ``model`` with ``configs[i]``
    (:func:`~mufno_core.mup.param_groups`: each group's LR and weight decay). The per-step factors
    are precomputed in float64 as Adam computes them in Python, then cast: ``-lr_g(t) / (1 − β1^t)``
    and the decoupled decay ``1 − lr_g(t) · λ_g`` for each step, member and group, and
    ``sqrt(1 − β2^t)``. ``lr_g(t)`` follows StepLR: multiplied by γ after every
    ``lr_decay_every``-th step.
    """

    def __init__(self, flat: FlatMembers, configs: Sequence[TrainConfig], model: nn.Module,
                 total_steps: int) -> None:
        self.flat = flat
        dtype, device = flat.flat.dtype, flat.flat.device

        def column(values: list[float]) -> torch.Tensor:
            return torch.tensor(values, dtype=dtype, device=device)[:, None]

        self.one_minus_beta1 = column([1 - c.beta1 for c in configs])
        self.beta2 = column([c.beta2 for c in configs])
        self.one_minus_beta2 = column([1 - c.beta2 for c in configs])
        self.eps = column([c.eps for c in configs])
        factor = model_lr_factor(model)
        groups = [param_groups(model, c.lr, factor, c.weight_decay, c.weight_decay_mode, c.other_lr)
                  for c in configs]
        self.columns = [flat.group_columns[g["name"]] for g in groups[0]]
        # the L2 penalty is one λ for every group of a member (0 where decoupled)
        self.weight_decay = column([0.0 if g[0]["decoupled_weight_decay"] else g[0]["weight_decay"]
                                    for g in groups])
        self.has_weight_decay = bool(self.weight_decay.any())
        decoupled = [[g["weight_decay"] if g["decoupled_weight_decay"] else 0.0 for g in member]
                     for member in groups]
        self.has_decoupled_decay = any(any(member) for member in decoupled)
        step_size, decay, bias2 = [], [], []
        lrs = [[g["lr"] for g in member] for member in groups]
        every, gamma = configs[0].lr_decay_every, configs[0].lr_decay_gamma
        for t in range(1, total_steps + 1):
            step_size.append([[-lr / (1 - c.beta1 ** float(t)) for lr in member]
                              for c, member in zip(configs, lrs)])
            decay.append([[1 - lr * wd for lr, wd in zip(member, wds)]
                          for member, wds in zip(lrs, decoupled)])
            bias2.append([(1 - c.beta2 ** float(t)) ** 0.5 for c in configs])
            if every and t % every == 0:
                lrs = [[lr * gamma for lr in member] for member in lrs]
        self.neg_step_size = torch.tensor(step_size, dtype=dtype, device=device)  # (T, M, G)
        self.decay = torch.tensor(decay, dtype=dtype, device=device)  # (T, M, G)
        self.bias2_sqrt = torch.tensor(bias2, dtype=dtype, device=device)[:, :, None]  # (T, M, 1)
        self.exp_avg = torch.zeros_like(flat.flat)
        self.exp_avg_sq = torch.zeros_like(flat.flat)

    def freeze(self, member: int) -> None:
        """Stop ``member`` for good: step size 0 and no decay from now on (its gradient must be
        zeroed too)."""
        self.neg_step_size[:, member] = 0.0
        self.decay[:, member] = 1.0

    @torch.no_grad()
    def step(self, t: int, grad: torch.Tensor) -> None:
        """One Adam step t (1-based) with the gradient buffer ``grad`` (M, N)."""
        theta, m, v = self.flat.flat, self.exp_avg, self.exp_avg_sq
        if self.has_weight_decay:  # g + λ θ, rounded as Adam's grad.add(θ, alpha=λ) rounds it
            decayed = grad.addcmul(self.weight_decay, theta)  # real: fused like add(alpha=λ)
            for start, stop in self.flat.complex_columns:  # complex add: g + (λ θ), unfused
                decayed[:, start:stop] = grad[:, start:stop] + self.weight_decay * theta[:, start:stop]
            grad = decayed
        if self.has_decoupled_decay:  # θ · (1 − lr_g λ_g), as Adam's param.mul_(1 − lr · λ)
            for g, (start, stop) in enumerate(self.columns):
                theta[:, start:stop].mul_(self.decay[t - 1][:, g : g + 1])
        m.lerp_(grad, self.one_minus_beta1)  # m + (1 − β1)(g − m)
        v.mul_(self.beta2).addcmul_(self.one_minus_beta2 * grad, grad)
        denom = (v.sqrt() / self.bias2_sqrt[t - 1]).add_(self.eps)
        step_size = self.neg_step_size[t - 1]
        # Adam's addcdiv_(m, denom, value=−α) computes θ + (−α·m) / denom, in this order
        for g, (start, stop) in enumerate(self.columns):
            theta[:, start:stop].addcdiv_(step_size[:, g : g + 1] * m[:, start:stop],
                                          denom[:, start:stop])


def train_stacked(
    models: Sequence[nn.Module],
    train_data: tuple[torch.Tensor, torch.Tensor],
    test_data: tuple[torch.Tensor, torch.Tensor] | None,
    configs: Sequence[TrainConfig],
    decode: Decode | None = None,
    progress: bool = True,
    loss_fn: LossFn | None = None,
) -> list[History]:
    """Train ``models[i]`` with ``configs[i]`` in place, all at once as one stacked model; build
    them with :func:`build_members` (member i made right after ``torch.manual_seed(seed_i)``).

    Returns one :class:`~mufno_core.train.History` per config, as ``train`` would (its
    ``wall_time`` is the group's wall time / M). The configs may differ only in
    :data:`MEMBER_FIELDS` (ValueError otherwise). The loss is the relative L2 error after
    ``decode``, or ``loss_fn(model, x, y)`` as in ``train`` (e.g. PINO's data + physics loss); it
    runs under ``torch.vmap``, with ``model`` a callable x ↦ prediction of one member, so it must be
    pure tensor code (no ``.item()``, no data-dependent Python branches). Data lives on the models'
    device.
    """
    check_stackable(configs)
    if len(models) != len(configs):
        raise ValueError(f"got {len(models)} models for {len(configs)} configs")
    x_train, y_train = train_data
    check_training_data(train_data, test_data, configs[0].batch_size, targets_used=loss_fn is None)
    shared = configs[0]
    members = len(configs)
    total = shared.total_steps(len(x_train))
    eval_every = shared.eval_every or max(1, total // 10)
    flat = FlatMembers(models)
    optimizer = StackedAdam(flat, configs, models[0], total)
    base = copy.deepcopy(models[0]).to("meta")
    n_parameters = sum(p.numel() * (2 if p.is_complex() else 1) for p in models[0].parameters())
    histories = [History(n_parameters=n_parameters) for _ in configs]

    def member_error(params, buffers, x, target):
        """The test error of ``train``: relative L2 after ``decode``."""
        pred = functional_call(base, (params, buffers), (x,))
        if decode is not None:
            pred, target = decode(pred), decode(target)
        return relative_l2(pred, target)

    def member_loss(params, buffers, x, target):
        if loss_fn is None:
            return member_error(params, buffers, x, target)
        return loss_fn(lambda inputs: functional_call(base, (params, buffers), (inputs,)), x, target)

    stacked_loss = torch.vmap(member_loss)
    stacked_eval = torch.vmap(member_error, in_dims=(0, 0, None, None), chunk_size=EVAL_MEMBERS)

    @torch.no_grad()
    def evaluate_members() -> list[float]:
        base.eval()
        x_test, y_test = test_data
        totals = [0.0] * members
        for start in range(0, len(x_test), EVAL_BATCH):
            xb, yb = x_test[start : start + EVAL_BATCH], y_test[start : start + EVAL_BATCH]
            for i, value in enumerate(stacked_eval(flat.params, flat.buffers, xb, yb).tolist()):
                totals[i] += value * len(xb)
        base.train()
        return [value / len(x_test) for value in totals]

    generators = [torch.Generator().manual_seed(c.seed) for c in configs]
    batch_iters = [batches(len(x_train), shared.batch_size, g) for g in generators]
    clip = shared.clip_value
    clip_columns = slice(None) if shared.clip_params == "all" else slice(0, flat.n_spectral)
    alive = [True] * members
    alive_mask = torch.ones(members, 1, dtype=torch.bool, device=flat.flat.device)
    first_loss: list[float | None] = [None] * members
    running, count = [0.0] * members, [0] * members
    base.train()
    start_time = time.perf_counter()
    bar = tqdm(total=total, disable=not progress, desc=f"train ×{members}", leave=False)
    with warnings.catch_warnings():
        # the gradient views of the (M, N) buffer are strided: in-place accumulation is intended
        warnings.filterwarnings("ignore", message="grad and param do not obey")
        for step in range(1, total + 1):
            index = torch.stack([next(it) for it in batch_iters]).to(x_train.device)
            losses = stacked_loss(flat.params, flat.buffers, x_train[index], y_train[index])
            for i, value in enumerate(losses.tolist()):
                if not alive[i]:
                    continue
                first_loss[i] = value if first_loss[i] is None else first_loss[i]
                if is_divergence(value, first_loss[i], shared.divergence_factor):
                    alive[i] = False
                    histories[i].diverged, histories[i].diverged_step = True, step
                    optimizer.freeze(i)
                    alive_mask[i] = False
                else:
                    running[i], count[i] = running[i] + value, count[i] + 1
                    histories[i].steps_done = step
            if not any(alive):
                break
            flat.grad.zero_()
            losses.sum().backward()
            grad = flat.grad if all(alive) else torch.where(alive_mask, flat.grad, 0.0)
            if clip:
                grad[:, clip_columns].clamp_(-clip, clip)
            optimizer.step(step, grad)
            if step % eval_every == 0 or step == total:
                tests = evaluate_members() if test_data is not None else [math.nan] * members
                for i in (i for i in range(members) if alive[i]):
                    histories[i].log(step, running[i] / count[i], tests[i])
                    running[i], count[i] = 0.0, 0
            bar.update(1)
    bar.close()
    wall = (time.perf_counter() - start_time) / members
    flat.write_back(models)
    for h in histories:
        h.finish(wall)
    return histories
