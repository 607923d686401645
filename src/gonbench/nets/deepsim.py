"""DeePSiM's discriminator (Dosovitskiy & Brox, NIPS 2016, Sec. 3 and the supplementary architectures).

The paper's discriminator is five convolutions (kernels 7, 5, 3, 3, 3, some of them strided), global average
pooling, dropout, two fully connected layers and a two-way softmax, with leaky ReLUs (slope 0.3) throughout.
Where the generator has an input of its own (the features it inverts), the discriminator also sees that input:
it goes through a fully connected layer and is concatenated with the pooled image features before the fully
connected head, so the discriminator judges whether the image is a real image *for that input*.

Here the strides are chosen for 32x32 inputs (2, 1, 2, 1, 2: 32 -> 16 -> 8 -> 4) and the widths are arguments
so that a CPU profile can shrink them; the two-way softmax is one logit (the same classifier, a sigmoid in
place of a softmax over two). ``cond_dim`` > 0 adds the conditioning branch.
"""
from __future__ import annotations

import torch
import torch.nn as nn

LEAK = 0.3  # the paper's leaky ReLU slope
KERNELS = (7, 5, 3, 3, 3)
STRIDES = (2, 1, 2, 1, 2)


class DeePSiMDiscriminator(nn.Module):
    """images [B, nc, H, W] in [0, 1] (and a conditioning vector [B, cond_dim]) -> logits [B]."""

    def __init__(self, *, nc: int = 1, widths: tuple[int, ...] = (32, 64, 64, 128, 128), fc: int = 256,
                 cond_dim: int = 0, dropout: float = 0.5) -> None:
        super().__init__()
        if len(widths) != len(KERNELS):
            raise ValueError(f"give {len(KERNELS)} convolution widths, got {len(widths)}")
        layers: list[nn.Module] = []
        for cin, cout, k, s in zip((nc, *widths[:-1]), widths, KERNELS, STRIDES):
            layers += [nn.Conv2d(cin, cout, k, s, k // 2), nn.LeakyReLU(LEAK)]
        self.convs = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout))
        self.cond_dim = cond_dim
        self.condition = nn.Sequential(nn.Linear(cond_dim, fc), nn.LeakyReLU(LEAK)) if cond_dim else None
        self.head = nn.Sequential(nn.Linear(widths[-1] + (fc if cond_dim else 0), fc), nn.LeakyReLU(LEAK),
                                  nn.Dropout(dropout), nn.Linear(fc, 1))

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = self.convs(x)
        if self.condition is not None:
            h = torch.cat([h, self.condition(cond)], 1)
        return self.head(h).flatten()
