"""Training losses shared by several methods (the likelihoods of the variational methods are in likelihoods.py).

These are what the optimisers minimise; the numbers the tables report are defined in metrics.py.
"""
from __future__ import annotations

import torch


def squared_error(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The GON reference code's loss: squared error summed over channels, averaged over batch and pixels."""
    return ((x_hat - x) ** 2).sum(1).mean()


def seed_squared_error(x_hat: torch.Tensor, x: torch.Tensor, seeds: int) -> torch.Tensor:
    """``squared_error`` of each of ``seeds`` networks stacked on the channel axis ([B, S*C, H, W]) -> [S];
    with one seed it is exactly ``squared_error`` (the same reduction)."""
    b, sc, h, w = x.shape
    return ((x_hat - x) ** 2).view(b, seeds, sc // seeds, h, w).sum(2).mean((0, 2, 3))


def squared_error_terms(x_hat: torch.Tensor, x: torch.Tensor, seeds: int) -> dict[str, torch.Tensor]:
    """The GON paper's training loss (``seed_squared_error``: per pixel, channels summed) and the same error
    per image (x H*W, metrics.recon_sse's unit), which the loop logs as ``train_recon_sse`` beside the
    validation's ``val_recon_sse``."""
    loss = seed_squared_error(x_hat, x, seeds)
    return {"loss": loss, "recon_sse": loss.detach() * (x.shape[-2] * x.shape[-1])}


def seed_sum(loss_fn, seeds: int):
    """The sum over stacked seeds of a per-seed loss: the scalar whose gradient is each seed's own (the
    seeds' parameters and latents are disjoint)."""
    return lambda x_hat, x: loss_fn(x_hat, x, seeds).sum()


def coordinate_loss(pred: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Implicit GON: squared error summed over coordinates (the integral over the image), averaged over
    batch and channels; ``pred`` and ``x`` are [B, points, C]."""
    return ((pred - x) ** 2).sum(1).mean()
