"""PixelCNN, Row LSTM and Diagonal BiLSTM (van den Oord, Kalchbrenner & Kavukcuoglu, Pixel Recurrent Neural
Networks, ICML 2016): p(x) = prod_i p(x_i | x_<i) over the sub-pixels in raster order (R, G, B within a
pixel), each conditional a 256-way softmax over the 8-bit values (nets/autoregressive.py).

The three registered methods differ only in their network's residual layer. All train on the exact negative
log-likelihood of the 8-bit image (likelihoods.categorical_nll, the mean over the batch in nats per image) and
report it on the validation split as ``nll_bpd`` (bits/dim, metrics.bits_per_dim), the unit of the VAE's
``elbo_bpd``: both are over the same 256 levels of each sub-pixel, and the VAE's number is a bound on its NLL
where this one is the NLL itself. Samples are drawn sub-pixel by sub-pixel, one pass over the pixel's row each
(H x W x C passes of one row, from the state the rows above left; ``PixelNet.row``).
Evaluation also completes the bottom half of validation images given their top half (completions.pt).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import likelihoods as L
from .. import metrics as M
from .. import paths
from ..errors import ConfigError
from ..nets.autoregressive import LEVELS, PixelNet
from ..seeding import generator
from ..typecheck import PositiveFloat, PositiveInt
from .base import Batch, DataInfo, EvaluationContext, EvaluationExtras, Method, MethodConfig, register_method


COMPLETIONS = 8  # validation images whose bottom half evaluation completes


@dataclass
class PixelConfig(MethodConfig):
    """Widths of the paper's frame (Fig. 5: 2h features, h-unit residual layers), far below its CIFAR-10 models
    (h = 128, 12 LSTM layers or 15 PixelCNN blocks, 1,024 output units) so that a run fits a CPU."""

    lr: PositiveFloat = 1e-3  # Adam (the paper trains with RMSProp; its rate is not given)
    hidden: PositiveInt = 16  # h: LSTM state units / PixelCNN block width; a multiple of the image's channels
    layers: PositiveInt = 2  # residual layers between the 7x7 mask-A input and the 1x1 outputs
    output_hidden: PositiveInt = 32  # width of the first 1x1 output convolution; a multiple of the channels


@dataclass
class PixelCNNConfig(PixelConfig):
    layers: PositiveInt = 4  # 3x3 mask-B blocks: each widens the context by one row and one column per side


class Autoregressive(Method):
    """The shared method: an exact likelihood, sequential sampling and completion; ``kind`` picks the layer."""

    kind: str
    Config = PixelConfig
    paper = "van den Oord, Kalchbrenner & Kavukcuoglu, Pixel Recurrent Neural Networks, ICML 2016"
    row_group = "Exact NLL (bits/dim)"
    metrics = frozenset({"nll_bpd"})

    def __init__(self, cfg: PixelConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        for key in ("hidden", "output_hidden"):
            if getattr(cfg, key) % data.channels:
                raise ConfigError(f"{key}={getattr(cfg, key)} does not split into the image's {data.channels} colour "
                                  f"groups; valid: a multiple of {data.channels}")
        self.net = PixelNet(self.kind, data.channels, cfg.hidden, cfg.layers, cfg.output_hidden)

    def nll(self, x: torch.Tensor) -> torch.Tensor:
        """-log p(x) per image [B] (nats), exact."""
        return L.categorical_nll(self.net(x), x)

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        loss = self.nll(x).mean()
        return {"loss": loss, "bpd": M.bits_per_dim(loss, x[0].numel())}

    def validation_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        x = batch["x"]
        with torch.no_grad():
            return {"nll_bpd": M.bits_per_dim(self.nll(x), x[0].numel())}

    @torch.no_grad()
    def complete(self, x: torch.Tensor, first_row: int = 0, rng: torch.Generator | None = None) -> torch.Tensor:
        """x with every sub-pixel from row ``first_row`` on drawn from the model given all before it, in raster
        order (a copy; x in [0, 1]). The network computes one row at a time (``PixelNet.row``) from the state of
        the rows above. Each draw inverts the softmax's CDF at a uniform number, from ``rng`` on the CPU when
        given (the same numbers on every device) or from the global generator."""
        x = (x * 255).round() / 255
        n, channels, height, width = x.shape
        state = self.net.initial_state(x[:, :, 0])
        for r in range(height):
            for c in range(width if r >= first_row else 0):
                for k in range(channels):
                    probs = torch.softmax(self.net.row(x[:, :, r], state, column=c)[0][:, k, :, 0], 1)  # [n, 256]
                    u = torch.rand(n, 1, generator=rng).to(x.device) if rng is not None \
                        else torch.rand(n, 1, device=x.device)
                    level = (probs.cumsum(1) < u).sum(1).clamp_max(LEVELS - 1)
                    x[:, k, r, c] = level.to(x.dtype) / (LEVELS - 1)
            state = self.net.row(x[:, :, r], state)[1]
        return x

    def sample(self, n: int) -> torch.Tensor:
        size = self.data.image_size
        blank = torch.zeros(n, self.data.channels, size, size, device=self.net.input.weight.device)
        return self.complete(blank)

    def evaluation_extras(self, ctx: EvaluationContext) -> EvaluationExtras:
        """The bottom half of the first validation images completed given their top half (paper Fig. 1 and
        Sec. 5.5), drawn from the run's seeded generator; kept with the originals in completions.pt."""
        x = ctx.val_x[:COMPLETIONS]
        half = x.shape[2] // 2
        completed = self.complete(x, half, generator(ctx.seed)).cpu()
        return EvaluationExtras(tensors={paths.COMPLETIONS: {"images": x.cpu(), "completions": completed,
                                                             "first_row": torch.tensor(half)}})


@register_method
class PixelCNN(Autoregressive):
    """Masked convolutions only: a 7x7 mask-A layer, residual 3x3 mask-B blocks, no pooling (paper Sec. 3.4)."""

    name = "pixelcnn"
    kind = "pixelcnn"
    Config = PixelCNNConfig
    title = "PixelCNN"


@register_method
class RowLSTM(Autoregressive):
    """LSTM layers run row by row with kernel-3 input-to-state and state-to-state convolutions (Sec. 3.1)."""

    name = "row_lstm"
    kind = "row_lstm"
    title = "Row LSTM"


@register_method
class DiagonalBiLSTM(Autoregressive):
    """Two LSTMs over the skewed image's diagonals, one per direction (Sec. 3.2)."""

    name = "diagonal_bilstm"
    kind = "diagonal_bilstm"
    title = "Diagonal BiLSTM"
