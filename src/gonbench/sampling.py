"""MALA-approx, the class-conditional sampler of PPGN-h (Nguyen et al. 2017, Eq. 11; as in Pakdaman's thesis
code): a Langevin-like walk in code space whose prior step pulls h towards its own re-encoding E(G(h)) and
whose condition step climbs log p(c | G(h)) under the encoder's softmax,

    h <- h + eps1 (E_fc1(G(h)) - h) + eps2 grad_h log p(c | G(h)) + N(0, eps3^2 I).

Chains are batched (one row of h per chain); they never interact, so the gradient of the summed
log-probabilities is every chain's own gradient. Without classes the condition step is left out (eps2 = 0):
the prior step alone gives class-free samples.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

Net = Callable[[torch.Tensor], torch.Tensor]


def mala_approx_step(generator: Net, encoder: Callable, h: torch.Tensor, classes: torch.Tensor | None, *,
                     eps1: float, eps2: float, eps3: float, noise: torch.Tensor) -> torch.Tensor:
    """One update of every chain; ``encoder(x)`` returns (code, logits), ``noise`` is standard normal;
    ``classes`` None: the prior step only."""
    if classes is None:
        with torch.no_grad():
            code, _ = encoder(generator(h))
        return h + eps1 * (code - h) + eps3 * noise
    h = h.detach().requires_grad_(True)
    with torch.enable_grad():
        code, logits = encoder(generator(h))
        log_p = F.log_softmax(logits, dim=1).gather(1, classes[:, None]).sum()
        (grad,) = torch.autograd.grad(log_p, h)
    h = h.detach()
    return h + eps1 * (code.detach() - h) + eps2 * grad + eps3 * noise


def mala_approx(generator: Net, encoder: Callable, classes: torch.Tensor | None, *, steps: int, eps1: float,
                eps2: float, eps3: float, code_dim: int, rng: torch.Generator | None = None, chains: int | None = None,
                device: torch.device | str | None = None) -> torch.Tensor:
    """Final codes of ``len(classes)`` chains (or ``chains`` class-free ones) started at h0 ~ N(0, I) (not
    rectified, as in the thesis).

    Randomness comes from ``rng`` on the CPU, so a seed gives the same chains on any device.
    """
    device = classes.device if classes is not None else device
    h = torch.randn(len(classes) if classes is not None else chains, code_dim, generator=rng).to(device)
    for _ in range(steps):
        noise = torch.randn(h.shape, generator=rng).to(device)
        h = mala_approx_step(generator, encoder, h, classes, eps1=eps1, eps2=eps2, eps3=eps3, noise=noise)
    return h
