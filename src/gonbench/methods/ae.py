"""Autoencoder baselines of the GON paper's Table 1: a mirrored encoder, and one tied to the decoder."""
from __future__ import annotations

import torch

from ..losses import squared_error_terms
from ..nets import TiedConvEncoder
from .base import Batch, DataInfo, Method, register_method
from .decoder import DecoderConfig, make_decoder, make_encoder


@register_method
class AE(Method):
    """Encoder mirrors the GON decoder (Conv nc->16->32->64->nz, BN + ELU); same loss as GON."""

    name = "ae"
    Config = DecoderConfig
    paper = "Bond-Taylor & Willcocks 2021, Table 1 baseline"
    title, row_group = "AE", "Single step"
    seed_stackable = True

    def __init__(self, cfg: DecoderConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.decoder = make_decoder(cfg, data)
        self.encoder = self.make_encoder(cfg, data)

    def make_encoder(self, cfg: DecoderConfig, data: DataInfo) -> torch.nn.Module:
        return make_encoder(cfg, data)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        return squared_error_terms(self.decoder(self.encode(x)), x, self.data.seeds)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x))


@register_method
class TiedAE(AE):
    """The encoder applies the decoder's ConvT weights as Conv2d weights (their adjoint)."""

    name = "tied_ae"
    title = "Tied AE"

    def make_encoder(self, cfg: DecoderConfig, data: DataInfo) -> torch.nn.Module:
        return TiedConvEncoder(self.decoder, activation=cfg.activation)
