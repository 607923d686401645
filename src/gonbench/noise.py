"""Gaussian corruption of inputs (the denoising and segmentation experiments of the piecewise paper).

While training, noise is fresh at every step (from the run's seeded RNG). At validation every example gets
the same noise in every run and for every method, drawn from a generator seeded by the example's index, so
methods are compared on identical noisy inputs.
"""
from __future__ import annotations

import torch

VALIDATION_SEED = 1_000_000  # offset of the per-example seeds of validation noise


def gaussian_noise(x: torch.Tensor, index: torch.Tensor, std: float, *, fresh: bool) -> torch.Tensor:
    """Noise of ``x``'s shape with standard deviation ``std``; fresh, or fixed by each example's index."""
    if fresh:
        return std * torch.randn_like(x)
    rows = [torch.randn(x.shape[1:], generator=torch.Generator().manual_seed(VALIDATION_SEED + int(i)),
                        dtype=x.dtype) for i in index]
    return std * torch.stack(rows).to(x.device)
