"""Metric definitions, each a pure function of tensors (unit-tested against hand-computed values).

recon_sse: squared error summed over C x H x W per image, then averaged over images (GON paper, Table 1).
elbo_bpd: negative ELBO in nats per image divided by (D ln 2), D = C x H x W (GON paper, Table 2).
psnr / ssim: data_range = 1, the definitions of torchmetrics (tests compare against it); computed here
because importing torchmetrics costs seconds in every evaluation job.
"""
from __future__ import annotations

import math

import torch


def recon_sse(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-image summed squared error [B]."""
    return ((x_hat - x) ** 2).flatten(1).sum(1)


def bits_per_dim(nll_nats: torch.Tensor, dims: int) -> torch.Tensor:
    """Per-image negative log-likelihood (nats) -> bits per dimension."""
    return nll_nats / (dims * math.log(2.0))


def psnr(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """10 log10(1 / MSE) over the whole set (torchmetrics' default reduction), data range 1."""
    mse = ((x_hat.clamp(0, 1) - x) ** 2).mean()
    return float(10 * torch.log10(1.0 / mse))


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    t = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(t**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """Mean SSIM (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, k1 = .01, k2 = .03, data range 1,
    reflect-padded borders, averaged over pixels, channels and images (torchmetrics' convention)."""
    import torch.nn.functional as F

    a, b = x_hat.clamp(0, 1).double(), x.double()
    c = a.shape[1]
    g = _gaussian_window().to(a.device)
    kernel = (g[:, None] * g[None, :]).expand(c, 1, 11, 11).contiguous()

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(t, (5, 5, 5, 5), mode="reflect"), kernel, groups=c)

    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = (blur(a * a) - mu_a**2).clamp_min(0), (blur(b * b) - mu_b**2).clamp_min(0)
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    score = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(score.mean())
