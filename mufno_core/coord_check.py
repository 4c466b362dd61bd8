"""The coordinate check of microsoft/mup with the number of Fourier modes K on the x-axis.

:func:`coord_data` is mup's ``get_coord_data`` for K: models by K (and seed), a loader, an
optimizer; it trains each model for a few steps and records, after 0, 1, …, ``steps`` steps, the
size of every layer's activation on a fixed probe batch and of its change since step 0 (μP is a
statement about updates). Under a parametrization that is right in K the curves are flat in K;
under one that is wrong they drift. :func:`coord_check` runs it on a synthetic regression, and
:mod:`mufno_core.analysis.calibrate` on an experiment's own trials. Layers recorded (forward hooks):

* ``lift``: the 1×1 lifting layer;
* ``spectral i``: the output of the i-th Fourier layer's spectral convolution (the only K-dependent part);
* ``fourier i``: spectral + 1×1 skip, the i-th Fourier layer's output before its activation;
* ``output``: the model's output (the projection's, or a wrapper's such as PINO's mollifier).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from mufno_core.data.synthetic import band_limited_field, fourier_filter, wavenumbers
from mufno_core.losses import LossFn
from mufno_core.model import FNO
from mufno_core.mup import Parametrization, log_modes, make_adam
from mufno_core.stats import paired_seed_exponent
from mufno_core.train import clip_gradients_elementwise, clipped_parameters

THEORY_BETA = {"sp": 0.5, "mup": 0.0}
"""The exponent β of the update size ∝ (log K)^β that the theory predicts: SP's spectral updates
grow like the operator norm of a random Fourier layer, sqrt(log K); μP's c(K) cancels it."""

COORD_PRESETS: dict[str, dict] = {
    # modes_by_dim: K swept per d; grid_by_dim: points per axis (>= 2·K_max); seeds: models per point
    "smoke": {"modes_by_dim": {1: [2, 4, 8], 2: [2, 4], 3: [2, 4]},
              "grid_by_dim": {1: 16, 2: 8, 3: 8}, "width": 8, "seeds": [0], "batch_size": 2},
    "quick": {"modes_by_dim": {1: [2, 4, 8, 16, 32, 64], 2: [2, 4, 8, 16], 3: [2, 4, 8]},
              "grid_by_dim": {1: 128, 2: 32, 3: 16}, "width": 16, "seeds": list(range(6)),
              "batch_size": 4},
    "gpu": {"modes_by_dim": {1: [2, 4, 8, 16, 32, 64, 128, 256], 2: [2, 4, 8, 16, 32], 3: [2, 4, 8, 16]},
            "grid_by_dim": {1: 512, 2: 64, 3: 32}, "width": 64, "seeds": [0, 1, 2, 3], "batch_size": 8},
}
COORD_PRESETS["paper"] = COORD_PRESETS["gpu"]


def synthetic_regression(
    dim: int, grid: int, n_samples: int, seed: int = 0, decay: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random band-limited input functions and a fixed nonlinear target, both (n, 1, grid, …, grid).

    Inputs: real Fourier series with every frequency below Nyquist, coefficients N(0, 1)·(1+|k|)^-decay,
    scaled to unit std. Target: the fixed operator y = S x + x²/2 - mean, S the smoothing multiplier
    1/(1 + |k|²/16). Neither depends on the model's K.
    """
    shape = (grid,) * dim
    k = wavenumbers(shape)
    k_norm = torch.sqrt((k**2).sum(0))
    below_nyquist = k.abs().amax(0) < grid / 2
    envelope = (1.0 + k_norm) ** (-decay) * below_nyquist
    envelope[(0,) * dim] = 0.0  # zero mean
    generator = torch.Generator().manual_seed(seed)
    coeff = torch.randn((n_samples, 1, *k_norm.shape), dtype=torch.cfloat, generator=generator)
    x = band_limited_field(coeff, envelope, shape)
    # S from |k| above (|k|² as its square, and a division: the batch's numbers are pinned)
    smooth = fourier_filter(x, dim, lambda spectrum, _: spectrum / (1.0 + k_norm**2 / 16.0))
    y = smooth + 0.5 * x**2
    return x, y - y.mean()


class ActivationRecorder:
    """Forward hooks on the lift, spectral convs and skips of the FNO in ``model`` (``model`` itself
    or the FNO a wrapper holds) and on ``model``'s output."""

    def __init__(self, model: nn.Module) -> None:
        fno = next(m for m in model.modules() if isinstance(m, FNO))
        self.outputs: dict[str, torch.Tensor] = {}
        modules: dict[str, nn.Module] = {"lift": fno.lift, "output": model}
        for i, (spectral, skip) in enumerate(zip(fno.spectral, fno.skip), start=1):
            modules[f"spectral {i}"] = spectral
            modules[f"skip {i}"] = skip
        self.handles = [module.register_forward_hook(self._hook(name)) for name, module in modules.items()]
        self.depth = fno.depth

    def _hook(self, name: str):
        def hook(module, inputs, output):
            self.outputs[name] = output.detach().clone()
        return hook

    def activations(self) -> dict[str, torch.Tensor]:
        """The recorded layers of the last forward pass, with ``fourier i`` = spectral i + skip i."""
        acts = {"lift": self.outputs["lift"]}
        for i in range(1, self.depth + 1):
            acts[f"spectral {i}"] = self.outputs[f"spectral {i}"]
            acts[f"fourier {i}"] = self.outputs[f"spectral {i}"] + self.outputs[f"skip {i}"]
        acts["output"] = self.outputs["output"]
        return acts

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def default_grid(dim: int, max_modes: int) -> int:
    """The smallest even number of points per axis that holds ``max_modes`` modes (2K), at least 8."""
    return max(8, 2 * max_modes)


Batch = tuple[torch.Tensor, torch.Tensor]


def mse_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The mean squared error of ``model`` on (x, y): the synthetic check's loss."""
    return nn.functional.mse_loss(model(x), y)


def _rms(t: torch.Tensor) -> float:
    return float(t.pow(2).mean().sqrt())


def coord_data(
    models: Mapping[Hashable, Callable[[], nn.Module]],
    loader: Callable[[Hashable], Iterable[Batch]],
    optimizer: Callable[[nn.Module], torch.optim.Optimizer],
    probe: torch.Tensor,
    steps: int,
    loss_fn: LossFn = mse_loss,
    clip_value: float | None = None,
    clip_params: str = "all",
    key_names: Sequence[str] = ("modes",),
) -> pd.DataFrame:
    """microsoft/mup's ``get_coord_data`` over K: every model of ``models`` (key → a function
    that builds it; the key is K, or a tuple named by ``key_names`` such as (K, seed)) trains for
    ``steps`` steps of ``optimizer(model)`` on the batches of ``loader(key)`` with ``loss_fn(model,
    x, y)``, each gradient entry clamped to ±``clip_value`` (None: no clipping) on ``clip_params``
    ("all" or "spectral"). Before the first step and after each, one forward pass on ``probe``
    (no gradient) records every layer of :class:`ActivationRecorder`.

    One row per (key, step 0 … ``steps``, layer): the key's columns, ``step``, ``layer``,
    ``mean_abs`` and ``rms`` of the activation, ``mean_abs_delta`` and ``rms_delta`` of its change
    since step 0, and ``loss``: the loss at that step on the batch the next step trains on.
    """
    rows = []
    for key, make_model in models.items():
        labels = dict(zip(key_names, key if isinstance(key, tuple) else (key,)))
        model = make_model()
        opt = optimizer(model)
        clip = clipped_parameters(model, clip_params) if clip_value else []
        recorder = ActivationRecorder(model)
        batches = iter(loader(key))
        first: dict[str, torch.Tensor] = {}
        try:
            for step in range(steps + 1):
                with torch.no_grad():
                    model(probe)
                acts = recorder.activations()
                first = first or acts
                x, y = next(batches)
                if step < steps:
                    loss = loss_fn(model, x, y)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    if clip:
                        clip_gradients_elementwise(clip, clip_value)
                    opt.step()
                else:
                    with torch.no_grad():
                        loss = loss_fn(model, x, y)
                for layer, act in acts.items():
                    delta = act - first[layer]
                    rows.append({**labels, "step": step, "layer": layer,
                                 "mean_abs": float(act.abs().mean()),
                                 "mean_abs_delta": float(delta.abs().mean()), "rms": _rms(act),
                                 "rms_delta": _rms(delta), "loss": float(loss.detach())})
        finally:
            recorder.remove()
    return pd.DataFrame(rows)


def coord_check(
    dim: int,
    modes_list: Sequence[int],
    parametrization: str,
    steps: int = 3,
    lr: float = 1e-2,
    width: int = 32,
    depth: int = 4,
    seeds: Sequence[int] = (0,),
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
    base_modes: int | None = None,
    batch_size: int = 8,
    input_decay: float = 1.0,
    clip_value: float | None = None,
) -> pd.DataFrame:
    """Mean |activation| and mean |activation - activation at step 0| per layer after 0..steps Adam steps.

    :func:`coord_data` of one FNO per (K, seed), trained with :func:`mufno_core.mup.make_adam`
    (spectral weights at lr·c(K)) on one fixed batch ``data`` = (x, y) with the mean squared error;
    the default batch is :func:`synthetic_regression` on a grid that holds max(modes_list). μP is
    taken relative to ``base_modes`` (default: the smallest K), where it equals SP. ``clip_value``
    clamps every gradient entry (the paper's theory assumes element-wise clipping); None switches
    it off. Columns: dim, parametrization, modes, seed, step, layer, mean_abs, mean_abs_delta, loss.
    """
    modes_list = [int(k) for k in modes_list]
    if data is None:
        data = synthetic_regression(dim, default_grid(dim, max(modes_list)), batch_size, seed=12345,
                                    decay=input_decay)
    x, y = data
    base = min(modes_list) if base_modes is None else base_modes
    param = Parametrization(parametrization, base_modes=base if parametrization == "mup" else None)

    def make_model(modes: int, seed: int) -> Callable[[], nn.Module]:
        def build() -> nn.Module:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                return FNO(dim, x.shape[1], y.shape[1], modes, width=width, depth=depth,
                           parametrization=param)
        return build

    models = {(modes, seed): make_model(modes, seed) for modes in modes_list for seed in seeds}
    df = coord_data(models, lambda _: itertools.repeat((x, y)), lambda model: make_adam(model, lr),
                    x, steps, clip_value=clip_value, key_names=("modes", "seed"))
    df.insert(0, "parametrization", parametrization)
    df.insert(0, "dim", dim)
    return df[["dim", "parametrization", "modes", "seed", "step", "layer", "mean_abs",
               "mean_abs_delta", "loss"]]


def coord_check_sp_mup(
    dim: int, modes_list: Sequence[int], grid: int | None = None, **kwargs
) -> pd.DataFrame:
    """:func:`coord_check` under SP and under μP on the same batch and seeds, one table.

    Without ``data`` the batch is :func:`synthetic_regression` on ``grid`` points per axis
    (default :func:`default_grid`), ``batch_size`` samples, inputs decaying like ``input_decay``.
    """
    kwargs.setdefault("data", None)
    if kwargs["data"] is None:
        kwargs["data"] = synthetic_regression(
            dim, grid or default_grid(dim, max(modes_list)), kwargs.pop("batch_size", 8), seed=12345,
            decay=kwargs.pop("input_decay", 1.0))
    return pd.concat([coord_check(dim, modes_list, p, **kwargs) for p in ("sp", "mup")],
                     ignore_index=True)


def update_growth(df: pd.DataFrame, value: str = "mean_abs_delta") -> pd.DataFrame:
    """How ``value`` (mean over seeds) changes from the smallest to the largest K, per
    (dim, parametrization, step, layer): the ratio and the fitted power of K (0 = flat)."""
    mean = df.groupby(["dim", "parametrization", "step", "layer", "modes"], as_index=False)[value].mean()
    rows = []
    for (dim, param, step, layer), g in mean.groupby(["dim", "parametrization", "step", "layer"]):
        g = g.sort_values("modes")
        v = g[value].to_numpy()
        if np.any(v <= 0):
            continue  # step 0 has no update
        rows.append({
            "dim": dim, "parametrization": param, "step": step, "layer": layer,
            "K": f"{g['modes'].iloc[0]} → {g['modes'].iloc[-1]}", "growth": v[-1] / v[0],
            "power_of_K": float(np.polyfit(np.log(g["modes"]), np.log(v), 1)[0]),
        })
    return pd.DataFrame(rows)


def lr_factor_table(dim: int, modes_list: Sequence[int], base_modes: int) -> pd.DataFrame:
    """c(K) and b(K) of μP relative to ``base_modes`` for each K: sqrt(log K₀^d / log K^d)."""
    p = Parametrization("mup", base_modes=base_modes)
    return pd.DataFrame({
        "modes": list(modes_list),
        "c(K)": [p.lr_factor(k, dim) for k in modes_list],
        "b(K)": [p.init_factor(k, dim) for k in modes_list],
        "sqrt(log K0 / log K)": [math.sqrt(math.log(base_modes) / math.log(k)) for k in modes_list],
    })


def update_exponent(df: pd.DataFrame, step: int | None = None, layers: str = "spectral",
                    value: str = "mean_abs_delta", n_boot: int = 1000, seed: int = 0,
                    level: float = 0.95) -> pd.DataFrame:
    """The growth exponent β of the update size, ``value`` ∝ (log K^d)^β, with a seed-bootstrap CI.

    For every (dim, parametrization): the mean over the layers whose name starts with ``layers``
    of log ``value`` at ``step`` (default: the last step) is taken per (K, seed); β is the
    least-squares slope of its seed mean against log(d log K). The interval resamples seeds (the
    same draw for every K), refits β, and is β ± t(n−1) · bootstrap standard error. Theory
    (:data:`THEORY_BETA`): SP +½, μP 0. Columns: dim, parametrization, ``beta``, ``beta_low``,
    ``beta_high``, ``theory``, ``consistent`` (the interval holds the theory), ``excludes_zero``,
    ``excludes_half``, ``ks``, ``n_seeds``, ``step``, ``growth`` (seed-mean ratio K_max / K_min).
    """
    step = int(df["step"].max()) if step is None else step
    sel = df[(df["step"] == step) & df["layer"].str.startswith(layers)]
    sel = sel.assign(log_value=np.log(sel[value].astype(float)))
    rows = []
    for (dim, param), part in sel.groupby(["dim", "parametrization"]):
        table = part.pivot_table(index="modes", columns="seed", values="log_value", aggfunc="mean")
        ks = [int(k) for k in table.index]
        x = np.log([log_modes(int(k), int(dim)) for k in ks])
        values = table.to_numpy(dtype=float)  # (K, seeds)
        fit = paired_seed_exponent("beta", x, values, n_boot, seed, THEORY_BETA[param], 0.5, level)
        fit.pop("_samples")
        growth = fit.pop("growth")
        rows.append({"dim": int(dim), "parametrization": param, **fit, "ks": tuple(ks),
                     "n_seeds": values.shape[1], "step": step, "growth": growth})
    return pd.DataFrame(rows)


def update_verdict(exponents: pd.DataFrame) -> str:
    """One sentence per dimension, computed from :func:`update_exponent`'s intervals."""
    sentences = []
    for dim, part in exponents.groupby("dim"):
        fits = part.set_index("parametrization")
        words = []
        for param, name in (("sp", "SP"), ("mup", "μP")):
            if param not in fits.index:
                continue
            r = fits.loc[param]
            interval = (f"β = {r.beta:+.2f} [{r.beta_low:+.2f}, {r.beta_high:+.2f}]"
                        if np.isfinite([r.beta_low, r.beta_high]).all() else
                        f"β = {r.beta:+.2f} (no interval: one seed)")
            if r.consistent and (r.excludes_zero if param == "sp" else r.excludes_half):
                what = "as the theory says" + (" (grows like sqrt(log K))" if param == "sp"
                                              else " (flat in K)")
            elif r.consistent:
                what = "consistent with the theory, but the interval cannot tell it from the other answer"
            else:
                trend = ("grows faster with K than predicted" if r.beta > r.theory else
                         "grows more slowly with K than predicted" if r.beta > 0 else "falls with K")
                what = (f"not the theory's {r.theory:+.1f}: the update size {trend} "
                        f"(×{r.growth:.2f} over K {r.ks[0]} → {r.ks[-1]})")
            words.append(f"{name} {interval}, {what}")
        sentences.append(f"d = {dim}: " + "; ".join(words) + ".")
    return " ".join(sentences)
