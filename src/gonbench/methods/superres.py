"""Super-resolution of simulated fibre-bundle images (Ravì et al., "Effective deep learning training for
single-image super-resolution in endomicroscopy exploiting video-registration-based reconstruction", IJCARS
2018): FSRCNN, EDSR and SRGAN trained on (simulated LR, HR) pairs with L1 + (1 - SSIM), against interpolation
of the fibre signals without training.

Data: a dataset of data/fibres.py, whose images stack (LR linear, LR cubic, HR) on the channel axis. The LR
image is on the HR pixel grid, so each network maps image to image at scale 1 (nets/superres.py). With
``residual`` (the default) a network predicts the correction to the interpolated input, which it adds back
(VDSR's global residual): at scale 1 an upsampler no longer separates input from output, and without the
skip a few hundred steps are spent learning the identity. Validation scores the output against the HR image
per validation image: SSIM, PSNR, the global contrast factor (GCF) and their composite (metrics.py).
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Literal

import torch

from .. import metrics as M
from ..data.fibres import HR, LR_CUBIC, LR_LINEAR
from ..errors import ConfigError
from ..losses import discriminator_loss, l1_ssim_loss, nonsaturating_generator_loss
from ..nets import EDSR, FSRCNN, SRDiscriminator
from ..typecheck import NonNegativeFloat, PositiveFloat, PositiveInt, Probability
from .base import Batch, DataInfo, Method, MethodConfig, register_method

SR_METRICS = frozenset({"ssim", "psnr", "gcf", "gcf_ratio", "composite"})


def pair(x: torch.Tensor, lr_channel: int = LR_LINEAR) -> tuple[torch.Tensor, torch.Tensor]:
    """(LR, HR) [B, 1, H, W] of a batch of fibre-simulated images [B, 3, H, W]."""
    return x[:, lr_channel:lr_channel + 1], x[:, HR:HR + 1]


def check_pairs(method: Method, data: DataInfo) -> None:
    if data.channels != method.channels:
        raise ConfigError(f"{method.name} needs (LR, LR cubic, HR) images with {method.channels} channels, the data "
                          f"has {data.channels}; valid datasets: coil20_fibres")


class SuperResolution(Method):
    """What the super-resolution methods share: their data and their validation metrics."""

    row_group = "Super-resolution"
    metrics = SR_METRICS
    channels = 3  # LR_LINEAR, LR_CUBIC, HR

    @abc.abstractmethod
    def estimate(self, x: torch.Tensor) -> torch.Tensor:
        """The HR estimate [B, 1, H, W] of a batch of fibre-simulated images [B, 3, H, W], from the LR channel the
        method uses (the linear interpolation for the networks, the cubic one for the baseline)."""

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        hr = pair(batch["x"])[1]
        out = self.estimate(batch["x"]).clamp(0, 1)
        ssim = M.ssim_images(out, hr)
        g_out, g_hr = M.gcf(out), M.gcf(hr)
        return {"ssim": ssim, "psnr": M.psnr_images(out, hr), "gcf": g_out,
                "gcf_ratio": M.gcf_ratio(g_out, g_hr),
                "composite": M.sr_composite(ssim, g_out, g_hr), "_sr": out}


@dataclass
class InterpolationConfig(MethodConfig):
    interpolation: Literal["cubic", "linear"] = "cubic"  # which interpolation of the fibre signals is the estimate


@register_method
class Interpolation(SuperResolution):
    """The baseline row: the fibre signals interpolated to the pixel grid, nothing learned. Bicubic upsampling
    needs a regular grid; on irregular fibres its analogue is the C1 piecewise-cubic Clough-Tocher interpolant
    on the same Delaunay triangulation (``cubic``); ``linear`` is the networks' own input. Its one epoch takes
    no optimiser step (there are no parameters), so it runs through the same loop, checkpoint and evaluation."""

    name = "sr_interpolation"
    Config = InterpolationConfig
    title = "Cubic interpolation (Clough-Tocher)"
    row_group = "Baseline"
    paper = "Ravì et al. 2018 (bicubic baseline, here on irregular fibres)"

    def __init__(self, cfg: InterpolationConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        check_pairs(self, data)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {}

    def train_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, torch.Tensor]:
        return {"loss": torch.zeros((), device=batch["x"].device)}

    def estimate(self, x: torch.Tensor) -> torch.Tensor:
        return pair(x, LR_CUBIC if self.cfg.interpolation == "cubic" else LR_LINEAR)[0]


@dataclass
class SRConfig(MethodConfig):
    ssim_weight: NonNegativeFloat = 1.0  # loss = L1 + ssim_weight (1 - SSIM); Ravì et al.: L1 + SSIM terms
    residual: bool = True  # the net predicts a correction added to its interpolated input (module docstring)
    patch_size: PositiveInt | None = None  # train on random square crops of this side (EDSR: 48, SRGAN: 96 HR
                                           # pixels); None = whole images. Validation always sees whole images


class SRNet(SuperResolution):
    """A network trained on L1 + (1 - SSIM) of its estimate against the HR image."""

    def __init__(self, cfg: SRConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        check_pairs(self, data)
        if cfg.patch_size is not None and cfg.patch_size > data.image_size:
            raise ConfigError(f"patch_size={cfg.patch_size} is larger than the {data.image_size}px images; "
                              f"valid: patch_size <= image_size, or null for whole images")
        self.net = self.build(cfg)
        if cfg.residual:  # the correction starts at zero: training starts from the interpolated input itself
            last = [m for m in self.net.modules() if isinstance(m, torch.nn.Conv2d)][-1]
            torch.nn.init.zeros_(last.weight)
            torch.nn.init.zeros_(last.bias)

    @abc.abstractmethod
    def build(self, cfg: SRConfig) -> torch.nn.Module:
        """The network that maps an interpolated LR image to its HR estimate."""

    def estimate(self, x: torch.Tensor) -> torch.Tensor:
        return self.super_resolve(pair(x)[0])

    def super_resolve(self, lr: torch.Tensor) -> torch.Tensor:
        out = self.net(lr)
        return lr + out if self.cfg.residual else out

    def training_pair(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(LR, HR) of a training batch: with ``patch_size``, one random crop per image, the same window of both
        (offsets from the global RNG, which the loop checkpoints, so a resumed run draws the same crops)."""
        lr, hr = pair(batch["x"])
        p = self.cfg.patch_size
        if p is None or p == lr.shape[-1]:
            return lr, hr
        both = torch.cat([lr, hr], 1)
        tops = torch.randint(0, both.shape[-2] - p + 1, (len(both),)).tolist()
        lefts = torch.randint(0, both.shape[-1] - p + 1, (len(both),)).tolist()
        crops = torch.stack([img[:, t:t + p, l:l + p] for img, t, l in zip(both, tops, lefts)])
        return crops[:, :1], crops[:, 1:]

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        lr, hr = self.training_pair(batch)
        return l1_ssim_loss(self.super_resolve(lr), hr, self.cfg.ssim_weight)


@dataclass
class FSRCNNConfig(SRConfig):
    lr: PositiveFloat = 1e-3  # FSRCNN trains with SGD at 1e-3; Adam at that rate here (as the suite's methods)
    d: PositiveInt = 56  # FSRCNN(56, 12, 4), the paper's best setting (Sec. 3.3)
    s: PositiveInt = 12
    m: PositiveInt = 4


@register_method
class FSRCNNMethod(SRNet):
    """FSRCNN: feature extraction, shrinking, m mapping layers, expanding; a stride-1 last layer at scale 1."""

    name = "fsrcnn"
    Config = FSRCNNConfig
    title = "FSRCNN"
    paper = "Dong, Loy & Tang, FSRCNN, ECCV 2016 (at scale 1: last layer a stride-1 9x9 convolution)"

    def build(self, cfg: FSRCNNConfig) -> torch.nn.Module:
        return FSRCNN(1, cfg.d, cfg.s, cfg.m)


@dataclass
class EDSRConfig(SRConfig):
    lr: PositiveFloat = 1e-4  # EDSR, Sec. 4.2: Adam, 1e-4
    width: PositiveInt = 64  # EDSR baseline: 16 blocks of 64 channels, residual scaling 1
    blocks: PositiveInt = 16
    res_scale: PositiveFloat = 1.0


@register_method
class EDSRMethod(SRNet):
    """EDSR: residual blocks of two 3x3 convolutions without BatchNorm, scaled by res_scale, and a global skip."""

    name = "edsr"
    Config = EDSRConfig
    title = "EDSR"
    paper = "Lim et al., EDSR, CVPRW 2017 (baseline size, no upsampler at scale 1)"

    def build(self, cfg: EDSRConfig) -> torch.nn.Module:
        return EDSR(1, cfg.width, cfg.blocks, cfg.res_scale)


@dataclass
class SRGANConfig(EDSRConfig):
    adversarial_weight: PositiveFloat = 1e-3  # SRGAN, Eq. 3: 10^-3 times the adversarial loss
    d_widths: list[PositiveInt] = field(default_factory=lambda: [64, 128, 256, 512])  # SRGAN, Fig. 4
    beta1: Probability = 0.9  # SRGAN: Adam with beta1 = 0.9, lr 1e-4 for both networks


@register_method
class SRGAN(EDSRMethod):
    """SRGAN: the EDSR generator trained on L1 + (1 - SSIM) plus adversarial_weight times the non-saturating
    GAN loss; one ``train_step`` updates the discriminator on a real (HR) and a generated batch, then the
    generator, whose adversarial term uses the discriminator after its update on the same generated batch."""

    name = "srgan"
    Config = SRGANConfig
    title = "SRGAN"
    paper = "Ledig et al., SRGAN, CVPR 2017 (EDSR generator without BatchNorm, L1 + SSIM content loss)"
    metrics = SR_METRICS | {"d_real_prob"}

    def __init__(self, cfg: SRGANConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        if not cfg.d_widths:
            raise ConfigError("d_widths=[]: give the discriminator at least one width")
        self.discriminator = SRDiscriminator(1, tuple(cfg.d_widths))

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.cfg.beta1, 0.999)
        return {"generator": torch.optim.Adam(self.net.parameters(), lr=self.cfg.lr, betas=betas),
                "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=self.cfg.lr, betas=betas)}

    def train_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, torch.Tensor]:
        lr, hr = self.training_pair(batch)
        fake = self.super_resolve(lr)
        d_real, d_fake = self.discriminator(hr), self.discriminator(fake.detach())
        d_loss = discriminator_loss(d_real, d_fake)
        opt_d = optimizers["discriminator"]
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward(inputs=list(self.discriminator.parameters()))
        opt_d.step()
        content = l1_ssim_loss(fake, hr, self.cfg.ssim_weight)
        adversarial = nonsaturating_generator_loss(self.discriminator(fake))
        g_loss = content["loss"] + self.cfg.adversarial_weight * adversarial
        opt_g = optimizers["generator"]
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward(inputs=list(self.net.parameters()))
        opt_g.step()
        return {"loss": g_loss.detach(), "content": content["loss"].detach(), "l1": content["l1"],
                "ssim": content["ssim"], "adversarial": adversarial.detach(), "d_loss": d_loss.detach(),
                "d_real_prob": torch.sigmoid(d_real.detach()).mean()}

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        out = super().validation_losses(batch)
        out["d_real_prob"] = torch.sigmoid(self.discriminator(pair(batch["x"])[1]))
        return out
