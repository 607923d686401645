"""What every method is: an nn.Module built from a typed config that returns its own training loss.

The DESIGN's ``init(spec) -> state`` is the constructor (the module *is* the state, so checkpoints are
``state_dict``s) and ``loss(state, batch)`` is :meth:`Method.training_loss`. The generic loop in
``gonbench.train`` only calls :meth:`train_step`; a method with several optimisers (the PPGN GANs)
overrides that hook instead of copying the loop.

Everything evaluation asks of a method is declared here (validation_losses, reconstruct, sample,
evaluation_extras); hooks return values, and gonbench.evaluate writes the files.
"""
from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

import torch
import torch.nn as nn

from .. import metrics as M
from ..errors import ConfigError, UnsupportedOperation
from ..registry import Registry
from ..typecheck import PositiveFloat


@dataclass
class MethodConfig:
    """Fields shared by every method; a method's config subclasses this and adds only its own fields."""

    lr: PositiveFloat = 1e-4  # Adam learning rate (GON paper, all experiments)


@dataclass(frozen=True)
class DataInfo:
    """What a method needs to know about its data before seeing it."""

    channels: int
    image_size: int
    classes: int
    train_size: int


Batch = dict[str, torch.Tensor]  # "x": [B, C, H, W] in [0, 1], "y": [B] labels, "index": [B] positions


@dataclass
class EvaluationContext:
    """What a method's evaluation hook may use besides itself: the validation split, the run's seed (for
    any randomness), the training's per-step records and the pretrained networks the run names."""

    val_x: torch.Tensor  # [N, C, H, W] in [0, 1]
    val_y: torch.Tensor
    seed: int
    steps: list[dict] = field(default_factory=list)
    networks: Mapping[str, nn.Module] = field(default_factory=dict)


@dataclass
class EvaluationExtras:
    """A method's own evaluation results: scalar metrics, image grids ([N, C, H, W] in [0, 1] with the
    images per row) and tensors to keep, each by file name; gonbench.evaluate writes the files."""

    metrics: dict[str, float] = field(default_factory=dict)
    grids: dict[str, tuple[torch.Tensor, int]] = field(default_factory=dict)
    tensors: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)


class Method(nn.Module, abc.ABC):
    name: ClassVar[str]
    Config: ClassVar[type[MethodConfig]] = MethodConfig
    paper: ClassVar[str] = ""
    image_size: ClassVar[int | None] = None  # set when the method's networks fix the resolution (PPGN: 28)
    # config fields naming a pretrained network (gonbench.pretrain); the run layer loads each one and passes
    # them as a third constructor argument ``networks`` keyed by field, so a method never reads files itself
    network_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, cfg: MethodConfig, data: DataInfo) -> None:
        super().__init__()
        self.cfg = cfg
        self.data = data

    # -- training -----------------------------------------------------------------------------------
    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Return ``{"loss": scalar to minimise, **parts to log}``. Methods that override ``train_step``
        (several optimisers) need not define it."""
        raise UnsupportedOperation(f"{self.name} has no single training loss (it trains through its own train_step)")

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"main": torch.optim.Adam(self.parameters(), lr=self.cfg.lr)}

    def train_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, torch.Tensor | float]:
        """One optimiser step; returns the logged values, left on the device (the loop reads them back once
        per epoch, so a step never waits for the device)."""
        out = self.training_loss(batch)
        opt = optimizers["main"]
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        opt.step()
        return {k: v.detach() for k, v in out.items()}

    def pop_step_records(self) -> list[dict]:
        """Records finer than an epoch made since the last call (PPGN: one per generator step, for the
        Wasserstein curves); the loop appends them to steps.jsonl after every epoch."""
        return []

    # -- evaluation (each method implements what applies to it) -------------------------------------
    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Per-image values ([B, ...]) for validation metrics. Keys starting with "_" are outputs kept for
        figures and image metrics (e.g. "_recon"), not averaged. Default: reconstruction SSE."""
        x = batch["x"]
        x_hat = self.reconstruct(x)
        return {"recon_sse": M.recon_sse(x_hat, x), "_recon": x_hat}

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        raise UnsupportedOperation(f"{self.name} does not reconstruct; methods that do: see `gonbench list`")

    def sample(self, n: int) -> torch.Tensor:
        raise UnsupportedOperation(f"{self.name} does not sample; methods that do: see `gonbench list`")

    def evaluation_extras(self, ctx: EvaluationContext) -> EvaluationExtras:
        """Metrics and files beyond the validation losses (PPGN: scored class-conditional samples)."""
        return EvaluationExtras()

    @property
    def can_reconstruct(self) -> bool:
        return type(self).reconstruct is not Method.reconstruct

    @property
    def can_sample(self) -> bool:
        return type(self).sample is not Method.sample


METHODS: Registry[type[Method]] = Registry("method")


def register_method(cls: type[Method]) -> type[Method]:
    return METHODS.register(cls.name)(cls)


def config_fields(cfg_cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cfg_cls)}


def build_method(name: str, data: DataInfo, networks: Mapping[str, nn.Module] | None = None, **values: Any) -> Method:
    """Build a registered method from config values; unknown keys are an error naming the valid ones."""
    cls = METHODS.get(name)
    fields = config_fields(cls.Config)
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"unknown config key(s) {', '.join(unknown)} for method {name}; "
                         f"valid keys: {', '.join(sorted(fields))}")
    cfg = cls.Config(**values)
    return cls(cfg, data, networks or {}) if cls.network_fields else cls(cfg, data)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
