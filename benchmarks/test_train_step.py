"""Milliseconds per seed-step of every Table 1 method and VAE/VGON, three ways, in the same run:

- ``alone``: gonbench's ``train_step`` of a single-seed model (what every run does by default);
- ``stacked3``: three seeds stacked into one grouped model (``seed_stack: true``), the time per call / 3;
- ``reference``: a plain eager loop written as the reference code (cwkx/GON's GON.py and
  Variational-GON.py) writes it, DataLoader-free, on the same networks: the baseline.

Each result also records the aten operators per seed-step (profiler count on the CPU), a device-independent
proxy for GPU kernel launches: stacking must cut it to at most 0.4x. Run explicitly (not in CI):
``uv run pytest benchmarks/test_train_step.py`` (see benchmarks/README.md for saving and comparing).
"""
from __future__ import annotations

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

from gonbench import likelihoods as L
from gonbench import seedstack as stacking
from gonbench.methods import DataInfo, build_method

METHODS = ["gon", "ae", "tied_ae", "gon_detach_1", "gon_detach_10", "gon_10", "glo", "vae", "vgon"]
BATCH, SEEDS = 64, 3
INFO = DataInfo(1, 32, 10, 4 * BATCH)


def data(seeds: int = 1) -> dict[str, torch.Tensor]:
    """A batch of one-channel images per seed, stacked on the channel axis (labels and indices [B, S])."""
    g = torch.Generator().manual_seed(0)
    batch = {"x": torch.rand(BATCH, seeds, 32, 32, generator=g), "y": torch.zeros(BATCH, seeds, dtype=torch.long),
             "index": torch.randint(0, INFO.train_size, (BATCH, seeds), generator=g)}
    return batch if seeds > 1 else {"x": batch["x"], "y": batch["y"][:, 0], "index": batch["index"][:, 0]}


def gonbench_step(method: str, seeds: int):
    model = build_method(method, stacking.stacked_info(INFO, seeds))
    optimizers = model.configure_optimizers()
    batch = data(seeds)
    return lambda: model.train_step(batch, optimizers)


def reference_step(method: str):
    """One step as the reference scripts write it: the loss inline, torch.optim.Adam, no gonbench loop."""
    torch.manual_seed(0)
    model = build_method(method, INFO)
    batch = data()
    x, index = batch["x"], batch["index"]
    cfg = model.cfg
    if method == "glo":
        opt = torch.optim.Adam(model.decoder.parameters(), lr=cfg.lr)
        latent_opt = torch.optim.SparseAdam(list(model.latents.parameters()), lr=cfg.latent_lr)

        def step():
            loss = ((model.decoder(model.latents(index)) - x) ** 2).sum(1).mean()
            opt.zero_grad(), latent_opt.zero_grad()
            loss.backward()
            opt.step(), latent_opt.step()
        return step
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    decoder = model.decoder
    if method in ("ae", "tied_ae"):
        def loss():
            return ((decoder(model.encoder(x)) - x) ** 2).sum(1).mean()
    elif method in ("vae", "vgon"):
        def elbo(h):
            mu, logvar = model.fc_mu(h), model.fc_logvar(h)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            nll = -L.discretized_logistic_log_probs(decoder(z), model.log_scale.view(1, -1, 1, 1), x).flatten(1).sum(1)
            return (nll + L.gaussian_kl(mu, logvar)).mean()

        def loss():
            if method == "vae":
                return elbo(model.encoder(x))
            z0 = torch.zeros(BATCH, decoder.latent_dim, requires_grad=True)
            (g,) = torch.autograd.grad(elbo(z0), [z0], create_graph=True)
            return elbo(-g)
    else:  # the GON family, as GON.py: z = -grad of the inner loss at the origin (or steps of size step_size)
        def loss():
            z = torch.zeros(BATCH, decoder.latent_dim, requires_grad=True)
            for _ in range(cfg.steps):
                inner = ((decoder(z) - x) ** 2).sum(1).mean()
                (g,) = torch.autograd.grad(inner, [z], create_graph=not cfg.detach)
                z = z - cfg.step_size * g
                if cfg.detach:
                    z = z.detach().requires_grad_(True)
            return ((decoder(z) - x) ** 2).sum(1).mean()

    def step():
        value = loss()
        opt.zero_grad()
        value.backward()
        opt.step()
    return step


def aten_ops(step) -> int:
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    return sum(1 for e in prof.events() if e.name.startswith("aten::"))


STEPS = {"alone": lambda m: gonbench_step(m, 1), "stacked3": lambda m: gonbench_step(m, SEEDS),
         "reference": reference_step}
PER_CALL = {"alone": 1, "stacked3": SEEDS, "reference": 1}  # seed-steps per call


@pytest.mark.parametrize("way", list(STEPS))
@pytest.mark.parametrize("method", METHODS)
def test_ms_per_seed_step(benchmark, method, way):
    step = STEPS[way](method)
    benchmark.pedantic(step, rounds=10, warmup_rounds=2)
    seeds = PER_CALL[way]
    benchmark.extra_info.update(ms_per_seed_step=1000 * benchmark.stats.stats.mean / seeds,
                                aten_ops_per_seed_step=aten_ops(step) / seeds, batch=BATCH,
                                threads=torch.get_num_threads(), device="cpu")


@pytest.mark.parametrize("method", METHODS)
def test_stacking_cuts_the_operators_per_seed_step(method):
    alone = aten_ops(gonbench_step(method, 1))
    stacked = aten_ops(gonbench_step(method, SEEDS)) / SEEDS
    assert stacked <= 0.4 * alone, f"{method}: {stacked:.0f} aten ops per seed-step stacked vs {alone} alone"

