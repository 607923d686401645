"""Finding, downloading and verifying dataset files under the data root.

Every failure is a :class:`DataError` whose message is one line naming the file, the checksum it should
have and how to obtain it, because a researcher reading a Snakemake log needs exactly that and no more.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..errors import DataError

ENV_VAR = "GONBENCH_DATA"


def resolve_data_root(configured: str | os.PathLike | None = None) -> Path:
    """The environment variable wins over the config key ``data_root``; the default is ./data."""
    env = os.environ.get(ENV_VAR)
    return Path(env or configured or "data").expanduser()


def file_digest(path: Path, algorithm: str = "md5") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path: Path, expected: str | None, *, algorithm: str = "md5", source: str) -> None:
    """Raise DataError unless ``path`` exists and (when ``expected`` is given) has that digest."""
    if not path.is_file():
        what = f"{algorithm} {expected}" if expected else "no published checksum"
        raise DataError(
            f"missing dataset file {path} ({what}); get it from {source}, "
            f"or point {ENV_VAR} / data_root at a folder that has it"
        )
    if expected is None:
        return
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise DataError(
            f"corrupt dataset file {path}: {algorithm} {actual}, expected {expected}; "
            f"delete it and download it again from {source}"
        )


def fetch(path: Path, expected_md5: str | None, urls: list[str], *, download: bool) -> Path:
    """Return ``path`` verified, downloading it first from the first working URL if it is missing."""
    source = urls[0] if urls else "the dataset's authors"
    if not path.is_file() and download and urls:
        from torchvision.datasets.utils import download_url  # heavy (seconds to import): only to download

        errors = []
        for url in urls:
            try:
                download_url(url, str(path.parent), filename=path.name, md5=expected_md5)
                break
            except Exception as exc:  # network errors differ by platform; try the next mirror
                errors.append(f"{url}: {type(exc).__name__}")
        if not path.is_file():
            raise DataError(
                f"could not download {path.name} (md5 {expected_md5}) from {'; '.join(errors)}; "
                f"place the file at {path} by hand"
            )
    verify(path, expected_md5, source=source)
    return path
