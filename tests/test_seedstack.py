"""Seeds stacked into one model train as they would alone: each seed starts from its own weights, sees its own
batches and noise, and its losses and final metrics match its single-seed run's (up to floating-point
summation order: grouped kernels add in another order, measured here)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gonbench import seedstack as stacking
from gonbench.batches import epoch_batches
from gonbench.data import prepare
from gonbench.methods import DataInfo, build_method
from gonbench.seeding import rng_state, seed_everything
from gonbench.validation import validation_pass

STACKED = ["gon", "ae", "tied_ae", "gon_detach_1", "gon_detach_10", "gon_10", "glo", "vae", "vgon"]
SEEDS = [0, 1, 2]
STEPS = 50
BATCH = 64  # the methods' batch size (GON paper)
# smaller settings where they keep the check's meaning and cut its time: GLO's validation latents are fitted for
# at most 200 steps (both ways alike; the default 2,000-step cap made GLO the suite's slowest test)
SMALL = {"vae": {"nz": 16, "ngf": 8}, "vgon": {"nz": 16, "ngf": 8}, "glo": {"fit_max_steps": 200}}


@pytest.fixture(scope="module")
def digits():
    splits = prepare("digits", Path("unused"), 32)
    return splits.train[:320], splits.train_labels[:320]


def batches(images, labels, seed):
    epoch = 0
    while True:
        yield from epoch_batches(images, labels, BATCH, seed=seed, epoch=epoch)
        epoch += 1


def train_alone(method, seed, data, values):
    info = DataInfo(1, 32, 10, len(data[0]))
    seed_everything(seed)
    model = build_method(method, info, **values)
    opts = model.configure_optimizers()
    losses = [float(torch.as_tensor(model.train_step(b, opts)["loss"]).sum())
              for _, b in zip(range(STEPS), batches(*data, seed))]
    return losses, model


def train_stacked(method, data, values):
    info = DataInfo(1, 32, 10, len(data[0]))
    singles, rngs = [], []
    for seed in SEEDS:
        seed_everything(seed)
        singles.append(build_method(method, info, **values))
        rngs.append(rng_state()["torch"])
    model = build_method(method, stacking.stacked_info(info, len(SEEDS)), **values)
    model.load_state_dict(stacking.stack([m.state_dict() for m in singles]))
    model.noise.generators = stacking.noise_generators(rngs, torch.device("cpu"))
    opts = model.configure_optimizers()
    streams = [batches(*data, seed) for seed in SEEDS]
    losses = []
    for _ in range(STEPS):
        logs = model.train_step(stacking.stack_batches([next(s) for s in streams]), opts)
        losses.append(torch.as_tensor(logs["loss"]).tolist())
    return torch.tensor(losses), stacking.split_model(model, singles)


@pytest.fixture(scope="module")
def trained(digits):
    """Per method: the stacked per-step losses [steps, S], and per seed (alone losses, alone model, stacked model)."""
    cache = {}

    def get(method):
        if method not in cache:
            values = SMALL.get(method, {})
            stacked, models = train_stacked(method, digits, values)
            cache[method] = stacked, [(*train_alone(method, seed, digits, values), models[i])
                                      for i, seed in enumerate(SEEDS)]
        return cache[method]
    return get


@pytest.mark.parametrize("method", STACKED)
def test_stacked_seeds_take_the_steps_they_take_alone(trained, method):
    stacked, seeds = trained(method)
    for i, (alone, _, _) in enumerate(seeds):
        rel = ((stacked[:, i] - torch.tensor(alone)).abs() / torch.tensor(alone).abs()).max()
        assert rel <= 1e-4, f"seed {SEEDS[i]}: per-step losses differ by up to {rel:.2e} (relative)"


@pytest.mark.parametrize("method", STACKED)
def test_stacked_seeds_end_with_the_recon_sse_they_reach_alone(trained, digits, method):
    _, seeds = trained(method)
    x, y = digits[0][:128].float() / 255, digits[1][:128]
    for i, (_, alone, stacked) in enumerate(seeds):
        a, b = (float(validation_pass(m, x, y, BATCH, "train")["recon_sse"].mean()) for m in (alone, stacked))
        assert abs(a - b) <= 1e-3 * abs(a), f"seed {SEEDS[i]}: recon_sse {b} stacked vs {a} alone"


def test_stacking_round_trips_states_and_optimizer_moments():
    info = DataInfo(1, 32, 10, 64)
    models = []
    for seed in SEEDS:
        torch.manual_seed(seed)
        models.append(build_method("vae", info, nz=8, ngf=4))
    back = stacking.unstack(stacking.stack([m.state_dict() for m in models]), len(SEEDS))
    for model, state in zip(models, back):
        assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


def test_every_method_that_promises_stacking_is_checked_here_and_the_others_refuse_it():
    """``Method.seed_stackable`` is a promise this file checks: a method may set it only if it is in STACKED.
    Every other method (a loss coupling the batch, such as an MMD, included) refuses stacked seeds in one line."""
    from gonbench.errors import ConfigError
    from gonbench.methods import METHODS, list_methods

    assert {m for m in list_methods() if METHODS.get(m).seed_stackable} == set(STACKED)
    for name in sorted(set(list_methods()) - set(STACKED)):
        cls = METHODS.get(name)
        info = DataInfo(1, cls.image_size or 32, 10, 16, seeds=2)
        with pytest.raises(ConfigError, match=f"{name} trains one seed at a time; stacking seeds covers: "):
            build_method(name, info)
