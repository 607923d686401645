"""A table's rows come from its experiment: the profile's labels, in its order, titled and grouped by the
method's class unless the profile says otherwise; an output is bound to one experiment, and one that cannot
be built from its experiment's runs stops the plan with one line."""
from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import torch

from gonbench.aggregate import write_table
from gonbench.cell import cell_specs, run_cell
from gonbench.config import validate_profile
from gonbench.errors import ConfigError
from gonbench.methods import METHODS
from gonbench.outputs import TABLES
from gonbench.reports import check_outputs
from gonbench.tables import table_rows

from .conftest import tiny_profile

TOY_METHOD = '''
"""A toy method added the way ARCHITECTURE.md says: one module, a Config, a Method, the decorator."""
from dataclasses import dataclass

import torch

from gonbench import metrics as M
from gonbench.methods.base import DataInfo, Method, MethodConfig, register_method
from gonbench.typecheck import PositiveInt


@dataclass
class ToyConfig(MethodConfig):
    rank: PositiveInt = 4  # a linear autoencoder of this rank


@register_method
class Toy(Method):
    """Linear autoencoder: x -> V^T (V x), one matrix."""

    name = "toy_linear_ae"
    Config = ToyConfig
    title, row_group = "Toy linear AE", "Added by a profile line"

    def __init__(self, cfg: ToyConfig, data: DataInfo) -> None:
        super().__init__(cfg, data)
        self.v = torch.nn.Parameter(0.01 * torch.randn(cfg.rank, data.channels * data.image_size ** 2))

    def reconstruct(self, x):
        flat = x.flatten(1)
        return ((flat @ self.v.T) @ self.v).view_as(x)

    def training_loss(self, batch):
        x = batch["x"]
        return {"loss": M.recon_sse(self.reconstruct(x), x).mean()}
'''


@pytest.fixture
def toy_module(tmp_path, monkeypatch):
    """The toy method's module in a temp folder, imported (which registers it); unregistered afterwards."""
    (tmp_path / "toy_plugin.py").write_text(textwrap.dedent(TOY_METHOD))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("toy_plugin")
    yield module
    METHODS._entries.pop("toy_linear_ae", None)
    sys.modules.pop("toy_plugin", None)


def test_a_method_added_in_its_own_module_gets_a_table1_row_from_one_profile_line(tmp_path, toy_module, digits_splits):
    """ARCHITECTURE.md's "A method", end to end: a module outside the package, one line in a profile's
    experiment with outputs [table1], and the table has its row (nothing in the table code names it)."""
    cfg = tiny_profile(tmp_path, methods=["gon", "toy_linear_ae"])
    cfg["defaults"] = {"epochs": 1, "train_size": 128, "val_size": 64}
    validate_profile(cfg)
    check_outputs(cfg)
    for method in ("gon", "toy_linear_ae"):
        run_cell(cfg, cell_specs(cfg, "table1", method, "digits", [0]), device=torch.device("cpu"))
    md_path = next(p for p in write_table(cfg, "table1") if p.suffix == ".md")
    lines = md_path.read_text().splitlines()
    toy = [line for line in lines if "Toy linear AE" in line]
    assert len(toy) == 1 and "Added by a profile line" in toy[0]
    assert "(1 seed)" in toy[0]  # a cell computed from its run, not a placeholder
    assert [i for i, line in enumerate(lines) if "| GON " in line][0] < lines.index(toy[0])  # profile order
    assert "toy_linear_ae" not in (Path(__file__).parents[1] / "src" / "gonbench" / "aggregate.py").read_text()


def exp(**settings) -> dict:
    return {"datasets": ["mnist"], "outputs": ["table1"], **settings}


def test_rows_follow_the_profile_order_and_the_classes_titles_and_groups():
    rows = table_rows(TABLES.get("table1"), exp(methods=["glo", "ae", "gon", "gon_10"]))
    assert [(r.group, r.title) for r in rows] == [
        ("Multiple steps", "GLO"), ("Multiple steps", "10 Step"), ("Single step", "AE"), ("Single step", "GON")]


def test_a_profile_overrides_titles_and_groups_and_groups_by_a_grid_key():
    rows = table_rows(TABLES.get("table1"), exp(methods=["gon", "ae"], rows={"titles": {"ae": "plain AE"},
                                                                              "groups": {"gon": "Ours"}}))
    assert [(r.label, r.group, r.title) for r in rows] == [("gon", "Ours", "GON"), ("ae", "Single step", "plain AE")]
    grid = exp(methods=["gon", "ae"], grid={"lr": [1e-3, 1e-4], "nz": [8]}, rows={"group_by": "lr"})
    assert [(r.group, r.title) for r in table_rows(TABLES.get("table1"), grid)] == [
        ("lr 0.001", "GON (nz 8)"), ("lr 0.001", "AE (nz 8)"), ("lr 0.0001", "GON (nz 8)"), ("lr 0.0001", "AE (nz 8)")]


def test_a_table_keeps_only_the_labels_that_report_its_metric():
    """One experiment can feed several tables: each takes the labels whose method reports its metric."""
    both = exp(methods=["vae", "gon"])
    assert [r.label for r in table_rows(TABLES.get("table2"), both)] == ["vae"]
    assert [r.label for r in table_rows(TABLES.get("table1"), both)] == ["vae", "gon"]


def profile_with(**experiments) -> dict:
    return {"profile": "rows", "experiments": experiments}


@pytest.mark.parametrize("cfg,names", [
    (profile_with(a=exp(methods=["gon"]), b=exp(methods=["ae"])),
     "outputs: output table1 is listed by experiments a and b; an output is built from one experiment's runs"),
    (profile_with(a=exp(methods=["gon"], outputs=["table2"])),
     "experiment a: outputs: table2: no method of this experiment reports elbo_bpd, so the table has no row; "
     "methods that do: "),
    (profile_with(a=exp(methods=["gon"], outputs=["fig2c_generalisation"])),
     "experiment a: outputs: fig2c_generalisation: the figure draws ae, which this experiment does not list"),
    (profile_with(a=exp(methods=["gon"], outputs=["table9"])), "unknown output 'table9'; valid choices: "),
])
def test_an_output_its_experiment_cannot_build_is_one_line(cfg, names):
    with pytest.raises(ConfigError) as err:
        check_outputs(cfg, "p.yaml")
    assert names in str(err.value) and str(err.value).startswith("p.yaml: ") and "\n" not in str(err.value)


def test_rows_settings_name_labels_and_grid_keys_of_their_experiment():
    with pytest.raises(ConfigError, match="rows.titles names gone, not a label of this experiment; valid labels: gon"):
        validate_profile(profile_with(a=exp(methods=["gon"], rows={"titles": {"gone": "x"}})))
    with pytest.raises(ConfigError, match="rows.group_by='lr' is not a grid key of this experiment"):
        validate_profile(profile_with(a=exp(methods=["gon"], rows={"group_by": "lr"})))


def test_both_profiles_bind_every_output_once_and_each_table_finds_its_rows():
    from gonbench.config import load_profile

    for name in ("quick", "paper"):
        check_outputs(load_profile(name), name)


def test_declared_metrics_are_what_the_published_runs_report():
    """Method.metrics is what a table selects rows by: every metric a method declares is in the metrics.json of
    each of its published quick-profile runs (runs.csv has one column per metric)."""
    runs = pd.read_csv(Path(__file__).parents[1] / "published" / "quick" / "runs.csv")
    checked = 0
    for method, group in runs.groupby("method"):
        if method not in METHODS:
            continue
        declared = METHODS.get(method).metrics
        absent = [m for m in declared if f"m.{m}" not in group or group[f"m.{m}"].isna().all()]
        assert not absent, f"{method} declares {absent}, which its runs do not report"
        checked += 1
    assert checked >= 15


def test_the_training_log_names_its_units(tmp_path, digits_splits):
    """train_loss is the objective (per pixel for the GON family); train_recon_sse is per image, as val_recon_sse."""
    from gonbench.io import read_jsonl
    from gonbench.train import train_run

    cfg = tiny_profile(tmp_path)
    cfg["defaults"] = {"epochs": 1, "train_size": 128, "val_size": 64}
    (spec,) = cell_specs(cfg, "table1", "gon", "digits", [0])
    train_run(spec, tmp_path / "run", digits_splits, device=torch.device("cpu"), progress=False)
    (record,) = read_jsonl(tmp_path / "run" / "log.jsonl")
    assert record["train_recon_sse"] == pytest.approx(record["train_loss"] * 32 * 32, rel=1e-5)
    assert {"val_recon_sse", "train_recon_sse"} <= set(record)
