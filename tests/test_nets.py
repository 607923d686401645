"""Network facts the methods rely on."""
from __future__ import annotations

import torch

from gonbench.nets import ConvDecoder, TiedConvEncoder


def test_tied_encoder_is_the_adjoint_of_the_decoder_layer_by_layer():
    """<Conv_W(x), y> = <x, ConvT_W(y)> for every decoder layer W (biases excluded)."""
    torch.manual_seed(0)
    dec = ConvDecoder(nz=8, ngf=4, nc=1).double()
    enc = TiedConvEncoder(dec).double()
    sizes = [1, 4, 8, 16, 32]  # spatial size at each decoder stage
    for i, conv in enumerate(dec.convs):
        y = torch.randn(2, conv.in_channels, sizes[i], sizes[i], dtype=torch.float64)
        x = torch.randn(2, conv.out_channels, sizes[i + 1], sizes[i + 1], dtype=torch.float64)
        convt_y = torch.nn.functional.conv_transpose2d(y, conv.weight, None, conv.stride, conv.padding)
        conv_x = torch.nn.functional.conv2d(x, conv.weight, None, conv.stride, conv.padding)
        assert torch.allclose((conv_x * y).sum(), (x * convt_y).sum())
    # and the tied encoder really uses those weights: they receive gradients through it
    enc(torch.rand(2, 1, 32, 32, dtype=torch.float64)).sum().backward()
    assert all(conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0 for conv in dec.convs)


def test_decoder_output_is_an_image_in_unit_range():
    out = ConvDecoder(nz=32, ngf=16, nc=3)(torch.randn(5, 32))
    assert out.shape == (5, 3, 32, 32) and out.min() >= 0 and out.max() <= 1
