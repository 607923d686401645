"""The data-free generators: standardisation removes the constant-signal optimum, the STE generator gets exactly
zero gradient, weak-Jacobian training makes non-constant piecewise signals, and pieces_used by hand."""
from __future__ import annotations

import pytest
import torch

from gonbench import metrics as M
from gonbench.layers import piecewise_fit
from gonbench.methods import DataInfo, build_method
from gonbench.methods.datafree import DataFreeGenerator, standardise

INFO = DataInfo(channels=1, image_size=8, classes=1, train_size=256)


def codes(count: int, seed: int) -> torch.Tensor:
    return torch.randn(count, 1, 1, INFO.image_size, generator=torch.Generator().manual_seed(seed))


def generator(**values) -> DataFreeGenerator:
    torch.manual_seed(0)
    return build_method("datafree", INFO, length=32, hidden=[64, 64], pieces=4, lr=1e-3, **values)


def loss(model: DataFreeGenerator, z: torch.Tensor) -> float:
    with torch.no_grad():
        return float(model.training_loss({"x": z})["loss"])


def test_standardised_signals_have_zero_mean_and_unit_variance():
    x = 5.0 + 1e-2 * torch.randn(16, 32, generator=torch.Generator().manual_seed(0))
    s = standardise(x)
    assert torch.allclose(s.mean(1), torch.zeros(16), atol=1e-4)
    assert torch.allclose(s.var(1, correction=0), torch.ones(16), atol=1e-3)


@pytest.mark.parametrize("piece", ["constant", "linear"])
def test_a_near_constant_output_is_not_a_cheap_optimum_when_standardised(piece):
    """Shrinking G to a constant plus 1% of its shape zeroes the paper's loss but leaves ours unchanged."""
    z = codes(64, 1)
    losses = {}
    for normalise in ("standardise", "none"):
        model = generator(piece=piece, normalise=normalise)
        before = loss(model, z)
        last = model.generator.net[-1]
        with torch.no_grad():  # G -> 0.01 G + 5: a near-constant output of the same shape
            last.weight.mul_(0.01)
            last.bias.mul_(0.01).add_(5.0)
        losses[normalise] = before, loss(model, z)
    before, after = losses["standardise"]
    assert after == pytest.approx(before, rel=0.02) and after > 5.0  # ~n x relative residual of noise-like G
    before, after = losses["none"]
    assert after < 1e-3 * before


@pytest.mark.parametrize("normalise", ["standardise", "none"])
@pytest.mark.parametrize("piece", ["constant", "linear"])
def test_ste_generator_gets_exactly_zero_gradient_and_stays_at_its_initialisation(piece, normalise):
    z = codes(32, 2)
    for backward in ("ste", "weak"):
        model = generator(piece=piece, backward=backward, normalise=normalise)
        model.training_loss({"x": z})["loss"].backward()
        grads = [p.grad for p in model.parameters()]
        assert all(g is not None for g in grads)
        nonzero = sum(int(torch.count_nonzero(g)) for g in grads)
        assert (nonzero == 0) if backward == "ste" else (nonzero > 0)
    model = generator(piece=piece, backward="ste", normalise=normalise)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    optimizers = model.configure_optimizers()
    for _ in range(3):
        model.train_step({"x": z}, optimizers)
    assert all(torch.equal(v, start[k]) for k, v in model.state_dict().items())


@pytest.mark.parametrize("normalise", ["standardise", "none"])
@pytest.mark.parametrize("piece", ["constant", "linear"])
def test_weak_jacobian_training_makes_piecewise_signals_and_only_the_paper_loss_collapses(piece, normalise):
    """300 Adam steps (under a second on one thread): the relative residual falls tenfold; standardised, the
    raw signal keeps its spread, while the paper's loss shrinks it towards a constant (the audit's finding)."""
    model = generator(piece=piece, backward="weak", normalise=normalise)
    val = {"x": codes(64, 3)}
    with torch.no_grad():
        start = model.validation_losses(val)
    optimizers = model.configure_optimizers()
    gen = torch.Generator().manual_seed(4)
    for _ in range(300):
        model.train_step({"x": torch.randn(32, 1, 1, INFO.image_size, generator=gen)}, optimizers)
    with torch.no_grad():
        end = model.validation_losses(val)
    assert float(end["relative_residual"].mean()) < 0.2 * float(start["relative_residual"].mean())
    assert float(end["tv"].mean()) < float(start["tv"].mean())
    spread = float(end["signal_std"].mean()) / float(start["signal_std"].mean())  # measured: ~6 vs ~0.15
    assert spread > 2.0 if normalise == "standardise" else spread < 0.3


def count_pieces(signal: list[float], degree: int, k: int = 5, tolerance: float = 0.01) -> int:
    x = torch.tensor([signal], dtype=torch.float64)
    return int(M.pieces_used(x, lambda v, j: piecewise_fit(v, j, degree), k, tolerance)[0])


def test_pieces_used_by_hand():
    steps = [0.0] * 8 + [1.0] * 8 + [-1.0] * 8
    assert count_pieces(steps, degree=0) == 3
    assert count_pieces(steps, degree=1) == 3  # a line cannot take a jump either
    ramp = [float(t) for t in range(24)]
    assert count_pieces(ramp, degree=1) == 1
    assert count_pieces(ramp, degree=0) == 5  # a staircase needs every piece it is given
    kink = [float(t) for t in range(12)] + [11.0 - 2 * t for t in range(1, 13)]
    assert count_pieces(kink, degree=1) == 2
    noise = 0.01 * torch.randn(24, generator=torch.Generator().manual_seed(5))
    assert count_pieces((torch.tensor([0.0] * 12 + [1.0] * 12) + noise).tolist(), degree=0) == 2
    # a third level 0.05 above the second explains far less than 1% of the variance: it is not counted
    small = [0.0] * 8 + [1.0] * 8 + [1.05] * 8
    assert count_pieces(small, degree=0) == 2 and count_pieces(small, degree=0, tolerance=1e-9) == 3


def test_pieces_used_of_a_batch_is_per_signal_and_float():
    x = torch.tensor([[0.0] * 6 + [2.0] * 6, [float(t) for t in range(12)]])
    used = M.pieces_used(x, lambda v, j: piecewise_fit(v, j, 1), 3, 0.01)
    assert used.dtype == x.dtype and used.tolist() == [2.0, 1.0]
