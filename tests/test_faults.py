"""Fault injection: a run killed with SIGKILL at any moment loses at most its current epoch and, resumed,
ends bit-identical to an uninterrupted run (weights and metrics), with no temporary file left behind."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from gonbench.evaluate import evaluate_run

REPO = Path(__file__).resolve().parents[1]
KILLS = 20
EPOCHS = 60
HEADLINE = ("recon_sse", "recon_sse_bn_train", "recon_sse_bn_eval", "recon_sse_bn_recal", "psnr", "ssim")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A profile for a run of 60 short epochs, and its uninterrupted result."""
    root = tmp_path_factory.mktemp("faults")
    cfg = yaml.safe_load((REPO / "tests" / "profiles" / "two_experiments.yaml").read_text())
    cfg.update(results=str(root / "results"), reports=str(root / "reports"),
               defaults={"epochs": EPOCHS, "train_size": 128, "val_size": 64, "val_every": 20})
    profile = root / "profile.yaml"
    profile.write_text(yaml.safe_dump(cfg))
    whole = root / "whole"
    subprocess.run(command(profile, whole), check=True, capture_output=True, env=ENV)
    return profile, whole, evaluate_run(whole)


ENV = dict(os.environ, OMP_NUM_THREADS="1")


def command(profile: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "gonbench", "train", "--config", str(profile), "--experiment", "first",
            "--method", "gon", "--dataset", "digits", "--seed", "0", "--out", str(out), "--no-progress"]


def kill_after(cmd: list[str], seconds: float) -> bool:
    """Start the command and SIGKILL it after ``seconds``; True when it had finished before."""
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return False


def same_weights(a: Path, b: Path) -> bool:
    wa = torch.load(a / "checkpoint.pt", weights_only=True)["model"]
    wb = torch.load(b / "checkpoint.pt", weights_only=True)["model"]
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_twenty_kills_at_random_moments_resume_bit_identical(setup, tmp_path):
    profile, whole, expected = setup
    out = tmp_path / "cut"
    rng = random.Random(20261125)
    t0 = time.perf_counter()
    subprocess.run(command(profile, tmp_path / "timing"), check=True, capture_output=True, env=ENV)
    full = time.perf_counter() - t0
    epoch = json.loads((tmp_path / "timing" / "train.json").read_text())["train_seconds"] / EPOCHS
    # a kill anywhere from the start of the process to 1.5 epochs into training: start-up, mid-epoch,
    # validation and checkpoint writes (20 kills make about 30 of 60 epochs when start-up takes as long as it
    # did in the timing run; on a machine whose load falls meanwhile, later start-ups are shorter and a few
    # kills may land after the run has finished, which the guard below tolerates)
    window = full - EPOCHS * epoch + 1.5 * epoch
    finished_early, epochs_at_kill = 0, set()
    for _ in range(KILLS):
        finished_early += kill_after(command(profile, out), rng.uniform(0.0, window))
        if (out / "checkpoint.pt").exists():
            epochs_at_kill.add(torch.load(out / "checkpoint.pt", weights_only=True)["epoch"])
    subprocess.run(command(profile, out), check=True, capture_output=True, env=ENV)
    killed = KILLS - finished_early
    assert killed >= 3 * KILLS // 4, f"only {killed} of {KILLS} kills landed before the run finished"
    assert len(epochs_at_kill) >= 3, f"the kills interrupted training at epochs {sorted(epochs_at_kill)} only"
    assert same_weights(out, whole)
    assert {k: evaluate_run(out)[k] for k in HEADLINE} == {k: expected[k] for k in HEADLINE}
    assert not list(out.glob(".*.tmp")) and not (out / ".lock").exists()


def test_a_checkpoint_truncated_after_a_kill_resumes_from_the_one_before(setup, tmp_path):
    profile, whole, expected = setup
    out = tmp_path / "cut"
    deadline = time.time() + 300
    kill_after(command(profile, out), 0.0)
    while not ((out / "checkpoint.prev.pt").exists() and (out / "checkpoint.pt").exists()) \
            and time.time() < deadline:  # two epochs written
        kill_after(command(profile, out), 6.0)
    ckpt = out / "checkpoint.pt"
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])
    done = subprocess.run(command(profile, out), capture_output=True, text=True, env=ENV)
    assert done.returncode == 0 and "checkpoint.pt.corrupt" in done.stderr, done.stderr
    assert same_weights(out, whole)
    assert {k: evaluate_run(out)[k] for k in HEADLINE} == {k: expected[k] for k in HEADLINE}
