"""Class-free samples of any sampling method are scored by the run's judge (a classifier pretrained here, one
per dataset): KID, confidence and the Inception Score's form, with hand-checked values; a method that applies
to some datasets only runs on those."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from gonbench import metrics as M
from gonbench.cell import cell_specs
from gonbench.config import expand_runs, validate_profile
from gonbench.data import ImageSplits
from gonbench.errors import ConfigError
from gonbench.evaluate import evaluate_run
from gonbench.io import torch_save
from gonbench.pretrain import PRETRAINED, PretrainConfig, load_pretrained, pretrain
from gonbench.sample_quality import judge_input, unconditional_scores
from gonbench.train import train_run

from .conftest import tiny_profile


def test_inception_score_by_hand():
    assert M.inception_score(torch.tensor([[1.0, 0.0], [0.0, 1.0]])) == pytest.approx(2.0)  # certain, both classes
    assert M.inception_score(torch.tensor([[0.7, 0.3], [0.7, 0.3]])) == pytest.approx(1.0)  # one distribution
    # p = (.9, .1) and (.5, .5): marginal (.7, .3); KL terms by hand
    kl1 = 0.9 * math.log(0.9 / 0.7) + 0.1 * math.log(0.1 / 0.3)
    kl2 = 0.5 * math.log(0.5 / 0.7) + 0.5 * math.log(0.5 / 0.3)
    assert M.inception_score(torch.tensor([[0.9, 0.1], [0.5, 0.5]])) == pytest.approx(math.exp((kl1 + kl2) / 2))


@pytest.fixture(scope="module")
def judge(tmp_path_factory):
    path = tmp_path_factory.mktemp("judge") / "judge.pt"
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8, generator=g)
    splits = ImageSplits(x, torch.arange(64) % 10, x[:32], torch.arange(32) % 10)
    pretrain("fashion_mnist_classifier", PretrainConfig(dataset="fashion_mnist", epochs=1, optimizer="adam", lr=1e-3,
                                                        batch_size=32), splits, path, torch.device("cpu"))
    return load_pretrained(path, "fashion_mnist_classifier")


def test_samples_are_resized_to_the_judge_and_scored_against_real_images(judge):
    g = torch.Generator().manual_seed(1)
    real = torch.rand(40, 1, 32, 32, generator=g)
    assert judge_input(judge, real).shape == (40, 1, 28, 28)
    same = unconditional_scores(judge, real[:20], real[20:], rng=torch.Generator().manual_seed(0))
    apart = unconditional_scores(judge, torch.zeros(20, 1, 32, 32), real[20:], rng=torch.Generator().manual_seed(0))
    assert same["sample_kid"] < apart["sample_kid"] and apart["sample_kid"] > 0
    assert 1.0 <= same["sample_is"] <= 10.0 and 0.1 <= same["sample_confidence"] <= 1.0
    assert same["sample_kid_subset_size"] == 10 and same["sample_count"] == 20


def test_a_judge_exists_for_every_sample_table_dataset_at_its_resolution():
    for name, channels, size in (("mnist_classifier", 1, 28), ("fashion_mnist_classifier", 1, 28),
                                 ("cifar10_classifier", 3, 32)):
        net = PRETRAINED.get(name)
        model = net.build(channels, net.defaults.image_size)
        assert net.defaults.image_size == size and model(torch.rand(2, channels, size, size)).shape == (2, 10)


def test_a_sampling_run_with_a_judge_reports_its_sample_scores_and_step_time(tmp_path, judge, digits_splits):
    judge_file = tmp_path / "results" / "test" / "pretrained" / "fashion_mnist_classifier.pt"
    torch_save(judge_file, {"network": "fashion_mnist_classifier", "config": dataclasses.asdict(PretrainConfig(dataset="fashion_mnist")),
                            "state_dict": judge.state_dict()})
    cfg = tiny_profile(tmp_path, methods=["vae"], outputs=["table2"])
    cfg["defaults"] = {"epochs": 1, "train_size": 128, "val_size": 64, "judge": "fashion_mnist_classifier",
                       "sample_count": 96, "nz": 8, "ngf": 8}
    (spec,) = cell_specs(cfg, "table1", "vae", "digits", [0])
    assert spec["network_files"]["judge"] == str(judge_file)
    train_run(spec, tmp_path / "run", digits_splits, device=torch.device("cpu"), progress=False)
    metrics = evaluate_run(tmp_path / "run")
    assert metrics["sample_count"] == 96 and metrics["sample_kid_subset_size"] == 32
    assert {"sample_kid", "sample_confidence", "sample_is", "sample_seconds", "step_seconds"} <= set(metrics)
    assert 0 < metrics["step_seconds"] < metrics["train_seconds"]
    assert (tmp_path / "run" / "samples.png").is_file()


def test_method_datasets_restricts_a_label_to_some_datasets():
    cfg = {"profile": "t", "seeds": [0], "experiments": {"e": {"methods": ["gon", "ae"], "datasets": ["mnist", "digits"],
                                                                "method_datasets": {"ae": ["digits"]}}}}
    validate_profile(cfg)
    assert [(k.method_label, k.dataset) for k in expand_runs(cfg)] == [("gon", "mnist"), ("gon", "digits"),
                                                                        ("ae", "digits")]
    cfg["experiments"]["e"]["method_datasets"] = {"ae": ["cifar10"]}
    with pytest.raises(ConfigError, match="method_datasets.ae names cifar10, not a dataset of this experiment"):
        validate_profile(cfg)
    cfg["experiments"]["e"]["method_datasets"] = {"vae": ["mnist"]}
    with pytest.raises(ConfigError, match="method_datasets names 'vae', not a method or label of this experiment"):
        validate_profile(cfg)
