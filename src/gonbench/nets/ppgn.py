"""PPGN-h networks on 28x28 MNIST (Pakdaman, arXiv:1804.00630; code hesampakdaman/ppgn-disc).

Every convolution has stride 1 and no padding, as in the thesis code; the shape comments follow from that.
All of them work in the normalised pixel space (mean .1307, std .3081): G's output is linear there and goes
straight into E. Widths are arguments so that a CPU profile can shrink them (recorded in the run's config).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
CODE_DIM = 64  # h = relu(fc1(x)); D1 sees it as a 1x8x8 image


def normalise(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] pixels -> the normalised space every PPGN network works in."""
    return (x - MNIST_MEAN) / MNIST_STD


def denormalise(x: torch.Tensor) -> torch.Tensor:
    return x * MNIST_STD + MNIST_MEAN


class Encoder(nn.Module):
    """E: conv 1->64 k7, 64->128 k7, pool2, 128->256 k7, pool2, fc1 256->64, fc2 64->10.

    ``forward`` returns (h, logits) with h = relu(fc1(.)), the 64-d code the generator inverts (Glayer = 0).
    """

    def __init__(self, *, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 7)  # 28 -> 22
        self.conv2 = nn.Conv2d(64, 128, 7)  # 22 -> 16, pool -> 8
        self.conv3 = nn.Conv2d(128, 256, 7)  # 8 -> 2, pool -> 1
        self.fc1 = nn.Linear(256, CODE_DIM)
        self.fc2 = nn.Linear(CODE_DIM, classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.max_pool2d(F.relu(self.conv3(x)), 2)
        h = F.relu(self.fc1(x.flatten(1)))
        return h, self.fc2(h)


class Generator(nn.Module):
    """G: fc 64->1600 (64x5x5), ConvT 64->512 k5, 512->256 k5, 256->256 k7, 256->1 k10; linear output.

    Sizes 5 -> 9 -> 13 -> 19 -> 28. ``widths`` are the three hidden ConvT widths (thesis: 512, 256, 256).
    """

    def __init__(self, *, widths: tuple[int, int, int] = (512, 256, 256), stem: int = 64) -> None:
        super().__init__()
        self.stem = stem
        self.fc = nn.Linear(CODE_DIM, stem * 5 * 5)
        w1, w2, w3 = widths
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(stem, w1, 5), nn.ReLU(),
            nn.ConvTranspose2d(w1, w2, 5), nn.ReLU(),
            nn.ConvTranspose2d(w2, w3, 7), nn.ReLU(),
            nn.ConvTranspose2d(w3, 1, 10),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.deconv(F.relu(self.fc(h)).view(-1, self.stem, 5, 5))  # [B, 1, 28, 28]


class ImageCritic(nn.Module):
    """D: Conv k3 x4 (256, 256, 256, 512) with ReLU, max-pool after the last three, Linear -> 1; no BN
    (a per-sample gradient penalty is undefined under batch statistics). Sizes 28->26->24/12->10/5->3/1."""

    def __init__(self, *, widths: tuple[int, int, int, int] = (256, 256, 256, 512)) -> None:
        super().__init__()
        a, b, c, d = widths
        self.features = nn.Sequential(
            nn.Conv2d(1, a, 3), nn.ReLU(),
            nn.Conv2d(a, b, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(b, c, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c, d, 3), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.fc = nn.Linear(d, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).flatten(1)).squeeze(1)  # [B]


class CodeCritic(nn.Module):
    """D1 on h viewed as 1x8x8: Conv k2 x3 (256, 256, 512) with ReLU, max-pool after the last two,
    Linear -> 1. Sizes 8->7->6/3->2/1."""

    def __init__(self, *, widths: tuple[int, int, int] = (256, 256, 512)) -> None:
        super().__init__()
        a, b, c = widths
        self.features = nn.Sequential(
            nn.Conv2d(1, a, 2), nn.ReLU(),
            nn.Conv2d(a, b, 2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(b, c, 2), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.fc = nn.Linear(c, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(h.view(-1, 1, 8, 8)).flatten(1)).squeeze(1)  # [B]
