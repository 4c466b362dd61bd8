"""The abc-parametrization over K: init std b(K), LR factor c(K), Algorithm 1."""

import math

import pytest
import torch

from mufno_core import FNO
from mufno_core.mup import (
    Parametrization,
    fused_adam_applies,
    make_adam,
    param_groups,
    transfer_init_var,
    transfer_lr,
)

DIMS = [1, 2, 3]


def spectral_std(model: FNO) -> float:
    """Empirical sqrt(E|r|²) over all spectral weights."""
    w = torch.cat([layer.weight.flatten() for layer in model.spectral])
    return w.abs().pow(2).mean().sqrt().item()


@pytest.mark.parametrize("dim", DIMS)
def test_mup_init_std_scales_as_inverse_sqrt_d_log_k(dim):
    torch.manual_seed(0)
    ks = [3, 6] if dim == 3 else [3, 12]
    stds = {k: spectral_std(FNO(dim, 1, 1, k, width=16, depth=1, parametrization="mup")) for k in ks}
    expected = math.sqrt(math.log(ks[0]) / math.log(ks[1]))
    assert stds[ks[1]] / stds[ks[0]] == pytest.approx(expected, rel=0.03)
    # absolute form: b(K) = sqrt(2/(2m)) / sqrt(d log K)
    target = math.sqrt(2 / 32) / math.sqrt(dim * math.log(ks[1]))
    assert stds[ks[1]] == pytest.approx(target, rel=0.03)


@pytest.mark.parametrize("dim", DIMS)
def test_sp_init_std_does_not_depend_on_k(dim):
    torch.manual_seed(0)
    ks = [3, 6] if dim == 3 else [3, 12]
    stds = [spectral_std(FNO(dim, 1, 1, k, width=16, depth=1, parametrization="sp")) for k in ks]
    assert stds[0] == pytest.approx(stds[1], rel=0.03)
    assert stds[0] == pytest.approx(math.sqrt(2 / 32), rel=0.03)


@pytest.mark.parametrize("dim", DIMS)
def test_lr_factors(dim):
    sp, mup = Parametrization("sp"), Parametrization("mup")
    rel = Parametrization("mup", base_modes=3)
    for k in (2, 3, 8, 24):
        assert sp.lr_factor(k, dim) == 1.0
        assert mup.lr_factor(k, dim) == pytest.approx(1 / math.sqrt(dim * math.log(k)))
        assert rel.lr_factor(k, dim) == pytest.approx(math.sqrt(math.log(3) / math.log(k)))
        assert mup.multiplier(k, dim) == sp.multiplier(k, dim) == 1.0
    assert rel.lr_factor(3, dim) == pytest.approx(1.0)  # relative μP equals SP at the base K
    assert rel.init_factor(3, dim) == pytest.approx(sp.init_factor(3, dim))


@pytest.mark.parametrize("dim", DIMS)
@pytest.mark.parametrize("beta", [0.0, 0.16, 0.5, 0.9])
def test_calibrated_lr_factor_is_the_power_law(dim, beta):
    cal = Parametrization("cal", base_modes=3, exponent=beta)
    assert cal.lr_factor(3, dim) == pytest.approx(1.0)  # c(K₀) = 1: SP at the base
    for k in (2, 8, 24):
        assert cal.lr_factor(k, dim) == pytest.approx((math.log(3) / math.log(k)) ** beta)
        assert cal.init_factor(k, dim) == Parametrization("sp").init_factor(k, dim)
    if beta == 0.5:  # β = ½ is μP's learning-rate rule relative to K₀
        assert cal.lr_factor(24, dim) == pytest.approx(
            Parametrization("mup", base_modes=3).lr_factor(24, dim))


@pytest.mark.parametrize("dim", DIMS)
def test_calibrated_factor_reaches_the_optimizer(dim):
    model = FNO(dim, 1, 1, 8, width=8, depth=1,
                parametrization=Parametrization("cal", base_modes=2, exponent=0.3))
    by_name = {g["name"]: g for g in make_adam(model, lr=1e-3).param_groups}
    assert by_name["spectral"]["lr"] == pytest.approx(1e-3 * (math.log(2) / math.log(8)) ** 0.3)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"exponent": 0.3}, "needs base_modes"),
    ({"base_modes": 3}, "finite exponent"),
    ({"base_modes": 3, "exponent": float("nan")}, "finite exponent"),
])
def test_calibrated_needs_a_base_and_an_exponent(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Parametrization("cal", **kwargs)


def test_only_the_calibrated_rule_takes_an_exponent():
    with pytest.raises(ValueError, match="takes none"):
        Parametrization("mup", base_modes=3, exponent=0.5)


@pytest.mark.parametrize("dim", DIMS)
def test_optimizer_groups_carry_lr_factor(dim):
    model = FNO(dim, 1, 1, 4, width=8, depth=2, parametrization="mup")
    opt = make_adam(model, lr=1e-3)
    by_name = {g["name"]: g for g in opt.param_groups}
    factor = 1 / math.sqrt(dim * math.log(4))
    assert by_name["spectral"]["lr"] == pytest.approx(1e-3 * factor)
    assert by_name["other"]["lr"] == pytest.approx(1e-3)
    spectral_ids = {id(layer.weight_as_real) for layer in model.spectral}
    assert {id(p) for p in by_name["spectral"]["params"]} == spectral_ids
    n_groups = sum(len(g["params"]) for g in param_groups(model, 1e-3, factor))
    assert n_groups == len(list(model.parameters()))


@pytest.mark.parametrize(("k_target", "factor"), [(6, 0.783), (12, 0.665), (16, 0.629), (24, 0.588)])
def test_transfer_lr_matches_paper_examples(k_target, factor):
    assert transfer_lr(1.0, 3, k_target) == pytest.approx(factor, abs=5e-4)
    assert transfer_init_var(1.0, 3, k_target) == pytest.approx(factor**2, abs=1e-3)


def test_transfer_lr_3_to_512():
    assert transfer_lr(1.0, 3, 512) == pytest.approx(0.420, abs=5e-4)


@pytest.mark.parametrize("dim", DIMS)
def test_mup_needs_k_at_least_2(dim):
    with pytest.raises(ValueError, match="K >= 2"):
        FNO(dim, 1, 1, 1, width=4, parametrization="mup")
    with pytest.raises(ValueError, match="K >= 2"):
        transfer_lr(1e-3, 1, 8)
    FNO(dim, 1, 1, 1, width=4, parametrization="sp")  # SP has no such limit


def test_invalid_parametrization_name():
    with pytest.raises(ValueError, match="one of sp, mup, cal"):
        FNO(1, 1, 1, 4, parametrization="ntk")


@pytest.mark.parametrize("dim", [2])
def test_wrapped_model_keeps_its_lr_factor(dim):
    """A wrapper (PINO's mollifier) must not lose c(K): the factor lives on the Fourier layers."""
    from mufno_core.pino import Mollified

    model = Mollified(FNO(dim, 1, 1, 6, width=8, depth=2, parametrization="mup"), 1.0)
    by_name = {g["name"]: g for g in make_adam(model, lr=1e-2).param_groups}
    assert by_name["spectral"]["lr"] == pytest.approx(1e-2 / math.sqrt(dim * math.log(6)))


@pytest.mark.parametrize("dim", DIMS)
def test_fused_adam_is_adam_to_round_off(dim):
    """make_adam's fused kernel (real (re, im) storage allows it) follows the unfused Adam."""
    torch.manual_seed(0)
    models = [FNO(dim, 1, 1, 3, width=6, depth=2, parametrization="mup", dtype=torch.float64)
              for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    fused, unfused = make_adam(models[0], 1e-2), make_adam(models[1], 1e-2, fused=False)
    assert fused.defaults["fused"] and not unfused.defaults["fused"]
    x = torch.randn(4, 1, *(8,) * dim, dtype=torch.float64)
    for _ in range(5):
        for model, optimizer in ((models[0], fused), (models[1], unfused)):
            optimizer.zero_grad()
            model(x).square().mean().backward()
            optimizer.step()
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_fused_adam_applies_only_to_real_parameters_on_cpu_or_cuda():
    assert fused_adam_applies(FNO(2, 1, 1, 3, width=4).parameters())
    assert not fused_adam_applies([torch.nn.Parameter(torch.zeros(2, dtype=torch.cfloat))])
    assert not fused_adam_applies(FNO(2, 1, 1, 3, width=4, device="meta").parameters())


# --- weight decay: the three couplings against a hand computation ---------------------------------
WD_LR, WD_LAMBDA, WD_STEPS, WD_EVERY, WD_GAMMA = 0.05, 0.3, 3, 2, 0.5
WD_BETAS, WD_EPS = (0.9, 0.99), 1e-8


def tiny_mup_model(dim: int) -> FNO:
    """A μP FNO with K = 3 (c(K) = 1/sqrt(d log 3) ≠ 1, so the two groups' LRs differ)."""
    torch.manual_seed(dim)
    return FNO(dim, 1, 1, 3, width=2, depth=1, parametrization="mup", projection_width=2,
               dtype=torch.float64)


def wd_gradients(model: torch.nn.Module, steps: int) -> list[dict[str, torch.Tensor]]:
    """A fixed random gradient for every parameter and step."""
    g = torch.Generator().manual_seed(7)
    return [{name: torch.randn(p.shape, generator=g, dtype=p.dtype) for name, p in
             model.named_parameters()} for _ in range(steps)]


def adam_by_hand(theta: torch.Tensor, grads: list[torch.Tensor], lr: float, mode: str) -> torch.Tensor:
    """Adam written out from its definition with weight decay λ in ``mode``, StepLR (every
    WD_EVERY steps × WD_GAMMA): the reference the optimizers must match."""
    (b1, b2), lam = WD_BETAS, WD_LAMBDA
    m, v = torch.zeros_like(theta), torch.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        s = WD_GAMMA ** ((t - 1) // WD_EVERY)  # the schedule's factor at step t
        if mode == "l2":
            g = g + lam * theta
        elif mode == "adamw":
            theta = theta - lr * s * lam * theta
        else:  # independent: not multiplied by the LR
            theta = theta - s * lam * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        theta = theta - lr * s * m_hat / (v_hat.sqrt() + WD_EPS)
    return theta


def expected_after_decay(model: FNO, grads, mode: str, dim: int) -> dict[str, torch.Tensor]:
    """Each parameter after WD_STEPS hand-computed steps at its group's LR (c(K)·η spectral)."""
    c_k = 1 / math.sqrt(dim * math.log(3))
    spectral = {id(p) for layer in model.spectral for p in layer.parameters()}
    return {name: adam_by_hand(p.detach().clone(), [g[name] for g in grads],
                               WD_LR * (c_k if id(p) in spectral else 1.0), mode)
            for name, p in model.named_parameters()}


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("mode", ["l2", "adamw", "independent"])
@pytest.mark.parametrize("dim", DIMS)
def test_make_adam_weight_decay_matches_the_hand_computation(dim, mode, fused):
    model = tiny_mup_model(dim)
    grads = wd_gradients(model, WD_STEPS)
    expected = expected_after_decay(model, grads, mode, dim)
    optimizer = make_adam(model, WD_LR, WD_BETAS, WD_EPS, WD_LAMBDA, fused=fused,
                          weight_decay_mode=mode)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, WD_EVERY, WD_GAMMA)
    for step_grads in grads:
        for name, p in model.named_parameters():
            p.grad = step_grads[name].clone()
        optimizer.step()
        scheduler.step()
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.detach(), expected[name], rtol=1e-12, atol=1e-14, msg=name)


def test_the_couplings_decay_differently():
    """Without gradients, one step decays the spectral weights by η·c(K)·λ (adamw), λ (independent)."""
    results = {}
    for mode in ("adamw", "independent"):
        model = tiny_mup_model(2)
        before = model.spectral[0].weight_as_real.detach().clone()
        optimizer = make_adam(model, WD_LR, weight_decay=WD_LAMBDA, weight_decay_mode=mode)
        for p in model.parameters():
            p.grad = torch.zeros_like(p)
        optimizer.step()
        results[mode] = (model.spectral[0].weight_as_real.detach() / before).nanmean().item()
    c_k = 1 / math.sqrt(2 * math.log(3))
    assert results["adamw"] == pytest.approx(1 - WD_LR * c_k * WD_LAMBDA)
    assert results["independent"] == pytest.approx(1 - WD_LAMBDA)


def test_an_unknown_weight_decay_mode_is_refused():
    with pytest.raises(ValueError, match="weight_decay_mode must be one of l2, adamw, independent"):
        make_adam(tiny_mup_model(1), 1e-3, weight_decay_mode="decoupled")
