"""The GON paper's Table 1 claims, checked on the quick profile's real-data runs (the golden file holds every
run's metrics: 7 methods x digits/MNIST/Fashion-MNIST/COIL-20 x 3 seeds, produced by the quick profile).

A claim that does not hold at quick scale (80 steps on 512 images instead of 500 epochs) is listed in
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

# (claim, dataset) -> what was measured when it did not hold at quick scale (mean +- std over 3 seeds, quick
# profile; every gap is smaller than the larger seed-to-seed std of its two cells: at 80 steps the methods are
# still close to one another, and the paper measured its gaps after 500 epochs).
KNOWN_DEVIATIONS: dict[tuple[str, str], str] = {
    ("gon_below_ae", "digits"): "gon 11.55 +- 2.38 vs ae 11.25 +- 2.46",
    ("gon_below_ae", "fashion_mnist"): "gon 25.55 +- 3.55 vs ae 25.17 +- 3.17",
    ("gon_below_ae", "coil20"): "gon 20.88 +- 3.82 vs ae 20.39 +- 3.58",
    ("ae_below_tied_ae", "mnist"): "ae 42.19 +- 12.07 vs tied_ae 38.99 +- 10.29",
    ("ae_below_tied_ae", "fashion_mnist"): "ae 25.17 +- 3.17 vs tied_ae 25.15 +- 2.97",
    ("ae_below_tied_ae", "coil20"): "ae 20.39 +- 3.58 vs tied_ae 19.76 +- 3.68",
    # above gon on digits and MNIST, but not by 1.5x; slightly below on Fashion-MNIST and COIL-20 (also below
    # on full MNIST on a GPU after 2 epochs: 10.34 vs 13.72)
    ("detach_ten_far_above", "digits"): "gon_detach_10 14.04 +- 3.04 vs gon 11.55 +- 2.38",
    ("detach_ten_far_above", "mnist"): "gon_detach_10 41.07 +- 11.86 vs gon 38.91 +- 10.86",
    ("detach_ten_far_above", "fashion_mnist"): "gon_detach_10 24.49 +- 3.56 vs gon 25.55 +- 3.55",
    ("detach_ten_far_above", "coil20"): "gon_detach_10 19.33 +- 3.19 vs gon 20.88 +- 3.82",
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
