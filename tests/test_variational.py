"""Likelihoods, KL and bits/dim against hand computations; VGON's latent is the ELBO's gradient at the origin."""
from __future__ import annotations

import math

import pytest
import torch

from gonbench import likelihoods as L
from gonbench.methods import DataInfo, build_method


def test_discretized_logistic_bin_mass_by_hand():
    # one pixel of value 128/255, mean exactly on it, scale s: mass = sigmoid(h/s) - sigmoid(-h/s), h = 1/510
    s = 0.05
    x = torch.full((1, 1, 1, 1), 128 / 255)
    nll = L.discretized_logistic_nll(x.clone(), torch.tensor(math.log(s)), x)
    h = 1 / 510
    mass = 1 / (1 + math.exp(-h / s)) - 1 / (1 + math.exp(h / s))
    assert nll.item() == pytest.approx(-math.log(mass), rel=1e-5)


def test_discretized_logistic_edge_bins_take_the_tails():
    s = 0.1
    x = torch.zeros(1, 1, 1, 1)  # bottom bin: P = sigmoid((1/510 - mu)/s)
    mu = torch.full_like(x, 0.3)
    nll = L.discretized_logistic_nll(mu, torch.tensor(math.log(s)), x)
    assert nll.item() == pytest.approx(-math.log(1 / (1 + math.exp(-(1 / 510 - 0.3) / s))), rel=1e-5)


def test_discretized_logistic_is_a_distribution_over_256_levels():
    levels = torch.arange(256).float().div(255).view(256, 1, 1, 1)
    mu = torch.full_like(levels, 0.37)
    total = torch.exp(-L.discretized_logistic_nll(mu, torch.tensor(math.log(0.08)), levels)).sum()
    assert total.item() == pytest.approx(1.0, abs=1e-5)


def test_bernoulli_nll_by_hand():
    x = torch.tensor([[[[1.0, 0.0]]]])
    p = torch.tensor([[[[0.8, 0.3]]]])
    assert L.bernoulli_nll(p, x).item() == pytest.approx(-math.log(0.8) - math.log(0.7), rel=1e-6)


def test_gaussian_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(5, 4), torch.randn(5, 4)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(4), torch.ones(4))
    expected = torch.distributions.kl_divergence(q, p).sum(1)
    assert torch.allclose(L.gaussian_kl(mu, logvar), expected, atol=1e-6)
    assert torch.allclose(L.gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2))


def test_elbo_bpd_is_neg_elbo_over_dims_ln2():
    torch.manual_seed(0)
    model = build_method("vae", DataInfo(1, 32, 10, 8), nz=4, ngf=4).eval()
    x = torch.rand(3, 1, 32, 32)
    torch.manual_seed(1)
    out = model.validation_losses({"x": x})
    torch.manual_seed(1)
    neg_elbo = model.neg_elbo(model.head_input(x), x)["neg_elbo"][:, 0]  # [B, seeds], one seed here
    assert torch.allclose(out["elbo_bpd"], neg_elbo / (1024 * math.log(2)))


def test_vgon_head_input_is_minus_the_elbo_gradient_at_the_origin():
    torch.manual_seed(0)
    model = build_method("vgon", DataInfo(1, 32, 10, 8), nz=4, ngf=4).double().eval()
    x = torch.rand(2, 1, 32, 32, dtype=torch.float64)
    z0 = torch.zeros(2, 4, dtype=torch.float64, requires_grad=True)
    torch.manual_seed(5)
    (g,) = torch.autograd.grad(model.neg_elbo(z0, x)["neg_elbo"].mean(), [z0])
    torch.manual_seed(5)  # same reparameterisation noise
    assert torch.allclose(model.head_input(x), -g)


@pytest.mark.parametrize("name", ["vae", "vgon"])
def test_samples_come_from_the_prior_through_the_decoder(name):
    model = build_method(name, DataInfo(3, 32, 10, 8)).eval()
    out = model.sample(5)
    assert out.shape == (5, 3, 32, 32) and 0 <= out.min() and out.max() <= 1
