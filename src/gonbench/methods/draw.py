"""DRAW (Gregor et al., ICML 2015, arXiv:1502.04623): a recurrent VAE that builds its image over T glimpses.

The loss is the paper's (Sec. 2.2, Eqs. 9-12): -ELBO = -log D(x | sigmoid(c_T)) + sum_t KL(Q(z_t | h^enc_t) ||
N(0, I)), one reparameterised z per step. D is the suite's discretised logistic on 8-bit pixels with a learned
per-channel log-scale by default (the likelihood of methods/vae.py, so the bits/dim sit beside Table 2's), or
the paper's Bernoulli with ``likelihood: bernoulli``. The two registered variants differ only in read and
write (nets/draw.py): Gaussian attention grids (``draw``) or the whole image and canvas (``draw_no_attention``,
Sec. 3.1), at equal T, hidden size and latent size.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

import torch
import torch.nn as nn

from .. import likelihoods as L
from .. import metrics as M
from ..nets.draw import DrawNet, DrawPass
from ..typecheck import NonNegativeFloat, PositiveFloat, PositiveInt, Range
from .base import Batch, DataInfo, Method, MethodConfig, register_method

GridSize = Annotated[int, Range(2)]  # N filters per axis: the stride (Eq. 24) divides by N - 1


@dataclass
class DRAWConfig(MethodConfig):
    """The paper's MNIST model (Table 3: 64 glimpses, 256 LSTM units, 100-d z, read 2x2, write 5x5)."""

    lr: PositiveFloat = 3e-4  # Adam at the rate of Bornschein's public reimplementation's MNIST run (r2, w5, T=64)
    time_steps: PositiveInt = 64  # T, glimpses (Table 3, MNIST)
    lstm_hidden: PositiveInt = 256  # units of each of the encoder and decoder LSTMs (Table 3)
    nz: PositiveInt = 100  # latent size per glimpse (Table 3)
    read_n: GridSize = 2  # read grid N x N (Table 3, MNIST with attention)
    write_n: GridSize = 5  # write grid N x N (Table 3)
    attention: bool = True  # False: read the whole image and error image, write the whole canvas (Sec. 3.1)
    likelihood: L.Likelihood = "discretized_logistic"  # the suite's Table 2 unit; "bernoulli" is the paper's
    eval_samples: PositiveInt = 1  # Monte Carlo samples of z per image for the validation ELBO (as the VAE)
    grad_clip: NonNegativeFloat = 10.0  # global gradient-norm bound (Bornschein's StepClipping(10)); 0 = none


@register_method
class DRAW(Method):
    """Recurrent VAE with an LSTM encoder and decoder, T glimpses, Gaussian read/write attention."""

    name = "draw"
    Config = DRAWConfig
    paper = "Gregor et al., DRAW: A Recurrent Neural Network For Image Generation, ICML 2015"
    title = "DRAW"
    row_group = "Negative ELBO (bits/dim)"
    metrics = frozenset({"elbo_bpd", "recon_sse", "kl", "psnr", "ssim"})

    def __init__(self, cfg: DRAWConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.net = DrawNet(channels=data.channels, image_size=data.image_size, time_steps=cfg.time_steps,
                           hidden=cfg.lstm_hidden, nz=cfg.nz, read_n=cfg.read_n, write_n=cfg.write_n,
                           attention=cfg.attention)
        # one log-scale per channel for the discretised logistic (unused by the Bernoulli likelihood), as the VAE
        self.log_scale = nn.Parameter(torch.full((data.channels,), math.log(0.1)))

    # -- the bound --------------------------------------------------------------------------------------
    def log_probs(self, mean: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self.cfg.likelihood == "bernoulli":
            return L.bernoulli_log_probs(mean, x)
        return L.discretized_logistic_log_probs(mean, self.log_scale.view(1, -1, 1, 1), x)

    @staticmethod
    def step_kls(out: DrawPass) -> torch.Tensor:
        """KL(Q(z_t | h^enc_t) || N(0, I)) per image and glimpse [B, T], in closed form (Eq. 11's terms)."""
        return L.gaussian_kl_terms(out.mu, 2 * out.log_sigma).sum(2)

    def neg_elbo(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """-ELBO per image [B] = NLL(x | sigmoid(c_T)) + sum_t KL_t, with z_t ~ Q reparameterised."""
        out = self.net.infer(x, self.randn_like)
        mean = torch.sigmoid(out.canvas)
        nll = -self.log_probs(mean, x).flatten(1).sum(1)
        kl = self.step_kls(out).sum(1)
        return {"neg_elbo": nll + kl, "nll": nll, "kl": kl}

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        terms = self.neg_elbo(x)
        loss = terms["neg_elbo"].mean()
        return {"loss": loss, "nll": terms["nll"].mean(), "kl": terms["kl"].mean(),
                "bpd": M.bits_per_dim(loss, x[0].numel())}

    def clip_gradients(self) -> None:
        """The gradient norm bounded before the Adam step (T unrolled LSTM steps)."""
        if self.cfg.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.parameters(), self.cfg.grad_clip)

    # -- evaluation -------------------------------------------------------------------------------------
    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        with torch.no_grad():
            runs = [self.neg_elbo(x) for _ in range(self.cfg.eval_samples)]
            recon = self.reconstruct(x)
        neg_elbo = torch.stack([r["neg_elbo"] for r in runs]).mean(0)
        return {"elbo_bpd": M.bits_per_dim(neg_elbo, x[0].numel()), "recon_sse": M.recon_sse(recon, x),
                "kl": torch.stack([r["kl"] for r in runs]).mean(0), "_recon": recon}

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """sigmoid(c_T) with z_t = mu_t at every glimpse (the deterministic path, as the VAE uses its mean)."""
        return torch.sigmoid(self.net.infer(x).canvas)

    def prior_latents(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z_t ~ N(0, I) for the T glimpses [n, T, nz] (drawn on the CPU when a generator is given)."""
        device = self.log_scale.device
        shape = (n, self.cfg.time_steps, self.cfg.nz)
        if generator is None:
            return torch.randn(shape, device=device)
        return torch.randn(shape, generator=generator).to(device)

    def sample(self, n: int) -> torch.Tensor:
        """The image mean sigmoid(c_T) of z_t ~ N(0, I) (as VAE.sample returns the decoder's mean)."""
        return torch.sigmoid(self.net.generate(self.prior_latents(n)).canvas)

    def canvas_trace(self, z: torch.Tensor | None = None, x: torch.Tensor | None = None) -> DrawPass:
        """Every step's sigmoid(c_t) and write window, generating from latents z [B, T, nz] or reconstructing
        images x with z_t = mu_t (the data of the canvases figure)."""
        with torch.no_grad():
            if z is not None:
                return self.net.generate(z, record=True)
            return self.net.infer(x, record=True)


@dataclass
class DRAWNoAttentionConfig(DRAWConfig):
    attention: bool = False  # Sec. 3.1: the whole image in, the whole canvas out (Table 2: 87.40 nats vs 80.97)


@register_method
class DRAWNoAttention(DRAW):
    """DRAW without attention (Sec. 3.1): reads the whole image and error image, writes W h^dec to the whole canvas."""

    name = "draw_no_attention"
    Config = DRAWNoAttentionConfig
    title = "DRAW (no attention)"
