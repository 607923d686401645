"""DCGAN (Radford, Metz & Chintala, "Unsupervised Representation Learning with Deep Convolutional Generative
Adversarial Networks", ICLR 2016): the GAN baseline of the sample-quality table.

Networks: nets/dcgan.py (the paper's architecture guidelines). Training (Sec. 4): images scaled to [-1, 1],
the range of the generator's Tanh; noise z ~ U[-1, 1]^100 (Fig. 1); Adam with lr 2e-4 and beta1 0.5 for
both networks; the non-saturating GAN loss. One ``train_step`` is one discriminator update (on a real batch
and a fake batch, normalised by BatchNorm separately) followed by one generator update that reuses the same
fake batch: the generator runs forward once per step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch

from ..errors import ConfigError
from ..losses import discriminator_loss, nonsaturating_generator_loss
from ..nets import DCGANDiscriminator, DCGANGenerator
from ..typecheck import PositiveFloat, PositiveInt, Probability
from .base import Batch, DataInfo, Method, MethodConfig, register_method


@dataclass
class DCGANConfig(MethodConfig):
    lr: PositiveFloat = 2e-4  # Adam, both networks (Sec. 4: 1e-3 was too high)
    beta1: Probability = 0.5  # Sec. 4: 0.9 oscillated and was unstable
    beta2: Probability = 0.999  # Adam's default (the paper keeps it)
    nz: PositiveInt = 100  # Fig. 1: a 100-dimensional noise vector
    noise: Literal["uniform", "gaussian"] = "uniform"  # Fig. 1: uniform Z, here U[-1, 1]
    # 32x32 widths: the paper's 64x64 stack (1024, 512, 256, 128) less its widest block (nets/dcgan.py)
    g_widths: list[PositiveInt] = field(default_factory=lambda: [512, 256, 128])
    d_widths: list[PositiveInt] = field(default_factory=lambda: [128, 256, 512])


def to_tanh_range(x: torch.Tensor) -> torch.Tensor:
    return 2 * x - 1


@register_method
class DCGAN(Method):
    """Strided-convolution GAN: D and G alternate one Adam step each (lr 2e-4, beta1 0.5), non-saturating loss."""

    name = "dcgan"
    Config = DCGANConfig
    paper = "Radford, Metz & Chintala, DCGAN, ICLR 2016"
    title, row_group = "DCGAN", "GAN"
    metrics = frozenset({"d_real_prob"})

    def __init__(self, cfg: DCGANConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.generator = DCGANGenerator(nz=cfg.nz, widths=tuple(cfg.g_widths), nc=data.channels)
        self.discriminator = DCGANDiscriminator(nc=data.channels, widths=tuple(cfg.d_widths))
        sizes = {self.generator.image_size, self.discriminator.image_size}
        if sizes != {data.image_size}:
            raise ConfigError(f"g_widths={cfg.g_widths} and d_widths={cfg.d_widths} make and judge "
                              f"{self.generator.image_size}/{self.discriminator.image_size}px images but the data is "
                              f"{data.image_size}px; give each log2(image_size / 4) widths (3 for 32x32)")

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.cfg.beta1, self.cfg.beta2)
        return {"generator": torch.optim.Adam(self.generator.parameters(), lr=self.cfg.lr, betas=betas),
                "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=self.cfg.lr, betas=betas)}

    def draw_noise(self, n: int) -> torch.Tensor:
        device = next(self.generator.parameters()).device
        if self.cfg.noise == "uniform":
            return 2 * torch.rand(n, self.cfg.nz, device=device) - 1
        return torch.randn(n, self.cfg.nz, device=device)

    # -- training -----------------------------------------------------------------------------------
    def train_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, torch.Tensor]:
        real = to_tanh_range(batch["x"])
        fake = self.generator(self.draw_noise(len(real)))
        d_real, d_fake = self.discriminator(real), self.discriminator(fake.detach())
        d_loss = discriminator_loss(d_real, d_fake)
        opt_d = optimizers["discriminator"]
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward(inputs=list(self.discriminator.parameters()))
        opt_d.step()
        g_loss = nonsaturating_generator_loss(self.discriminator(fake))  # D after its update, the same fakes
        opt_g = optimizers["generator"]
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward(inputs=list(self.generator.parameters()))
        opt_g.step()
        return {"loss": d_loss.detach(), "d_loss": d_loss.detach(), "g_loss": g_loss.detach(),
                "d_real_prob": torch.sigmoid(d_real.detach()).mean(), "d_fake_prob": torch.sigmoid(d_fake.detach()).mean()}

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The forward of one step without its updates (what BatchNorm's recal protocol replays): G on noise,
        D on the real and on the fake batch."""
        real = to_tanh_range(batch["x"])
        fake = self.generator(self.draw_noise(len(real)))
        d_real, d_fake = self.discriminator(real), self.discriminator(fake)
        return {"loss": discriminator_loss(d_real, d_fake), "g_loss": nonsaturating_generator_loss(d_fake)}

    # -- evaluation ---------------------------------------------------------------------------------
    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """D's probability that held-out images are real: near the training batches' value unless D has
        memorised the training images."""
        return {"d_real_prob": torch.sigmoid(self.discriminator(to_tanh_range(batch["x"])))}

    def sample(self, n: int) -> torch.Tensor:
        return (self.generator(self.draw_noise(n)) + 1) / 2
