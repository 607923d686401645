"""Generative moment matching networks (Li, Swersky & Zemel, ICML 2015; the authors' code yujiali/gmmn).

A generator maps noise h ~ U[-1, 1]^10 through ReLU fully connected layers to a sigmoid output and is trained
to minimise the MMD between a minibatch of its samples and a minibatch of data (as many of each, Sec. 3.2):
the square root of the biased MMD^2 under a sum of Gaussian kernels (losses.gmmn_loss). There is no
discriminator and no inner loop: one forward, one backward, one Adam step.

Two variants share everything but the space the MMD is taken in:
- ``gmmn``: pixel space; the output is the image.
- ``gmmn_ae`` (GMMN+AE, Sec. 3.3): the space of the codes of an autoencoder trained first and frozen
  (pretrain.py registers one per dataset, nets/dense.py); the generator makes codes, matched to the codes of
  the data batch, and its samples are the frozen decoder's images of them. The code MMD uses the kernel set of
  the paper's code for MNIST codes (a single bandwidth, 1).

Optimiser: the paper's code takes SGD steps (lr 2, momentum 0.9, loss scaled by 1000, 40,000 minibatches of
1,000); we use Adam at ``lr``, which reaches usable samples in the few hundred steps a CPU profile affords.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

import torch
import torch.nn as nn

from .. import metrics as M
from ..errors import ConfigError
from ..losses import gmmn_loss
from ..nets import MLP, DenseAutoencoder
from ..typecheck import PositiveFloat, PositiveInt
from .base import Batch, DataInfo, Method, MethodConfig, register_method

Noise = Literal["uniform", "gaussian"]


@dataclass
class GMMNConfig(MethodConfig):
    lr: PositiveFloat = 1e-3  # Adam (the paper's code: SGD, see the module docstring)
    noise_dim: PositiveInt = 10  # the code's n_hids[0]: h in R^10
    noise: Noise = "uniform"  # U[-1, 1] (the code's sample_hiddens); "gaussian": N(0, I)
    hidden: list[PositiveInt] = field(default_factory=lambda: [64, 256, 256, 1024])  # the code's ReLU layers (MNIST)
    bandwidths: list[PositiveFloat] = field(default_factory=lambda: [2.0, 5.0, 10.0, 20.0, 40.0, 80.0])  # MNIST pixels


@dataclass
class GMMNAEConfig(GMMNConfig):
    bandwidths: list[PositiveFloat] = field(default_factory=lambda: [1.0])  # the code's MNIST code space (mmd_sigma)
    autoencoder: str = ""  # the frozen autoencoder (`gonbench pretrain`), e.g. mnist_autoencoder; "" = untrained


@register_method
class GMMN(Method):
    """Pixel-space GMMN: the generator's sigmoid output is the flattened image."""

    name = "gmmn"
    Config = GMMNConfig
    paper = "Li, Swersky & Zemel, Generative Moment Matching Networks, ICML 2015"
    title, row_group = "GMMN", "Moment matching"
    metrics = frozenset({"matched_mmd2"})

    def __init__(self, cfg: GMMNConfig, data: DataInfo, networks: Mapping[str, nn.Module] | None = None) -> None:
        super().__init__(cfg, data)
        if not cfg.bandwidths:
            raise ConfigError("bandwidths=[]: give at least one Gaussian kernel bandwidth (the paper's pixel-space "
                              "set: 2, 5, 10, 20, 40, 80)")
        out_dim = self.build_target_space(networks or {})
        self.generator = MLP(widths=[cfg.noise_dim, *cfg.hidden, out_dim], activation="relu")

    # -- the space the MMD is taken in (overridden by GMMN+AE) -----------------------------------------
    def build_target_space(self, networks: Mapping[str, nn.Module]) -> int:
        """Build whatever maps images to the matched space; returns its dimension."""
        return self.data.channels * self.data.image_size**2

    def targets(self, x: torch.Tensor) -> torch.Tensor:
        """Images [B, C, H, W] -> the points the generator's samples are matched to [B, D]."""
        return x.flatten(1)

    def to_images(self, out: torch.Tensor) -> torch.Tensor:
        size = self.data.image_size
        return out.view(len(out), self.data.channels, size, size)

    # -- generation ---------------------------------------------------------------------------------
    def draw_noise(self, n: int, rng: torch.Generator | None = None) -> torch.Tensor:
        """n noise vectors (from the global RNG, or from ``rng`` on the CPU), on the model's device."""
        device = next(self.generator.parameters()).device
        shape = (n, self.cfg.noise_dim)
        if rng is not None:
            draw = torch.rand(shape, generator=rng) if self.cfg.noise == "uniform" else torch.randn(shape, generator=rng)
            draw = draw.to(device)
        else:
            draw = torch.rand(shape, device=device) if self.cfg.noise == "uniform" else torch.randn(shape, device=device)
        return 2 * draw - 1 if self.cfg.noise == "uniform" else draw

    def generate(self, noise: torch.Tensor) -> torch.Tensor:
        """Noise -> points of the matched space, squashed to [0, 1] by the sigmoid output layer."""
        return torch.sigmoid(self.generator(noise))

    # -- training and evaluation ----------------------------------------------------------------------
    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Adam on the generator alone (GMMN+AE's autoencoder is frozen)."""
        return {"main": torch.optim.Adam(self.generator.parameters(), lr=self.cfg.lr)}

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        """sqrt(biased MMD^2) between as many samples as the data batch holds and that batch."""
        data = self.targets(batch["x"])
        samples = self.generate(self.draw_noise(len(data)))
        return {"loss": gmmn_loss(samples, data, self.cfg.bandwidths)}

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The unbiased MMD^2 between a validation batch and as many samples, in the matched space under the
        training kernel (each image gets its batch's value, so the mean over images averages the batches).
        The noise comes from a generator seeded by the batch's position: validation never draws from the
        training RNG, and every validation pass compares against the same noise."""
        data = self.targets(batch["x"])
        rng = torch.Generator().manual_seed(int(batch["index"][0]))
        samples = self.generate(self.draw_noise(len(data), rng))
        value = M.mmd2(samples, data, M.gaussian_kernel(self.cfg.bandwidths))
        return {"matched_mmd2": value.expand(len(data))}

    def sample(self, n: int) -> torch.Tensor:
        return self.to_images(self.generate(self.draw_noise(n)))


@register_method
class GMMNAE(GMMN):
    """GMMN+AE: the generator makes codes of a frozen, pretrained autoencoder; samples are their decodings."""

    name = "gmmn_ae"
    Config = GMMNAEConfig
    title = "GMMN+AE"
    network_fields = ("autoencoder",)

    def build_target_space(self, networks: Mapping[str, nn.Module]) -> int:
        c, size = self.data.channels, self.data.image_size
        if "autoencoder" in networks:
            ae = networks["autoencoder"]
        else:  # no pretrained network named: an untrained one (unit tests), frozen all the same
            ae = DenseAutoencoder(channels=c, image_size=size).requires_grad_(False)
        if (ae.channels, ae.image_size) != (c, size):
            raise ConfigError(f"autoencoder {self.cfg.autoencoder!r} takes {ae.channels}x{ae.image_size}x"
                              f"{ae.image_size} images but the data is {c}x{size}x{size}; pretrain it at the runs' "
                              f"resolution (pretrained.{self.cfg.autoencoder}.image_size: {size})")
        self.autoencoder = ae.eval()
        return ae.code_dim

    def train(self, mode: bool = True) -> "GMMNAE":
        """The frozen autoencoder stays in eval mode (its encoder's dropout off) while the generator trains."""
        super().train(mode)
        self.autoencoder.eval()
        return self

    @torch.no_grad()
    def targets(self, x: torch.Tensor) -> torch.Tensor:
        return self.autoencoder.encode(x)

    def to_images(self, out: torch.Tensor) -> torch.Tensor:
        return self.autoencoder.decode(out)
