"""The machine a run uses and what it records about it: device choice, versions, commit, memory."""
from __future__ import annotations

import platform
import resource
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch

from .errors import ConfigError

SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the checkout gonbench runs from (git metadata)


def select_device(name: str = "auto") -> torch.device:
    """``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:<index>``; anything else is refused."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or (name.startswith("cuda:") and name[5:].isdigit()):
        if not torch.cuda.is_available():
            raise ConfigError(f"device {name!r} asked for, but CUDA is not available; valid choices here: auto, cpu")
        index = int(name[5:]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(f"device {name!r} does not exist; valid: cuda:0 to cuda:{torch.cuda.device_count() - 1}")
        return torch.device(name)
    raise ConfigError(f"unknown device {name!r}; valid choices: auto, cpu, cuda, cuda:<index>")


def peak_memory_mb(device: torch.device) -> dict[str, float]:
    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    if device.type == "cuda":
        out["peak_cuda_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(SOURCE_ROOT), *args], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def git_state() -> dict:
    """The commit of the code that ran and whether the tree had uncommitted changes (then the commit alone
    does not reproduce the run)."""
    commit = (_git("rev-parse", "HEAD") or "").strip() or "unknown"
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": None if status is None else bool(status.strip())}


def environment(device: torch.device) -> dict:
    env = {"python": sys.version.split()[0], "torch": torch.__version__, "gonbench": version("gonbench"),
           "numpy": np.__version__, "platform": platform.platform(), **git_state(),
           "device": str(device), "threads": torch.get_num_threads()}
    if device.type == "cuda":
        env["cuda_device"] = torch.cuda.get_device_name(device)
    return env
