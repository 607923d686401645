"""DCGAN, GMMN, GMMN+AE, AAE and MMD-AE as runs on real data (the bundled digits at 32x32, tiny networks, 12
steps): each loss falls, a run killed mid-epoch resumes to bit-identical metrics and logs, evaluation writes
the prior fit and the files the figures read, the figures draw every sampling label, and bad values of their
settings end in one line."""
from __future__ import annotations

import math

import pytest
import torch
import yaml

from gonbench import paths
from gonbench.cell import cell_specs, run_cell
from gonbench.cli import main
from gonbench.figures import save_figure
from gonbench.io import read_json, read_jsonl
from gonbench.outputs import FIGURES, OutputContext
from gonbench.paths import Layout, RunKey
from gonbench.pretrain import PretrainConfig, pretrain

from .resume import assert_killed_run_resumes_as_whole

SAMPLERS = ["dcgan", "gmmn", "gmmn_ae", "aae", "mmd_ae"]
TINY = {  # widths a test affords; every other setting is the method's default
    "dcgan": {"g_widths": [16, 8, 4], "d_widths": [4, 8, 16]},
    "gmmn": {"hidden": [32, 64]},
    "gmmn_ae": {"hidden": [32], "autoencoder": "mnist_autoencoder"},
    "aae": {"ngf": 4, "d_widths": [32, 32]},
    "mmd_ae": {"ngf": 4},
    "ae": {"ngf": 4},
}


def profile(tmp_path) -> dict:
    return {"profile": "test", "results": str(tmp_path / "results"), "reports": str(tmp_path / "reports"),
            "seeds": [0], "threads": 1, "defaults": {"epochs": 3, "train_size": 256, "val_size": 128},
            "experiments": {"generative": {"methods": [*SAMPLERS, "ae"], "datasets": ["digits"], "method_set": TINY,
                                           "outputs": ["generative_samples", "prior_codes"]}}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, digits_splits):
    """Every method trained 3 epochs (4 steps each) and evaluated; GMMN+AE's autoencoder pretrained first."""
    tmp = tmp_path_factory.mktemp("generative")
    cfg = profile(tmp)
    pretrain("mnist_autoencoder", PretrainConfig(image_size=32, epochs=2, batch_size=64, optimizer="adam", lr=1e-3,
                                                 train_size=256, test_size=64),
             digits_splits, Layout.of(cfg).pretrained("mnist_autoencoder"), torch.device("cpu"))
    for label in [*SAMPLERS, "ae"]:
        run_cell(cfg, cell_specs(cfg, "generative", label, "digits", [0]), device=torch.device("cpu"))
    return cfg


def run_path(cfg: dict, label: str):
    return Layout.of(cfg).run(RunKey("generative", label, "digits", 0))


@pytest.mark.parametrize("label", SAMPLERS)
def test_each_loss_falls_on_real_digits(runs, label):
    log = read_jsonl(run_path(runs, label) / paths.LOG)
    key = {"dcgan": "train_d_loss", "aae": "train_recon_sse"}.get(label, "train_loss")  # a GAN's G loss need not fall
    first, last = log[0][key], log[-1][key]
    assert math.isfinite(last) and last < first, f"{label}: {key} {first} -> {last}"


@pytest.mark.parametrize("label", SAMPLERS)
def test_a_killed_run_resumes_bit_identical(runs, label, digits_splits, tmp_path):
    (spec,) = cell_specs(runs, "generative", label, "digits", [0])
    assert_killed_run_resumes_as_whole(spec, tmp_path / "cut", run_path(runs, label), digits_splits)


def test_evaluation_reports_the_prior_fit_and_keeps_the_codes(runs):
    for label in ("aae", "mmd_ae"):
        metrics = read_json(run_path(runs, label) / paths.METRICS)
        assert {"recon_sse", "psnr", "ssim", "prior_mmd", "prior_mmd_bn_eval", "prior_mmd_bn_recal"} <= set(metrics)
        assert metrics["prior_mmd"] == metrics["prior_mmd_bn_train"]  # the profile's headline protocol
        blob = torch.load(run_path(runs, label) / paths.CODES, weights_only=True)
        assert blob["codes"].shape == blob["prior"].shape == (128, 8)
    assert "matched_mmd2" in read_json(run_path(runs, "gmmn_ae") / paths.METRICS)
    assert "d_real_prob" in read_json(run_path(runs, "dcgan") / paths.METRICS)
    assert read_json(run_path(runs, "gmmn_ae") / "config.json")["network_files"]["autoencoder"].endswith(
        "mnist_autoencoder.pt")


def test_the_samples_figure_shows_every_sampling_label_and_the_codes_figure_each_autoencoder(runs, tmp_path):
    ctx = OutputContext(runs, "generative")
    result = FIGURES.get("generative_samples")(ctx)
    assert list(result.data["label"]) == SAMPLERS  # the plain AE cannot sample: no panel
    assert set(result.data["source"]) == {"samples.png"} and "epochs" in result.caption
    codes = FIGURES.get("prior_codes")(ctx)
    assert list(codes.data["label"]) == ["aae", "mmd_ae"] and codes.data["prior_mmd"].notna().all()
    files = save_figure(result, Layout.of(runs), "generative_samples") + save_figure(codes, Layout.of(runs), "prior_codes")
    assert all(f.is_file() for f in files)
    (run_path(runs, "gmmn") / paths.SAMPLES).unlink()  # without the evaluation grid, samples are drawn afresh
    redrawn = FIGURES.get("generative_samples")(ctx)
    assert redrawn.data.set_index("label").loc["gmmn", "source"] == "drawn"


BAD = [  # (method, --set value, what the one line must say)
    ("gmmn", "bandwidths=[]", "bandwidths=[]: give at least one Gaussian kernel bandwidth"),
    ("gmmn", "bandwidths=[0.0]", "bandwidths=0.0 is out of range"),
    ("gmmn", "noise=cauchy", "noise='cauchy' is not allowed; valid choices: uniform, gaussian"),
    ("gmmn_ae", "autoencoder=mnist_autoencodr", "'mnist_autoencodr' is not a pretrained network; valid choices"),
    ("dcgan", "g_widths=[16,8]", "give each log2(image_size / 4) widths"),
    ("dcgan", "beta1=1.5", "beta1=1.5 is out of range"),
    ("aae", "d_lr=0", "d_lr=0.0 is out of range"),
    ("mmd_ae", "imq_scales=[]", "imq_scales=[]: give at least one kernel scale"),
    ("mmd_ae", "mmd_weight=-1", "mmd_weight=-1.0 is out of range"),
]


@pytest.mark.parametrize("method,value,names", BAD, ids=[f"{m}-{v}" for m, v, _ in BAD])
def test_a_bad_value_is_one_line_and_writes_nothing(tmp_path, capsys, method, value, names):
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(profile(tmp_path)))
    out = tmp_path / "run"
    rc = main(["train", "--config", str(path), "--experiment", "generative", "--method", method, "--dataset", "digits",
               "--seed", "0", "--no-progress", "--out", str(out), "--set", value])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    text = "\n".join(lines)
    assert rc != 0 and "Traceback" not in text and 1 <= len(lines) <= 2 and names in text, text
    assert not out.exists()
