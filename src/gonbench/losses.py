"""Training losses shared by several methods (the likelihoods of the variational methods are in likelihoods.py).

These are what the optimisers minimise; the numbers the tables report are defined in metrics.py.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from . import metrics as M


def squared_error(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The GON reference code's loss: squared error summed over channels, averaged over batch and pixels."""
    return ((x_hat - x) ** 2).sum(1).mean()


def seed_squared_error(x_hat: torch.Tensor, x: torch.Tensor, seeds: int) -> torch.Tensor:
    """``squared_error`` of each of ``seeds`` networks stacked on the channel axis ([B, S*C, H, W]) -> [S];
    with one seed it is exactly ``squared_error`` (the same reduction)."""
    b, sc, h, w = x.shape
    return ((x_hat - x) ** 2).view(b, seeds, sc // seeds, h, w).sum(2).mean((0, 2, 3))


def squared_error_terms(x_hat: torch.Tensor, x: torch.Tensor, seeds: int) -> dict[str, torch.Tensor]:
    """The GON paper's training loss (``seed_squared_error``: per pixel, channels summed) and the same error
    per image (x H*W, metrics.recon_sse's unit), which the loop logs as ``train_recon_sse`` beside the
    validation's ``val_recon_sse``."""
    loss = seed_squared_error(x_hat, x, seeds)
    return {"loss": loss, "recon_sse": loss.detach() * (x.shape[-2] * x.shape[-1])}


def seed_sum(loss_fn, seeds: int):
    """The sum over stacked seeds of a per-seed loss: the scalar whose gradient is each seed's own (the
    seeds' parameters and latents are disjoint)."""
    return lambda x_hat, x: loss_fn(x_hat, x, seeds).sum()


def coordinate_loss(pred: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Implicit GON: squared error summed over coordinates (the integral over the image), averaged over
    batch and channels; ``pred`` and ``x`` are [B, points, C]."""
    return ((pred - x) ** 2).sum(1).mean()


# -- moment matching (GMMN, MMD autoencoder) ---------------------------------------------------------
def gmmn_loss(samples: torch.Tensor, data: torch.Tensor, bandwidths: Sequence[float]) -> torch.Tensor:
    """GMMN (Li et al. 2015, Sec. 3): the square root of the biased MMD^2 (every pair, >= 0) between a batch
    of generated samples and a batch of data [B, D] under a sum of Gaussian kernels, as the paper's code
    trains it (its loss ``mmdgen_sqrt_gaussian``). The tiny floor keeps the square root's gradient finite
    when the two batches coincide."""
    return torch.sqrt(M.mmd2(samples, data, M.gaussian_kernel(bandwidths), unbiased=False).clamp_min(0) + 1e-12)


def mmd_prior_penalty(codes: torch.Tensor, prior: torch.Tensor, constants: Sequence[float]) -> torch.Tensor:
    """WAE-MMD's divergence (Tolstikhin et al. 2018, Algorithm 2): unbiased MMD^2 between a batch of codes and
    as many prior draws under the inverse multiquadratic kernel summed over ``constants`` C."""
    return M.mmd2(codes, prior, M.inverse_multiquadratic_kernel(constants))


# -- adversarial (DCGAN, adversarial autoencoder) ----------------------------------------------------
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The GAN discriminator's cross-entropy (Goodfellow et al. 2014): -log D(real) - log(1 - D(fake)), each
    averaged over its batch, with D = sigmoid(logit) (softplus form: no log of a rounded probability)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def nonsaturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(fake) averaged over the batch: the non-saturating generator loss (Goodfellow et al. 2014, Sec. 3),
    which DCGAN trains with and whose gradient stays large while D rejects the samples."""
    return F.softplus(-fake_logits).mean()


def l1_ssim_loss(x_hat: torch.Tensor, x: torch.Tensor, ssim_weight: float = 1.0) -> dict[str, torch.Tensor]:
    """The super-resolution loss of Ravì et al. (2018): mean absolute error + ssim_weight * (1 - mean SSIM),
    SSIM the suite's (metrics.ssim_map, differentiable); returns the loss and both terms."""
    l1 = (x_hat - x).abs().mean()
    ssim = M.ssim_map(x_hat, x).mean()
    return {"loss": l1 + ssim_weight * (1 - ssim), "l1": l1.detach(), "ssim": ssim.detach()}
