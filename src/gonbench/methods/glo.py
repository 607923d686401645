"""Generative Latent Optimization (Bojanowski et al., 2018) as the GON paper's Table 1 baseline.

Each training image owns a free latent (an embedding table indexed by the image's position), optimised
jointly with the decoder; unlike the original GLO there is no projection onto the unit sphere (GON paper,
Sec. 4). A step moves only the latents of its batch: the table is a sparse embedding under SparseAdam, so
no momentum left from earlier batches moves the others (a dense Adam would).

Validation images have no latents, so they are fitted with the decoder frozen: Adam at ``fit_lr`` from the
origin until the batch loss stops improving (relative improvement below ``fit_tolerance`` over
``fit_window`` steps) or ``fit_max_steps`` is reached. The GON paper's point is that this takes orders of
magnitude longer than a gradient step, so the steps, seconds and the loss against steps are recorded.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn as nn

from .. import metrics as M
from ..losses import squared_error, squared_error_terms
from ..typecheck import NonNegativeFloat, PositiveFloat, PositiveInt
from .base import Batch, DataInfo, EvaluationContext, EvaluationExtras, Method, register_method
from .decoder import DecoderConfig, make_decoder

CURVE_FILE = "glo_fit_curve.pt"


@dataclass
class GLOConfig(DecoderConfig):
    latent_lr: PositiveFloat = 1e-3  # SparseAdam on the latent table (the decoder: Adam at lr)
    latent_init_std: NonNegativeFloat = 0.1  # latents start at N(0, std^2 I)
    fit_lr: PositiveFloat = 1e-2  # validation latents: Adam from z = 0 with the decoder frozen
    fit_tolerance: NonNegativeFloat = 1e-4  # stop once the batch loss improves by less than this fraction...
    fit_window: PositiveInt = 50  # ...over this many steps (one read-back of the loss per window)
    fit_max_steps: PositiveInt = 2000  # cap; batches stopped by it are counted (glo_fit_capped_bn_*)


@dataclass
class LatentFit:
    """What fitting one batch's latents took."""

    steps: int
    converged: bool  # stopped by the tolerance, not the cap
    seconds: float
    sse: torch.Tensor  # [B, len(curve_steps(cap))] per-image SSE at those steps, held at its last value after the stop


def curve_steps(cap: int) -> list[int]:
    """Fit steps at which the loss is recorded: 0, 10, 20, 50, 100, 200, 500, ... below the cap, then the cap."""
    steps, scale = [0], 10
    while True:
        for m in (1, 2, 5):
            if m * scale >= cap:
                return steps + [cap]
            steps.append(m * scale)
        scale *= 10


@register_method
class GLO(Method):
    """A free latent per training image, optimised with the decoder; validation latents fitted (Table 1, "GLO")."""

    name = "glo"
    Config = GLOConfig
    paper = "Bojanowski et al., Optimizing the Latent Space of Generative Networks, ICML 2018"
    title, row_group = "GLO", "Multiple steps"
    seed_stackable = True

    def __init__(self, cfg: GLOConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.decoder = make_decoder(cfg, data)
        # one table per stacked seed, one after the other: seed s's image i is row s * train_size + i
        self.latents = nn.Embedding(data.seeds * data.train_size, self.decoder.latent_dim, sparse=True)
        nn.init.normal_(self.latents.weight, std=cfg.latent_init_std)
        self.register_buffer("seed_rows", torch.arange(data.seeds) * data.train_size, persistent=False)

    def batch_latents(self, index: torch.Tensor) -> torch.Tensor:
        """The latents of a batch: [B] indices alone, [B, S] (each seed's own images) stacked -> [B, S*nz]."""
        if self.data.seeds == 1:
            return self.latents(index)
        return self.latents(index + self.seed_rows).flatten(1)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"decoder": torch.optim.Adam(self.decoder.parameters(), lr=self.cfg.lr),
                "latents": torch.optim.SparseAdam(list(self.latents.parameters()), lr=self.cfg.latent_lr)}

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        return squared_error_terms(self.decoder(self.batch_latents(batch["index"])), x, self.data.seeds)

    def train_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, torch.Tensor | float]:
        """One step of both optimisers (the loop's default steps a single "main" one)."""
        out = self.training_loss(batch)
        for opt in optimizers.values():
            opt.zero_grad(set_to_none=True)
        out["loss"].sum().backward()
        for opt in optimizers.values():
            opt.step()
        return {k: v.detach() for k, v in out.items()}

    def fit_latents(self, x: torch.Tensor) -> tuple[torch.Tensor, LatentFit]:
        """Latents for unseen images: Adam on z only, in whatever BatchNorm mode the decoder is in. The loss is
        read back once per window, so the device is not waited on at every step."""
        cfg = self.cfg
        t0 = time.perf_counter()
        marks = set(curve_steps(cfg.fit_max_steps))
        z = torch.zeros(x.shape[0], self.decoder.latent_dim, device=x.device, dtype=x.dtype, requires_grad=True)
        opt = torch.optim.Adam([z], lr=cfg.fit_lr)
        sse: list[torch.Tensor] = []
        previous: torch.Tensor | None = None
        step, converged = 0, False
        with torch.enable_grad():
            while True:
                x_hat = self.decoder(z)
                if step in marks:
                    sse.append(M.recon_sse(x_hat.detach(), x))
                loss = squared_error(x_hat, x)
                if step % cfg.fit_window == 0:
                    if previous is not None and bool(previous - loss.detach() < cfg.fit_tolerance * previous):
                        converged = True
                        break
                    previous = loss.detach()
                if step == cfg.fit_max_steps:
                    break
                opt.zero_grad(set_to_none=True)
                loss.backward(inputs=[z])  # gradients for z only: the decoder's stay untouched
                opt.step()
                step += 1
        sse += [M.recon_sse(x_hat.detach(), x)] * (len(marks) - len(sse))  # z no longer moves after the stop
        return z.detach(), LatentFit(step, converged, time.perf_counter() - t0, torch.stack(sse, 1))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.fit_latents(x)[0])

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Reconstruction SSE, and the batch's fit as per-image outputs (evaluation keeps them per BatchNorm
        protocol for ``evaluation_extras``): batch values on every image, ``_glo_fit_first`` marking one
        image per batch (the first, never padding)."""
        x = batch["x"]
        z, fit = self.fit_latents(x)
        x_hat = self.decoder(z)
        n = x.shape[0]
        first = torch.zeros(n, dtype=torch.bool, device=x.device)
        first[0] = True
        return {"recon_sse": M.recon_sse(x_hat, x), "_recon": x_hat, "_glo_fit_first": first,
                "_glo_fit_steps": torch.full((n,), fit.steps, device=x.device),
                "_glo_fit_converged": torch.full((n,), fit.converged, device=x.device),
                "_glo_fit_seconds": torch.full((n,), fit.seconds, dtype=torch.float64, device=x.device),
                "_glo_fit_sse": fit.sse}

    def evaluation_extras(self, ctx: EvaluationContext) -> EvaluationExtras:
        """Steps, cap hits and seconds of the validation fits under each BatchNorm protocol evaluated, and the
        validation SSE against fit steps (glo_fit_curve.pt)."""
        metrics: dict[str, float] = {}
        curve: dict[str, torch.Tensor] = {}
        for protocol in dict.fromkeys(p for p, key in ctx.outputs if key == "_glo_fit_first"):
            out = {key.removeprefix("_glo_fit_"): v for (p, key), v in ctx.outputs.items()
                   if p == protocol and key.startswith("_glo_fit_")}
            first = out["first"]
            steps, converged, seconds = out["steps"][first], out["converged"][first], out["seconds"][first]
            marks = curve_steps(self.cfg.fit_max_steps)
            k = next(i for i, m in enumerate(marks) if m >= int(steps.max())) + 1  # every batch stopped by then
            s = f"_bn_{protocol}"
            metrics.update({f"glo_fit_steps_mean{s}": float(steps.double().mean()),
                            f"glo_fit_steps_max{s}": int(steps.max()),
                            f"glo_fit_capped{s}": int((~converged).sum()), f"glo_fit_batches{s}": len(steps),
                            f"glo_fit_seconds{s}": float(seconds.sum())})
            curve.update({f"steps{s}": torch.tensor(marks[:k]), f"sse{s}": out["sse"][:, :k].double().mean(0),
                          f"batch_steps{s}": steps, f"batch_converged{s}": converged, f"batch_seconds{s}": seconds})
        if metrics:
            metrics["glo_fit_seconds"] = sum(v for key, v in metrics.items() if key.startswith("glo_fit_seconds_bn_"))
        return EvaluationExtras(metrics=metrics, tensors={CURVE_FILE: curve} if curve else {})
