"""Training losses shared by several methods (the likelihoods of the variational methods are in likelihoods.py).

These are what the optimisers minimise; the numbers the tables report are defined in metrics.py.
"""
from __future__ import annotations

import torch


def squared_error(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The GON reference code's loss: squared error summed over channels, averaged over batch and pixels."""
    return ((x_hat - x) ** 2).sum(1).mean()


def coordinate_loss(pred: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Implicit GON: squared error summed over coordinates (the integral over the image), averaged over
    batch and channels; ``pred`` and ``x`` are [B, points, C]."""
    return ((pred - x) ** 2).sum(1).mean()
