"""CelebA aligned crops, split by the official evaluation partition (file list from torchvision's class).

Images are center-cropped to 140x140 before the resize, the common choice for 32/64 px CelebA models;
the crop is recorded in the prepared data's metadata.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..errors import DataError
from .files import verify
from .splits import ImageSplits

CENTER_CROP = 140
SOURCE = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (Google Drive 'Align&Cropped Images')"


def _md5s() -> dict[str, str]:
    import torchvision.datasets as tvd  # imported here: torchvision takes seconds to import

    return {filename: md5 for _, md5, filename in tvd.CelebA.file_list}


def _read_image(path: Path, size: int) -> np.ndarray:
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        left, top = (w - CENTER_CROP) // 2, (h - CENTER_CROP) // 2
        im = im.crop((left, top, left + CENTER_CROP, top + CENTER_CROP))
        im = im.resize((size, size), Image.BILINEAR)
        return np.asarray(im, dtype=np.uint8).transpose(2, 0, 1)


FOLDER = "celeba"  # under the data root


def load_celeba(root: Path, *, download: bool = True, checksums: dict[str, str] | None = None,
                image_size: int = 32) -> ImageSplits:
    folder = root / FOLDER
    md5 = _md5s() if checksums is None else checksums
    images_dir = folder / "img_align_celeba"
    if not images_dir.is_dir() and download and not (folder / "img_align_celeba.zip").is_file():
        try:
            import torchvision.datasets as tvd  # heavy optional import, see _md5s

            tvd.CelebA(str(root), split="all", download=True)
        except Exception as exc:
            raise DataError(f"could not download CelebA ({type(exc).__name__}); put img_align_celeba.zip "
                            f"(md5 {md5.get('img_align_celeba.zip')}) and list_eval_partition.txt in {folder}, "
                            f"from {SOURCE}") from None
    if not images_dir.is_dir():
        archive = folder / "img_align_celeba.zip"
        verify(archive, md5.get("img_align_celeba.zip"), source=SOURCE)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(folder)
    partition = folder / "list_eval_partition.txt"
    verify(partition, md5.get("list_eval_partition.txt"), source=SOURCE)
    rows = [line.split() for line in partition.read_text().splitlines() if line.strip()]
    split = {"train": [], "val": []}
    for filename, part in rows:
        if part in ("0", "1"):  # 0 = train, 1 = valid; 2 (test) is held out as the paper does not use it
            split["train" if part == "0" else "val"].append(filename)
    out = {}
    for key, names in split.items():
        arrays = []
        for name in names:
            path = images_dir / name
            if not path.is_file():
                raise DataError(f"missing CelebA image {path}; extract img_align_celeba.zip "
                                f"(md5 {md5.get('img_align_celeba.zip')}) from {SOURCE} into {folder}")
            arrays.append(_read_image(path, image_size))
        out[key] = torch.from_numpy(np.stack(arrays)) if arrays else torch.zeros(0, 3, image_size, image_size, dtype=torch.uint8)
    meta = {"source": SOURCE, "split": "list_eval_partition.txt: 0 -> train, 1 -> validation",
            "center_crop": CENTER_CROP, "md5": {"list_eval_partition.txt": md5.get("list_eval_partition.txt")}}
    zeros = lambda n: torch.zeros(n, dtype=torch.int64)  # noqa: E731  CelebA has no class labels
    return ImageSplits(out["train"], zeros(len(out["train"])), out["val"], zeros(len(out["val"])), meta)
