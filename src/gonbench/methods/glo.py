"""Generative Latent Optimization (Bojanowski et al., 2018) as the GON paper's Table 1 baseline.

Each training image owns a free latent (an embedding table indexed by the image's position), optimised
jointly with the decoder; unlike the original GLO there is no projection onto the unit sphere (GON paper,
Sec. 4). Validation images have no latents, so they are fitted with the decoder frozen: ``fit_steps``
Adam steps at ``fit_lr`` from the origin, recorded in the run's config.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from ..losses import squared_error
from ..typecheck import NonNegativeFloat, PositiveFloat, PositiveInt
from .base import Batch, DataInfo, Method, register_method
from .decoder import DecoderConfig, make_decoder


@dataclass
class GLOConfig(DecoderConfig):
    latent_lr: PositiveFloat = 1e-3  # Adam on the latent table (the decoder uses lr)
    latent_init_std: NonNegativeFloat = 0.1  # latents start at N(0, std^2 I)
    fit_steps: PositiveInt = 100  # validation latents: Adam steps with the decoder frozen
    fit_lr: PositiveFloat = 1e-2


@register_method
class GLO(Method):
    """A free latent per training image, optimised with the decoder; validation latents fitted (Table 1, "GLO")."""

    name = "glo"
    Config = GLOConfig
    paper = "Bojanowski et al., Optimizing the Latent Space of Generative Networks, ICML 2018"

    def __init__(self, cfg: GLOConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.decoder = make_decoder(cfg, data)
        self.latents = nn.Embedding(data.train_size, self.decoder.latent_dim)
        nn.init.normal_(self.latents.weight, std=cfg.latent_init_std)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"main": torch.optim.Adam([{"params": self.decoder.parameters(), "lr": self.cfg.lr},
                                          {"params": self.latents.parameters(), "lr": self.cfg.latent_lr}])}

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        return {"loss": squared_error(self.decoder(self.latents(batch["index"])), x)}

    def fit_latents(self, x: torch.Tensor) -> torch.Tensor:
        """Latents for unseen images: minimise the training loss over z only (decoder weights frozen)."""
        z = torch.zeros(x.shape[0], self.decoder.latent_dim, device=x.device, dtype=x.dtype, requires_grad=True)
        opt = torch.optim.Adam([z], lr=self.cfg.fit_lr)
        frozen = [p for p in self.decoder.parameters() if p.requires_grad]
        for p in frozen:
            p.requires_grad_(False)
        try:
            with torch.enable_grad():
                for _ in range(self.cfg.fit_steps):
                    opt.zero_grad(set_to_none=True)
                    squared_error(self.decoder(z), x).backward()
                    opt.step()
        finally:
            for p in frozen:
                p.requires_grad_(True)
        return z.detach()

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.fit_latents(x))
