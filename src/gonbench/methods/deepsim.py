"""DeePSiM: an autoencoder trained with deep perceptual similarity metrics (Dosovitskiy & Brox, "Generating
Images with Perceptual Similarity Metrics based on Deep Networks", NIPS 2016).

The generator G (here the encoder and decoder together) minimises, for an image x and its reconstruction
x_hat = G(x),

    lambda_img ||x_hat - x||^2  +  lambda_feat ||C(x_hat) - C(x)||^2  +  lambda_adv L_adv(D(x_hat)),

with C a fixed comparator network, D a discriminator trained at the same time to tell real images from
reconstructions (the standard GAN losses; the generator takes the non-saturating one), and squared Euclidean
distances summed over pixels and over features, averaged over the batch. The paper's point (Sec. 3): the
feature loss alone lets high-frequency artefacts through (many images share C's features), the adversarial
term acts as a learned natural-image prior against them, and the pixel term stabilises the training.
The four ablation variants are the same class with other weights (the paper's Fig. 3 and Table 1 compare them):
pixel only, pixel + feature, pixel + adversarial, all three.

Choices, each where the paper leaves us no other option or a CPU calls for it:

- Networks: the encoder and decoder are the GON paper's convolutional pair (nets/conv.py), as the suite's AE and
  the AAE use, so reconstructions compare with Table 1's AE (the paper's: a few convolutions to an 8x8x8 code and
  "up-convolutions", on 64x64 STL-10 crops). The discriminator is the paper's (nets/deepsim.py), narrowed.
- Comparator: no ImageNet (AlexNet) or STL (Exemplar-CNN) weights are available offline, so C is a classifier
  the suite pretrains on the run's dataset (``comparator``, a config field: any pretrained network with
  ``conv_features``/``features`` can be plugged in; e.g. ``mnist_comparator``), and the compared features are
  its last convolution block (``feature_layer: conv``, mid-level like the paper's conv layers) or its
  penultimate fully connected layer (``fc``). C is not the judge that scores the reconstructions' KID. With
  ``comparator: ""`` (tests) an untrained, frozen classifier stands in.
- Conditioning: where the generator has an input other than the image, the paper's D also sees that input.
  Here that input is the code z = E(x): with ``d_condition`` D gets the detached code beside the image, so it
  judges "a real image for this code"; the adversarial gradient reaches the encoder through the decoder only.
- Schedule: one ``train_step`` is a discriminator update (a real and a reconstructed batch) followed by one
  update of the encoder and decoder on the weighted sum, against the updated D and the same reconstructions'
  graph. The paper pauses D's training when it is too good; here D skips its update while its loss is below
  ``d_pause_ratio`` times the generator's adversarial loss (0 = never).
- Optimiser: Adam with the paper's lr 2e-4 and betas (0.9, 0.999) for both networks (a profile may raise it).

Evaluation (beside recon_sse, psnr, ssim): ``sharpness_ratio`` (metrics.sharpness_ratio: the reconstructions'
mean gradient magnitude over the data's, per BatchNorm protocol) and ``recon_kid``, the KID between the run's
judge's features of the validation reconstructions and of the validation images (sample_quality, as samples
are scored: mean of ``kid_subsets`` subsets of half the set).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

import torch
import torch.nn as nn

from .. import metrics as M
from ..errors import ConfigError
from ..losses import discriminator_loss, nonsaturating_generator_loss
from ..nets import DeePSiMDiscriminator, DigitClassifier
from ..nets.ppgn import normalise
from ..sample_quality import judge_features, kid_subset_size
from ..seeding import generator
from ..typecheck import NonNegativeFloat, PositiveFloat, PositiveInt, Probability
from .base import Batch, DataInfo, EvaluationContext, EvaluationExtras, Method, register_method
from .decoder import DecoderConfig, make_decoder, make_encoder


@dataclass
class DeePSiMConfig(DecoderConfig):
    """All three terms (the paper's full loss); the weights put them on comparable scales for 32x32 grey images
    (the paper's values are for 227x227 AlexNet features and do not transfer)."""

    lr: PositiveFloat = 2e-4  # Adam, both networks (the paper's training details)
    beta1: Probability = 0.9  # the paper's momentum terms: Adam's defaults
    lambda_img: NonNegativeFloat = 1.0  # weight of the per-image summed squared pixel error
    lambda_feat: NonNegativeFloat = 0.01  # weight of the summed squared distance of the comparator's features
    lambda_adv: NonNegativeFloat = 10.0  # weight of the non-saturating adversarial loss (a batch mean of -log D)
    comparator: str = ""  # the frozen feature network (`gonbench pretrain`), e.g. mnist_comparator
    feature_layer: Literal["conv", "fc"] = "conv"  # which of the comparator's features are compared
    d_widths: list[PositiveInt] = field(default_factory=lambda: [32, 64, 64, 128, 128])  # paper: 5 convolutions
    d_fc: PositiveInt = 256  # width of the discriminator's fully connected layers
    d_lr: PositiveFloat = 2e-4  # Adam on the discriminator (the paper's rate)
    d_condition: bool = True  # D also sees the (detached) code, as the paper's D sees the generator's input
    d_pause_ratio: NonNegativeFloat = 0.1  # skip D's update while d_loss < ratio * g_adv_loss; 0 = never skip
    kid_subsets: PositiveInt = 10  # subsets of the reconstructions' KID (as the sample scores use)


@register_method
class DeePSiM(Method):
    """Autoencoder with pixel, feature and adversarial losses (all three); its variants change only the weights."""

    name = "deepsim_all"
    Config = DeePSiMConfig
    paper = "Dosovitskiy & Brox, Generating Images with Perceptual Similarity Metrics based on Deep Networks, NIPS 2016"
    title = "pixel + feature + adversarial"
    row_group = "DeePSiM"
    metrics = frozenset({"recon_sse", "psnr", "ssim", "sharpness_ratio", "recon_kid"})
    network_fields = ("comparator",)

    def __init__(self, cfg: DeePSiMConfig, data: DataInfo, networks: Mapping[str, nn.Module] | None = None) -> None:
        super().__init__(cfg, data)
        if len(cfg.d_widths) != 5:
            raise ConfigError(f"d_widths={cfg.d_widths}: give 5 widths, one per discriminator convolution (the "
                              f"paper's five; e.g. [32, 64, 64, 128, 128])")
        self.encoder = make_encoder(cfg, data)
        self.decoder = make_decoder(cfg, data)
        networks = networks or {}
        if "comparator" in networks:
            comparator = networks["comparator"]
        else:  # no pretrained network named: an untrained one (unit tests), frozen all the same
            comparator = DigitClassifier(channels=data.channels, image_size=data.image_size).requires_grad_(False)
        if getattr(comparator, "channels", data.channels) != data.channels:
            raise ConfigError(f"comparator {cfg.comparator!r} takes {comparator.channels}-channel images but the data "
                              f"has {data.channels}; pretrain one on the run's dataset (e.g. mnist_comparator)")
        self.comparator = comparator.eval()
        code_dim = self.decoder.latent_dim
        self.discriminator = DeePSiMDiscriminator(nc=data.channels, widths=tuple(cfg.d_widths), fc=cfg.d_fc,
                                                  cond_dim=code_dim if cfg.d_condition else 0)

    def train(self, mode: bool = True) -> "DeePSiM":
        """The frozen comparator stays in eval mode while the autoencoder and discriminator train."""
        super().train(mode)
        self.comparator.eval()
        return self

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg = self.cfg
        betas = (cfg.beta1, 0.999)
        autoencoder = [*self.encoder.parameters(), *self.decoder.parameters()]
        return {"autoencoder": torch.optim.Adam(autoencoder, lr=cfg.lr, betas=betas),
                "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=cfg.d_lr, betas=betas)}

    # -- the three terms ------------------------------------------------------------------------------
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """C(x), flattened: the comparator takes normalised pixels, as it was trained."""
        x = normalise(x)
        out = self.comparator.conv_features(x) if self.cfg.feature_layer == "conv" else self.comparator.features(x)
        return out.flatten(1)

    def critic(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.discriminator(x, z.detach() if self.cfg.d_condition else None)

    def generator_terms(self, x: torch.Tensor, z: torch.Tensor, x_hat: torch.Tensor) -> dict[str, torch.Tensor]:
        """The weighted sum the encoder and decoder minimise, and its parts (a term whose weight is 0 is not
        computed, so the pixel-only variant never runs the comparator or the discriminator)."""
        cfg = self.cfg
        sse = M.recon_sse(x_hat, x).mean()
        loss = cfg.lambda_img * sse
        parts = {"recon_sse": sse}
        if cfg.lambda_feat > 0:
            with torch.no_grad():
                target = self.features(x)
            feat = ((self.features(x_hat) - target) ** 2).sum(1).mean()
            loss = loss + cfg.lambda_feat * feat
            parts["feat_loss"] = feat
        if cfg.lambda_adv > 0:
            adv = nonsaturating_generator_loss(self.critic(x_hat, z))
            loss = loss + cfg.lambda_adv * adv
            parts["g_adv_loss"] = adv
        return {"loss": loss, **parts}

    # -- training -------------------------------------------------------------------------------------
    def discriminator_step(self, x: torch.Tensor, z: torch.Tensor, x_hat: torch.Tensor,
                           opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
        """Real images (label 1) against the detached reconstructions (label 0), each with its code. The update
        is skipped while D's loss is below ``d_pause_ratio`` times the generator's adversarial loss."""
        real, fake = self.critic(x, z), self.critic(x_hat.detach(), z)
        loss = discriminator_loss(real, fake)
        g_adv = nonsaturating_generator_loss(fake.detach())
        update = not (self.cfg.d_pause_ratio > 0 and float(loss.detach()) < self.cfg.d_pause_ratio * float(g_adv))
        if update:
            opt.zero_grad(set_to_none=True)
            loss.backward(inputs=list(self.discriminator.parameters()))
            opt.step()
        return {"d_loss": loss.detach(), "d_updated": torch.tensor(float(update)),
                "d_real_prob": torch.sigmoid(real.detach()).mean(), "d_fake_prob": torch.sigmoid(fake.detach()).mean()}

    def train_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, torch.Tensor]:
        x = batch["x"]
        z = self.encoder(x)
        x_hat = self.decoder(z)
        logs = {}
        if self.cfg.lambda_adv > 0:
            logs.update(self.discriminator_step(x, z, x_hat, optimizers["discriminator"]))
        out = self.generator_terms(x, z, x_hat)
        opt = optimizers["autoencoder"]
        opt.zero_grad(set_to_none=True)
        out["loss"].backward(inputs=[p for g in opt.param_groups for p in g["params"]])
        opt.step()
        return {**{k: v.detach() for k, v in out.items()}, **logs}

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The generator's forward and objective without updates (what BatchNorm's recal protocol replays: an
        encoder and a decoder pass, as evaluation makes)."""
        z = self.encoder(batch["x"])
        return self.generator_terms(batch["x"], z, self.decoder(z))

    # -- evaluation -----------------------------------------------------------------------------------
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))

    def evaluation_extras(self, ctx: EvaluationContext) -> EvaluationExtras:
        """sharpness_ratio per BatchNorm protocol (the headline under the run's), and with a judge the KID of the
        headline reconstructions against the validation images, on the judge's features."""
        x = ctx.val_x
        recons = {protocol: r.to(x.device) for (protocol, key), r in ctx.outputs.items() if key == "_recon"}
        metrics = {f"sharpness_ratio_bn_{p}": M.sharpness_ratio(r, x) for p, r in recons.items()}
        if ctx.bn_protocol in recons:
            metrics["sharpness_ratio"] = metrics[f"sharpness_ratio_bn_{ctx.bn_protocol}"]
            judge = ctx.networks.get("judge")
            if judge is not None:
                fake, real = judge_features(judge, recons[ctx.bn_protocol].clamp(0, 1)), judge_features(judge, x)
                size = kid_subset_size(len(fake), len(real))
                kid, kid_std = M.kid(fake, real, subsets=self.cfg.kid_subsets, subset_size=size,
                                     generator=generator(ctx.seed))
                metrics.update(recon_kid=kid, recon_kid_std=kid_std, recon_kid_subset_size=size)
        return EvaluationExtras(metrics=metrics)


@dataclass
class PixelConfig(DeePSiMConfig):
    lambda_feat: NonNegativeFloat = 0.0
    lambda_adv: NonNegativeFloat = 0.0


@dataclass
class PixelFeatureConfig(DeePSiMConfig):
    lambda_adv: NonNegativeFloat = 0.0


@dataclass
class PixelAdversarialConfig(DeePSiMConfig):
    lambda_feat: NonNegativeFloat = 0.0


@register_method
class DeePSiMPixel(DeePSiM):
    """Pixel loss alone: the blurry baseline (the paper's squared Euclidean loss)."""

    name, Config, title = "deepsim_pixel", PixelConfig, "pixel"


@register_method
class DeePSiMPixelFeature(DeePSiM):
    """Pixel + feature loss without the adversarial prior (the paper: prone to high-frequency artefacts)."""

    name, Config, title = "deepsim_feat", PixelFeatureConfig, "pixel + feature"


@register_method
class DeePSiMPixelAdversarial(DeePSiM):
    """Pixel + adversarial loss without the comparator."""

    name, Config, title = "deepsim_adv", PixelAdversarialConfig, "pixel + adversarial"
