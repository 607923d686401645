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
from .errors import RunStateError
from .images import save_grid
from .io import write_json
from .runs import Run, load_run
from .runtime import environment, peak_memory_mb, seed_everything
from .validation import validation_pass

PROTOCOLS = ("train", "eval")


def evaluate_run(run_dir: str | Path, device: str = "cpu") -> dict:
    t0 = time.perf_counter()
    run = load_run(run_dir, device=device)
    ckpt = torch.load(run.path / "checkpoint.pt", map_location="cpu", weights_only=False)
    if ckpt["epoch"] < run.spec["epochs"]:
        raise RunStateError(f"{run.path} is unfinished ({ckpt['epoch']}/{run.spec['epochs']} epochs); train it first")
    model, spec = run.model, run.spec
    x, y = run.val_data()
    x, y = x.to(run.device), y.to(run.device)
    # in the stored form the loop reads: uint8 images, or float signals / codes as they are
    stored = x if run.splits().val.is_floating_point() else (x * 255).round().to(torch.uint8)
    result: dict = {"protocol": {"bn_headline": spec["bn_protocol"], "eval_batch_size": spec["batch_size"],
                                 "val_images": len(x), "last_batch": "padded by wrap-around, padding ignored"}}
    outputs = {}
    for protocol in PROTOCOLS:
        seed_everything(spec["seed"])  # stochastic metrics (a VAE's ELBO samples z) repeat in every process
        per_image = validation_pass(model, stored, y, spec["batch_size"], protocol)
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
        _save_grid(run.path / "reconstructions.png", torch.stack([x[:32], recon[:32]], 1).flatten(0, 1), nrow=8)
    if model.can_sample:
        torch.manual_seed(spec["seed"])
        with torch.no_grad():
            _save_grid(run.path / "samples.png", model.sample(64), nrow=8)
    result.update(method_metrics(run))
    result.update({
        "epochs": ckpt["epoch"], "train_seconds": ckpt["train_seconds"], "eval_seconds": time.perf_counter() - t0,
        "train_memory": ckpt.get("memory", {}), "eval_memory": peak_memory_mb(run.device),
        "environment": environment(run.device), "config_hash": spec["config_hash"],
    })
    write_json(run.path / "metrics.json", result)
    return result


def method_metrics(run: Run) -> dict:
    """Extra metrics a method defines (e.g. GLO's fitted validation latents), when it has any."""
    extra = getattr(run.model, "extra_metrics", None)
    return extra(run) if extra else {}


def _save_grid(path: Path, images: torch.Tensor, nrow: int) -> None:
    save_grid(path, images, nrow)
