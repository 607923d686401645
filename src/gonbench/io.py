"""Reading and writing the suite's files: atomic, durable writes, and reads that fail with one line.

A write goes to a temporary file in the target's folder, is flushed to disk (fsync of the file, then of the
folder after the rename), and replaces the target in one step: a reader, or a run killed at any moment,
sees the old file or the new one, never half of one. Temporary files a killed writer leaves behind are
named ``.<name>.<random>.tmp`` and removed by ``remove_stale_temporaries``.

Every file read back that could come from someone else (checkpoints, caches, pretrained networks) loads with
``torch.load(weights_only=True)``: tensors and plain containers only, so opening a shared run directory can
never execute code.
"""
from __future__ import annotations

import errno
import json
import os
import pickle
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

import torch

from .errors import CorruptFileError, StorageError

# mkstemp creates files readable by their owner only; written files get the usual umask-filtered mode.
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK
TMP_SUFFIX = ".tmp"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _storage_error(path: Path, exc: OSError) -> StorageError:
    if exc.errno == errno.ENOSPC:
        return StorageError(f"disk full while writing {path}; free space and rerun (the previous version of the "
                            f"file, if any, is intact)")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StorageError(f"cannot write {path}: {exc.strerror}; choose a writable folder")
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return StorageError(f"cannot write {path}: a file is in the way of a folder on its path ({exc.strerror}); "
                            f"remove it or choose another folder")
    return StorageError(f"cannot write {path}: {exc.strerror or exc}")


def _atomic(path: Path, write: Callable[[str], None], keep_previous: Path | None = None) -> None:
    """Write through a temporary file; ``keep_previous`` receives the old file only once the new one is on disk."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise _storage_error(path, exc) from None
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, FILE_MODE)
        if keep_previous is not None and path.exists():
            _link_previous(path, Path(keep_previous))
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _storage_error(path, exc) from None
        if isinstance(exc, RuntimeError) and "unexpected pos" in str(exc):  # torch.save's zip writer on ENOSPC
            raise StorageError(f"disk full while writing {path}; free space and rerun (the previous version of "
                               f"the file, if any, is intact)") from None
        raise


def _link_previous(path: Path, previous: Path) -> None:
    """Make ``previous`` a second name of ``path``'s current file (a copy where hard links are not supported),
    so that ``path`` exists at every moment of a rotation."""
    fd, staged = tempfile.mkstemp(prefix=f".{previous.name}.", suffix=TMP_SUFFIX, dir=previous.parent)
    os.close(fd)
    os.unlink(staged)
    try:
        os.link(path, staged)
    except OSError:
        shutil.copy2(path, staged)
    os.replace(staged, previous)


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files of writes that were killed before their rename (they are never read)."""
    folder = Path(folder)
    stale = sorted(folder.glob(f".*{TMP_SUFFIX}")) if folder.is_dir() else []
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def write_json(path: Path, obj: Any) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True, default=str)
            f.write("\n")

    _atomic(path, write)


def write_text(path: Path, text: str) -> None:
    def write(tmp: str) -> None:
        Path(tmp).write_text(text)

    _atomic(path, write)


def torch_save(path: Path, obj: Any, keep_previous: Path | None = None) -> None:
    _atomic(path, lambda tmp: torch.save(obj, tmp), keep_previous)


def save_with(path: Path, saver: Callable[[str], None]) -> None:
    """Atomic write through any ``saver(tmp_path)`` (matplotlib, PIL, pandas)."""
    _atomic(path, saver)


def read_json(path: Path, remedy: str = "delete it and rerun the step that writes it") -> Any:
    """JSON from a file; a truncated or corrupt file is one line naming it and what to do."""
    path = Path(path)
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise CorruptFileError(f"{path} is corrupt (invalid JSON at line {exc.lineno}, column {exc.colno}); "
                               f"{remedy}") from None
    except UnicodeDecodeError:
        raise CorruptFileError(f"{path} is corrupt (not text); {remedy}") from None


def read_jsonl(path: Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise CorruptFileError(f"{path} is corrupt at line {number}; it is rewritten from the checkpoint "
                                       f"when the run resumes, or delete the run directory") from None
    return records


def load_checkpoint(path: Path, device: torch.device | str = "cpu", *, what: str = "checkpoint",
                    remedy: str = "delete it and rerun") -> Any:
    """``torch.load(weights_only=True)`` with one-line errors: a file holding anything but tensors and plain
    containers is refused (it could run code), a truncated or corrupt one is named as such."""
    path = Path(path)
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            raise CorruptFileError(f"{path} is not a plain {what}: it holds objects other than tensors and plain "
                                   f"types, which could run code when loaded, so it is refused; {remedy}") from None
        raise CorruptFileError(f"{path} is a corrupt {what} ({exc}); {remedy}") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, KeyError, AttributeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CorruptFileError(f"{path} is a corrupt or truncated {what} ({reason}); {remedy}") from None
    except OSError as exc:
        raise CorruptFileError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
