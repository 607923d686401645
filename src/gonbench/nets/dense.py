"""The fully connected autoencoder whose codes GMMN+AE matches (Li, Swersky & Zemel 2015, Sec. 4; the
paper's code, train.py ``mnist_mmd_code_space``).

Encoder: flattened pixels -> 1024 -> 32, decoder: 32 -> 1024 -> pixels, every layer a Linear followed by a
sigmoid (codes therefore lie in [0, 1]^32, which is why the code-space GMMN ends in a sigmoid too). Dropout
acts on the encoder layers' inputs, 0.2 on the pixels and 0.5 on the hidden layer (the code's pynn layers
drop their inputs); the decoder has none. It is trained once per dataset with binary cross-entropy
(``gonbench pretrain``) and then frozen: in eval mode the dropout is off.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..errors import ConfigError


class DenseAutoencoder(nn.Module):
    def __init__(self, *, channels: int = 1, image_size: int = 32, widths: tuple[int, ...] = (1024,),
                 code_dim: int = 32, dropout: tuple[float, ...] = (0.2, 0.5)) -> None:
        super().__init__()
        if len(dropout) != len(widths) + 1:
            raise ConfigError(f"dropout={list(dropout)}: give one rate per encoder layer ({len(widths) + 1})")
        self.channels, self.image_size, self.code_dim = channels, image_size, code_dim
        self.input_dim = channels * image_size**2
        sizes = [self.input_dim, *widths, code_dim]
        encoder: list[nn.Module] = []
        for rate, (a, b) in zip(dropout, zip(sizes, sizes[1:])):
            encoder += [nn.Dropout(rate), nn.Linear(a, b), nn.Sigmoid()]
        self.encoder = nn.Sequential(*encoder)
        back = sizes[::-1]
        decoder: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(back, back[1:])):
            decoder.append(nn.Linear(a, b))
            if i < len(back) - 2:
                decoder.append(nn.Sigmoid())
        self.decoder_logits = nn.Sequential(*decoder)  # the last sigmoid is applied by ``decode``

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Images [B, C, H, W] in [0, 1] -> codes [B, code_dim] in [0, 1]."""
        return self.encoder(x.flatten(1))

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        """Codes -> the decoder's pre-sigmoid output [B, C*H*W] (for a numerically stable cross-entropy)."""
        return self.decoder_logits(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Codes -> images [B, C, H, W] in [0, 1]."""
        return torch.sigmoid(self.logits(z)).view(len(z), self.channels, self.image_size, self.image_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))
