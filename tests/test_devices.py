"""Device choice: `--device auto` gives concurrent jobs different GPUs through one lock file per device
(tested with a stubbed device count: no GPU is needed), and a bad device name is one line."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from gonbench import runtime
from gonbench.errors import ConfigError


@pytest.fixture
def three_gpus(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    monkeypatch.setenv(runtime.GPU_LOCKS_ENV, str(tmp_path))
    yield tmp_path
    runtime.release_gpus()


def claim_in_another_process(lock_dir) -> subprocess.CompletedProcess:
    script = ("import os, torch\n"
              "torch.cuda.is_available = lambda: True\n"
              "torch.cuda.device_count = lambda: 3\n"
              f"os.environ['{runtime.GPU_LOCKS_ENV}'] = {str(lock_dir)!r}\n"
              "from gonbench.runtime import select_device\n"
              "print(select_device('auto', wait_seconds=0))\n")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)


def test_concurrent_jobs_get_different_gpus_and_a_claim_ends_with_its_process(three_gpus):
    first, second = runtime.select_device("auto"), runtime.select_device("auto")
    assert {str(first), str(second)} == {"cuda:0", "cuda:1"}
    other = claim_in_another_process(three_gpus)
    assert other.stdout.strip() == "cuda:2", other.stderr  # the only free one
    assert claim_in_another_process(three_gpus).stdout.strip() == "cuda:2"  # that process exited: free again
    runtime.release_gpus()
    assert claim_in_another_process(three_gpus).stdout.strip() == "cuda:0"


def test_no_free_gpu_is_one_line_naming_the_count(three_gpus):
    for _ in range(3):
        runtime.select_device("auto")
    with pytest.raises(ConfigError, match=r"all 3 GPUs are held .*--resources gpu=3"):
        runtime.select_device("auto", wait_seconds=0)


@pytest.mark.parametrize("name,expected", [("tpu", "unknown device 'tpu'"), ("cuda:5", "does not exist"),
                                           ("cuda:x", "unknown device")])
def test_bad_device_names_are_refused_with_the_choices(three_gpus, name, expected):
    with pytest.raises(ConfigError, match=expected):
        runtime.select_device(name)


def test_cuda_asked_for_without_cuda_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="CUDA is not available; valid choices here: auto, cpu"):
        runtime.select_device("cuda")
    assert runtime.select_device("auto") == torch.device("cpu")
