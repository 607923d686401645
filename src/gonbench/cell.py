"""One Snakemake job per cell: every seed of one (experiment, method label, dataset), trained and evaluated
in one process, so the interpreter start, the imports and the data load are paid once per cell.

Each seed keeps its own run directory exactly as a single-run ``gonbench train --seed S`` writes it (so
aggregation, ``load_run``, golden files and resume are unchanged), and the job ends by writing the cell's
marker, cell.json, with every seed's config hash and headline metrics.
"""
from __future__ import annotations

import time

import torch

from . import paths
from .config import resolve_spec
from .data import load_prepared, resolve_data_root
from .evaluate import HEADLINE, evaluate_run
from .io import read_json, write_json
from .paths import DEFAULT_DATA_ROOT, Layout, RunKey
from .rundir import is_evaluated, is_trained
from .train import train_run


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


def run_cell(cfg: dict, specs: list[dict], *, device: torch.device, progress: bool = False) -> dict:
    """Train and evaluate every seed of a cell in the layout's run directories (a finished, evaluated seed is
    skipped; a directory holding another spec is moved to superseded/), then write cell.json."""
    layout = Layout.of(cfg)
    first = specs[0]
    splits = {}  # image size -> the prepared dataset, loaded once for every seed
    summary = {}
    for spec in specs:
        key = RunKey(spec["experiment"], spec["method_label"], spec["dataset"], spec["seed"])
        out = layout.run(key)
        t0 = time.perf_counter()
        if not is_trained(out, spec):
            size = spec["image_size"]
            if size not in splits:
                splits[size] = load_prepared(spec["dataset"], resolve_data_root(cfg.get("data_root")), size,
                                             layout.data_cache(spec["dataset"], size))
            train_run(spec, out, splits[size], device=device, progress=progress, superseded=layout.superseded())
        metrics = read_json(out / paths.METRICS) if is_evaluated(out, spec) else evaluate_run(out, device=str(device))
        summary[f"seed{spec['seed']}"] = {"config_hash": spec["config_hash"], "run_dir": str(out),
                                          "seconds": time.perf_counter() - t0,
                                          **{k: metrics[k] for k in HEADLINE if k in metrics}}
    write_json(layout.cell(first["experiment"], first["method_label"], first["dataset"]), summary)
    return summary
