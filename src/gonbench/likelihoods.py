"""Per-image negative log-likelihoods of images in [0, 1] under a decoder's output (GON paper, Table 2).

bernoulli: the reference code's binary cross-entropy against [0, 1] pixel intensities. It is not a
    normalised likelihood of 8-bit images, so its bits/dim is not comparable with the literature.
discretized_logistic: each 8-bit pixel value k/255 gets the mass of a logistic (mean = decoder output,
    one learned log-scale per channel) over the bin [k/255 - 1/510, k/255 + 1/510], the edge bins taking
    the tails. A proper discrete likelihood, so bits/dim is comparable across datasets and with other work.
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

Likelihood = Literal["discretized_logistic", "bernoulli"]
HALF_BIN = 1.0 / 510.0


def bernoulli_nll(mean: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Summed binary cross-entropy per image [B] (nats)."""
    return F.binary_cross_entropy(mean.clamp(1e-7, 1 - 1e-7), x, reduction="none").flatten(1).sum(1)


def discretized_logistic_nll(mean: torch.Tensor, log_scale: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Summed -log P(x) per image [B] (nats) for 8-bit images in [0, 1]; ``log_scale`` broadcasts to x."""
    x = (x * 255).round() / 255  # the likelihood is over the 256 levels
    inv_s = torch.exp(-log_scale)
    upper = torch.sigmoid((x + HALF_BIN - mean) * inv_s)
    lower = torch.sigmoid((x - HALF_BIN - mean) * inv_s)
    upper = torch.where(x > 1 - HALF_BIN, torch.ones_like(upper), upper)  # top bin takes the right tail
    lower = torch.where(x < HALF_BIN, torch.zeros_like(lower), lower)  # bottom bin takes the left tail
    return -torch.log((upper - lower).clamp_min(1e-12)).flatten(1).sum(1)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per row [B], in closed form."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)
