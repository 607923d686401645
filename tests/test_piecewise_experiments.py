"""What the piecewise experiments rely on: generated signals, hand-computed metrics, fixed validation noise and
the gradient claims of the data-free generator."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gonbench import metrics as M
from gonbench.data import prepare
from gonbench.data.signals import PIECES, piecewise_signals
from gonbench.layers import piecewise_fit
from gonbench.methods import DataInfo, build_method
from gonbench.noise import gaussian_noise
from gonbench.batches import to_unit


@pytest.mark.parametrize("degree", [0, 1])
def test_generated_signals_have_exactly_the_stated_pieces(degree):
    x = piecewise_signals(32, 64, degree, torch.Generator().manual_seed(0)).double()
    exact = ((piecewise_fit(x, PIECES, degree) - x) ** 2).sum(1)
    fewer = ((piecewise_fit(x, PIECES - 1, degree) - x) ** 2).sum(1)
    assert exact.max() < 1e-10 and (fewer > 1e-6).float().mean() > 0.9


def test_signal_datasets_are_float_and_not_resized():
    splits = prepare("piecewise_linear", Path("unused"), 48)
    assert splits.train.dtype == torch.float32 and splits.train.shape[1:] == (1, 1, 48)
    assert to_unit(splits.val) is splits.val  # already in its units


def test_mask_metrics_by_hand():
    target = torch.zeros(1, 1, 5, 5, dtype=torch.bool)
    target[..., 1:4, 1:4] = True  # 3x3 square: 8 boundary pixels around one interior pixel
    pred = torch.zeros_like(target)
    pred[..., 1:4, 1:3] = True  # 3x2: all 6 pixels are boundary, 5 of them on the square's boundary
    assert float(M.iou(pred, target)) == pytest.approx(6 / 9)
    precision, recall = 5 / 6, 5 / 8
    assert float(M.boundary_f(pred, target, 0)) == pytest.approx(2 * precision * recall / (precision + recall))
    assert float(M.boundary_f(pred, target, 1)) == pytest.approx(1.0)
    empty = torch.zeros_like(target)
    assert float(M.iou(empty, empty)) == 1.0 and float(M.boundary_f(empty, target)) == 0.0


def test_total_variation_by_hand():
    assert M.total_variation(torch.tensor([[0.0, 1.0, 1.0, -2.0]])).tolist() == [4.0]


def test_validation_noise_depends_only_on_the_example_index():
    x = torch.zeros(4, 1, 1, 8)
    a = gaussian_noise(x, torch.tensor([0, 1, 2, 3]), 0.2, fresh=False)
    b = gaussian_noise(x[:2], torch.tensor([3, 1]), 0.2, fresh=False)
    assert torch.equal(a[3], b[0]) and torch.equal(a[1], b[1]) and not torch.equal(a[0], a[1])


@pytest.mark.parametrize("piece", ["constant", "linear"])
def test_datafree_gradient_is_the_residual_with_the_weak_jacobian_and_zero_with_ste(piece):
    info = DataInfo(channels=1, image_size=8, classes=1, train_size=16)
    codes = torch.randn(16, 1, 1, 8, generator=torch.Generator().manual_seed(0))
    grads = {}
    for backward in ("weak", "ste"):
        torch.manual_seed(0)
        model = build_method("datafree", info, piece=piece, backward=backward, length=32)
        g = model.generate(codes).detach().requires_grad_(True)
        model.residual(g).sum().backward()
        grads[backward] = g.grad
        expected = 2 * (g - model.h(g)).detach()
    assert torch.allclose(grads["weak"], expected, atol=1e-5) and grads["weak"].abs().max() > 1e-3
    assert grads["ste"].abs().max() < 1e-6
