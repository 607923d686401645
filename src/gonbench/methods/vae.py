"""VAE versus variational GON (GON paper, Sec. 3.3 and Table 2; reference code Variational-GON.py).

Both share the decoder (nz=48, ngf=32) and the heads Linear mu / Linear logvar, reparameterise, and train
on the same negative ELBO (likelihood + KL). They differ only in where the head's input comes from: the
VAE's mirrored convolutional encoder, or VGON's negative gradient at the origin of the same ELBO terms.
The validation metric is elbo_bpd = -ELBO / (D ln 2) with ``eval_samples`` Monte Carlo samples of z.
"""
from __future__ import annotations

import abc
import math
from dataclasses import dataclass

import torch
import torch.nn as nn

from .. import likelihoods as L
from ..nets import ConvDecoder, ConvEncoder
from .base import Batch, DataInfo, Method, MethodConfig, check_geometry, register_method


@dataclass
class VAEConfig(MethodConfig):
    nz: int = 48  # GON paper, Table 2
    ngf: int = 32
    depth: int = 3
    activation: str = "elu"
    likelihood: L.Likelihood = "discretized_logistic"  # see gonbench.likelihoods for why
    kl_weight: float = 1.0  # the reference code's weight (no annealing)
    eval_samples: int = 1  # Monte Carlo samples of z per image for the validation ELBO


class VariationalBase(Method):
    """Heads, reparameterisation, likelihood and ELBO; subclasses say how the head input is obtained."""

    Config = VAEConfig

    def __init__(self, cfg: VAEConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.decoder = check_geometry(ConvDecoder(nz=cfg.nz, ngf=cfg.ngf, nc=data.channels, depth=cfg.depth,
                                                  activation=cfg.activation), data)
        self.fc_mu = nn.Linear(cfg.nz, cfg.nz)
        self.fc_logvar = nn.Linear(cfg.nz, cfg.nz)
        # one log-scale per channel for the discretised logistic (unused by the Bernoulli likelihood)
        self.log_scale = nn.Parameter(torch.full((1, data.channels, 1, 1), math.log(0.1)))

    @abc.abstractmethod
    def head_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the Linear mu / logvar heads read: an encoder's output (VAE) or -grad at the origin (VGON)."""

    def neg_elbo(self, h: torch.Tensor, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-image -ELBO [B] = NLL(x | decoder(z)) + kl_weight * KL(q(z|h) || p(z)), z ~ q(z|h)."""
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        mean = self.decoder(z)
        nll = self.nll(mean, x)
        kl = L.gaussian_kl(mu, logvar)
        return {"neg_elbo": nll + self.cfg.kl_weight * kl, "nll": nll, "kl": kl, "mean": mean}

    def nll(self, mean: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self.cfg.likelihood == "bernoulli":
            return L.bernoulli_nll(mean, x)
        return L.discretized_logistic_nll(mean, self.log_scale, x)

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        terms = self.neg_elbo(self.head_input(x), x)
        dims = x[0].numel()
        return {"loss": terms["neg_elbo"].mean(), "nll": terms["nll"].mean(), "kl": terms["kl"].mean(),
                "bpd": terms["neg_elbo"].mean() / (dims * math.log(2))}

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        h = self.head_input(x).detach()
        with torch.no_grad():
            runs = [self.neg_elbo(h, x) for _ in range(self.cfg.eval_samples)]
            neg_elbo = torch.stack([r["neg_elbo"] for r in runs]).mean(0)
            recon = self.decoder(self.fc_mu(h))
        dims = x[0].numel()
        return {"elbo_bpd": neg_elbo / (dims * math.log(2)), "recon_sse": ((recon - x) ** 2).flatten(1).sum(1),
                "kl": torch.stack([r["kl"] for r in runs]).mean(0), "_recon": recon}

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.fc_mu(self.head_input(x).detach()))

    def sample(self, n: int) -> torch.Tensor:
        device = self.fc_mu.weight.device
        return self.decoder(torch.randn(n, self.cfg.nz, device=device))


@register_method
class VAE(VariationalBase):
    """Mirrored convolutional encoder -> Linear mu / logvar -> reparameterise -> GON decoder."""

    name = "vae"
    paper = "Kingma & Welling 2014; GON paper Table 2 baseline"

    def __init__(self, cfg: VAEConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.encoder = ConvEncoder(nz=cfg.nz, ngf=cfg.ngf, nc=data.channels, depth=cfg.depth, activation=cfg.activation)

    def head_input(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)


@register_method
class VGON(VariationalBase):
    """Variational GON: the head input is -grad at the origin of the batch-mean -ELBO (one step)."""

    name = "vgon"
    paper = "Bond-Taylor & Willcocks 2021, Sec. 3.3"

    def head_input(self, x: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            z0 = torch.zeros(x.shape[0], self.cfg.nz, device=x.device, dtype=x.dtype, requires_grad=True)
            inner = self.neg_elbo(z0, x)["neg_elbo"].mean()
            (grad,) = torch.autograd.grad(inner, [z0], create_graph=self.training)
        return -grad
