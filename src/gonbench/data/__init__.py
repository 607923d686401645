"""Dataset registry: name -> loader that finds (or downloads), verifies and preprocesses the files.

Every image dataset is prepared once into uint8 tensors at the run's resolution and cached as a .pt
file (the Snakefile's ``prepare_data`` rule); training reads the cache and converts batches to [0, 1].
Generated 1-D data (``signals``: piecewise signals, latent codes) is float [N, 1, 1, n], made at n =
image_size and never resized.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from ..io import torch_save
from ..registry import Registry
from .celeba import load_celeba
from .cifar import load_cifar10
from .coil20 import load_coil20
from .digits import load_digits
from ..errors import DataError
from .files import resolve_data_root
from .mnist import load_fashion_mnist, load_mnist
from .signals import load_gaussian_codes, load_piecewise_constant, load_piecewise_linear
from .smallnorb import load_smallnorb
from .splits import ImageSplits, resize_uint8, subset

__all__ = ["DATASETS", "DataError", "DatasetInfo", "ImageSplits", "prepare", "load_prepared",
           "resolve_data_root", "subset", "list_datasets"]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    channels: int
    classes: int
    loader: Callable[..., ImageSplits]
    offline: bool  # ships with a Python package (no files needed)


DATASETS: Registry[DatasetInfo] = Registry("dataset")
for info in (
    DatasetInfo("mnist", 1, 10, load_mnist, False),
    DatasetInfo("fashion_mnist", 1, 10, load_fashion_mnist, False),
    DatasetInfo("cifar10", 3, 10, load_cifar10, False),
    DatasetInfo("celeba", 3, 1, load_celeba, False),
    DatasetInfo("smallnorb", 1, 5, load_smallnorb, False),
    DatasetInfo("coil20", 1, 20, load_coil20, False),
    DatasetInfo("digits", 1, 10, load_digits, True),
    DatasetInfo("piecewise_constant", 1, 1, load_piecewise_constant, True),  # generated: float signals [N, 1, 1, n]
    DatasetInfo("piecewise_linear", 1, 1, load_piecewise_linear, True),
    DatasetInfo("gaussian_codes", 1, 1, load_gaussian_codes, True),  # inputs of the data-free generators
):
    DATASETS.register(info.name)(info)


def list_datasets(pattern: str = "*") -> list[str]:
    return DATASETS.names(pattern)


def prepare(name: str, root: Path, image_size: int, *, download: bool = True) -> ImageSplits:
    """Load a dataset from ``root`` and resize both splits to ``image_size`` (uint8)."""
    info = DATASETS.get(name)
    kwargs = {"download": download}
    if "image_size" in inspect.signature(info.loader).parameters:
        kwargs["image_size"] = image_size  # CelebA crops while decoding, so it resizes itself
    splits = info.loader(Path(root), **kwargs)
    if splits.train.is_floating_point():  # generated signals or codes, made at this length: nothing to resize
        splits.meta.update(dataset=name, image_size=image_size)
        return splits
    splits.meta.update(dataset=name, image_size=image_size,
                       resize="bilinear, antialiased (torch.nn.functional.interpolate), kept uint8")
    return ImageSplits(resize_uint8(splits.train, image_size), splits.train_labels,
                       resize_uint8(splits.val, image_size), splits.val_labels, splits.meta)


def load_prepared(name: str, root: Path, image_size: int, cache: Path | None = None,
                  *, download: bool = True) -> ImageSplits:
    """Return the prepared splits, reading ``cache`` if present and writing it (atomically) if not."""
    if cache is not None and Path(cache).is_file():
        blob = torch.load(cache, weights_only=False)
        if blob["meta"].get("image_size") == image_size and blob["meta"].get("dataset") == name:
            return ImageSplits(**blob)
    splits = prepare(name, root, image_size, download=download)
    if cache is not None:
        torch_save(Path(cache), splits.to_dict())
    return splits
