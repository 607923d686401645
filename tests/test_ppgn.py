"""PPGN-h variants: the gradient penalty, the critic schedule, MALA-approx, the frozen encoder, each variant's
loss terms, KID, the pretrained networks and the per-step records, each against a hand computation."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from gonbench import metrics as M
from gonbench.methods import DataInfo, build_method, list_methods
from gonbench.methods.ppgn import PPGNConfig
from gonbench.methods.ppgn.wgan import CriticSchedule, critic_iterations, gradient_penalty
from gonbench.sampling import mala_approx, mala_approx_step

INFO = DataInfo(channels=1, image_size=28, classes=10, train_size=64)
TINY = dict(g_widths=[4, 4, 4], d_widths=[4, 4, 4, 4], d1_widths=[4, 4, 4])
VARIANTS = ["ppgn_vanilla", "ppgn_fc1", "ppgn_fc1_adv_only", "ppgn_fc1_no_pixel", "ppgn_combined", "ppgn_random"]


def tiny(name: str, **cfg):
    torch.manual_seed(0)
    return build_method(name, INFO, **{**TINY, **cfg})


def batch(n: int = 32, offset: int = 0) -> dict:
    g = torch.Generator().manual_seed(offset)
    return {"x": torch.rand(n, 1, 28, 28, generator=g), "y": torch.zeros(n, dtype=torch.long),
            "index": torch.arange(offset, offset + n)}


def test_every_variant_is_registered():
    assert list_methods("ppgn_*") == sorted(VARIANTS)


# -- WGAN-GP ----------------------------------------------------------------------------------------
def test_gradient_penalty_of_a_linear_critic_is_lambda_times_squared_norm_gap():
    critic = nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # the gradient everywhere: (3, 4), norm 5
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    assert float(gradient_penalty(critic, real, fake, weight=10.0).detach()) == pytest.approx(10.0 * (5 - 1) ** 2)


def test_gradient_penalty_is_taken_at_the_interpolate():
    critic = lambda x: 0.5 * (x**2).sum(1)  # noqa: E731  gradient = x_hat itself
    real, fake = torch.tensor([[2.0, 0.0], [0.0, 4.0]]), torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    alpha = torch.tensor([[0.25], [0.25]])  # x_hat = (0.5, 0) and (0, 1.75)
    penalty = gradient_penalty(critic, real, fake, weight=10.0, alpha=alpha).detach()
    assert float(penalty) == pytest.approx(10 * (0.5**2 + 0.75**2) / 2)


# -- critic schedule --------------------------------------------------------------------------------
def test_critic_iterations_follow_the_thesis_schedule():
    cfg = PPGNConfig()
    assert [critic_iterations(s, cfg) for s in (0, 1, 24, 25, 26, 499, 500, 501, 1000)] == \
        [100, 100, 100, 5, 5, 5, 100, 5, 100]


def test_schedule_cuts_cycles_at_epoch_end_like_the_thesis_loop():
    schedule = CriticSchedule(PPGNConfig())
    steps_per_epoch = []
    for _ in range(15):
        for _ in range(1875):  # MNIST at batch 32, drop_last
            schedule.tick(1875)
        steps_per_epoch.append(int(schedule.gen_step))
    assert steps_per_epoch[0] == 19  # 18 full bursts of 100 and one cut at 75 batches
    assert steps_per_epoch[-1] == 4993


def test_schedule_returns_the_cycle_length_when_the_generator_is_due():
    schedule = CriticSchedule(PPGNConfig(critic_iters=2, burst_critic_iters=3, burst_first_steps=1, burst_every=100))
    due = [schedule.tick(10**6) for _ in range(7)]
    assert due == [0, 0, 3, 0, 2, 0, 2]


# -- MALA-approx ------------------------------------------------------------------------------------
class LinearEncoder(nn.Module):
    def __init__(self, b: torch.Tensor, c: torch.Tensor) -> None:
        super().__init__()
        self.b, self.c = b, c

    def forward(self, x):
        code = x @ self.b.T
        return code, code @ self.c.T


def linear_models(dtype=torch.float64):
    g = torch.Generator().manual_seed(3)
    a, b, c = (torch.randn(*s, generator=g).to(dtype) for s in ((5, 3), (3, 5), (4, 3)))
    return (lambda h: h @ a.T), LinearEncoder(b, c), a, b, c


def expected_step(h, classes, noise, a, b, c, eps1, eps2, eps3):
    """By hand for G(h) = A h, E(x) = (B x, C B x): grad_h log softmax(M h)_c = M^T (e_c - softmax(M h)), M = CBA."""
    m = c @ b @ a
    grad = (torch.eye(4, dtype=h.dtype)[classes] - torch.softmax(h @ m.T, 1)) @ m
    return h + eps1 * (h @ (b @ a).T - h) + eps2 * grad + eps3 * noise


def test_mala_approx_step_is_its_formula():
    gen, enc, a, b, c = linear_models()
    h = torch.randn(6, 3, dtype=torch.float64)
    classes, noise = torch.tensor([0, 1, 2, 3, 0, 1]), torch.randn(6, 3, dtype=torch.float64)
    got = mala_approx_step(gen, enc, h, classes, eps1=0.1, eps2=0.7, eps3=0.3, noise=noise)
    torch.testing.assert_close(got, expected_step(h, classes, noise, a, b, c, 0.1, 0.7, 0.3))


def test_mala_approx_chains_use_the_seeded_noise():
    gen, enc, a, b, c = linear_models(torch.float32)
    classes = torch.tensor([1, 3])
    got = mala_approx(gen, enc, classes, steps=3, eps1=1e-2, eps2=1.0, eps3=0.5, code_dim=3,
                      rng=torch.Generator().manual_seed(7))
    rng = torch.Generator().manual_seed(7)
    h = torch.randn(2, 3, generator=rng)  # h0 ~ N(0, I), then one noise draw per step, from the same stream
    for _ in range(3):
        h = expected_step(h, classes, torch.randn(2, 3, generator=rng), a, b, c, 1e-2, 1.0, 0.5)
    torch.testing.assert_close(got, h, rtol=1e-5, atol=1e-5)


# -- training ---------------------------------------------------------------------------------------
def params(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def moved(before: list[torch.Tensor], module: nn.Module) -> bool:
    return any(not torch.equal(b, p) for b, p in zip(before, module.parameters()))


@pytest.mark.parametrize("name", VARIANTS)
def test_encoder_stays_frozen_while_generator_and_critics_train(name):
    model = tiny(name, critic_iters=1, burst_critic_iters=1)  # a generator step after every critic iteration
    opts = model.configure_optimizers()
    enc, gen, crit = params(model.encoder), params(model.generator), params(model.critics)
    for k in range(3):
        logs = model.train_step(batch(offset=k * 32 % 64), opts)
    assert "g_loss" in logs and math.isfinite(logs["g_loss"])
    assert not moved(enc, model.encoder)
    assert moved(gen, model.generator) and moved(crit, model.critics)
    assert set(opts) == {"generator", *model.critics}
    encoder_params = {id(p) for p in model.encoder.parameters()}
    assert not any(p.requires_grad for p in model.encoder.parameters())
    assert not any(id(p) in encoder_params for o in opts.values() for g in o.param_groups for p in g["params"])


EXPECTED_TERMS = {  # thesis variants -> generator loss terms and weights
    "ppgn_vanilla": {"adv_image": 1, "pixel": 2, "feature": 0.1},
    "ppgn_fc1": {"adv_code": 1, "pixel": 2, "feature": 0.1},
    "ppgn_fc1_adv_only": {"adv_code": 1},
    "ppgn_fc1_no_pixel": {"adv_code": 1, "feature": 0.1},
    "ppgn_combined": {"adv_image": 1, "adv_code": 1, "pixel": 2, "feature": 0.1},
    "ppgn_random": {"adv_image": 1, "adv_code": 1, "pixel": 2, "feature": 0.1},  # in a burst: both critics
}


@pytest.mark.parametrize("name", VARIANTS)
def test_generator_loss_has_exactly_the_variants_terms(name):
    model = tiny(name)
    x = torch.randn(8, 1, 28, 28)
    h = model.code(x)
    adversaries = model.choose_critics(gen_step=0)
    terms = model.generator_loss(x, h, adversaries)
    weights = EXPECTED_TERMS[name]
    assert set(terms) - {"loss"} == set(weights)
    fake = model.generator(h)
    by_hand = {"adv_image": lambda: -model.critics["image"](fake).mean(),
               "adv_code": lambda: -model.critics["code"](model.code(fake)).mean(),
               "pixel": lambda: ((fake - x) ** 2).mean(), "feature": lambda: ((model.code(fake) - h) ** 2).mean()}
    for key, weight in weights.items():
        torch.testing.assert_close(terms[key], by_hand[key]())
    torch.testing.assert_close(terms["loss"], sum(w * by_hand[k]() for k, w in weights.items()))


@pytest.mark.parametrize("p, trained, frozen", [(1.0, "image", "code"), (0.0, "code", "image")])
def test_random_variant_trains_and_meets_one_critic_outside_bursts(p, trained, frozen):
    model = tiny("ppgn_random", image_critic_p=p, critic_iters=1, burst_first_steps=0, burst_every=10**6)
    model.schedule.gen_step.fill_(1)  # past the burst at step 0
    opts = model.configure_optimizers()
    before = {k: params(c) for k, c in model.critics.items()}
    logs = model.train_step(batch(), opts)
    assert moved(before[trained], model.critics[trained]) and not moved(before[frozen], model.critics[frozen])
    assert f"g_adv_{trained}" in logs and f"g_adv_{frozen}" not in logs


def test_unknown_critic_setup_is_refused_with_the_choices():
    from gonbench.errors import ConfigError

    with pytest.raises(ConfigError, match="image, code"):
        tiny("ppgn_random", critics=["image"])
    with pytest.raises(ConfigError, match="28x28"):
        build_method("ppgn_vanilla", DataInfo(1, 32, 10, 8), **TINY)


def test_each_generator_step_leaves_a_record_with_every_trained_critics_estimate(tmp_path):
    from gonbench.data import ImageSplits
    from gonbench.io import read_jsonl
    from gonbench.train import train_run

    g = torch.Generator().manual_seed(0)
    images = lambda n: torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g)  # noqa: E731
    splits = ImageSplits(images(64), torch.zeros(64, dtype=torch.long), images(16), torch.zeros(16, dtype=torch.long))
    spec = {"profile": "test", "experiment": "ppgn", "method": "ppgn_combined", "method_label": "ppgn_combined",
            "dataset": "mnist", "seed": 0, "config_hash": "x", "epochs": 2, "batch_size": 32, "image_size": 28,
            "train_size": None, "val_size": None, **TINY, "burst_critic_iters": 3, "critic_iters": 1}
    train_run(spec, tmp_path, splits, device=torch.device("cpu"), progress=False)
    steps = read_jsonl(tmp_path / "steps.jsonl")
    # 2 batches per epoch: burst cycles (3 iterations) are cut at each epoch's end -> one step per epoch
    assert [(s["gen_step"], s["critic_iters"], s["epoch"]) for s in steps] == [(1, 2, 1), (2, 2, 2)]
    assert all({"wasserstein_image", "wasserstein_code", "seconds", "gen_seconds"} <= set(s) for s in steps)
    log = read_jsonl(tmp_path / "log.jsonl")
    assert all("train_g_loss" in r and "train_critic_code_wasserstein" in r for r in log)


# -- KID --------------------------------------------------------------------------------------------
def test_mmd2_polynomial_matches_a_hand_computation():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    # k = (x.y / 2 + 1)^3: within a and within b every off-diagonal pair is orthogonal -> 1;
    # across: a1.b1 = a2.b1 = 1 -> 1.5^3 = 3.375, a1.b2 = a2.b2 = 0 -> 1; mean 2.1875
    assert M.mmd2_polynomial(a, b) == pytest.approx(1 + 1 - 2 * 2.1875)
    assert M.kid(a, b, subsets=3, subset_size=2) == (pytest.approx(-2.375), 0.0)


def test_kid_is_near_zero_for_one_distribution_and_large_between_two():
    g = torch.Generator().manual_seed(0)
    a, b, c = (torch.randn(400, 8, generator=g) for _ in range(3))
    same, _ = M.kid(a, b, subsets=5, subset_size=200, generator=g)
    apart, _ = M.kid(a, c + 2, subsets=5, subset_size=200, generator=g)
    assert abs(same) < 0.1 < apart


# -- pretrained networks ----------------------------------------------------------------------------
def test_pretrained_network_is_saved_loaded_frozen_and_checked(tmp_path):
    from gonbench.data import ImageSplits
    from gonbench.errors import ConfigError
    from gonbench.pretrain import PretrainConfig, load_pretrained, pretrain, pretrain_config

    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8, generator=g)
    splits = ImageSplits(x, torch.arange(64) % 10, x[:32], torch.arange(32) % 10)
    summary = pretrain("mnist_classifier", PretrainConfig(epochs=1, optimizer="adam", lr=1e-3, batch_size=32),
                       splits, tmp_path / "judge.pt", torch.device("cpu"))
    assert 0 <= summary["test_accuracy"] <= 1 and (tmp_path / "judge.json").is_file()
    net = load_pretrained(tmp_path / "judge.pt", "mnist_classifier")
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    with pytest.raises(ConfigError, match="holds network 'mnist_classifier'"):
        load_pretrained(tmp_path / "judge.pt", "ppgn_encoder")
    with pytest.raises(ConfigError, match="valid keys: .*epochs"):
        pretrain_config({"profile": "t", "pretrained": {"ppgn_encoder": {"epoch": 1}}}, "ppgn_encoder")


# -- table ------------------------------------------------------------------------------------------
def test_ppgn_table_puts_several_metrics_side_by_side():
    import pandas as pd

    from gonbench.aggregate import build_table, render
    from gonbench.outputs import TABLES

    runs = pd.DataFrame([{"experiment": "ppgn", "method_label": "ppgn_fc1", "dataset": "mnist", "seed": s,
                          "train_size": 1024, "val_size": 256, "m.sample_accuracy": acc, "m.kid": 10.0 * s}
                         for s, acc in ((0, 0.4), (1, 0.6))])
    cfg = {"profile": "test", "experiments": {"ppgn": {"methods": ["ppgn_fc1"], "datasets": ["mnist"]}}}
    frame, caption = build_table(TABLES.get("ppgn"), runs, cfg, "ppgn")
    md, _ = render(frame, TABLES.get("ppgn"), caption, cfg)
    header, _, row = md.splitlines()[:3]
    assert "accuracy" in header and "KID" in header and "paper" not in header
    assert "0.500 ± 0.141" in row and "5.0 ± 7.1" in row and "—" in row  # recon MSE was not measured


# -- workflow ---------------------------------------------------------------------------------------
def test_ppgn_target_pretrains_once_and_trains_every_variant_and_seed(tmp_path):
    from .test_workflow import dry_run

    counts = dry_run("--configfile", "config/quick.yaml", "--config", f"results={tmp_path}/r",
                     f"reports={tmp_path}/p", targets=("ppgn",))
    assert counts["pretrain"] == 2  # E and the judge, shared by all 18 runs
    assert counts["train"] == 6  # one job per cell: 6 variants x MNIST, each training its 3 seeds
    assert counts["prepare_data"] == 1 and counts["table_ppgn"] == 1
    assert counts["figure_ppgn_fig3_samples"] == counts["figure_ppgn_fig4_wasserstein"] == 1
