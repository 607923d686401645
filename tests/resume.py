"""The kill-and-resume check every family's run tests share: a run stopped mid-epoch and resumed ends with the
metrics and per-epoch log of the same run trained in one go (timings aside)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gonbench import paths
from gonbench.evaluate import evaluate_run
from gonbench.io import read_json, read_jsonl
from gonbench.train import train_run


def comparable(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if isinstance(v, float) and "seconds" not in k}


def untimed(log: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if "seconds" not in k} for r in log]


def assert_killed_run_resumes_as_whole(spec: dict, cut: Path, whole: Path, splits) -> None:
    """Stop ``spec`` after 6 steps (inside its first epoch) in ``cut``, resume it, and compare with ``whole``."""
    with pytest.raises(KeyboardInterrupt):
        train_run(spec, cut, splits, device=torch.device("cpu"), progress=False, stop_after_steps=6)
    assert torch.load(cut / paths.CHECKPOINT, weights_only=False)["epoch"] == 1
    train_run(spec, cut, splits, device=torch.device("cpu"), progress=False)
    assert comparable(evaluate_run(cut)) == comparable(read_json(whole / paths.METRICS))
    assert untimed(read_jsonl(cut / paths.LOG)) == untimed(read_jsonl(whole / paths.LOG))
