"""The shattered-gradients paper's claims (Balduzzi et al. 2017), decided on the quick profile's committed runs
(tests/regression/quick_shattering.json: 1-D nets at initialisation, 3 seeds of 16 nets per cell;
tests/regression/quick_ll_classifiers.json: 20-layer classifiers on MNIST and Fashion-MNIST, 3 seeds).

- Looks-linear gradients keep their correlation with depth, while He-initialised ReLU nets' decay toward white
  noise (lag-1 correlation over initialisations between nearby sweep points).
- A deep looks-linear CReLU net without skips trains to a validation accuracy within the ResNet's seed spread,
  while the plain deep ReLU net does worse.

A claim that does not hold at quick scale is marked xfail(strict=True) with the measured numbers.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

REGRESSION = Path(__file__).parent / "regression"
DEPTHS = (2, 4, 8, 16, 32, 50)


def runs(experiment: str) -> dict:
    return json.loads((REGRESSION / f"quick_{experiment}.json").read_text())["runs"]


def values(experiment: str, label: str, dataset: str, metric: str) -> list[float]:
    out = [v[metric] for k, v in runs(experiment).items() if k.startswith(f"{label}/{dataset}/seed")]
    assert len(out) >= 3, f"golden file lacks seeds of {label}/{dataset} ({metric})"
    return out


def corr(arch: str, depth: int) -> list[float]:
    return values("shattering", f"{arch}-depth{depth}", "gaussian_codes", "grad_corr")


def test_ll_gradients_keep_their_correlation_at_every_depth():
    for depth in DEPTHS:
        assert min(corr("ll_crelu", depth)) > 0.999, (depth, corr("ll_crelu", depth))


def test_he_relu_gradients_decay_toward_white_noise_with_depth():
    shallow, deep = statistics.mean(corr("he_relu_bn", 2)), corr("he_relu_bn", 50)
    assert shallow > 0.9 and max(abs(c) for c in deep) < 0.1, (shallow, deep)


def test_resnets_shatter_less_than_feedforward_nets_at_depth():
    for depth in (16, 32, 50):
        assert statistics.mean(corr("resnet_bn", depth)) > statistics.mean(corr("he_relu_bn", depth)) + 0.3


def accuracy(label: str, dataset: str) -> tuple[float, float]:
    v = values("ll_classifiers", label, dataset, "accuracy")
    return statistics.mean(v), statistics.stdev(v)


def show(label: str, dataset: str) -> str:
    return "{} {:.3f} +- {:.3f}".format(label, *accuracy(label, dataset))


@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist"])
def test_the_deep_ll_net_trains_to_the_resnets_accuracy(dataset):
    (ll, _), (res, res_std) = accuracy("ll_crelu", dataset), accuracy("resnet_bn", dataset)
    assert ll >= res - res_std, f"{show('ll_crelu', dataset)} vs {show('resnet_bn', dataset)}"


@pytest.mark.parametrize("dataset", ["mnist", pytest.param("fashion_mnist", marks=pytest.mark.xfail(
    strict=True, reason="quick profile: He ReLU 0.750 +- 0.000 is below LL CReLU 0.766 +- 0.008 but inside the "
                        "ResNet's spread, 0.762 +- 0.049 (one ResNet seed at 0.707); 240 steps of 1,024 images"))])
def test_the_plain_deep_relu_net_does_worse(dataset):
    (relu, _), (res, res_std), (ll, _) = (accuracy(x, dataset) for x in ("he_relu", "resnet_bn", "ll_crelu"))
    assert relu < res - res_std and relu < ll, f"{show('he_relu', dataset)} vs {show('resnet_bn', dataset)}, " \
                                               f"{show('ll_crelu', dataset)}"
