"""The one place randomness is seeded: a run's global RNGs, and dedicated generators for evaluation.

Training draws from the global RNGs seeded by ``seed_everything(run seed)`` (their states are checkpointed,
so a resumed run continues the same streams). Anything drawn after training (samples, chains, figure
samples) comes from ``generator(seed)``, a CPU generator independent of the process's history, so the same
run gives the same pictures and scores in any process and on any device.
"""
from __future__ import annotations

import random
from typing import Callable, TypeVar

import numpy as np
import torch

T = TypeVar("T")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def generator(seed: int) -> torch.Generator:
    """A CPU generator seeded by ``seed`` (draw on the CPU and move: the numbers do not depend on the device)."""
    return torch.Generator().manual_seed(int(seed))


def data_order_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator of one epoch's shuffle: the order depends only on (seed, epoch), so a resumed run sees
    the same batches as an uninterrupted one."""
    return generator(seed * 1_000_003 + epoch)


def rng_state() -> dict:
    """The global RNG states as tensors and plain types (checkpoints load with ``weights_only=True``)."""
    version, state, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    out = {"python": {"version": version, "state": torch.tensor(state, dtype=torch.int64), "gauss": gauss},
           "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                     "has_gauss": int(has_gauss), "cached": float(cached)},
           "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_rng_state(state: dict) -> None:
    py, npy = state["python"], state["numpy"]
    random.setstate((py["version"], tuple(int(v) for v in py["state"].tolist()), py["gauss"]))
    np.random.set_state((npy["kind"], npy["keys"].numpy().astype(np.uint32), npy["pos"], npy["has_gauss"],
                         npy["cached"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def built_as_seeded(seed: int, build: Callable[[], T]) -> T:
    """``build()`` as the training loop runs it, right after ``seed_everything(seed)``: the initialisation a run
    started from, rebuilt later (a measurement's weights, a Net2Net student's step 0). The caller's RNG states
    are left as they were."""
    state = rng_state()
    try:
        seed_everything(seed)
        return build()
    finally:
        set_rng_state(state)
