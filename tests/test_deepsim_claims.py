"""DeePSiM's claims (Dosovitskiy & Brox 2016, Sec. 3 and Fig. 3), decided on the quick profile's committed runs of
the ``deepsim`` experiment (tests/regression/quick_deepsim.json): MNIST and Fashion-MNIST, 3 seeds.

- The full loss (pixel + feature + adversarial) gives sharper reconstructions than the pixel loss alone:
  a higher sharpness ratio (metrics.sharpness_ratio).
- The feature loss without the adversarial term over-sharpens (high-frequency artefacts): a sharpness ratio
  above 1, more edge energy than the data.

A claim that does not hold at quick scale is listed in DEVIATIONS with the measured numbers and marked
xfail(strict=True): if it starts to hold, the test fails and the entry must go.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "regression" / "quick_deepsim.json"
DATASETS = ("mnist", "fashion_mnist")


def stats(label: str, dataset: str, metric: str = "sharpness_ratio") -> tuple[float, float]:
    runs = json.loads(GOLDEN.read_text())["runs"]
    values = [v[metric] for k, v in runs.items() if k.startswith(f"{label}/{dataset}/seed")]
    assert len(values) >= 3, f"golden file lacks seeds of {label}/{dataset} ({metric})"
    return statistics.mean(values), statistics.stdev(values)


def show(label: str, dataset: str) -> str:
    return "{} sharpness ratio {:.4g} +- {:.2g}".format(label, *stats(label, dataset))


CLAIMS = {
    "all_three_sharper_than_pixel_only": (
        lambda d: stats("deepsim_all", d)[0] > stats("deepsim_pixel", d)[0],
        lambda d: f"{show('deepsim_all', d)} vs {show('deepsim_pixel', d)}"),
    "feature_without_adversarial_over_sharpens": (lambda d: stats("deepsim_feat", d)[0] > 1,
                                                  lambda d: show("deepsim_feat", d)),
}
# (claim, dataset) -> the measured numbers where the claim does not hold at quick scale
DEVIATIONS: dict[tuple[str, str], str] = {
    ("feature_without_adversarial_over_sharpens", "fashion_mnist"): (
        "quick profile, 160 steps: deepsim_feat sharpness ratio 0.996 +- 0.008 (pixel only 0.917, all three 1.090): "
        "the feature loss removes most of the pixel loss's blur but does not overshoot the data's edge energy"),
}


@pytest.mark.parametrize("claim,dataset", [
    pytest.param(c, d, id=f"{c}-{d}", marks=[pytest.mark.xfail(strict=True, reason=DEVIATIONS[(c, d)])]
                 if (c, d) in DEVIATIONS else []) for c in CLAIMS for d in DATASETS])
def test_deepsim_claims(claim, dataset):
    holds, describe = CLAIMS[claim]
    assert holds(dataset), describe(dataset)
