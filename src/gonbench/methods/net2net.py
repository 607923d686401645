"""Net2Net students (Chen, Goodfellow & Shlens 2016, Sec. 4): a classifier grown from a pretrained teacher by
Net2WiderNet, Net2DeeperNet or both (nets.net2net), or the same architecture from random initialisation,
trained on the same data for the same steps.

The teacher is a pretrained network (``teacher``, a nets.classifier.DigitClassifier registered in
gonbench.pretrain), so the workflow trains it once before its students. ``init`` chooses the start: ``random``,
``wider`` (the teacher's depth at the student's ``widths`` / ``feature_dim``), ``deeper`` (the teacher's
widths at the student's ``convs_per_block`` / ``hidden_layers``), ``both`` (widened, then deepened). The
student's size fields must then agree with what the transform keeps (one line otherwise).

Evaluation reports the final validation accuracy, the accuracy of the student before its first step
(``init_accuracy``: rebuilt from the run's seed, as training built it), the teacher's accuracy on the same
validation images (``teacher_accuracy``, the target) and ``steps_to_target``: the optimiser steps after which
the student's validation accuracy first reached the target (0 when it starts there; NaN if never reached).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import metrics as M
from ..batches import to_unit
from ..errors import ConfigError
from ..nets import DigitClassifier, deeper_classifier, wider_classifier
from ..nets.ppgn import normalise
from ..typecheck import NonNegativeFloat, PositiveInt
from .base import Batch, DataInfo, EvaluationContext, EvaluationExtras, Method, MethodConfig, register_method

Init = Literal["random", "wider", "deeper", "both"]


@dataclass
class Net2NetConfig(MethodConfig):
    init: Init = "random"
    widths: list[PositiveInt] = field(default_factory=lambda: [16, 32])  # channels per conv block
    convs_per_block: PositiveInt = 2
    feature_dim: PositiveInt = 64
    hidden_layers: PositiveInt = 1
    noise: NonNegativeFloat = 0.0  # Net2WiderNet's symmetry-breaking noise, relative to each layer's weight std
    teacher: str = "net2net_teacher"


@register_method
class Net2NetStudent(Method):
    name = "net2net"
    Config = Net2NetConfig
    title = "Net2Net student"
    metrics = frozenset({"accuracy", "ce", "init_accuracy", "teacher_accuracy", "steps_to_target"})
    paper = "Chen, Goodfellow & Shlens, Net2Net: Accelerating Learning via Knowledge Transfer, ICLR 2016"
    network_fields = ("teacher",)

    def __init__(self, cfg: Net2NetConfig, data: DataInfo, networks: Mapping[str, nn.Module]) -> None:
        super().__init__(cfg, data)
        self.net = DigitClassifier(channels=data.channels, image_size=data.image_size, classes=data.classes,
                                   feature_dim=cfg.feature_dim, widths=tuple(cfg.widths),
                                   convs_per_block=cfg.convs_per_block, hidden_layers=cfg.hidden_layers)
        if cfg.init == "random":
            return
        teacher = networks.get("teacher")
        if teacher is None:
            raise ConfigError(f"init={cfg.init} grows a teacher: set teacher to a pretrained classifier")
        if not isinstance(teacher, DigitClassifier):
            raise ConfigError(f"teacher {cfg.teacher!r} is not a DigitClassifier; Net2Net grows one")
        grown = self.net
        if cfg.init == "both":  # widen at the teacher's depth, then deepen into the student
            grown = DigitClassifier(channels=data.channels, image_size=data.image_size, classes=data.classes,
                                    feature_dim=cfg.feature_dim, widths=tuple(cfg.widths),
                                    convs_per_block=teacher.convs_per_block, hidden_layers=teacher.hidden_layers)
        if cfg.init in ("wider", "both"):
            wider_classifier(teacher, grown.to(next(teacher.parameters()).device), noise=cfg.noise)
        if cfg.init in ("deeper", "both"):
            deeper_classifier(grown if cfg.init == "both" else teacher, self.net)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(normalise(x))

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        logits = self.logits(batch["x"])
        return {"loss": F.cross_entropy(logits, batch["y"]), "accuracy": M.accuracy(logits, batch["y"]).mean()}

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        logits = self.logits(batch["x"])
        return {"accuracy": M.accuracy(logits, batch["y"]), "ce": F.cross_entropy(logits, batch["y"], reduction="none")}

    @torch.no_grad()
    def _accuracy(self, fn, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> float:
        correct = sum(float(M.accuracy(fn(normalise(to_unit(x[i:i + batch_size]))), y[i:i + batch_size]).sum())
                      for i in range(0, len(x), batch_size))
        return correct / max(len(x), 1)

    def initial(self, seed: int, networks: Mapping[str, nn.Module]) -> "Net2NetStudent":
        """The student as training started: rebuilt right after seeding, as the training loop builds it."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return type(self)(self.cfg, self.data, networks).to(next(self.parameters()).device).eval()

    def evaluation_extras(self, ctx: EvaluationContext) -> EvaluationExtras:
        target = self._accuracy(ctx.networks["teacher"], ctx.val_x, ctx.val_y) if "teacher" in ctx.networks else float("nan")
        start = self._accuracy(self.initial(ctx.seed, ctx.networks).net, ctx.val_x, ctx.val_y)
        steps, values, done = [0], [start], 0
        for record in ctx.log:
            done += record["steps"]
            if "val_accuracy" in record:
                steps.append(done)
                values.append(record["val_accuracy"])
        return EvaluationExtras(metrics={"init_accuracy": start, "teacher_accuracy": target,
                                         "steps_to_target": M.steps_to_target(steps, values, target)})
