"""Calibrate the transfer rule from a coordinate check on an experiment's own trial.

μP's c(K) ∝ 1/sqrt(d log K) (paper Thm. 3.5) comes from a worst case: the operator norm of a random
Fourier layer, the maximum over K^d modes of sub-Gaussian gains, grows like sqrt(2 d log K). What
moves the optimal LR is instead how much one step changes the model's output *on the data trained
on*. After an Adam step the spectral weight of mode k changes by ΔR_k with entries ≈ η c(K)
(Adam's first step is η·sign(g)), and the output changes by

    Δf(x) = Σ_{|k| ≤ K} ΔR_k v̂_k(x) e^{ikx},    ‖Δf‖² = Σ_{|k| ≤ K} ‖ΔR_k v̂_k‖²,

a sum weighted by the energy |v̂_k|² that the hidden function carries in mode k. If that energy
decays fast, the added modes add little and ‖Δf‖ barely grows with K; if it is flat, ‖Δf‖ grows
faster than the worst case. So measure it: with the update size ∝ (log K_eff)^β at a fixed LR, the
LR that keeps the update at the size the base K tolerates scales like (log K_eff)^(−β), i.e. the
predicted exponent of lr*(K) ∝ (log K_eff)^α is α = −β, and the calibrated rule is

    c(K) = (log K₀_eff / log K_eff)^β_SP            (parametrization "cal", :mod:`mufno_core.mup`).

:func:`check_trials` runs the coordinate check (:func:`~mufno_core.coord_check.coord_data`, the
one the library ships) on an experiment's own trials (its model, data or PINO's physics loss,
clipping, batch size, Adam β's; a seed changes the init and the batch order) for a few steps at
one fixed LR (:func:`check_lr`), recording after every step the RMS change of the whole output and
of every spectral layer's output on a fixed held batch. :func:`update_exponents` fits β with the
paired seed bootstrap of :func:`~mufno_core.stats.paired_seed_exponent`; :func:`prediction_table`
sets α = −β beside the sweeps' α; :func:`flatness_table` asks whether the calibrated rule's
optimum is flatter than μP's (both from :func:`~mufno_core.analysis.optima.lr_exponent`, whose
bootstrap samples pair parametrizations by seed).
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from mufno_core.analysis.optima import log_k_eff
from mufno_core.coord_check import coord_data
from mufno_core.losses import relative_l2
from mufno_core.mup import spectral_layers
from mufno_core.stats import bootstrap_se, paired_seed_exponent, student_t
from mufno_core.sweep.config import TrialConfig
from mufno_core.sweep.data import load_trial_data
from mufno_core.sweep.experiments import LR_TRANSFER, get_experiment, grid
from mufno_core.train import batches

CHECK_STEPS = 10
"""Adam steps of the check (the update is recorded after each; the frozen measure reads step 10)."""
HELD = 8
"""Test inputs on which the update of the output is measured (the same for every K and seed)."""
CHECK_SEEDS = tuple(range(8))
PREDICTION_MARGIN = 0.25
"""|α − α_pred| below which a prediction counts as right: half the distance between SP's and μP's
theoretical α (−½ and 0), so that "predicts" tells the two rules apart."""
WHERE = ("output", "spectral")
LR_EXPERIMENTS = LR_TRANSFER
"""The experiments calibrated: the paper's LR-over-K experiments, from the registry."""


@dataclass(frozen=True)
class UpdateMeasure:
    """Which update size β is fitted to: ``where`` ("output": RMS of f_t − f_0 on the held batch;
    "spectral": the mean over Fourier layers of the log RMS change of the spectral convolution's
    output) after ``step`` Adam steps."""

    where: str
    step: int

    def label(self) -> str:
        return f"{self.where}, step {self.step}"


CANDIDATE_MEASURES = (UpdateMeasure("output", 1), UpdateMeasure("output", 5),
                      UpdateMeasure("output", 10), UpdateMeasure("spectral", 5))
"""The measures the 2-seed pilot compared (all at :func:`check_lr`)."""
CHOICE_EXPERIMENTS = ("burgers_lr", "darcy_lr")
"""The two experiments the measure was chosen on (:func:`choose_measure`); the others and the
held-out studies (Burgers at width 32 and for 1000 steps, Navier–Stokes at width 16) judge it."""
FROZEN_MEASURE = UpdateMeasure("output", 10)
"""The measure every calibration uses, frozen from the 2-seed pilot (quick preset, seeds 0 and 1,
LR :func:`check_lr`) by :func:`choose_measure` on burgers_lr and darcy_lr: the squared errors of
α_pred = −β against the sweeps' α (SP and μP, both experiments) summed to 1.22 (output, step 1),
0.77 (output, step 5), 0.39 (output, step 10) and 1.76 (spectral layers, step 5)."""


# --- the check ----------------------------------------------------------------------------------
def check_lr(experiment: str, preset: str) -> float:
    """The fixed LR of the check: the geometric middle of the preset's LR grid (no sweep result)."""
    lrs = get_experiment(experiment).presets[preset].lrs
    return float(math.exp(np.mean(np.log(lrs))))


def check_configs(experiment: str, preset: str, seeds: Sequence[int] = CHECK_SEEDS,
                  lr: float | None = None, parametrizations: Sequence[str] = ("sp", "mup"),
                  **overrides) -> list[TrialConfig]:
    """The experiment's trials at every K of ``preset`` and one LR (default :func:`check_lr`)."""
    lr = check_lr(experiment, preset) if lr is None else lr
    return [c for p in parametrizations
            for c in grid(experiment, preset, parametrizations=(p,), seeds=tuple(seeds),
                          lrs=(lr,), **overrides)]


def _default_loss(decode) -> Callable:
    def loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        pred = model(x)
        return relative_l2(decode(pred), decode(y)) if decode is not None else relative_l2(pred, y)
    return loss


def coupled_model(config: TrialConfig) -> nn.Module:
    """The trial's model, whose K-independent weights (lift, skips, projection) are those that the
    same seed draws at the base K: the init of every weight keeps its distribution, but at one
    seed the models of all K share what does not depend on K (common random numbers), so that
    the differences between K, which β measures, are not buried under the projection's random
    scale (it moved the output's size by up to 4× between K at one seed in the pilot)."""
    torch.manual_seed(config.seed)
    model = config.build_model("cpu")
    base = config.base_modes or config.modes
    torch.manual_seed(config.seed)
    reference = config.with_(modes=base, parametrization="sp", cal_exponent=None).build_model("cpu")
    spectral = {id(p) for layer in spectral_layers(model) for p in layer.parameters()}
    shared = dict(reference.named_parameters())
    with torch.no_grad():
        for name, p in model.named_parameters():
            if id(p) not in spectral:
                p.copy_(shared[name])
    return model


def _shared_settings(config: TrialConfig) -> tuple:
    """What the trials of one :func:`~mufno_core.coord_check.coord_data` call share: the data, the
    loss and the training settings (all but the model's K, parametrization and seed)."""
    train = {k: v for k, v in asdict(config.train_config()).items() if k != "seed"}
    return (config.dataset, config.preset, config.dim, config.n_train, config.n_test,
            config.subsample, config.data_weight, config.pde_weight, config.mollifier_scale,
            tuple(sorted(train.items())))


def _check_group(configs: Sequence[TrialConfig], steps: int, data_dir: str,
                 held: int) -> dict[TrialConfig, list[dict]]:
    """The coordinate check (:func:`~mufno_core.coord_check.coord_data`) of trials that share
    :func:`_shared_settings`: each trial's :func:`coupled_model`, its optimizer, loss, clipping and
    batch order (its seed's), probed on the first ``held`` test inputs. Per trial and step 1 …
    ``steps``: the RMS update of the output (``output``) and the geometric mean over Fourier layers
    of the RMS update of the spectral convolution's output (``spectral``), the output's RMS at
    step 0 (``output_0``) and the loss the step trained on."""
    first = configs[0]
    data = load_trial_data(first, data_dir, "cpu")
    settings = first.train_config()
    by_key = {(c.parametrization, c.modes, c.seed, c.cal_exponent): c for c in configs}
    if len(by_key) < len(configs):
        raise ValueError("the trials of one check must differ in parametrization, K or seed")

    def loader(key: tuple):
        x, y = data.x_train, data.y_train
        order = batches(len(x), settings.batch_size, torch.Generator().manual_seed(key[2]))
        return ((x[index], y[index]) for index in order)

    df = coord_data({key: functools.partial(coupled_model, c) for key, c in by_key.items()},
                    loader, settings.adam, data.x_test[:held], steps,
                    first.loss_function(data.decode, data.decode_input) or _default_loss(data.decode),
                    settings.clip_value, settings.clip_params, key_names=("p", "k", "seed", "beta"))
    cells = [tuple(_no_nan(v) for v in row) for row in
             zip(*(df[c] for c in ("p", "k", "seed", "beta", "step", "layer")))]
    delta, rms, loss = (dict(zip(cells, df[column])) for column in ("rms_delta", "rms", "loss"))
    spectral = [f"spectral {i}" for i in range(1, first.depth + 1)]
    out = {}
    for key, config in by_key.items():
        keys = {"experiment": config.experiment, "dim": config.dim,
                "time_modes_max": config.time_modes_max, "parametrization": config.parametrization,
                "modes": config.modes, "seed": config.seed, "lr": config.lr,
                "log_k_eff": log_k_eff(config.modes, config.dim, config.time_modes_max)}
        out[config] = [{**keys, "step": step, "output": delta[(*key, step, "output")],
                        "spectral": float(np.exp(np.mean(np.log(
                            [delta[(*key, step, layer)] for layer in spectral])))),
                        "output_0": rms[(*key, 0, "output")],
                        "loss": loss[(*key, step - 1, "output")]}
                       for step in range(1, steps + 1)]
    return out


def _no_nan(value):
    """None for a missing value (a frame column holds the β of SP and μP, None, as NaN)."""
    return None if isinstance(value, float) and math.isnan(value) else value


def check_trials(configs: Sequence[TrialConfig], steps: int = CHECK_STEPS, data_dir: str = "data",
                 threads: int | None = 1, held: int = HELD) -> pd.DataFrame:
    """The coordinate check of every config (:func:`_check_group`), one row per (config, step);
    ``seconds`` is the wall time of the whole check (on ``threads`` threads; None keeps torch's
    setting)."""
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    groups: dict[tuple, list[TrialConfig]] = {}
    for config in configs:
        groups.setdefault(_shared_settings(config), []).append(config)
    try:
        rows_of = {config: rows for group in groups.values()
                   for config, rows in _check_group(group, steps, data_dir, held).items()}
    finally:
        torch.set_num_threads(previous)
    rows = [row for config in configs for row in rows_of[config]]
    return pd.DataFrame(rows).assign(seconds=time.perf_counter() - start)


def stored_check(experiment: str, preset: str, results_dir: str, data_dir: str = "data",
                 seeds: Sequence[int] = CHECK_SEEDS, check_steps: int = CHECK_STEPS,
                 name: str | None = None, **overrides) -> pd.DataFrame:
    """The check of ``experiment`` at ``preset`` (SP and μP, :func:`check_lr`, ``overrides`` as
    for :func:`check_configs`), read from ``results_dir/calibration/NAME.csv`` (``name``: default
    the experiment) when it holds these seeds and steps, else run (:func:`check_trials`) and
    written there. ``overrides`` change the trial (``steps`` is its training budget, which the
    check of ``check_steps`` Adam steps does not reach)."""
    path = Path(results_dir) / "calibration" / f"{name or experiment}.csv"
    if path.is_file():
        stored = pd.read_csv(path)
        if set(stored["seed"]) == set(seeds) and int(stored["step"].max()) == check_steps:
            return stored
    df = check_trials(check_configs(experiment, preset, seeds, **overrides), check_steps, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return df


# --- the exponent β --------------------------------------------------------------------------------
def update_exponents(df: pd.DataFrame, measure: UpdateMeasure = FROZEN_MEASURE, n_boot: int = 1000,
                     seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """β of the update size ∝ (log K_eff)^β per (experiment, parametrization), with a paired seed
    bootstrap: β is the least-squares slope of the seed mean of log update against log log K_eff;
    the seeds are resampled with one draw for every K (and, at equal seeds, every parametrization,
    so differences between them are paired); the interval is β ± t(n−1)·SE.
    Columns: experiment, parametrization, measure, beta, beta_low, beta_high, beta_se, half_width,
    ks, n_seeds, growth (update at K_max / K_min), and ``_samples`` (the bootstrap β's)."""
    sel = df[df["step"] == measure.step]
    rows = []
    for (experiment, param), part in sel.groupby(["experiment", "parametrization"], sort=False):
        table = part.pivot_table(index="log_k_eff", columns="seed", values=measure.where,
                                 aggfunc="first").sort_index()
        values = np.log(table.to_numpy(dtype=float))  # (K, seeds)
        fit = paired_seed_exponent("beta", np.log(table.index.to_numpy(dtype=float)), values,
                                   n_boot, seed, 0.5 if param == "sp" else 0.0, 0.5, level)
        samples, growth = fit.pop("_samples"), fit.pop("growth")
        ks = tuple(sorted(int(k) for k in part["modes"].unique()))
        rows.append({"experiment": experiment, "parametrization": param,
                     "measure": measure.label(), **fit, "ks": ks, "n_seeds": values.shape[1],
                     "growth": growth, "_samples": samples})
    return pd.DataFrame(rows)


def calibrated_exponent(exponents: pd.DataFrame, experiment: str) -> float:
    """β_SP of ``experiment`` rounded to 2 decimals: the exponent of its calibrated rule (rounded
    so that round-off of another CPU does not change the trials' ids)."""
    row = exponents[(exponents["experiment"] == experiment) & (exponents["parametrization"] == "sp")]
    return round(float(row["beta"].iloc[0]), 2)


def choose_measure(checks: pd.DataFrame, alphas: pd.DataFrame,
                   candidates: Sequence[UpdateMeasure] = CANDIDATE_MEASURES,
                   experiments: Sequence[str] = CHOICE_EXPERIMENTS) -> pd.DataFrame:
    """Each candidate measure's summed squared error (α + β)² over SP and μP of ``experiments``
    (the point estimates), smallest first: the first row is the measure to freeze."""
    checks = checks[checks["experiment"].isin(experiments)]
    measured = alphas.set_index(["experiment", "parametrization"])["alpha"]
    rows = []
    for measure in candidates:
        betas = update_exponents(checks, measure, n_boot=2).set_index(["experiment",
                                                                      "parametrization"])
        joined = betas["beta"].to_frame().join(measured, how="inner")
        rows.append({"measure": measure.label(), "where": measure.where, "step": measure.step,
                     "squared_error": float(((joined["alpha"] + joined["beta"]) ** 2).sum()),
                     "n": len(joined)})
    return pd.DataFrame(rows).sort_values("squared_error", kind="stable").reset_index(drop=True)


def _interval(estimate: float, se: float, dof: int, level: float = 0.95) -> tuple[float, float]:
    half = student_t(dof, level) * se
    return estimate - half, estimate + half


def prediction_verdict(low: float, high: float, margin: float = PREDICTION_MARGIN) -> str:
    """"predicts" (the interval of α − α_pred lies inside ±margin), "does not" (it excludes 0) or
    "cannot tell" (it holds 0 but reaches past the margin)."""
    if high < 0 or low > 0:
        return "does not"
    return "predicts" if -margin <= low and high <= margin else "cannot tell"


def prediction_table(betas: pd.DataFrame, alphas: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """α_pred = −β beside the measured α per (experiment, parametrization), the difference
    α − α_pred with an interval from the two independent bootstraps (the check's seeds and the
    sweep's are separate runs: SEs add in quadrature, t with the fewer seeds − 1), and the verdict
    (:func:`prediction_verdict`)."""
    merged = betas.drop(columns="_samples").merge(alphas.drop(columns="_samples"),
                                                  on=["experiment", "parametrization"],
                                                  suffixes=("_check", "_sweep"))
    rows = []
    for r in merged.itertuples():
        diff = r.alpha + r.beta
        se = math.hypot(r.alpha_se, r.beta_se)
        low, high = _interval(diff, se, min(r.n_seeds_check, r.n_seeds_sweep) - 1, level)
        rows.append({"experiment": r.experiment, "parametrization": r.parametrization,
                     "measure": r.measure, "beta": r.beta, "alpha_pred": -r.beta,
                     "alpha_pred_low": -r.beta_high, "alpha_pred_high": -r.beta_low,
                     "alpha": r.alpha, "alpha_low": r.alpha_low, "alpha_high": r.alpha_high,
                     "difference": diff, "difference_low": low, "difference_high": high,
                     "verdict": prediction_verdict(low, high)})
    return pd.DataFrame(rows)


def flatness_table(alphas: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per experiment: α_cal with its interval, whether it holds 0, and |α_cal| − |α_μP| with a
    seed-paired interval (the sweeps share seeds, and :func:`~mufno_core.analysis.optima.lr_exponent`'s
    bootstrap draws the same seeds for every parametrization):
    "flatter" where the interval lies below 0, "steeper" above, else "no resolved difference"."""
    rows = []
    for experiment, part in alphas.groupby("experiment", sort=False):
        by = part.set_index("parametrization")
        if not {"cal", "mup"} <= set(by.index):
            continue
        cal, mup = by.loc["cal"], by.loc["mup"]
        diff = abs(cal["alpha"]) - abs(mup["alpha"])
        n = int(min(cal["n_seeds"], mup["n_seeds"]))
        se = bootstrap_se(np.abs(cal["_samples"]) - np.abs(mup["_samples"]), n)
        low, high = _interval(diff, se, n - 1, level)
        rows.append({"experiment": experiment, "alpha_cal": cal["alpha"],
                     "alpha_cal_low": cal["alpha_low"], "alpha_cal_high": cal["alpha_high"],
                     "cal_holds_zero": bool(cal["alpha_low"] <= 0 <= cal["alpha_high"]),
                     "alpha_mup": mup["alpha"], "flatter_by": diff, "flatter_low": low,
                     "flatter_high": high,
                     "verdict": "flatter" if high < 0 else ("steeper" if low > 0
                                                            else "no resolved difference")})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """``python -m mufno_core.analysis.calibrate [EXPERIMENT …]``: run (or read) the check of each LR
    experiment and print β per parametrization with the calibrated exponent."""
    parser = argparse.ArgumentParser(description="coordinate check on each experiment's own trials")
    parser.add_argument("experiments", nargs="*", default=list(LR_EXPERIMENTS))
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--results", default=None, help="results directory (default results/PRESET)")
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args(argv)
    for experiment in args.experiments:
        df = stored_check(experiment, args.preset, args.results or f"results/{args.preset}",
                          args.data_dir)
        betas = update_exponents(df)
        print(betas[["experiment", "parametrization", "measure", "beta", "beta_low", "beta_high"]]
              .round(3).to_string(index=False), f"\ncalibrated exponent β_SP = "
              f"{calibrated_exponent(betas, experiment):.2f} ({df['seconds'].iloc[0]:.0f} s)",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
