"""Data-free generators of piecewise signals (Cho et al., "Differentiable Programming for Piecewise Polynomial
Functions", Sec. 5.2; Figures 1-3, 7, 8).

A generator G: z -> R^n sees no data: it is trained only to make its outputs piecewise, with the loss
||s - h(s)||^2 where h is the best k-piece constant or linear fit and s is G(z), normalised as below. Its
"dataset" is a bank of latent codes (``gaussian_codes``): G's input size is the codes' length.

Normalisation (``normalise``). The paper's loss is taken on the raw output, s = G(z) (``"none"``). That loss
has a trivial global optimum: a constant signal is its own k-piece fit, and weak-Jacobian generators drift
towards it (quick profile: raw std ~0.1 at initialisation, 0.005-0.01 after training), so a small loss says
little about the layer. Our default, ``"standardise"`` (our choice, not the paper's), standardises every
signal to zero mean and unit variance, s = (G - mean) / sqrt(var + eps), before h and the loss: the loss is then
n x the relative residual, scale-free, so shrinking G towards a constant earns nothing (eps matters only
below a std of ~1e-4), while every gradient still passes through h and the backward pass under test.

Gradients. With the weak Jacobian P of h (the per-segment projection, symmetric and idempotent) the gradient
with respect to s is 2 (I - P)(s - Ps) = 2 (s - h(s)): every output is pulled onto its own k-piece fit. With
the straight-through estimator (identity Jacobian) it is 2 (s - h(s)) - 2 (s - h(s)) = 0 exactly, before the
chain rule reaches the standardisation or G: under either normalisation the STE generator receives no
gradient and stays at its initialisation (Adam's step on a zero gradient is zero).

Neither loss rewards variety across codes: in the quick profile the weak-Jacobian generators map every code to
nearly the same standardised signal (pairwise correlation ~1.0); the metrics here judge each signal's shape.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch

from .. import metrics as M
from ..layers import DEGREES, Backward, Piece, make_piecewise, piecewise_fit
from ..nets import MLP
from ..typecheck import PositiveInt
from .base import Batch, DataInfo, Method, MethodConfig, register_method

Normalise = Literal["standardise", "none"]
EPS = 1e-8  # added to the variance: a std floor of 1e-4, far below G's spread at initialisation (~0.1)
PIECE_TOLERANCE = 0.01  # pieces_used: a piece counts if dropping it costs more than 1% of the signal's variance


def standardise(signals: torch.Tensor) -> torch.Tensor:
    """Zero mean and unit (population) variance per signal [B, n]: removes the constant signal as an optimum."""
    mean = signals.mean(1, keepdim=True)
    var = signals.var(1, correction=0, keepdim=True)
    return (signals - mean) / torch.sqrt(var + EPS)


@dataclass
class DataFreeConfig(MethodConfig):
    length: PositiveInt = 64  # n, samples per generated signal (not stated in the paper)
    hidden: list[PositiveInt] = field(default_factory=lambda: [256, 256])  # G's hidden widths (not stated in the paper)
    piece: Piece = "constant"  # the family G is pushed into
    pieces: PositiveInt = 5  # k
    backward: Backward = "weak"  # weak Jacobian, or the straight-through estimator
    normalise: Normalise = "standardise"  # our choice; the paper's loss is on the raw G(z) ("none")


@register_method
class DataFreeGenerator(Method):
    """MLP generator trained only on the distance of its (standardised) outputs to their best k-piece fits."""

    name = "datafree"
    Config = DataFreeConfig
    title = "data-free generator"
    metrics = frozenset({"residual", "relative_residual", "pieces_used", "tv", "similarity", "signal_std"})
    paper = "Cho et al., Differentiable Programming for Piecewise Polynomial Functions, Sec. 5.2"

    def __init__(self, cfg: DataFreeConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.generator = MLP(widths=[data.image_size, *cfg.hidden, cfg.length])
        self.h = make_piecewise(cfg.piece, cfg.pieces, backward=cfg.backward)

    def generate(self, codes: torch.Tensor) -> torch.Tensor:
        """Latent codes [..., nz] (a batch of [B, 1, 1, nz]) -> raw signals G(z) [N, n]."""
        return self.generator(codes.reshape(-1, self.data.image_size))

    def prepare(self, signals: torch.Tensor) -> torch.Tensor:
        """G(z) as the loss sees it: standardised, or raw under ``normalise="none"`` (the paper's loss)."""
        return standardise(signals) if self.cfg.normalise == "standardise" else signals

    def residual(self, signals: torch.Tensor) -> torch.Tensor:
        """||s - h(s)||^2 per signal (gradients flow through h's backward)."""
        return M.squared_distance(signals, self.h(signals))

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        return {"loss": self.residual(self.prepare(self.generate(batch["x"]))).mean()}

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Shape metrics on the standardised signal (comparable under either normalisation), the training
        objective, and the raw spread (a collapse towards a constant shows there)."""
        raw = self.generate(batch["x"])
        s = standardise(raw)
        degree = DEGREES[self.cfg.piece]
        return {"residual": self.residual(self.prepare(raw)),
                "relative_residual": M.relative_residual(s, self.h(s)),
                "pieces_used": M.pieces_used(s, lambda x, j: piecewise_fit(x, j, degree), self.cfg.pieces,
                                             PIECE_TOLERANCE),
                "tv": M.total_variation(s),
                "similarity": M.similarity_to_others(s),
                "signal_std": raw.std(1)}
