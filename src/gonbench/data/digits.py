"""scikit-learn's embedded 8x8 digits (1,797 images, 17 grey levels): offline, for CPU smoke runs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .splits import ImageSplits, split_80_20


def load_digits(root: Path | None = None, *, download: bool = True) -> ImageSplits:
    from sklearn.datasets import load_digits as sk_digits  # heavy optional import: only the digits data uses it

    bunch = sk_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]  # 0..16 -> 0..255
    meta = {"source": "sklearn.datasets.load_digits (UCI optdigits test set, bundled with scikit-learn)"}
    return split_80_20(torch.from_numpy(images), torch.from_numpy(bunch.target.astype(np.int64)), meta)
