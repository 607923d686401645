"""The GON paper's Table 1 claims, checked on the quick profile's real-data runs (the golden file holds every
run's metrics: 7 methods x digits/MNIST/Fashion-MNIST/COIL-20 x 3 seeds, produced by the quick profile).

A claim that does not hold at quick scale (10 epochs of ~200 steps instead of 500 epochs) is listed in
KNOWN_DEVIATIONS with the measured numbers and marked xfail(strict=True): if it starts to hold, the test
fails and the deviation must be removed from the list.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

GOLDEN = json.loads((Path(__file__).parent / "regression" / "quick_table1.json").read_text())
DATASETS = ("digits", "mnist", "fashion_mnist", "coil20")


def cell(method: str, dataset: str) -> list[float]:
    return [v["recon_sse"] for k, v in GOLDEN["runs"].items() if k.startswith(f"{method}/{dataset}/")]


def mean(method: str, dataset: str) -> float:
    return statistics.mean(cell(method, dataset))


def spread(method: str, dataset: str) -> float:
    return statistics.stdev(cell(method, dataset))


def below(lower: str, higher: str):
    """One link of the paper's chain recon_sse(gon) < recon_sse(ae) < recon_sse(tied_ae) < recon_sse(gon_detach_1)."""
    return lambda dataset: mean(lower, dataset) < mean(higher, dataset)


def ten_steps_match_one(dataset: str) -> bool:
    """gon_10 within the seed-to-seed spread of gon (one standard deviation of either)."""
    return abs(mean("gon_10", dataset) - mean("gon", dataset)) <= max(spread("gon", dataset), spread("gon_10", dataset))


def detach_ten_far_above(dataset: str) -> bool:
    """gon_detach_10 far above gon: at least 1.5x and beyond three of GON's seed-to-seed std."""
    g, d = mean("gon", dataset), mean("gon_detach_10", dataset)
    return d >= 1.5 * g and d - g > 3 * spread("gon", dataset)


CLAIMS = {"gon_below_ae": below("gon", "ae"), "ae_below_tied_ae": below("ae", "tied_ae"),
          "tied_ae_below_gon_detach_1": below("tied_ae", "gon_detach_1"), "ten_steps_match_one": ten_steps_match_one, "detach_ten_far_above": detach_ten_far_above}

# (claim, dataset) -> what was measured when it did not hold at quick scale
# (mean over 3 seeds, quick profile; every gap below is smaller than one seed-to-seed std of either cell).
KNOWN_DEVIATIONS: dict[tuple[str, str], str] = {
    ("gon_below_ae", "digits"): "gon 3.25 +- 1.02 vs ae 3.22 +- 1.08",
    ("ae_below_tied_ae", "mnist"): "ae 15.20 +- 3.85 vs tied_ae 13.79 +- 3.25",
    ("ae_below_tied_ae", "fashion_mnist"): "ae 15.38 +- 1.80 vs tied_ae 14.58 +- 1.91",
    ("ae_below_tied_ae", "coil20"): "ae 9.64 +- 1.07 vs tied_ae 9.38 +- 1.07",
    # also on full MNIST on a GPU after 2 epochs (10.34 vs 13.72); the paper measured its gap after 500 epochs
    ("detach_ten_far_above", "digits"): "gon_detach_10 3.06 +- 0.99 vs gon 3.25 +- 1.02",
    ("detach_ten_far_above", "mnist"): "gon_detach_10 13.71 +- 5.51 vs gon 14.40 +- 3.52",
    ("detach_ten_far_above", "fashion_mnist"): "gon_detach_10 13.83 +- 2.59 vs gon 15.12 +- 2.52",
    ("detach_ten_far_above", "coil20"): "gon_detach_10 8.80 +- 1.76 vs gon 9.38 +- 0.88",
}


def cases():
    for claim in CLAIMS:
        for dataset in DATASETS:
            marks = []
            if (claim, dataset) in KNOWN_DEVIATIONS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_DEVIATIONS[(claim, dataset)]))
            yield pytest.param(claim, dataset, marks=marks, id=f"{claim}-{dataset}")


@pytest.mark.parametrize("claim,dataset", list(cases()))
def test_table1_claim(claim, dataset):
    means = {m: round(mean(m, dataset), 3) for m in ("gon", "ae", "tied_ae", "gon_detach_1", "gon_10", "gon_detach_10")}
    assert CLAIMS[claim](dataset), f"{claim} does not hold on {dataset}: means {means}"
