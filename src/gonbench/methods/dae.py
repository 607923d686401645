"""Denoising autoencoders of piecewise signals, plain (DAE) and regularised towards k-piece outputs (DAEreg)
(Cho et al., "Differentiable Programming for Piecewise Polynomial Functions", Sec. 5.1; Figures 4, 6, 9).

Both see x~ = x + N(0, noise_std^2) and are trained on the mean squared error of D(x~) to the clean x.
DAEreg adds reg_weight * mean (D(x~) - h(D(x~)))^2, h the best k-piece fit, differentiated through h's weak
Jacobian (or its straight-through estimate, under which this term has zero gradient). Signals are the last
axis of a batch ([B, 1, 1, n]); every leading index is one signal.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .. import metrics as M
from ..layers import Backward, Piece, make_piecewise
from ..nets import MLP
from ..noise import gaussian_noise
from ..typecheck import NonNegativeFloat, PositiveInt
from .base import Batch, DataInfo, Method, MethodConfig, register_method


@dataclass
class DAEConfig(MethodConfig):
    hidden: list[PositiveInt] = field(default_factory=lambda: [256, 64, 256])  # MLP widths (not stated in the paper)
    noise_std: NonNegativeFloat = 0.2  # Gaussian noise on signals in [0, 1] (not stated in the paper)
    piece: Piece = "constant"  # family of the clean signals: the metric's (and DAEreg's) k-piece fit
    pieces: PositiveInt = 5  # k, the pieces of the synthetic signals


@dataclass
class DAERegConfig(DAEConfig):
    reg_weight: NonNegativeFloat = 1.0  # lambda (not stated in the paper)
    backward: Backward = "weak"


@register_method
class DAE(Method):
    """MLP denoiser trained on the mean squared error to the clean signal."""

    name = "dae"
    title = "DAE"
    metrics = frozenset({"mse", "mse_noisy", "piecewise_distance", "tv", "tv_clean"})
    Config = DAEConfig
    paper = "Cho et al., Sec. 5.1 (baseline)"

    def __init__(self, cfg: DAEConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        n = data.image_size
        self.denoiser = MLP(widths=[n, *cfg.hidden, n])
        self.h = make_piecewise(cfg.piece, cfg.pieces)

    def denoise(self, noisy: torch.Tensor) -> torch.Tensor:
        return self.denoiser(noisy)

    def corrupt(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(clean, noisy) signals [N, n]; validation noise is fixed per example (``gonbench.noise``)."""
        x = batch["x"]
        noisy = x + gaussian_noise(x, batch["index"], self.cfg.noise_std, fresh=self.training)
        return x.reshape(-1, x.shape[-1]), noisy.reshape(-1, x.shape[-1])

    def losses(self, clean: torch.Tensor, out: torch.Tensor) -> dict[str, torch.Tensor]:
        mse = ((out - clean) ** 2).mean(1)
        return {"loss": mse.mean(), "mse": mse.mean()}

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        clean, noisy = self.corrupt(batch)
        return self.losses(clean, self.denoise(noisy))

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        clean, noisy = self.corrupt(batch)
        out = self.denoise(noisy)
        return {"mse": M.recon_mse(out, clean), "mse_noisy": M.recon_mse(noisy, clean),
                "piecewise_distance": M.recon_mse(out, self.h(out)),  # to the nearest k-piece signal
                "tv": M.total_variation(out), "tv_clean": M.total_variation(clean)}


@register_method
class DAEReg(DAE):
    """DAE + reg_weight * mean squared distance of the output to its best k-piece fit."""

    name = "dae_reg"
    title = "DAEreg"
    Config = DAERegConfig
    paper = "Cho et al., Sec. 5.1"

    def __init__(self, cfg: DAERegConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.h = make_piecewise(cfg.piece, cfg.pieces, backward=cfg.backward)

    def losses(self, clean: torch.Tensor, out: torch.Tensor) -> dict[str, torch.Tensor]:
        mse = ((out - clean) ** 2).mean()
        reg = ((out - self.h(out)) ** 2).mean()
        return {"loss": mse + self.cfg.reg_weight * reg, "mse": mse, "reg": reg}
