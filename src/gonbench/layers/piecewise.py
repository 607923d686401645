"""Differentiable k-piece approximation layers for batched 1-D signals (Cho et al., "Differentiable
Programming for Piecewise Polynomial Functions").

Forward: the optimal k-piece least-squares fit h(x) (exact dynamic programming, O(k n^2) time per signal;
see ``segmentation``). Backward: the weak Jacobian, i.e. the per-segment projection (``backward="weak"``),
or the identity (``backward="ste"``, the straight-through estimator the paper compares against).
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn as nn

from ..errors import ConfigError
from .projection import PiecewiseProjection, check_backward
from .segmentation import optimal_partition

Piece = Literal["constant", "linear"]
DEGREES = {"constant": 0, "linear": 1}


def piecewise_fit(x: torch.Tensor, k: int, degree: int, backward: str = "weak") -> torch.Tensor:
    """h(x) along the last axis of ``x`` (any leading shape): the best k-piece polynomial fit of each signal."""
    if k < 1:
        raise ConfigError(f"the number of pieces must be at least 1, got {k}")
    check_backward(backward)
    signals = x.reshape(-1, x.shape[-1])
    labels = optimal_partition(signals.detach(), k, degree)
    return PiecewiseProjection.apply(signals, labels, min(k, x.shape[-1]), degree, backward).reshape(x.shape)


class PiecewisePolynomial(nn.Module):
    """h: the best ``k``-piece polynomial fit of ``degree`` of every signal along the last axis."""

    degree: int

    def __init__(self, k: int, *, backward: str = "weak") -> None:
        super().__init__()
        self.k, self.backward = k, check_backward(backward)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return piecewise_fit(x, self.k, self.degree, self.backward)

    def extra_repr(self) -> str:
        return f"k={self.k}, backward={self.backward}"


class PiecewiseConstant(PiecewisePolynomial):
    """The optimal k-histogram of each signal."""

    degree = 0


class PiecewiseLinear(PiecewisePolynomial):
    """The optimal k-piece affine fit of each signal (pieces are independent: jumps are allowed)."""

    degree = 1


def make_piecewise(piece: str, k: int, *, backward: str = "weak") -> PiecewisePolynomial:
    """The layer named by a config value ("constant" or "linear")."""
    layers = {"constant": PiecewiseConstant, "linear": PiecewiseLinear}
    if piece not in layers:
        raise ConfigError(f"unknown piece {piece!r}; valid choices: {', '.join(layers)}")
    return layers[piece](k, backward=backward)
