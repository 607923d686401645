"""PixelCNN, Row LSTM and Diagonal BiLSTM: the logits of a sub-pixel depend on exactly the sub-pixels before it
(rows, then pixels, then R, G, B), by autograd through each whole network; the row-by-row form the sampler uses
gives the whole-image logits; the NLL in bits/dim against hand computations; and each method trains, evaluates,
completes images and resumes after a kill bit-identically on the bundled digits (8x8, tiny widths)."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from gonbench import likelihoods as L
from gonbench import metrics as M
from gonbench import paths
from gonbench.cell import cell_specs, run_cell
from gonbench.data import prepare
from gonbench.errors import ConfigError
from gonbench.evaluate import evaluate_run
from gonbench.figures import save_figure
from gonbench.io import read_json, read_jsonl
from gonbench.layers.masked import causal_mask
from gonbench.methods import DataInfo, build_method
from gonbench.nets.autoregressive import LEVELS, PixelNet
from gonbench.outputs import FIGURES, OutputContext
from gonbench.paths import Layout, RunKey
from gonbench.train import train_run

KINDS = ["pixelcnn", "row_lstm", "diagonal_bilstm"]
SIZE = 4  # 4x4 images: 16 pixels, every pair of sub-pixels checked


def order(channels: int, r: int, c: int, k: int) -> int:
    """The position of sub-pixel (row r, column c, colour k) in the model's order."""
    return (r * SIZE + c) * channels + k


def jacobian_support(kind: str, channels: int) -> torch.Tensor:
    """[i, j]: whether the logits of sub-pixel i have a nonzero gradient with respect to input sub-pixel j."""
    torch.manual_seed(0)
    net = PixelNet(kind, channels, hidden=12, layers=2, output_hidden=48).double()
    x = torch.rand(1, channels, SIZE, SIZE, dtype=torch.float64, requires_grad=True)
    logits = net(x)
    probe = torch.randn(LEVELS, dtype=torch.float64)  # a random combination of the 256 logits
    n = channels * SIZE * SIZE
    support = torch.zeros(n, n, dtype=torch.bool)
    for r in range(SIZE):
        for c in range(SIZE):
            for k in range(channels):
                (grad,) = torch.autograd.grad((logits[0, k, :, r, c] * probe).sum(), x, retain_graph=True)
                support[order(channels, r, c, k)] = grad[0].permute(1, 2, 0).flatten() != 0  # in the same order
    return support


@pytest.mark.parametrize("channels", [1, 3], ids=["grey", "rgb"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_sub_pixel_depends_on_exactly_the_ones_before_it(kind, channels):
    support = jacobian_support(kind, channels)
    n = len(support)
    future = torch.ones(n, n, dtype=torch.bool).tril().logical_not().logical_or(torch.eye(n, dtype=torch.bool))
    assert not (support & future).any(), f"{kind}: logits see sub-pixels at or after their own: " \
        f"{(support & future).nonzero().tolist()[:5]}"
    previous = torch.arange(1, n)
    assert support[previous, previous - 1].all(), f"{kind}: a sub-pixel ignores the one just before it"
    if channels == 3:  # within a pixel: G reads R, B reads R and G, R reads neither
        p = order(3, 2, 1, 0)
        assert support[p + 1, p] and support[p + 2, p] and support[p + 2, p + 1]
    if kind == "diagonal_bilstm":  # the whole past: the pixel above and to the right, beyond a 7x7 kernel's reach
        assert support[order(channels, SIZE - 1, 0, 0), order(channels, 0, SIZE - 1, 0)]


def test_the_masks_by_hand():
    a = causal_mask(1, 1, (3, 3), "A", 1)[0, 0]
    b = causal_mask(1, 1, (3, 3), "B", 1)[0, 0]
    assert a.tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert b.tolist() == [[1, 1, 1], [1, 1, 0], [0, 0, 0]]
    centre_a = causal_mask(3, 3, (1, 1), "A", 3)[:, :, 0, 0]  # out colour (rows) x in colour (columns)
    centre_b = causal_mask(6, 3, (1, 1), "B", 3)[:, :, 0, 0]  # two channels per colour group
    assert centre_a.tolist() == [[0, 0, 0], [1, 0, 0], [1, 1, 0]]
    assert centre_b.tolist() == [[1, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 0], [1, 1, 1], [1, 1, 1]]


@pytest.mark.parametrize("channels", [1, 3], ids=["grey", "rgb"])
@pytest.mark.parametrize("kind", KINDS)
def test_the_row_by_row_form_gives_the_whole_image_logits(kind, channels):
    torch.manual_seed(1)
    net = PixelNet(kind, channels, hidden=6, layers=2, output_hidden=6).double()
    x = torch.rand(2, channels, 5, 6, dtype=torch.float64)
    whole = net(x)
    state = net.initial_state(x[:, :, 0])
    for r in range(5):
        for c in range(6):
            pixel, _ = net.row(x[:, :, r], state, column=c)
            torch.testing.assert_close(pixel[..., 0], whole[:, :, :, r, c])
        logits, state = net.row(x[:, :, r], state)
        torch.testing.assert_close(logits, whole[:, :, :, r])


def test_uniform_logits_are_eight_bits_per_dim_and_a_peaked_softmax_matches_a_hand_computation():
    x = torch.rand(3, 2, 4, 5)
    flat = torch.zeros(3, 2, LEVELS, 4, 5)
    torch.testing.assert_close(M.bits_per_dim(L.categorical_nll(flat, x), x[0].numel()), torch.full((3,), 8.0))
    # two sub-pixels, values 0 and 255: logit log(3) on level 0 everywhere -> p(0) = 3 / 258, p(255) = 1 / 258
    x = torch.tensor([0.0, 1.0]).view(1, 1, 1, 2)
    logits = torch.zeros(1, 1, LEVELS, 1, 2)
    logits[:, :, 0] = math.log(3.0)
    expected = -(math.log(3 / 258) + math.log(1 / 258)) / (2 * math.log(2))
    assert M.bits_per_dim(L.categorical_nll(logits, x), 2).item() == pytest.approx(expected, rel=1e-6)
    # values are read as 8-bit levels: 128/255 + a rounding error is level 128
    logits = torch.zeros(1, 1, LEVELS, 1, 1)
    logits[0, 0, 128] = 5.0
    near = torch.full((1, 1, 1, 1), 128 / 255 + 1e-4)
    assert L.categorical_log_probs(logits, near).item() == pytest.approx(5.0 - math.log(255 + math.exp(5.0)), rel=1e-6)


def test_widths_that_do_not_split_into_colour_groups_are_one_line():
    rgb = DataInfo(channels=3, image_size=8, classes=10, train_size=64)
    with pytest.raises(ConfigError, match="hidden=16 does not split into the image's 3 colour groups; valid: a multiple"):
        build_method("row_lstm", rgb, hidden=16)
    build_method("row_lstm", rgb, hidden=6, output_hidden=6)


# -- runs through the suite's fixtures ----------------------------------------------------------------------
TINY = {kind: {"hidden": 4, "layers": 1, "output_hidden": 8} for kind in KINDS}


def profile(tmp_path) -> dict:
    return {"profile": "test", "results": str(tmp_path / "results"), "reports": str(tmp_path / "reports"),
            "seeds": [0], "threads": 1,
            "defaults": {"epochs": 3, "train_size": 256, "val_size": 64, "image_size": 8, "sample_count": 64},
            "experiments": {"pixel": {"methods": KINDS, "datasets": ["digits"], "method_set": TINY,
                                      "outputs": ["pixel_samples", "pixel_completions"]}}}


@pytest.fixture(scope="module")
def digits8():
    return prepare("digits", Path("unused"), 8)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    cfg = profile(tmp_path_factory.mktemp("pixel"))
    for kind in KINDS:
        run_cell(cfg, cell_specs(cfg, "pixel", kind, "digits", [0]), device=torch.device("cpu"))
    return cfg


def run_path(cfg: dict, label: str):
    return Layout.of(cfg).run(RunKey("pixel", label, "digits", 0))


@pytest.mark.parametrize("kind", KINDS)
def test_each_method_learns_and_reports_its_exact_nll(runs, kind):
    log = read_jsonl(run_path(runs, kind) / paths.LOG)
    assert log[-1]["train_loss"] < log[0]["train_loss"]
    metrics = read_json(run_path(runs, kind) / paths.METRICS)
    assert math.isfinite(metrics["nll_bpd"]) and metrics["nll_bpd"] > 0
    assert (run_path(runs, kind) / paths.SAMPLES).is_file()
    blob = torch.load(run_path(runs, kind) / paths.COMPLETIONS, weights_only=True)
    images, completions, half = blob["images"], blob["completions"], int(blob["first_row"])
    assert half == 4 and completions.shape == images.shape == (8, 1, 8, 8)
    torch.testing.assert_close(completions[:, :, :half], (images[:, :, :half] * 255).round() / 255)
    assert torch.equal(completions, (completions * 255).round() / 255)  # drawn values are 8-bit levels


def comparable(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if isinstance(v, float) and "seconds" not in k}


@pytest.mark.parametrize("kind", KINDS)
def test_a_killed_run_resumes_bit_identical(runs, kind, digits8, tmp_path):
    (spec,) = cell_specs(runs, "pixel", kind, "digits", [0])
    with pytest.raises(KeyboardInterrupt):
        train_run(spec, tmp_path / "cut", digits8, device=torch.device("cpu"), progress=False, stop_after_steps=6)
    train_run(spec, tmp_path / "cut", digits8, device=torch.device("cpu"), progress=False)
    resumed, whole = evaluate_run(tmp_path / "cut"), read_json(run_path(runs, kind) / paths.METRICS)
    assert comparable(resumed) == comparable(whole)
    assert torch.equal(torch.load(tmp_path / "cut" / paths.COMPLETIONS, weights_only=True)["completions"],
                       torch.load(run_path(runs, kind) / paths.COMPLETIONS, weights_only=True)["completions"])


def test_the_figures_show_every_architecture(runs):
    ctx = OutputContext(runs, "pixel")
    for name in ("pixel_samples", "pixel_completions"):
        result = FIGURES.get(name)(ctx)
        assert list(dict.fromkeys(result.data["label"])) == KINDS, name
        assert all(f.is_file() for f in save_figure(result, Layout.of(runs), name))
