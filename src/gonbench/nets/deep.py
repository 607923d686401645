"""Deep fully connected nets for the shattered-gradients study (Balduzzi et al. 2017): the same depth and width
as a plain He-initialised ReLU net, a ResNet (with or without BatchNorm) and a looks-linear CReLU net.

``depth`` counts the hidden nonlinear layers. Every architecture is input Linear -> ``depth`` hidden layers ->
output Linear:

- ``relu``: Linear(width, width) + ReLU per layer, He-normal weights (fan-in, gain sqrt(2)), zero biases;
  ``relu_bn`` normalises before each ReLU (BatchNorm1d), the paper's feedforward nets. With zero biases and no
  normalisation a ReLU net (and a ResNet) is positively homogeneous: on a 1-D input its gradient takes one
  value for x < 0 and one for x > 0, so it cannot shatter along a sweep; normalisation centres the units;
- ``resnet`` / ``resnet_bn``: one-layer pre-activation residual blocks h + Linear(ReLU([BN](h))), He weights;
  the paper's 1-D ResNets put a skip around each layer. ``resnet_bn`` normalises with BatchNorm1d;
- ``ll_crelu``: CReLU per layer, every Linear after the first reading its 2 x width outputs, looks-linear
  initialised (layers.looks_linear_); the first Linear reads the input and is drawn like a W_left. At
  initialisation the whole net is the linear map W_left,L ... W_left,2 W_1 (``left_product``).

A net built with ``sweep_norm=True`` replaces BatchNorm by ``SweepNorm`` (below) for the gradient measurement.
"""
from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn as nn

from ..errors import ConfigError
from ..layers import CReLU, LLInit, left_half, looks_linear_

Arch = Literal["relu", "relu_bn", "resnet", "resnet_bn", "ll_crelu"]
ARCHS = ("relu", "relu_bn", "resnet", "resnet_bn", "ll_crelu")


class SweepNorm(nn.Module):
    """BatchNorm at initialisation (scale 1, shift 0) with the statistics of the whole input batch taken as
    constants: every point of a sweep is normalised like its neighbours, and the gradient of one output with
    respect to its own input carries no cross terms from the others (BatchNorm's evaluation mode with the
    sweep's statistics)."""

    eps = 1e-5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            mean, var = x.mean(0), x.var(0, correction=0)
        return (x - mean) / torch.sqrt(var + self.eps)


def he_(layer: nn.Linear) -> nn.Linear:
    """He-normal weights (std sqrt(2 / fan_in)) and zero biases."""
    nn.init.normal_(layer.weight, std=math.sqrt(2.0 / layer.in_features))
    nn.init.zeros_(layer.bias)
    return layer


class ResidualBlock(nn.Module):
    def __init__(self, width: int, norm: nn.Module) -> None:
        super().__init__()
        self.norm, self.linear = norm, he_(nn.Linear(width, width))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.linear(torch.relu(self.norm(h)))


class DeepNet(nn.Module):
    """[B, in_features] -> [B, out_features] through ``depth`` hidden layers of ``arch`` (see the module)."""

    def __init__(self, arch: Arch, depth: int, width: int, in_features: int, out_features: int, *,
                 ll_init: LLInit = "orthogonal", sweep_norm: bool = False) -> None:
        super().__init__()
        if arch not in ARCHS:
            raise ConfigError(f"unknown architecture {arch!r}; valid choices: {', '.join(ARCHS)}")
        self.arch, self.depth, self.width = arch, depth, width
        layers: list[nn.Module] = []
        if arch == "ll_crelu":
            first = nn.Linear(in_features, width)  # reads the input itself, drawn like W_left
            if ll_init == "orthogonal":
                nn.init.orthogonal_(first.weight)
                nn.init.zeros_(first.bias)
            else:
                he_(first)
            layers.append(first)
            for _ in range(depth - 1):
                layers += [CReLU(), looks_linear_(nn.Linear(2 * width, width), ll_init)]
            layers += [CReLU(), looks_linear_(nn.Linear(2 * width, out_features), ll_init)]
        else:
            layers.append(he_(nn.Linear(in_features, width)))
            for _ in range(depth):
                norm = (SweepNorm() if sweep_norm else nn.BatchNorm1d(width)) if arch.endswith("_bn") else nn.Identity()
                if arch.startswith("relu"):
                    layers += [norm, nn.ReLU(), he_(nn.Linear(width, width))]
                else:
                    layers.append(ResidualBlock(width, norm))
            if arch.startswith("relu"):
                layers[-1] = he_(nn.Linear(width, out_features))  # depth ReLUs between depth + 1 Linear layers
            else:
                layers += [nn.ReLU(), he_(nn.Linear(width, out_features))]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.flatten(1))

    def left_product(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(A, b) of the affine map an LL-initialised net equals: f(x) = A x + b, from its W_left halves."""
        if self.arch != "ll_crelu":
            raise ConfigError("only a looks-linear CReLU net is linear at initialisation")
        first, *rest = [m for m in self.layers if isinstance(m, nn.Linear)]
        a, b = first.weight, first.bias
        for layer in rest:
            left = left_half(layer.weight)
            a, b = left @ a, left @ b + layer.bias
        return a, b
