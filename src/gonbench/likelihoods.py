"""Per-image negative log-likelihoods of images in [0, 1] under a decoder's output (GON paper, Table 2).

bernoulli: the reference code's binary cross-entropy against [0, 1] pixel intensities. It is not a
    normalised likelihood of 8-bit images, so its bits/dim is not comparable with the literature.
discretized_logistic: each 8-bit pixel value k/255 gets the mass of a logistic (mean = decoder output,
    one learned log-scale per channel) over the bin [k/255 - 1/510, k/255 + 1/510], the edge bins taking
    the tails. A proper discrete likelihood, so bits/dim is comparable across datasets and with other work.
    It is evaluated in log space, so it stays accurate in float32, with a nonzero gradient, far from the mean.
categorical: a 256-way softmax over the 8-bit values of every sub-pixel (the autoregressive models of
    van den Oord et al. 2016, whose logits of a sub-pixel depend only on the sub-pixels before it). The product
    of these conditionals is the image's exact likelihood, over the same 256 levels as the two above.
"""
from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F

Likelihood = Literal["discretized_logistic", "bernoulli"]
HALF_BIN = 1.0 / 510.0
MIDPOINT_BELOW = 1e-4  # bin width in units of the scale below which the midpoint rule replaces the exact mass


def _log1mexp(d: torch.Tensor) -> torch.Tensor:
    """log(1 - exp(-d)) for d > 0, accurate for small and large d (expm1 below log 2, log1p above)."""
    return torch.where(d < math.log(2), torch.log(-torch.expm1(-d)), torch.log1p(-torch.exp(-d)))


def bernoulli_log_probs(mean: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-pixel log-likelihood: minus the binary cross-entropy (nats), the shape of x."""
    return -F.binary_cross_entropy(mean.clamp(1e-7, 1 - 1e-7), x, reduction="none")


def bernoulli_nll(mean: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Summed binary cross-entropy per image [B] (nats)."""
    return -bernoulli_log_probs(mean, x).flatten(1).sum(1)


def discretized_logistic_nll(mean: torch.Tensor, log_scale: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Summed -log P(x) per image [B] (nats) for 8-bit images in [0, 1]; ``log_scale`` broadcasts to x."""
    return -discretized_logistic_log_probs(mean, log_scale, x).flatten(1).sum(1)


def discretized_logistic_log_probs(mean: torch.Tensor, log_scale: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-pixel log P(x) (nats), the shape of x, for 8-bit images in [0, 1]; ``log_scale`` broadcasts to x.

    With a = (x + 1/510 - mean) / s and b = (x - 1/510 - mean) / s the bin mass is sigmoid(a) - sigmoid(b), and
    for a > b it factorises as sigmoid(a) * sigmoid(-b) * (1 - exp(-(a - b))), where a - b = d = 1 / (255 s).
    Its log is a sum of three non-positive terms, so nothing cancels: the float32 result keeps its relative
    accuracy where both sigmoids round to 1 (or to 0), and so does its gradient. The bottom bin is
    log sigmoid(a), the top bin log sigmoid(-b).
    """
    x = (x * 255).round() / 255  # the likelihood is over the 256 levels
    centered = x - mean
    inv_s = torch.exp(-log_scale)
    a = inv_s * (centered + HALF_BIN)
    b = inv_s * (centered - HALF_BIN)
    d = inv_s * (2 * HALF_BIN)  # a - b, taken from the scale rather than by subtracting a and b
    log_upper = F.logsigmoid(a)  # log sigmoid(a): the bottom bin's log-mass
    log_lower = F.logsigmoid(-b)  # log (1 - sigmoid(b)): the top bin's log-mass
    # Bins narrower than MIDPOINT_BELOW (in units of s) take the density at the centre times the width: the
    # midpoint rule's log-mass is off by at most d^2 / 24 (4e-10 at the threshold), and against a float64
    # reference both forms agree to float32 rounding for every d below ~4e-3, whereas log(1 - exp(-d)) turns
    # -inf once d underflows (log_scale above ~97). The clamp keeps the unused branch and its gradient finite.
    interior = log_upper + log_lower + _log1mexp(d.clamp_min(MIDPOINT_BELOW))
    mid = inv_s * centered
    midpoint = mid - 2 * F.softplus(mid) - log_scale - math.log(255)
    interior = torch.where(d < MIDPOINT_BELOW, midpoint, interior)
    return torch.where(x < HALF_BIN, log_upper, torch.where(x > 1 - HALF_BIN, log_lower, interior))


def categorical_log_probs(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-sub-pixel log P(x) (nats) [B, C, H, W] of images in [0, 1] under logits [B, C, 256, H, W]."""
    levels = (x * 255).round().long().unsqueeze(2)  # the likelihood is over the 256 levels
    return torch.log_softmax(logits, 2).gather(2, levels).squeeze(2)


def categorical_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Summed -log P(x) per image [B] (nats): the exact negative log-likelihood of an autoregressive model."""
    return -categorical_log_probs(logits, x).flatten(1).sum(1)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per row [B], in closed form."""
    return gaussian_kl_terms(mu, logvar).sum(1)


def gaussian_kl_terms(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The KL per latent coordinate (sum them for a row's KL)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def seed_sums(terms: torch.Tensor, seeds: int) -> torch.Tensor:
    """Per-example sums of elementwise terms [B, S*k, ...] for each of ``seeds`` stacked networks -> [B, S]."""
    return terms.reshape(terms.shape[0], seeds, -1).sum(2)
