"""The registry of sweep experiments and their presets (smoke / quick / gpu / paper).

Learning rates sit on the grid 10^(j/8), 8 points per decade (the paper's reported 1.78e-3,
4.22e-3 and 5.62e-3 are 10^(-22/8), 10^(-19/8), 10^(-18/8)). μP is used relative to the smallest K
of the grid (``base_modes``), so SP and μP coincide there and share one LR scale: at the base K
only the SP trials are run, and :func:`~mufno_core.sweep.store.load_results` lists them under μP
too (``mirrored``), which saves a quarter of a two-K sweep.

Presets:

* ``smoke``: seconds; for the tests. Not a measurement.
* ``quick``: the whole book on 2 CPU cores within 45 minutes, designed for the exponent α of
  :func:`~mufno_core.analysis.optima.lr_exponent`: at least 8 seeds, 4 K values over the widest
  range the grid holds, and 6–8 LRs placed (by a 2-seed pilot, noted at each preset) where the
  optima lie, since the fit uses only the grid minimum ± 2 points.
* ``gpu``: minutes each on one H100 (a target, not yet measured): width 64, depth 4, the
  paper's K range (up to 24 for Darcy and Navier–Stokes), 3 seeds.
* ``paper``: the paper's scale (width 64, depth 4, 1000 training samples, Burgers K 3 → 512):
  runnable, hours to days of GPU time.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from mufno_core.axes import HPARAM_AXES, HparamAxis
from mufno_core.data.presets import PRESETS  # noqa: F401  (re-exported: every experiment has these)
from mufno_core.sweep.config import TrialConfig

AXIS_OF_FIELD = {"modes": "modes", "seed": "seeds", "parametrization": "parametrizations",
                 **{axis.field: axis.grid for axis in HPARAM_AXES.values()}}
"""TrialConfig field → the Preset axis (and ``--set`` key) that sweeps it; the hyperparameters' own
from their :class:`~mufno_core.axes.HparamAxis`."""


def lr_grid(j_min: int, j_max: int, step: int = 1) -> tuple[float, ...]:
    """Learning rates 10^(j/8) for j = j_min, j_min + step, … ≤ j_max (8 per decade at step 1)."""
    return tuple(round(10 ** (j / 8), 12) for j in range(j_min, j_max + 1, step))


@dataclass(frozen=True)
class Preset:
    """The grid of one preset: the product of modes × lrs × seeds × batch_sizes × beta2s × both
    parametrizations, with the fixed settings in ``fixed`` (TrialConfig fields: width, steps, …)."""

    modes: tuple[int, ...]
    lrs: tuple[float, ...]
    seeds: tuple[int, ...] = (0, 1, 2)
    batch_sizes: tuple[int, ...] = (20,)
    beta2s: tuple[float, ...] = (0.999,)
    parametrizations: tuple[str, ...] = ("sp", "mup")
    fixed: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    stack: bool = False
    """Train the members that share K side by side (:mod:`mufno_core.stacked`): where measured to
    win on the CPU (FNO-1D at quick sizes, ``benchmarks/bench_stacked.py``) and on a GPU."""

    def size(self) -> int:
        """Trials to run: μP at the base K is SP's trial (see :func:`grid`) and is not rerun."""
        per_curve = len(self.lrs) * len(self.seeds) * len(self.batch_sizes) * len(self.beta2s)
        mirrored = per_curve if {"sp", "mup"} <= set(self.parametrizations) else 0
        return per_curve * len(self.modes) * len(self.parametrizations) - mirrored


@dataclass(frozen=True)
class PaperReport:
    """What the paper (arXiv 2506.19396) reports for an experiment: its ``setup``, its finding
    under SP and under μP in words, and its optimal LRs where it gives numbers (``lr_optima``:
    parametrization → (K_min, K_max, lr*(K_min), lr*(K_max)))."""

    setup: str
    sp: str
    mup: str
    lr_optima: dict[str, tuple[int, int, float, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, str]:
        """The words by key: "setup", "sp", "mup"."""
        return {"setup": self.setup, "sp": self.sp, "mup": self.mup}


@dataclass(frozen=True)
class Experiment:
    """A sweep, declared once: a data set, a model family, what is swept (``swept``: "lr",
    "batch_size", "beta2"; its :class:`~mufno_core.axes.HparamAxis` is :attr:`axis`) and its
    presets; and for the book its ``label``, the chapter ``notebook`` that runs it, what the
    ``paper`` reports (None: not an experiment of the paper) and the ``calibrated_exponents`` β of
    its calibrated rule per preset (:mod:`mufno_core.analysis.calibrate`). Every list of
    experiments elsewhere reads these fields (:class:`Registered`)."""

    name: str
    description: str
    dataset: str
    dim: int
    in_channels: int
    out_channels: int
    swept: str
    presets: dict[str, Preset]
    fixed: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    notebook: str | None = None
    paper: PaperReport | None = None
    calibrated_exponents: dict[str, float] = field(default_factory=dict)
    same_trials_as: str | None = None
    """An experiment whose trial of equal settings is the same computation as this one's
    (:mod:`mufno_core.sweep.twins`): a stored one is copied, not trained again."""

    @property
    def axis(self) -> HparamAxis:
        """The swept hyperparameter's :class:`~mufno_core.axes.HparamAxis`."""
        return HPARAM_AXES[self.swept]

    @property
    def is_lr_transfer(self) -> bool:
        """An LR-over-K experiment of the paper: its α is fitted, calibrated and summarised."""
        return self.swept == "lr" and self.paper is not None


V = TypeVar("V")


class Registered(Mapping[str, V], Generic[V]):
    """A live view of the registry: experiment name → ``value(experiment)`` for every registered
    experiment where that is not None, in registration order. It is read at each use, so an
    experiment registered later (a test's toy one) is in every list built on it."""

    def __init__(self, value: Callable[[Experiment], V | None]) -> None:
        self._value = value

    def _items(self) -> dict[str, V]:
        return {name: v for name, exp in EXPERIMENTS.items() if (v := self._value(exp)) is not None}

    def __getitem__(self, name: str) -> V:
        return self._items()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def __repr__(self) -> str:
        return f"Registered({self._items()!r})"


EXPERIMENT_FIELDS = ("experiment", "dataset", "preset", "dim", "in_channels", "out_channels")
"""TrialConfig fields that the experiment and the preset decide, never an override."""


def grid(experiment: str | Experiment, preset: str, **overrides: Any) -> list[TrialConfig]:
    """Every trial of ``experiment`` at ``preset``; ``overrides`` replace grid axes (``modes``,
    ``lrs``, ``seeds``, ``batch_sizes``, ``beta2s``, ``parametrizations``) or fixed fields."""
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    if preset not in exp.presets:
        raise ValueError(f"experiment {exp.name!r} has no preset {preset!r}; "
                         f"presets: {', '.join(exp.presets)}")
    p = exp.presets[preset]
    axes = {name: getattr(p, name) for name in
            ("modes", "lrs", "seeds", "batch_sizes", "beta2s", "parametrizations")}
    fixed = {k: v for k, v in {**exp.fixed, **p.fixed}.items() if v is not None or k == "steps"}
    for name in list(fixed):  # a fixed swept field is a one-point axis
        if name in AXIS_OF_FIELD:
            if len(axes[AXIS_OF_FIELD[name]]) > 1:
                raise ValueError(f"{exp.name}/{preset}: {name} is both fixed and swept")
            axes[AXIS_OF_FIELD[name]] = (fixed.pop(name),)
    for name, value in overrides.items():
        name = AXIS_OF_FIELD.get(name, name)
        if name in EXPERIMENT_FIELDS:
            raise ValueError(f"{name!r} is set by the experiment {exp.name!r} itself and cannot be "
                             f"overridden; use another experiment")
        if name in axes:
            axes[name] = tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) \
                else (value,)
        elif name in TrialConfig.__dataclass_fields__:
            fixed[name] = value
        else:
            raise ValueError(f"unknown override {name!r}")
    base_modes = fixed.pop("base_modes", min(p.modes))  # of the preset, whatever the overrides
    cal_exponent = _cal_exponent(exp.name, preset, fixed.pop("cal_exponent", None),
                                 "cal" in axes["parametrizations"])
    configs = [TrialConfig(
        experiment=exp.name, dataset=exp.dataset, preset=preset, dim=exp.dim,
        in_channels=exp.in_channels, out_channels=exp.out_channels, parametrization=param,
        modes=k, base_modes=base_modes, lr=lr, seed=seed, batch_size=bs, beta2=b2,
        cal_exponent=cal_exponent if param == "cal" else None, **fixed)
        for param, k, bs, b2, lr, seed in itertools.product(
            axes["parametrizations"], axes["modes"], axes["batch_sizes"], axes["beta2s"],
            axes["lrs"], axes["seeds"])]
    if {"sp", "mup"} <= set(axes["parametrizations"]):  # the SP trial stands for μP at K₀
        configs = [c for c in configs if not c.is_mirrored_by_sp()]
    return configs


def _cal_exponent(experiment: str, preset: str, given: float | None, needed: bool) -> float | None:
    """β of the calibrated parametrization: ``given`` (``--set cal_exponent=β``), else the one
    measured for (experiment, preset) in :data:`CALIBRATED_EXPONENTS`; only "cal" trials take it."""
    if given is not None or not needed:
        return given
    try:
        return CALIBRATED_EXPONENTS[experiment][preset]
    except KeyError:
        raise ValueError(f"{experiment}/{preset} has no calibrated exponent; measure one with "
                         f"mufno_core.analysis.calibrate and pass --set cal_exponent=β") from None


# --- the presets -----------------------------------------------------------------------------
# Budgets: quick sizes were measured on the 2-core CPU box (book/details.md has the table); gpu
# sizes are estimates from steps/s of the same models on an H100-class GPU.

SEEDS3 = (0, 1, 2)
SEEDS8 = tuple(range(8))
SMOKE_FIXED = {"width": 8, "depth": 2, "steps": 4, "n_train": 16, "n_test": 8, "batch_size": 8}
GPU_FIXED = {"width": 64, "steps": 1000, "n_train": 1000, "n_test": 100}
DARCY_QUICK_FIXED = {"width": 16, "steps": 150, "batch_size": 10, "n_train": 200, "n_test": 50}
PAPER_FIXED = {"width": 64, "epochs": 500, "steps": None, "n_train": 1000, "n_test": 100}
"""The paper's training: width 64, 500 epochs over 1000 training samples, 100 test samples."""


def _smoke(modes=(2, 4)) -> Preset:
    return Preset(modes=modes, lrs=lr_grid(-20, -16), seeds=(0, 1), fixed=SMOKE_FIXED,
                  note="seconds; a test of the machinery, not a measurement")


EXPERIMENTS: dict[str, Experiment] = {}


def register(exp: Experiment) -> Experiment:
    EXPERIMENTS[exp.name] = exp
    return exp


register(Experiment(
    name="synthetic_lr",
    description="LR vs K on a built-in smoothing operator (FNO-1D; no data files): tests and demos",
    dataset="synthetic", dim=1, in_channels=1, out_channels=1, swept="lr",
    label="Synthetic smoothing (FNO-1D)",
    presets={
        "smoke": _smoke(),
        "quick": Preset(modes=(2, 4, 16), lrs=lr_grid(-24, -12), seeds=SEEDS3,
                        fixed={"width": 16, "depth": 4, "steps": 200, "n_train": 64, "n_test": 16}),
        "gpu": Preset(modes=(2, 4, 8, 16, 32), lrs=lr_grid(-28, -8), seeds=SEEDS3,
                      fixed={"width": 64, "steps": 1000, "n_train": 64, "n_test": 16}),
        "paper": Preset(modes=(2, 4, 8, 16, 32), lrs=lr_grid(-28, -8), seeds=(0, 1, 2, 3, 4),
                        fixed={"width": 64, "steps": 5000, "n_train": 64, "n_test": 16}),
    },
))

register(Experiment(
    name="burgers_lr",
    description="Burgers 1-D (ν = 0.1), FNO-1D: optimal LR vs K under SP and μP (paper: K 3 → 512)",
    dataset="burgers", dim=1, in_channels=1, out_channels=1, swept="lr",
    label="Burgers (FNO-1D)", notebook="lr_drift_burgers",
    paper=PaperReport("FNO-1D, width 64, 4 layers, K 3 → 512", "optimal LR shifts with K",
                      "optimal LR stable across K"),
    # β_SP of the coordinate check (see "The calibrated exponents" below); 95% CI [−0.12, +0.35]
    calibrated_exponents={"quick": 0.11},
    presets={
        "smoke": _smoke(),
        # 8 seeds × 8 LRs around the optima (5.2e-4 … 7.5e-4 at width 16, 300 steps)
        "quick": Preset(modes=(3, 8, 24, 64), lrs=lr_grid(-29, -22), seeds=SEEDS8,
                        fixed={"width": 16, "steps": 300, "n_train": 200, "n_test": 50,
                               "subsample": 2}, stack=True),
        # with normalised targets the optimum sits near 1e-3 (width 16, 300 steps)
        "gpu": Preset(modes=(3, 8, 32, 128, 512), lrs=lr_grid(-32, -14), seeds=SEEDS3,
                      fixed={"width": 64, "steps": 2000, "n_train": 1000, "n_test": 100}),
        "paper": Preset(modes=(3, 8, 16, 32, 64, 128, 256, 512), lrs=lr_grid(-36, -12),
                        seeds=SEEDS3, fixed=PAPER_FIXED),
    },
))

register(Experiment(
    name="darcy_lr",
    description="Darcy flow 2-D, FNO-2D: optimal LR vs K under SP and μP (paper: K 3 → 24)",
    dataset="darcy", dim=2, in_channels=1, out_channels=1, swept="lr",
    label="Darcy (FNO-2D)", notebook="lr_drift_darcy",
    paper=PaperReport("FNO-2D, width 64, 4 layers, K 3 → 24, Darcy at 85²",
                      "optimal LR shifts clearly with K", "optimal LR stable across K"),
    calibrated_exponents={"quick": 0.07},  # 95% CI [−0.02, +0.16]
    presets={
        "smoke": _smoke(),
        # K from 2 (μP needs log K > 0) to 14, the most the 29² grid holds: α's standard error
        # falls with the spread of log log K², which K = 2, 4, 8, 14 makes 2.4× that of K = 3, 5,
        # 8, 14 (half-widths 0.32 / 0.36 -> 0.19 / 0.23 at 8 seeds). The pilot (2 seeds, 11
        # LRs) put every optimum at 10^(-17.3/8) … 10^(-15.7/8); at 8 seeds μP's optima reach
        # 10^(-14.8/8), so the grid runs to 10^(-13/8)
        "quick": Preset(modes=(2, 4, 8, 14), lrs=lr_grid(-20, -13), seeds=SEEDS8,
                        fixed=DARCY_QUICK_FIXED),
        "gpu": Preset(modes=(3, 6, 12, 24), lrs=lr_grid(-26, -13), seeds=SEEDS3, fixed=GPU_FIXED),
        "paper": Preset(modes=(3, 6, 9, 12, 16, 20, 24), lrs=lr_grid(-32, -12), seeds=SEEDS3,
                        fixed=PAPER_FIXED),
    },
))

register(Experiment(
    name="navier_stokes_lr",
    description="Navier–Stokes 2-D + time (ν = 1e-3), FNO-3D: optimal LR vs K (paper: K 3 → 24)",
    dataset="navier_stokes", dim=3, in_channels=10, out_channels=1, swept="lr",
    label="Navier–Stokes (FNO-3D)", notebook="lr_drift_navier_stokes",
    paper=PaperReport("FNO-3D, width 64, 4 layers, K 3 → 24 (1.7M → 906M parameters)",
                      "1.8e-3 at K=3 → 7.4e-4 at K=24: drift ≈ 0.41 (2.4× down)",
                      "≈ 4.2e-3 at every K: drift ≈ 1", lr_optima={"sp": (3, 24, 1.8e-3, 7.4e-4)}),
    calibrated_exponents={"quick": 0.13},  # 95% CI [−0.07, +0.33]
    # The time axis holds t_out = 10 (quick, gpu) or 40 (paper) steps; an rFFT axis of n points
    # keeps at most n//2 + 1 modes, so K on the time axis is capped (the paper's K³ at K = 24 needs
    # >= 46 time points). μP then scales with log(K · K · K_t).
    presets={
        "smoke": Preset(modes=(2, 4), lrs=lr_grid(-20, -16), seeds=(0, 1),
                        fixed={**SMOKE_FIXED, "time_modes_max": 3}),
        # 16² × 10 (the 32² data subsampled: a trial costs about a third), so K <= 8; K = 2
        # widens the range of log(K²·K_t), which sets how well α is pinned down. The pilot (2
        # seeds, 12 LRs) put the optima at 10^(-16.8/8) … 10^(-14.8/8). Near them the loss is
        # flat (log10 loss within 0.04 over ±2 points at 8 per decade), so the points sit 4 per
        # decade: the ±2-point parabola then spans a decade, and the standard error of an
        # optimum fell from 0.06 to 0.015–0.03 (log10; 8 seeds, K = 2 and 8) at the same cost.
        "quick": Preset(modes=(2, 3, 5, 8), lrs=lr_grid(-22, -10, step=2), seeds=SEEDS8,
                        fixed={"width": 8, "steps": 100, "batch_size": 5, "n_train": 100,
                               "n_test": 20, "time_modes_max": 6, "subsample": 2}),
        "gpu": Preset(modes=(3, 6, 12, 24), lrs=lr_grid(-26, -15), seeds=SEEDS3,
                      fixed={"width": 64, "steps": 300, "batch_size": 10, "n_train": 1000,
                             "n_test": 100, "time_modes_max": 6}),
        "paper": Preset(modes=(3, 6, 12, 16, 24), lrs=lr_grid(-30, -14), seeds=SEEDS3,
                        fixed={**PAPER_FIXED, "batch_size": 10, "time_modes_max": 21}),
    },
))

register(Experiment(
    name="pino_darcy",
    description="PINO on Darcy (data + physics loss, PINO's grid): optimal LR vs K (paper: ≈5.6e-3)",
    dataset="darcy_pino", dim=2, in_channels=1, out_channels=1, swept="lr",
    label="PINO Darcy (FNO-2D)", notebook="pino_darcy",
    paper=PaperReport("PINO (data + physics loss) on Darcy, FNO-2D", "not reported",
                      "best LR stable at ≈ 5.6e-3"),
    calibrated_exponents={"quick": -0.07},  # 95% CI [−0.24, +0.10]
    # loss = 5 · data + 1 · PDE (PINO's Darcy config); the prediction is mollified by
    # sin(πx) sin(πy) (scale 1: targets are normalised point-wise, zero on the boundary).
    fixed={"data_weight": 5.0, "pde_weight": 1.0, "mollifier_scale": 1.0},
    presets={
        "smoke": _smoke(),
        # K = 2 … 14 of the 31² grid, darcy_lr's K (the widest spread of log log K²); the pilot
        # (2 seeds, 11 LRs) put every optimum at 10^(-15.8/8) … 10^(-15.0/8): 6 LRs keep the
        # ±2-point fit inside the grid
        "quick": Preset(modes=(2, 4, 8, 14), lrs=lr_grid(-18, -13), seeds=SEEDS8,
                        fixed=DARCY_QUICK_FIXED),
        "gpu": Preset(modes=(3, 6, 12, 24), lrs=lr_grid(-26, -13), seeds=SEEDS3, fixed=GPU_FIXED),
        "paper": Preset(modes=(3, 6, 12, 24), lrs=lr_grid(-30, -12), seeds=SEEDS3,
                        fixed=PAPER_FIXED),
    },
))

# The paper reports no Darcy optimum; its gpu/paper batch-size and β2 sweeps hold the LR at the
# paper's μP optimum for Navier–Stokes (4.22e-3, for every K), a point of the 8-per-decade grid
_PAPER_NS_MUP_LR = 10 ** (-19 / 8)
_DARCY_QUICK_LR = 10 ** (-16 / 8)  # 1e-2: near quick darcy_lr's μP optima (1.3e-2 … 1.4e-2)
# The grids of the batch-size and β2 sweeps but for the swept axis: toy, quick (darcy_lr's K range
# at 8 seeds) and gpu/paper (the paper's K at its fixed LR)
_HPARAM_SMOKE = {"modes": (2, 4), "lrs": (1e-2,), "seeds": (0, 1)}
_HPARAM_QUICK = {"modes": (2, 14), "lrs": (_DARCY_QUICK_LR,), "seeds": SEEDS8}
_HPARAM_AT_PAPER_LR = {"modes": (3, 6, 12, 24), "lrs": (_PAPER_NS_MUP_LR,), "seeds": SEEDS3}

register(Experiment(
    name="darcy_batch_size",
    description="Darcy, FNO-2D: best batch size vs K at a fixed LR and a fixed number of epochs",
    dataset="darcy", dim=2, in_channels=1, out_channels=1, swept="batch_size",
    label="Darcy (FNO-2D)", notebook="batch_size_darcy",
    paper=PaperReport("FNO-2D on Darcy", "larger models want larger batches",
                      "best batch size 20 at every K"),
    presets={
        "smoke": Preset(**_HPARAM_SMOKE, batch_sizes=(4, 8),
                        fixed={**SMOKE_FIXED, "steps": None, "epochs": 1, "batch_size": None}),
        # K = 2 and 14, darcy_lr's range; a pilot (2 seeds) put the best batch at 3 … 10 and
        # batch 2 worse again, so the grid brackets it
        "quick": Preset(**_HPARAM_QUICK, batch_sizes=(2, 3, 5, 10, 20, 40),
                        fixed={"width": 16, "steps": None, "epochs": 8, "n_train": 200,
                               "n_test": 50}),
        "gpu": Preset(**_HPARAM_AT_PAPER_LR, batch_sizes=(5, 10, 20, 40, 80),
                      fixed={**GPU_FIXED, "steps": None, "epochs": 30}),
        "paper": Preset(**_HPARAM_AT_PAPER_LR, batch_sizes=(5, 10, 20, 40, 80), fixed=PAPER_FIXED),
    },
))

register(Experiment(
    name="darcy_beta2",
    description="Darcy, FNO-2D: best Adam β2 vs K at a fixed LR",
    dataset="darcy", dim=2, in_channels=1, out_channels=1, swept="beta2",
    label="Darcy (FNO-2D)", notebook="beta2_darcy",
    paper=PaperReport("FNO-2D on Darcy", "best β2 varies with K", "best β2 = 0.98 at every K"),
    same_trials_as="darcy_lr",  # β2 0.999 (Adam's default) at LR 1e-2 is a darcy_lr trial
    presets={
        "smoke": Preset(**_HPARAM_SMOKE, beta2s=(0.9, 0.999), fixed=SMOKE_FIXED),
        # K = 2 and 14, darcy_lr's range. A pilot (4 seeds, β2 0.5 … 0.999) found the loss flat
        # for β2 >= 0.97 (a second-moment horizon 1/(1 − β2) beyond the 150 steps changes little)
        # and worse below 0.9, so the grid runs from 0.7 and is densest around the paper's 0.98
        "quick": Preset(**_HPARAM_QUICK, beta2s=(0.7, 0.9, 0.95, 0.98, 0.99, 0.999),
                        fixed=DARCY_QUICK_FIXED),
        "gpu": Preset(**_HPARAM_AT_PAPER_LR, beta2s=(0.9, 0.95, 0.98, 0.99, 0.995, 0.999),
                      fixed=GPU_FIXED),
        "paper": Preset(**_HPARAM_AT_PAPER_LR, beta2s=(0.9, 0.95, 0.98, 0.99, 0.995, 0.999),
                        fixed=PAPER_FIXED),
    },
))


# --- the calibrated exponents and the other views of the registry --------------------------------
# An experiment's calibrated_exponents are β_SP of the coordinate check on its own trials
# (mufno_core.analysis.calibrate: the RMS update of the output after 10 Adam steps at the middle of
# the LR grid, 8 seeds, K of the preset; `python -m mufno_core.analysis.calibrate --results
# results/quick`, AMD EPYC, torch 2.13.0, 2026-12-02), rounded to 2 decimals so that the calibrated
# trials' ids stay stable; the 95% interval of each is noted at its registration.

CALIBRATED_EXPONENTS: Registered[dict[str, float]] = Registered(
    lambda exp: exp.calibrated_exponents or None)
"""The exponent β of the calibrated parametrization "cal", c(K) = (log K₀_eff / log K_eff)^β, per
experiment and preset (``--set cal_exponent=β`` replaces it)."""

REPORTED: Registered[Experiment] = Registered(lambda exp: exp if exp.paper is not None else None)
"""The experiments of the paper, in registration order (the summary, the lead figure, ``make
rerun-results`` and ``scripts/gpu_sweeps.sh`` run or read these)."""

LR_TRANSFER: Registered[Experiment] = Registered(lambda exp: exp if exp.is_lr_transfer else None)
"""The paper's LR-over-K experiments (α fitted, calibrated and summarised for each)."""


def grid_ids(configs: list[TrialConfig]) -> set[str]:
    """Ids of the trials of a grid, plus those of the μP trials at the base K that the SP trials
    stand for (so that stored real ones are selected too)."""
    ids = {c.trial_id() for c in configs}
    if {"sp", "mup"} <= {c.parametrization for c in configs}:
        ids |= {mup.trial_id() for c in configs if (mup := c.mirrored_mup()) is not None}
    return ids


def in_grid(df, configs: list[TrialConfig]):
    """Boolean mask of the rows of a results frame (:func:`~mufno_core.sweep.store.load_results`)
    that belong to the grid ``configs``: their ids, and the mirrored μP rows (made from an SP trial
    at K₀) only where the grid has μP."""
    params = {c.parametrization for c in configs}
    return df["trial_id"].isin(grid_ids(configs)) & df["parametrization"].isin(params)


def get_experiment(name: str) -> Experiment:
    """The registered experiment ``name`` (a clear error listing the names otherwise)."""
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise ValueError(f"unknown experiment {name!r}; experiments: {', '.join(EXPERIMENTS)}") from None


def describe_preset(experiment: str, preset: str, **overrides: Any) -> dict[str, Any]:
    """What a preset (with ``overrides``) trains, in words and numbers: for notebooks and logs."""
    configs = grid(experiment, preset, **overrides)
    first = configs[0]

    def values(field: str) -> list:
        return sorted({getattr(c, field) for c in configs})

    lrs = values("lr")
    budget = f"{first.steps} steps" if first.steps is not None else f"{first.epochs} epochs"
    return {
        "experiment": experiment, "preset": preset, "K": values("modes"),
        "learning rates": f"{lrs[0]:.2g} … {lrs[-1]:.2g} ({len(lrs)} points)" if len(lrs) > 1
        else f"{lrs[0]:.3g}",
        "seeds": len(values("seed")), "width": first.width, "depth": first.depth,
        "budget": budget, "batch sizes": values("batch_size"), "Adam β2": values("beta2"),
        "training samples": first.n_train, "trials": len(configs),
    }
