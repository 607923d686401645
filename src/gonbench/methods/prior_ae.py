"""Deterministic autoencoders whose code distribution q(z) is pushed to the prior p(z) = N(0, I): by a
discriminator on codes (adversarial autoencoder, Makhzani et al., ICLR workshop 2016) or by an MMD penalty
(WAE-MMD, Tolstikhin et al., ICLR 2018; code tolstikhin/wae). The reading list's argument is that the MMD makes
the adversarial loop unnecessary; the two share everything else so that the comparison measures only that:

- the same encoder and decoder: the GON paper's convolutional pair (nets/conv.py; the suite's AE and VAE use
  it, so reconstructions compare with Table 1's AE), a DCGAN-style pair (strided convolutions with BatchNorm)
  like WAE's MNIST networks, at a width a CPU affords;
- the same reconstruction term, WAE's c(x, y) = ||x - y||^2 scaled by the WAE code's 0.05;
- the same optimiser for the autoencoder: Adam, lr 1e-3, beta1 0.5 (WAE's MNIST settings);
- the same code size (8, WAE's MNIST) and prior, N(0, I).

AAE: one ``train_step`` is the paper's two phases on one minibatch (Sec. 2). Reconstruction: encoder and
decoder take a step on the reconstruction term. Regularisation: the codes of the batch under the updated
encoder are computed once; the discriminator takes a step telling prior draws (label 1) from them (label 0),
then the encoder takes a step on the non-saturating loss of the updated discriminator on the same codes.
The paper trains every phase with SGD and momentum; we use Adam in every phase so that both methods share the
optimiser (the discriminator at lr 5e-4, WAE's adversary rate for MNIST).

MMD-AE: one step on 0.05 ||x - x_hat||^2 + lambda MMD^2(codes, prior draws) with lambda = 10 (WAE, MNIST),
the unbiased MMD^2 under the inverse multiquadratic kernel summed over C = 2 d sigma_p^2 s for the WAE code's
scales s (losses.mmd_prior_penalty): one forward, one backward, one optimiser.

Both report recon_sse, psnr, ssim and prior_mmd (metrics.prior_mmd: validation codes against prior draws under
one Gaussian kernel of bandwidth d, which neither method trains on); samples decode prior draws.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .. import metrics as M
from .. import paths
from ..errors import ConfigError
from ..losses import discriminator_loss, mmd_prior_penalty, nonsaturating_generator_loss
from ..nets import MLP
from ..seeding import generator
from ..typecheck import NonNegativeFloat, PositiveFloat, PositiveInt, Probability
from .base import Batch, DataInfo, EvaluationContext, EvaluationExtras, Method, register_method
from .decoder import DecoderConfig, make_decoder, make_encoder


@dataclass
class PriorAEConfig(DecoderConfig):
    nz: PositiveInt = 8  # code size: WAE's MNIST (configs.py zdim)
    lr: PositiveFloat = 1e-3  # Adam on the autoencoder: WAE's MNIST rate ...
    beta1: Probability = 0.5  # ... and beta1
    recon_scale: PositiveFloat = 0.05  # WAE code: the squared error enters the objective as 0.05 ||x - x_hat||^2
    prior_draws: PositiveInt = 1024  # prior draws that the validation codes are compared with (prior_mmd)


@dataclass
class AAEConfig(PriorAEConfig):
    d_widths: list[PositiveInt] = field(default_factory=lambda: [1000, 1000])  # Makhzani et al.: 2 x 1000 ReLU
    d_lr: PositiveFloat = 5e-4  # Adam on the discriminator: WAE's adversary rate for MNIST (lr_adv)
    gen_lr: PositiveFloat = 1e-3  # Adam on the encoder's adversarial phase: the autoencoder's rate


@dataclass
class MMDAEConfig(PriorAEConfig):
    mmd_weight: NonNegativeFloat = 10.0  # lambda: WAE's MNIST
    imq_scales: list[PositiveFloat] = field(default_factory=lambda: [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0])  # WAE code


class PriorAE(Method):
    """Encoder, decoder, samples from the prior and the prior-fit evaluation shared by AAE and MMD-AE."""

    Config = PriorAEConfig
    row_group = "Autoencoder with a prior"
    metrics = frozenset({"recon_sse", "psnr", "ssim", "prior_mmd"})

    def __init__(self, cfg: PriorAEConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.encoder = make_encoder(cfg, data)
        self.decoder = make_decoder(cfg, data)

    @property
    def code_dim(self) -> int:
        return self.decoder.latent_dim

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def recon_terms(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(the scaled reconstruction term the optimiser sees, the batch's mean per-image SSE)."""
        sse = M.recon_sse(self.decoder(z), x).mean()
        return self.cfg.recon_scale * sse, sse

    def prior_draws(self, z: torch.Tensor) -> torch.Tensor:
        return self.randn_like(z)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x))

    def sample(self, n: int) -> torch.Tensor:
        device = next(self.decoder.parameters()).device
        return self.decoder(torch.randn(n, self.code_dim, device=device))

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        z = self.encode(x)
        x_hat = self.decoder(z)
        return {"recon_sse": M.recon_sse(x_hat, x), "_recon": x_hat, "_code": z}

    def evaluation_extras(self, ctx: EvaluationContext) -> EvaluationExtras:
        """prior_mmd of the validation codes (per BatchNorm protocol; the headline under the run's), against
        ``prior_draws`` draws from the run's seeded generator; the headline codes and as many draws are kept
        in codes.pt for the codes figure."""
        prior = torch.randn(self.cfg.prior_draws, self.code_dim, generator=generator(ctx.seed))
        codes = {protocol: z for (protocol, key), z in ctx.outputs.items() if key == "_code"}
        metrics = {f"prior_mmd_bn_{p}": M.prior_mmd(z.cpu(), prior) for p, z in codes.items()}
        extras = EvaluationExtras(metrics=metrics)
        if ctx.bn_protocol in codes:
            headline = codes[ctx.bn_protocol].cpu()
            metrics["prior_mmd"] = metrics[f"prior_mmd_bn_{ctx.bn_protocol}"]
            extras.tensors[paths.CODES] = {"codes": headline, "prior": prior[:len(headline)],
                                           "labels": ctx.val_y.cpu()}
        return extras


@register_method
class AAE(PriorAE):
    """Adversarial autoencoder: reconstruction phase, then discriminator and encoder (generator) steps."""

    name = "aae"
    Config = AAEConfig
    paper = "Makhzani, Shlens, Jaitly, Goodfellow & Frey, Adversarial Autoencoders, ICLR workshop 2016"
    title = "AAE"

    def __init__(self, cfg: AAEConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.discriminator = MLP(widths=[self.code_dim, *cfg.d_widths, 1], activation="relu")

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg = self.cfg
        betas = (cfg.beta1, 0.999)
        autoencoder = [*self.encoder.parameters(), *self.decoder.parameters()]
        return {"autoencoder": torch.optim.Adam(autoencoder, lr=cfg.lr, betas=betas),
                "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=cfg.d_lr, betas=betas),
                "generator": torch.optim.Adam(self.encoder.parameters(), lr=cfg.gen_lr, betas=betas)}

    def critic(self, z: torch.Tensor) -> torch.Tensor:
        return self.discriminator(z).flatten()

    def reconstruction_step(self, x: torch.Tensor, opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
        loss, sse = self.recon_terms(x, self.encode(x))
        opt.zero_grad(set_to_none=True)
        loss.backward(inputs=[p for g in opt.param_groups for p in g["params"]])
        opt.step()
        return {"recon_loss": loss.detach(), "recon_sse": sse.detach()}

    def discriminator_step(self, codes: torch.Tensor, opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
        """Prior draws are the discriminator's "real" samples, the (detached) codes its "fake" ones."""
        loss = discriminator_loss(self.critic(self.prior_draws(codes)), self.critic(codes.detach()))
        opt.zero_grad(set_to_none=True)
        loss.backward(inputs=list(self.discriminator.parameters()))
        opt.step()
        return {"d_loss": loss.detach()}

    def generator_step(self, z: torch.Tensor, opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
        """The encoder (the adversarial network's generator) steps to make its codes pass for prior draws."""
        loss = nonsaturating_generator_loss(self.critic(z))
        opt.zero_grad(set_to_none=True)
        loss.backward(inputs=list(self.encoder.parameters()))
        opt.step()
        return {"g_loss": loss.detach()}

    def train_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, torch.Tensor]:
        x = batch["x"]
        logs = self.reconstruction_step(x, optimizers["autoencoder"])
        z = self.encode(x)  # the regularisation phase's codes, under the encoder the reconstruction phase updated
        logs.update(self.discriminator_step(z, optimizers["discriminator"]))
        logs.update(self.generator_step(z, optimizers["generator"]))
        return {"loss": logs["recon_loss"] + logs["g_loss"], **logs}

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The reconstruction phase's forward (what BatchNorm's recal protocol replays: an encoder and a
        decoder pass, as evaluation makes)."""
        loss, sse = self.recon_terms(batch["x"], self.encode(batch["x"]))
        return {"loss": loss, "recon_sse": sse}


@register_method
class MMDAE(PriorAE):
    """WAE-MMD: reconstruction + lambda MMD^2(codes, prior draws), inverse multiquadratic kernel."""

    name = "mmd_ae"
    Config = MMDAEConfig
    paper = "Tolstikhin, Bousquet, Gelly & Schoelkopf, Wasserstein Auto-Encoders (WAE-MMD), ICLR 2018"
    title = "MMD-AE"

    def __init__(self, cfg: MMDAEConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        if not cfg.imq_scales:
            raise ConfigError("imq_scales=[]: give at least one kernel scale (WAE's: 0.1, 0.2, 0.5, 1, 2, 5, 10)")

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"main": torch.optim.Adam(self.parameters(), lr=self.cfg.lr, betas=(self.cfg.beta1, 0.999))}

    def kernel_constants(self) -> list[float]:
        """C = 2 d sigma_p^2 s for each scale s (sigma_p = 1: the standard normal prior)."""
        return [2.0 * self.code_dim * s for s in self.cfg.imq_scales]

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        z = self.encode(x)
        recon, sse = self.recon_terms(x, z)
        penalty = mmd_prior_penalty(z, self.prior_draws(z), self.kernel_constants())
        return {"loss": recon + self.cfg.mmd_weight * penalty, "recon_sse": sse.detach(), "mmd": penalty.detach()}
