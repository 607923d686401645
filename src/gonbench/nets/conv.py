"""The GON paper's convolutional decoder and the encoders it is compared with.

Decoder (Bond-Taylor & Willcocks 2021, Sec. 4; reference code cwkx/GON): a latent [nz, 1, 1] is upsampled
by ConvT(k4, s1, p0) to 4x4, then ``depth`` ConvT(k4, s2, p1) blocks double the size; BatchNorm + activation
after every layer but the last, Sigmoid output. With nz=32, ngf=16, nc=1, depth=3 it has 74,321 parameters.

Appendix B varies the depth through the latent's spatial size: with ``latent_hw`` = L > 1 the latent is
[nz, L, L], the stem is a ConvT(k3, s1, p1) that keeps L x L, and ``depth`` blocks reach L * 2**depth.
Latents are passed flat, [B, nz * L * L].

``seeds`` = S > 1 builds S independent networks as one: every convolution is grouped (S groups) and every
channel axis holds the S networks one after the other, so images are [B, S*C, H, W], latents [B, S*nz*L*L],
and each BatchNorm channel belongs to one network (gonbench.seedstack trains several seeds of a cell this
way). Every parameter and buffer then stacks the S networks' tensors along its first axis.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError


class Sine(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)


ACTIVATIONS = {
    "elu": nn.ELU,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "softplus": nn.Softplus,
    "sine": Sine,
    "silu": nn.SiLU,  # a.k.a. Swish
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
}


def make_activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ConfigError(f"unknown activation {name!r}; valid choices: {', '.join(sorted(ACTIVATIONS))}")
    return ACTIVATIONS[name]()


def decoder_widths(nz: int, ngf: int, nc: int, depth: int) -> list[int]:
    """Channel widths from the latent to the image, e.g. [32, 64, 32, 16, 1] for the paper's decoder."""
    return [nz] + [ngf * 2 ** (depth - 1 - i) for i in range(depth)] + [nc]


def stem_geometry(latent_hw: int) -> tuple[int, int, int, int]:
    """(kernel, stride, padding, output size) of the first layer for a latent of spatial size L."""
    return (4, 1, 0, 4) if latent_hw == 1 else (3, 1, 1, latent_hw)


class ConvDecoder(nn.Module):
    def __init__(self, *, nz: int = 32, ngf: int = 16, nc: int = 1, depth: int = 3,
                 activation: str = "elu", batchnorm: bool = True, latent_hw: int = 1, seeds: int = 1) -> None:
        super().__init__()
        self.nz, self.nc, self.depth, self.latent_hw, self.seeds = nz, nc, depth, latent_hw, seeds
        k0, s0, p0, stem_size = stem_geometry(latent_hw)
        self.image_size = stem_size * 2**depth
        self.latent_dim = nz * latent_hw**2  # per network
        widths = [w * seeds for w in decoder_widths(nz, ngf, nc, depth)]
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        self.acts = nn.ModuleList()
        for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:])):
            self.convs.append(nn.ConvTranspose2d(cin, cout, k0, s0, p0, groups=seeds) if i == 0
                              else nn.ConvTranspose2d(cin, cout, 4, 2, 1, groups=seeds))
            if i < depth:
                self.norms.append(nn.BatchNorm2d(cout) if batchnorm else nn.Identity())
                self.acts.append(make_activation(activation))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # flat [B, S*nz*L*L] -> [B, S*nz, L, L]
        h = z.view(z.shape[0], self.seeds * self.nz, self.latent_hw, self.latent_hw)
        for conv, norm, act in zip(self.convs, self.norms, self.acts):
            h = act(norm(conv(h)))
        return torch.sigmoid(self.output_layer(h))  # [B, S*nc, size, size]

    def output_layer(self, h: torch.Tensor) -> torch.Tensor:
        """The last ConvT. Stacked, it is one dense ConvT whose weight is block-diagonal over the seeds, not a
        grouped one: a grouped ConvT with few output channels per group computes its weight gradient another
        way (measured: 3e-6 relative off the single-seed one), which a GON's second-order step amplifies. The
        dense kernel computes each seed's block as the single-seed layer does, and the zero blocks add exact
        zeros (their gradient is masked by the product with the identity)."""
        last = self.convs[-1]
        if self.seeds == 1:
            return last(h)
        cin, cout = last.in_channels // self.seeds, last.out_channels // self.seeds
        blocks = last.weight.view(self.seeds, cin, cout, *last.kernel_size)
        eye = torch.eye(self.seeds, dtype=blocks.dtype, device=blocks.device)
        weight = (blocks.unsqueeze(2) * eye.view(self.seeds, 1, self.seeds, 1, 1, 1)).reshape(
            self.seeds * cin, self.seeds * cout, *last.kernel_size)
        return F.conv_transpose2d(h, weight, last.bias, last.stride, last.padding)


class ConvEncoder(nn.Module):
    """Mirror of the decoder: Conv(k4, s2, p1) blocks down to the stem size, then the stem's adjoint
    geometry (Conv k4 s1 p0 to [nz, 1, 1], or Conv k3 s1 p1 keeping L x L); flat [B, nz*L*L] output."""

    def __init__(self, *, nz: int = 32, ngf: int = 16, nc: int = 1, depth: int = 3,
                 activation: str = "elu", batchnorm: bool = True, latent_hw: int = 1, seeds: int = 1) -> None:
        super().__init__()
        widths = [w * seeds for w in decoder_widths(nz, ngf, nc, depth)[::-1]]  # nc, ngf, 2ngf, 4ngf, nz (x S)
        k0, s0, p0, _ = stem_geometry(latent_hw)
        layers: list[nn.Module] = []
        for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:])):
            last = i == depth
            layers.append(nn.Conv2d(cin, cout, k0, s0, p0, groups=seeds) if last
                          else nn.Conv2d(cin, cout, 4, 2, 1, groups=seeds))
            if not last:
                layers += [nn.BatchNorm2d(cout) if batchnorm else nn.Identity(), make_activation(activation)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1)  # [B, nz * L * L]


class TiedConvEncoder(nn.Module):
    """Encoder whose convolutions are the adjoints of the decoder's transposed convolutions.

    A ConvTranspose2d(cin -> cout) weight has shape [cin, cout, k, k], which is exactly a Conv2d(cout -> cin)
    weight; with the same stride and padding that Conv2d is the transpose (adjoint) of the ConvT's linear map.
    Biases and BatchNorms are the encoder's own.
    """

    def __init__(self, decoder: ConvDecoder, *, activation: str = "elu", batchnorm: bool = True) -> None:
        super().__init__()
        self.decoder_convs = [decoder.convs]  # a list keeps the decoder out of this module's parameters
        convs = list(decoder.convs)[::-1]
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(c.in_channels)) for c in convs])
        self.norms = nn.ModuleList(
            [nn.BatchNorm2d(c.in_channels) if batchnorm else nn.Identity() for c in convs[:-1]])
        self.acts = nn.ModuleList([make_activation(activation) for _ in convs[:-1]])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        convs = list(self.decoder_convs[0])[::-1]
        h = x
        for i, conv in enumerate(convs):
            h = F.conv2d(h, conv.weight, self.biases[i], stride=conv.stride, padding=conv.padding, groups=conv.groups)
            if i < len(convs) - 1:
                h = self.acts[i](self.norms[i](h))
        return h.flatten(1)


class SeedLinear(nn.Module):
    """``seeds`` independent Linear(in, out) layers as one: inputs [B, S*in] -> [B, S*out], weights stacked
    [S*out, in] along the first axis (with one seed, exactly nn.Linear)."""

    def __init__(self, in_features: int, out_features: int, *, seeds: int = 1) -> None:
        super().__init__()
        self.seeds, self.in_features, self.out_features = seeds, in_features, out_features
        layers = [nn.Linear(in_features, out_features) for _ in range(seeds)]  # nn.Linear's initialisation
        self.weight = nn.Parameter(torch.cat([layer.weight.detach() for layer in layers]))
        self.bias = nn.Parameter(torch.cat([layer.bias.detach() for layer in layers]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.seeds == 1:
            return F.linear(x, self.weight, self.bias)
        s, o, i = self.seeds, self.out_features, self.in_features
        out = torch.einsum("bsi,soi->bso", x.view(-1, s, i), self.weight.view(s, o, i))
        return (out + self.bias.view(s, o)).reshape(-1, s * o)
