"""DRAW (Gregor et al. 2015): the Gaussian filterbank against a hand computation, attention that reads the
identity, the KL summed over glimpses, shapes and channels, gradients to every parameter in float64, a killed
run that resumes bit-identical, bad values as one line, a short real-data training and the figures."""
from __future__ import annotations

import math

import pytest
import torch
import yaml

from gonbench.cli import main
from gonbench.config import resolve_spec
from gonbench.evaluate import evaluate_run
from gonbench.layers.attention import (filterbank, filterbanks, read_glimpse, window_extent, window_from_params,
                                       write_patch)
from gonbench.methods import DataInfo, build_method, list_methods
from gonbench.train import train_run

from .conftest import tiny_profile

TINY = dict(time_steps=3, lstm_hidden=16, nz=4, read_n=2, write_n=3)
INFO = DataInfo(channels=1, image_size=8, classes=10, train_size=16)
VARIANTS = ["draw", "draw_no_attention"]


def tiny(name: str, info: DataInfo = INFO, **cfg):
    torch.manual_seed(0)
    return build_method(name, info, **{**TINY, **cfg})


def images(n: int, c: int = 1, size: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, c, size, size, generator=torch.Generator().manual_seed(seed))


def test_both_variants_are_registered_and_differ_only_in_attention():
    assert {"draw", "draw_no_attention"} <= set(list_methods("draw*"))
    a, b = tiny("draw").cfg, tiny("draw_no_attention").cfg
    assert a.attention and not b.attention
    shared = lambda cfg: {k: v for k, v in vars(cfg).items() if k != "attention"}  # noqa: E731
    assert shared(a) == shared(b)


# -- the filterbank (Eqs. 19-26) by hand ------------------------------------------------------------
# A = B = 3, N = 3. Raw parameters (g~X, g~Y, log sigma^2, log delta~, log gamma) = (0, 0.25, 0, 0, log 2):
#   gX = (3 + 1) / 2 (0 + 1) = 2,  gY = (3 + 1) / 2 (0.25 + 1) = 2.5
#   delta = (max(3, 3) - 1) / (3 - 1) e^0 = 1,  sigma^2 = e^0 = 1,  gamma = 2
#   mu_X = gX + (i - 3/2 - 1/2) delta = (1, 2, 3),  mu_Y = (1.5, 2.5, 3.5)   for i = 1, 2, 3
#   F[i, a] = exp(-(a - mu_i)^2 / 2) / Z_i over pixels a = 1, 2, 3
E = math.exp
FX_HAND = [[1, E(-0.5), E(-2)], [E(-0.5), 1, E(-0.5)], [E(-2), E(-0.5), 1]]
FY_HAND = [[E(-0.125), E(-0.125), E(-1.125)], [E(-1.125), E(-0.125), E(-0.125)],
           [E(-3.125), E(-1.125), E(-0.125)]]


def _normalised(rows):
    return torch.tensor([[v / sum(r) for v in r] for r in rows], dtype=torch.float64)


def hand_window():
    raw = torch.tensor([[0.0, 0.25, 0.0, 0.0, math.log(2.0)]], dtype=torch.float64)
    return window_from_params(raw, height=3, width=3, n=3)


def test_window_parameters_follow_eqs_21_to_24_by_hand():
    w = hand_window()
    assert [float(v) for v in (w.gx, w.gy, w.delta, w.variance, w.gamma)] == pytest.approx([2.0, 2.5, 1.0, 1.0, 2.0])
    # the write window's extent: centre -+ (N - 1) delta / 2 = (1, 1.5) .. (3, 3.5), 1-based -> array indices
    assert window_extent(w, 3)[0].tolist() == pytest.approx([0.0, 0.5, 2.0, 2.5])


def test_filterbank_matches_the_hand_computed_3x3_case():
    fy, fx = filterbanks(hand_window(), height=3, width=3, n=3)
    assert torch.allclose(fx[0], _normalised(FX_HAND), atol=1e-12)
    assert torch.allclose(fy[0], _normalised(FY_HAND), atol=1e-12)
    w = hand_window()  # the per-axis path (non-square images) gives the same rows
    assert torch.allclose(filterbank(w.gx, w.delta, w.variance, 3, 3), fx)
    assert torch.allclose(filterbank(w.gy, w.delta, w.variance, 3, 3), fy)
    # the first rows written out: (1, e^-1/2, e^-2) / 1.741866 and (e^-1/8, e^-1/8, e^-9/8) / 2.089646
    assert fx[0, 0].tolist() == pytest.approx([0.574097, 0.348207, 0.077696], abs=1e-6)
    assert fy[0, 0].tolist() == pytest.approx([0.422319, 0.422319, 0.155362], abs=1e-6)


def test_read_and_write_of_known_3x3_images_by_hand():
    w = hand_window()
    fy, fx = filterbanks(w, height=3, width=3, n=3)
    FX, FY = _normalised(FX_HAND), _normalised(FY_HAND)
    ones = torch.ones(1, 1, 3, 3, dtype=torch.float64)  # rows of F sum to 1 -> every glimpse value is gamma
    assert torch.allclose(read_glimpse(ones, fy, fx, w.gamma), torch.full((1, 1, 3, 3), 2.0, dtype=torch.float64))
    dot = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    dot[0, 0, 1, 2] = 1.0  # one bright pixel at row b = 2, column a = 3 -> glimpse[j, i] = gamma F_Y[j, 2] F_X[i, 3]
    assert torch.allclose(read_glimpse(dot, fy, fx, w.gamma)[0, 0], 2.0 * torch.outer(FY[:, 1], FX[:, 2]))
    patch = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    patch[0, 0, 0, 1] = 4.0  # w[j=1, i=2] = 4 -> canvas[b, a] = (4 / gamma) F_Y[1, b] F_X[2, a]
    assert torch.allclose(write_patch(patch, fy, fx, w.gamma)[0, 0], 2.0 * torch.outer(FY[0], FX[1]))


def test_attention_reads_and_writes_the_identity_with_unit_stride_and_narrow_filters():
    size = 5  # N = A: g~ = 0 centres the grid, delta~ = 1 gives stride (5 - 1) / (5 - 1) = 1, mu = 1..5 exactly
    raw = torch.tensor([[0.0, 0.0, math.log(1e-3), 0.0, 0.0]], dtype=torch.float64)
    w = window_from_params(raw, height=size, width=size, n=size)
    fy, fx = filterbanks(w, height=size, width=size, n=size)
    x = images(1, size=size).double()
    assert torch.allclose(read_glimpse(x, fy, fx, w.gamma), x, atol=1e-12)
    assert torch.allclose(write_patch(x, fy, fx, w.gamma), x, atol=1e-12)
    wide = window_from_params(raw + torch.tensor([[0.0, 0.0, math.log(1e3), 0.0, 0.0]], dtype=torch.float64),
                              height=size, width=size, n=size)  # sigma^2 = 1: a blur, no longer the identity
    blurred = read_glimpse(x, *filterbanks(wide, height=size, width=size, n=size), wide.gamma)
    assert not torch.allclose(blurred, x, atol=1e-3)


def test_colour_images_use_the_same_filters_on_every_channel():
    raw = torch.randn(2, 5, generator=torch.Generator().manual_seed(1))
    w = window_from_params(raw, height=8, width=8, n=3)
    fy, fx = filterbanks(w, height=8, width=8, n=3)
    x = images(2, c=3)
    glimpse = read_glimpse(x, fy, fx, w.gamma)
    assert glimpse.shape == (2, 3, 3, 3)
    for c in range(3):
        assert torch.allclose(glimpse[:, c:c + 1], read_glimpse(x[:, c:c + 1], fy, fx, w.gamma))


# -- the network and the bound ----------------------------------------------------------------------
@pytest.mark.parametrize("name", VARIANTS)
def test_shapes_of_inference_generation_and_samples(name):
    info = DataInfo(channels=3, image_size=8, classes=10, train_size=16)
    model = tiny(name, info).eval()
    x = images(5, c=3)
    out = model.net.infer(x, model.randn_like, record=True)
    assert out.canvas.shape == x.shape and out.mu.shape == out.log_sigma.shape == (5, 3, 4)
    assert out.canvases.shape == (5, 3, 3, 8, 8)
    assert (out.extents is None) == (name == "draw_no_attention")
    assert out.extents is None or out.extents.shape == (5, 3, 4)
    assert torch.allclose(out.canvases[:, -1], torch.sigmoid(out.canvas))
    with torch.no_grad():
        samples = model.sample(6)
    assert samples.shape == (6, 3, 8, 8) and 0 <= float(samples.min()) and float(samples.max()) <= 1
    z = model.prior_latents(2, torch.Generator().manual_seed(0))
    trace = model.canvas_trace(z=z)
    assert torch.allclose(trace.canvases[:, -1], torch.sigmoid(model.net.generate(z).canvas))
    with torch.no_grad():
        assert torch.allclose(model.canvas_trace(x=x).canvases[:, -1], model.reconstruct(x))


@pytest.mark.parametrize("likelihood", ["discretized_logistic", "bernoulli"])
def test_neg_elbo_is_the_nll_of_sigmoid_c_T_plus_the_kl_summed_over_glimpses(likelihood):
    from torch.distributions import Normal, kl_divergence

    from gonbench import likelihoods as L

    model = tiny("draw", likelihood=likelihood, time_steps=4)
    x = images(3)
    torch.manual_seed(5)
    terms = model.neg_elbo(x)
    torch.manual_seed(5)  # the same noise: the same pass
    out = model.net.infer(x, model.randn_like)
    per_step = [kl_divergence(Normal(out.mu[:, t], out.log_sigma[:, t].exp()), Normal(0.0, 1.0)).sum(1)
                for t in range(4)]
    assert torch.allclose(terms["kl"], torch.stack(per_step).sum(0), atol=1e-5)
    assert bool((torch.stack(per_step) > 0).all())
    mean = torch.sigmoid(out.canvas)
    expected = L.bernoulli_nll(mean, x) if likelihood == "bernoulli" else \
        L.discretized_logistic_nll(mean, model.log_scale.view(1, -1, 1, 1), x)
    assert torch.allclose(terms["nll"], expected, atol=1e-4)
    assert torch.allclose(terms["neg_elbo"], terms["nll"] + terms["kl"])


@pytest.mark.parametrize("name", VARIANTS)
def test_float64_gradients_reach_every_parameter_and_match_finite_differences(name):
    model = tiny(name).double()
    x = images(4).double()
    noise = torch.randn(4, TINY["nz"], generator=torch.Generator().manual_seed(2), dtype=torch.float64)

    def loss() -> torch.Tensor:  # fixed noise: a deterministic function of the parameters
        out = model.net.infer(x, lambda mu: noise)
        nll = -model.log_probs(torch.sigmoid(out.canvas), x).sum()
        return nll + model.step_kls(out).sum()

    model.zero_grad()
    loss().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and bool(torch.isfinite(p.grad).all()), pname
        assert float(p.grad.abs().max()) > 0, f"{pname} gets no gradient"
    direction = {n: torch.randn_like(p) for n, p in model.named_parameters()}
    analytic = sum(float((p.grad * direction[n]).sum()) for n, p in model.named_parameters())
    eps = 1e-6
    with torch.no_grad():
        values = []
        for sign in (1, -1):
            for n, p in model.named_parameters():
                p.add_(sign * eps * direction[n])
            values.append(float(loss()))
            for n, p in model.named_parameters():
                p.sub_(sign * eps * direction[n])
    assert (values[0] - values[1]) / (2 * eps) == pytest.approx(analytic, rel=1e-5)


def test_gradient_norm_is_bounded_before_the_step():
    model = tiny("draw", grad_clip=1e-3)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    model.train_step({"x": images(4)}, {"main": opt})
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert float((after - before).norm()) == pytest.approx(1e-3, rel=1e-4)  # one SGD step of the clipped gradient


# -- runs ---------------------------------------------------------------------------------------------
RUN = dict(TINY, epochs=3, train_size=256, val_size=128, image_size=32)


@pytest.mark.parametrize("name", VARIANTS)
def test_interrupted_run_resumes_to_identical_metrics(tmp_path, digits_splits, name):
    spec = resolve_spec(tiny_profile(tmp_path), experiment="table1", method=name, dataset="digits", seed=0,
                        overrides=RUN)
    train_run(spec, tmp_path / "whole", digits_splits, device=torch.device("cpu"), progress=False)
    whole = evaluate_run(tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):  # 4 batches of 64 per epoch: killed in the middle of epoch 2
        train_run(spec, tmp_path / "cut", digits_splits, device=torch.device("cpu"), progress=False, stop_after_steps=6)
    train_run(spec, tmp_path / "cut", digits_splits, device=torch.device("cpu"), progress=False)
    resumed = evaluate_run(tmp_path / "cut")
    keys = ("elbo_bpd", "recon_sse", "kl", "psnr", "ssim", "elbo_bpd_bn_eval")
    assert {k: resumed[k] for k in keys} == {k: whole[k] for k in keys}
    assert (tmp_path / "whole" / "samples.png").read_bytes() == (tmp_path / "cut" / "samples.png").read_bytes()


@pytest.mark.parametrize("value,names", [
    ("read_n=1", "read_n=1 is out of range"), ("write_n=0", "write_n=0 is out of range"),
    ("time_steps=0", "time_steps=0 is out of range"), ("lstm_hidden=-4", "lstm_hidden=-4 is out of range"),
    ("likelihood=gaussian", "likelihood='gaussian' is not allowed; valid choices: discretized_logistic, bernoulli"),
    ("attention=maybe", "attention='maybe' has the wrong type"), ("grad_clip=-1", "grad_clip=-1.0 is out of range"),
])
def test_a_bad_draw_value_is_one_line_and_writes_nothing(tmp_path, capsys, value, names):
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(tiny_profile(tmp_path)))
    out = tmp_path / "run"
    rc = main(["train", "--config", str(path), "--experiment", "table1", "--method", "draw", "--dataset", "digits",
               "--seed", "0", "--no-progress", "--out", str(out), "--set", value])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert rc != 0 and 1 <= len(lines) <= 2 and "Traceback" not in "\n".join(lines), lines
    assert names in "\n".join(lines)
    assert not out.exists()


@pytest.mark.parametrize("name", VARIANTS)
def test_a_few_steps_on_digits_lower_the_validation_elbo(digits_splits, name):
    from gonbench.batches import to_unit

    model = tiny(name, DataInfo(channels=1, image_size=32, classes=10, train_size=256), lr=3e-3,
                 time_steps=4, lstm_hidden=32, nz=8)
    train, val = to_unit(digits_splits.train[:256]), to_unit(digits_splits.val[:128])

    def val_bpd() -> float:
        model.eval()
        torch.manual_seed(0)
        value = float(model.validation_losses({"x": val})["elbo_bpd"].mean())
        model.train()
        return value

    start, opt = val_bpd(), model.configure_optimizers()
    for step in range(30):
        model.train_step({"x": train[(step % 8) * 32:(step % 8 + 1) * 32]}, opt)
    end = val_bpd()
    assert end < start - 0.5, (start, end)  # from ~7 bits/dim at initialisation


def test_figures_draw_every_draw_label_with_the_methods_own_windows(tmp_path):
    from gonbench.cell import cell_specs, run_cell
    from gonbench.reports import build_output

    cfg = tiny_profile(tmp_path, methods=["draw", "draw_no_attention"], outputs=["draw_samples", "draw_canvases"])
    cfg["defaults"] = {"epochs": 1, "train_size": 128, "val_size": 64, **TINY}
    for name in VARIANTS:
        run_cell(cfg, cell_specs(cfg, "table1", name, "digits", [0]), device=torch.device("cpu"))
    import pandas as pd

    written = {p.name for name in ("draw_samples", "draw_canvases") for p in build_output(cfg, name)}
    assert {"draw_samples.png", "draw_canvases.png", "draw_canvases.csv"} <= written
    canvases = pd.read_csv(tmp_path / "reports" / "test" / "figures" / "draw_canvases.csv")
    assert set(canvases["method_label"]) == set(VARIANTS) and sorted(set(canvases["step"])) == [1, 2, 3]
    attention = canvases[canvases["method_label"] == "draw"]
    assert attention[["x0", "y0", "x1", "y1"]].notna().all().all()
    assert canvases[canvases["method_label"] == "draw_no_attention"]["x0"].isna().all()
    caption = (tmp_path / "reports" / "test" / "figures" / "draw_canvases.caption.md").read_text()
    assert "profile `test`" in caption and "T=3" in caption and "write 3x3" in caption
