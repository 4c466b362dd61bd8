"""The update growth β of the coord check, readable tables and provenance lines (the LR exponent α,
its verdicts and the paper's α are tested in test_optima, test_verdicts and test_paper)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mufno_core.coord_check import update_exponent, update_verdict
from mufno_core.optima import log_k_eff
from mufno_core.provenance import provenance_line
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


@pytest.mark.parametrize("x, text", [(0.013511, "0.014"), (1234.5, "1200"), (2.5e-5, "2.5e-05"),
                                     (float("nan"), "–"), (0.0, "0")])
def test_sig_keeps_the_digits_that_mean_something(x, text):
    assert sig(x) == text


def test_readable_joins_intervals_and_names_columns():
    df = pd.DataFrame({"parametrization": ["sp"], "alpha": [-0.1234], "alpha_low": [-0.3],
                       "alpha_high": [0.05], "edge": [False], "ks": [(3, 8)]})
    out = readable(df, ["parametrization", "alpha_interval", "edge", "ks"])
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
