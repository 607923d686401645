"""The machine a run uses and what it records about it: device choice, versions, commit, memory."""
from __future__ import annotations

import ctypes
import fcntl
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import torch

from .errors import ConfigError

SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the checkout gonbench runs from (git metadata)


GPU_LOCKS_ENV = "GONBENCH_GPU_LOCKS"  # folder of the per-GPU lock files (default: the temp folder)
_claims: list[int] = []  # file descriptors of the GPU locks this process holds (released when it exits)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
HOST_ALLOCATOR_THRESHOLD = 128 << 20


def fix_host_allocator() -> None:
    """Fix glibc's malloc thresholds for a training process. By default glibc adapts its mmap threshold to
    the process's history, and a step's large CPU temporaries can end up mapped and unmapped on every step:
    measured, a GON step on MNIST took 45.1 ms with the default and 40.2 ms with fixed thresholds (one
    thread; benchmarks/README.md). Results are unchanged. A no-op where the C library is not glibc."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return
    except (ValueError, OSError):
        return
    libc = ctypes.CDLL(None)
    libc.mallopt(_M_MMAP_THRESHOLD, HOST_ALLOCATOR_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, HOST_ALLOCATOR_THRESHOLD)


def select_device(name: str = "auto", *, wait_seconds: float = 600.0) -> torch.device:
    """``auto`` (a free GPU when CUDA is available, else the CPU), ``cpu``, ``cuda`` or ``cuda:<index>``;
    anything else is refused. With several GPUs, ``auto`` claims one that no other gonbench process holds,
    so the jobs Snakemake runs side by side (``--resources gpu=N``) land on different devices."""
    if name == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        count = torch.cuda.device_count()
        return torch.device(f"cuda:{claim_gpu(count, wait_seconds)}" if count > 1 else "cuda")
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


def gpu_lock_dir() -> Path:
    folder = Path(os.environ.get(GPU_LOCKS_ENV) or Path(tempfile.gettempdir()) / f"gonbench-gpu-locks-{os.getuid()}")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def claim_gpu(count: int, wait_seconds: float = 600.0) -> int:
    """Index of a GPU whose lock file this process now holds (an ``fcntl`` lock: released when the process
    exits, however it exits). Waits for one to free up, up to ``wait_seconds``."""
    deadline = time.monotonic() + wait_seconds
    while True:
        for index in range(count):
            fd = os.open(gpu_lock_dir() / f"cuda{index}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            _claims.append(fd)
            return index
        if time.monotonic() >= deadline:
            raise ConfigError(f"all {count} GPUs are held by other gonbench processes (locks in {gpu_lock_dir()}); "
                              f"run fewer jobs at once (--resources gpu={count}) or name a device with --device")
        time.sleep(1.0)


def release_gpus() -> None:
    """Give back every GPU this process claimed (a finished job's process exits, which does the same)."""
    while _claims:
        os.close(_claims.pop())


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
