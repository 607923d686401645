"""SIREN (Sitzmann et al., NeurIPS 2020): an MLP with sine activations sin(w0 * (Wx + b)).

Initialisation as in the paper: first layer U(-1/in, 1/in); later layers U(-sqrt(6/in)/w0, sqrt(6/in)/w0),
which keeps pre-activations ~ U(-pi/2 .. ) distributed so that depth neither explodes nor vanishes.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn


class SineLayer(nn.Module):
    def __init__(self, in_features: int, out_features: int, *, w0: float = 30.0, first: bool = False,
                 last: bool = False) -> None:
        super().__init__()
        self.w0, self.last = w0, last
        self.linear = nn.Linear(in_features, out_features)
        bound = 1.0 / in_features if first else math.sqrt(6.0 / in_features) / w0
        with torch.no_grad():
            self.linear.weight.uniform_(-bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear(x)
        return y if self.last else torch.sin(self.w0 * y)


class Siren(nn.Module):
    """widths = [in, hidden..., out]; every layer but the last is a sine layer; linear output."""

    def __init__(self, *, widths: list[int], w0: float = 30.0) -> None:
        super().__init__()
        n = len(widths) - 1
        self.layers = nn.Sequential(*[
            SineLayer(widths[i], widths[i + 1], w0=w0, first=i == 0, last=i == n - 1) for i in range(n)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def coordinate_grid(height: int, width: int, device=None) -> torch.Tensor:
    """[H*W, 2] pixel-centre coordinates in [-1, 1], row-major (y, x) like the image's flattening."""
    ys = torch.linspace(-1, 1, height, device=device)
    xs = torch.linspace(-1, 1, width, device=device)
    return torch.stack(torch.meshgrid(ys, xs, indexing="ij"), dim=-1).reshape(-1, 2)
