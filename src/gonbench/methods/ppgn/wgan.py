"""The WGAN-GP side of PPGN training: the critic schedule, the gradient penalty and one critic update."""
from __future__ import annotations

import torch
import torch.nn as nn

from ...nets import CodeCritic, ImageCritic
from .config import CriticName, PPGNConfig


def critic_iterations(gen_step: int, cfg: PPGNConfig) -> int:
    """Critic iterations before generator step ``gen_step`` (0-based)."""
    return cfg.burst_critic_iters if in_burst(gen_step, cfg) else cfg.critic_iters


def in_burst(gen_step: int, cfg: PPGNConfig) -> bool:
    return gen_step < cfg.burst_first_steps or gen_step % cfg.burst_every == 0


class CriticSchedule(nn.Module):
    """Where training is in the WGAN schedule; buffers, so a resumed run continues it.

    One ``tick`` per critic iteration. A cycle ends, and the generator steps, after critic_iterations(gen_step)
    iterations or at the last batch of an epoch, whichever is first: the thesis code follows the
    WassersteinGAN reference loop, which cuts a cycle short at the end of the data (15 MNIST epochs of 1,875
    batches give 4,993 generator steps, 19 after the first epoch).
    """

    def __init__(self, cfg: PPGNConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.register_buffer("gen_step", torch.zeros((), dtype=torch.long))
        self.register_buffer("cycle_iter", torch.zeros((), dtype=torch.long))
        self.register_buffer("epoch_iter", torch.zeros((), dtype=torch.long))

    def tick(self, batches_per_epoch: int) -> int:
        """Count one critic iteration; returns the cycle's iterations when the generator step is due, else 0."""
        self.cycle_iter += 1
        self.epoch_iter += 1
        epoch_end = int(self.epoch_iter) >= batches_per_epoch
        if epoch_end:
            self.epoch_iter.zero_()
        iters = int(self.cycle_iter)
        if not (epoch_end or iters >= critic_iterations(int(self.gen_step), self.cfg)):
            return 0
        self.gen_step += 1
        self.cycle_iter.zero_()
        return iters


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, *, weight: float,
                     alpha: torch.Tensor | None = None) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): weight * mean (||grad critic(x_hat)||_2 - 1)^2 over the batch, with
    x_hat = alpha real + (1 - alpha) fake and alpha ~ U[0, 1) per sample."""
    if alpha is None:
        alpha = torch.rand(len(real), *([1] * (real.dim() - 1)), device=real.device)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return weight * ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def build_critic(name: CriticName, cfg: PPGNConfig) -> nn.Module:
    return ImageCritic(widths=tuple(cfg.d_widths)) if name == "image" else CodeCritic(widths=tuple(cfg.d1_widths))


def critic_step(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, opt: torch.optim.Optimizer, *,
                gp_weight: float) -> dict[str, torch.Tensor]:
    """One critic update on loss D(fake) - D(real) + GP; returns the detached loss, penalty and the critic's
    Wasserstein estimate D(real) - D(fake) before its update."""
    d_real, d_fake = critic(real).mean(), critic(fake).mean()
    gp = gradient_penalty(critic, real, fake, weight=gp_weight)
    loss = d_fake - d_real + gp
    opt.zero_grad(set_to_none=True)
    loss.backward(inputs=list(critic.parameters()))
    opt.step()
    return {"loss": loss.detach(), "wasserstein": (d_real - d_fake).detach(), "gp": gp.detach()}
