"""Super-resolution from simulated fibre-bundle images: the simulation (a constant image comes back constant, cells
average, deterministic), the global contrast factor against hand-computed values, the SR loss and metrics, and
FSRCNN / EDSR / SRGAN / the interpolation baseline as runs on the COIL-20 stand-in (32x32, tiny networks): each
trains, a run killed mid-epoch resumes to bit-identical metrics and logs, the table and the figure build, and bad
values end in one line."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import yaml

from gonbench import metrics as M
from gonbench import paths
from gonbench.aggregate import build_table
from gonbench.cell import cell_specs, run_cell
from gonbench.cli import main
from gonbench.data import load_prepared, resolve_data_root
from gonbench.data.fibres import HR, LR_CUBIC, LR_LINEAR, FibreBundle, default_bundle, fibre_pairs, hexagonal_fibres
from gonbench.errors import ConfigError
from gonbench.evaluate import evaluate_run
from gonbench.figures import save_figure
from gonbench.io import read_json, read_jsonl
from gonbench.losses import l1_ssim_loss
from gonbench.methods import DataInfo, build_method
from gonbench.outputs import FIGURES, TABLES, OutputContext, collect_runs
from gonbench.paths import Layout, RunKey
from gonbench.runs import select_subsets
from gonbench.train import train_run

# -- simulation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["linear", "cubic"])
def test_a_constant_image_comes_back_constant_without_noise(kind):
    bundle = default_bundle(48)
    images = np.full((3, 48, 48), 0.37)
    out = bundle.simulate(images, 0.0, np.random.default_rng(0), kind)
    inside = bundle.triangulation.find_simplex(bundle.pixels) >= 0
    assert not inside.all()  # some corner pixels lie outside the hull: they take their nearest fibre's value
    assert np.abs(out.reshape(3, -1)[:, inside] - 0.37).max() < 1e-6
    assert np.abs(out - 0.37).max() < 1e-6


def test_a_constant_image_comes_back_constant_up_to_the_noise():
    bundle = default_bundle(48)
    out = bundle.simulate(np.full((4, 48, 48), 0.5), 0.02, np.random.default_rng(1))
    assert abs(out.mean() - 0.5) < 0.002  # noise of mean 0 over 4 x ~400 fibres
    assert 0.005 < out.std() < 0.02  # interpolation averages neighbouring fibres' noise: below its std of 0.02
    assert np.abs(out - 0.5).max() < 0.12  # six standard deviations


def test_each_fibre_collects_the_mean_of_its_voronoi_cell():
    fibres = np.array([[0.0, 0.0], [0.0, 3.0], [3.0, 0.0], [3.0, 3.0], [1.4, 1.6]])
    bundle = FibreBundle(4, fibres)
    image = np.arange(16, dtype=np.float64).reshape(1, 16)
    nearest = np.argmin(((bundle.pixels[:, None] - fibres[None]) ** 2).sum(-1), 1)  # brute-force Voronoi cells
    expected = [image[0, nearest == k].mean() for k in range(5)]
    np.testing.assert_allclose(bundle.signals(image)[0], expected)
    # at a fibre's own position linear interpolation returns its signal exactly
    at_fibre = bundle.interpolate(bundle.signals(image)).reshape(4, 4)
    assert at_fibre[0, 3] == pytest.approx(expected[1]) and at_fibre[3, 0] == pytest.approx(expected[2])


def test_the_simulation_is_deterministic_and_covers_the_image():
    a, b = default_bundle(32), default_bundle(32)
    np.testing.assert_array_equal(a.fibres, b.fibres)
    fibres = hexagonal_fibres(32, 32 / 24, 0.2, np.random.default_rng(0))
    assert fibres[:, 0].min() < 0 and fibres[:, 0].max() > 31  # laid one spacing past every side
    hr = torch.randint(0, 256, (5, 1, 32, 32), dtype=torch.uint8)
    first, second = fibre_pairs(hr, a, 0.02, 3), fibre_pairs(hr, a, 0.02, 3)
    assert torch.equal(first, second) and torch.equal(first[:, HR:HR + 1], hr)
    assert not torch.equal(first, fibre_pairs(hr, a, 0.02, 4))  # the noise follows the seed


# -- metrics and loss ---------------------------------------------------------------------------------
W = [(-0.406385 * i / 9 + 0.334573) * i / 9 + 0.0877526 for i in (1, 2)]


def test_gcf_of_a_2x2_image_by_hand():
    # L = 100 (x^2.2)^0.5 = 100 x^1.1: [[0, 100], [100, 100]]. Local contrasts: corner (0,0) has neighbours 100,
    # 100 -> 100; (0,1): |100-0|, |100-100| -> 50; (1,0): 50; (1,1): 0. Mean 50; one resolution (the next is 1x1).
    x = torch.tensor([[[[0.0, 1.0], [1.0, 1.0]]]])
    assert W[0] == pytest.approx(0.1199103, abs=1e-7)
    assert float(M.gcf(x)[0]) == pytest.approx(W[0] * 50, rel=1e-9)


def test_gcf_of_a_4x4_step_edge_by_hand():
    # Left half 0, right half 1: L = 0 | 100. Resolution 1: columns 1 and 2 touch the edge; their top and bottom
    # pixels have 3 neighbours (100 / 3), the middle ones 4 (100 / 4); columns 0 and 3 have 0. Mean over 16
    # pixels: 2 (2 * 100/3 + 2 * 25) / 16 = 175 / 12. Resolution 2 (2x2 means of linear luminance): [[0, 1],
    # [0, 1]], every pixel with neighbours 100 and 0 -> 50.
    x = torch.zeros(1, 1, 4, 4)
    x[..., 2:] = 1.0
    assert float(M.gcf(x)[0]) == pytest.approx(W[0] * 175 / 12 + W[1] * 50, rel=1e-9)
    assert float(M.gcf(torch.full((1, 1, 8, 8), 0.3))[0]) == 0.0  # a flat image has no contrast


def test_gcf_weights_follow_the_papers_fit_and_the_composite_rewards_matching_contrast():
    assert M.gcf_weight(9) == pytest.approx(-0.406385 + 0.334573 + 0.0877526)
    s = torch.tensor([0.8, 0.8])
    composite = M.sr_composite(s, torch.tensor([5.0, 20.0]), torch.tensor([10.0, 10.0]))
    assert composite.tolist() == pytest.approx([0.65, 0.65])  # half or double the contrast: ratio 0.5 either way
    assert float(M.sr_composite(s[:1], torch.tensor([10.0]), torch.tensor([10.0]))[0]) == pytest.approx(0.9)


def test_the_loss_is_l1_plus_one_minus_the_suites_ssim_and_differentiable():
    torch.manual_seed(0)
    x = torch.rand(2, 1, 24, 24, dtype=torch.float64)
    x_hat = (x + 0.1 * torch.randn_like(x)).clamp(0, 1).requires_grad_()
    out = l1_ssim_loss(x_hat, x, 0.5)
    assert float(out["ssim"]) == pytest.approx(M.ssim(x_hat.detach(), x), rel=1e-12)
    assert float(out["loss"].detach()) == pytest.approx(float((x_hat - x).detach().abs().mean()) + 0.5 * (1 - M.ssim(x_hat.detach(), x)))
    out["loss"].backward()
    assert torch.isfinite(x_hat.grad).all() and x_hat.grad.abs().sum() > 0
    assert float(l1_ssim_loss(x, x)["loss"]) == pytest.approx(0.0, abs=1e-12)
    assert M.ssim_images(x_hat.detach(), x).mean().item() == pytest.approx(M.ssim(x_hat.detach(), x), rel=1e-12)


# -- runs ---------------------------------------------------------------------------------------------
LABELS = ["sr_interpolation", "fsrcnn", "edsr", "srgan"]
TINY = {
    "sr_interpolation": {"epochs": 1},
    "fsrcnn": {"d": 8, "s": 4, "m": 1, "patch_size": 16},
    "edsr": {"width": 8, "blocks": 1, "patch_size": 16},
    "srgan": {"width": 8, "blocks": 1, "patch_size": 16, "d_widths": [4, 8]},
}


def profile(tmp_path) -> dict:
    return {"profile": "test", "results": str(tmp_path / "results"), "reports": str(tmp_path / "reports"),
            "seeds": [0], "threads": 1,
            "defaults": {"epochs": 3, "train_size": 64, "val_size": 32, "batch_size": 16, "image_size": 32,
                         "lr": 1e-3},
            "experiments": {"superres": {"methods": LABELS, "datasets": ["coil20_fibres"], "method_set": TINY,
                                         "outputs": ["superres", "superres_examples"]}}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_root):
    tmp = tmp_path_factory.mktemp("superres")
    cfg = profile(tmp)
    for label in LABELS:
        run_cell(cfg, cell_specs(cfg, "superres", label, "coil20_fibres", [0]), device=torch.device("cpu"))
    return cfg


@pytest.fixture(scope="module")
def splits(runs):
    return load_prepared("coil20_fibres", resolve_data_root(None), 32, Layout.of(runs).data_cache("coil20_fibres", 32))


def run_path(cfg: dict, label: str):
    return Layout.of(cfg).run(RunKey("superres", label, "coil20_fibres", 0))


def test_the_prepared_pairs_hold_out_whole_objects(splits):
    assert splits.train.shape[1:] == (3, 32, 32) and len(splits.train) == 1152 and len(splits.val) == 288
    assert set(splits.val_labels.tolist()) == {4, 9, 14, 19}
    assert not set(splits.val_labels.tolist()) & set(splits.train_labels.tolist())
    hr, lr = splits.val[:, HR].float(), splits.val[:, LR_LINEAR].float()
    assert 0 < (hr - lr).abs().mean() < 30 and (splits.val[:, LR_CUBIC].float() - lr).abs().mean() > 0


def test_every_method_reports_the_sr_metrics_and_the_baseline_matches_the_data(runs, splits):
    for label in LABELS:
        metrics = read_json(run_path(runs, label) / paths.METRICS)
        assert {"ssim", "psnr", "gcf", "gcf_ratio", "composite"} <= set(metrics), label
        assert 0 < metrics["ssim"] < 1 and math.isfinite(metrics["psnr"]) and metrics["gcf"] > 0
    base = read_json(run_path(runs, "sr_interpolation") / paths.METRICS)
    val = select_subsets(splits, read_json(run_path(runs, "sr_interpolation") / paths.CONFIG)).val.float() / 255
    assert base["ssim"] == pytest.approx(M.ssim(val[:, LR_CUBIC:LR_CUBIC + 1], val[:, HR:HR + 1]), rel=1e-9)
    assert read_jsonl(run_path(runs, "sr_interpolation") / paths.LOG)[0]["train_loss"] == 0.0


@pytest.mark.parametrize("label", ["fsrcnn", "edsr", "srgan"])
def test_each_network_starts_at_its_input_and_its_loss_falls(runs, label):
    log = read_jsonl(run_path(runs, label) / paths.LOG)
    assert log[-1]["train_loss"] < log[0]["train_loss"], log
    model = build_method(label, DataInfo(3, 32, 20, 64), **TINY[label])
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(model.estimate(x), x[:, LR_LINEAR:LR_LINEAR + 1])  # residual output zero-initialised


def comparable(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if isinstance(v, float) and "seconds" not in k}


@pytest.mark.parametrize("label", ["fsrcnn", "edsr", "srgan", "sr_interpolation"])
def test_a_killed_run_resumes_bit_identical(runs, label, splits, tmp_path):
    (spec,) = cell_specs(runs, "superres", label, "coil20_fibres", [0])
    steps = 2 if label == "sr_interpolation" else 6  # 4 steps per epoch: killed inside the second (first) epoch
    with pytest.raises(KeyboardInterrupt):
        train_run(spec, tmp_path / "cut", splits, device=torch.device("cpu"), progress=False, stop_after_steps=steps)
    train_run(spec, tmp_path / "cut", splits, device=torch.device("cpu"), progress=False)
    resumed, whole = evaluate_run(tmp_path / "cut"), read_json(run_path(runs, label) / paths.METRICS)
    assert comparable(resumed) == comparable(whole)
    strip = lambda log: [{k: v for k, v in r.items() if "seconds" not in k} for r in log]  # noqa: E731
    assert strip(read_jsonl(tmp_path / "cut" / paths.LOG)) == strip(read_jsonl(run_path(runs, label) / paths.LOG))


def test_the_table_has_every_row_and_the_figure_every_column(runs):
    frame, caption = build_table(TABLES.get("superres"), collect_runs(runs, ["superres"]), runs, "superres")
    assert list(dict.fromkeys(frame["method"])) == LABELS and "COIL-20" in caption and "composite" in caption
    result = FIGURES.get("superres_examples")(OutputContext(runs, "superres"))
    assert list(dict.fromkeys(result.data["label"])) == LABELS and "Stand-in data: COIL-20" in result.caption
    assert all(f.is_file() for f in save_figure(result, Layout.of(runs), "superres_examples"))


BAD = [  # (method, --set value, what the one line must say)
    ("fsrcnn", "patch_size=64", "patch_size=64 is larger than the 32px images"),
    ("edsr", "blocks=0", "blocks=0 is out of range"),
    ("srgan", "d_widths=[]", "d_widths=[]: give the discriminator at least one width"),
    ("srgan", "adversarial_weight=-1", "adversarial_weight=-1.0 is out of range"),
    ("sr_interpolation", "interpolation=bicubic", "interpolation='bicubic' is not allowed; valid choices: cubic, linear"),
    ("edsr", "ssim_weight=-0.5", "ssim_weight=-0.5 is out of range"),
]


@pytest.mark.parametrize("method,value,names", BAD, ids=[f"{m}-{v}" for m, v, _ in BAD])
def test_a_bad_value_is_one_line_and_writes_nothing(tmp_path, capsys, method, value, names):
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(profile(tmp_path)))
    out = tmp_path / "run"
    rc = main(["train", "--config", str(path), "--experiment", "superres", "--method", method, "--dataset",
               "coil20_fibres", "--seed", "0", "--no-progress", "--out", str(out), "--set", value])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    text = "\n".join(lines)
    assert rc != 0 and "Traceback" not in text and 1 <= len(lines) <= 2 and names in text, text
    assert not out.exists()


def test_a_dataset_without_lr_hr_pairs_is_refused_in_one_line():
    with pytest.raises(ConfigError, match="valid datasets: coil20_fibres"):
        build_method("edsr", DataInfo(1, 32, 10, 64))
