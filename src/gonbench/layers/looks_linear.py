"""CReLU and the looks-linear initialisation (Balduzzi et al. 2017, "The shattered gradients problem", Sec. 5).

CReLU(x) = [relu(x), relu(-x)] concatenated on the feature (channel) axis (Shang et al. 2016). A layer reading
a CReLU output has twice as many inputs as units below it. The looks-linear (LL) initialisation draws an
ordinary weight W_left for the first half and sets the second half to -W_left. Since
relu(x) - relu(-x) = x, W . CReLU(x) = W_left relu(x) - W_left relu(-x) = W_left x for every x: at
initialisation each layer, and so a whole stack of them (biases zero), is the linear map given by the product
of its W_left, so its input gradient is the same everywhere and cannot shatter. Training then moves the two
halves apart and the net becomes nonlinear. W_left is drawn orthogonal, as the paper does, or He-normal.
"""
from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn as nn

from ..errors import ConfigError

LLInit = Literal["orthogonal", "he"]
LL_INITS = ("orthogonal", "he")


class CReLU(nn.Module):
    """Concatenated ReLU on axis 1: [B, C, ...] -> [B, 2C, ...]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.relu(x), torch.relu(-x)], 1)


def left_half(weight: torch.Tensor) -> torch.Tensor:
    """The part of a weight acting on the relu(x) half of a CReLU input (its first input half)."""
    return weight[:, : weight.shape[1] // 2]


@torch.no_grad()
def looks_linear_(layer: nn.Linear | nn.Conv2d, init: LLInit = "orthogonal", generator: torch.Generator | None = None):
    """Initialise ``layer`` (its input a CReLU output, so an even number of input features or channels) as
    W = [W_left, -W_left], bias 0. ``orthogonal``: W_left a (semi-)orthogonal matrix over its fan-in (gain 1,
    the paper's choice: the layer is then a norm-preserving linear map); ``he``: W_left ~ N(0, 2 / fan_in),
    fan_in counted over the halved input. Returns the layer."""
    if init not in LL_INITS:
        raise ConfigError(f"unknown looks-linear initialisation {init!r}; valid choices: {', '.join(LL_INITS)}")
    if not isinstance(layer, (nn.Linear, nn.Conv2d)) or (isinstance(layer, nn.Conv2d) and layer.groups != 1):
        raise ConfigError(f"looks-linear initialisation takes an nn.Linear or an ungrouped nn.Conv2d, not {layer!r}")
    w = layer.weight
    if w.shape[1] % 2:
        raise ConfigError(f"a looks-linear layer reads a CReLU output: its {w.shape[1]} inputs must be even")
    half = w.shape[1] // 2
    fan_in = half * math.prod(w.shape[2:])
    if init == "orthogonal":
        flat = torch.empty(w.shape[0], fan_in)
        nn.init.orthogonal_(flat, generator=generator)
        left = flat.reshape(w.shape[0], half, *w.shape[2:])
    else:
        left = torch.randn(w.shape[0], half, *w.shape[2:], generator=generator) * math.sqrt(2.0 / fan_in)
    w.copy_(torch.cat([left, -left], 1).to(w))
    if layer.bias is not None:
        layer.bias.zero_()
    return layer
