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
    """What a method needs to know about its data before seeing it. ``seeds`` > 1: build that many
    independent copies as one grouped model, inputs stacked on the channel axis (gonbench.seedstack)."""

    channels: int
    image_size: int
    classes: int
    train_size: int
    seeds: int = 1


Batch = dict[str, torch.Tensor]  # "x": [B, C, H, W] in [0, 1], "y": [B] labels, "index": [B] positions


@dataclass
class EvaluationContext:
    """What a method's evaluation hook may use besides itself: the validation split, the run's seed (for
    any randomness), the training's per-step and per-epoch records and the pretrained networks the run names."""

    val_x: torch.Tensor  # [N, C, H, W] in [0, 1]
    val_y: torch.Tensor
    seed: int
    steps: list[dict] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)  # the training's per-epoch records (log.jsonl)
    networks: Mapping[str, nn.Module] = field(default_factory=dict)
    # per-image outputs of validation_losses whose keys start with "_", by (BatchNorm protocol, key)
    outputs: Mapping[tuple[str, str], torch.Tensor] = field(default_factory=dict)
    bn_protocol: str = "train"  # the protocol of the run's headline metrics (a metric from ``outputs`` uses its key)
    batch_size: int = 64  # the run's batch size, which its validation passes use (batch statistics depend on it)
    # the summary written beside each pretrained network the run names (its scores, training steps and time)
    network_summaries: Mapping[str, dict] = field(default_factory=dict)


@dataclass
class EvaluationExtras:
    """A method's own evaluation results: scalar metrics, image grids ([N, C, H, W] in [0, 1] with the
    images per row) and tensors to keep, each by file name; gonbench.evaluate writes the files."""

    metrics: dict[str, float] = field(default_factory=dict)
    grids: dict[str, tuple[torch.Tensor, int]] = field(default_factory=dict)
    tensors: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)


# Metrics every run's metrics.json has, whatever its method (gonbench.evaluate)
RUN_METRICS = frozenset({"epochs", "train_seconds", "eval_seconds", "step_seconds"})
# Metrics of every run whose method samples and whose spec names a judge (evaluate.sample_scores)
SAMPLE_METRICS = frozenset({"sample_kid", "sample_confidence", "sample_is", "sample_seconds"})


class Method(nn.Module, abc.ABC):
    name: ClassVar[str]
    Config: ClassVar[type[MethodConfig]] = MethodConfig
    paper: ClassVar[str] = ""
    # How a table shows the method: its row title, and the group of rows it sits in ("Single step"). A profile
    # may override both per experiment (``rows: {titles, groups, group_by}``); "" title = the method's name.
    title: ClassVar[str] = ""
    row_group: ClassVar[str] = ""
    # The headline metrics its evaluation writes to metrics.json (besides RUN_METRICS; with BatchNorm each also
    # per protocol, ``<metric>_bn_<protocol>``). A table's rows are the labels of its experiment whose method
    # reports the table's metric, and the plan refuses a table column that no row's method reports.
    # The default is what the default ``validation_losses`` gives (a reconstruction, scored by SSE, PSNR, SSIM).
    metrics: ClassVar[frozenset[str]] = frozenset({"recon_sse", "psnr", "ssim"})
    image_size: ClassVar[int | None] = None  # set when the method's networks fix the resolution (PPGN: 28)
    channels: ClassVar[int | None] = None  # set when the method reads a fixed channel layout (super-resolution pairs: 3)
    # seed_stackable promises that S seeds trained as one grouped model (DataInfo.seeds = S, built by
    # gonbench.seedstack: every channel axis holds the S networks one after the other, inputs [B, S*C, H, W])
    # give each seed exactly the updates it would get alone, up to floating-point summation order. It holds
    # when every layer keeps the seeds' channel blocks apart (grouped convolutions, per-channel BatchNorm,
    # SeedLinear), every loss is reduced per seed block and summed over seeds (losses.seed_squared_error), and
    # noise comes from ``self.randn_like`` (one stream per seed). A subclass inherits the flag, so a subclass
    # that adds a layer or a loss term must keep those rules or set it back to False. Leave it False for a loss
    # that couples the samples of a batch (MMD between a batch and prior draws, a critic's batch statistics):
    # written over the stacked axis it would mix the seeds. Methods that leave it False refuse DataInfo.seeds
    # > 1 with one line; tests/test_seedstack.py checks every method that sets it against its single-seed runs.
    seed_stackable: ClassVar[bool] = False
    # config fields naming a pretrained network (gonbench.pretrain); the run layer loads each one and passes
    # them as a third constructor argument ``networks`` keyed by field, so a method never reads files itself
    network_fields: ClassVar[tuple[str, ...]] = ()
    # False for a measurement at initialisation (the shattering study): its runs take epochs=0, no training
    # step, and its checkpoint is the initialisation; every other method needs epochs >= 1
    trains: ClassVar[bool] = True

    def __init__(self, cfg: MethodConfig, data: DataInfo) -> None:
        super().__init__()
        if data.seeds > 1 and not self.seed_stackable:
            raise ConfigError(f"{self.name} trains one seed at a time; stacking seeds covers: "
                              f"{', '.join(n for n in METHODS.names() if METHODS.get(n).seed_stackable)}")
        self.cfg = cfg
        self.data = data
        self.noise = Noise()

    def randn_like(self, t: torch.Tensor) -> torch.Tensor:
        """Standard normal noise for training: each stacked seed draws from its own stream."""
        return self.noise.randn_like(t, self.data.seeds)

    # -- training -----------------------------------------------------------------------------------
    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Return ``{"loss": scalar to minimise, **parts to log}``; the loop logs each key k as ``train_k`` in
        log.jsonl (the epoch's mean). ``loss`` is the objective in the method's own reduction; a part named
        after a metric (``recon_sse``) is in that metric's unit, so ``train_recon_sse`` and the validation's
        ``val_recon_sse`` compare directly. Methods that override ``train_step`` need not define it."""
        raise UnsupportedOperation(f"{self.name} has no single training loss (it trains through its own train_step)")

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"main": torch.optim.Adam(self.parameters(), lr=self.cfg.lr)}

    def train_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, torch.Tensor | float]:
        """One optimiser step; returns the logged values, left on the device (the loop reads them back once
        per epoch, so a step never waits for the device). With stacked seeds every value is per seed [S]
        and the seeds' losses are summed: their parameters are disjoint, so each gets its own gradient."""
        out = self.training_loss(batch)
        opt = optimizers["main"]
        opt.zero_grad(set_to_none=True)
        out["loss"].sum().backward()
        self.clip_gradients()
        opt.step()
        return {k: v.detach() for k, v in out.items()}

    def clip_gradients(self) -> None:
        """Between backward and the optimiser step: nothing by default (DRAW bounds its gradient norm)."""

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

    @classmethod
    def display_title(cls) -> str:
        return cls.title or cls.name

    @classmethod
    def reported_metrics(cls) -> frozenset[str]:
        """What a run of this method can report: its own metrics, every run's, and sample scores if it samples."""
        return cls.metrics | RUN_METRICS | (SAMPLE_METRICS if cls.sample is not Method.sample else frozenset())

    @property
    def can_reconstruct(self) -> bool:
        return type(self).reconstruct is not Method.reconstruct

    @property
    def can_sample(self) -> bool:
        return type(self).sample is not Method.sample


class Noise:
    """Where training noise comes from: the global RNG (one seed per process, as every run trains alone),
    or, with stacked seeds, one generator per seed holding that seed's own stream, so each stacked seed
    draws exactly the numbers it would draw alone."""

    def __init__(self) -> None:
        self.generators: list[torch.Generator] | None = None

    def randn_like(self, t: torch.Tensor, seeds: int) -> torch.Tensor:
        if self.generators is None:
            return torch.randn_like(t)
        blocks = t.reshape(t.shape[0], seeds, -1)
        draws = [torch.randn(blocks[:, s].shape, generator=g, dtype=t.dtype, device=g.device)
                 for s, g in enumerate(self.generators)]
        return torch.stack(draws, 1).to(t.device).reshape(t.shape)


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
