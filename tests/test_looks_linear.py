"""CReLU and the looks-linear initialisation: W . CReLU(x) = W_left x for dense and conv layers, an
LL-initialised deep net is exactly linear at initialisation (and equals the product of its W_left maps), and
the shattering measure tells white noise, brown noise and a linear net apart."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from gonbench import metrics as M
from gonbench.errors import ConfigError
from gonbench.layers import CReLU, left_half, looks_linear_
from gonbench.methods import DataInfo, EvaluationContext, build_method
from gonbench.nets import DeepNet

torch.set_default_dtype(torch.float32)


def test_crelu_concatenates_both_halves():
    x = torch.tensor([[-2.0, 0.5]])
    assert torch.equal(CReLU()(x), torch.tensor([[0.0, 0.5, 2.0, 0.0]]))


@pytest.mark.parametrize("init", ["orthogonal", "he"])
def test_dense_looks_linear_layer_is_its_left_half_on_random_inputs(init):
    torch.manual_seed(0)
    layer = looks_linear_(nn.Linear(2 * 24, 16), init)
    x = torch.randn(100, 24) * 3
    assert torch.allclose(layer(CReLU()(x)), x @ left_half(layer.weight).T, atol=1e-5)
    assert torch.equal(layer.weight[:, 24:], -layer.weight[:, :24]) and not layer.bias.any()


@pytest.mark.parametrize("init", ["orthogonal", "he"])
def test_conv_looks_linear_layer_is_its_left_half_on_random_inputs(init):
    torch.manual_seed(1)
    layer = looks_linear_(nn.Conv2d(2 * 5, 7, 3, padding=1), init)
    x = torch.randn(4, 5, 9, 9)
    expected = F.conv2d(x, left_half(layer.weight), padding=1)
    assert torch.allclose(layer(CReLU()(x)), expected, atol=1e-5)


def test_orthogonal_left_half_is_orthogonal():
    layer = looks_linear_(nn.Linear(2 * 32, 32), "orthogonal")
    left = left_half(layer.weight)
    assert torch.allclose(left @ left.T, torch.eye(32), atol=1e-5)


@pytest.mark.parametrize("init", ["orthogonal", "he"])
def test_an_ll_deep_net_is_exactly_linear_at_initialisation(init):
    torch.manual_seed(2)
    net = DeepNet("ll_crelu", 30, 32, 10, 3, ll_init=init).double()
    x, y = torch.randn(64, 10, dtype=torch.float64), torch.randn(64, 10, dtype=torch.float64)
    a, b = 1.7, -0.6
    with torch.no_grad():
        assert torch.allclose(net(a * x + b * y), a * net(x) + b * net(y), atol=1e-10)
        left, bias = net.left_product()
        assert not bias.any()
        assert torch.allclose(net(x), x @ left.T, atol=1e-10)


def test_a_he_relu_net_is_not_linear():
    torch.manual_seed(3)
    net = DeepNet("relu", 10, 32, 10, 3)
    x, y = torch.randn(64, 10), torch.randn(64, 10)
    with torch.no_grad():
        assert not torch.allclose(net(x + y), net(x) + net(y), atol=1e-3)


def test_gradient_correlation_tells_white_brown_and_constant_apart():
    g = torch.Generator().manual_seed(0)
    white = torch.randn(200, 256, generator=g, dtype=torch.float64)
    brown = white.cumsum(1)
    constant = torch.randn(200, 1, generator=g, dtype=torch.float64).expand(200, 256)
    assert abs(float(M.gradient_correlation(white, 1)[1])) < 0.05
    assert float(M.gradient_correlation(brown, 1)[1]) > 0.9
    assert torch.allclose(M.gradient_correlation(constant, 8), torch.ones(9, dtype=torch.float64))


def shattering(arch: str, depth: int) -> float:
    torch.manual_seed(0)
    model = build_method("shattering", DataInfo(1, 16, 1, 64), arch=arch, depth=depth, width=64, nets=16)
    extras = model.evaluation_extras(EvaluationContext(torch.zeros(1), torch.zeros(1), 0))
    return extras.metrics["grad_corr"]


def test_deep_he_relu_gradients_shatter_and_ll_gradients_do_not():
    assert shattering("relu_bn", 2) > 0.9
    assert abs(shattering("relu_bn", 32)) < 0.2
    assert shattering("ll_crelu", 32) == pytest.approx(1.0, abs=1e-9)


def test_bad_values_are_one_line():
    with pytest.raises(ConfigError, match="valid choices: orthogonal, he"):
        looks_linear_(nn.Linear(4, 4), "xavier")
    with pytest.raises(ConfigError, match="must be even"):
        looks_linear_(nn.Linear(5, 4))
    with pytest.raises(ConfigError, match="valid choices: relu, relu_bn, resnet, resnet_bn, ll_crelu"):
        DeepNet("tanh", 2, 4, 1, 1)
