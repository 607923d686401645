"""SmallNORB in the official "binary matrix" format (.mat, optionally .gz), parsed here.

Header (little-endian int32): magic, ndim, then max(3, ndim) dimension sizes; the magic number names
the element type. No checksums are published for these files, so the loader verifies the header
(magic, rank and shape) and records each file's SHA-256 in the prepared data's metadata.
Only the first camera of each stereo pair is used.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from .files import fetch, file_digest
from .splits import ImageSplits

URL = "https://cs.nyu.edu/~ylclab/data/norb-v1.0-small/"
MAGIC_DTYPES = {0x1E3D4C51: "<f4", 0x1E3D4C53: "<f8", 0x1E3D4C54: "<i4", 0x1E3D4C55: "u1", 0x1E3D4C56: "<i2"}
FILES = {
    "train": "smallnorb-5x46789x9x18x6x2x96x96-training",
    "val": "smallnorb-5x01235x9x18x6x2x96x96-testing",
}


def read_norb_matrix(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    header = np.frombuffer(raw, dtype="<i4", count=2) if len(raw) >= 8 else np.zeros(2, dtype="<i4")
    magic, ndim = int(header[0]), int(header[1])
    if magic not in MAGIC_DTYPES or not 1 <= ndim <= 8:
        raise DataError(f"{path} is not a SmallNORB binary matrix (magic {magic:#x}); download it again from {URL}")
    dims = np.frombuffer(raw, dtype="<i4", count=max(3, ndim), offset=8)[:ndim]
    data = np.frombuffer(raw, dtype=MAGIC_DTYPES[magic], offset=8 + 4 * max(3, ndim))
    if data.size != int(np.prod(dims)):
        raise DataError(f"{path} holds {data.size} values, its header promises {tuple(dims)}; download it again from {URL}")
    return data.reshape(tuple(int(d) for d in dims))


def _locate(folder: Path, stem: str, *, download: bool) -> Path:
    plain = folder / f"{stem}.mat"
    if plain.is_file():
        return plain
    return fetch(folder / f"{stem}.mat.gz", None, [URL + f"{stem}.mat.gz"], download=download)


FOLDER = "smallnorb"  # under the data root


def load_smallnorb(root: Path, *, download: bool = True) -> ImageSplits:
    folder = root / FOLDER
    out, sha = {}, {}
    for split, prefix in FILES.items():
        dat_path = _locate(folder, f"{prefix}-dat", download=download)
        cat_path = _locate(folder, f"{prefix}-cat", download=download)
        dat, cat = read_norb_matrix(dat_path), read_norb_matrix(cat_path)
        if dat.ndim != 4 or dat.shape[1] != 2 or cat.shape[0] != dat.shape[0]:
            raise DataError(f"{dat_path} has shape {dat.shape}, expected [N, 2, 96, 96] matching {cat_path}")
        out[split] = (torch.from_numpy(dat[:, :1].copy()), torch.from_numpy(cat.astype(np.int64)))
        sha[dat_path.name] = file_digest(dat_path, "sha256")
        sha[cat_path.name] = file_digest(cat_path, "sha256")
    meta = {"source": URL, "split": "official training / testing (validation)", "camera": 0, "sha256": sha}
    return ImageSplits(*out["train"], *out["val"], meta)
