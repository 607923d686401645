"""One Snakemake job per cell: every seed of one (experiment, method label, dataset), trained and evaluated
in one process, so the interpreter start, the imports and the data load are paid once per cell.

Each seed keeps its own run directory exactly as a single-run ``gonbench train --seed S`` writes it (so
aggregation, ``load_run``, golden files and resume are unchanged), and the job ends by writing the cell's
marker, cell.json, with every seed's config hash and headline metrics. With the profile's ``seed_stack:
true`` a seed-stackable method trains its pending seeds as one stacked model (gonbench.seedstack): fewer,
larger kernels for a GPU, equal to training them one by one up to floating-point summation order.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from . import paths
from .config import resolve_spec
from .data import ImageSplits, load_prepared, resolve_data_root
from .evaluate import HEADLINE, evaluate_run
from .io import read_json, write_json
from .methods import METHODS
from .paths import DEFAULT_DATA_ROOT, Layout, RunKey
from .rundir import is_evaluated, is_trained, load_latest_checkpoint
from .train import train_runs


def cell_specs(cfg: dict, experiment: str, method: str, dataset: str, seeds: list[int],
               overrides: list[str] | None = None) -> list[dict]:
    """The resolved spec of every seed, with where its data lives (recorded, not hashed)."""
    layout = Layout.of(cfg)
    specs = []
    for seed in seeds:
        spec = resolve_spec(cfg, experiment=experiment, method=method, dataset=dataset, seed=seed, overrides=overrides)
        spec.update(data_root=cfg.get("data_root", DEFAULT_DATA_ROOT),
                    data_cache=str(layout.data_cache(dataset, spec["image_size"])))
        specs.append(spec)
    return specs


def run_dir(layout: Layout, spec: dict) -> Path:
    return layout.run(RunKey(spec["experiment"], spec["method_label"], spec["dataset"], spec["seed"]))


def training_groups(cfg: dict, specs: list[dict], device: torch.device) -> list[list[dict]]:
    """The seeds that still need training, grouped as they will train: all together when the profile stacks
    seeds, the method can and they resume from the same epoch; else one by one."""
    layout = Layout.of(cfg)
    pending = [s for s in specs if not is_trained(run_dir(layout, s), s)]
    stackable = METHODS.get(pending[0]["method"]).seed_stackable if pending else False
    if not (cfg.get("seed_stack", False) and stackable and len(pending) > 1 and not pending[0]["snapshot_seconds"]):
        return [[s] for s in pending]
    epochs = {(ckpt or {}).get("epoch", 0) for ckpt in (load_latest_checkpoint(run_dir(layout, s), device)
                                                        if run_dir(layout, s).is_dir() else None for s in pending)}
    return [pending] if len(epochs) == 1 else [[s] for s in pending]


def run_cell(cfg: dict, specs: list[dict], *, device: torch.device, progress: bool = False) -> dict:
    """Train and evaluate every seed of a cell in the layout's run directories (a finished, evaluated seed is
    skipped; a directory holding another spec is moved to superseded/), then write cell.json."""
    layout = Layout.of(cfg)
    first = specs[0]
    splits: dict[int, ImageSplits] = {}  # image size -> the prepared dataset, loaded once for every seed
    seconds: dict[int, float] = {}
    for group in training_groups(cfg, specs, device):
        size = group[0]["image_size"]
        if size not in splits:
            splits[size] = load_prepared(first["dataset"], resolve_data_root(cfg.get("data_root")), size,
                                         layout.data_cache(first["dataset"], size))
        t0 = time.perf_counter()
        train_runs(group, [run_dir(layout, s) for s in group], splits[size], device=device, progress=progress,
                   superseded=layout.superseded())
        seconds.update({s["seed"]: (time.perf_counter() - t0) / len(group) for s in group})
    summary = {}
    for spec in specs:
        out = run_dir(layout, spec)
        t0 = time.perf_counter()
        metrics = read_json(out / paths.METRICS) if is_evaluated(out, spec) else evaluate_run(out, device=str(device))
        summary[f"seed{spec['seed']}"] = {"config_hash": spec["config_hash"], "run_dir": str(out),
                                          "seconds": seconds.get(spec["seed"], 0.0) + time.perf_counter() - t0,
                                          **{k: metrics[k] for k in HEADLINE if k in metrics}}
    write_json(layout.cell(first["experiment"], first["method_label"], first["dataset"]), summary)
    return summary
