"""Device choice, seeding, batching of in-memory image tensors, and what a run records about its machine."""
from __future__ import annotations

import contextlib
import platform
import random
import resource
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn as nn

from .errors import ConfigError


def select_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for, but CUDA is not available; valid choices here: auto, cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [0, 1]; float data (generated signals, latent codes) is already in its units."""
    if images.is_floating_point():
        return images
    return images.float().div_(255.0)


def epoch_batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int, *, seed: int, epoch: int,
                  shuffle: bool = True, drop_last: bool = True) -> Iterator[dict[str, torch.Tensor]]:
    """Batches of one epoch. The order depends only on (seed, epoch), so a resumed run sees the same data."""
    n = len(images)
    if shuffle:
        gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        order = torch.randperm(n, generator=gen).to(images.device)
    else:
        order = torch.arange(n, device=images.device)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield {"x": to_unit(images[idx]), "y": labels[idx], "index": idx}


def padded_batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int
                   ) -> Iterator[tuple[dict[str, torch.Tensor], int]]:
    """Every image once, in order, in batches of exactly ``batch_size``; the last is padded by wrapping
    around to the first images. Returns (batch, number of real images): BatchNorm in train mode and the
    GON latent (a batch mean's gradient) both depend on the batch size, so evaluation keeps it fixed."""
    n = len(images)
    for start in range(0, n, batch_size):
        idx = torch.arange(start, start + batch_size, device=images.device) % n
        yield {"x": to_unit(images[idx]), "y": labels[idx], "index": idx}, min(batch_size, n - start)


@contextlib.contextmanager
def batchnorm_mode(model: nn.Module, mode: str) -> Iterator[None]:
    """Evaluate with BatchNorm in ``train`` (batch statistics, as the GON reference code does) or ``eval``
    (running statistics) mode; the model's buffers and modes are restored afterwards."""
    if mode not in ("train", "eval"):
        raise ConfigError(f"unknown BatchNorm protocol {mode!r}; valid choices: train, eval")
    was_training = model.training
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [{k: v.clone() for k, v in m.state_dict().items()} for m in norms]
    model.eval()
    for m in norms:
        m.train(mode == "train")
    try:
        yield
    finally:
        for m, s in zip(norms, saved):
            m.load_state_dict(s)
        model.train(was_training)


def peak_memory_mb(device: torch.device) -> dict[str, float]:
    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    if device.type == "cuda":
        out["peak_cuda_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def git_commit() -> str:
    try:
        root = Path(__file__).resolve().parents[2]
        return subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment(device: torch.device) -> dict:
    from . import __version__

    env = {"python": sys.version.split()[0], "torch": torch.__version__, "gonbench": __version__,
           "numpy": np.__version__, "platform": platform.platform(), "git_commit": git_commit(),
           "device": str(device), "threads": torch.get_num_threads()}
    if device.type == "cuda":
        env["cuda_device"] = torch.cuda.get_device_name(device)
    return env
