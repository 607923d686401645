"""A small image classifier used only to judge samples (accuracy, confidence, KID features), one per dataset.

It is deliberately not PPGN's encoder E: samples are steered by E's softmax, so scoring them with E would
reward adversarial patterns that fool E rather than digits. Padded 3x3 VGG-style blocks (E uses 7x7
valid convolutions), trained separately with its own optimiser; like E it takes normalised pixels.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class DigitClassifier(nn.Module):
    """[conv3-conv3-pool] x2 (``widths``: 32, 64 channels), fc (64 x size/4 x size/4) -> ``feature_dim`` (the KID
    features), fc -> classes. ``image_size`` is the input it is trained at (28 for MNIST: 28 -> 14 -> 7)."""

    def __init__(self, *, channels: int = 1, image_size: int = 28, classes: int = 10, feature_dim: int = 128,
                 widths: tuple[int, int] = (32, 64)) -> None:
        super().__init__()
        self.channels, self.image_size = channels, image_size

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(),
                    nn.MaxPool2d(2)]

        w1, w2 = widths
        self.body = nn.Sequential(*block(channels, w1), *block(w1, w2), nn.Flatten(),
                                  nn.Linear(w2 * (image_size // 4) ** 2, feature_dim), nn.ReLU())
        self.head = nn.Linear(feature_dim, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def conv_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last convolution block's maps [B, widths[1], size/2, size/2] (after its ReLU, before the pool): the
        mid-level features a perceptual loss compares (DeePSiM's comparator)."""
        return self.body[:9](x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
