"""Regression check of the quick profile's numbers against the committed golden files.

A fixed subset (every Table 1 method and both Table 2 methods on digits, and the two prior-matching
autoencoders of the generative experiment on MNIST, seed 0: a few CPU minutes) is retrained from scratch with
the quick profile's exact spec and must land inside a tolerance band around its golden value. The generative
runs are scored without their judge (its sample scores need a pretrained classifier that CI does not train);
their reconstruction and prior-fit metrics do not depend on it.

The band is one seed-to-seed standard deviation of that cell, measured over the golden file's three seeds
(floored at 0.5% of the value for cells whose seeds agree closely). Rerunning on the same machine type is
bit-identical, so any code change that moves a metric by as much as changing the seed does fails here;
float noise from a different BLAS is orders of magnitude smaller than the band. Regenerate a golden file on
purpose with the command it records under "regenerate" (gonbench.golden.regenerate_command).
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

REGRESSION = Path(__file__).parent / "regression"
RERUN = ([("table1", m, "digits", "recon_sse") for m in ("gon", "ae", "tied_ae", "gon_detach_1", "gon_detach_10",
                                                          "gon_10", "glo")]
         + [("table2", m, "digits", "elbo_bpd") for m in ("vgon", "vae")]
         + [("generative", m, "mnist", "prior_mmd") for m in ("aae", "mmd_ae")])
RELATIVE_FLOOR = 0.005


def golden(experiment: str) -> dict:
    return json.loads((REGRESSION / f"quick_{experiment}.json").read_text())


def band(runs: dict, method: str, dataset: str, metric: str) -> tuple[float, float]:
    """(golden seed-0 value, tolerance) for one cell."""
    values = [v[metric] for k, v in runs.items() if k.startswith(f"{method}/{dataset}/seed")]
    assert len(values) >= 3, f"golden file lacks seeds of {method}/{dataset}"
    center = runs[f"{method}/{dataset}/seed0"][metric]
    return center, max(statistics.stdev(values), RELATIVE_FLOOR * abs(center))


@pytest.fixture(scope="module")
def splits(data_root):
    cache = {}
    return lambda dataset, size: cache.setdefault((dataset, size), prepare(dataset, data_root, size))


@pytest.mark.parametrize("experiment,method,dataset,metric", RERUN, ids=[f"{e}-{m}" for e, m, _, _ in RERUN])
def test_quick_profile_metric_stays_in_its_band(tmp_path, splits, experiment, method, dataset, metric):
    cfg = load_profile("quick")
    spec = resolve_spec(cfg, experiment=experiment, method=method, dataset=dataset, seed=0, overrides={"judge": ""})
    train_run(spec, tmp_path / "run", splits(dataset, spec["image_size"]), device=torch.device("cpu"), progress=False)
    value = evaluate_run(tmp_path / "run")[metric]
    center, tolerance = band(golden(experiment)["runs"], method, dataset, metric)
    assert abs(value - center) <= tolerance, (
        f"{method}/{dataset}/seed0: {metric} {value:.4f} left the band {center:.4f} ± {tolerance:.4f} "
        f"(one seed-to-seed std); if the change is intended, regenerate: {golden(experiment)['regenerate']}")


@pytest.mark.parametrize("experiment", ["table1", "claims", "table2", "table2_bernoulli", "generative", "deepsim",
                                        "superres", "shattering", "ll_classifiers", "net2net", "net2net_gon"])
def test_golden_files_name_their_versions_and_regeneration(experiment):
    data = golden(experiment)
    assert {"torch", "python", "numpy", "gonbench"} <= set(data["environment"])
    assert data["regenerate"].startswith(f"rm -rf results/quick/{experiment} ")
