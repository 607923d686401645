"""The GON paper's convolutional decoder as every image method configures it (GON, AE, GLO, VAE, VGON).

One config block and one factory, so the methods compared in Tables 1 and 2 build exactly the same decoder
from exactly the same fields.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..nets import ConvDecoder, ConvEncoder
from ..typecheck import PositiveInt
from .base import DataInfo, MethodConfig


@dataclass
class DecoderConfig(MethodConfig):
    nz: PositiveInt = 32  # latent channels (GON paper, Table 1)
    ngf: PositiveInt = 16  # decoder width (16 -> 74,321 parameters for one channel)
    depth: PositiveInt = 3  # upsampling blocks after the stem: image size = stem size * 2**depth
    latent_hw: PositiveInt = 1  # latent spatial size L (Appendix B); the latent has nz * L * L values
    activation: str = "elu"


def _geometry(cfg: DecoderConfig, data: DataInfo) -> dict:
    return dict(nz=cfg.nz, ngf=cfg.ngf, nc=data.channels, depth=cfg.depth, activation=cfg.activation,
                latent_hw=cfg.latent_hw, seeds=data.seeds)


def make_decoder(cfg: DecoderConfig, data: DataInfo) -> ConvDecoder:
    """The decoder for ``data``; refuses a geometry whose output size is not the data's."""
    decoder = ConvDecoder(**_geometry(cfg, data))
    if decoder.image_size != data.image_size:
        raise ConfigError(f"the decoder makes {decoder.image_size}x{decoder.image_size} images but the data is "
                          f"{data.image_size}x{data.image_size}; choose depth and latent_hw so that "
                          f"stem size * 2**depth = image_size (stem size 4 for latent_hw=1, else latent_hw)")
    return decoder


def make_encoder(cfg: DecoderConfig, data: DataInfo) -> ConvEncoder:
    """The decoder's mirror (the AE's and the VAE's encoder)."""
    return ConvEncoder(**_geometry(cfg, data))
