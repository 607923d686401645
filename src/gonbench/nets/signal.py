"""Networks of the piecewise experiments (Cho et al.): an MLP for 1-D signals (the data-free generator
G: z -> R^n and the denoising autoencoder), and a small fully convolutional net for segmentation masks."""
from __future__ import annotations

import torch
import torch.nn as nn

from .conv import make_activation


class MLP(nn.Module):
    """Linear layers of ``widths`` with an activation between them and a linear output (no squashing: the
    signals' range is not assumed)."""

    def __init__(self, *, widths: list[int], activation: str = "relu") -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths, widths[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(widths) - 2:
                layers.append(make_activation(activation))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, widths[0]] -> [B, widths[-1]]
        return self.net(x)


class MaskNet(nn.Module):
    """Image [B, C, H, W] -> foreground logits [B, 1, H, W]: 3x3 convolutions with the given dilations
    (receptive field 1 + 2 * sum(dilations)), ReLU between them, no normalisation (so evaluation does not
    depend on a BatchNorm protocol) and no resampling (any H, W)."""

    def __init__(self, *, channels: int = 1, width: int = 32, dilations: list[int] = (1, 2, 4, 1)) -> None:
        super().__init__()
        widths = [channels, *[width] * (len(dilations) - 1), 1]
        layers: list[nn.Module] = []
        for i, (d, a, b) in enumerate(zip(dilations, widths, widths[1:])):
            layers.append(nn.Conv2d(a, b, 3, padding=d, dilation=d))
            if i < len(dilations) - 1:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
