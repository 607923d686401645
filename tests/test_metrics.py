"""Metric definitions against values computed by hand."""
from __future__ import annotations

import math

import torch

from gonbench import metrics as M


def test_recon_sse_sums_over_pixels_per_image():
    x = torch.zeros(2, 1, 2, 2)
    x_hat = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]], [[[0.5, 0.5], [0.5, 0.5]]]])
    # image 0: 1^2 = 1; image 1: 4 * 0.25 = 1
    assert torch.allclose(M.recon_sse(x_hat, x), torch.tensor([1.0, 1.0]))
    x_hat[1] = 0.1
    assert torch.allclose(M.recon_sse(x_hat, x), torch.tensor([1.0, 0.04]))


def test_bits_per_dim_of_a_uniform_8bit_model_is_8():
    dims = 3 * 32 * 32
    nll = torch.tensor([dims * math.log(256.0)])  # every pixel has probability 1/256
    assert torch.allclose(M.bits_per_dim(nll, dims), torch.tensor([8.0]))


def test_psnr_of_a_known_error():
    x = torch.zeros(1, 1, 4, 4)
    x_hat = torch.full_like(x, 0.1)  # MSE 0.01 -> PSNR = 10 log10(1 / 0.01) = 20 dB
    assert abs(M.psnr(x_hat, x) - 20.0) < 1e-4


def test_ssim_is_one_for_identical_images():
    x = torch.rand(2, 1, 16, 16)
    assert abs(M.ssim(x, x) - 1.0) < 1e-5


def test_psnr_and_ssim_match_torchmetrics():
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    torch.manual_seed(0)
    x = torch.rand(4, 3, 32, 32)
    x_hat = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    assert abs(M.psnr(x_hat, x) - float(peak_signal_noise_ratio(x_hat, x, data_range=1.0))) < 1e-4
    assert abs(M.ssim(x_hat, x) - float(structural_similarity_index_measure(x_hat, x, data_range=1.0))) < 1e-4


def test_similarity_to_others_is_one_for_copies_and_minus_one_for_opposites():
    import torch

    from gonbench import metrics as M

    base = torch.tensor([[0.0, 1.0, 0.0, 1.0]])
    assert torch.allclose(M.similarity_to_others(base.repeat(3, 1) * torch.tensor([[1.0], [2.0], [5.0]])),
                          torch.ones(3))
    assert torch.allclose(M.similarity_to_others(torch.cat([base, 1 - base])), -torch.ones(2))
