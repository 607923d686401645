"""How in-memory datasets are cut into batches: shuffled training epochs and ordered, padded passes."""
from __future__ import annotations

from typing import Iterator

import torch

from .seeding import data_order_generator


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [0, 1]; float data (images already in [0, 1], generated signals, latent codes)
    is returned as it is."""
    if images.is_floating_point():
        return images
    return images.float().div_(255.0)


def epoch_batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int, *, seed: int, epoch: int,
                  shuffle: bool = True, drop_last: bool = True) -> Iterator[dict[str, torch.Tensor]]:
    """Batches of one epoch. The order depends only on (seed, epoch), so a resumed run sees the same data."""
    n = len(images)
    if shuffle:
        order = torch.randperm(n, generator=data_order_generator(seed, epoch)).to(images.device)
    else:
        order = torch.arange(n, device=images.device)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield {"x": to_unit(images[idx]), "y": labels[idx], "index": idx}


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Optimiser steps of one epoch with drop_last."""
    return n // batch_size


def padded_batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int
                   ) -> Iterator[tuple[dict[str, torch.Tensor], int]]:
    """Every image once, in order, in batches of exactly ``batch_size``; the last is padded by wrapping
    around to the first images. Returns (batch, number of real images): BatchNorm in train mode and the
    GON latent (a batch mean's gradient) both depend on the batch size, so evaluation keeps it fixed."""
    n = len(images)
    for start in range(0, n, batch_size):
        idx = torch.arange(start, start + batch_size, device=images.device) % n
        yield {"x": to_unit(images[idx]), "y": labels[idx], "index": idx}, min(batch_size, n - start)
