"""Data-free generators of piecewise signals (Cho et al., "Differentiable Programming for Piecewise Polynomial
Functions", Sec. 5.2; Figures 1-3, 7, 8).

A generator G: z -> R^n sees no data: it is trained only to make its outputs piecewise, with the loss
||G(z) - h(G(z))||^2 where h is the best k-piece constant or linear fit. With the weak Jacobian P of h
(the per-segment projection), the gradient with respect to G(z) is 2 (I - P)(G - PG) = 2 (G - h(G)): every
output is pulled onto its own k-piece fit. With the straight-through estimator (identity Jacobian) it is
2 (I - I)(G - h(G)) = 0: the STE generator receives no gradient at all, which the figures show as a flat
curve. Its "dataset" is a bank of latent codes (``gaussian_codes``): G's input size is the codes' length.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .. import metrics as M
from ..layers import Backward, Piece, make_piecewise
from ..nets import MLP
from ..typecheck import PositiveInt
from .base import Batch, DataInfo, Method, MethodConfig, register_method


@dataclass
class DataFreeConfig(MethodConfig):
    length: PositiveInt = 64  # n, samples per generated signal (not stated in the paper)
    hidden: list[PositiveInt] = field(default_factory=lambda: [256, 256])  # G's hidden widths (not stated in the paper)
    piece: Piece = "constant"  # the family G is pushed into
    pieces: PositiveInt = 5  # k
    backward: Backward = "weak"  # weak Jacobian, or the straight-through estimator


@register_method
class DataFreeGenerator(Method):
    """MLP generator trained only on its distance to its own best k-piece fit."""

    name = "datafree"
    Config = DataFreeConfig
    paper = "Cho et al., Differentiable Programming for Piecewise Polynomial Functions, Sec. 5.2"

    def __init__(self, cfg: DataFreeConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.generator = MLP(widths=[data.image_size, *cfg.hidden, cfg.length])
        self.h = make_piecewise(cfg.piece, cfg.pieces, backward=cfg.backward)

    def generate(self, codes: torch.Tensor) -> torch.Tensor:
        """Latent codes [..., nz] (a batch of [B, 1, 1, nz]) -> signals [N, n]."""
        return self.generator(codes.reshape(-1, self.data.image_size))

    def residual(self, signals: torch.Tensor) -> torch.Tensor:
        """||G(z) - h(G(z))||^2 per signal, the training loss (gradients flow through h's backward)."""
        return M.squared_distance(signals, self.h(signals))

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        return {"loss": self.residual(self.generate(batch["x"])).mean()}

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        signals = self.generate(batch["x"])
        fits = self.h(signals)
        return {"residual": M.squared_distance(signals, fits), "relative_residual": M.relative_residual(signals, fits),
                "signal_std": signals.std(1)}
