"""The super-resolution paper's claim, decided on the quick profile's committed runs of the ``superres`` experiment
(tests/regression/quick_superres.json: COIL-20 with simulated fibre-bundle LR images, 3 seeds).

- Ravì et al. (2018): every learned model (FSRCNN, EDSR, SRGAN) reconstructs the HR image better than the
  interpolation baseline, by SSIM on the validation objects (the baseline: the fibre signals interpolated
  cubically, Clough-Tocher, the analogue of bicubic upsampling on irregular fibres).

A model for which the claim does not hold at quick scale is listed in DEVIATIONS with the measured numbers and
marked xfail(strict=True): if it starts to hold, the test fails and the entry must go.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "regression" / "quick_superres.json"
DATASET = "coil20_fibres"
BASELINE = "sr_interpolation"
MODELS = ("fsrcnn", "edsr", "srgan")


def values(label: str, metric: str) -> list[float]:
    runs = json.loads(GOLDEN.read_text())["runs"]
    found = [v[metric] for k, v in runs.items() if k.startswith(f"{label}/{DATASET}/seed")]
    assert len(found) >= 3, f"golden file lacks seeds of {label}/{DATASET} ({metric})"
    return found


def show(label: str, metric: str) -> str:
    v = values(label, metric)
    return f"{label} {statistics.mean(v):.4f} +- {statistics.stdev(v):.2g}"


# model -> the measured numbers where the claim does not hold at quick scale
DEVIATIONS: dict[str, str] = {}


@pytest.mark.parametrize("model", [
    pytest.param(m, marks=[pytest.mark.xfail(strict=True, reason=DEVIATIONS[m])] if m in DEVIATIONS else [])
    for m in MODELS])
def test_every_learned_model_beats_the_interpolation_baseline_on_ssim(model):
    assert statistics.mean(values(model, "ssim")) > statistics.mean(values(BASELINE, "ssim")), (
        f"{show(model, 'ssim')} vs {show(BASELINE, 'ssim')}")
