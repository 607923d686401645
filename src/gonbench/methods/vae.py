"""VAE versus variational GON (GON paper, Sec. 3.3 and Table 2; reference code Variational-GON.py).

Both share the decoder (nz=48, ngf=32) and the heads Linear mu / Linear logvar, reparameterise, and train
on the same negative ELBO (likelihood + KL). They differ only in where the head's input comes from: the
VAE's mirrored convolutional encoder, or VGON's negative gradient at the origin of the same ELBO terms.
The validation metric is elbo_bpd = -ELBO / (D ln 2) with ``eval_samples`` Monte Carlo samples of z.
Per-image terms are [B, S]: one column per stacked seed (DataInfo.seeds; one column when a run trains alone).
"""
from __future__ import annotations

import abc
import math
from dataclasses import dataclass

import torch
import torch.nn as nn

from .. import likelihoods as L
from .. import metrics as M
from ..nets import SeedLinear
from ..typecheck import NonNegativeFloat, PositiveInt
from .base import Batch, DataInfo, Method, register_method
from .decoder import DecoderConfig, make_decoder, make_encoder


@dataclass
class VAEConfig(DecoderConfig):
    nz: PositiveInt = 48  # GON paper, Table 2
    ngf: PositiveInt = 32
    likelihood: L.Likelihood = "discretized_logistic"  # see gonbench.likelihoods for why
    kl_weight: NonNegativeFloat = 1.0  # the reference code's weight (no annealing)
    eval_samples: PositiveInt = 1  # Monte Carlo samples of z per image for the validation ELBO


class VariationalBase(Method):
    """Heads, reparameterisation, likelihood and ELBO; subclasses say how the head input is obtained."""

    Config = VAEConfig
    row_group = "Negative ELBO (bits/dim)"
    metrics = frozenset({"elbo_bpd", "recon_sse", "kl", "psnr", "ssim"})
    seed_stackable = True

    def __init__(self, cfg: VAEConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.decoder = make_decoder(cfg, data)
        latent = self.decoder.latent_dim
        self.fc_mu = SeedLinear(latent, latent, seeds=data.seeds)
        self.fc_logvar = SeedLinear(latent, latent, seeds=data.seeds)
        # one log-scale per channel for the discretised logistic (unused by the Bernoulli likelihood)
        self.log_scale = nn.Parameter(torch.full((data.seeds * data.channels,), math.log(0.1)))

    @abc.abstractmethod
    def head_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the Linear mu / logvar heads read: an encoder's output (VAE) or -grad at the origin (VGON)."""

    def neg_elbo(self, h: torch.Tensor, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """-ELBO per image and seed [B, S] = NLL(x | decoder(z)) + kl_weight * KL(q(z|h) || p(z)), z ~ q(z|h)."""
        seeds = self.data.seeds
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = mu + self.randn_like(mu) * torch.exp(0.5 * logvar)
        mean = self.decoder(z)
        nll = -L.seed_sums(self.log_probs(mean, x), seeds)
        kl = L.seed_sums(L.gaussian_kl_terms(mu, logvar), seeds)
        return {"neg_elbo": nll + self.cfg.kl_weight * kl, "nll": nll, "kl": kl, "mean": mean}

    def log_probs(self, mean: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self.cfg.likelihood == "bernoulli":
            return L.bernoulli_log_probs(mean, x)
        return L.discretized_logistic_log_probs(mean, self.log_scale.view(1, -1, 1, 1), x)

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        terms = self.neg_elbo(self.head_input(x), x)
        loss = terms["neg_elbo"].mean(0)  # [S]
        return {"loss": loss, "nll": terms["nll"].mean(0), "kl": terms["kl"].mean(0),
                "bpd": M.bits_per_dim(loss, x[0].numel() // self.data.seeds)}

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        h = self.head_input(x).detach()
        with torch.no_grad():
            runs = [self.neg_elbo(h, x) for _ in range(self.cfg.eval_samples)]
            neg_elbo = torch.stack([r["neg_elbo"][:, 0] for r in runs]).mean(0)
            recon = self.decoder(self.fc_mu(h))
        return {"elbo_bpd": M.bits_per_dim(neg_elbo, x[0].numel()), "recon_sse": M.recon_sse(recon, x),
                "kl": torch.stack([r["kl"][:, 0] for r in runs]).mean(0), "_recon": recon}

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.fc_mu(self.head_input(x).detach()))

    def sample(self, n: int) -> torch.Tensor:
        device = self.fc_mu.weight.device
        return self.decoder(torch.randn(n, self.decoder.latent_dim, device=device))


@register_method
class VAE(VariationalBase):
    """Mirrored convolutional encoder -> Linear mu / logvar -> reparameterise -> GON decoder."""

    name = "vae"
    title = "VAE"
    paper = "Kingma & Welling 2014; GON paper Table 2 baseline"

    def __init__(self, cfg: VAEConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.encoder = make_encoder(cfg, data)

    def head_input(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)


@register_method
class VGON(VariationalBase):
    """Variational GON: the head input is -grad at the origin of the batch-mean -ELBO (one step)."""

    name = "vgon"
    title = "VGON"
    paper = "Bond-Taylor & Willcocks 2021, Sec. 3.3"

    def head_input(self, x: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            z0 = torch.zeros(x.shape[0], self.data.seeds * self.decoder.latent_dim, device=x.device, dtype=x.dtype,
                             requires_grad=True)
            inner = self.neg_elbo(z0, x)["neg_elbo"].mean(0).sum()  # each seed's batch mean, summed over seeds
            (grad,) = torch.autograd.grad(inner, [z0], create_graph=self.training)
        return -grad
