"""The one training loop: seeded, resumable (a checkpoint after every epoch), logged, atomic.

A run directory holds config.json (the resolved spec), checkpoint.pt (model, optimisers, RNG states, epoch,
the log so far; the one before it as checkpoint.prev.pt) and log.jsonl (one line per epoch, rewritten from
the checkpoint on resume so a kill between the two writes never duplicates an epoch); methods that log per
step (PPGN's generator steps) also get steps.jsonl, kept the same way. Rerunning a finished run does
nothing; rerunning an interrupted one resumes from its last completed epoch and ends bit-identical to an
uninterrupted run (same machine, same thread count, which the spec records). The step itself is
``method.train_step``: the loop knows nothing of losses.

Inside an epoch the loop never waits for the device: step losses stay device tensors, summed on the device;
once per epoch they are read back, and a non-finite loss is reported with the first step it appeared at.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch
from tqdm import tqdm

from . import paths
from .batches import epoch_batches, steps_per_epoch, to_unit
from .config import train_config
from .data import ImageSplits
from .errors import ConfigError, TrainingDiverged
from .io import write_json, write_text
from .methods import Method
from .rundir import claim, is_trained, load_latest_checkpoint, locked, make_dir, save_checkpoint
from .runs import build_model, data_info, load_networks, select_subsets
from .runtime import peak_memory_mb
from .seeding import rng_state, seed_everything, set_rng_state
from .validation import batchnorm_mode, validation_pass


def check_trainable(spec: dict, splits: ImageSplits) -> None:
    """Refuse a run that would take no optimiser step (more images per batch than the data has)."""
    n = len(splits.train)
    if steps_per_epoch(n, spec["batch_size"]) == 0:
        raise ConfigError(f"batch_size={spec['batch_size']} is larger than the {n} training images of "
                          f"{spec['dataset']} (train_size={spec['train_size']}): with drop_last an epoch would take "
                          f"no optimiser step; valid: batch_size <= {n}")


def train_run(spec: dict, out: Path, splits: ImageSplits, *, device: torch.device, progress: bool = True,
              superseded: Path | None = None, stop_after_steps: int | None = None) -> Method:
    """Train (or resume, or skip) the run ``spec`` in ``out``. Everything that can be checked is checked
    before the directory is touched. ``superseded``: where a different run found in ``out`` is moved
    (else it is refused). ``stop_after_steps`` simulates a kill."""
    out = Path(out)
    tc = train_config(spec)
    splits = select_subsets(splits, spec)
    check_trainable(spec, splits)
    networks = load_networks(spec, device)
    seed_everything(spec["seed"])
    model = build_model(spec, data_info(splits, spec["dataset"]), device, networks)  # config errors raise here
    optimizers = model.configure_optimizers()
    torch.set_num_threads(tc.threads)
    make_dir(out)
    with locked(out):
        claim(out, spec, superseded)
        return _train(model, optimizers, spec, out, splits, device, progress, stop_after_steps)


def _train(model: Method, optimizers: dict, spec: dict, out: Path, splits: ImageSplits, device: torch.device,
           progress: bool, stop_after_steps: int | None) -> Method:
    tc = train_config(spec)
    train_x, train_y = splits.train.to(device), splits.train_labels.to(device)
    val_x, val_y = splits.val.to(device), splits.val_labels.to(device)
    log: list[dict] = []
    steps: list[dict] = []  # per-step records of methods that make them (pop_step_records) -> steps.jsonl
    start_epoch, train_seconds, snapshots = 0, 0.0, []
    ckpt = load_latest_checkpoint(out, device)
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        for name, opt in optimizers.items():
            opt.load_state_dict(ckpt["optimizers"][name])
        set_rng_state(ckpt["rng"])
        start_epoch, log, train_seconds = ckpt["epoch"], ckpt["log"], ckpt["train_seconds"]
        snapshots, steps = ckpt.get("snapshots", []), ckpt.get("steps", [])
        _write_logs(out, log, steps)
    if start_epoch >= tc.epochs:
        _write_summary(out, spec, log, train_seconds)
        return model

    pending_snapshots = sorted(t for t in tc.snapshot_seconds if t > train_seconds)
    steps_done = 0
    bar = tqdm(range(start_epoch, tc.epochs), initial=start_epoch, total=tc.epochs, disable=not progress,
               desc=f"{spec['method_label']}/{spec['dataset']}/seed{spec['seed']}", unit="epoch", mininterval=2)
    for epoch in bar:
        model.train()
        t0 = time.perf_counter()
        sums: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}  # a key may be logged on some steps only (PPGN: generator terms)
        losses: list[torch.Tensor] = []
        for batch in epoch_batches(train_x, train_y, tc.batch_size, seed=spec["seed"], epoch=epoch):
            logs = model.train_step(batch, optimizers)
            for k, v in logs.items():
                v = torch.as_tensor(v, dtype=torch.float64, device=device)
                sums[k] = sums[k] + v if k in sums else v
                counts[k] = counts.get(k, 0) + 1
            losses.append(torch.as_tensor(logs["loss"], device=device))
            steps_done += 1
            if pending_snapshots and train_seconds + time.perf_counter() - t0 >= pending_snapshots[0]:
                snapshots.append(_snapshot(model, val_x, tc, train_seconds + time.perf_counter() - t0))
                pending_snapshots.pop(0)
            if stop_after_steps is not None and steps_done >= stop_after_steps:
                raise KeyboardInterrupt(f"stopped after {steps_done} steps (simulated kill)")
        _check_finite(torch.stack(losses), spec, epoch, out)
        epoch_seconds = time.perf_counter() - t0
        train_seconds += epoch_seconds
        record = {"epoch": epoch + 1, "seconds": round(epoch_seconds, 4), "train_seconds": round(train_seconds, 4),
                  "steps": len(losses), **{f"train_{k}": float(v) / counts[k] for k, v in sums.items()}}
        steps += [dict(r, epoch=epoch + 1) for r in model.pop_step_records()]
        if (epoch + 1) % tc.val_every == 0 or epoch + 1 == tc.epochs:
            record.update({f"val_{k}": v for k, v in _val_means(model, val_x, val_y, tc).items()})
        log.append(record)
        bar.set_postfix(loss=f"{record.get('train_loss', float('nan')):.4f}")
        save_checkpoint(out, {"spec": spec, "epoch": epoch + 1, "model": model.state_dict(),
                              "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                              "rng": rng_state(), "log": log, "train_seconds": train_seconds,
                              "snapshots": snapshots, "steps": steps, "memory": peak_memory_mb(device)})
        _write_logs(out, log, steps)
    _write_summary(out, spec, log, train_seconds)
    return model


def _check_finite(losses: torch.Tensor, spec: dict, epoch: int, out: Path) -> None:
    """One read-back per epoch: name the first step whose loss was not finite (nothing of the epoch is kept)."""
    bad = ~torch.isfinite(losses)
    if not bool(bad.any()):
        return
    step = int(bad.nonzero()[0, 0])
    kept = (f"the last good checkpoint is epoch {epoch}" if epoch > 0
            else "no checkpoint was written (it diverged in the first epoch)")
    message = (f"{spec['method_label']} on {spec['dataset']} (seed {spec['seed']}): loss became "
               f"{float(losses[step])} at epoch {epoch + 1}, step {step + 1}; {kept}; lower lr or check the data")
    write_json(out / paths.DIVERGED, {"message": message, "epoch": epoch + 1, "step": step + 1})
    raise TrainingDiverged(message)


def _write_logs(out: Path, log: list[dict], steps: list[dict]) -> None:
    write_text(out / paths.LOG, "".join(_jsonl(r) for r in log))
    if steps:
        write_text(out / paths.STEPS, "".join(_jsonl(r) for r in steps))


def _write_summary(out: Path, spec: dict, log: list[dict], train_seconds: float) -> None:
    """train.json marks a finished training (checkpoint.pt is not a DAG output, so a failed or killed job
    never makes Snakemake delete the checkpoint it would resume from)."""
    (out / paths.DIVERGED).unlink(missing_ok=True)
    write_json(out / paths.TRAIN_SUMMARY, {"epochs": len(log), "train_seconds": train_seconds,
                                           "final": log[-1] if log else {}, "config_hash": spec["config_hash"]})


def _val_means(model: Method, val_x: torch.Tensor, val_y: torch.Tensor, tc) -> dict[str, float]:
    per_image = validation_pass(model, val_x, val_y, tc.batch_size, tc.bn_protocol)
    return {k: float(v.mean()) for k, v in per_image.items() if not k.startswith("_")}


def _snapshot(model: Method, val_x: torch.Tensor, tc, seconds: float) -> dict:
    """Reconstructions of the first validation images at a wall-clock time (GON paper, Figure 8)."""
    with torch.no_grad(), batchnorm_mode(model, tc.bn_protocol):
        recon = model.reconstruct(to_unit(val_x[: tc.batch_size]))[:8]
    return {"seconds": seconds, "recon": (recon.clamp(0, 1) * 255).round().to(torch.uint8).cpu()}


def _jsonl(record: dict) -> str:
    return json.dumps(record, sort_keys=True) + "\n"


__all__ = ["train_run", "check_trainable", "is_trained"]
