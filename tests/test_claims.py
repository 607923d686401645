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


def ordering(dataset: str) -> bool:
    """recon_sse(gon) < recon_sse(ae) < recon_sse(tied_ae) < recon_sse(gon_detach_1)."""
    chain = [mean(m, dataset) for m in ("gon", "ae", "tied_ae", "gon_detach_1")]
    return all(a < b for a, b in zip(chain, chain[1:]))


def ten_steps_match_one(dataset: str) -> bool:
    """gon_10 within the seed-to-seed spread of gon (one standard deviation of either)."""
    return abs(mean("gon_10", dataset) - mean("gon", dataset)) <= max(spread("gon", dataset), spread("gon_10", dataset))


def detach_ten_far_above(dataset: str) -> bool:
    """gon_detach_10 far above gon: at least 1.5x and beyond three of GON's seed-to-seed std."""
    g, d = mean("gon", dataset), mean("gon_detach_10", dataset)
    return d >= 1.5 * g and d - g > 3 * spread("gon", dataset)


CLAIMS = {"ordering": ordering, "ten_steps_match_one": ten_steps_match_one, "detach_ten_far_above": detach_ten_far_above}

# (claim, dataset) -> what was measured when it did not hold at quick scale
KNOWN_DEVIATIONS: dict[tuple[str, str], str] = {}


def cases():
    for claim in CLAIMS:
        for dataset in DATASETS:
            marks = []
            if (claim, dataset) in KNOWN_DEVIATIONS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_DEVIATIONS[(claim, dataset)]))
            yield pytest.param(claim, dataset, marks=marks, id=f"{claim}-{dataset}")


@pytest.mark.parametrize("claim,dataset", cases())
def test_table1_claim(claim, dataset):
    means = {m: round(mean(m, dataset), 3) for m in ("gon", "ae", "tied_ae", "gon_detach_1", "gon_10", "gon_detach_10")}
    assert CLAIMS[claim](dataset), f"{claim} does not hold on {dataset}: means {means}"
