"""The three BatchNorm protocols of evaluation, and why a GON fails in eval mode (measured, on real data).

At the origin every image gives the decoder the same input (z0 = 0), so the first BatchNorm layer sees a
batch variance of exactly 0 and, in train mode, divides by sqrt(eps): the gradient that becomes the latent is
amplified by ~300 per such layer and the decoder learns latents of that scale. Eval mode normalises the
origin pass with running statistics that average it with the decoding pass (variance ~0.04 instead of 0),
the latent shrinks by orders of magnitude and the reconstruction is the mean image. Per-pass statistics
(``recal``) give the origin pass its own statistics back and recover the train-mode numbers.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gonbench.config import resolve_spec
from gonbench.data import prepare
from gonbench.evaluate import evaluate_run
from gonbench.runs import load_run
from gonbench.train import train_run
from gonbench.validation import record_pass_statistics

from .conftest import tiny_profile


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("bn")
    splits = prepare("digits", Path("unused"), 32)
    out = {}
    for method in ("gon", "ae"):
        spec = resolve_spec(tiny_profile(root), experiment="table1", method=method, dataset="digits", seed=0,
                            overrides={"epochs": 4, "train_size": 512, "val_size": 128, "lr": 1e-3})
        train_run(spec, root / method, splits, device=torch.device("cpu"), progress=False)
        out[method] = (root / method, evaluate_run(root / method))
    return out


def test_the_origin_pass_has_zero_batch_variance_that_running_statistics_average_away(trained):
    run = load_run(trained["gon"][0])
    stats = record_pass_statistics(run.model, run.train_data()[0], 64)
    origin_var = stats.sums[(0, 0)][1] / stats.batches[(0, 0)]
    decode_var = stats.sums[(0, 1)][1] / stats.batches[(0, 1)]
    running = stats.norms[0].running_var
    assert float(origin_var.max()) == 0.0  # identical inputs at the origin
    assert float(decode_var.mean()) > 1e-3 and float(running.mean()) > 1e-3 * 0.5  # eval mode divides by these


def test_gon_latents_collapse_in_eval_mode_and_per_pass_statistics_recover_them(trained):
    _, gon = trained["gon"]
    assert gon["latent_norm_bn_eval"] < 0.01 * gon["latent_norm_bn_train"]
    assert gon["recon_sse_bn_eval"] > 3 * gon["recon_sse_bn_train"]
    assert gon["latent_norm_bn_recal"] == pytest.approx(gon["latent_norm_bn_train"], rel=0.5)
    assert gon["recon_sse_bn_recal"] < 1.5 * gon["recon_sse_bn_train"]


def test_the_autoencoder_does_not_depend_on_the_protocol(trained):
    _, ae = trained["ae"]
    for protocol in ("eval", "recal"):
        assert ae[f"recon_sse_bn_{protocol}"] == pytest.approx(ae["recon_sse_bn_train"], rel=0.2)


def test_recalibrated_numbers_do_not_depend_on_how_the_validation_set_is_batched(trained):
    from gonbench.validation import validation_pass

    run = load_run(trained["gon"][0])
    stats = record_pass_statistics(run.model, run.train_data()[0], 64)
    x, y = run.val_data()
    whole = validation_pass(run.model, x, y, 64, "recal", stats)["recon_sse"]
    shuffled = torch.randperm(len(x), generator=torch.Generator().manual_seed(1))
    other = validation_pass(run.model, x[shuffled], y[shuffled], 64, "recal", stats)["recon_sse"]
    assert torch.allclose(other, whole[shuffled], rtol=1e-5)
    train_mode = validation_pass(run.model, x, y, 64, "train")["recon_sse"]
    train_shuffled = validation_pass(run.model, x[shuffled], y[shuffled], 64, "train")["recon_sse"]
    assert not torch.allclose(train_shuffled, train_mode[shuffled], rtol=1e-5)  # batch statistics do depend on it
