"""Masked convolutions of the autoregressive image models (van den Oord et al., Pixel Recurrent Neural Networks,
ICML 2016, Sec. 3.4): the image's sub-pixels are ordered row by row, pixel by pixel, and within a pixel R before
G before B, and a masked convolution sees only what comes before its output in that order.

Spatially a k_h x k_w kernel keeps the rows above its centre, and on the centre row the columns left of the
centre; the centre tap itself connects channel groups. Every feature map's channels are cut into C contiguous
groups (C = the image's channels; channel k of n belongs to group k * C // n), group g standing for what may
depend on colours up to g of the current pixel. Mask A (the first layer, which reads the image) lets output
group g see input groups < g at the centre, so no sub-pixel sees itself; mask B (every later layer) lets it see
groups <= g, so a feature may reuse its own sub-pixel's features, which already exclude that sub-pixel. With one
channel (MNIST) both reduce to the raster order: mask A drops the centre tap and mask B keeps it.
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError

MaskType = Literal["A", "B"]


def colour_groups(channels: int, colours: int) -> torch.Tensor:
    """The colour group of each of ``channels`` channels [channels]: C contiguous blocks of equal size."""
    if channels % colours:
        raise ConfigError(f"{channels} channels cannot be split into {colours} colour groups; valid: a multiple of "
                          f"{colours}")
    return torch.arange(channels) * colours // channels


def causal_mask(out_channels: int, in_channels: int, kernel: tuple[int, int], mask_type: MaskType,
                colours: int) -> torch.Tensor:
    """The 0/1 mask [out, in, k_h, k_w] of a masked convolution (centre at (k_h // 2, k_w // 2))."""
    if mask_type not in ("A", "B"):
        raise ConfigError(f"mask_type={mask_type!r} is not allowed; valid choices: A, B")
    kh, kw = kernel
    mask = torch.zeros(out_channels, in_channels, kh, kw)
    ch, cw = kh // 2, kw // 2
    mask[:, :, :ch, :] = 1.0  # rows above the centre
    mask[:, :, ch, :cw] = 1.0  # the centre row, left of the centre
    out_g, in_g = colour_groups(out_channels, colours), colour_groups(in_channels, colours)
    centre = in_g[None, :] < out_g[:, None] if mask_type == "A" else in_g[None, :] <= out_g[:, None]
    mask[:, :, ch, cw] = centre.float()
    return mask


class MaskedConv2d(nn.Conv2d):
    """A ``same``-padded 2-D convolution (odd kernel sizes) whose weight is multiplied by :func:`causal_mask`
    on every call, so masked weights get no gradient and stay out of the output whatever the optimiser does."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int | tuple[int, int], mask_type: MaskType,
                 colours: int = 1, bias: bool = True) -> None:
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        if kh % 2 == 0 or kw % 2 == 0:
            raise ConfigError(f"kernel {kh}x{kw} has no centre; valid: odd sizes")
        super().__init__(in_channels, out_channels, (kh, kw), padding=(kh // 2, kw // 2), bias=bias)
        self.mask_type = mask_type
        self.register_buffer("mask", causal_mask(out_channels, in_channels, (kh, kw), mask_type, colours),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding)
