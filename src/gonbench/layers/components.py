"""A piecewise constant layer for 2-D maps whose pieces are connected components (Cho et al., Sec. 5.3).

Forward: threshold the map, label the connected components of the foreground and, separately, of the
background (4-connectivity, scipy.ndimage.label on CPU), and replace every pixel by the mean of the map over
its component. Backward: the weak Jacobian, the projection onto per-component constants (the incoming
gradient is averaged over each component and spread back), or the identity for ``backward="ste"``.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from .projection import PiecewiseProjection, check_backward


def component_labels(maps: torch.Tensor, threshold: float) -> tuple[torch.Tensor, int]:
    """Component ids [B, H*W] of maps [B, H, W] (foreground components first, then background ones) and the
    largest number of components of any map."""
    from scipy import ndimage  # imported here: scipy.ndimage costs ~1 s at start-up of every CLI process

    ids, most = [], 1
    for m in (maps.detach().cpu().numpy() > threshold):
        fg, n_fg = ndimage.label(m)
        bg, n_bg = ndimage.label(~m)
        ids.append(np.where(m, fg - 1, n_fg + bg - 1).reshape(-1))
        most = max(most, n_fg + n_bg)
    return torch.from_numpy(np.stack(ids)).to(device=maps.device, dtype=torch.long), most


class ConnectedComponentMean(nn.Module):
    """Maps [B, H, W] or [B, 1, H, W] -> the same shape, constant on each connected component of the
    thresholded map (foreground: value > threshold)."""

    def __init__(self, threshold: float = 0.5, *, backward: str = "weak") -> None:
        super().__init__()
        self.threshold, self.backward = threshold, check_backward(backward)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        flat = maps.reshape(-1, maps.shape[-2], maps.shape[-1])
        labels, segments = component_labels(flat, self.threshold)
        out = PiecewiseProjection.apply(flat.reshape(len(flat), -1), labels, segments, 0, self.backward)
        return out.reshape(maps.shape)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, backward={self.backward}"
