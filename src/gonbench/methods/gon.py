"""Gradient Origin Networks (Bond-Taylor & Willcocks, ICLR 2021, arXiv:2007.02798; code cwkx/GON).

A latent is the negative gradient of the data-fitting loss at the origin: z = -grad_z0 L(x, F(z0)), z0 = 0.
With ``create_graph`` the outer loss L(x, F(z)) trains F through both of its uses (the second-order path
the paper shows is essential). The variants of Table 1 differ only in steps, step size and detaching.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from .. import metrics as M
from ..losses import seed_squared_error, seed_sum, squared_error, squared_error_terms
from ..typecheck import NonNegativeFloat, PositiveFloat, PositiveInt
from .base import Batch, DataInfo, Method, register_method
from .decoder import DecoderConfig, make_decoder


@dataclass
class GONConfig(DecoderConfig):
    steps: PositiveInt = 1  # gradient steps from the origin
    step_size: PositiveFloat = 1.0  # 1 step of size 1 is exactly z = -grad
    detach: bool = False  # drop the second-order path (z treated as a constant)
    z0_std: NonNegativeFloat = 0.0  # Appendix C: z0 ~ N(0, z0_std^2 I) instead of the origin
    z0_mode: Literal["gradient", "step"] = "step"  # Appendix C: z = -grad, or z = z0 - grad


def gradient_origin_latent(decode, x: torch.Tensor, z0: torch.Tensor, *, steps: int, step_size: float,
                           detach: bool, loss_fn=squared_error, mode: str = "step") -> torch.Tensor:
    """Run ``steps`` gradient-descent steps on ``loss_fn(decode(z), x)`` from ``z0``.

    ``mode="gradient"`` (only meaningful with one step) returns -grad itself, ignoring z0's value.
    """
    z = z0.requires_grad_(True) if not z0.requires_grad else z0
    for _ in range(steps):
        inner = loss_fn(decode(z), x)
        (grad,) = torch.autograd.grad(inner, [z], create_graph=not detach)
        z = (-step_size * grad) if mode == "gradient" else (z - step_size * grad)
        if detach:
            z = z.detach().requires_grad_(True)
    return z.detach() if detach else z


@register_method
class GON(Method):
    """One gradient step from the origin with the graph kept: z = -grad L(x, F(0)) (Table 1, "GON")."""

    name = "gon"
    Config = GONConfig
    paper = "Bond-Taylor & Willcocks, Gradient Origin Networks, ICLR 2021"
    title, row_group = "GON", "Single step"
    metrics = frozenset({"recon_sse", "latent_norm", "psnr", "ssim"})
    seed_stackable = True

    def __init__(self, cfg: GONConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.decoder = make_decoder(cfg, data)

    def origin(self, x: torch.Tensor) -> torch.Tensor:
        z0 = torch.zeros(x.shape[0], self.data.seeds * self.decoder.latent_dim, device=x.device, dtype=x.dtype)
        if self.cfg.z0_std > 0:
            z0 = z0 + self.cfg.z0_std * self.randn_like(z0)
        return z0

    def encode(self, x: torch.Tensor, *, detach: bool | None = None) -> torch.Tensor:
        """The latent of every image (and stacked seed): the inner loss is the sum of the seeds' own losses,
        so each seed's block of z is the gradient of its own loss."""
        cfg = self.cfg
        with torch.enable_grad():
            return gradient_origin_latent(self.decoder, x, self.origin(x), steps=cfg.steps, step_size=cfg.step_size,
                                          detach=cfg.detach if detach is None else detach, mode=cfg.z0_mode,
                                          loss_fn=seed_sum(seed_squared_error, self.data.seeds))

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        return squared_error_terms(self.decoder(self.encode(x)), x, self.data.seeds)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x, detach=True))

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Reconstruction error and the latent's norm (the scale BatchNorm's protocol gives the latent)."""
        x = batch["x"]
        z = self.encode(x, detach=True)
        x_hat = self.decoder(z)
        return {"recon_sse": M.recon_sse(x_hat, x), "latent_norm": z.flatten(1).norm(dim=1), "_recon": x_hat}


@dataclass
class GONDetach1Config(GONConfig):
    detach: bool = True


@dataclass
class GON10Config(GONConfig):
    steps: PositiveInt = 10
    step_size: PositiveFloat = 0.1


@dataclass
class GONDetach10Config(GON10Config):
    detach: bool = True


@register_method
class GONDetach1(GON):
    """One step, z detached: F learns only through its second use (Table 1, "1 Step Detach")."""

    name = "gon_detach_1"
    Config = GONDetach1Config
    title = "1 Step Detach"


@register_method
class GON10(GON):
    """Ten gradient-descent steps of size 0.1 from the origin, graph kept (Table 1, "10 Step")."""

    name = "gon_10"
    Config = GON10Config
    title, row_group = "10 Step", "Multiple steps"


@register_method
class GONDetach10(GON):
    """Ten steps with each step's latent detached (Table 1, "10 Step Detach")."""

    name = "gon_detach_10"
    Config = GONDetach10Config
    title, row_group = "10 Step Detach", "Multiple steps"


@dataclass
class GONClassifierConfig(GONConfig):
    nz: PositiveInt = 2  # GON paper, Figure 12: a 2-D latent drawn coloured by class
    class_weight: float = 1.0  # weight of the cross-entropy term against the reconstruction loss


@register_method
class GONClassifier(GON):
    """GON paper, Sec. 3.5: a linear softmax classifier on z = -grad at the origin, trained jointly with
    the reconstruction loss; the cross-entropy reaches F through z's second-order path."""

    name = "gon_classifier"
    Config = GONClassifierConfig
    title, row_group = "GON classifier", ""
    metrics = frozenset({"recon_sse", "latent_norm", "accuracy", "psnr", "ssim"})
    seed_stackable = False

    def __init__(self, cfg: GONClassifierConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.classifier = torch.nn.Linear(self.decoder.latent_dim, data.classes)

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x, y = batch["x"], batch["y"]
        z = self.encode(x)
        recon = squared_error(self.decoder(z), x)
        logits = self.classifier(z)
        ce = F.cross_entropy(logits, y)
        acc = (logits.argmax(1) == y).float().mean()
        return {"loss": recon + self.cfg.class_weight * ce, "recon": recon, "ce": ce, "accuracy": acc}

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        x, y = batch["x"], batch["y"]
        z = self.encode(x, detach=True)
        x_hat = self.decoder(z)
        return {"recon_sse": M.recon_sse(x_hat, x), "latent_norm": z.flatten(1).norm(dim=1),
                "accuracy": (self.classifier(z).argmax(1) == y).float(), "_recon": x_hat, "_latent": z}
