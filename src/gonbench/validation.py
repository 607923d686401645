"""One pass over a validation split with a fixed batch size and a chosen BatchNorm protocol."""
from __future__ import annotations

import torch

from .runtime import batchnorm_mode, padded_batches


def validation_pass(model, images: torch.Tensor, labels: torch.Tensor, batch_size: int,
                    bn_protocol: str) -> dict[str, torch.Tensor]:
    """Per-image values of ``model.validation_losses`` over every image, in order (padding dropped)."""
    parts: dict[str, list[torch.Tensor]] = {}
    with torch.no_grad(), batchnorm_mode(model, bn_protocol):
        for batch, n_real in padded_batches(images, labels, batch_size):
            for key, value in model.validation_losses(batch).items():
                parts.setdefault(key, []).append(value[:n_real].detach().cpu())
    return {k: torch.cat(v) for k, v in parts.items()}


def reconstruct_all(model, x: torch.Tensor, batch_size: int, bn_protocol: str) -> torch.Tensor:
    """Reconstructions of ``x`` ([N, C, H, W] in [0, 1]) under the same batching as evaluation."""
    out = []
    with torch.no_grad(), batchnorm_mode(model, bn_protocol):
        n = len(x)
        for start in range(0, n, batch_size):
            idx = torch.arange(start, start + batch_size, device=x.device) % n
            out.append(model.reconstruct(x[idx])[: min(batch_size, n - start)])
    return torch.cat(out)
