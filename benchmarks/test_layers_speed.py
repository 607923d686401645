"""Throughput of the piecewise layers: forward (exact DP + projection) and weak-Jacobian backward on a batch of
64 signals of length 256 with k = 8 pieces. Run explicitly: ``pytest benchmarks/`` (not in the default
test paths). Each result carries signals/second in its extra_info."""
from __future__ import annotations

import pytest
import torch

from gonbench.layers import PiecewiseConstant, PiecewiseLinear

BATCH, LENGTH, PIECES = 64, 256, 8


@pytest.mark.parametrize("layer_cls", [PiecewiseConstant, PiecewiseLinear], ids=["constant", "linear"])
@pytest.mark.parametrize("backward", ["weak", "ste"])
def test_forward_backward_throughput(benchmark, layer_cls, backward):
    layer = layer_cls(PIECES, backward=backward)
    x = torch.randn(BATCH, LENGTH, generator=torch.Generator().manual_seed(0), requires_grad=True)
    upstream = torch.randn(BATCH, LENGTH, generator=torch.Generator().manual_seed(1))

    def step() -> torch.Tensor:
        x.grad = None
        (layer(x) * upstream).sum().backward()
        return x.grad

    grad = benchmark.pedantic(step, rounds=10, warmup_rounds=1)
    assert grad.shape == x.shape and torch.isfinite(grad).all()
    benchmark.extra_info.update(signals_per_second=BATCH / benchmark.stats.stats.mean, batch=BATCH, length=LENGTH,
                                pieces=PIECES, threads=torch.get_num_threads())
