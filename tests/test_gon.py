"""The gradient-origin mechanics: the latent is -grad at the origin; detaching removes the second-order path."""
from __future__ import annotations

import pytest
import torch

from gonbench.methods import DataInfo, build_method
from gonbench.losses import squared_error

INFO = DataInfo(channels=1, image_size=32, classes=10, train_size=8)


def tiny(name: str, **cfg):
    torch.manual_seed(0)
    return build_method(name, INFO, nz=6, ngf=4, **cfg).double()


def test_latent_is_minus_the_gradient_at_the_origin_by_finite_differences():
    model = tiny("gon")
    model.eval()  # BatchNorm on running statistics: the inner loss is then a plain function of z0
    x = torch.rand(4, 1, 32, 32, dtype=torch.float64)
    z = model.encode(x, detach=True)

    def inner(z0):
        return squared_error(model.decoder(z0), x).item()

    eps = 1e-6
    zero = torch.zeros(4, 6, dtype=torch.float64)
    for i, j in [(0, 0), (1, 3), (3, 5), (2, 2)]:
        e = torch.zeros_like(zero)
        e[i, j] = eps
        numeric = (inner(zero + e) - inner(zero - e)) / (2 * eps)
        assert z[i, j].item() == pytest.approx(-numeric, rel=1e-5, abs=1e-10)


def weight_grads(model, x, *, constant_latent: bool):
    """Gradient of the outer loss w.r.t. the decoder weights, optionally treating z as a constant."""
    model.zero_grad()
    z = model.encode(x)
    if constant_latent:
        z = z.detach()
    squared_error(model.decoder(z), x).backward()
    return torch.cat([p.grad.flatten() for p in model.decoder.parameters()])


@pytest.mark.parametrize("name", ["gon_detach_1", "gon_detach_10"])
def test_detached_variants_have_no_second_order_path(name):
    model = tiny(name)
    x = torch.rand(8, 1, 32, 32, dtype=torch.float64)
    full = weight_grads(model, x, constant_latent=False)
    direct = weight_grads(model, x, constant_latent=True)
    assert torch.allclose(full, direct, rtol=0, atol=1e-14)  # the path through z contributes exactly 0


@pytest.mark.parametrize("name", ["gon", "gon_10"])
def test_graph_keeping_variants_train_through_the_latent(name):
    model = tiny(name)
    x = torch.rand(8, 1, 32, 32, dtype=torch.float64)
    through_z = weight_grads(model, x, constant_latent=False) - weight_grads(model, x, constant_latent=True)
    assert through_z.abs().max() > 1e-6


def test_ten_steps_of_size_point_one_follow_gradient_descent():
    model = tiny("gon_10")
    model.eval()
    x = torch.rand(2, 1, 32, 32, dtype=torch.float64)
    z = torch.zeros(2, 6, dtype=torch.float64)
    for _ in range(10):
        z = z.requires_grad_(True)
        (g,) = torch.autograd.grad(squared_error(model.decoder(z), x), [z])
        z = (z - 0.1 * g).detach()
    assert torch.allclose(model.encode(x, detach=True), z)
