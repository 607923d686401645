"""Net2Net's claims (Chen, Goodfellow & Shlens 2016), decided on the quick profile's committed runs
(tests/regression/quick_net2net.json: MNIST, 3 seeds, 160 steps per student; the teacher pretrained once).

- A student grown from the teacher (wider, deeper, both) starts at the teacher's validation accuracy.
- It reaches the teacher's final accuracy in fewer steps than the same architecture from random initialisation.

A claim that does not hold at quick scale is marked xfail(strict=True) with the measured numbers.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "regression" / "quick_net2net.json"
STUDENTS = ("wider", "deeper", "both")
NOISE_TOLERANCE = 0.01  # wider/both add symmetry-breaking noise (noise=0.01): a few of 256 images may flip


def seeds(label: str) -> list[dict]:
    runs = json.loads(GOLDEN.read_text())["runs"]
    out = [v for k, v in sorted(runs.items()) if k.startswith(f"{label}/mnist/seed")]
    assert len(out) >= 3, f"golden file lacks seeds of {label}"
    return out


NOISY_START = ("quick profile: with noise=0.01 the {} student starts up to 3 of 256 validation images below the "
               "teacher's 0.816 ({}); without noise the transforms are exact (tests/test_net2net.py)")


@pytest.mark.parametrize("student", [
    pytest.param("wider", marks=pytest.mark.xfail(strict=True, reason=NOISY_START.format("wider", "0.816/0.805/0.812"))),
    "deeper",
    pytest.param("both", marks=pytest.mark.xfail(strict=True, reason=NOISY_START.format("both", "0.816/0.805/0.805")))])
def test_the_student_starts_at_the_teachers_accuracy(student):
    for run in seeds(student):
        assert abs(run["init_accuracy"] - run["teacher_accuracy"]) <= NOISE_TOLERANCE, run
    for run in seeds(f"{student}_random"):
        assert run["init_accuracy"] < run["teacher_accuracy"] - 0.3, run


def steps(run: dict) -> float:
    """Steps to the target; never reaching it counts as more than any finite count."""
    value = run["steps_to_target"]
    return math.inf if value is None or math.isnan(value) else value


@pytest.mark.parametrize("student", STUDENTS)
def test_the_student_reaches_the_teachers_accuracy_in_fewer_steps_than_random_init(student):
    grown, random = [steps(r) for r in seeds(student)], [steps(r) for r in seeds(f"{student}_random")]
    assert all(g < r for g, r in zip(grown, random)), f"{student} {grown} vs random {random}"


# The GON application (ours; no paper has it): tests/regression/quick_net2net_gon.json, MNIST, 3 seeds; a
# pretrained 8-filter GON decoder (160 steps) widened to 16 filters and trained 160 steps more, against the
# 16-filter GON trained 320 steps from random initialisation.
GON_GOLDEN = Path(__file__).parent / "regression" / "quick_net2net_gon.json"
GON_LABELS = ("teacher_continued", "wider", "wider_no_noise", "wide_random")


def gon_seeds(label: str) -> list[dict]:
    runs = json.loads(GON_GOLDEN.read_text())["runs"]
    out = [v for k, v in sorted(runs.items()) if k.startswith(f"{label}/mnist/seed")]
    assert len(out) >= 3, f"golden file lacks seeds of {label}"
    return out


def test_a_gon_grown_without_noise_starts_at_its_teachers_error():
    for label in ("teacher_continued", "wider_no_noise"):
        for run in gon_seeds(label):
            assert abs(run["init_recon_sse"] - run["teacher_recon_sse"]) <= 1e-4 * run["teacher_recon_sse"], run
    for run in gon_seeds("wide_random"):
        assert run["init_recon_sse"] > 2 * run["teacher_recon_sse"], run


def test_the_gons_are_compared_at_equal_total_steps():
    totals = {label: sorted({run["total_steps"] for run in gon_seeds(label)}) for label in GON_LABELS}
    assert len({tuple(t) for t in totals.values()}) == 1 and len(totals["wider"]) == 1, totals


def mean_sse(label: str) -> float:
    return sum(run["recon_sse"] for run in gon_seeds(label)) / len(gon_seeds(label))


@pytest.mark.xfail(strict=True, reason=(
    "quick profile: at 320 total steps the widened GON ends at 8.75 ± 0.13 (8.62/8.89/8.75) and the 16-filter GON "
    "from scratch at 8.24 ± 0.96 (9.26/8.07/7.37): the scratch run reaches the teacher's 31.4 within 80-112 of its "
    "steps, so the teacher's 160 steps at 8 filters buy less than 160 steps at 16"))
def test_a_widened_gon_ends_below_the_wide_gon_from_scratch_at_equal_total_steps():
    assert mean_sse("wider") < mean_sse("wide_random"), (mean_sse("wider"), mean_sse("wide_random"))


def test_widening_beats_training_the_teacher_on_at_its_own_width():
    assert mean_sse("wider") < mean_sse("teacher_continued"), (mean_sse("wider"), mean_sse("teacher_continued"))
