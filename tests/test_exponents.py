"""The exponents that carry the book's verdicts: update growth β (coord check), the verdict
sentences, the paper's implied α, readable tables and provenance lines."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mufno_core.coord_check import update_exponent, update_verdict
from mufno_core.provenance import provenance_line
from mufno_core.report import exponent_verdict, paper_alpha
from mufno_core.sweep.analysis import log_k_eff, lr_exponent
from mufno_core.sweep.coverage import SyntheticSweep, synthetic_sweep
from mufno_core.tables import readable, sig


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
                    value = 0.1 * log_k_eff(k, dim) ** b * math.exp(shift + rng.normal(0, noise))
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


def test_exponent_verdict_follows_the_intervals():
    rng = np.random.default_rng(0)
    sp = synthetic_sweep(SyntheticSweep(alpha=-0.5, seeds=10), rng, "sp")
    flat = synthetic_sweep(SyntheticSweep(alpha=0.0, seeds=10), rng, "mup")
    up = synthetic_sweep(SyntheticSweep(alpha=0.4, seeds=10), rng, "mup")
    assert exponent_verdict(lr_exponent(pd.concat([sp, flat]))).startswith("Reproduced")
    sp_flat = synthetic_sweep(SyntheticSweep(alpha=0.0, seeds=10), rng, "sp")
    assert exponent_verdict(lr_exponent(pd.concat([sp_flat, up]))).startswith("Not reproduced")
    assert exponent_verdict(lr_exponent(sp)).startswith("Both SP and μP")


def test_paper_alpha_from_its_navier_stokes_numbers():
    expected = math.log(7.4e-4 / 1.8e-3) / math.log(math.log(24) / math.log(3))
    assert paper_alpha("navier_stokes_lr", "sp") == pytest.approx(expected)
    assert paper_alpha("navier_stokes_lr", "mup") == 0.0
    assert math.isnan(paper_alpha("burgers_lr", "sp"))


@pytest.mark.parametrize("x, text", [(0.013511, "0.014"), (1234.5, "1200"), (2.5e-5, "2.5e-05"),
                                     (float("nan"), "–"), (0.0, "0")])
def test_sig_keeps_the_digits_that_mean_something(x, text):
    assert sig(x) == text


def test_readable_joins_intervals_and_names_columns():
    df = pd.DataFrame({"parametrization": ["sp"], "alpha": [-0.1234], "alpha_low": [-0.3],
                       "alpha_high": [0.05], "at_edge": [False], "ks": [(3, 8)]})
    out = readable(df, ["parametrization", "alpha_interval", "at_edge", "ks"])
    assert list(out.columns) == ["parametrization", "exponent α [95% CI]", "on grid edge", "K values"]
    assert out.iloc[0].tolist() == ["SP", "-0.12 [-0.30, +0.05]", "no", "3, 8"]


def test_provenance_line_reads_the_records():
    df = pd.DataFrame({"preset": "quick", "seed": [0, 1, 0], "modes": [3, 3, 8],
                       "mirrored": [False, False, True], "device": "cpu", "cpu_model": "Xeon X",
                       "device_name": "x86_64", "torch_version": "2.13.0", "code_commit": "abc",
                       "wall_time": [60.0, 60.0, 60.0]})
    line = provenance_line(df)
    assert line.startswith("Source: 2 trials of the quick preset (2 seeds, K 3)")
    assert "Xeon X" in line and "torch 2.13.0" in line and "code abc" in line and "2.0 core-min" in line
