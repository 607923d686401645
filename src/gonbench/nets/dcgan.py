"""DCGAN's generator and discriminator (Radford, Metz & Chintala, ICLR 2016, Sec. 3 and Fig. 1).

The paper's architecture guidelines, each visible in the modules below: no pooling (the discriminator halves
the resolution with strided convolutions, the generator doubles it with fractionally strided ones);
BatchNorm in both networks except at the generator's output and the discriminator's input; ReLU in the
generator with Tanh at its output; LeakyReLU (slope 0.2) in the discriminator; no fully connected hidden
layers (the generator's first layer, a k4 s1 transposed convolution of the 1x1 noise, is the paper's
"projection and reshape"; the discriminator's last, a k4 valid convolution to one logit, is its flattened
single output). Weights are drawn from N(0, 0.02) (Sec. 4).

Resolution: 4 x 2**len(widths). The paper's 64x64 generator has widths 1024, 512, 256, 128 (Fig. 1); at
32x32 the common practice drops the widest block, giving 512, 256, 128 in the generator and 128, 256, 512 in
the discriminator (the DCGAN baseline of Gulrajani et al. 2017, code gan_cifar.py, DIM = 128). Kernels are
4x4 with stride 2 and padding 1, as in the PyTorch reference DCGAN (pytorch/examples; the paper's Theano code
uses 5x5), so every block exactly doubles or halves the size.
"""
from __future__ import annotations

import torch
import torch.nn as nn

LEAK = 0.2  # the paper's LeakyReLU slope
INIT_STD = 0.02  # the paper's weight initialisation


def init_dcgan_weights(module: nn.Module) -> None:
    """Convolution weights ~ N(0, 0.02), biases 0; BatchNorm scales ~ N(1, 0.02), shifts 0 (Sec. 4)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, INIT_STD)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, INIT_STD)
            nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """z [B, nz] -> images [B, nc, 4*2^k, 4*2^k] in [-1, 1]: ConvT(nz -> w0, k4 s1) to 4x4, then ConvT(k4 s2 p1)
    blocks through ``widths`` and a last one to ``nc`` channels; BatchNorm + ReLU after every layer but the last,
    Tanh after the last. Convolutions before BatchNorm carry no bias (BatchNorm's shift replaces it)."""

    def __init__(self, *, nz: int = 100, widths: tuple[int, ...] = (512, 256, 128), nc: int = 1) -> None:
        super().__init__()
        self.nz = nz
        self.image_size = 4 * 2 ** len(widths)
        layers: list[nn.Module] = [nn.ConvTranspose2d(nz, widths[0], 4, 1, 0, bias=False), nn.BatchNorm2d(widths[0]),
                                   nn.ReLU()]
        for cin, cout in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        layers += [nn.ConvTranspose2d(widths[-1], nc, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(len(z), self.nz, 1, 1))


class DCGANDiscriminator(nn.Module):
    """images [B, nc, 4*2^k, 4*2^k] in [-1, 1] -> logits [B]: Conv(k4 s2 p1) blocks through ``widths`` down to
    4x4 (LeakyReLU 0.2 after each, BatchNorm after all but the first), then a k4 valid convolution to one logit."""

    def __init__(self, *, nc: int = 1, widths: tuple[int, ...] = (128, 256, 512)) -> None:
        super().__init__()
        self.image_size = 4 * 2 ** len(widths)
        layers: list[nn.Module] = [nn.Conv2d(nc, widths[0], 4, 2, 1), nn.LeakyReLU(LEAK)]
        for cin, cout in zip(widths, widths[1:]):
            layers += [nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(LEAK)]
        layers.append(nn.Conv2d(widths[-1], 1, 4, 1, 0))
        self.net = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()
