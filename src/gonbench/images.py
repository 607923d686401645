"""Image grids as PNG without importing torchvision (its import costs seconds per evaluation job)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .io import save_with


def make_grid(images: torch.Tensor, nrow: int, padding: int = 1, pad_value: float = 1.0) -> torch.Tensor:
    """[N, C, H, W] in [0, 1] -> one [C, rows*(H+p)+p, nrow*(W+p)+p] image, row-major like torchvision's."""
    n, c, h, w = images.shape
    rows = math.ceil(n / nrow)
    grid = torch.full((c, rows * (h + padding) + padding, nrow * (w + padding) + padding), pad_value)
    for i, img in enumerate(images.detach().float().clamp(0, 1).cpu()):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top:top + h, left:left + w] = img
    return grid


def save_grid(path: Path, images: torch.Tensor, nrow: int) -> None:
    grid = make_grid(images, nrow)
    array = (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    image = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    save_with(path, lambda tmp: image.save(tmp, format="png"))


def class_major_grid(samples: torch.Tensor, classes: int, columns: int) -> torch.Tensor:
    """The first ``columns`` samples of each class, class-major (``samples`` holds equally many per class,
    grouped by class): drawn with ``nrow=columns`` this is one class per row."""
    return samples.view(classes, -1, *samples.shape[1:])[:, :columns].flatten(0, 1)
