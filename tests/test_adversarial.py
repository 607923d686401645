"""Adversarial models: the GAN losses by hand, DCGAN's architecture guidelines checked on its modules, and the
adversarial autoencoder's phases each moving only the networks they should."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from gonbench import losses
from gonbench.errors import ConfigError
from gonbench.methods import DataInfo, build_method

INFO = DataInfo(channels=1, image_size=32, classes=10, train_size=64)
POOLING = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.LPPool2d)


def test_gan_losses_are_the_cross_entropies_by_hand():
    real, fake = torch.tensor([0.0, 2.0]), torch.tensor([0.0, -1.0])
    sig = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    d = -(math.log(sig(0)) + math.log(sig(2))) / 2 - (math.log(1 - sig(0)) + math.log(1 - sig(-1))) / 2
    assert float(losses.discriminator_loss(real, fake)) == pytest.approx(d)
    g = -(math.log(sig(0)) + math.log(sig(-1))) / 2  # non-saturating: -log D(G(z))
    assert float(losses.nonsaturating_generator_loss(fake)) == pytest.approx(g)
    # far from D's boundary the softplus form stays finite where log(sigmoid) would round to log(0)
    assert math.isfinite(float(losses.discriminator_loss(torch.tensor([-200.0]), torch.tensor([200.0]))))


def layer_sequence(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.net]


def test_dcgan_follows_the_papers_architecture_guidelines():
    model = build_method("dcgan", INFO)
    g, d = layer_sequence(model.generator), layer_sequence(model.discriminator)
    for net in (model.generator, model.discriminator):
        assert not any(isinstance(m, POOLING) for m in net.modules()), "no pooling layers"
        assert not any(isinstance(m, nn.Linear) for m in net.modules()), "no fully connected hidden layers"
    # generator: fractionally strided convolutions, each followed by BatchNorm + ReLU but the last (Tanh, no BN)
    g_convs = [m for m in g if isinstance(m, nn.ConvTranspose2d)]
    assert [c.stride for c in g_convs] == [(1, 1), (2, 2), (2, 2), (2, 2)]
    assert [c.out_channels for c in g_convs] == [512, 256, 128, 1]
    for conv in g_convs[:-1]:
        i = g.index(conv)
        assert isinstance(g[i + 1], nn.BatchNorm2d) and isinstance(g[i + 2], nn.ReLU)
    assert g[-2] is g_convs[-1] and isinstance(g[-1], nn.Tanh)
    # discriminator: strided convolutions, LeakyReLU 0.2, BatchNorm everywhere but after the input layer
    d_convs = [m for m in d if isinstance(m, nn.Conv2d)]
    assert [c.stride for c in d_convs] == [(2, 2), (2, 2), (2, 2), (1, 1)]
    assert [c.out_channels for c in d_convs] == [128, 256, 512, 1]
    assert isinstance(d[1], nn.LeakyReLU) and not any(isinstance(m, nn.BatchNorm2d) for m in d[:2])
    for conv in d_convs[1:-1]:
        i = d.index(conv)
        assert isinstance(d[i + 1], nn.BatchNorm2d) and isinstance(d[i + 2], nn.LeakyReLU)
    assert all(m.negative_slope == 0.2 for m in d if isinstance(m, nn.LeakyReLU))
    assert d[-1] is d_convs[-1]  # one logit, its sigmoid taken by the loss
    assert not any(type(m) is nn.ReLU for m in d) and not any(isinstance(m, nn.LeakyReLU) for m in g)
    # weights ~ N(0, 0.02)
    assert float(g_convs[1].weight.detach().std()) == pytest.approx(0.02, rel=0.05)
    opts = model.configure_optimizers()
    assert {k: (o.defaults["lr"], o.defaults["betas"]) for k, o in opts.items()} == \
        {"generator": (2e-4, (0.5, 0.999)), "discriminator": (2e-4, (0.5, 0.999))}
    with torch.no_grad():
        x = model.sample(3)
        assert x.shape == (3, 1, 32, 32) and 0 <= float(x.min()) and float(x.max()) <= 1
        assert model.discriminator(2 * x - 1).shape == (3,)


def test_dcgan_refuses_widths_that_do_not_make_the_data_size():
    with pytest.raises(ConfigError, match="give each log2"):
        build_method("dcgan", INFO, g_widths=[64, 32])


def params(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def moved(before: list[torch.Tensor], module: nn.Module) -> bool:
    return any(not torch.equal(b, p) for b, p in zip(before, module.parameters()))


def aae():
    torch.manual_seed(0)
    model = build_method("aae", INFO, ngf=4, d_widths=[16, 16])
    return model, model.configure_optimizers(), torch.rand(16, 1, 32, 32)


def test_aae_discriminator_step_moves_only_the_discriminator():
    model, opts, x = aae()
    enc, dec, disc = params(model.encoder), params(model.decoder), params(model.discriminator)
    model.discriminator_step(model.encode(x), opts["discriminator"])
    assert moved(disc, model.discriminator)
    assert not moved(enc, model.encoder) and not moved(dec, model.decoder)


def test_aae_regularisation_step_moves_the_encoder_and_not_the_discriminator():
    model, opts, x = aae()
    enc, dec, disc = params(model.encoder), params(model.decoder), params(model.discriminator)
    model.generator_step(model.encode(x), opts["generator"])
    assert moved(enc, model.encoder)
    assert not moved(disc, model.discriminator) and not moved(dec, model.decoder)


def test_aae_reconstruction_step_leaves_the_discriminator_and_a_step_runs_all_three_phases():
    model, opts, x = aae()
    disc = params(model.discriminator)
    model.reconstruction_step(x, opts["autoencoder"])
    assert not moved(disc, model.discriminator)
    assert set(opts) == {"autoencoder", "discriminator", "generator"}
    assert {id(p) for p in opts["generator"].param_groups[0]["params"]} == {id(p) for p in model.encoder.parameters()}
    logs = model.train_step({"x": x}, opts)
    assert {"recon_sse", "d_loss", "g_loss", "loss"} <= set(logs)
    assert all(o.state for o in opts.values())  # every optimiser took its step
