"""The reading list's claims about its generative models, decided on the quick profile's committed runs of the
``generative`` experiment (tests/regression/quick_generative.json): MNIST and Fashion-MNIST, 3 seeds.

- PixelRNN paper: PixelCNN's exact NLL is below the VAE's negative ELBO on MNIST (both bits/dim of the 8-bit pixels).
- DRAW paper: attention does at least as well as no attention at equal T and latent size (negative ELBO).
- GMMN paper: GMMN+AE's samples are better than pixel-space GMMN's (KID under the judge).
- Adversarial vs MMD autoencoders: MMD-AE's prior fit (MMD of codes to the prior) and sample KID are within the
  AAE's seed spread or better, at fewer seconds per step.

A claim that does not hold at quick scale is listed in DEVIATIONS with the measured numbers and marked
xfail(strict=True): if it starts to hold, the test fails and the entry must go.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "regression" / "quick_generative.json"
DATASETS = ("mnist", "fashion_mnist")


def runs() -> dict:
    return json.loads(GOLDEN.read_text())["runs"]


def stats(label: str, dataset: str, metric: str) -> tuple[float, float]:
    values = [v[metric] for k, v in runs().items() if k.startswith(f"{label}/{dataset}/seed")]
    assert len(values) >= 3, f"golden file lacks seeds of {label}/{dataset} ({metric})"
    return statistics.mean(values), statistics.stdev(values)


def show(label: str, dataset: str, metric: str) -> str:
    return "{} {:.4g} +- {:.2g}".format(label, *stats(label, dataset, metric))


def lower(a: str, b: str, dataset: str, metric: str) -> bool:
    return stats(a, dataset, metric)[0] < stats(b, dataset, metric)[0]


def within_spread_or_better(a: str, b: str, dataset: str, metric: str) -> bool:
    """a's mean at most b's mean plus b's seed-to-seed std (lower is better)."""
    (ma, _), (mb, sb) = stats(a, dataset, metric), stats(b, dataset, metric)
    return ma <= mb + sb


CLAIMS = {  # name -> (does it hold on a dataset, the measured numbers)
    "pixelcnn_nll_below_vae_elbo": (lambda d: stats("pixelcnn", d, "nll_bpd")[0] < stats("vae", d, "elbo_bpd")[0],
                                    lambda d: f"{show('pixelcnn', d, 'nll_bpd')} vs {show('vae', d, 'elbo_bpd')}"),
    "draw_attention_at_most_no_attention": (
        lambda d: stats("draw", d, "elbo_bpd")[0] <= stats("draw_no_attention", d, "elbo_bpd")[0],
        lambda d: f"{show('draw', d, 'elbo_bpd')} vs {show('draw_no_attention', d, 'elbo_bpd')}"),
    "gmmn_ae_kid_below_gmmn": (lambda d: lower("gmmn_ae", "gmmn", d, "sample_kid"),
                               lambda d: f"{show('gmmn_ae', d, 'sample_kid')} vs {show('gmmn', d, 'sample_kid')}"),
    "mmd_ae_prior_fit_within_aae_spread": (
        lambda d: within_spread_or_better("mmd_ae", "aae", d, "prior_mmd"),
        lambda d: f"{show('mmd_ae', d, 'prior_mmd')} vs {show('aae', d, 'prior_mmd')}"),
    "mmd_ae_kid_within_aae_spread": (
        lambda d: within_spread_or_better("mmd_ae", "aae", d, "sample_kid"),
        lambda d: f"{show('mmd_ae', d, 'sample_kid')} vs {show('aae', d, 'sample_kid')}"),
    "mmd_ae_fewer_seconds_per_step": (lambda d: lower("mmd_ae", "aae", d, "step_seconds"),
                                      lambda d: f"{show('mmd_ae', d, 'step_seconds')} vs {show('aae', d, 'step_seconds')}"),
}
# claims the reading list makes of MNIST only (the PixelRNN paper's comparison); the others are checked on DATASETS
CLAIM_DATASETS = {"pixelcnn_nll_below_vae_elbo": ("mnist",)}
# (claim, dataset) -> the measured numbers where the claim does not hold at quick scale
DEVIATIONS: dict[tuple[str, str], str] = {
    ("draw_attention_at_most_no_attention", "mnist"):
        "-ELBO bits/dim, T=16, 32-d z, 10 epochs of 1,024 images: attention 3.434 +- 0.009 vs no attention "
        "2.963 +- 0.003 (the attention window has not learnt where to look in 160 steps)",
    ("draw_attention_at_most_no_attention", "fashion_mnist"):
        "attention 5.129 +- 0.070 vs no attention 4.678 +- 0.004 bits/dim",
    ("gmmn_ae_kid_below_gmmn", "mnist"):
        "KID under the MNIST judge (its penultimate features, 256 samples): GMMN+AE 1032 +- 201 vs GMMN 968 +- 314 (within each "
        "other's spread: 320 steps do not separate them)",
    ("gmmn_ae_kid_below_gmmn", "fashion_mnist"):
        "KID under the Fashion-MNIST judge: GMMN+AE 59.0 +- 7.3 vs GMMN 13.6 +- 12.9 (the pixel-space GMMN "
        "is better here)",
    ("mmd_ae_kid_within_aae_spread", "mnist"):
        "KID: MMD-AE 786 +- 80 vs AAE 551 +- 116 (above the AAE's mean + std, 667); the prior fit and "
        "seconds per step claims hold on MNIST",
}


@pytest.mark.parametrize("claim,dataset", [
    pytest.param(c, d, id=f"{c}-{d}", marks=[pytest.mark.xfail(strict=True, reason=DEVIATIONS[(c, d)])]
                 if (c, d) in DEVIATIONS else []) for c in CLAIMS for d in CLAIM_DATASETS.get(c, DATASETS)])
def test_generative_claims(claim, dataset):
    holds, describe = CLAIMS[claim]
    assert holds(dataset), describe(dataset)
