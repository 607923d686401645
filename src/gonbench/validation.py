"""Passes over a validation set at a fixed batch size under a chosen BatchNorm protocol.

``apply_batched`` is the one helper every evaluation-time pass goes through (validation losses,
reconstructions, latents for figures): padded batches of the training batch size, BatchNorm in the run's
protocol, padding dropped, the model's state restored afterwards.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import torch
import torch.nn as nn

from .batches import padded_batches
from .errors import ConfigError

PROTOCOLS = ("train", "eval")


@contextlib.contextmanager
def batchnorm_mode(model: nn.Module, mode: str) -> Iterator[None]:
    """Evaluate with BatchNorm in ``train`` (batch statistics, as the GON reference code does) or ``eval``
    (running statistics) mode; the model's buffers and modes are restored afterwards."""
    if mode not in PROTOCOLS:
        raise ConfigError(f"unknown BatchNorm protocol {mode!r}; valid choices: {', '.join(PROTOCOLS)}")
    was_training = model.training
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
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


def apply_batched(model: nn.Module, images: torch.Tensor, batch_size: int, protocol: str,
                  fn: Callable[[dict[str, torch.Tensor]], Any], labels: torch.Tensor | None = None) -> Any:
    """``fn(batch)`` over every image once, in padded batches of ``batch_size``, without gradients and with
    BatchNorm in ``protocol``; per-image outputs (a tensor, or a dict of tensors) concatenated in order."""
    labels = torch.zeros(len(images), dtype=torch.long, device=images.device) if labels is None else labels
    parts: list[Any] = []
    with torch.no_grad(), batchnorm_mode(model, protocol):
        for batch, n_real in padded_batches(images, labels, batch_size):
            out = fn(batch)
            parts.append({k: v[:n_real].detach() for k, v in out.items()} if isinstance(out, dict)
                         else out[:n_real].detach())
    if parts and isinstance(parts[0], dict):
        return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    return torch.cat(parts)


def validation_pass(model, images: torch.Tensor, labels: torch.Tensor, batch_size: int,
                    bn_protocol: str) -> dict[str, torch.Tensor]:
    """Per-image values of ``model.validation_losses`` over every image, in order (padding dropped), on the CPU."""
    out = apply_batched(model, images, batch_size, bn_protocol, model.validation_losses, labels)
    return {k: v.cpu() for k, v in out.items()}


def reconstruct_all(model, x: torch.Tensor, batch_size: int, bn_protocol: str) -> torch.Tensor:
    """Reconstructions of ``x`` ([N, C, H, W] in [0, 1]) under the same batching as evaluation."""
    return apply_batched(model, x, batch_size, bn_protocol, lambda batch: model.reconstruct(batch["x"]))
