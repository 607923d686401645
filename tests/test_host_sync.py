"""A training step never waits for the device: no value is read back (``aten::_local_scalar_dense``, what
``.item()``, ``float()`` and ``bool()`` of a tensor run) inside ``train_step``, for every Table 1 method and
VAE/VGON. The one exception is torch's Adam reading its own step counter, which lives on the CPU (unless Adam
is made capturable for CUDA graphs), so it is not a device synchronisation and is excluded by name."""
from __future__ import annotations

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

from gonbench.methods import DataInfo, build_method

METHODS = ["gon", "ae", "tied_ae", "gon_detach_1", "gon_detach_10", "gon_10", "glo", "vae", "vgon"]
SMALL = {"vae": {"nz": 8, "ngf": 8}, "vgon": {"nz": 8, "ngf": 8}}


def reads_outside_the_optimizer(prof) -> list[str]:
    found = []
    for event in prof.events():
        if event.name != "aten::_local_scalar_dense":
            continue
        chain, parent = [], event.cpu_parent
        while parent is not None:
            chain.append(parent.name)
            parent = parent.cpu_parent
        if not any("Optimizer.step" in name for name in chain):
            found.append(" <- ".join(chain[:4]))
    return found


@pytest.mark.parametrize("method", METHODS)
def test_a_training_step_reads_nothing_back_from_the_device(method):
    torch.manual_seed(0)
    model = build_method(method, DataInfo(1, 32, 10, 64), **SMALL.get(method, {}))
    optimizers = model.configure_optimizers()
    batch = {"x": torch.rand(16, 1, 32, 32), "y": torch.zeros(16, dtype=torch.long), "index": torch.arange(16)}
    model.train_step(batch, optimizers)  # warm-up: lazy state of the optimisers
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        logs = model.train_step(batch, optimizers)
    assert not reads_outside_the_optimizer(prof)
    assert all(isinstance(v, torch.Tensor) for v in logs.values())  # the loop reads them back once per epoch


def test_the_probe_sees_a_read_back():
    """The check can fail: an explicit .item() in a step is found."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        torch.ones(3).sum().item()
    assert reads_outside_the_optimizer(prof)
