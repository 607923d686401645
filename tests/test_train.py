"""The loop's promises: same seed -> same metrics, a killed run resumes to identical metrics, NaN stops it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from gonbench.config import resolve_spec
from gonbench.errors import SpecMismatch, TrainingDiverged
from gonbench.evaluate import evaluate_run
from gonbench.io import read_json, read_jsonl
from gonbench.train import train_run

from .conftest import tiny_profile

HEADLINE = ("recon_sse", "recon_sse_bn_train", "recon_sse_bn_eval", "psnr", "ssim")


def spec_for(tmp_path, method="gon", **overrides):
    cfg = tiny_profile(tmp_path)
    return resolve_spec(cfg, experiment="table1", method=method, dataset="digits", seed=0,
                        overrides={"epochs": 3, "train_size": 256, "val_size": 128, **overrides})


def train_and_evaluate(spec, out, splits, **kw):
    train_run(spec, out, splits, device=torch.device("cpu"), progress=False, **kw)
    return evaluate_run(out)


def test_same_seed_gives_identical_metrics(tmp_path, digits_splits):
    spec = spec_for(tmp_path)
    a = train_and_evaluate(spec, tmp_path / "a", digits_splits)
    b = train_and_evaluate(spec, tmp_path / "b", digits_splits)
    assert {k: a[k] for k in HEADLINE} == {k: b[k] for k in HEADLINE}
    seed1 = resolve_spec(tiny_profile(tmp_path), experiment="table1", method="gon", dataset="digits", seed=1,
                         overrides={"epochs": 3, "train_size": 256, "val_size": 128})
    other = train_and_evaluate(seed1, tmp_path / "c", digits_splits)
    assert other["recon_sse"] != a["recon_sse"]


@pytest.mark.parametrize("method", ["gon", "ae", "glo"])
def test_interrupted_run_resumes_to_identical_metrics(tmp_path, digits_splits, method):
    fast_fit = {"fit_max_steps": 60, "fit_window": 20} if method == "glo" else {}  # GLO refits per validation
    spec = spec_for(tmp_path, method, **fast_fit)
    whole = train_and_evaluate(spec, tmp_path / "whole", digits_splits)
    # 4 batches of 64 per epoch: stop in the middle of epoch 2, then rerun the same command
    with pytest.raises(KeyboardInterrupt):
        train_run(spec, tmp_path / "cut", digits_splits, device=torch.device("cpu"), progress=False,
                  stop_after_steps=6)
    assert torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=False)["epoch"] == 1
    resumed = train_and_evaluate(spec, tmp_path / "cut", digits_splits)
    assert {k: resumed[k] for k in HEADLINE} == {k: whole[k] for k in HEADLINE}
    assert [r["epoch"] for r in read_jsonl(tmp_path / "cut" / "log.jsonl")] == [1, 2, 3]
    strip = lambda log: [{k: v for k, v in r.items() if "seconds" not in k} for r in log]  # noqa: E731
    assert strip(read_jsonl(tmp_path / "cut" / "log.jsonl")) == strip(read_jsonl(tmp_path / "whole" / "log.jsonl"))


def test_sigkill_mid_epoch_then_rerun_matches_uninterrupted(tmp_path):
    """The real thing: SIGKILL the CLI process during epoch 2, run the same command again."""
    cfg_path = tmp_path / "profile.yaml"
    import yaml

    cfg = tiny_profile(tmp_path)
    cfg["defaults"] = {"epochs": 4, "train_size": 1024, "val_size": 128}
    cfg_path.write_text(yaml.safe_dump(cfg))
    env = dict(os.environ, OMP_NUM_THREADS="1")

    def command(out):
        return [sys.executable, "-m", "gonbench", "train", "--config", str(cfg_path), "--method", "gon",
                "--dataset", "digits", "--seed", "0", "--out", str(out), "--threads", "1", "--no-progress"]

    subprocess.run(command(tmp_path / "whole"), check=True, env=env, capture_output=True)
    proc = subprocess.Popen(command(tmp_path / "cut"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = tmp_path / "cut" / "checkpoint.pt"
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # well inside epoch 2 (an epoch of 16 steps takes over a second here)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    epoch_at_kill = torch.load(ckpt, weights_only=False)["epoch"]
    assert 1 <= epoch_at_kill < 4, "the kill should land before the run finished"
    assert not (tmp_path / "cut" / "train.json").exists()
    subprocess.run(command(tmp_path / "cut"), check=True, env=env, capture_output=True)
    whole, resumed = evaluate_run(tmp_path / "whole"), evaluate_run(tmp_path / "cut")
    assert {k: resumed[k] for k in HEADLINE} == {k: whole[k] for k in HEADLINE}


def test_finished_run_is_a_noop_and_spec_change_is_refused(tmp_path, digits_splits):
    spec = spec_for(tmp_path)
    out = tmp_path / "run"
    train_run(spec, out, digits_splits, device=torch.device("cpu"), progress=False)
    stamp = (out / "checkpoint.pt").stat().st_mtime_ns
    train_run(spec, out, digits_splits, device=torch.device("cpu"), progress=False)
    assert (out / "checkpoint.pt").stat().st_mtime_ns == stamp
    changed = spec_for(tmp_path, lr=1e-3)
    with pytest.raises(SpecMismatch, match="differs in: lr"):
        train_run(changed, out, digits_splits, device=torch.device("cpu"), progress=False)
    assert read_json(out / "config.json")["lr"] == spec["lr"]  # nothing overwritten


def test_nan_loss_stops_with_a_clear_error(tmp_path, digits_splits):
    spec = spec_for(tmp_path, lr=1e30)
    with pytest.raises(TrainingDiverged, match=r"loss became (nan|inf) at epoch \d+, step \d+"):
        train_run(spec, tmp_path / "nan", digits_splits, device=torch.device("cpu"), progress=False)


def test_written_files_are_readable_by_others(tmp_path):
    from gonbench.io import write_json

    write_json(tmp_path / "a.json", {"x": 1})
    mode = (tmp_path / "a.json").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_stochastic_metrics_do_not_depend_on_the_process_rng(tmp_path, digits_splits):
    """A VAE's ELBO samples z: evaluating in a fresh process (another global RNG state) gives the same number."""
    spec = spec_for(tmp_path, "vae", epochs=1)
    first = train_and_evaluate(spec, tmp_path / "run", digits_splits)["elbo_bpd"]
    torch.manual_seed(12345)
    assert evaluate_run(tmp_path / "run")["elbo_bpd"] == first
