"""Super-resolution networks of Ravì et al. (2018): FSRCNN, EDSR and SRGAN's discriminator, at scale 1.

The simulated LR images (data/fibres.py) already lie on the HR pixel grid (the fibre signals are interpolated
back), so every network maps an image to an image of the same size, and the upsampling layers of the originals
have nothing to do:
- FSRCNN (Dong, Loy & Tang, ECCV 2016, Sec. 3.2): feature extraction conv 5x5 (d filters), shrinking 1x1 (s),
  m mapping convs 3x3 (s), expanding 1x1 (d), PReLU after each; its last layer, a 9x9 deconvolution of stride
  = the scale factor, is at scale 1 a 9x9 convolution of stride 1 (a stride-1 deconvolution is a convolution).
- EDSR (Lim et al., CVPR Workshops 2017, Sec. 3): a head conv, residual blocks conv-ReLU-conv without
  BatchNorm scaled by ``res_scale``, a conv closing the body with a skip from the head, and a tail conv (its
  sub-pixel upsampler is dropped at scale 1). The RGB mean shift is dropped: the images are grey and the
  methods add the input back (``residual``), which centres what the net learns.
- SRGAN's discriminator (Ledig et al., CVPR 2017, Fig. 4): 3x3 convs with LeakyReLU 0.2, each width once at
  stride 1 and once at stride 2, then dense 2 x width, LeakyReLU, dense to one logit. BatchNorm is left out
  (the images a method's evaluation scores never pass through it) and a global average pool before the dense
  layers makes it independent of the image size. SRGAN's generator here is the EDSR above (the issue's
  "EDSR-like generator"; SRResNet's blocks differ from EDSR's only by their BatchNorm).
"""
from __future__ import annotations

import torch
import torch.nn as nn


class FSRCNN(nn.Module):
    def __init__(self, channels: int = 1, d: int = 56, s: int = 12, m: int = 4) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, d, 5, padding=2), nn.PReLU(d),
                                   nn.Conv2d(d, s, 1), nn.PReLU(s)]
        for _ in range(m):
            layers += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
        layers += [nn.Conv2d(s, d, 1), nn.PReLU(d), nn.Conv2d(d, channels, 9, padding=4)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ResBlock(nn.Module):
    """EDSR's residual block: x + res_scale * conv(relu(conv(x))), no BatchNorm."""

    def __init__(self, width: int, res_scale: float) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True),
                                  nn.Conv2d(width, width, 3, padding=1))
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res_scale * self.body(x)


class EDSR(nn.Module):
    def __init__(self, channels: int = 1, width: int = 64, blocks: int = 16, res_scale: float = 1.0) -> None:
        super().__init__()
        self.head = nn.Conv2d(channels, width, 3, padding=1)
        self.body = nn.Sequential(*[ResBlock(width, res_scale) for _ in range(blocks)],
                                  nn.Conv2d(width, width, 3, padding=1))
        self.tail = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(x)
        return self.tail(h + self.body(h))


class SRDiscriminator(nn.Module):
    def __init__(self, channels: int = 1, widths: tuple[int, ...] = (64, 128, 256, 512)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = channels
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.LeakyReLU(0.2, inplace=True),
                       nn.Conv2d(w, w, 3, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            c = w
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(c, 2 * c), nn.LeakyReLU(0.2, inplace=True), nn.Linear(2 * c, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One logit per image [B]."""
        return self.head(self.features(x)).squeeze(1)
