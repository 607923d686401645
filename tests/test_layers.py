"""The piecewise layers: exact optimum, weak Jacobian against finite differences, STE, connected components."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from gonbench.errors import ConfigError
from gonbench.layers import ConnectedComponentMean, PiecewiseConstant, PiecewiseLinear, piecewise_fit

DEGREES = [0, 1]


def brute_force_cost(y: np.ndarray, k: int, degree: int) -> float:
    """Smallest squared residual over every partition of y into at most k contiguous pieces."""
    n = len(y)
    best = np.inf
    for pieces in range(1, min(k, n) + 1):
        for cuts in itertools.combinations(range(1, n), pieces - 1):
            bounds = (0, *cuts, n)
            cost = 0.0
            for a, b in zip(bounds, bounds[1:]):
                t = np.arange(a, b, dtype=float)
                design = np.stack([np.ones_like(t), t][: degree + 1], 1)
                coef, *_ = np.linalg.lstsq(design, y[a:b], rcond=None)
                cost += float(((design @ coef - y[a:b]) ** 2).sum())
            best = min(best, cost)
    return best


@pytest.mark.parametrize("degree", DEGREES)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_dynamic_programme_matches_brute_force(degree, k):
    gen = torch.Generator().manual_seed(10 * k + degree)
    x = torch.randn(6, 7, generator=gen, dtype=torch.float64)
    fit = piecewise_fit(x, k, degree)
    ours = ((fit - x) ** 2).sum(1)
    for row, cost in zip(x.numpy(), ours):
        assert float(cost) == pytest.approx(brute_force_cost(row, k, degree), abs=1e-9)


def test_constant_fit_of_a_step_signal_by_hand():
    x = torch.tensor([[1.0, 2.0, 3.0, 10.0, 10.0, 12.0]])
    assert torch.allclose(PiecewiseConstant(2)(x), torch.tensor([[2.0, 2.0, 2.0, 32 / 3, 32 / 3, 32 / 3]]))
    # two affine pieces fit the ramp exactly and leave the residual of the second piece only
    fit = PiecewiseLinear(2)(x)
    assert torch.allclose(fit[0, :3], x[0, :3]) and torch.allclose(fit[0, 3:], torch.tensor([29 / 3, 32 / 3, 35 / 3]))


@pytest.mark.parametrize("layer", [PiecewiseConstant(4), PiecewiseLinear(4)], ids=["constant", "linear"])
def test_idempotent(layer):
    x = torch.randn(16, 40, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    once = layer(x)
    assert not torch.allclose(once, x)
    assert torch.allclose(layer(once), once, atol=1e-10)


def well_separated(degree: int) -> torch.Tensor:
    """Three pieces with large jumps plus small noise: the optimal partition does not change under the
    finite-difference steps, so h is locally the linear projection the weak Jacobian claims."""
    gen = torch.Generator().manual_seed(3)
    levels = torch.tensor([0.0, 5.0, -4.0], dtype=torch.float64)
    clean = levels.repeat_interleave(torch.tensor([4, 5, 3]))
    if degree == 1:
        clean = clean + 0.3 * torch.arange(12, dtype=torch.float64)
    return (clean + 0.05 * torch.randn(2, 12, generator=gen, dtype=torch.float64)).requires_grad_(True)


@pytest.mark.parametrize("degree", DEGREES)
def test_weak_jacobian_matches_finite_differences(degree):
    x = well_separated(degree)
    assert torch.autograd.gradcheck(lambda v: piecewise_fit(v, 3, degree, "weak"), (x,), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("degree", DEGREES)
def test_straight_through_gradient_is_the_identity(degree):
    x = well_separated(degree)
    upstream = torch.randn(x.shape, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    (grad,) = torch.autograd.grad((piecewise_fit(x, 3, degree, "ste") * upstream).sum(), x)
    assert torch.equal(grad, upstream)
    (weak,) = torch.autograd.grad((piecewise_fit(x, 3, degree, "weak") * upstream).sum(), x)
    assert not torch.allclose(weak, upstream)  # the two backward passes really differ


def test_weak_jacobian_of_the_histogram_averages_the_gradient_per_segment():
    x = torch.tensor([[0.0, 0.1, 9.0, 9.1, 9.2]], requires_grad=True)
    upstream = torch.tensor([[1.0, 3.0, 0.0, 3.0, 6.0]])
    (grad,) = torch.autograd.grad((PiecewiseConstant(2)(x) * upstream).sum(), x)
    assert torch.allclose(grad, torch.tensor([[2.0, 2.0, 3.0, 3.0, 3.0]]))


def hand_map() -> torch.Tensor:
    """Column 2 is a foreground wall that cuts the background in two; pixel (3, 4) is a second, isolated
    foreground component."""
    m = torch.full((4, 5), 0.1, dtype=torch.float64)
    m[:, 2] = torch.tensor([0.9, 0.7, 0.8, 0.6], dtype=torch.float64)
    m[0, 0] = 0.3
    m[3, 4] = 0.95
    m[3, 3] = 0.2
    return m


def test_connected_components_forward_by_hand():
    out = ConnectedComponentMean(0.5)(hand_map()[None, None])[0, 0]
    wall, left = (0.9 + 0.7 + 0.8 + 0.6) / 4, (0.3 + 7 * 0.1) / 8
    right = (6 * 0.1 + 0.2) / 7  # rows 0..3 x columns 3..4 without the blob at (3, 4)
    expected = torch.tensor([[left, left, wall, right, right],
                             [left, left, wall, right, right],
                             [left, left, wall, right, right],
                             [left, left, wall, right, 0.95]], dtype=torch.float64)
    assert torch.allclose(out, expected)


def test_connected_components_gradcheck():
    m = torch.stack([hand_map(), hand_map().flip(1)]).requires_grad_(True)
    assert torch.autograd.gradcheck(ConnectedComponentMean(0.5), (m,), eps=1e-6, atol=1e-7)


def test_bad_choices_name_the_valid_ones():
    with pytest.raises(ConfigError, match="valid choices: weak, ste"):
        PiecewiseConstant(3, backward="exact")
    with pytest.raises(ConfigError, match="at least 1"):
        piecewise_fit(torch.zeros(1, 4), 0, 0)
