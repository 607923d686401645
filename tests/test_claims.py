"""The papers' claims, decided on the quick profile's committed runs (tests/regression/quick_*.json).

- The GON paper's Table 1 chain GON < AE < Tied AE < 1 Step Detach, on the ``claims`` experiment: 1,920 steps
  on 4,096 images per run, where seeds agree to a few percent, at lr 1e-3 and the paper's 1e-4, with BatchNorm
  in train mode (the reference code's protocol) and in eval mode.
- Table 1's multi-step claims (10 steps match one; 10 detached steps are far worse), on the quick Table 1.
- Table 2: VGON below VAE in bits/dim, with the discrete likelihood and with the reference code's Bernoulli one.

A claim that does not hold is listed in KNOWN_DEVIATIONS with the measured numbers and marked
xfail(strict=True): if it starts to hold, the test fails and the entry must go.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

REGRESSION = Path(__file__).parent / "regression"


def golden(experiment: str) -> dict:
    return json.loads((REGRESSION / f"quick_{experiment}.json").read_text())["runs"]


def values(runs: dict, label: str, dataset: str, metric: str) -> list[float]:
    return [v[metric] for k, v in runs.items() if k.startswith(f"{label}/{dataset}/seed")]


def stats(runs: dict, label: str, dataset: str, metric: str) -> tuple[float, float]:
    v = values(runs, label, dataset, metric)
    assert len(v) >= 3, f"golden file lacks seeds of {label}/{dataset}"
    return statistics.mean(v), statistics.stdev(v)


def describe(runs: dict, labels: tuple[str, ...], dataset: str, metric: str) -> str:
    return ", ".join("{} {:.2f} +- {:.2f}".format(label, *stats(runs, label, dataset, metric)) for label in labels)


# -- Table 1: the single-step chain, on the claims experiment --------------------------------------------
CHAIN = [("gon", "ae"), ("ae", "tied_ae"), ("tied_ae", "gon_detach_1")]
CLAIM_CELLS = [(lower, higher, dataset, lr, bn) for lower, higher in CHAIN for dataset in ("mnist", "fashion_mnist")
               for lr in ("0.001", "0.0001") for bn in ("train", "eval")]

# (lower, higher, dataset, lr, BatchNorm mode) -> what was measured (per-image SSE, mean +- std over 3 seeds)
# where the paper's ordering does not hold. At lr 1e-3 in the reference protocol (train-mode BatchNorm) GON
# loses to the AE by 5 (MNIST) and 4 (Fashion-MNIST) of their seed stds: decided, against the paper. In eval
# mode every GON cell collapses (see tests/test_bn_protocols.py). At lr 1e-4, 1,920 steps leave seeds 9-33%
# apart, and the orderings that fail there fail within that spread.
KNOWN_DEVIATIONS: dict[tuple, str] = {
    ("gon", "ae", "mnist", "0.001", "train"): "gon 4.60 +- 0.04 vs ae 4.05 +- 0.11",
    ("gon", "ae", "mnist", "0.001", "eval"): "gon 93.18 +- 0.70 vs ae 3.59 +- 0.16 (eval-mode collapse)",
    ("gon", "ae", "mnist", "0.0001", "eval"): "gon 139.29 +- 34.22 vs ae 12.09 +- 4.17 (eval-mode collapse)",
    ("gon", "ae", "fashion_mnist", "0.001", "train"): "gon 6.24 +- 0.08 vs ae 5.92 +- 0.05",
    ("gon", "ae", "fashion_mnist", "0.001", "eval"): "gon 116.73 +- 0.56 vs ae 5.85 +- 0.17 (eval-mode collapse)",
    ("gon", "ae", "fashion_mnist", "0.0001", "train"): "gon 10.32 +- 1.22 vs ae 9.95 +- 1.08 (within the spread)",
    ("gon", "ae", "fashion_mnist", "0.0001", "eval"): "gon 151.58 +- 4.80 vs ae 9.85 +- 1.21 (eval-mode collapse)",
    ("ae", "tied_ae", "mnist", "0.0001", "train"): "ae 12.72 +- 4.16 vs tied_ae 10.77 +- 2.36 (within the spread)",
    ("ae", "tied_ae", "mnist", "0.0001", "eval"): "ae 12.09 +- 4.17 vs tied_ae 10.12 +- 2.21 (within the spread)",
}


def cases(keys: list[tuple], deviations: dict[tuple, str], name) -> list:
    """One pytest case per key; a key with a known deviation is a strict xfail carrying the measured numbers."""
    return [pytest.param(*key, id=name(*key), marks=[pytest.mark.xfail(strict=True, reason=deviations[key])]
                         if key in deviations else []) for key in keys]


@pytest.mark.parametrize("lower,higher,dataset,lr,bn",
                         cases(CLAIM_CELLS, KNOWN_DEVIATIONS, lambda *c: "{}<{}-{}-lr{}-bn_{}".format(*c)))
def test_table1_chain_on_the_claims_runs(lower, higher, dataset, lr, bn):
    runs, metric = golden("claims"), f"recon_sse_bn_{bn}"
    low, high = (stats(runs, f"{m}-lr{lr}", dataset, metric)[0] for m in (lower, higher))
    assert low < high, describe(runs, (f"{lower}-lr{lr}", f"{higher}-lr{lr}"), dataset, metric)


SPREAD_CELLS = [(m, d, lr) for m in ("gon", "ae", "tied_ae", "gon_detach_1") for d in ("mnist", "fashion_mnist")
                for lr in ("0.001", "0.0001")]
# (method, dataset, lr) -> the measured spread where seeds do not agree within 5% (train-mode BatchNorm)
WIDE_SPREADS: dict[tuple, str] = {
    ("gon_detach_1", "mnist", "0.001"): "10.20 +- 0.75 (7%)", ("gon_detach_1", "fashion_mnist", "0.001"): "11.72 +- 1.44 (12%)",
    **{(m, d, "0.0001"): "1,920 steps at lr 1e-4 leave seeds 9-33% apart" for m in ("gon", "ae", "tied_ae", "gon_detach_1")
       for d in ("mnist", "fashion_mnist")},
}


@pytest.mark.parametrize("method,dataset,lr", cases(SPREAD_CELLS, WIDE_SPREADS, lambda m, d, lr: f"{m}-{d}-lr{lr}"))
def test_the_claims_runs_are_long_enough_for_seeds_to_agree(method, dataset, lr):
    """The claims experiment exists because quick Table 1's 80 steps spread seeds by 10-28%: at lr 1e-3 the
    cells that the GON/AE/tied-AE orderings compare agree within 5% of their mean."""
    mean, std = stats(golden("claims"), f"{method}-lr{lr}", dataset, "recon_sse_bn_train")
    assert std <= 0.05 * mean, f"{method}-lr{lr}/{dataset}: {mean:.2f} +- {std:.2f}"


# -- Table 1: the multi-step claims, on the quick Table 1 --------------------------------------------------
TABLE1_DATASETS = ("digits", "mnist", "fashion_mnist", "coil20")


def ten_steps_match_one(dataset: str) -> bool:
    """gon_10 within the seed-to-seed spread of gon (one standard deviation of either)."""
    runs = golden("table1")
    (g, gs), (t, ts) = stats(runs, "gon", dataset, "recon_sse"), stats(runs, "gon_10", dataset, "recon_sse")
    return abs(t - g) <= max(gs, ts)


def detach_ten_far_above(dataset: str) -> bool:
    """gon_detach_10 far above gon: at least 1.5x and beyond three of GON's seed-to-seed std."""
    runs = golden("table1")
    (g, gs), (d, _) = stats(runs, "gon", dataset, "recon_sse"), stats(runs, "gon_detach_10", dataset, "recon_sse")
    return d >= 1.5 * g and d - g > 3 * gs


MULTI_STEP = {"ten_steps_match_one": ten_steps_match_one, "detach_ten_far_above": detach_ten_far_above}
# At 80 steps the 10 detached steps are above GON on digits and MNIST but nowhere by 1.5x, and below on
# Fashion-MNIST and COIL-20 (per-image SSE, mean +- std over 3 seeds).
MULTI_STEP_DEVIATIONS: dict[tuple[str, str], str] = {
    ("detach_ten_far_above", "digits"): "gon_detach_10 14.04 +- 3.04 vs gon 11.55 +- 2.38",
    ("detach_ten_far_above", "mnist"): "gon_detach_10 41.07 +- 11.86 vs gon 38.92 +- 10.85",
    ("detach_ten_far_above", "fashion_mnist"): "gon_detach_10 24.49 +- 3.56 vs gon 25.55 +- 3.56",
    ("detach_ten_far_above", "coil20"): "gon_detach_10 19.33 +- 3.19 vs gon 20.88 +- 3.82",
}


@pytest.mark.parametrize("claim,dataset", cases([(c, d) for c in MULTI_STEP for d in TABLE1_DATASETS],
                                                MULTI_STEP_DEVIATIONS, lambda c, d: f"{c}-{d}"))
def test_table1_multi_step_claims(claim, dataset):
    runs = golden("table1")
    assert MULTI_STEP[claim](dataset), describe(runs, ("gon", "gon_10", "gon_detach_10"), dataset, "recon_sse")


# -- Table 2: VGON below VAE -------------------------------------------------------------------------------
TABLE2_DATASETS = ("digits", "mnist", "fashion_mnist", "coil20")
# The VAE is below VGON on every dataset, with either likelihood, by 10-30 of their seed stds (bits/dim, mean
# +- std over 3 seeds, 10 epochs): at quick scale the ordering does not depend on the likelihood.
TABLE2_DEVIATIONS: dict[tuple[str, str], str] = {
    ("table2", "digits"): "vgon 5.324 +- 0.009 vs vae 5.086 +- 0.012",
    ("table2", "mnist"): "vgon 3.311 +- 0.030 vs vae 2.903 +- 0.022",
    ("table2", "fashion_mnist"): "vgon 4.896 +- 0.019 vs vae 4.681 +- 0.004",
    ("table2", "coil20"): "vgon 5.439 +- 0.015 vs vae 5.167 +- 0.006",
    ("table2_bernoulli", "digits"): "vgon 0.579 +- 0.001 vs vae 0.541 +- 0.001",
    ("table2_bernoulli", "mnist"): "vgon 0.345 +- 0.008 vs vae 0.267 +- 0.001",
    ("table2_bernoulli", "fashion_mnist"): "vgon 0.549 +- 0.003 vs vae 0.507 +- 0.001",
    ("table2_bernoulli", "coil20"): "vgon 0.636 +- 0.002 vs vae 0.588 +- 0.001",
}


@pytest.mark.parametrize("experiment,dataset", cases([(e, d) for e in ("table2", "table2_bernoulli")
                                                      for d in TABLE2_DATASETS], TABLE2_DEVIATIONS,
                                                     lambda e, d: f"{e}-{d}"))
def test_table2_vgon_below_vae(experiment, dataset):
    runs = golden(experiment)
    vgon, vae = (stats(runs, m, dataset, "elbo_bpd")[0] for m in ("vgon", "vae"))
    assert vgon < vae, describe(runs, ("vgon", "vae"), dataset, "elbo_bpd")
