"""SIREN initialisation and the implicit GON's latent."""
from __future__ import annotations

import math

import pytest
import torch

from gonbench.methods import DataInfo, build_method, count_parameters
from gonbench.losses import coordinate_loss
from gonbench.nets import Siren


def test_tiny_mnist_implicit_gon_has_4385_parameters():
    model = build_method("implicit_gon", DataInfo(1, 28, 10, 1), nz=34, hidden=[32, 32, 32, 32])
    assert count_parameters(model) == 4_385


def test_siren_initialisation_bounds_and_variance():
    torch.manual_seed(0)
    net = Siren(widths=[34, 256, 256, 1], w0=30.0)
    first, hidden = net.layers[0].linear.weight, net.layers[1].linear.weight
    assert first.abs().max() <= 1 / 34
    bound = math.sqrt(6 / 256) / 30
    assert hidden.abs().max() <= bound
    # U(-b, b) has variance b^2 / 3
    assert hidden.var().item() == pytest.approx(bound**2 / 3, rel=0.05)
    # the paper's point: w0 * W x keeps unit-order pre-activations through depth (arcsine-distributed sines)
    x = torch.rand(4096, 34) * 2 - 1
    h = net.layers[1](net.layers[0](x))
    assert 0.3 < h.std().item() < 0.9


def test_implicit_latent_is_minus_the_gradient_by_finite_differences():
    torch.manual_seed(0)
    model = build_method("implicit_gon", DataInfo(1, 8, 10, 1), nz=3, hidden=[16, 16]).double()
    x = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    z = model.encode(x, detach=True)
    target = x.flatten(2).transpose(1, 2)

    def inner(z0):
        return coordinate_loss(model.render(z0, 8).flatten(2).transpose(1, 2), target).item()

    eps = 1e-6
    for i, j in [(0, 0), (1, 2)]:
        e = torch.zeros(2, 3, dtype=torch.float64)
        e[i, j] = eps
        numeric = (inner(e) - inner(-e)) / (2 * eps)
        assert z[i, j].item() == pytest.approx(-numeric, rel=1e-6, abs=1e-12)


def test_render_at_any_resolution():
    model = build_method("implicit_gon", DataInfo(1, 28, 10, 1), nz=4, hidden=[8])
    assert model.render(torch.zeros(2, 4), 256).shape == (2, 1, 256, 256)
