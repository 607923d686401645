"""Errors a user can act on; the CLI prints them as one line (no traceback) and exits non-zero."""
from __future__ import annotations


class GonbenchError(Exception):
    """Base of every user-facing error."""


class ConfigError(GonbenchError, ValueError):
    """A bad profile, experiment, key or override; the message names the valid choices."""


class UnknownNameError(GonbenchError, KeyError):
    """An unknown registry name; the message lists the registered ones."""

    def __str__(self) -> str:  # KeyError would otherwise wrap the message in quotes
        return self.args[0]


class DataError(GonbenchError, RuntimeError):
    """A missing, corrupt or undownloadable dataset file: names the file, its checksum, where to get it."""


class SpecMismatch(GonbenchError):
    """The run directory already holds a run with a different spec."""


class RunStateError(GonbenchError):
    """A run is asked for something its state does not allow (e.g. evaluating an unfinished run)."""


class TrainingDiverged(GonbenchError):
    """The loss became NaN or infinite (names the epoch and step; the last good checkpoint is kept)."""


class UnsupportedOperation(GonbenchError):
    """A method is asked for something it does not do (e.g. sampling from a plain autoencoder)."""


class CorruptFileError(GonbenchError):
    """A file the suite reads back is truncated, corrupt or unsafe: names the file and what to do."""


class StorageError(GonbenchError):
    """A file cannot be written (disk full, read-only or unwritable folder, a file in the way)."""


class RunLockedError(GonbenchError):
    """Another process is training the same run directory (names its PID)."""


class BundleError(GonbenchError):
    """A run bundle is refused: unsafe, damaged, or not made for this profile (nothing is written)."""
