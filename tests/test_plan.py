"""`gonbench plan`: steps counted from the profile, timings calibrated once per device and cached."""
from __future__ import annotations

import re

import pytest
import torch
import yaml

from gonbench import plan as P
from gonbench.config import load_profile

from .test_workflow import REPO


@pytest.fixture
def cfg(tmp_path):
    cfg = yaml.safe_load((REPO / "tests" / "profiles" / "two_experiments.yaml").read_text())
    cfg.update(results=str(tmp_path / "results"), defaults={"epochs": 3, "train_size": 256, "val_size": 64})
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return load_profile(path=path)


def test_the_plan_counts_jobs_runs_and_steps_per_experiment(cfg):
    text = P.plan(cfg, torch.device("cpu"), [1, 2])
    rows = {line.split()[0]: line.split() for line in text.splitlines()[2:4]}
    assert rows["first"][1:4] == ["2", "2", "24"]  # 2 cells, 2 runs, 3 epochs x 256 // 64 steps each
    assert rows["second"][1:4] == ["1", "1", "12"]
    total = next(line for line in text.splitlines() if line.startswith("total (--resources gpu=1)"))
    hours = float(total.split()[-2])
    two = next(line for line in text.splitlines() if "on 2 device(s)" in line)
    assert float(re.search(r">= ([\d.]+) h", two).group(1)) >= hours / 2 - 0.005


def test_calibration_is_cached_per_device(cfg, monkeypatch):
    P.plan(cfg, torch.device("cpu"), [1])

    def no_calibration(*args):
        raise AssertionError("calibrated again although the cache holds this device")

    monkeypatch.setattr(P, "calibrate_one", no_calibration)
    assert "total" in P.plan(cfg, torch.device("cpu"), [1])
    with pytest.raises(AssertionError, match="calibrated again"):
        P.plan(cfg, torch.device("cpu"), [1], refresh=True)


def test_runs_that_read_pretrained_networks_are_calibrated_without_their_files(tmp_path):
    """A student grown from a teacher, or a method matching an autoencoder's codes, costs the same per step
    with untrained stand-ins, so the plan needs no pretrained file (none exists in tmp_path)."""
    cfg = {"profile": "planned", "results": str(tmp_path / "results"), "seeds": [0],
           "defaults": {"epochs": 1, "train_size": 128, "val_size": 64},
           "experiments": {"grown": {"variants": {
               "wider": {"method": "gon_net2net", "set": {"init": "wider", "ngf": 16}},
               "student": {"method": "net2net", "set": {"init": "wider", "widths": [16, 32], "feature_dim": 64,
                                                        "convs_per_block": 1, "image_size": 28}},
               "codes": {"method": "gmmn_ae", "set": {"autoencoder": "mnist_autoencoder"}}},
               "datasets": ["digits"]}}}
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(cfg))
    text = P.plan(load_profile(path=path), torch.device("cpu"), [1])
    assert re.search(r"^grown\s+3\s+3\s+6\b", text, re.M), text
    assert not (tmp_path / "results" / "planned" / "pretrained").exists()


def test_a_slow_configuration_is_extrapolated_from_a_probe_batch_and_the_plan_says_so(cfg, monkeypatch):
    monkeypatch.setattr(P, "SLOW_STEP_SECONDS", 0.0)  # every configuration counts as slow
    text = P.plan(cfg, torch.device("cpu"), [1])
    table, _ = P.calibrate(cfg, torch.device("cpu"))
    assert all(entry["extrapolated_from_batch"] == P.PROBE_BATCH for entry in table.values())
    assert f"{len(table)} of them slower than 0 s per batch and extrapolated from {P.PROBE_BATCH} images" in text
