"""A small image classifier used to judge samples (accuracy, confidence, KID features), one per dataset, and,
at other widths and depths, the teacher and students of the Net2Net study (nets.net2net).

It is deliberately not PPGN's encoder E: samples are steered by E's softmax, so scoring them with E would
reward adversarial patterns that fool E rather than digits. Padded 3x3 VGG-style blocks (E uses 7x7
valid convolutions), trained separately with its own optimiser; like E it takes normalised pixels.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class DigitClassifier(nn.Module):
    """[conv3 x ``convs_per_block`` - pool] per entry of ``widths`` (default 32, 64 channels, two convs per
    block), flatten, ``hidden_layers`` fc layers of ``feature_dim`` units (the last one's output is the KID
    features), fc -> classes. ``image_size`` is the input it is trained at (28 for MNIST: 28 -> 14 -> 7).
    Every layer is followed by a ReLU, so Net2Net can widen any hidden layer and insert identity layers."""

    def __init__(self, *, channels: int = 1, image_size: int = 28, classes: int = 10, feature_dim: int = 128,
                 widths: tuple[int, ...] = (32, 64), convs_per_block: int = 2, hidden_layers: int = 1) -> None:
        super().__init__()
        self.channels, self.image_size = channels, image_size
        self.widths, self.convs_per_block = tuple(widths), convs_per_block
        self.feature_dim, self.hidden_layers, self.classes = feature_dim, hidden_layers, classes

        def block(cin: int, cout: int) -> list[nn.Module]:
            layers: list[nn.Module] = []
            for k in range(convs_per_block):
                layers += [nn.Conv2d(cin if k == 0 else cout, cout, 3, padding=1), nn.ReLU()]
            return layers + [nn.MaxPool2d(2)]

        convs = [m for cin, cout in zip((channels, *self.widths[:-1]), self.widths) for m in block(cin, cout)]
        fc: list[nn.Module] = []
        for k in range(hidden_layers):
            fc += [nn.Linear(self.widths[-1] * (image_size // 2 ** len(self.widths)) ** 2 if k == 0 else feature_dim,
                             feature_dim), nn.ReLU()]
        self.body = nn.Sequential(*convs, nn.Flatten(), *fc)
        self.head = nn.Linear(feature_dim, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def conv_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last convolution block's maps [B, widths[-1], size/2^(n-1), size/2^(n-1)] (after its ReLU, before its
        pool): the mid-level features a perceptual loss compares (DeePSiM's comparator)."""
        last_pool = len(self.widths) * (2 * self.convs_per_block + 1) - 1
        return self.body[:last_pool](x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
