"""The coord check over K: hooks, update sizes, μP's c(K) shrinking the spectral updates, and the
update growth β fitted from them."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from mufno_core import FNO
from mufno_core.coord_check import (
    ActivationRecorder,
    coord_check,
    coord_check_sp_mup,
    coord_data,
    lr_factor_table,
    mse_loss,
    synthetic_regression,
    update_exponent,
    update_growth,
    update_verdict,
)
from mufno_core.mup import log_modes, make_adam
from mufno_core.pino import Mollified

GRID = {1: 16, 2: 8, 3: 8}


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_synthetic_regression(dim):
    x, y = synthetic_regression(dim, GRID[dim], 3, seed=0)
    assert x.shape == y.shape == (3, 1) + (GRID[dim],) * dim
    assert float(x.std()) == pytest.approx(1.0, rel=1e-4)
    x2, _ = synthetic_regression(dim, GRID[dim], 3, seed=0)
    assert torch.equal(x, x2)


def test_recorder_sees_every_layer_and_detaches():
    model = FNO(1, 1, 1, 4, width=8, depth=3)
    recorder = ActivationRecorder(model)
    model(torch.randn(2, 1, 16))
    acts = recorder.activations()
    assert list(acts) == ["lift", "spectral 1", "fourier 1", "spectral 2", "fourier 2", "spectral 3",
                          "fourier 3", "output"]
    assert acts["output"].shape == (2, 1, 16)
    recorder.remove()
    recorder.outputs.clear()
    model(torch.randn(2, 1, 16))
    assert recorder.outputs == {}


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_mup_equals_sp_at_base_and_shrinks_spectral_updates_at_larger_k(dim):
    df = coord_check_sp_mup(dim, [2, 4], steps=1, lr=1e-2, width=8, depth=1, seeds=[0],
                            data=synthetic_regression(dim, GRID[dim], 2, seed=1))
    assert set(df["step"]) == {0, 1}
    assert (df[df["step"] == 0]["mean_abs_delta"] == 0).all()
    at_base = df[df["modes"] == 2].pivot_table(index=["step", "layer"], columns="parametrization",
                                               values="mean_abs")
    assert at_base["mup"].to_numpy() == pytest.approx(at_base["sp"].to_numpy(), rel=1e-5)
    first = df[(df["layer"] == "spectral 1") & (df["step"] == 1)]
    mean = first.groupby(["parametrization", "modes"])["mean_abs_delta"].mean()
    ratio = mean["mup"] / mean["sp"]
    assert ratio[2] == pytest.approx(1.0, rel=1e-5)
    # c(4)/c(2) = sqrt(log 2 / log 4) ≈ 0.71: μP's update of the first spectral layer must shrink
    assert 0.4 < ratio[4] < 0.9


def test_update_growth_measures_a_known_power_of_k():
    """Updates that grow as 3 · K^0.5 (seed 0) and 5 · K^0.5 (seed 1): the seed mean 4 · K^0.5
    grows by (8/2)^0.5 = 2 from K = 2 to 8, a power 0.5 of K; a flat layer has growth 1, power 0;
    step 0 (no update yet) is left out."""
    rows = [{"dim": 1, "parametrization": "sp", "step": step, "layer": layer, "modes": k,
             "seed": seed, "mean_abs_delta": 0.0 if step == 0 else scale * k ** power}
            for step in (0, 1) for k in (2, 4, 8) for seed, scale in ((0, 3.0), (1, 5.0))
            for layer, power in (("spectral 1", 0.5), ("lifting", 0.0))]
    growth = update_growth(pd.DataFrame(rows)).set_index("layer")
    assert set(growth["step"]) == {1}
    assert growth.loc["spectral 1", "growth"] == pytest.approx(2.0)
    assert growth.loc["spectral 1", "power_of_K"] == pytest.approx(0.5)
    assert growth.loc["lifting", "growth"] == pytest.approx(1.0)
    assert growth.loc["lifting", "power_of_K"] == pytest.approx(0.0, abs=1e-12)
    assert growth.loc["spectral 1", "K"] == "2 → 8"


def test_update_growth_and_factor_table():
    df = coord_check(1, [2, 4, 8], "sp", steps=1, width=4, depth=1, seeds=[0, 1],
                     data=synthetic_regression(1, 16, 2, seed=2))
    growth = update_growth(df)
    assert set(growth["step"]) == {1}  # step 0 has no update
    assert {"growth", "power_of_K"} <= set(growth.columns)
    table = lr_factor_table(2, [2, 4, 16], base_modes=2)
    assert table["c(K)"].tolist() == pytest.approx(table["sqrt(log K0 / log K)"].tolist())
    assert table["c(K)"].iloc[0] == pytest.approx(1.0)


def updates(beta: dict[str, float], dim: int, ks=(2, 4, 8, 16, 32), seeds: int = 8,
            noise: float = 0.05, layers: int = 4, seed: int = 0) -> pd.DataFrame:
    """Coord-check rows whose spectral updates grow like (d log K)^β exactly, times seed noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for param, b in beta.items():
        for k in ks:
            for s in range(seeds):
                shift = rng.normal(0, noise)
                for layer in range(1, layers + 1):
                    value = 0.1 * log_modes(k, dim) ** b * math.exp(shift + rng.normal(0, noise))
                    rows.append({"dim": dim, "parametrization": param, "modes": k, "seed": s, "step": 3,
                                 "layer": f"spectral {layer}", "mean_abs_delta": value})
                rows.append({"dim": dim, "parametrization": param, "modes": k, "seed": s, "step": 3,
                             "layer": "lift", "mean_abs_delta": 1e3})  # not a spectral layer: ignored
    return pd.DataFrame(rows)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_update_exponent_recovers_known_growth(dim):
    fits = update_exponent(updates({"sp": 0.5, "mup": 0.0}, dim)).set_index("parametrization")
    for param, truth in (("sp", 0.5), ("mup", 0.0)):
        row = fits.loc[param]
        assert row.beta == pytest.approx(truth, abs=0.1)
        assert row.beta_low <= truth <= row.beta_high
    assert fits.loc["sp", "consistent"] and fits.loc["sp", "excludes_zero"]
    assert fits.loc["mup", "consistent"] and fits.loc["mup", "excludes_half"]
    verdict = update_verdict(fits.reset_index())
    assert f"d = {dim}" in verdict and verdict.count("as the theory says") == 2


def test_update_verdict_reports_a_falling_update():
    fits = update_exponent(updates({"sp": 0.1, "mup": -0.8}, 1))
    verdict = update_verdict(fits)
    assert "falls with K" in verdict and "grows more slowly" in verdict


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_coord_data_is_mups_get_coord_data_over_k(dim):
    """Models by K, a loader, an optimizer: one row per (K, step, layer); nothing moves at step 0,
    the loss of a row is the model's at that step on the batch the next step trains on, and a
    wrapper's output (PINO's mollifier) is the recorded output."""
    x, y = synthetic_regression(dim, GRID[dim], 4, seed=1)
    if dim == 2:
        models = {k: (lambda k=k: Mollified(FNO(dim, 1, 1, k, width=4, depth=2), 1.0)) for k in (2, 3)}
    else:
        models = {k: (lambda k=k: FNO(dim, 1, 1, k, width=4, depth=2)) for k in (2, 3)}
    seen = []

    def loader(key):
        seen.append(key)
        while True:
            yield x, y

    torch.manual_seed(0)
    df = coord_data(models, loader, lambda m: make_adam(m, 1e-2), x, steps=2)
    assert seen == [2, 3]
    assert set(df["modes"]) == {2, 3} and set(df["step"]) == {0, 1, 2}
    assert len(df) == 2 * 3 * len({"lift", "output"} | {f"{w} {i}" for w in ("spectral", "fourier")
                                                        for i in (1, 2)})
    assert (df.loc[df["step"] == 0, ["mean_abs_delta", "rms_delta"]] == 0).all().all()
    assert (df.loc[df["step"] > 0, "rms_delta"] > 0).all()
    torch.manual_seed(0)
    model = models[2]()
    with torch.no_grad():
        out, loss = model(x), float(mse_loss(model, x, y))
    first = df[(df["modes"] == 2) & (df["step"] == 0) & (df["layer"] == "output")].iloc[0]
    assert first["rms"] == pytest.approx(float(out.pow(2).mean().sqrt()), rel=1e-6)
    assert first["loss"] == pytest.approx(loss, rel=1e-6)
