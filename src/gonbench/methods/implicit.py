"""Implicit GON (GON paper, Sec. 3.4; reference code Implicit-GON.py): a SIREN over pixel coordinates
concatenated with a latent, whose latent is the negative gradient at the origin of the data-fitting loss
integrated (summed) over all coordinates. Being a function of coordinates, it decodes at any resolution.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..losses import coordinate_loss
from ..nets import Siren, coordinate_grid
from ..typecheck import PositiveFloat, PositiveInt
from .base import Batch, DataInfo, Method, MethodConfig, register_method
from .gon import gradient_origin_latent


@dataclass
class ImplicitGONConfig(MethodConfig):
    nz: PositiveInt = 32
    hidden: list[PositiveInt] = field(default_factory=lambda: [256, 256, 256, 256])  # reference code: 4 x 256
    w0: PositiveFloat = 30.0


@register_method
class ImplicitGON(Method):
    """SIREN(coordinates ⊕ latent) with the latent from one gradient step at the origin."""

    name = "implicit_gon"
    title = "Implicit GON"
    Config = ImplicitGONConfig
    paper = "Bond-Taylor & Willcocks 2021, Sec. 3.4 (SIREN: Sitzmann et al. 2020)"

    def __init__(self, cfg: ImplicitGONConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.net = Siren(widths=[2 + cfg.nz, *cfg.hidden, data.channels], w0=cfg.w0)

    def render(self, z: torch.Tensor, height: int, width: int | None = None) -> torch.Tensor:
        """Decode latents [B, nz] on an HxW grid -> images [B, C, H, W] (any resolution)."""
        width = width or height
        coords = coordinate_grid(height, width, device=z.device).to(z.dtype)
        inputs = torch.cat([coords.expand(z.shape[0], -1, -1), z[:, None, :].expand(-1, coords.shape[0], -1)], -1)
        out = self.net(inputs)  # [B, H*W, C]
        return out.transpose(1, 2).reshape(z.shape[0], -1, height, width)

    def _points(self, z: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        return self.render(z, *size).flatten(2).transpose(1, 2)  # [B, H*W, C]

    def encode(self, x: torch.Tensor, *, detach: bool = False) -> torch.Tensor:
        size = x.shape[-2:]
        target = x.flatten(2).transpose(1, 2)
        z0 = torch.zeros(x.shape[0], self.cfg.nz, device=x.device, dtype=x.dtype)
        with torch.enable_grad():
            return gradient_origin_latent(lambda z: self._points(z, size), target, z0, steps=1, step_size=1.0,
                                          detach=detach, loss_fn=coordinate_loss)

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        z = self.encode(x)
        return {"loss": coordinate_loss(self._points(z, x.shape[-2:]), x.flatten(2).transpose(1, 2))}

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.render(self.encode(x, detach=True), *x.shape[-2:])
