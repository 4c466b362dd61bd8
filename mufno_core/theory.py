"""Why μP over Fourier modes is logarithmic: the operator norm of a random spectral layer.

A Fourier layer ``v ↦ F^-1(a · R · T_K(F v))`` is block-diagonal in Fourier space: each kept mode k
has its own m×m matrix R_k and output mode k only sees input mode k. Its operator norm (on complex
L² functions, Parseval) is therefore the largest block,

    ‖K‖ = |a| · max_k ‖R_k‖₂,

a maximum over n = 2^(d-1)·K^d blocks. For m = 1 the blocks are complex Gaussians r ~ CN(0, b²),
|r|² ~ b²·Exp(1), so E max_k |r_k| ≈ b·sqrt(log n) — in units of the std s = b/√2 of a real
component that is the sub-Gaussian maximum s·sqrt(2 log n) = s·sqrt(2 d log K + …) of the paper
(arXiv 2506.19396, §3). For m > 1, ‖R_k‖ concentrates around ≈ 2b√m and is 1-Lipschitz in the
entries, so the maximum is at most b·(2√m + sqrt(log n)). Either way the norm grows like
sqrt(log K^d), not like sqrt(K^d) or K^d: nothing is summed over modes.

Width is different: a weight update built from the layer's input adds up its m aligned terms
(``sum_j sign(x_j)·x_j = Θ(m)``), which is where width-μP's 1/m comes from; unaligned terms would
only give sqrt(m) (:func:`width_sum_growth`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from scipy.special import log_ndtr

from mufno_core.spectral import SpectralConv
from mufno_core.stats import exponent_fit, slope

THEORY_PRESETS: dict[str, dict] = {
    # modes_by_dim: the K swept per dimension d; widths: m; n_draws: independent layers per point
    "smoke": {"modes_by_dim": {1: [2, 4, 8, 16, 32, 64], 2: [2, 4, 8, 16], 3: [2, 4, 8]},
              "widths": [1, 8], "n_draws": 8},
    "quick": {"modes_by_dim": {1: [2, 4, 8, 16, 32, 64, 128, 256, 512], 2: [2, 4, 8, 16, 32, 64],
                               3: [2, 4, 8, 16]},
              "widths": [1, 8], "n_draws": 32},
    "gpu": {"modes_by_dim": {1: [2 ** i for i in range(1, 13)], 2: [2 ** i for i in range(1, 8)],
                             3: [2, 4, 8, 16, 32]},
            "widths": [1, 8, 32], "n_draws": 64},
}
THEORY_PRESETS["paper"] = THEORY_PRESETS["gpu"]


def kept_mode_count(dim: int, modes: int) -> int:
    """n = 2^(d-1)·K^d: the number of m×m blocks of a d-dimensional layer keeping K modes per axis."""
    return 2 ** (dim - 1) * modes**dim


def mode_block_norms(layer: SpectralConv) -> torch.Tensor:
    """|a|·‖R_k‖₂ for every kept mode k, exactly (largest singular value), shape (2K, …, 2K, K)."""
    with torch.no_grad():
        return abs(layer.multiplier) * torch.linalg.matrix_norm(layer.weight, ord=2)


def spectral_operator_norm(layer: SpectralConv) -> float:
    """Operator norm of the mode-diagonal operator a·R·T_K: the largest block norm over kept modes.

    On real inputs the rFFT's zero-frequency plane is symmetrised by the inverse transform, so the
    real layer's gain can be a little smaller there; it never exceeds this value.
    """
    return float(mode_block_norms(layer).max())


def expected_max_gaussian(n: int) -> float:
    """E max of n i.i.d. standard normal variables, by quadrature of n·φ(x)·Φ(x)^(n-1)·x."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    x = np.linspace(-12.0, math.sqrt(2 * math.log(n)) + 12.0, 200_001)
    log_density = math.log(n) - 0.5 * x**2 - 0.5 * math.log(2 * math.pi) + (n - 1) * log_ndtr(x)
    return float(np.trapezoid(x * np.exp(log_density), x))


def max_gaussian_asymptote(n: int) -> float:
    """sqrt(2 log n): the sub-Gaussian bound on E max of n standard normals (sharp as n → ∞)."""
    return math.sqrt(2.0 * math.log(n))


def expected_max_complex_modulus(n: int, std: float = 1.0) -> float:
    """E max_k |r_k| over n i.i.d. r ~ CN(0, std²) (|r|² ~ std²·Exp(1)), by quadrature of 1 - F^n."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    x = np.linspace(0.0, math.sqrt(math.log(n)) + 8.0, 200_001)
    with np.errstate(divide="ignore"):  # log(0) at x = 0, where F^n = 0
        cdf_n = np.exp(n * np.log1p(-np.exp(-(x**2))))
    return float(std * np.trapezoid(1.0 - cdf_n, x))


def max_block_norm_bound(n: int, width: int, std: float = 1.0) -> float:
    """Upper estimate of E max of n spectral norms of m×m complex Gaussian CN(0, std²) blocks.

    E‖G‖ ≤ 2√m·std (Gordon) and ‖G‖ is std/√2-sub-Gaussian around its mean (it is 1-Lipschitz in
    the real and imaginary parts), so the maximum of n adds at most std·sqrt(log n).
    """
    return std * (2.0 * math.sqrt(width) + math.sqrt(math.log(n)))


def predicted_max_norm(n: int, width: int, std: float = 1.0) -> float:
    """The prediction the notebook compares with: exact E max for m = 1, the upper estimate for m > 1."""
    if width == 1:
        return expected_max_complex_modulus(n, std)
    return max_block_norm_bound(n, width, std)


def random_spectral_layer(dim: int, modes: int, width: int, std: float, seed: int) -> SpectralConv:
    """A SpectralConv with weights CN(0, std²), drawn from its own seed (the global RNG is untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return SpectralConv(dim, width, width, modes, init_std=std)


def operator_norm_vs_modes(
    dim: int,
    modes_list: Sequence[int],
    width: int,
    n_draws: int,
    seed: int = 0,
    std: float = 1.0,
) -> pd.DataFrame:
    """Exact operator norms of ``n_draws`` random layers per K, with the predictions beside them.

    Columns: dim, width, modes, n_modes (= 2^(d-1) K^d), draw, norm, predicted (exact E max for
    m = 1, upper estimate for m > 1), sqrt_2_d_log_k (the paper's sqrt(2 d log K) in units of a real
    component's std, std/√2).
    """
    rows = []
    for modes in modes_list:
        n = kept_mode_count(dim, modes)
        predicted = predicted_max_norm(n, width, std)
        for draw in range(n_draws):
            layer = random_spectral_layer(dim, modes, width, std, seed=seed + 1000 * modes + draw)
            rows.append({
                "dim": dim, "width": width, "modes": modes, "n_modes": n, "draw": draw,
                "norm": spectral_operator_norm(layer), "predicted": predicted,
                "sqrt_2_d_log_k": std / math.sqrt(2.0) * math.sqrt(2.0 * dim * math.log(modes)),
            })
    return pd.DataFrame(rows)


def summarize_norms(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and std of the norm over draws per (dim, width, modes), and measured / predicted."""
    keys = ["dim", "width", "modes", "n_modes"]
    out = df.groupby(keys, as_index=False).agg(
        norm=("norm", "mean"), norm_std=("norm", "std"), predicted=("predicted", "first"),
        draws=("draw", "count"),
    )
    out["ratio"] = out["norm"] / out["predicted"]
    return out


def loglog_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of log y against log x (the power law y ∝ x^slope that fits best)."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def growth_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (dim, width): how much the norm grew from the smallest to the largest K, against
    what sqrt(log n) and sqrt(n) predict, and the fitted power of n (sqrt(n) would be 0.5)."""
    rows = []
    for (dim, width), g in summary.groupby(["dim", "width"]):
        g = g.sort_values("modes")
        n0, n1 = g["n_modes"].iloc[0], g["n_modes"].iloc[-1]
        rows.append({
            "dim": dim, "width": width, "K": f"{g['modes'].iloc[0]} → {g['modes'].iloc[-1]}",
            "n_modes": f"{n0} → {n1}",
            "measured_growth": g["norm"].iloc[-1] / g["norm"].iloc[0],
            "predicted_growth": g["predicted"].iloc[-1] / g["predicted"].iloc[0],
            "sqrt_n_growth": math.sqrt(n1 / n0),
            "power_of_n": loglog_slope(g["n_modes"], g["norm"]),
        })
    return pd.DataFrame(rows)


def layer_gain(layer: SpectralConv, x: torch.Tensor) -> float:
    """‖layer(x)‖ / ‖x‖ on the grid (Euclidean norms over all entries)."""
    with torch.no_grad():
        return float(layer(x).norm() / x.norm())


def top_mode_input(layer: SpectralConv, grid: Sequence[int]) -> tuple[torch.Tensor, float]:
    """A real input (1, m_in, *grid) that attains the largest block off the rFFT's zero plane.

    It holds one Fourier mode k (last-axis frequency ≥ 1, so k and -k are distinct) carrying the top
    singular vector of R_k. Returns the input and that block's norm |a|·‖R_k‖₂, which the layer's
    gain on it must equal.
    """
    norms = mode_block_norms(layer)[..., 1:]  # drop the zero plane of the last (rFFT) axis
    flat = int(norms.argmax())
    block = list(np.unravel_index(flat, tuple(norms.shape)))
    block[-1] += 1
    k = layer.modes
    spectrum = [i if i < k[a] else grid[a] - 2 * k[a] + i for a, i in enumerate(block[:-1])]
    spectrum.append(block[-1])
    if 2 * block[-1] >= grid[-1]:
        raise ValueError(f"grid {tuple(grid)}: the last axis needs more than {2 * block[-1]} points")
    weight = layer.weight[tuple(block)].detach()  # (m_in, m_out); the layer computes x̂ @ W
    u, s, _ = torch.linalg.svd(weight)
    rfft_shape = (*grid[:-1], grid[-1] // 2 + 1)
    x_ft = torch.zeros((1, layer.in_channels, *rfft_shape), dtype=weight.dtype)
    x_ft[(0, slice(None), *spectrum)] = u[:, 0].conj()
    x = torch.fft.irfftn(x_ft, s=tuple(grid), dim=tuple(range(-layer.dim, 0)))
    return x, abs(layer.multiplier) * float(s[0])


def verify_with_layer(layer: SpectralConv, seed: int = 0) -> dict[str, float]:
    """Check the weight-based norm against the layer itself, on a grid of 2K+2 points per axis.

    Returns the norm from the weights, the largest block off the zero plane, the layer's gain on the
    input built for that block (equal to it), and its gain on a random input (smaller).
    """
    grid = tuple(2 * k + 2 for k in layer.modes)
    x_top, block_norm = top_mode_input(layer, grid)
    generator = torch.Generator().manual_seed(seed)
    x_random = torch.randn((1, layer.in_channels, *grid), generator=generator)
    return {
        "norm_from_weights": spectral_operator_norm(layer),
        "largest_block_off_zero_plane": block_norm,
        "gain_on_top_mode_input": layer_gain(layer, x_top),
        "gain_on_random_input": layer_gain(layer, x_random),
    }


def width_sum_growth(widths: Sequence[int], n_draws: int = 64, seed: int = 0) -> pd.DataFrame:
    """|Σ_j u_j x_j| for x ~ N(0, I_m) and an update u built from x (u = sign x, as Adam's) or not.

    Aligned terms add up, Θ(m) (a law of large numbers: width-μP's 1/m); independent random signs
    only give Θ(√m) (the central limit theorem). Columns: width, kind, value (mean over draws).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for m in widths:
        x = rng.standard_normal((n_draws, m))
        aligned = np.abs((np.sign(x) * x).sum(axis=1)).mean()
        random = np.abs((rng.choice([-1.0, 1.0], size=(n_draws, m)) * x).sum(axis=1)).mean()
        rows += [{"width": m, "kind": "aligned (update built from the input)", "value": aligned},
                 {"width": m, "kind": "independent random signs", "value": random}]
    return pd.DataFrame(rows)


def norm_exponent(norms: pd.DataFrame, n_boot: int = 1000, seed: int = 0,
                  level: float = 0.95) -> pd.DataFrame:
    """The growth exponent β of the operator norm, norm ∝ (log n)^β over the K of each (dim, width),
    with n = 2^(d−1) K^d kept modes, and its 95% interval from a bootstrap over draws (resampled
    independently at every K). ``predicted_beta`` is the same fit to the prediction column (the
    exact finite-n E max for m = 1), ``asymptotic`` the √log law's ½.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for (dim, width), part in norms.groupby(["dim", "width"]):
        ks = sorted(part["modes"].unique())
        x = np.log([math.log(kept_mode_count(int(dim), int(k))) for k in ks])
        logs = [np.log(part.loc[part["modes"] == k, "norm"].to_numpy(dtype=float)) for k in ks]
        boot = np.stack([v[rng.integers(0, len(v), size=(n_boot, len(v)))].mean(axis=1) for v in logs],
                        axis=-1)
        n_draws = min(len(v) for v in logs)
        fit = exponent_fit("beta", x, np.array([v.mean() for v in logs]), boot, n_draws, level=level)
        predicted = part.groupby("modes")["predicted"].first().loc[ks].to_numpy(dtype=float)
        rows.append({"dim": int(dim), "width": int(width),
                     **{k: fit[k] for k in ("beta", "beta_low", "beta_high", "half_width")},
                     "predicted_beta": float(slope(x, np.log(predicted))), "asymptotic": 0.5,
                     "ks": tuple(int(k) for k in ks), "n_draws": n_draws})
    return pd.DataFrame(rows)


def theory_verdict(summary: pd.DataFrame, growth: pd.DataFrame) -> str:
    """Is the operator norm the maximum law's (m = 1: the exact E max within 10%; m > 1: below the
    upper estimate), growing like the max law (within 20%) and far below a sum's √n?"""
    largest = summary.loc[summary.groupby(["dim", "width"])["modes"].idxmax()]
    m1_ratios = largest[largest["width"] == 1]["ratio"]
    m1_ok = bool(m1_ratios.between(0.9, 1.1).all())
    bound_ok = bool((summary[summary["width"] > 1]["ratio"] <= 1.0).all())
    growth_ok = bool((growth["measured_growth"] / growth["predicted_growth"]).between(0.8, 1.2).all()
                     and (growth["measured_growth"] < 0.5 * growth["sqrt_n_growth"]).all())
    head = "Confirmed" if (m1_ok and bound_ok and growth_ok) else "Not confirmed"
    return (f"{head}: m = 1 matches the exact E max: {'yes' if m1_ok else 'no'} (ratios at the largest "
            f"K {', '.join(f'{v:.2f}' for v in m1_ratios)}); m > 1 stays below the upper estimate: "
            f"{'yes' if bound_ok else 'no'}; the growth follows the max law and stays far below √n: "
            f"{'yes' if growth_ok else 'no'} (the number of kept modes grows up to "
            f"{growth['sqrt_n_growth'].max() ** 2:.0f}-fold, the norm at most "
            f"{growth['measured_growth'].max():.2f}-fold).")
