"""Final metrics of a run on its validation split -> metrics.json, plus reconstruction/sample grids.

Every number records how it was obtained: the BatchNorm protocol (the GON reference code evaluates with
BatchNorm in train mode at batch 64, where batch statistics set the latent scale; we report both modes and
name the headline one), the validation subset size, versions, device, wall time and peak memory.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from . import metrics as M
from . import paths
from .errors import RunStateError
from .images import save_grid
from .io import read_json, read_jsonl, torch_save, write_json
from .methods import EvaluationContext
from .pretrain import pretrained_summary
from .runs import Run, load_networks, load_run
from .runtime import environment, peak_memory_mb
from .sample_quality import unconditional_scores
from .seeding import generator, seed_everything
from .validation import (ALL_PROTOCOLS, PROTOCOLS, batchnorm_layers, batchnorm_mode, record_pass_statistics,
                         validation_pass)

HEADLINE = ("recon_sse", "elbo_bpd", "nll_bpd", "psnr", "ssim")  # what the CLI prints and cell.json keeps per seed


def evaluate_run(run_dir: str | Path, device: str = "cpu") -> dict:
    t0 = time.perf_counter()
    run = load_run(run_dir, device=device)
    diverged = run.path / paths.DIVERGED
    if diverged.exists():
        raise RunStateError(f"{run.path} did not finish training: {read_json(diverged)['message']}")
    ckpt = run.checkpoint()
    if ckpt["epoch"] < run.spec["epochs"]:
        raise RunStateError(f"{run.path} is unfinished ({ckpt['epoch']}/{run.spec['epochs']} epochs); train it first")
    model, spec = run.model, run.spec
    x, y = (t.to(run.device) for t in run.val_data())
    result: dict = {"protocol": {"bn_headline": spec["bn_protocol"], "eval_batch_size": spec["batch_size"],
                                 "val_images": len(x), "last_batch": "padded by wrap-around, padding ignored",
                                 "bn_recal": "BatchNorm statistics per pass, averaged over the training set"}}
    outputs = {}
    statistics = None
    if batchnorm_layers(model):  # per-pass statistics recomputed on the training set (validation.py)
        seed_everything(spec["seed"])
        statistics = record_pass_statistics(model, run.train_data()[0].to(run.device), spec["batch_size"])
    for protocol in ALL_PROTOCOLS if statistics is not None else PROTOCOLS:
        seed_everything(spec["seed"])  # stochastic metrics (a VAE's ELBO samples z) repeat in every process
        per_image = validation_pass(model, x, y, spec["batch_size"], protocol, statistics)
        for key, values in per_image.items():
            if key.startswith("_"):
                outputs[(protocol, key)] = values
                continue
            result[f"{key}_bn_{protocol}"] = float(values.mean())
            if protocol == spec["bn_protocol"]:
                result[key] = float(values.mean())
    recon = outputs.get((spec["bn_protocol"], "_recon"))
    if recon is not None:
        recon = recon.to(x.device)
        result["psnr"] = M.psnr(recon, x)
        result["ssim"] = M.ssim(recon, x)
        save_grid(run.path / paths.RECONSTRUCTIONS, torch.stack([x[:32], recon[:32]], 1).flatten(0, 1), nrow=8)
    networks = load_networks(spec, run.device)
    if model.can_sample:
        result.update(sample_scores(run, x, networks.get("judge")))
    result.update(method_extras(run, x, y, outputs, networks))
    result.update({
        "epochs": ckpt["epoch"], "train_seconds": ckpt["train_seconds"], "eval_seconds": time.perf_counter() - t0,
        "step_seconds": sum(r["seconds"] for r in run.log) / max(sum(r["steps"] for r in run.log), 1),
        "train_memory": ckpt.get("memory", {}), "eval_memory": peak_memory_mb(run.device),
        "environment": environment(run.device), "config_hash": spec["config_hash"],
    })
    write_json(run.path / paths.METRICS, result)
    return result


def draw_samples(model, n: int, batch_size: int, bn_protocol: str) -> torch.Tensor:
    """``n`` samples in [0, 1], drawn in full batches of the training batch size with BatchNorm in the run's
    protocol (in train mode a batch's statistics shape its samples, so every batch has the same size)."""
    batches = []
    with torch.no_grad(), batchnorm_mode(model, bn_protocol):
        for _ in range(-(-n // batch_size)):
            batches.append(model.sample(batch_size).clamp(0, 1))
    return torch.cat(batches)[:n]


def sample_scores(run: Run, x: torch.Tensor, judge) -> dict:
    """The samples grid and, with a judge, the scores of ``sample_count`` class-free samples against the
    validation images (KID, confidence, IS; sample_quality.py) and the seconds each sample took."""
    spec = run.spec
    seed_everything(spec["seed"])
    n = spec["sample_count"] if judge is not None else 64
    t0 = time.perf_counter()
    samples = draw_samples(run.model, n, spec["batch_size"], spec["bn_protocol"])
    seconds = time.perf_counter() - t0
    save_grid(run.path / paths.SAMPLES, samples[:64], nrow=8)
    if judge is None:
        return {}
    scores = unconditional_scores(judge, samples, x, rng=generator(spec["seed"]))
    return {**scores, "sample_seconds": seconds / n}


def method_extras(run: Run, x: torch.Tensor, y: torch.Tensor,
                  outputs: dict[tuple[str, str], torch.Tensor] | None = None, networks: dict | None = None) -> dict:
    """The method's own evaluation (its files written here) and the held-out scores of each pretrained
    network the run used."""
    networks = load_networks(run.spec, run.device) if networks is None else networks
    summaries = {name: pretrained_summary(file) for name, file in run.spec.get("network_files", {}).items()}
    ctx = EvaluationContext(val_x=x, val_y=y, seed=run.spec["seed"], steps=read_jsonl(run.path / paths.STEPS),
                            log=read_jsonl(run.path / paths.LOG),
                            networks=networks, outputs=outputs or {}, bn_protocol=run.spec["bn_protocol"],
                            batch_size=run.spec["batch_size"], network_summaries=summaries)
    extras = run.model.evaluation_extras(ctx)
    for name, (images, nrow) in extras.grids.items():
        save_grid(run.path / name, images, nrow=nrow)
    for name, tensors in extras.tensors.items():
        torch_save(run.path / name, tensors)
    metrics = dict(extras.metrics)
    for field_name, summary in summaries.items():
        metrics.update({f"{field_name}_{k}": v for k, v in summary.items() if k.startswith("test_")
                        and k != "test_images"})
    return metrics
