"""Autoencoder baselines of the GON paper's Table 1: a mirrored encoder, and one tied to the decoder."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..nets import ConvDecoder, ConvEncoder, TiedConvEncoder
from .base import Batch, DataInfo, Method, MethodConfig, check_geometry, register_method
from .gon import squared_error


@dataclass
class AEConfig(MethodConfig):
    nz: int = 32
    ngf: int = 16
    depth: int = 3
    latent_hw: int = 1
    activation: str = "elu"


@register_method
class AE(Method):
    """Encoder mirrors the GON decoder (Conv nc->16->32->64->nz, BN + ELU); same loss as GON."""

    name = "ae"
    Config = AEConfig
    paper = "Bond-Taylor & Willcocks 2021, Table 1 baseline"

    def __init__(self, cfg: AEConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        kw = dict(nz=cfg.nz, ngf=cfg.ngf, nc=data.channels, depth=cfg.depth, activation=cfg.activation,
                  latent_hw=cfg.latent_hw)
        self.decoder = check_geometry(ConvDecoder(**kw), data)
        self.encoder = self.make_encoder(cfg, kw)

    def make_encoder(self, cfg: AEConfig, kw: dict) -> torch.nn.Module:
        return ConvEncoder(**kw)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        return {"loss": squared_error(self.decoder(self.encode(x)), x)}

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x))


@register_method
class TiedAE(AE):
    """The encoder applies the decoder's ConvT weights as Conv2d weights (their adjoint)."""

    name = "tied_ae"

    def make_encoder(self, cfg: AEConfig, kw: dict) -> torch.nn.Module:
        return TiedConvEncoder(self.decoder, activation=cfg.activation)
