"""The discretized logistic likelihood in float32 against float64 references, far from the mean included.

The reference is the bin mass taken directly as a difference of two sigmoids in float64, on whichever side of
the logistic keeps both sigmoids away from 1 (sigmoid(a) - sigmoid(b) = sigmoid(-b) - sigmoid(-a)), so its
only cancellation is the one inherent to the bin width. Where even float64 sigmoids underflow (an argument
beyond 700 in size) the logistic tail is exactly exponential to float64 precision, and the reference takes
that closed form: log P = -b + log(1 - exp(-(a - b))) (or a + log(1 - exp(-(a - b))) on the left), since the
neglected factors differ from 1 by less than exp(-700). Scales stay at log_scale <= 10, where the float64
difference still resolves the bin (relative error about 1e-16 * 255 s, 1e-9 at the largest). The reference
takes the bin at exactly k/255 and the float32 mean as given; the float32 bin centre's rounding, times 1/s,
is what dominates the remaining error at the smallest scale (2e-5 relative at log_scale -7).
"""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from gonbench import likelihoods as L

H = 1 / 510
TAIL = 700.0


def _log_sigmoid64(t: torch.Tensor) -> torch.Tensor:
    if t.item() < -TAIL:
        return t  # log sigmoid(t) = t - log(1 + exp(t)) and exp(t) < 1e-304
    if t.item() <= 0:
        return torch.log(torch.sigmoid(t))
    return torch.log1p(-torch.sigmoid(-t))


def _ref_log_mass(k: int, mean: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """float64 log P(k/255) for 0-d float64 ``mean`` and ``log_scale`` (autograd flows through)."""
    c = k / 255 - mean
    inv_s = torch.exp(-log_scale)
    a, b = inv_s * (c + H), inv_s * (c - H)
    if k == 0:
        return _log_sigmoid64(a)
    if k == 255:
        return _log_sigmoid64(-b)
    if b.item() > TAIL:
        return -b + torch.log1p(-torch.exp(-(a - b)))
    if a.item() < -TAIL:
        return a + torch.log1p(-torch.exp(-(a - b)))
    if b.item() > 0:
        return torch.log(torch.sigmoid(-b) - torch.sigmoid(-a))
    return torch.log(torch.sigmoid(a) - torch.sigmoid(b))


def _cases(levels, offsets, log_scales):
    """One pixel per image: x = k/255, mean = x + offset (float32), log_scale per image."""
    rows = list(itertools.product(levels, offsets, log_scales))
    k = torch.tensor([r[0] for r in rows], dtype=torch.float64)
    x = (k / 255).float().view(-1, 1, 1, 1)
    mean = (k / 255 + torch.tensor([r[1] for r in rows], dtype=torch.float64)).float().view(-1, 1, 1, 1)
    log_scale = torch.tensor([r[2] for r in rows], dtype=torch.float32).view(-1, 1, 1, 1)
    return [r[0] for r in rows], x, mean, log_scale


def _reference(ks, mean, log_scale, grad=False):
    """float64 -log P per pixel and, with ``grad``, its derivatives w.r.t. mean and log_scale."""
    values, d_mean, d_scale = [], [], []
    for k, m, s in zip(ks, mean.flatten().tolist(), log_scale.flatten().tolist()):
        m = torch.tensor(m, dtype=torch.float64, requires_grad=grad)
        s = torch.tensor(s, dtype=torch.float64, requires_grad=grad)
        nll = -_ref_log_mass(k, m, s)
        values.append(nll.item())
        if grad:
            gm, gs = torch.autograd.grad(nll, (m, s))
            d_mean.append(gm.item())
            d_scale.append(gs.item())
    out = [torch.tensor(v, dtype=torch.float64) for v in (values, d_mean, d_scale)]
    return out if grad else out[0]


def test_sigmoid_difference_factorises():
    torch.manual_seed(0)
    b = torch.empty(1000, dtype=torch.float64).uniform_(-20, 20)
    a = b + torch.empty_like(b).uniform_(1e-3, 10)
    direct = torch.where(b > 0, torch.sigmoid(-b) - torch.sigmoid(-a), torch.sigmoid(a) - torch.sigmoid(b))
    factored = torch.sigmoid(a) * torch.sigmoid(-b) * (1 - torch.exp(-(a - b)))
    torch.testing.assert_close(factored, direct, rtol=1e-9, atol=0)


LEVELS = [0, 1, 77, 128, 254, 255]
OFFSETS = [0.0, H, -H, 0.01, -0.01, 0.5, -0.5, 1.0, -1.0, 5.0, -5.0]  # mean - x
LOG_SCALES = [-7.0, -5.0, -2.3, 0.0, 2.0, 3.0, 6.0, 10.0]


def test_float32_matches_float64_reference_everywhere():
    ks, x, mean, log_scale = _cases(LEVELS, OFFSETS, LOG_SCALES)
    got = L.discretized_logistic_nll(mean, log_scale, x)
    assert got.dtype == torch.float32 and torch.isfinite(got).all()
    # atol only admits -log P below float32's smallest normal number (an edge bin with the mean far beyond it)
    tiny = torch.finfo(torch.float32).tiny
    torch.testing.assert_close(got.double(), _reference(ks, mean, log_scale), rtol=1e-4, atol=tiny)


def test_gradients_far_from_the_mean_are_finite_nonzero_and_match_float64():
    # mean far from x with a small scale: every sigmoid of the old formula rounds to 0 or 1 in float32
    ks, x, mean, log_scale = _cases([0, 128, 255], [0.5, -0.5, 1.0, -1.0, 5.0, -5.0], [-7.0, -5.0])
    keep = [not ((k == 0 and o < 0) or (k == 255 and o > 0))  # an edge bin with the mean beyond it has P ~ 1
            for k, o in zip(ks, ((mean - x).flatten()).tolist())]
    idx = torch.tensor(keep).nonzero().flatten()
    ks = [ks[i] for i in idx.tolist()]
    x, mean, log_scale = x[idx], mean[idx].requires_grad_(), log_scale[idx].requires_grad_()
    g_mean, g_scale = torch.autograd.grad(L.discretized_logistic_nll(mean, log_scale, x).sum(), (mean, log_scale))
    _, ref_mean, ref_scale = _reference(ks, mean.detach(), log_scale.detach(), grad=True)
    for g, ref in ((g_mean.flatten(), ref_mean), (g_scale.flatten(), ref_scale)):
        assert torch.isfinite(g).all() and (g.abs() > 1.0).all()
        torch.testing.assert_close(g.double(), ref, rtol=1e-3, atol=0)


def test_gradients_match_float64_autograd_over_the_grid():
    ks, x, mean, log_scale = _cases(LEVELS, [H / 2, -0.3, 0.7, -4.0], [-7.0, -2.3, 2.0, 6.0])
    mean, log_scale = mean.requires_grad_(), log_scale.requires_grad_()
    g_mean, g_scale = torch.autograd.grad(L.discretized_logistic_nll(mean, log_scale, x).sum(), (mean, log_scale))
    _, ref_mean, ref_scale = _reference(ks, mean.detach(), log_scale.detach(), grad=True)
    for g, ref in ((g_mean.flatten(), ref_mean), (g_scale.flatten(), ref_scale)):
        assert torch.isfinite(g).all()
        torch.testing.assert_close(g.double(), ref, rtol=1e-3, atol=1e-6)


def test_gradcheck_float64():
    torch.manual_seed(0)
    x = torch.randint(0, 256, (2, 3, 4, 4)).double() / 255
    x[0, 0, 0, :2] = torch.tensor([0.0, 1.0])  # both edge bins
    mean = torch.rand(2, 3, 4, 4, dtype=torch.float64).mul(1.4).sub(0.2).requires_grad_()
    # one channel each: ordinary scale, broad scale, and one narrow enough in bins for the midpoint branch
    log_scale = torch.tensor([-2.5, 0.5, 6.0], dtype=torch.float64).view(1, 3, 1, 1).requires_grad_()
    assert torch.autograd.gradcheck(lambda m, s: L.discretized_logistic_nll(m, s, x), (mean, log_scale))


def _old_sigmoid_difference_nll(mean, log_scale, x):
    """The formula this module used before: a float32 difference of sigmoids, clamped at 1e-12."""
    x = (x * 255).round() / 255
    inv_s = torch.exp(-log_scale)
    upper = torch.sigmoid((x + H - mean) * inv_s)
    lower = torch.sigmoid((x - H - mean) * inv_s)
    upper = torch.where(x > 1 - H, torch.ones_like(upper), upper)
    lower = torch.where(x < H, torch.zeros_like(lower), lower)
    return -torch.log((upper - lower).clamp_min(1e-12)).flatten(1).sum(1)


def test_counter_example_where_the_sigmoid_difference_saturates():
    x = torch.full((1, 1, 1, 1), 128 / 255)
    mean = torch.full_like(x, 0.38).requires_grad_()
    log_scale = torch.tensor(-5.0, requires_grad=True)
    ref = _reference([128], mean.detach(), log_scale.detach().view(1, 1, 1, 1))
    old = _old_sigmoid_difference_nll(mean, log_scale, x)
    new = L.discretized_logistic_nll(mean, log_scale, x)
    assert abs(old.item() - ref.item()) > 5.0
    assert new.item() == pytest.approx(ref.item(), rel=1e-4)
    assert all(g.abs().item() == 0 for g in torch.autograd.grad(old.sum(), (mean, log_scale)))
    assert all(g.abs().item() > 1 for g in torch.autograd.grad(new.sum(), (mean, log_scale)))


@pytest.mark.parametrize("mu,log_scale", [(0.37, math.log(0.08)), (0.5 + H, -7.0), (0.02, -5.0), (-0.3, -2.0),
                                          (1.4, 0.0), (0.9, 3.0), (0.6, 6.0)])
def test_256_bins_sum_to_one_in_float32(mu, log_scale):
    levels = torch.arange(256).float().div(255).view(256, 1, 1, 1)
    mean = torch.full_like(levels, mu)
    total = torch.exp(-L.discretized_logistic_nll(mean, torch.tensor(log_scale), levels)).sum()
    assert total.item() == pytest.approx(1.0, abs=1e-5)


def test_bins_far_narrower_than_the_scale_stay_finite():
    # exp(-100) / 255 underflows in float32, so only the midpoint form can give this bin's mass
    x = torch.full((1, 1, 1, 1), 128 / 255)
    mean = torch.full_like(x, 0.3).requires_grad_()
    log_scale = torch.tensor(100.0, requires_grad=True)
    nll = L.discretized_logistic_nll(mean, log_scale, x)
    assert nll.item() == pytest.approx(2 * math.log(2) + 100 + math.log(255), rel=1e-6)
    assert all(torch.isfinite(g).all() for g in torch.autograd.grad(nll.sum(), (mean, log_scale)))


def test_log1mexp_keeps_relative_accuracy_for_small_and_large_d():
    d = torch.logspace(-7, 1.7, 300)
    d64 = d.double()  # in float64 each form is exact to rounding on its side of d = 1
    ref = torch.where(d64 > 1, torch.log1p(-torch.exp(-d64)), torch.log(-torch.expm1(-d64)))
    torch.testing.assert_close(L._log1mexp(d).double(), ref, rtol=1e-6, atol=0)
