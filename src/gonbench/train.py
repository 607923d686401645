"""The one training loop: seeded, resumable (a checkpoint after every epoch), logged, atomic.

A run directory holds config.json (the resolved spec), checkpoint.pt (model, optimisers, RNG states, epoch,
the log so far; the one before it as checkpoint.prev.pt) and log.jsonl (one line per epoch, rewritten from
the checkpoint on resume so a kill between the two writes never duplicates an epoch); methods that log per
step (PPGN's generator steps) also get steps.jsonl, kept the same way. Rerunning a finished run does
nothing; rerunning an interrupted one resumes from its last completed epoch and ends bit-identical to an
uninterrupted run (same machine, same thread count, which the spec records). The step itself is
``method.train_step``: the loop knows nothing of losses.

The loop trains S runs at once: the seeds of one cell stacked into one model (gonbench.seedstack), S = 1
being a run on its own. Each seed keeps its own run directory, data order, noise stream, log and checkpoint.
Inside an epoch the loop never waits for the device: step losses stay device tensors, summed on the device;
once per epoch they are read back, and a non-finite loss is reported with the first step it appeared at.
"""
from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from . import paths
from . import seedstack as stacking
from .batches import epoch_batches, steps_per_epoch, to_unit
from .config import spec_differences, train_config
from .data import ImageSplits
from .errors import ConfigError, TrainingDiverged
from .io import write_json, write_text
from .methods import METHODS, Method
from .rundir import claim, is_trained, load_latest_checkpoint, locked, make_dir, save_checkpoint
from .runs import build_model, data_info, load_networks, select_subsets
from .runtime import fix_host_allocator, peak_memory_mb
from .seeding import rng_state, seed_everything, set_rng_state
from .validation import batchnorm_mode, validation_pass


def check_trainable(spec: dict, splits: ImageSplits) -> None:
    """Refuse a run that would take no optimiser step (more images per batch than the data has, or epochs=0 for
    a method that trains), and a training step for a method that only measures its initialisation."""
    cls = METHODS.get(spec["method"])
    if cls.trains and spec["epochs"] == 0:
        measures = ", ".join(n for n in METHODS.names() if not METHODS.get(n).trains)
        raise ConfigError(f"epochs=0 is out of range for {spec['method']}: it trains (epochs >= 1); only a "
                          f"measurement at initialisation ({measures}) takes epochs=0")
    if not cls.trains and spec["epochs"] != 0:
        raise ConfigError(f"{spec['method']} measures its initialisation and takes no training step: set epochs=0, "
                          f"not epochs={spec['epochs']}")
    n = len(splits.train)
    if steps_per_epoch(n, spec["batch_size"]) == 0:
        raise ConfigError(f"batch_size={spec['batch_size']} is larger than the {n} training images of "
                          f"{spec['dataset']} (train_size={spec['train_size']}): with drop_last an epoch would take "
                          f"no optimiser step; valid: batch_size <= {n}")


@dataclass
class Seed:
    """One run's own state inside the loop."""

    spec: dict
    out: Path
    model: Method  # its single-seed model (the trained model itself when it trains alone)
    optimizers: dict
    rng: dict  # its RNG states (global ones when alone; its noise stream's when stacked)
    log: list[dict] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    snapshots: list[dict] = field(default_factory=list)
    epoch: int = 0
    train_seconds: float = 0.0


def train_run(spec: dict, out: Path, splits: ImageSplits, *, device: torch.device, progress: bool = True,
              superseded: Path | None = None, stop_after_steps: int | None = None) -> Method:
    """Train (or resume, or skip) the run ``spec`` in ``out`` alone. See ``train_runs``."""
    return train_runs([spec], [out], splits, device=device, progress=progress, superseded=superseded,
                      stop_after_steps=stop_after_steps)[0]


def train_runs(specs: list[dict], outs: list[Path], splits: ImageSplits, *, device: torch.device,
               progress: bool = True, superseded: Path | None = None,
               stop_after_steps: int | None = None) -> list[Method]:
    """Train the runs ``specs`` (seeds of one cell; more than one only for a seed-stackable method) into
    ``outs``, as one stacked model. Everything that can be checked is checked before a directory is touched.
    ``superseded``: where a different run found in an out directory is moved (else it is refused).
    ``stop_after_steps`` simulates a kill. Returns each run's trained single-seed model."""
    outs = [Path(o) for o in outs]
    tc = train_config(specs[0])
    splits = select_subsets(splits, specs[0])
    _check_stackable(specs)
    for spec in specs:
        check_trainable(spec, splits)
    info = data_info(splits, specs[0]["dataset"])
    seeds = []
    for spec, out in zip(specs, outs):
        networks = load_networks(spec, device)
        seed_everything(spec["seed"])
        model = build_model(spec, info, device, networks)  # config errors raise here, before any file exists
        seeds.append(Seed(spec, out, model, model.configure_optimizers(), rng_state()))
    torch.set_num_threads(tc.threads)
    fix_host_allocator()
    for out in outs:
        make_dir(out)
    with contextlib.ExitStack() as held:
        for seed in seeds:
            held.enter_context(locked(seed.out))
            claim(seed.out, seed.spec, superseded)
        _resume(seeds, device)
        if any(s.epoch != seeds[0].epoch for s in seeds):
            raise ConfigError("stacked seeds must resume from the same epoch; train them one at a time")
        return _train(seeds, splits, info, device, progress, stop_after_steps)


def _check_stackable(specs: list[dict]) -> None:
    if len(specs) == 1:
        return
    differ = {k for s in specs[1:] for k in spec_differences(specs[0], s)} - {"seed"}
    if differ:
        raise ConfigError(f"stacked seeds must share every setting but the seed; they differ in {', '.join(sorted(differ))}")
    if train_config(specs[0]).snapshot_seconds:
        raise ConfigError("wall-clock snapshots (snapshot_seconds) time one run: train its seeds one at a time")


def _resume(seeds: list[Seed], device: torch.device) -> None:
    for seed in seeds:
        ckpt = load_latest_checkpoint(seed.out, device)
        if ckpt is None:
            continue
        if ckpt["model"] is not None:  # None: a measurement's initialisation, which seed.model already is
            seed.model.load_state_dict(ckpt["model"])
        for name, opt in seed.optimizers.items():
            opt.load_state_dict(ckpt["optimizers"][name])
        seed.rng = ckpt["rng"]
        seed.epoch, seed.log, seed.train_seconds = ckpt["epoch"], ckpt["log"], ckpt["train_seconds"]
        seed.snapshots, seed.steps = ckpt.get("snapshots", []), ckpt.get("steps", [])
        _write_logs(seed)


def _stacked(seeds: list[Seed], info, device: torch.device) -> tuple[Method, dict]:
    """The model and optimisers that train: the single model itself, or the seeds stacked into one."""
    if len(seeds) == 1:
        set_rng_state(seeds[0].rng)
        return seeds[0].model, seeds[0].optimizers
    model = build_model(seeds[0].spec, stacking.stacked_info(info, len(seeds)), device)
    model.load_state_dict(stacking.stack([s.model.state_dict() for s in seeds]))
    optimizers = model.configure_optimizers()
    for name, opt in optimizers.items():
        opt.load_state_dict(stacking.stack_optimizer([s.optimizers[name].state_dict() for s in seeds]))
    model.noise.generators = stacking.noise_generators([s.rng["torch"] for s in seeds], device)
    return model, optimizers


def _train(seeds: list[Seed], splits: ImageSplits, info, device: torch.device, progress: bool,
           stop_after_steps: int | None) -> list[Method]:
    tc = train_config(seeds[0].spec)
    train_x, train_y = splits.train.to(device), splits.train_labels.to(device)
    val_x, val_y = splits.val.to(device), splits.val_labels.to(device)
    if seeds[0].epoch >= tc.epochs:
        for seed in seeds:
            if tc.epochs == 0 and not seed.log:  # a measurement at initialisation: its weights are the seed's
                # initialisation, rebuilt from the spec when the run is loaded (runs.Run.model), not stored
                save_checkpoint(seed.out, {"spec": seed.spec, "epoch": 0, "model": None,
                                           "optimizers": {k: o.state_dict() for k, o in seed.optimizers.items()},
                                           "rng": seed.rng, "log": [], "train_seconds": 0.0, "snapshots": [],
                                           "steps": [], "memory": peak_memory_mb(device)})
            _write_summary(seed, len(seeds))
        return [s.model for s in seeds]
    model, optimizers = _stacked(seeds, info, device)
    pending_snapshots = sorted(t for t in tc.snapshot_seconds if t > seeds[0].train_seconds)
    steps_done = 0
    first = seeds[0]
    bar = tqdm(range(first.epoch, tc.epochs), initial=first.epoch, total=tc.epochs, disable=not progress,
               desc=f"{first.spec['method_label']}/{first.spec['dataset']}/seed{'+'.join(str(s.spec['seed']) for s in seeds)}",
               unit="epoch", mininterval=2)
    for epoch in bar:
        model.train()
        t0 = time.perf_counter()
        sums: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}  # a key may be logged on some steps only (PPGN: generator terms)
        losses: list[torch.Tensor] = []
        per_seed = [epoch_batches(train_x, train_y, tc.batch_size, seed=s.spec["seed"], epoch=epoch) for s in seeds]
        for batches in zip(*per_seed):
            batch = batches[0] if len(seeds) == 1 else stacking.stack_batches(list(batches))
            logs = model.train_step(batch, optimizers)
            for k, v in logs.items():
                v = torch.as_tensor(v, dtype=torch.float64, device=device).reshape(-1)  # [S]
                sums[k] = sums[k] + v if k in sums else v
                counts[k] = counts.get(k, 0) + 1
            losses.append(torch.as_tensor(logs["loss"], device=device).reshape(-1))
            steps_done += 1
            elapsed = first.train_seconds + time.perf_counter() - t0
            if pending_snapshots and elapsed >= pending_snapshots[0]:
                first.snapshots.append(_snapshot(model, val_x, tc, elapsed))
                pending_snapshots.pop(0)
            if stop_after_steps is not None and steps_done >= stop_after_steps:
                raise KeyboardInterrupt(f"stopped after {steps_done} steps (simulated kill)")
        step_losses = torch.stack(losses)  # [steps, S]
        for i, seed in enumerate(seeds):
            _check_finite(step_losses[:, i], seed, epoch)
        epoch_seconds = (time.perf_counter() - t0) / len(seeds)  # each seed's share of the shared steps
        singles = [s.model for s in seeds] if len(seeds) == 1 else stacking.split_model(model, [s.model for s in seeds])
        per_seed_optimizers = _per_seed_optimizers(seeds, optimizers)
        records = model.pop_step_records()
        means = {k: (v / counts[k]).tolist() for k, v in sums.items()}  # one read-back per epoch
        for i, seed in enumerate(seeds):
            t_seed = time.perf_counter()
            record = {"epoch": epoch + 1, "seconds": round(epoch_seconds, 4), "steps": len(losses),
                      **{f"train_{k}": v[i] for k, v in means.items()}}
            seed.steps += [dict(r, epoch=epoch + 1) for r in records]
            if (epoch + 1) % tc.val_every == 0 or epoch + 1 == tc.epochs:
                record.update({f"val_{k}": v for k, v in _val_means(singles[i], val_x, val_y, tc).items()})
            # training's wall time: its steps, and its validation passes (a GLO validation fits latents)
            seed.train_seconds += epoch_seconds + time.perf_counter() - t_seed
            record["train_seconds"] = round(seed.train_seconds, 4)
            seed.log.append(record)
            seed.epoch = epoch + 1
            rng = rng_state() if len(seeds) == 1 else dict(seed.rng, torch=model.noise.generators[i].get_state())
            save_checkpoint(seed.out, {"spec": seed.spec, "epoch": epoch + 1, "model": singles[i].state_dict(),
                                       "optimizers": per_seed_optimizers[i], "rng": rng, "log": seed.log,
                                       "train_seconds": seed.train_seconds, "snapshots": seed.snapshots,
                                       "steps": seed.steps, "memory": peak_memory_mb(device)})
            _write_logs(seed)
        bar.set_postfix(loss=f"{seeds[0].log[-1].get('train_loss', float('nan')):.4f}")
    for seed in seeds:
        _write_summary(seed, len(seeds))
    return [s.model for s in seeds]


def _per_seed_optimizers(seeds: list[Seed], optimizers: dict) -> list[dict]:
    if len(seeds) == 1:
        return [{k: o.state_dict() for k, o in optimizers.items()}]
    split = {k: stacking.unstack_optimizer(o.state_dict(), len(seeds)) for k, o in optimizers.items()}
    return [{k: split[k][i] for k in split} for i in range(len(seeds))]


def _check_finite(losses: torch.Tensor, seed: Seed, epoch: int) -> None:
    """Name the first step whose loss was not finite (nothing of the epoch is kept)."""
    bad = ~torch.isfinite(losses)
    if not bool(bad.any()):
        return
    step = int(bad.nonzero()[0, 0])
    spec = seed.spec
    kept = (f"the last good checkpoint is epoch {epoch}" if epoch > 0
            else "no checkpoint was written (it diverged in the first epoch)")
    message = (f"{spec['method_label']} on {spec['dataset']} (seed {spec['seed']}): loss became "
               f"{float(losses[step])} at epoch {epoch + 1}, step {step + 1}; {kept}; lower lr or check the data")
    write_json(seed.out / paths.DIVERGED, {"message": message, "epoch": epoch + 1, "step": step + 1})
    raise TrainingDiverged(message)


def _write_logs(seed: Seed) -> None:
    write_text(seed.out / paths.LOG, "".join(_jsonl(r) for r in seed.log))
    if seed.steps:
        write_text(seed.out / paths.STEPS, "".join(_jsonl(r) for r in seed.steps))


def _write_summary(seed: Seed, stacked: int) -> None:
    """train.json marks a finished training (checkpoint.pt is not a DAG output, so a failed or killed job
    never makes Snakemake delete the checkpoint it would resume from); it records how the run was trained."""
    (seed.out / paths.DIVERGED).unlink(missing_ok=True)
    write_json(seed.out / paths.TRAIN_SUMMARY, {"epochs": len(seed.log), "train_seconds": seed.train_seconds,
                                                "final": seed.log[-1] if seed.log else {},
                                                "config_hash": seed.spec["config_hash"], "seeds_stacked": stacked})


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


__all__ = ["train_run", "train_runs", "check_trainable", "is_trained"]
