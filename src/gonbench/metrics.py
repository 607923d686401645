"""Metric definitions, each a pure function of tensors (unit-tested against hand-computed values).

recon_sse: squared error summed over C x H x W per image, then averaged over images (GON paper, Table 1).
elbo_bpd: negative ELBO in nats per image divided by (D ln 2), D = C x H x W (GON paper, Table 2).
psnr / ssim: torchmetrics with data_range = 1.
"""
from __future__ import annotations

import math

import torch


def recon_sse(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-image summed squared error [B]."""
    return ((x_hat - x) ** 2).flatten(1).sum(1)


def bits_per_dim(nll_nats: torch.Tensor, dims: int) -> torch.Tensor:
    """Per-image negative log-likelihood (nats) -> bits per dimension."""
    return nll_nats / (dims * math.log(2.0))


def psnr(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    from torchmetrics.functional.image import peak_signal_noise_ratio

    return float(peak_signal_noise_ratio(x_hat.clamp(0, 1), x, data_range=1.0))


def ssim(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    from torchmetrics.functional.image import structural_similarity_index_measure

    return float(structural_similarity_index_measure(x_hat.clamp(0, 1), x, data_range=1.0))
