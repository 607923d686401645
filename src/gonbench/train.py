"""The one training loop: seeded, resumable (a checkpoint after every epoch), logged, atomic.

A run directory holds config.json (the resolved spec), checkpoint.pt (model, optimisers, RNG states,
epoch, the log so far) and log.jsonl (one line per epoch, rewritten from the checkpoint on resume so a
kill between the two writes never duplicates an epoch); methods that log per step (PPGN's generator steps)
also get steps.jsonl, kept the same way. Rerunning a finished run does nothing; rerunning
an interrupted one resumes from its last completed epoch and ends bit-identical to an uninterrupted run
(same machine). The step itself is ``method.train_step``: the loop knows nothing of losses.

Several seeds of one method could later be trained as one batched model: the loop touches the model only
through ``train_step``/``validation pass`` and keeps per-run state (RNG, data order) keyed by the seed.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import torch
from tqdm import tqdm

from .config import method_values, spec_differences, train_config
from .data import ImageSplits, subset
from .errors import SpecMismatch, TrainingDiverged
from .io import read_json, torch_save, write_json, write_text
from .methods import DataInfo, Method, build_method
from .runtime import batchnorm_mode, epoch_batches, peak_memory_mb, rng_state, seed_everything, set_rng_state
from .validation import validation_pass


def data_info(splits: ImageSplits, classes: int) -> DataInfo:
    _, c, _, w = splits.train.shape  # the last axis: images are square, 1-D signals are [N, 1, 1, n]
    return DataInfo(channels=c, image_size=w, classes=classes, train_size=len(splits.train))


def select_subsets(splits: ImageSplits, spec: dict) -> ImageSplits:
    train, train_y = subset(splits.train, splits.train_labels, spec["train_size"])
    val, val_y = subset(splits.val, splits.val_labels, spec["val_size"])
    return ImageSplits(train, train_y, val, val_y, splits.meta)


def claim_run_dir(out: Path, spec: dict) -> None:
    """Write config.json, or check that the one already there describes the same run."""
    cfg_path = out / "config.json"
    if cfg_path.exists():
        changed = spec_differences(read_json(cfg_path), spec)
        if changed:
            raise SpecMismatch(f"{out} holds a run with a different spec (differs in: {', '.join(changed)}); "
                               f"delete the directory or choose another --out")
    else:
        write_json(cfg_path, spec)


def is_finished(out: Path, spec: dict) -> bool:
    """A finished run has train.json and a config.json describing this same run."""
    out = Path(out)
    return (out / "train.json").exists() and (out / "config.json").exists() \
        and not spec_differences(read_json(out / "config.json"), spec)


def build_model(spec: dict, info: DataInfo, device: torch.device) -> Method:
    return build_method(spec["method"], info, **method_values(spec)).to(device)


def train_run(spec: dict, out: Path, splits: ImageSplits, *, classes: int, device: torch.device,
              progress: bool = True, stop_after_steps: int | None = None) -> Method:
    """Train (or resume, or skip) the run ``spec`` in ``out``. ``stop_after_steps`` simulates a kill."""
    out = Path(out)
    claim_run_dir(out, spec)
    tc = train_config(spec)
    splits = select_subsets(splits, spec)
    info = data_info(splits, classes)
    seed_everything(spec["seed"])
    model = build_model(spec, info, device)
    optimizers = model.configure_optimizers()
    train_x, train_y = splits.train.to(device), splits.train_labels.to(device)
    val_x, val_y = splits.val.to(device), splits.val_labels.to(device)

    ckpt_path = out / "checkpoint.pt"
    log: list[dict] = []
    steps: list[dict] = []  # per-step records of methods that make them (pop_step_records) -> steps.jsonl
    start_epoch, train_seconds, snapshots = 0, 0.0, []
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(ckpt["model"])
        for name, opt in optimizers.items():
            opt.load_state_dict(ckpt["optimizers"][name])
        set_rng_state(ckpt["rng"])
        start_epoch, log, train_seconds = ckpt["epoch"], ckpt["log"], ckpt["train_seconds"]
        snapshots, steps = ckpt.get("snapshots", []), ckpt.get("steps", [])
        write_text(out / "log.jsonl", "".join(_jsonl(r) for r in log))
        if steps:
            write_text(out / "steps.jsonl", "".join(_jsonl(r) for r in steps))
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
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}  # a key may be logged on some steps only (PPGN: generator terms)
        n_steps = 0
        for step, batch in enumerate(epoch_batches(train_x, train_y, tc.batch_size, seed=spec["seed"], epoch=epoch)):
            logs = model.train_step(batch, optimizers)
            if not math.isfinite(logs["loss"]):
                raise TrainingDiverged(f"{spec['method_label']} on {spec['dataset']} (seed {spec['seed']}): loss became "
                                       f"{logs['loss']} at epoch {epoch + 1}, step {step + 1}; the last good checkpoint "
                                       f"is epoch {epoch}")
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + v
                counts[k] = counts.get(k, 0) + 1
            n_steps += 1
            steps_done += 1
            if pending_snapshots and train_seconds + time.perf_counter() - t0 >= pending_snapshots[0]:
                snapshots.append(_snapshot(model, val_x, tc, train_seconds + time.perf_counter() - t0))
                pending_snapshots.pop(0)
            if stop_after_steps is not None and steps_done >= stop_after_steps:
                raise KeyboardInterrupt(f"stopped after {steps_done} steps (simulated kill)")
        epoch_seconds = time.perf_counter() - t0
        train_seconds += epoch_seconds
        record = {"epoch": epoch + 1, "seconds": round(epoch_seconds, 4), "train_seconds": round(train_seconds, 4),
                  "steps": n_steps, **{f"train_{k}": v / counts[k] for k, v in sums.items()}}
        steps += [dict(r, epoch=epoch + 1) for r in model.pop_step_records()]
        if (epoch + 1) % tc.val_every == 0 or epoch + 1 == tc.epochs:
            record.update({f"val_{k}": v for k, v in _val_means(model, val_x, val_y, tc).items()})
        log.append(record)
        bar.set_postfix(loss=f"{record.get('train_loss', float('nan')):.4f}")
        torch_save(ckpt_path, {"spec": spec, "epoch": epoch + 1, "model": model.state_dict(),
                               "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                               "rng": rng_state(), "log": log, "train_seconds": train_seconds,
                               "snapshots": snapshots, "steps": steps, "memory": peak_memory_mb(device)})
        write_text(out / "log.jsonl", "".join(_jsonl(r) for r in log))
        if steps:
            write_text(out / "steps.jsonl", "".join(_jsonl(r) for r in steps))
    _write_summary(out, spec, log, train_seconds)
    return model


def _write_summary(out: Path, spec: dict, log: list[dict], train_seconds: float) -> None:
    """train.json marks a finished run (the Snakefile's train output; checkpoint.pt is not declared,
    so a failed or killed job never makes Snakemake delete the checkpoint it would resume from)."""
    write_json(out / "train.json", {"epochs": len(log), "train_seconds": train_seconds,
                                    "final": log[-1] if log else {}, "config_hash": spec["config_hash"]})


def _val_means(model: Method, val_x: torch.Tensor, val_y: torch.Tensor, tc) -> dict[str, float]:
    per_image = validation_pass(model, val_x, val_y, tc.batch_size, tc.bn_protocol)
    return {k: float(v.mean()) for k, v in per_image.items() if not k.startswith("_")}


def _snapshot(model: Method, val_x: torch.Tensor, tc, seconds: float) -> dict:
    """Reconstructions of the first validation images at a wall-clock time (GON paper, Figure 8)."""
    from .runtime import to_unit

    with torch.no_grad(), batchnorm_mode(model, tc.bn_protocol):
        recon = model.reconstruct(to_unit(val_x[: tc.batch_size]))[:8]
    return {"seconds": seconds, "recon": (recon.clamp(0, 1) * 255).round().to(torch.uint8).cpu()}


def _jsonl(record: dict) -> str:
    import json

    return json.dumps(record, sort_keys=True) + "\n"
