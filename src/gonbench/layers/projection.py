"""Orthogonal projection onto piecewise polynomials over a fixed partition, and its autograd Function.

Once the partition is fixed, the best piecewise constant (or affine) fit is a linear map P: on every segment
it is the least-squares projection onto the constants (or onto span{1, t}). P is block-diagonal and
symmetric, so the weak Jacobian of the piecewise approximation h at x is P itself (Cho et al., Sec. 3): the
backward pass applies the same projection to the incoming gradient. Changes of the partition are
measure-zero events and contribute nothing. The straight-through estimator (STE) instead passes the
gradient through unchanged.
"""
from __future__ import annotations

from typing import Literal

import torch

from ..errors import ConfigError

Backward = Literal["weak", "ste"]
BACKWARDS = ("weak", "ste")


def check_backward(name: str) -> str:
    if name not in BACKWARDS:
        raise ConfigError(f"unknown backward {name!r}; valid choices: {', '.join(BACKWARDS)}")
    return name


def _segment_sums(values: torch.Tensor, labels: torch.Tensor, segments: int) -> torch.Tensor:
    return values.new_zeros(values.shape[0], segments).scatter_add_(1, labels, values)


def project(values: torch.Tensor, labels: torch.Tensor, segments: int, degree: int) -> torch.Tensor:
    """Least-squares fit of a polynomial of ``degree`` (0 or 1) on every segment of every row.

    values: [B, n]; labels: [B, n] int64 in [0, segments), one segment id per position (segments of degree 1
    are assumed contiguous, positions are the indices 0..n-1); returns [B, n].
    """
    counts = _segment_sums(torch.ones_like(values), labels, segments).clamp_min(1)
    mean = (_segment_sums(values, labels, segments) / counts).gather(1, labels)
    if degree == 0:
        return mean
    t = torch.arange(values.shape[1], device=values.device, dtype=values.dtype).expand_as(values)
    t_centred = t - (_segment_sums(t, labels, segments) / counts).gather(1, labels)
    spread = _segment_sums(t_centred**2, labels, segments)
    moment = _segment_sums(t_centred * values, labels, segments)
    slope = torch.where(spread > 0, moment / spread.clamp_min(1e-30), torch.zeros_like(spread))
    return mean + slope.gather(1, labels) * t_centred


class PiecewiseProjection(torch.autograd.Function):
    """y = P_S x for a partition S found by the caller (outside autograd: it is locally constant in x)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, labels: torch.Tensor, segments: int, degree: int, backward: str):
        ctx.save_for_backward(labels)
        ctx.segments, ctx.degree, ctx.backward = segments, degree, backward
        return project(x, labels, segments, degree)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        if ctx.backward == "ste":
            return grad, None, None, None, None
        (labels,) = ctx.saved_tensors
        return project(grad.contiguous(), labels, ctx.segments, ctx.degree), None, None, None, None
