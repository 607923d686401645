"""Profiles validate, specs resolve in a documented order, overrides are type-checked, errors name choices."""
from __future__ import annotations

import pytest

from gonbench.config import expand_runs, load_profile, parse_override, resolve_spec, validate_profile
from gonbench.errors import ConfigError

from .conftest import tiny_profile


@pytest.mark.parametrize("profile", ["paper", "quick"])
def test_shipped_profiles_resolve_every_run(profile):
    cfg = load_profile(profile)
    runs = expand_runs(cfg)
    assert runs
    for key in runs:
        spec = resolve_spec(cfg, experiment=key.experiment, method=key.method_label, dataset=key.dataset, seed=key.seed)
        assert spec["config_hash"] and spec["seed"] == key.seed


def test_paper_table1_grid_is_7_methods_5_datasets_3_seeds():
    runs = expand_runs(load_profile("paper"), ["table1"])
    assert len(runs) == 7 * 5 * 3
    assert {r.dataset for r in runs} == {"mnist", "fashion_mnist", "smallnorb", "coil20", "cifar10"}


def test_layers_merge_in_order(tmp_path):
    cfg = tiny_profile(tmp_path, set={"epochs": 5}, method_set={"gon": {"epochs": 6}})
    cfg["datasets"] = {"digits": {"train_size": 100}}
    spec = resolve_spec(cfg, experiment="table1", method="gon", dataset="digits", seed=0, overrides=["nz=8"])
    assert (spec["epochs"], spec["train_size"], spec["nz"], spec["val_size"]) == (6, 100, 8, 128)
    ae = resolve_spec(cfg, experiment="table1", method="ae", dataset="digits", seed=0)
    assert ae["epochs"] == 5


def test_override_types_are_checked(tmp_path):
    cfg = tiny_profile(tmp_path)
    assert resolve_spec(cfg, experiment="table1", method="gon", dataset="digits", seed=0,
                        overrides=["lr=1"])["lr"] == 1.0  # an int where a float is expected is widened
    with pytest.raises(ConfigError, match="nz='big' has the wrong type; expected int"):
        resolve_spec(cfg, experiment="table1", method="gon", dataset="digits", seed=0, overrides=["nz=big"])
    with pytest.raises(ConfigError, match="bn_protocol='sometimes' is not allowed; valid choices: train, eval"):
        resolve_spec(cfg, experiment="table1", method="gon", dataset="digits", seed=0, overrides=["bn_protocol=sometimes"])


def test_unknown_names_list_valid_choices(tmp_path):
    cfg = tiny_profile(tmp_path)
    with pytest.raises(ConfigError, match=r"unknown key 'nzz' in --set for method gon; valid keys: .*nz"):
        resolve_spec(cfg, experiment="table1", method="gon", dataset="digits", seed=0, overrides=["nzz=3"])
    with pytest.raises(ConfigError, match="unknown method 'gan'; valid choices: .*gon"):
        resolve_spec(cfg, experiment="table1", method="gan", dataset="digits", seed=0)
    with pytest.raises(ConfigError, match="unknown experiment 'tableX'; valid choices: table1"):
        resolve_spec(cfg, experiment="tableX", method="gon", dataset="digits", seed=0)
    bad = tiny_profile(tmp_path, methods=["gon", "gann"])
    with pytest.raises(ConfigError, match="unknown method 'gann'"):
        validate_profile(bad)


def test_schema_rejects_unknown_top_level_keys(tmp_path):
    cfg = tiny_profile(tmp_path)
    cfg["epochz"] = 3
    with pytest.raises(ConfigError, match="Additional properties are not allowed"):
        validate_profile(cfg)


def test_override_parsing():
    assert parse_override("lr=1e-3") == ("lr", 1e-3)
    assert parse_override("activation=relu") == ("activation", "relu")
    assert parse_override("train_size=None") == ("train_size", None)
    with pytest.raises(ConfigError, match="key=value"):
        parse_override("lr")


def test_grid_and_variants_expand_to_labels(tmp_path):
    cfg = tiny_profile(tmp_path, methods=["gon"], variants={"gon_relu": {"method": "gon", "set": {"activation": "relu"}}},
                       grid={"nz": [8, 16]})
    labels = sorted({r.method_label for r in expand_runs(cfg)})
    assert labels == ["gon-nz16", "gon-nz8", "gon_relu-nz16", "gon_relu-nz8"]
    spec = resolve_spec(cfg, experiment="table1", method="gon_relu-nz8", dataset="digits", seed=0)
    assert (spec["method"], spec["activation"], spec["nz"]) == ("gon", "relu", 8)
