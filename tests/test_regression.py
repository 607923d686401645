"""Regression check of the quick profile's numbers against the committed golden file.

A fixed subset (every Table 1 method on digits, seed 0: about two CPU minutes) is retrained from scratch
with the quick profile's exact spec and must land inside a tolerance band around its golden value.

The band is one seed-to-seed standard deviation of that cell, measured over the golden file's three seeds
(floored at 0.5% of the value for cells whose seeds agree closely). Rerunning on the same machine type is
bit-identical, so any code change that moves a metric by as much as changing the seed does fails here;
float noise from a different BLAS is orders of magnitude smaller than the band. Regenerate the golden file
on purpose with the command in gonbench.golden.REGENERATE.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
import torch

from gonbench.config import load_profile, resolve_spec
from gonbench.data import prepare
from gonbench.evaluate import evaluate_run
from gonbench.train import train_run

GOLDEN = Path(__file__).parent / "regression" / "quick_table1.json"
RERUN = [(m, "digits", 0) for m in ("gon", "ae", "tied_ae", "gon_detach_1", "gon_detach_10", "gon_10", "glo")]
METRIC = "recon_sse"
RELATIVE_FLOOR = 0.005


def golden() -> dict:
    return json.loads(GOLDEN.read_text())


def band(runs: dict, method: str, dataset: str) -> tuple[float, float]:
    """(golden seed-0 value, tolerance) for one cell."""
    values = [v[METRIC] for k, v in runs.items() if k.startswith(f"{method}/{dataset}/seed")]
    assert len(values) >= 3, f"golden file lacks seeds of {method}/{dataset}"
    center = runs[f"{method}/{dataset}/seed0"][METRIC]
    return center, max(statistics.stdev(values), RELATIVE_FLOOR * abs(center))


@pytest.fixture(scope="module")
def digits():
    return prepare("digits", Path("unused"), 32)


@pytest.mark.parametrize("method,dataset,seed", RERUN, ids=[m for m, _, _ in RERUN])
def test_quick_profile_metric_stays_in_its_band(tmp_path, digits, method, dataset, seed):
    cfg = load_profile("quick")
    spec = resolve_spec(cfg, experiment="table1", method=method, dataset=dataset, seed=seed)
    train_run(spec, tmp_path / "run", digits, device=torch.device("cpu"), progress=False)
    value = evaluate_run(tmp_path / "run")[METRIC]
    center, tolerance = band(golden()["runs"], method, dataset)
    assert abs(value - center) <= tolerance, (
        f"{method}/{dataset}/seed{seed}: {METRIC} {value:.4f} left the band {center:.4f} ± {tolerance:.4f} "
        f"(one seed-to-seed std); if the change is intended, regenerate: {golden()['regenerate']}")


def test_golden_file_names_its_versions():
    env = golden()["environment"]
    assert {"torch", "python", "numpy", "gonbench"} <= set(env)
