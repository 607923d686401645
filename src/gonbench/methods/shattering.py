"""The shattered gradients problem (Balduzzi et al. 2017): gradients of deep nets at initialisation, and deep
classifiers without skip connections trained from a looks-linear initialisation.

``shattering`` measures and takes no training step (``trains = False``: its runs have ``epochs: 0`` and the
checkpoint is the initialisation). It builds ``nets`` independently initialised 1-D nets R -> R of one architecture and depth
(nets.DeepNet), sweeps the input over [-3, 3] at ``points`` points and records d f / d x at each. The
gradients' correlation between nearby points, over the initialisations (metrics.gradient_correlation), is the
paper's measure: near 1 for brown noise (shallow nets), falling to ~0 for white noise (deep ReLU nets), 1 for
a net that is linear at initialisation. BatchNorm in ``resnet_bn`` normalises with the sweep's statistics
(nets.deep.SweepNorm), so each point's gradient is its own.

``deep_classifier`` trains such a net (``depth`` hidden layers, no skips unless ``arch`` is a ResNet) on
flattened images with cross-entropy: the paper trains 200-layer LL CReLU convnets on CIFAR-10 to ResNet
accuracy; here fully connected nets on MNIST-like data, the same three initialisations.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import metrics as M
from ..errors import ConfigError
from ..layers import LLInit
from ..nets import DeepNet
from ..nets.deep import Arch
from ..nets.ppgn import normalise
from ..typecheck import PositiveInt
from .base import Batch, DataInfo, EvaluationContext, EvaluationExtras, Method, MethodConfig, register_method

SWEEP = (-3.0, 3.0)  # the paper's input range: standardised inputs
SHATTERING_FILE = "shattering.pt"  # the sweep, each net's gradients and the correlation by lag (figures read it)


@dataclass
class ShatteringConfig(MethodConfig):
    arch: Arch = "relu"
    depth: PositiveInt = 8  # hidden nonlinear layers
    width: PositiveInt = 200  # units per hidden layer (our choice)
    points: PositiveInt = 256  # sweep points over [-3, 3]
    nets: PositiveInt = 32  # independent initialisations the correlation is taken over
    max_lag: PositiveInt = 32  # lags kept for the correlation curve
    far_lag: PositiveInt = 8  # the second lag reported (8 x 6/255 = 0.19 in input units at 256 points)
    ll_init: LLInit = "orthogonal"


@register_method
class Shattering(Method):
    """Input gradients of 1-D nets at initialisation along a sweep, and their correlation between points."""

    name = "shattering"
    Config = ShatteringConfig
    title = "1-D net at initialisation"
    metrics = frozenset({"grad_corr", "grad_corr_far", "grad_abs"})
    paper = "Balduzzi et al., The Shattered Gradients Problem, Sec. 2-5 (Figures 1-3)"
    trains = False

    def __init__(self, cfg: ShatteringConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        if cfg.far_lag > cfg.max_lag or cfg.max_lag >= cfg.points:
            raise ConfigError(f"far_lag={cfg.far_lag}, max_lag={cfg.max_lag}, points={cfg.points}: "
                              f"valid: far_lag <= max_lag < points")
        self.nets = nn.ModuleList(DeepNet(cfg.arch, cfg.depth, cfg.width, 1, 1, ll_init=cfg.ll_init, sweep_norm=True)
                                  for _ in range(cfg.nets))

    def sweep_gradients(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The sweep x [P] and every net's gradient df/dx at each point [N, P]."""
        device = next(self.parameters()).device
        x = torch.linspace(*SWEEP, self.cfg.points, device=device)
        grads = []
        for net in self.nets:
            xs = x[:, None].clone().requires_grad_(True)
            (g,) = torch.autograd.grad(net(xs).sum(), xs)  # each output depends on its own point only
            grads.append(g[:, 0])
        return x, torch.stack(grads)

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        return {}  # nothing per image: the measurement is evaluation_extras

    def evaluation_extras(self, ctx: EvaluationContext) -> EvaluationExtras:
        with torch.enable_grad():
            x, grads = self.sweep_gradients()
        corr = M.gradient_correlation(grads.double(), self.cfg.max_lag)
        return EvaluationExtras(
            metrics={"grad_corr": float(corr[1]), "grad_corr_far": float(corr[self.cfg.far_lag]),
                     "grad_abs": float(grads.abs().mean())},
            tensors={SHATTERING_FILE: {"x": x.cpu(), "grads": grads.detach().cpu(), "correlation": corr.float().cpu()}})


@dataclass
class DeepClassifierConfig(MethodConfig):
    arch: Arch = "relu"
    depth: PositiveInt = 20  # hidden nonlinear layers
    width: PositiveInt = 64
    ll_init: LLInit = "orthogonal"


@register_method
class DeepClassifier(Method):
    """A deep fully connected classifier (nets.DeepNet) on normalised, flattened pixels; cross-entropy."""

    name = "deep_classifier"
    Config = DeepClassifierConfig
    title = "deep classifier"
    metrics = frozenset({"accuracy", "ce"})
    paper = "Balduzzi et al., The Shattered Gradients Problem, Sec. 5 (deep nets without skips)"

    def __init__(self, cfg: DeepClassifierConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.net = DeepNet(cfg.arch, cfg.depth, cfg.width, data.channels * data.image_size ** 2, data.classes,
                           ll_init=cfg.ll_init)

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        logits = self.net(normalise(batch["x"]))
        ce = F.cross_entropy(logits, batch["y"])
        return {"loss": ce, "accuracy": M.accuracy(logits, batch["y"]).mean()}

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        logits = self.net(normalise(batch["x"]))
        return {"accuracy": M.accuracy(logits, batch["y"]), "ce": F.cross_entropy(logits, batch["y"], reduction="none")}
