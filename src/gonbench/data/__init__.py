"""Dataset registry: name -> loader that finds (or downloads), verifies and preprocesses the files.

Every image dataset is prepared once into uint8 tensors at the run's resolution and cached as a .pt
file (the Snakefile's ``prepare_data`` rule); training reads the cache and converts batches to [0, 1].
Generated 1-D data (``signals``: piecewise signals, latent codes) is float [N, 1, 1, n], made at n =
image_size and never resized.
"""
from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import CorruptFileError, DataError
from ..io import load_checkpoint, torch_save, write_text
from ..paths import checksum_path
from ..registry import Registry
from . import celeba, cifar, coil20, smallnorb
from .celeba import load_celeba
from .cifar import load_cifar10
from .coil20 import load_coil20
from .digits import load_digits
from .fibres import load_coil20_fibres
from .files import file_digest, resolve_data_root
from .mnist import FASHION_MNIST_FOLDER, MNIST_FOLDER, load_fashion_mnist, load_mnist
from .signals import TRAIN, VAL, load_gaussian_codes, load_piecewise_constant, load_piecewise_linear
from .smallnorb import load_smallnorb
from .splits import ImageSplits, resize_uint8, subset

__all__ = ["DATASETS", "DataError", "DatasetInfo", "ImageSplits", "prepare", "load_prepared",
           "resolve_data_root", "subset", "list_datasets", "dataset_title", "availability"]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str  # how tables and figures name it
    channels: int
    classes: int
    loader: Callable[..., ImageSplits]
    offline: bool  # ships with a Python package (no files needed)
    sizes: tuple[int, int]  # (training, validation) images: what `gonbench plan` counts steps from
    signal: bool = False  # generated 1-D data [N, 1, 1, n] rather than square images
    folder: str | None = None  # where its files go under the data root (None: bundled or generated)


DATASETS: Registry[DatasetInfo] = Registry("dataset")
for info in (
    DatasetInfo("mnist", "MNIST", 1, 10, load_mnist, False, (60000, 10000), folder=MNIST_FOLDER),
    DatasetInfo("fashion_mnist", "Fashion-MNIST", 1, 10, load_fashion_mnist, False, (60000, 10000),
                folder=FASHION_MNIST_FOLDER),
    DatasetInfo("cifar10", "CIFAR-10", 3, 10, load_cifar10, False, (50000, 10000), folder=cifar.FOLDER),
    DatasetInfo("celeba", "CelebA", 3, 1, load_celeba, False, (162770, 19867), folder=celeba.FOLDER),
    DatasetInfo("smallnorb", "SmallNORB", 1, 5, load_smallnorb, False, (24300, 24300), folder=smallnorb.FOLDER),
    DatasetInfo("coil20", "COIL-20", 1, 20, load_coil20, False, (1152, 288), folder=coil20.FOLDER),
    # super-resolution pairs: (LR linear, LR cubic, HR) on the channel axis, validation objects held out (fibres.py)
    DatasetInfo("coil20_fibres", "COIL-20, simulated fibre-bundle LR", 3, 20, load_coil20_fibres, False, (1152, 288),
                folder=coil20.FOLDER),
    DatasetInfo("digits", "digits (sklearn)", 1, 10, load_digits, True, (1438, 359)),
    # generated: float signals [N, 1, 1, n]
    DatasetInfo("piecewise_constant", "piecewise constant", 1, 1, load_piecewise_constant, True, (TRAIN, VAL), True),
    DatasetInfo("piecewise_linear", "piecewise linear", 1, 1, load_piecewise_linear, True, (TRAIN, VAL), True),
    DatasetInfo("gaussian_codes", "codes N(0, I)", 1, 1, load_gaussian_codes, True, (TRAIN, VAL), True),  # data-free generators' inputs
):
    DATASETS.register(info.name)(info)


def availability(name: str, root: Path) -> str:
    """Where a dataset comes from on this machine: bundled/generated, on disk under ``root``, or a download."""
    info = DATASETS.get(name)
    if info.folder is None:
        return "generated" if info.signal else "bundled"
    folder = Path(root) / info.folder
    return f"on disk ({folder})" if folder.is_dir() and any(folder.iterdir()) else "not on disk: downloaded on first use"


def dataset_title(name: str) -> str:
    return DATASETS.get(name).title if name in DATASETS else name


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
    """Return the prepared splits, reading ``cache`` if it is intact and writing it (atomically, with its
    sha256 beside it) if not. A cache whose digest does not match (truncated, corrupt, or written by an
    older version without a digest) is rebuilt, with a line on stderr saying so."""
    if cache is not None and Path(cache).is_file():
        splits = _read_cache(Path(cache), name, image_size)
        if splits is not None:
            return splits
    splits = prepare(name, root, image_size, download=download)
    if cache is not None:
        torch_save(Path(cache), splits.to_dict())
        write_text(checksum_path(cache), file_digest(Path(cache), "sha256") + "\n")
    return splits


def _read_cache(cache: Path, name: str, image_size: int) -> ImageSplits | None:
    digest = checksum_path(cache)
    expected = digest.read_text().strip() if digest.is_file() else None
    if expected != file_digest(cache, "sha256"):
        why = "has no checksum beside it" if expected is None else "does not match its checksum"
        print(f"gonbench: the prepared cache {cache} {why}; rebuilding it", file=sys.stderr)
        return None
    try:
        blob = load_checkpoint(cache, what="prepared dataset cache",
                               remedy="it is rebuilt by `gonbench prepare` once deleted")
    except CorruptFileError as exc:
        print(f"gonbench: {exc}; rebuilding it", file=sys.stderr)
        return None
    if blob["meta"].get("image_size") != image_size or blob["meta"].get("dataset") != name:
        return None
    return ImageSplits(**blob)
