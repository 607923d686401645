"""The in-memory form every image dataset is prepared into, and the shared preprocessing."""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

# Seed of the fixed permutations that define 80/20 splits and quick-profile subsets. It is a property of
# the dataset, not of a run, so every method and seed sees exactly the same images.
SPLIT_SEED = 0


@dataclass
class ImageSplits:
    """uint8 images [N, C, H, W] with int64 labels; ``meta`` records provenance and preprocessing."""

    train: torch.Tensor
    train_labels: torch.Tensor
    val: torch.Tensor
    val_labels: torch.Tensor
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(train=self.train, train_labels=self.train_labels, val=self.val,
                    val_labels=self.val_labels, meta=self.meta)


def fixed_permutation(n: int, seed: int = SPLIT_SEED) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


def split_80_20(images: torch.Tensor, labels: torch.Tensor, meta: dict) -> ImageSplits:
    """Deterministic 80/20 train/validation split by a fixed permutation (recorded in ``meta``)."""
    perm = fixed_permutation(len(images))
    n_train = int(round(0.8 * len(images)))
    tr, va = perm[:n_train], perm[n_train:]
    meta = dict(meta, split=f"80/20 by torch.randperm({len(images)}, seed={SPLIT_SEED})")
    return ImageSplits(images[tr], labels[tr], images[va], labels[va], meta)


def resize_uint8(images: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear, antialiased resize of uint8 [N, C, H, W] images, kept as uint8 like PIL's Resize."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    out = []
    for chunk in images.split(4096):
        x = F.interpolate(chunk.float(), size=(size, size), mode="bilinear", antialias=True,
                          align_corners=False)
        out.append(x.round().clamp_(0, 255).to(torch.uint8))
    return torch.cat(out)


def subset(images: torch.Tensor, labels: torch.Tensor, n: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` images of a fixed permutation (all when ``n`` is None or too large)."""
    if n is None or n >= len(images):
        return images, labels
    idx = fixed_permutation(len(images))[:n].sort().values
    return images[idx], labels[idx]
