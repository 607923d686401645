"""MNIST and Fashion-MNIST from their official IDX files (URLs and MD5s from torchvision's classes)."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from .files import fetch
from .splits import ImageSplits

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (optionally gzipped): 2 zero bytes, dtype code, ndim, big-endian dims, data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number); download it again")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)
    data = np.frombuffer(raw, dtype=_IDX_DTYPES[raw[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DataError(f"{path} holds {data.size} values, its header promises {tuple(dims)}; download it again")
    return data.reshape(tuple(int(d) for d in dims))


def _load_idx_family(folder: Path, cls: type, *, download: bool, checksums: dict[str, str] | None) -> ImageSplits:
    md5 = dict(cls.resources) if checksums is None else checksums
    mirrors = list(cls.mirrors)
    arrays = {}
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        path = fetch(folder / name, md5[name], [m + name for m in mirrors], download=download)
        arrays[name] = read_idx(path)
    images = lambda k: torch.from_numpy(arrays[k].copy()).unsqueeze(1)  # noqa: E731  [N,1,28,28]
    labels = lambda k: torch.from_numpy(arrays[k].astype(np.int64))  # noqa: E731
    meta = {"source": mirrors[0], "split": "official train / t10k (t10k is the validation split)",
            "md5": {k: md5[k] for k in arrays}}
    return ImageSplits(images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
                       images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"), meta)


MNIST_FOLDER, FASHION_MNIST_FOLDER = "mnist", "fashion-mnist"  # under the data root


def load_mnist(root: Path, *, download: bool = True, checksums: dict[str, str] | None = None) -> ImageSplits:
    import torchvision.datasets as tvd  # imported here: torchvision takes seconds to import

    return _load_idx_family(root / MNIST_FOLDER, tvd.MNIST, download=download, checksums=checksums)


def load_fashion_mnist(root: Path, *, download: bool = True, checksums: dict[str, str] | None = None) -> ImageSplits:
    import torchvision.datasets as tvd  # imported here: torchvision takes seconds to import

    return _load_idx_family(root / FASHION_MNIST_FOLDER, tvd.FashionMNIST, download=download, checksums=checksums)
