"""DeePSiM: the sharpness metric against a hand-computed 3x3 case, the four loss variants as runs on real data
(the bundled digits at 32x32, tiny networks, 12 steps, a comparator and a judge pretrained for a few steps):
each trains, a run killed mid-epoch resumes bit-identical, evaluation writes the sharpness ratio and the
reconstructions' KID, the weights decide which terms are computed, the figure draws every variant, and bad
values of its settings end in one line."""
from __future__ import annotations

import math

import pytest
import torch
import yaml

from gonbench import metrics as M
from gonbench import paths
from gonbench.cell import cell_specs, run_cell
from gonbench.cli import main
from gonbench.figures import save_figure
from gonbench.io import read_json, read_jsonl
from gonbench.outputs import FIGURES, OutputContext
from gonbench.paths import Layout, RunKey
from gonbench.pretrain import PretrainConfig, pretrain

from .resume import assert_killed_run_resumes_as_whole

VARIANTS = ["deepsim_pixel", "deepsim_feat", "deepsim_adv", "deepsim_all"]
TINY = {"ngf": 4, "d_widths": [4, 4, 4, 8, 8], "d_fc": 16}  # widths a test affords


def test_gradient_magnitude_matches_a_hand_computed_3x3_image():
    x = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]).view(1, 1, 3, 3)
    # forward differences on the top-left 2x2 pixels: (dx, dy) = (1, 0), (-1, -1), (0, 1), (0, 0)
    expected = (1 + math.sqrt(2) + 1 + 0) / 4
    assert M.gradient_magnitude(x).item() == pytest.approx(expected)
    flat = torch.full((1, 1, 3, 3), 0.7)
    assert M.gradient_magnitude(flat).item() == 0.0
    assert M.sharpness_ratio(0.5 * x, x) == pytest.approx(0.5)  # halving the contrast halves every difference
    both = torch.cat([x, flat])
    assert M.sharpness_ratio(both, both) == pytest.approx(1.0)
    blurred = torch.nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    assert M.sharpness_ratio(blurred, x) < 1


def profile(tmp_path) -> dict:
    return {"profile": "test", "results": str(tmp_path / "results"), "reports": str(tmp_path / "reports"),
            "seeds": [0], "threads": 1, "defaults": {"epochs": 3, "train_size": 256, "val_size": 128},
            "experiments": {"deepsim": {"methods": VARIANTS, "datasets": ["digits"],
                                        "set": {**TINY, "comparator": "mnist_comparator", "judge": "mnist_classifier"},
                                        "outputs": ["deepsim", "deepsim_reconstructions"]}}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, digits_splits):
    """Every variant trained 3 epochs (4 steps each) and evaluated; the comparator and judge pretrained first."""
    tmp = tmp_path_factory.mktemp("deepsim")
    cfg = profile(tmp)
    for name in ("mnist_comparator", "mnist_classifier"):  # at the digits' 32x32
        pretrain(name, PretrainConfig(image_size=32, epochs=1, batch_size=64, optimizer="adam", lr=1e-3,
                                      train_size=256, test_size=64),
                 digits_splits, Layout.of(cfg).pretrained(name), torch.device("cpu"))
    for label in VARIANTS:
        run_cell(cfg, cell_specs(cfg, "deepsim", label, "digits", [0]), device=torch.device("cpu"))
    return cfg


def run_path(cfg: dict, label: str):
    return Layout.of(cfg).run(RunKey("deepsim", label, "digits", 0))


def test_the_weights_decide_which_terms_are_trained(runs):
    logged = {label: set(read_jsonl(run_path(runs, label) / paths.LOG)[-1]) for label in VARIANTS}
    assert not {"train_feat_loss", "train_g_adv_loss", "train_d_loss"} & logged["deepsim_pixel"]
    assert "train_feat_loss" in logged["deepsim_feat"] and "train_d_loss" not in logged["deepsim_feat"]
    assert {"train_g_adv_loss", "train_d_loss"} <= logged["deepsim_adv"] and "train_feat_loss" not in logged["deepsim_adv"]
    assert {"train_feat_loss", "train_g_adv_loss", "train_d_loss", "train_d_updated"} <= logged["deepsim_all"]
    for label in VARIANTS:
        log = read_jsonl(run_path(runs, label) / paths.LOG)
        first, last = log[0]["train_recon_sse"], log[-1]["train_recon_sse"]
        assert math.isfinite(last) and last < first, f"{label}: recon_sse {first} -> {last}"


def test_evaluation_reports_sharpness_and_the_reconstructions_kid(runs):
    for label in VARIANTS:
        metrics = read_json(run_path(runs, label) / paths.METRICS)
        assert {"recon_sse", "psnr", "ssim", "sharpness_ratio", "sharpness_ratio_bn_eval", "sharpness_ratio_bn_recal",
                "recon_kid", "recon_kid_std"} <= set(metrics), label
        assert metrics["sharpness_ratio"] == metrics["sharpness_ratio_bn_train"] > 0
        assert metrics["recon_kid_subset_size"] == 64  # half the 128 validation images
    spec = read_json(run_path(runs, "deepsim_all") / "config.json")
    assert spec["network_files"]["comparator"].endswith("mnist_comparator.pt")


@pytest.mark.parametrize("label", VARIANTS)
def test_a_killed_run_resumes_bit_identical(runs, label, digits_splits, tmp_path):
    (spec,) = cell_specs(runs, "deepsim", label, "digits", [0])
    assert_killed_run_resumes_as_whole(spec, tmp_path / "cut", run_path(runs, label), digits_splits)


def test_the_figure_shows_every_variant_on_the_same_images(runs):
    result = FIGURES.get("deepsim_reconstructions")(OutputContext(runs, "deepsim"))
    assert list(dict.fromkeys(result.data["label"])) == ["data", *VARIANTS]
    assert (result.data.groupby("label").size() == 16).all()
    assert all(f.is_file() for f in save_figure(result, Layout.of(runs), "deepsim_reconstructions"))


BAD = [  # (method, --set value, what the one line must say)
    ("deepsim_all", "lambda_feat=-1", "lambda_feat=-1.0 is out of range"),
    ("deepsim_all", "d_widths=[8,8]", "d_widths=[8, 8]: give 5 widths"),
    ("deepsim_all", "feature_layer=pool", "feature_layer='pool' is not allowed; valid choices: conv, fc"),
    ("deepsim_feat", "comparator=mnist_comparatr", "'mnist_comparatr' is not a pretrained network; valid choices"),
    ("deepsim_adv", "d_pause_ratio=-0.1", "d_pause_ratio=-0.1 is out of range"),
]


@pytest.mark.parametrize("method,value,names", BAD, ids=[f"{m}-{v}" for m, v, _ in BAD])
def test_a_bad_value_is_one_line_and_writes_nothing(tmp_path, capsys, method, value, names):
    path = tmp_path / "profile.yaml"
    cfg = profile(tmp_path)
    cfg["experiments"]["deepsim"]["set"] = dict(TINY)  # no pretrained networks: the value alone is wrong
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "run"
    rc = main(["train", "--config", str(path), "--experiment", "deepsim", "--method", method, "--dataset", "digits",
               "--seed", "0", "--no-progress", "--out", str(out), "--set", value])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    text = "\n".join(lines)
    assert rc != 0 and "Traceback" not in text and 1 <= len(lines) <= 2 and names in text, text
    assert not out.exists()
