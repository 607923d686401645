"""GLO: a training step moves only its batch's latents, validation latents are fitted until the loss stops
improving (or the cap), and what the fit took reaches metrics.json, glo_fit_curve.pt and its figure."""
from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
import torch

from gonbench.config import resolve_spec
from gonbench.evaluate import evaluate_run
from gonbench.io import load_checkpoint
from gonbench.methods import build_method
from gonbench.methods.base import DataInfo
from gonbench.methods.glo import CURVE_FILE, curve_steps
from gonbench.metrics import recon_sse
from gonbench.paths import Layout, RunKey
from gonbench.reports import build_output
from gonbench.train import train_run
from gonbench.validation import batchnorm_mode

from .conftest import tiny_profile

CPU = torch.device("cpu")
QUICK_FIT = {"fit_max_steps": 30, "fit_window": 10}  # evaluation in a fraction of a second


def glo_spec(tmp_path, seed: int = 0, **overrides) -> dict:
    return resolve_spec(tiny_profile(tmp_path), experiment="table1", method="glo", dataset="digits", seed=seed,
                        overrides={"epochs": 2, "train_size": 256, "val_size": 64, "lr": 1e-3, **QUICK_FIT,
                                   **overrides})


@pytest.fixture(scope="module")
def trained(tmp_path_factory, digits_splits):
    """A decoder trained for two epochs on digits, and 32 validation images."""
    tmp = tmp_path_factory.mktemp("glo")
    model = train_run(glo_spec(tmp), tmp / "run", digits_splits, device=CPU, progress=False)
    return model, digits_splits.val[:32].float() / 255


def test_a_step_moves_only_the_latents_of_its_batch():
    torch.manual_seed(0)
    model = build_method("glo", DataInfo(channels=1, image_size=32, classes=10, train_size=16))
    optimizers = model.configure_optimizers()
    x = torch.rand(16, 1, 32, 32)

    def step(index: torch.Tensor) -> torch.Tensor:
        before = model.latents.weight.detach().clone()
        model.train_step({"x": x[index], "y": torch.zeros(len(index), dtype=torch.long), "index": index}, optimizers)
        return before

    first, second = torch.arange(0, 4), torch.arange(4, 8)
    step(first)  # leaves optimiser state for the rows of the first batch
    decoder_before = [p.detach().clone() for p in model.decoder.parameters()]
    before = step(second)
    after = model.latents.weight.detach()
    others = torch.ones(16, dtype=torch.bool)
    others[second] = False
    assert torch.equal(after[others], before[others])  # bit-identical, the first batch's rows included
    assert (after[second] != before[second]).any(dim=1).all()
    assert any(not torch.equal(a, b) for a, b in zip(model.decoder.parameters(), decoder_before))


def fit(model, x: torch.Tensor, **cfg):
    model.cfg = dataclasses.replace(model.cfg, **cfg)
    with torch.no_grad(), batchnorm_mode(model, "train"):
        z, result = model.fit_latents(x)
        return result, recon_sse(model.decoder(z), x)


def test_the_fit_stops_when_the_loss_stops_improving(trained):
    model, x = trained
    result, final = fit(model, x, fit_tolerance=1e-3, fit_window=10, fit_max_steps=1000)
    assert result.converged and 0 < result.steps < 1000 and result.steps % 10 == 0
    assert result.sse.shape == (32, len(curve_steps(1000)))
    assert result.sse[:, -1].mean() < result.sse[:, 0].mean()  # fitting helped
    torch.testing.assert_close(result.sse[:, -1], final)  # the curve ends at what the latents reconstruct


def test_a_tiny_cap_stops_the_fit_and_says_so(trained):
    model, x = trained
    result, _ = fit(model, x, fit_tolerance=1e-3, fit_window=10, fit_max_steps=5)
    assert (result.steps, result.converged) == (5, False)
    assert curve_steps(5) == [0, 5] and curve_steps(120) == [0, 10, 20, 50, 100, 120]


def test_evaluation_records_the_fit(tmp_path, digits_splits):
    spec = glo_spec(tmp_path, fit_max_steps=2, val_size=100)  # 2 batches of 64, the last padded
    train_run(spec, tmp_path / "run", digits_splits, device=CPU, progress=False)
    metrics = evaluate_run(tmp_path / "run")
    for protocol in ("train", "eval"):
        s = f"_bn_{protocol}"
        assert metrics[f"glo_fit_steps_mean{s}"] == metrics[f"glo_fit_steps_max{s}"] == 2
        assert metrics[f"glo_fit_capped{s}"] == metrics[f"glo_fit_batches{s}"] == 2
        assert metrics[f"glo_fit_seconds{s}"] > 0
    assert 0 < metrics["glo_fit_seconds"] < metrics["eval_seconds"]
    curve = load_checkpoint(tmp_path / "run" / CURVE_FILE)
    assert curve["steps_bn_train"].tolist() == [0, 2]
    assert curve["sse_bn_train"][-1].item() == pytest.approx(metrics["recon_sse_bn_train"], rel=1e-5)


def test_the_figure_shows_every_dataset_over_seeds(tmp_path, digits_splits):
    cfg = tiny_profile(tmp_path, methods=["glo"], outputs=["glo_fit_curve"])
    cfg["seeds"] = [0, 1]
    cfg["defaults"].update(epochs=1, val_size=64, **QUICK_FIT)
    for seed in (0, 1):
        spec = resolve_spec(cfg, experiment="table1", method="glo", dataset="digits", seed=seed)
        out = Layout.of(cfg).run(RunKey("table1", "glo", "digits", seed))
        train_run(spec, out, digits_splits, device=CPU, progress=False)
        evaluate_run(out)
    files = build_output(cfg, "glo_fit_curve")
    assert all(f.exists() for f in files)
    caption = next(f for f in files if f.name.endswith(".caption.md")).read_text()
    assert "at 30 steps" in caption and "0.0001" in caption and "steps per batch" in caption
    data = pd.read_csv(next(f for f in files if f.suffix == ".csv"))
    assert data["steps"].tolist() == [0, 10, 20, 30] and (data["count"] == 2).all()
