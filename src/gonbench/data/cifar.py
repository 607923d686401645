"""CIFAR-10 from the official python pickles (URL and MD5s from torchvision's CIFAR10 class)."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from .files import verify
from .splits import ImageSplits


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    try:
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (KeyError, ValueError) as exc:
        raise DataError(f"{path} is not a CIFAR-10 batch ({exc}); download it again") from None
    return data, labels


FOLDER = "cifar10"  # under the data root


def load_cifar10(root: Path, *, download: bool = True, checksums: dict[str, str] | None = None) -> ImageSplits:
    import torchvision.datasets as tvd  # imported here: torchvision takes seconds to import

    cls = tvd.CIFAR10
    folder = root / FOLDER
    batches = folder / cls.base_folder
    md5 = dict(cls.train_list + cls.test_list) if checksums is None else checksums
    if not batches.is_dir() and download:
        from torchvision.datasets.utils import download_and_extract_archive  # heavy: only to download

        try:
            download_and_extract_archive(cls.url, str(folder), filename=cls.filename, md5=cls.tgz_md5)
        except Exception as exc:
            raise DataError(f"could not download {cls.filename} (md5 {cls.tgz_md5}) from {cls.url}: "
                            f"{type(exc).__name__}; extract it by hand into {folder}") from None
    parts = {}
    for name, _ in cls.train_list + cls.test_list:
        verify(batches / name, md5[name], source=f"{cls.url} (extract into {folder})")
        parts[name] = _read_batch(batches / name)
    train = [parts[n] for n, _ in cls.train_list]
    test = parts[cls.test_list[0][0]]
    meta = {"source": cls.url, "split": "official data_batch_1..5 / test_batch (validation)",
            "md5": {n: md5[n] for n in parts}}
    return ImageSplits(torch.from_numpy(np.concatenate([t[0] for t in train])),
                       torch.from_numpy(np.concatenate([t[1] for t in train])),
                       torch.from_numpy(test[0]), torch.from_numpy(test[1]), meta)
