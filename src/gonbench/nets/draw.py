"""DRAW's recurrent encoder-decoder (Gregor et al. 2015, Sec. 2, Eqs. 3-8), with or without attention.

One glimpse t = 1..T (Eqs. 3-8):
    x^_t = x - sigmoid(c_{t-1})                               error image
    r_t = read(x, x^_t, h^dec_{t-1})                          attention: two N_r x N_r glimpses; else [x, x^_t]
    h^enc_t = LSTM_enc(h^enc_{t-1}, [r_t, h^dec_{t-1}])
    z_t = mu_t + sigma_t eps, (mu_t, log sigma_t) linear in h^enc_t   Q(z_t | h^enc_t) (Eqs. 1-2)
    h^dec_t = LSTM_dec(h^dec_{t-1}, z_t)
    c_t = c_{t-1} + write(h^dec_t)                            attention: an N_w x N_w patch; else a whole canvas
Generation (Sec. 2.3) runs the decoder half alone on z_t ~ N(0, I). The states and the canvas start at zero
(the paper gives no initial values). Without attention, read passes both whole images and write is a linear
map of h^dec to every canvas pixel (Sec. 3.1): a plain recurrent VAE; all else is shared.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import torch
import torch.nn as nn

from ..layers.attention import (ATTENTION_PARAMS, Window, filterbanks, read_glimpse, window_extent,
                                window_from_params, write_patch)


class DrawPass(NamedTuple):
    canvas: torch.Tensor  # c_T [B, C, H, W] (logits: the image mean is sigmoid(c_T))
    mu: torch.Tensor  # [B, T, nz]: the posterior means (zero-size where the decoder ran alone)
    log_sigma: torch.Tensor  # [B, T, nz]
    canvases: torch.Tensor | None  # sigmoid(c_t) for t = 1..T [B, T, C, H, W], when recorded
    extents: torch.Tensor | None  # write windows (x0, y0, x1, y1) [B, T, 4] in array indices; None without attention


class DrawNet(nn.Module):
    def __init__(self, *, channels: int, image_size: int, time_steps: int, hidden: int, nz: int, read_n: int,
                 write_n: int, attention: bool) -> None:
        super().__init__()
        self.channels, self.size, self.time_steps, self.hidden, self.nz = channels, image_size, time_steps, hidden, nz
        self.read_n, self.write_n, self.attention = read_n, write_n, attention
        pixels = image_size * image_size
        read_dim = 2 * channels * (read_n * read_n if attention else pixels)  # image and error image
        self.encoder = nn.LSTMCell(read_dim + hidden, hidden)
        self.decoder = nn.LSTMCell(nz, hidden)
        self.posterior = nn.Linear(hidden, 2 * nz)  # (mu_t, log sigma_t)
        self.patch = nn.Linear(hidden, channels * (write_n * write_n if attention else pixels))  # w_t
        if attention:  # separate linear maps: the read and the write windows move independently (Sec. 3.2)
            self.read_window = nn.Linear(hidden, ATTENTION_PARAMS)
            self.write_window = nn.Linear(hidden, ATTENTION_PARAMS)

    def _window(self, layer: nn.Linear, h_dec: torch.Tensor, n: int) -> tuple[Window, torch.Tensor, torch.Tensor]:
        window = window_from_params(layer(h_dec), height=self.size, width=self.size, n=n)
        fy, fx = filterbanks(window, height=self.size, width=self.size, n=n)
        return window, fy, fx

    def read(self, x: torch.Tensor, x_err: torch.Tensor, h_dec: torch.Tensor) -> torch.Tensor:
        """r_t [B, read_dim]: both images through one window (Eq. 27), or both whole (Eq. 17)."""
        images = torch.cat([x, x_err], 1)
        if not self.attention:
            return images.flatten(1)
        window, fy, fx = self._window(self.read_window, h_dec, self.read_n)
        return read_glimpse(images, fy, fx, window.gamma).flatten(1)

    def write(self, h_dec: torch.Tensor) -> tuple[torch.Tensor, Window | None]:
        """The canvas increment [B, C, H, W] (Eq. 29, or Eq. 18 without attention) and its window."""
        w = self.patch(h_dec)
        if not self.attention:
            return w.view(-1, self.channels, self.size, self.size), None
        window, fy, fx = self._window(self.write_window, h_dec, self.write_n)
        return write_patch(w.view(-1, self.channels, self.write_n, self.write_n), fy, fx, window.gamma), window

    def _zeros(self, batch: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = like.new_zeros(batch, self.hidden)
        return z, z

    def infer(self, x: torch.Tensor, noise: Callable[[torch.Tensor], torch.Tensor] | None = None, *,
              record: bool = False) -> DrawPass:
        """The inference pass of x [B, C, H, W]: z_t = mu_t + sigma_t * noise(mu_t), or mu_t when noise is None
        (the deterministic reconstruction)."""
        enc = dec = self._zeros(x.shape[0], x)
        canvas = torch.zeros_like(x)
        mus, log_sigmas, trace = [], [], _Trace(record)
        for _ in range(self.time_steps):
            r = self.read(x, x - torch.sigmoid(canvas), dec[0])
            enc = self.encoder(torch.cat([r, dec[0]], 1), enc)
            mu, log_sigma = self.posterior(enc[0]).chunk(2, 1)
            z = mu if noise is None else mu + torch.exp(log_sigma) * noise(mu)
            dec = self.decoder(z, dec)
            increment, window = self.write(dec[0])
            canvas = canvas + increment
            mus.append(mu)
            log_sigmas.append(log_sigma)
            trace.add(canvas, window, self.write_n)
        return DrawPass(canvas, torch.stack(mus, 1), torch.stack(log_sigmas, 1), *trace.tensors())

    def generate(self, z: torch.Tensor, *, record: bool = False) -> DrawPass:
        """The decoder alone on given latents z [B, T, nz] (Sec. 2.3)."""
        batch = z.shape[0]
        dec = self._zeros(batch, z)
        canvas = z.new_zeros(batch, self.channels, self.size, self.size)
        trace = _Trace(record)
        for t in range(self.time_steps):
            dec = self.decoder(z[:, t], dec)
            increment, window = self.write(dec[0])
            canvas = canvas + increment
            trace.add(canvas, window, self.write_n)
        empty = z.new_zeros(batch, 0, self.nz)
        return DrawPass(canvas, empty, empty, *trace.tensors())


class _Trace:
    """sigmoid(c_t) and the write window's extent of every step, kept only when asked (figures)."""

    def __init__(self, record: bool) -> None:
        self.record, self.canvases, self.extents = record, [], []

    def add(self, canvas: torch.Tensor, window: Window | None, n: int) -> None:
        if self.record:
            self.canvases.append(torch.sigmoid(canvas))
            if window is not None:
                self.extents.append(window_extent(window, n))

    def tensors(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if not self.record:
            return None, None
        return torch.stack(self.canvases, 1), (torch.stack(self.extents, 1) if self.extents else None)
