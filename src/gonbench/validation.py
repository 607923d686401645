"""Passes over a validation set at a fixed batch size under a chosen BatchNorm protocol.

``apply_batched`` is the one helper every evaluation-time pass goes through (validation losses,
reconstructions, latents for figures): padded batches of the training batch size, BatchNorm in the run's
protocol, padding dropped, the model's state restored afterwards.

Protocols: ``train`` normalises with each batch's own statistics (the GON reference code never calls eval()),
``eval`` with the running statistics, and ``recal`` with statistics recomputed on the training set after
training *per pass*: a GON decodes twice per image (at the origin, where every input is the same, and at its
latent), and running statistics average the two, while each pass has its own. ``recal`` records, for every
BatchNorm layer and every call of it within one training forward, the average batch mean and variance over
the training set, and applies call k's statistics to call k at evaluation: fixed statistics, so a cell does
not depend on how the validation set is batched.
"""
from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Any, Callable, Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F

from .batches import padded_batches
from .errors import ConfigError

PROTOCOLS = ("train", "eval")  # what every run is evaluated under; "recal" too where there is BatchNorm
ALL_PROTOCOLS = ("train", "eval", "recal")


def batchnorm_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@contextlib.contextmanager
def batchnorm_mode(model: nn.Module, mode: str) -> Iterator[None]:
    """Evaluate with BatchNorm in ``train`` (batch statistics, as the GON reference code does) or ``eval``
    (running statistics) mode; the model's buffers and modes are restored afterwards."""
    if mode not in PROTOCOLS:
        raise ConfigError(f"unknown BatchNorm protocol {mode!r}; valid choices: {', '.join(PROTOCOLS)}")
    was_training = model.training
    norms = batchnorm_layers(model)
    saved = [{k: v.clone() for k, v in m.state_dict().items()} for m in norms]
    model.eval()
    for m in norms:
        m.train(mode == "train")
    try:
        yield
    finally:
        for m, s in zip(norms, saved):
            m.load_state_dict(s)
        model.train(was_training)


class PassStatistics:
    """Per BatchNorm layer, per call index within one forward: averaged batch means and variances."""

    def __init__(self, model: nn.Module) -> None:
        self.norms = batchnorm_layers(model)
        self.sums: dict[tuple[int, int], list[torch.Tensor]] = {}
        self.batches: dict[tuple[int, int], int] = defaultdict(int)
        self.calls: dict[int, int] = defaultdict(int)

    def start_batch(self) -> None:
        self.calls.clear()

    def next_call(self, layer: int) -> int:
        k = self.calls[layer]
        self.calls[layer] += 1
        return k

    def add(self, layer: int, x: torch.Tensor) -> None:
        dims = [0, *range(2, x.dim())]
        mean, var = x.mean(dims), x.var(dims, unbiased=True)
        key = (layer, self.next_call(layer))
        sums = self.sums.setdefault(key, [torch.zeros_like(mean), torch.zeros_like(var)])
        sums[0] += mean
        sums[1] += var
        self.batches[key] += 1

    def get(self, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Statistics of this layer's next call; calls beyond those recorded use the last recorded one."""
        k = self.next_call(layer)
        recorded = max(c for (i, c) in self.sums if i == layer)
        key = (layer, min(k, recorded))
        mean, var = self.sums[key]
        return mean / self.batches[key], var / self.batches[key]


def record_pass_statistics(model, images: torch.Tensor, batch_size: int) -> PassStatistics:
    """Run the method's training forward (``training_loss``, BatchNorm in train mode, no optimiser step) over
    ``images`` and average every layer's batch statistics per call; the model's buffers are left untouched."""
    stats = PassStatistics(model)
    index = {id(m): i for i, m in enumerate(stats.norms)}
    hooks = [m.register_forward_pre_hook(lambda mod, args: stats.add(index[id(mod)], args[0].detach()))
             for m in stats.norms]
    labels = torch.zeros(len(images), dtype=torch.long, device=images.device)
    try:
        with torch.no_grad(), batchnorm_mode(model, "train"):
            for batch, _ in padded_batches(images, labels, batch_size):
                stats.start_batch()
                model.training_loss(batch)
    finally:
        for h in hooks:
            h.remove()
    return stats


@contextlib.contextmanager
def recalibrated(model: nn.Module, stats: PassStatistics) -> Iterator[Callable[[], None]]:
    """BatchNorm normalising call k of every layer with the recorded statistics of call k; yields the
    function to call before each batch (call counts restart per forward)."""
    index = {id(m): i for i, m in enumerate(stats.norms)}

    def normalise(mod, args, _output):
        mean, var = stats.get(index[id(mod)])
        return F.batch_norm(args[0], mean, var, mod.weight, mod.bias, False, 0.0, mod.eps)

    with batchnorm_mode(model, "eval"):
        hooks = [m.register_forward_hook(normalise) for m in stats.norms]
        try:
            yield stats.start_batch
        finally:
            for h in hooks:
                h.remove()


def apply_batched(model: nn.Module, images: torch.Tensor, batch_size: int, protocol: str,
                  fn: Callable[[dict[str, torch.Tensor]], Any], labels: torch.Tensor | None = None,
                  statistics: PassStatistics | None = None) -> Any:
    """``fn(batch)`` over every image once, in padded batches of ``batch_size``, without gradients and with
    BatchNorm in ``protocol`` (``recal`` needs the recorded ``statistics``); per-image outputs (a tensor, or
    a dict of tensors) concatenated in order."""
    labels = torch.zeros(len(images), dtype=torch.long, device=images.device) if labels is None else labels
    if protocol == "recal":
        if statistics is None:
            raise ConfigError("the recal BatchNorm protocol needs statistics recorded on the training set")
        mode = recalibrated(model, statistics)
    elif protocol in PROTOCOLS:
        mode = batchnorm_mode(model, protocol)
    else:
        raise ConfigError(f"unknown BatchNorm protocol {protocol!r}; valid choices: {', '.join(ALL_PROTOCOLS)}")
    parts: list[Any] = []
    with torch.no_grad(), mode as start_batch:
        for batch, n_real in padded_batches(images, labels, batch_size):
            if start_batch is not None:
                start_batch()
            out = fn(batch)
            parts.append({k: v[:n_real].detach() for k, v in out.items()} if isinstance(out, dict)
                         else out[:n_real].detach())
    if parts and isinstance(parts[0], dict):
        return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    return torch.cat(parts)


def validation_pass(model, images: torch.Tensor, labels: torch.Tensor, batch_size: int,
                    bn_protocol: str, statistics: PassStatistics | None = None) -> dict[str, torch.Tensor]:
    """Per-image values of ``model.validation_losses`` over every image, in order (padding dropped), on the CPU."""
    out = apply_batched(model, images, batch_size, bn_protocol, model.validation_losses, labels, statistics)
    return {k: v.cpu() for k, v in out.items()}


def reconstruct_all(model, x: torch.Tensor, batch_size: int, bn_protocol: str) -> torch.Tensor:
    """Reconstructions of ``x`` ([N, C, H, W] in [0, 1]) under the same batching as evaluation."""
    return apply_batched(model, x, batch_size, bn_protocol, lambda batch: model.reconstruct(batch["x"]))
