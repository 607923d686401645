"""Foreground segmentation with a connected-component piecewise constant layer (Cho et al., "Differentiable
Programming for Piecewise Polynomial Functions", Sec. 5.3; Figure 5).

Task (the paper's data is not available offline; our stand-in): predict the foreground mask of a digit
(clean intensity > mask_threshold) from the digit plus Gaussian noise. Three models share one small fully
convolutional net that outputs foreground probabilities p:
- Mbaseline (``seg_baseline``): binary cross-entropy of p against the mask.
- Mconn (``seg_conn``): the output is c(p), each pixel replaced by the mean of p over its connected component
  of the thresholded map (``ConnectedComponentMean``); cross-entropy of c(p), backward through c's weak
  Jacobian (per-component averaging of the gradient), plus pixel_weight times Mbaseline's loss. Without
  that term (pixel_weight = 0) a map that starts below threshold everywhere is one background component
  whose gradient is the same at every pixel, so no foreground ever forms (IoU 0 in our runs).
- Mreg (``seg_reg``): Mbaseline's loss + reg_weight * mean (p - c(p))^2, pulling p to be flat on components.
Validation: the mask predicted by thresholding the output at ``threshold``, scored by IoU and boundary F.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .. import metrics as M
from ..layers import Backward, ConnectedComponentMean
from ..nets import MaskNet
from ..noise import gaussian_noise
from ..typecheck import NonNegativeFloat, NonNegativeInt, PositiveInt, Probability
from .base import Batch, DataInfo, Method, MethodConfig, register_method


@dataclass
class SegmentationConfig(MethodConfig):
    width: PositiveInt = 32  # channels of the hidden convolutions (not stated in the paper)
    dilations: list[PositiveInt] = field(default_factory=lambda: [1, 2, 4, 1])  # one 3x3 conv each: receptive field 17
    noise_std: NonNegativeFloat = 0.5  # Gaussian noise on images in [0, 1]
    mask_threshold: Probability = 0.5  # clean intensity above which a pixel is foreground (the target)
    threshold: Probability = 0.5  # predicted probability above which a pixel is foreground (and components are cut)
    boundary_tolerance: NonNegativeInt = 0  # pixels of slack of the boundary F-score (digit strokes are 2-3 pixels wide)


@dataclass
class ComponentConfig(SegmentationConfig):
    backward: Backward = "weak"
    pixel_weight: NonNegativeFloat = 1.0  # Mconn: weight of the pixel cross-entropy of p beside that of c(p) (see above)


@dataclass
class ComponentRegConfig(SegmentationConfig):
    backward: Backward = "weak"
    reg_weight: NonNegativeFloat = 1.0  # not stated in the paper


@register_method
class SegBaseline(Method):
    """Mbaseline: per-pixel cross-entropy of the predicted foreground probabilities."""

    name = "seg_baseline"
    title = "Mbaseline"
    metrics = frozenset({"iou", "boundary_f", "pixel_error"})
    Config = SegmentationConfig
    paper = "Cho et al., Sec. 5.3 (Mbaseline)"

    def __init__(self, cfg: SegmentationConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.net = MaskNet(channels=data.channels, width=cfg.width, dilations=cfg.dilations)

    def corrupt(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(noisy image, target mask as floats); validation noise is fixed per image (``gonbench.noise``)."""
        x = batch["x"]
        noisy = x + gaussian_noise(x, batch["index"], self.cfg.noise_std, fresh=self.training)
        return noisy, (x[:, :1] > self.cfg.mask_threshold).to(x.dtype)

    def output(self, noisy: torch.Tensor) -> torch.Tensor:
        """The model's foreground map in [0, 1] [B, 1, H, W]."""
        return torch.sigmoid(self.net(noisy))

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        noisy, mask = self.corrupt(batch)
        return {"loss": F.binary_cross_entropy_with_logits(self.net(noisy), mask)}

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        noisy, mask = self.corrupt(batch)
        out = self.output(noisy)
        pred, target = out > self.cfg.threshold, mask > 0.5
        return {"iou": M.iou(pred, target), "boundary_f": M.boundary_f(pred, target, self.cfg.boundary_tolerance),
                "pixel_error": M.pixel_error(pred, target)}


@register_method
class SegConn(SegBaseline):
    """Mconn: the output is constant on the connected components of its own thresholded map."""

    name = "seg_conn"
    title = "Mconn"
    Config = ComponentConfig
    paper = "Cho et al., Sec. 5.3 (Mconn)"

    def __init__(self, cfg: ComponentConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.components = ConnectedComponentMean(cfg.threshold, backward=cfg.backward)

    def output(self, noisy: torch.Tensor) -> torch.Tensor:
        return self.components(torch.sigmoid(self.net(noisy)))

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        noisy, mask = self.corrupt(batch)
        logits = self.net(noisy)
        components = F.binary_cross_entropy(self.components(torch.sigmoid(logits)).clamp(1e-6, 1 - 1e-6), mask)
        pixels = F.binary_cross_entropy_with_logits(logits, mask)
        return {"loss": components + self.cfg.pixel_weight * pixels, "components": components, "pixels": pixels}


@register_method
class SegReg(SegBaseline):
    """Mreg: Mbaseline's loss plus the squared distance of p to its component-wise constant version."""

    name = "seg_reg"
    title = "Mreg"
    Config = ComponentRegConfig
    paper = "Cho et al., Sec. 5.3 (Mreg)"

    def __init__(self, cfg: ComponentRegConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.components = ConnectedComponentMean(cfg.threshold, backward=cfg.backward)

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        noisy, mask = self.corrupt(batch)
        logits = self.net(noisy)
        p = torch.sigmoid(logits)
        bce = F.binary_cross_entropy_with_logits(logits, mask)
        reg = ((p - self.components(p)) ** 2).mean()
        return {"loss": bce + self.cfg.reg_weight * reg, "bce": bce, "reg": reg}
