"""COIL-20 processed images (128x128 grey PNGs), verified file by file against a shipped SHA-256 list."""
from __future__ import annotations

import re
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import DataError
from .files import fetch, verify
from .splits import ImageSplits, split_80_20

URL = "https://www.cs.columbia.edu/CAVE/databases/SLAM_coil-20_coil-100/coil-20/coil-20-proc.zip"
_NAME = re.compile(r"obj(\d+)__(\d+)\.png")


def official_sha256() -> dict[str, str]:
    text = resources.files("gonbench.data").joinpath("checksums/coil20-proc.sha256").read_text()
    return {name: digest for digest, name in (line.split() for line in text.splitlines() if line.strip())}


FOLDER = "coil-20"  # under the data root


def load_coil20(root: Path, *, download: bool = True, checksums: dict[str, str] | None = None) -> ImageSplits:
    folder = root / FOLDER / "coil-20-proc"
    sha = official_sha256() if checksums is None else checksums
    if not folder.is_dir() and download:
        archive = fetch(root / FOLDER / "coil-20-proc.zip", None, [URL], download=True)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(root / FOLDER)
    images, labels = [], []
    for name in sorted(sha, key=lambda n: tuple(int(g) for g in _NAME.fullmatch(n).groups())):
        path = folder / name
        verify(path, sha[name], algorithm="sha256", source=URL)
        with Image.open(path) as im:
            images.append(np.asarray(im.convert("L"), dtype=np.uint8))
        labels.append(int(_NAME.fullmatch(name).group(1)) - 1)
    if not images:
        raise DataError(f"no COIL-20 images listed for {folder}; get coil-20-proc.zip from {URL}")
    meta = {"source": URL, "files": len(images), "sha256_manifest": "gonbench/data/checksums/coil20-proc.sha256"}
    return split_80_20(torch.from_numpy(np.stack(images)).unsqueeze(1), torch.tensor(labels), meta)
