"""The shattering measurement, deep classifiers, Net2Net students and widened GONs as runs on real data (the
bundled digits at 28x28, 32x32 for the GONs, tiny networks): a measurement run takes no step and evaluates its
initialisation reproducibly, a killed training run resumes to bit-identical metrics and logs, a grown student
starts at its teacher's accuracy (a widened GON at its teacher's error), the tables and figures draw every label,
and bad values end in one line."""
from __future__ import annotations

import pytest
import torch
import yaml

from gonbench import paths
from gonbench.cell import cell_specs, run_cell
from gonbench.cli import main
from gonbench.evaluate import evaluate_run
from gonbench.figures import save_figure
from gonbench.io import read_json, read_jsonl
from gonbench.outputs import FIGURES, OutputContext
from gonbench.paths import Layout, RunKey
from gonbench.pretrain import PretrainConfig, pretrain
from gonbench.train import train_run

N2N = {"init": "wider", "widths": [16, 32], "feature_dim": 64, "convs_per_block": 1, "teacher": "net2net_teacher"}
EXPERIMENTS = {
    "shattering": {"variants": {"relu_bn": {"method": "shattering", "set": {"arch": "relu_bn"}},
                                "ll_crelu": {"method": "shattering", "set": {"arch": "ll_crelu"}}},
                   "grid": {"depth": [2, 8]}, "datasets": ["digits"],
                   "set": {"epochs": 0, "width": 16, "nets": 8, "points": 64, "max_lag": 16},
                   "outputs": ["shattering", "shattering_gradients", "shattering_depth"]},
    "ll_classifiers": {"variants": {"he_relu": {"method": "deep_classifier", "set": {"arch": "relu"}},
                                    "resnet_bn": {"method": "deep_classifier", "set": {"arch": "resnet_bn"}},
                                    "ll_crelu": {"method": "deep_classifier", "set": {"arch": "ll_crelu"}}},
                       "datasets": ["digits"], "set": {"depth": 4, "width": 16, "bn_protocol": "eval"},
                       "outputs": ["ll_classifiers", "ll_curves"]},
    "net2net": {"variants": {"wider": {"method": "net2net", "set": N2N},
                             "deeper": {"method": "net2net", "set": {**N2N, "init": "deeper", "widths": [8, 16],
                                                                     "feature_dim": 32, "convs_per_block": 2}},
                             "wider_random": {"method": "net2net", "set": {**N2N, "init": "random"}}},
                "datasets": ["digits"], "outputs": ["net2net", "net2net_curves"]},
    "net2net_gon": {"variants": {"wider": {"method": "gon_net2net", "set": {"init": "wider", "ngf": 16, "noise": 0.01}},
                                 "wider_exact": {"method": "gon_net2net", "set": {"init": "wider", "ngf": 16}},
                                 "wide_random": {"method": "gon_net2net", "set": {"init": "random", "ngf": 16,
                                                                                  "epochs": 5}}},
                    "datasets": ["digits"], "set": {"image_size": 32, "teacher": "mnist_gon_teacher"},
                    "outputs": ["net2net_gon", "net2net_gon_curves"]},
}
GON_TEACHER_STEPS = 8  # 2 epochs of 256 images in batches of 64; the runs take 3 epochs (12 steps), from scratch 5
TRAINED = [("ll_classifiers", "he_relu"), ("ll_classifiers", "resnet_bn"), ("ll_classifiers", "ll_crelu"),
           ("net2net", "wider"), ("net2net", "deeper"), ("net2net", "wider_random"), ("net2net_gon", "wider")]


def profile(tmp_path) -> dict:
    return {"profile": "test", "results": str(tmp_path / "results"), "reports": str(tmp_path / "reports"),
            "seeds": [0], "threads": 1,
            "defaults": {"epochs": 3, "train_size": 256, "val_size": 128, "image_size": 28}, "experiments": EXPERIMENTS}


@pytest.fixture(scope="module")
def digits28():
    from pathlib import Path

    from gonbench.data import prepare

    return prepare("digits", Path("unused"), 28)


@pytest.fixture(scope="module")
def digits32():
    from pathlib import Path

    from gonbench.data import prepare

    return prepare("digits", Path("unused"), 32)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, digits28, digits32):
    tmp = tmp_path_factory.mktemp("transfer")
    cfg = profile(tmp)
    pretrain("net2net_teacher", PretrainConfig(image_size=28, epochs=2, batch_size=64, optimizer="adam", lr=1e-3,
                                               train_size=256, test_size=128, seed=4),
             digits28, Layout.of(cfg).pretrained("net2net_teacher"), torch.device("cpu"))
    pretrain("mnist_gon_teacher", PretrainConfig(image_size=32, epochs=2, batch_size=64, optimizer="adam", lr=1e-3,
                                                 train_size=256, test_size=128, seed=5),
             digits32, Layout.of(cfg).pretrained("mnist_gon_teacher"), torch.device("cpu"))
    for experiment, exp in EXPERIMENTS.items():
        for label in OutputContext(cfg, experiment).variants():
            run_cell(cfg, cell_specs(cfg, experiment, label, "digits", [0]), device=torch.device("cpu"))
    return cfg


def run_path(cfg: dict, experiment: str, label: str):
    return Layout.of(cfg).run(RunKey(experiment, label, "digits", 0))


def comparable(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if isinstance(v, float) and "seconds" not in k}


def test_a_measurement_run_takes_no_step_and_reevaluates_identically(runs, digits28):
    path = run_path(runs, "shattering", "ll_crelu-depth8")
    metrics = read_json(path / paths.METRICS)
    assert metrics["epochs"] == 0 and read_jsonl(path / paths.LOG) == []
    assert torch.load(path / paths.CHECKPOINT, weights_only=True)["model"] is None  # rebuilt from the seed, not stored
    assert metrics["grad_corr"] == pytest.approx(1.0)
    (spec,) = cell_specs(runs, "shattering", "relu_bn-depth8", "digits", [0])
    first = read_json(run_path(runs, "shattering", "relu_bn-depth8") / paths.METRICS)
    train_run(spec, run_path(runs, "shattering", "relu_bn-depth8"), digits28, device=torch.device("cpu"), progress=False)
    assert comparable(evaluate_run(run_path(runs, "shattering", "relu_bn-depth8"))) == comparable(first)


@pytest.mark.parametrize("experiment,label", TRAINED, ids=[f"{e}-{m}" for e, m in TRAINED])
def test_a_killed_run_resumes_bit_identical(runs, experiment, label, digits28, digits32, tmp_path):
    (spec,) = cell_specs(runs, experiment, label, "digits", [0])
    data = digits32 if spec["image_size"] == 32 else digits28
    with pytest.raises(KeyboardInterrupt):
        train_run(spec, tmp_path / "cut", data, device=torch.device("cpu"), progress=False, stop_after_steps=6)
    assert torch.load(tmp_path / "cut" / paths.CHECKPOINT, weights_only=False)["epoch"] == 1
    train_run(spec, tmp_path / "cut", data, device=torch.device("cpu"), progress=False)
    resumed, whole = evaluate_run(tmp_path / "cut"), read_json(run_path(runs, experiment, label) / paths.METRICS)
    assert comparable(resumed) == comparable(whole)
    strip = lambda log: [{k: v for k, v in r.items() if "seconds" not in k} for r in log]  # noqa: E731
    assert strip(read_jsonl(tmp_path / "cut" / paths.LOG)) == strip(read_jsonl(run_path(runs, experiment, label) / paths.LOG))


def test_a_grown_student_starts_at_its_teachers_accuracy(runs):
    for label in ("wider", "deeper"):
        m = read_json(run_path(runs, "net2net", label) / paths.METRICS)
        assert m["init_accuracy"] == m["teacher_accuracy"] and m["steps_to_target"] == 0.0
    random = read_json(run_path(runs, "net2net", "wider_random") / paths.METRICS)
    assert random["init_accuracy"] < 0.3


def test_a_widened_gon_starts_at_its_teachers_error_and_counts_its_teachers_steps(runs):
    exact = read_json(run_path(runs, "net2net_gon", "wider_exact") / paths.METRICS)
    assert exact["init_recon_sse"] == pytest.approx(exact["teacher_recon_sse"], rel=1e-5)
    assert exact["steps_to_target"] == 0.0 and exact["teacher_steps"] == GON_TEACHER_STEPS
    noisy = read_json(run_path(runs, "net2net_gon", "wider") / paths.METRICS)
    assert noisy["init_recon_sse"] != exact["init_recon_sse"]
    assert noisy["init_recon_sse"] == pytest.approx(noisy["teacher_recon_sse"], rel=0.05)
    scratch = read_json(run_path(runs, "net2net_gon", "wide_random") / paths.METRICS)
    assert scratch["init_recon_sse"] > 2 * scratch["teacher_recon_sse"]
    assert exact["total_steps"] == noisy["total_steps"] == scratch["total_steps"] == GON_TEACHER_STEPS + 12


def test_the_initial_student_is_rebuilt_as_training_built_it(runs, digits28):
    from gonbench.runs import load_run
    from gonbench.seeding import seed_everything

    run = load_run(run_path(runs, "net2net", "wider_random"))
    rebuilt = run.model.initial(0, {"teacher": None})
    seed_everything(0)
    from gonbench.methods import build_method
    fresh = build_method("net2net", run.model.data, {}, **{k: v for k, v in N2N.items() if k != "init"}, init="random")
    assert all(torch.equal(a, b) for a, b in zip(rebuilt.state_dict().values(), fresh.state_dict().values()))


@pytest.mark.parametrize("name,experiment", [("shattering_gradients", "shattering"), ("shattering_depth", "shattering"),
                                             ("ll_curves", "ll_classifiers"), ("net2net_curves", "net2net"),
                                             ("net2net_gon_curves", "net2net_gon")])
def test_figures_draw_every_label(runs, name, experiment):
    result = FIGURES.get(name)(OutputContext(runs, experiment))
    assert len(result.data) and "Profile `test`" in result.caption
    assert all(f.is_file() for f in save_figure(result, Layout.of(runs), name))


BAD = [  # (experiment, method, --set value, what the one line must say)
    ("shattering", "relu_bn-depth2", "arch=tanh", "'tanh' is not allowed; valid choices: relu, relu_bn, resnet"),
    ("shattering", "relu_bn-depth2", "max_lag=100", "valid: far_lag <= max_lag < points"),
    ("shattering", "relu_bn-depth2", "ll_init=xavier", "'xavier' is not allowed; valid choices: orthogonal, he"),
    ("ll_classifiers", "he_relu", "depth=0", "depth=0 is out of range"),
    ("net2net", "wider", "init=grow", "'grow' is not allowed; valid choices: random, wider, deeper, both"),
    ("net2net", "wider", "convs_per_block=2", "Net2WiderNet keeps the depth"),
    ("net2net", "wider", "noise=-1", "noise=-1.0 is out of range"),
    ("net2net_gon", "wider", "nz=16", "Net2WiderNet widens only the decoder's filters (ngf)"),
    ("net2net_gon", "wider", "ngf=4", "Net2WiderNet widens: layer 0 has 32 units, the student only 16"),
    ("net2net_gon", "wider", "init=deeper", "'deeper' is not allowed; valid choices: random, wider"),
]


@pytest.mark.parametrize("experiment,method,value,names", BAD, ids=[v for _, _, v, _ in BAD])
def test_a_bad_value_is_one_line_and_writes_nothing(runs, tmp_path, capsys, experiment, method, value, names):
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(runs))
    out = tmp_path / "run"
    rc = main(["train", "--config", str(path), "--experiment", experiment, "--method", method, "--dataset", "digits",
               "--seed", "0", "--no-progress", "--out", str(out), "--set", value])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    text = "\n".join(lines)
    assert rc != 0 and "Traceback" not in text and 1 <= len(lines) <= 2 and names in text, text
    assert not out.exists()


def test_epochs_must_be_zero_exactly_for_a_measurement(runs, tmp_path, capsys):
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(runs))
    for experiment, method, value, names in [("shattering", "ll_crelu-depth2", "epochs=2", "set epochs=0, not epochs=2"),
                                             ("ll_classifiers", "he_relu", "epochs=0", "epochs=0 is out of range for")]:
        rc = main(["train", "--config", str(path), "--experiment", experiment, "--method", method, "--dataset", "digits",
                   "--seed", "0", "--no-progress", "--out", str(tmp_path / "run"), "--set", value])
        lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert rc != 0 and len(lines) == 1 and names in lines[0], lines
        assert not (tmp_path / "run").exists()
