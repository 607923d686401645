"""DRAW's selective attention: an N x N grid of Gaussian filters (Gregor et al. 2015, Sec. 3.2, Eqs. 19-29).

Five numbers per image, a linear map of the decoder state (Eq. 21), place the grid:
    (g~X, g~Y, log sigma^2, log delta~, log gamma)
    gX = (A + 1) / 2 (g~X + 1),  gY = (B + 1) / 2 (g~Y + 1)             grid centre (Eqs. 22-23)
    delta = (max(A, B) - 1) / (N - 1) delta~                          stride (Eq. 24)
    mu_X^i = gX + (i - N/2 - 0.5) delta, i = 1..N (the same for Y)     filter centres (Eqs. 19-20)
    F_X[i, a] = exp(-(a - mu_X^i)^2 / (2 sigma^2)) / Z_X, with sum_a F_X[i, a] = 1   (Eqs. 25-26)
Pixel coordinates run a = 1..A (columns, x) and b = 1..B (rows, y): the numbering under which g~ = 0 is the
image centre (A + 1) / 2, and g~ = -1 / +1 are the positions 0 and A + 1 one pixel beyond the outer pixels.
Each row of F is normalised with a softmax over the pixels: the same Z as Eq. (25), computed without the 0 / 0
that the plain quotient meets when a narrow filter sits far outside the image (every exp underflows).

read  = gamma F_Y x F_X^T (an N x N glimpse per channel, Eq. 27)
write = (1 / gamma^) F^_Y^T w F^_X (an N x N patch spread over the canvas, Eq. 29)
Colour images use the same filters on every channel (Sec. 3.3).
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from ..errors import ConfigError

ATTENTION_PARAMS = 5  # g~X, g~Y, log sigma^2, log delta~, log gamma


class Window(NamedTuple):
    """One attention grid per image, each [B]: centre (paper coordinates, 1-based), stride, variance, intensity."""

    gx: torch.Tensor
    gy: torch.Tensor
    delta: torch.Tensor
    variance: torch.Tensor
    gamma: torch.Tensor


def window_from_params(params: torch.Tensor, *, height: int, width: int, n: int) -> Window:
    """The grid of Eqs. (21)-(24) from the linear map's output [B, 5] for B x A = height x width images."""
    if n < 2:
        raise ConfigError(f"an attention grid of N={n} filters per axis is too small; valid: N >= 2 (the stride "
                          f"divides by N - 1)")
    gx_t, gy_t, log_var, log_delta, log_gamma = params.unbind(-1)
    return Window(gx=(width + 1) / 2 * (gx_t + 1), gy=(height + 1) / 2 * (gy_t + 1),
                  delta=(max(height, width) - 1) / (n - 1) * torch.exp(log_delta),
                  variance=torch.exp(log_var), gamma=torch.exp(log_gamma))


def filter_centres(centre: torch.Tensor, delta: torch.Tensor, n: int) -> torch.Tensor:
    """mu^i = g + (i - N/2 - 0.5) delta for i = 1..N -> [..., N] (Eqs. 19-20): symmetric about g."""
    offsets = torch.arange(1, n + 1, dtype=centre.dtype, device=centre.device) - n / 2 - 0.5
    return centre[..., None] + offsets * delta[..., None]


def filterbank(centre: torch.Tensor, delta: torch.Tensor, variance: torch.Tensor, n: int, size: int) -> torch.Tensor:
    """F [..., N, size]: row i is the Gaussian at mu^i over pixels 1..size, normalised to sum 1 (Eqs. 25-26).
    ``centre``, ``delta`` and ``variance`` broadcast against each other ([B] each, or [B, 2] centres)."""
    mu = filter_centres(centre, delta, n)
    pixels = torch.arange(1, size + 1, dtype=centre.dtype, device=centre.device)
    logits = (pixels - mu[..., None]) ** 2 / (-2 * variance[..., None, None])
    return torch.softmax(logits, dim=-1)


def filterbanks(window: Window, *, height: int, width: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(F_Y [B, N, height], F_X [B, N, width]) of one window; both axes share the stride and the variance
    (square images: both in one pass)."""
    if height != width:
        return (filterbank(window.gy, window.delta, window.variance, n, height),
                filterbank(window.gx, window.delta, window.variance, n, width))
    centres = torch.stack([window.gy, window.gx], 1)
    both = filterbank(centres, window.delta[:, None], window.variance[:, None], n, height)
    return both[:, 0], both[:, 1]


def read_glimpse(images: torch.Tensor, fy: torch.Tensor, fx: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    """gamma F_Y x F_X^T: images [B, C, H, W] -> glimpses [B, C, N, N], the same filters on every channel.
    Written as two batched products over the B images, channels folded in (one small product per image and
    channel costs ~1.5x as much on a CPU thread)."""
    b, c, h, w = images.shape
    n = fy.shape[1]
    rows = torch.bmm(fy, images.transpose(1, 2).reshape(b, h, c * w))  # [B, N, C*W]: F_Y x per channel
    out = torch.bmm(rows.view(b, n * c, w), fx.transpose(1, 2))  # [B, N*C, N]: (F_Y x) F_X^T
    return gamma[:, None, None, None] * out.view(b, n, c, n).transpose(1, 2)


def write_patch(patch: torch.Tensor, fy: torch.Tensor, fx: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    """(1 / gamma) F_Y^T w F_X: patches [B, C, N, N] -> canvas increments [B, C, H, W] (folded as read_glimpse)."""
    b, c, n, _ = patch.shape
    h, w = fy.shape[2], fx.shape[2]
    rows = torch.bmm(fy.transpose(1, 2), patch.transpose(1, 2).reshape(b, n, c * n))  # [B, H, C*N]
    out = torch.bmm(rows.view(b, h * c, n), fx)  # [B, H*C, W]
    return out.view(b, h, c, w).transpose(1, 2) / gamma[:, None, None, None]


def window_extent(window: Window, n: int) -> torch.Tensor:
    """The grid's extent as [B, 4] = (x0, y0, x1, y1) in array indices (0-based columns and rows): the outer
    filter centres, centre -+ (N - 1) delta / 2, shifted from the paper's 1-based pixel numbers."""
    half = (n - 1) * window.delta / 2
    return torch.stack([window.gx - half, window.gy - half, window.gx + half, window.gy + half], -1) - 1

