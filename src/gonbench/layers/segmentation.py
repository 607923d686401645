"""The optimal k-piece partition of 1-D signals by exact dynamic programming, vectorised over the batch.

For a signal y of length n, the cost of a segment y[i:j] is the squared residual of its least-squares
constant (degree 0) or affine (degree 1) fit, read in O(1) from prefix sums of 1, t, t^2, y, t*y, y^2.
D_m[j] = min_{i<j} D_{m-1}[i] + cost(i, j) with D_0[0] = 0 gives the best m-piece fit of y[:j].
Complexity per signal: O(n^2) memory for the cost table and O(k n^2) time, done as k batched min-reductions
over [B, n+1, n+1] tensors (contiguous, into one reused buffer: allocating a fresh table per step costs
more than the arithmetic), then an O(k) backtrack. Splitting a segment never raises the cost, so exactly
min(k, n) pieces is also the best "at most k pieces" fit. Costs are computed in float64: they are
differences of large sums and only their ordering matters.
"""
from __future__ import annotations

import torch


def segment_costs(y: torch.Tensor, degree: int) -> torch.Tensor:
    """cost[b, j, i] = residual of the best polynomial fit of y[b, i:j] (end j, start i < j), +inf where i >= j.

    Terms that depend only on positions are [n+1, n+1]; the batched ones are updated in place (the tables
    are the memory-bound part of the layer)."""
    y = y.double()
    n = y.shape[1]
    idx = torch.arange(n + 1, device=y.device)
    length = (idx[:, None] - idx[None, :]).double()
    inv_length = 1.0 / length.clamp_min(1)

    def between(values: torch.Tensor) -> torch.Tensor:  # sums over values[..., i:j] at [..., j, i]
        prefix = torch.nn.functional.pad(values.cumsum(-1), (1, 0))
        return prefix[..., :, None] - prefix[..., None, :]

    sy = between(y)
    cost = between(y * y).sub_(sy.pow(2).mul_(inv_length))
    if degree == 1:
        t = torch.arange(n, device=y.device, dtype=torch.float64) - (n - 1) / 2  # centred: less cancellation
        st = between(t)
        var_t = between(t * t) - st**2 * inv_length
        inv_var_t = torch.where(var_t > 1e-9, 1.0 / var_t.clamp_min(1e-9), torch.zeros_like(var_t))
        cov = between(t * y).sub_(sy.mul_(st * inv_length))
        cost.sub_(cov.pow_(2).mul_(inv_var_t))
    return cost.clamp_min_(0).masked_fill_(length <= 0, float("inf"))


def optimal_partition(y: torch.Tensor, k: int, degree: int) -> torch.Tensor:
    """Segment ids [B, n] (int64, 0..min(k, n)-1, contiguous and increasing) of the best k-piece fit of each row."""
    if y.dim() != 2:
        raise ValueError(f"expected signals [B, n], got shape {tuple(y.shape)}")
    b, n = y.shape
    pieces = min(k, n)
    cost = segment_costs(y.detach(), degree)
    best = torch.full((b, n + 1), float("inf"), dtype=torch.float64, device=y.device)
    best[:, 0] = 0.0
    buffer = torch.empty_like(cost)
    choices = []
    for _ in range(pieces):
        torch.add(cost, best[:, None, :], out=buffer)
        best, arg = buffer.min(dim=2)  # over the start i of the last piece ending at j
        choices.append(arg)
    end = torch.full((b,), n, dtype=torch.long, device=y.device)
    starts = []
    for arg in reversed(choices):
        end = arg.gather(1, end[:, None])[:, 0]
        starts.append(end)
    starts = torch.stack(starts[::-1], 1)  # [B, pieces], starts[:, 0] == 0
    positions = torch.arange(n, device=y.device)
    return (positions[None, None, :] >= starts[:, 1:, None]).sum(1)
