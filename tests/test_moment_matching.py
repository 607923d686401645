"""Moment matching: the MMD^2 estimators and kernels against hand computations, the GMMN and WAE-MMD losses,
GMMN's two variants, the autoencoder GMMN+AE pretrains and reloads, and the MMD autoencoder's objective."""
from __future__ import annotations

import math

import pytest
import torch

from gonbench import losses
from gonbench import metrics as M
from gonbench.data import ImageSplits
from gonbench.errors import ConfigError
from gonbench.methods import DataInfo, build_method

INFO = DataInfo(channels=1, image_size=32, classes=10, train_size=64)


# -- MMD^2 by hand --------------------------------------------------------------------------------------
def test_mmd2_of_a_gaussian_kernel_matches_a_hand_computation():
    """a = {0, 1}, b = {0, 2} on a line; k = exp(-d^2 / (2 s)). Within a the one pair is 1 apart (p = k(1)),
    within b 2 apart (q = k(4)); across: d^2 = 0, 4, 1, 1 -> 1, q, p, p."""
    a, b = torch.tensor([[0.0], [1.0]], dtype=torch.float64), torch.tensor([[0.0], [2.0]], dtype=torch.float64)
    for s in (1.0, 2.0):
        p, q = math.exp(-1 / (2 * s)), math.exp(-4 / (2 * s))
        cross = (1 + q + 2 * p) / 4
        kernel = M.gaussian_kernel([s])
        assert float(M.mmd2(a, b, kernel)) == pytest.approx(p + q - 2 * cross)  # = (q - 1) / 2 < 0
        biased = (2 + 2 * p) / 4 + (2 + 2 * q) / 4 - 2 * cross  # every pair, the diagonal's k(0) = 1 included
        assert float(M.mmd2(a, b, kernel, unbiased=False)) == pytest.approx(biased)
        assert biased == pytest.approx((1 - p) / 2)
    # a sum of kernels is the sum of the single-bandwidth values
    both = float(M.mmd2(a, b, M.gaussian_kernel([1.0, 2.0])))
    assert both == pytest.approx((math.exp(-2) - 1) / 2 + (math.exp(-1) - 1) / 2)


def test_mmd2_of_an_inverse_multiquadratic_kernel_with_unequal_sizes():
    """a = {0, 1}, b = {0, 2, 3}, k = C / (C + d^2) with C = 1. Within a: 1/2. Within b, pairs (0,2) (0,3) (2,3):
    1/5, 1/10, 1/2, mean 4/15. Across: a=0 -> 1, 1/5, 1/10; a=1 -> 1/2, 1/2, 1/5; mean 2.5/6 = 5/12."""
    a, b = torch.tensor([[0.0], [1.0]], dtype=torch.float64), torch.tensor([[0.0], [2.0], [3.0]], dtype=torch.float64)
    value = float(M.mmd2(a, b, M.inverse_multiquadratic_kernel([1.0])))
    assert value == pytest.approx(1 / 2 + 4 / 15 - 2 * 5 / 12)  # = -1/15
    assert value == pytest.approx(-1 / 15)
    # two constants: C = 4 adds 4/5 within a, (1/2 + 4/13 + 4/5)/3 within b, (1 + .5 + 4/13 + .8 + .8 + .5)/6 across
    c4 = 4 / 5 + (1 / 2 + 4 / 13 + 4 / 5) / 3 - 2 * (1 + 0.5 + 4 / 13 + 0.8 + 0.8 + 0.5) / 6
    assert float(M.mmd2(a, b, M.inverse_multiquadratic_kernel([1.0, 4.0]))) == pytest.approx(-1 / 15 + c4)


def test_prior_mmd_is_the_unbiased_gaussian_mmd_at_bandwidth_d():
    a, b = torch.tensor([[0.0], [1.0]]), torch.tensor([[0.0], [2.0]])
    assert M.prior_mmd(a, b) == pytest.approx((math.exp(-2) - 1) / 2)  # d = 1: the hand case above at s = 1
    g = torch.Generator().manual_seed(0)
    prior, codes = torch.randn(500, 8, generator=g), torch.randn(500, 8, generator=g)
    assert abs(M.prior_mmd(codes, prior)) < 0.005 < M.prior_mmd(0.5 * codes + 1, prior)


def test_the_gmmn_loss_is_zero_for_identical_samples_and_grows_with_a_shift():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(64, 20, generator=g)
    bandwidths = [2.0, 5.0, 10.0, 20.0, 40.0, 80.0]
    assert float(losses.gmmn_loss(x, x, bandwidths)) < 1e-4
    shifted = [float(losses.gmmn_loss(x + shift, x, bandwidths)) for shift in (0.1, 0.5, 1.0)]
    assert 0.05 < shifted[0] < shifted[1] < shifted[2]
    expected = math.sqrt(float(M.mmd2(x + 0.5, x, M.gaussian_kernel(bandwidths), unbiased=False)))
    assert shifted[1] == pytest.approx(expected, rel=1e-5)
    y = x.clone().requires_grad_(True)
    losses.gmmn_loss(y, x, bandwidths).backward()  # finite at the minimum, where sqrt's slope is unbounded
    assert torch.isfinite(y.grad).all()


def test_the_wae_penalty_is_near_zero_for_one_distribution_and_larger_for_a_shifted_one():
    g = torch.Generator().manual_seed(2)
    z, prior = torch.randn(256, 8, generator=g), torch.randn(256, 8, generator=g)
    constants = [2 * 8 * s for s in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)]
    same = float(losses.mmd_prior_penalty(z, prior, constants))
    apart = [float(losses.mmd_prior_penalty(z + shift, prior, constants)) for shift in (0.5, 1.0)]
    assert abs(same) < 0.01 < apart[0] < apart[1]


# -- GMMN ---------------------------------------------------------------------------------------------
def test_gmmn_draws_uniform_noise_and_samples_images_in_the_unit_interval():
    torch.manual_seed(0)
    model = build_method("gmmn", INFO, hidden=[16, 16])
    noise = model.draw_noise(2000)
    assert noise.shape == (2000, 10) and -1 <= float(noise.min()) < -0.99 and 0.99 < float(noise.max()) <= 1
    with torch.no_grad():
        samples = model.sample(5)
    assert samples.shape == (5, 1, 32, 32) and 0 <= float(samples.min()) and float(samples.max()) <= 1
    gaussian = build_method("gmmn", INFO, hidden=[16, 16], noise="gaussian").draw_noise(2000)
    assert float(gaussian.abs().max()) > 1.5  # unbounded


def test_gmmn_bad_settings_are_refused_with_the_choices():
    with pytest.raises(ConfigError, match="at least one Gaussian kernel bandwidth"):
        build_method("gmmn", INFO, bandwidths=[])


def tiny_autoencoder_file(tmp_path, size=32):
    from gonbench.pretrain import PretrainConfig, pretrain

    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, 1, size, size), dtype=torch.uint8, generator=g)
    splits = ImageSplits(x, torch.arange(64) % 10, x[:32], torch.arange(32) % 10)
    path = tmp_path / "mnist_autoencoder.pt"
    summary = pretrain("mnist_autoencoder", PretrainConfig(dataset="mnist", image_size=size, epochs=1, batch_size=32,
                                                           optimizer="adam", lr=1e-3), splits, path, torch.device("cpu"))
    return path, summary


def test_gmmn_ae_pretrained_autoencoder_round_trips_and_stays_frozen(tmp_path):
    from gonbench.pretrain import PRETRAINED, load_pretrained

    path, summary = tiny_autoencoder_file(tmp_path)
    assert {"test_recon_sse", "test_bce"} <= set(summary) and summary["test_recon_sse"] > 0
    assert (tmp_path / "mnist_autoencoder.json").is_file()
    net = load_pretrained(path, "mnist_autoencoder")
    saved = torch.load(path, weights_only=True)["state_dict"]
    assert all(torch.equal(saved[k], v) for k, v in net.state_dict().items())
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert {f"{d}_autoencoder" for d in ("mnist", "fashion_mnist", "cifar10")} <= set(PRETRAINED.names())
    model = build_method("gmmn_ae", INFO, {"autoencoder": net}, autoencoder="mnist_autoencoder", hidden=[16])
    x = torch.rand(8, 1, 32, 32)
    model.train()  # the loop's mode: the autoencoder keeps its dropout off
    assert not model.autoencoder.training
    torch.testing.assert_close(model.targets(x), net.encode(x))
    opt = model.configure_optimizers()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    model.train_step({"x": x, "y": torch.zeros(8, dtype=torch.long), "index": torch.arange(8)}, opt)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    with torch.no_grad():
        samples = model.sample(4)  # generated codes decoded by the frozen decoder
    assert samples.shape == (4, 1, 32, 32) and 0 <= float(samples.min()) and float(samples.max()) <= 1
    with pytest.raises(ConfigError, match="pretrain it at the runs' resolution"):
        build_method("gmmn_ae", DataInfo(1, 28, 10, 64), {"autoencoder": net}, autoencoder="mnist_autoencoder")


def test_the_autoencoder_has_the_papers_layers_and_dropout_on_the_encoder_only():
    from gonbench.nets import DenseAutoencoder

    ae = DenseAutoencoder(channels=1, image_size=32)
    linears = [m for m in ae.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(1024, 1024), (1024, 32), (32, 1024), (1024, 1024)]
    assert [m.p for m in ae.encoder if isinstance(m, torch.nn.Dropout)] == [0.2, 0.5]
    assert not any(isinstance(m, torch.nn.Dropout) for m in ae.decoder_logits)
    ae.eval()
    with torch.no_grad():
        z = ae.encode(torch.rand(3, 1, 32, 32))
    assert 0 <= float(z.min()) and float(z.max()) <= 1  # sigmoid codes, as the code-space generator makes


# -- MMD autoencoder ------------------------------------------------------------------------------------
def test_mmd_ae_objective_is_scaled_squared_error_plus_lambda_mmd():
    torch.manual_seed(0)
    model = build_method("mmd_ae", INFO, ngf=4)
    assert model.kernel_constants() == pytest.approx([16 * s for s in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)])
    x = torch.rand(16, 1, 32, 32)
    torch.manual_seed(5)
    out = model.training_loss({"x": x})
    torch.manual_seed(5)
    z = model.encoder(x)
    prior = torch.randn_like(z)
    sse = ((model.decoder(z) - x) ** 2).flatten(1).sum(1).mean()
    mmd = M.mmd2(z, prior, M.inverse_multiquadratic_kernel([16 * s for s in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)]))
    torch.testing.assert_close(out["loss"], 0.05 * sse + 10 * mmd)
    torch.testing.assert_close(out["recon_sse"], sse.detach())
    with pytest.raises(ConfigError, match="at least one kernel scale"):
        build_method("mmd_ae", INFO, imq_scales=[])
