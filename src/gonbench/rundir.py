"""A run directory's lifecycle: claiming it for a spec, locking it while it trains, and its checkpoints.

- A directory that holds another spec's run is either refused (an explicit ``--out``) or, when the DAG owns
  it, moved aside whole to ``<results>/<profile>/superseded/<old config hash>/...`` with a line saying so:
  nothing a run produced is ever deleted by a profile edit.
- One process trains a directory at a time: an ``fcntl`` lock on ``.lock``; a second trainer gets one line
  naming the holder's PID.
- The last two checkpoints are kept. If the newest is unreadable (a disk that lost a write, a truncated
  copy), it is moved aside and training resumes from the one before; temporary files of killed writes
  are removed when the next trainer starts.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Iterator

import torch

from . import paths
from .config import spec_differences
from .errors import CorruptFileError, RunLockedError, SpecMismatch, StorageError
from .io import load_checkpoint, read_json, remove_stale_temporaries, torch_save, write_json


def note(message: str) -> None:
    """A line for the user (and the Snakemake job log): what the suite did on its own."""
    print(f"gonbench: {message}", file=sys.stderr, flush=True)


def make_dir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StorageError(f"cannot use {out} as a run directory: it is a file; choose another --out") from None
    except OSError as exc:
        raise StorageError(f"cannot create the run directory {out}: {exc.strerror}; choose a writable --out") from None
    if not os.access(out, os.W_OK):
        raise StorageError(f"cannot write to the run directory {out}: permission denied; choose a writable --out")


def recorded_spec(out: Path) -> dict | None:
    path = Path(out) / paths.CONFIG
    if not path.exists():
        return None
    return read_json(path, remedy="delete the run directory and train it again")


def claim(out: Path, spec: dict, superseded: Path | None = None) -> None:
    """Write config.json, or check that the one there describes the same run. A different run is moved to
    ``superseded``/<its config hash> when ``superseded`` is given, else refused with SpecMismatch."""
    old = recorded_spec(out)
    if old is not None:
        changed = spec_differences(old, spec)
        if not changed:
            return
        if superseded is None:
            raise SpecMismatch(f"{out} holds a run with a different spec (differs in: {', '.join(changed)}); "
                               f"delete the directory or choose another --out")
        target = superseded / str(old.get("config_hash", "unknown"))
        move_aside(out, target)
        note(f"{out} held a run with another spec (differs in: {', '.join(changed)}); moved it to {target}")
        make_dir(out)
    write_json(out / paths.CONFIG, spec)


def move_aside(src: Path, target: Path) -> None:
    if target.exists():  # the same superseded run twice: keep both
        target = target.with_name(f"{target.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(src), str(target))


def is_trained(out: Path, spec: dict) -> bool:
    """Finished training: train.json and a config.json describing this same run."""
    out = Path(out)
    old = recorded_spec(out) if (out / paths.TRAIN_SUMMARY).exists() else None
    return old is not None and not spec_differences(old, spec)


def is_evaluated(out: Path, spec: dict) -> bool:
    """Trained and evaluated with this spec (metrics.json carries the hash it was computed for)."""
    metrics = Path(out) / paths.METRICS
    return is_trained(out, spec) and metrics.exists() and \
        read_json(metrics).get("config_hash") == spec["config_hash"]


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold the run directory's lock; a second process gets RunLockedError naming the holder's PID."""
    path = Path(out) / paths.LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunLockedError(f"{out} is being trained by another process (PID {holder}); wait for it to finish, "
                             f"or stop it and rerun") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        stale = remove_stale_temporaries(out)
        if stale:
            note(f"removed {len(stale)} temporary file(s) of an interrupted write in {out}")
        yield
    finally:
        path.unlink(missing_ok=True)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def save_checkpoint(out: Path, state: dict) -> None:
    """Write the new checkpoint atomically; once it is on disk, the one it replaces becomes checkpoint.prev.pt.
    A failed write (disk full) leaves both as they were."""
    torch_save(out / paths.CHECKPOINT, state, keep_previous=out / paths.PREVIOUS_CHECKPOINT)


def load_latest_checkpoint(out: Path, device: torch.device) -> dict | None:
    """The newest readable checkpoint (None: start from scratch). An unreadable one is moved aside as
    ``<name>.corrupt`` with a line saying so, and the one before it is used."""
    for name in (paths.CHECKPOINT, paths.PREVIOUS_CHECKPOINT):
        path = out / name
        if not path.exists():
            continue
        try:
            return load_checkpoint(path, device)
        except CorruptFileError as exc:
            if "could run code" in str(exc):
                raise  # never fall back silently past a file that someone tampered with
            aside = path.with_name(f"{name}.corrupt")
            os.replace(path, aside)
            note(f"{exc.args[0].split(';')[0]}; moved it to {aside.name} and resume from the checkpoint before it")
    return None
