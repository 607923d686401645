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

``gon_net2net`` applies Net2WiderNet to a GON (an application of ours; no paper has it): its decoder starts as a
pretrained GON decoder (``teacher``, pretrain's ``mnist_gon_teacher``) widened to the run's ``ngf`` and trains on
as a GON, or (``init: random``) starts from random weights. Besides the student's own metrics it reports the
teacher's validation squared error under the run's BatchNorm protocol and batching (the target), the
student's before its first step, the steps to reach the target and ``total_steps``: its own optimiser steps
plus the teacher's when it was grown, so that a widened GON and one trained at the wide size from scratch
are compared at equal total steps.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Literal, Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import metrics as M
from ..batches import to_unit
from ..errors import ConfigError
from ..nets import ConvDecoder, DigitClassifier, deeper_classifier, wider_classifier
from ..nets.net2net import decoder_chain, wider
from ..nets.ppgn import normalise
from ..seeding import built_as_seeded
from ..typecheck import NonNegativeFloat, PositiveInt
from ..validation import validation_pass
from .base import Batch, DataInfo, EvaluationContext, EvaluationExtras, Method, MethodConfig, register_method
from .gon import GON, GONConfig

Init = Literal["random", "wider", "deeper", "both"]


class GrownFromTeacher:
    """What every Net2Net student shares: it can be rebuilt as it was before its first step (the start of its
    curve, beside validation_curve's validated epochs)."""

    def initial(self, seed: int, networks: Mapping[str, nn.Module]):
        """The student as training started: rebuilt right after seeding, as the training loop builds it."""
        device = next(self.parameters()).device
        return built_as_seeded(seed, lambda: type(self)(self.cfg, self.data, networks)).to(device).eval()


def validation_curve(log: list[dict], start: float, key: str) -> tuple[list[int], list[float]]:
    """(optimiser steps, value of ``key``) from the start value at step 0 through every validated epoch."""
    steps, values, done = [0], [start], 0
    for record in log:
        done += record["steps"]
        if key in record:
            steps.append(done)
            values.append(record[key])
    return steps, values


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
class Net2NetStudent(GrownFromTeacher, Method):
    """A classifier grown from the pretrained teacher by Net2WiderNet / Net2DeeperNet / both, or from random init."""

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

    def evaluation_extras(self, ctx: EvaluationContext) -> EvaluationExtras:
        target = self._accuracy(ctx.networks["teacher"], ctx.val_x, ctx.val_y) if "teacher" in ctx.networks else float("nan")
        start = self._accuracy(self.initial(ctx.seed, ctx.networks).net, ctx.val_x, ctx.val_y)
        steps, values = validation_curve(ctx.log, start, "val_accuracy")
        return EvaluationExtras(metrics={"init_accuracy": start, "teacher_accuracy": target,
                                         "steps_to_target": M.steps_to_target(steps, values, target)})


@dataclass
class Net2NetGONConfig(GONConfig):
    init: Literal["random", "wider"] = "random"
    noise: NonNegativeFloat = 0.0  # Net2WiderNet's symmetry-breaking noise, relative to each layer's weight std
    teacher: str = "mnist_gon_teacher"


@register_method
class Net2NetGON(GrownFromTeacher, GON):
    """A GON whose decoder is a pretrained GON decoder widened by Net2WiderNet (``init: wider``), or the same
    GON from random weights; trained by the GON's own loss."""

    name = "gon_net2net"
    Config = Net2NetGONConfig
    title, row_group = "Net2Net GON", ""
    metrics = GON.metrics | {"init_recon_sse", "teacher_recon_sse", "steps_to_target", "teacher_steps", "total_steps"}
    seed_stackable = False  # Net2WiderNet grows one decoder
    network_fields = ("teacher",)
    paper = "Chen, Goodfellow & Shlens, Net2Net, ICLR 2016, applied to Bond-Taylor & Willcocks, GON, ICLR 2021 (ours)"

    def __init__(self, cfg: Net2NetGONConfig, data: DataInfo, networks: Mapping[str, nn.Module]) -> None:
        super().__init__(cfg, data)
        if cfg.init == "random":
            return
        teacher = networks.get("teacher")
        if not isinstance(teacher, ConvDecoder):
            raise ConfigError(f"init={cfg.init} widens a pretrained GON decoder: set teacher to one "
                              f"(mnist_gon_teacher), not {cfg.teacher!r}")
        kept = ("nz", "latent_hw", "depth", "nc")
        if any(getattr(teacher, k) != getattr(self.decoder, k) for k in kept):
            raise ConfigError("Net2WiderNet widens only the decoder's filters (ngf): give the student the teacher's "
                              + ", ".join(f"{k} {getattr(teacher, k)}" for k in kept))
        wider(decoder_chain(teacher), decoder_chain(self.decoder.to(next(teacher.parameters()).device)),
              noise=cfg.noise)

    def _sse(self, model: GON, ctx: EvaluationContext) -> float:
        """Mean validation squared error of ``model`` with the run's protocol and batching."""
        out = validation_pass(model, ctx.val_x, ctx.val_y, ctx.batch_size, ctx.bn_protocol)
        return float(out["recon_sse"].mean())

    def evaluation_extras(self, ctx: EvaluationContext) -> EvaluationExtras:
        teacher = ctx.networks.get("teacher")
        if teacher is None:
            raise ConfigError("gon_net2net is measured against its teacher: set teacher to a pretrained GON decoder "
                              "(mnist_gon_teacher)")
        as_teacher = copy.deepcopy(self)
        as_teacher.decoder = copy.deepcopy(teacher)
        target = self._sse(as_teacher, ctx)
        start = self._sse(self.initial(ctx.seed, ctx.networks), ctx)
        steps, values = validation_curve(ctx.log, start, "val_recon_sse")
        own_steps = sum(record["steps"] for record in ctx.log)
        teacher_steps = ctx.network_summaries.get("teacher", {}).get("train_steps")
        if teacher_steps is None:
            raise ConfigError(f"the summary of teacher {self.cfg.teacher!r} does not record its training steps; "
                              f"rebuild it with `gonbench pretrain --network {self.cfg.teacher}`")
        grown = self.cfg.init != "random"
        return EvaluationExtras(metrics={
            "teacher_recon_sse": target, "init_recon_sse": start, "teacher_steps": float(teacher_steps),
            "total_steps": float(own_steps + (teacher_steps if grown else 0)),
            "steps_to_target": M.steps_to_target(steps, [-v for v in values], -target)})  # lower is better
