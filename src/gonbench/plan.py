"""``gonbench plan``: what a profile costs before it is run, from a short calibration on this device.

Each distinct method configuration of the profile (method, its settings, channels, resolution, batch size)
is timed for a few training steps and one evaluation batch on the current device (first on PROBE_BATCH images:
a configuration whose full batch would take over SLOW_STEP_SECONDS is extrapolated per image from that probe,
which is how long paper-scale autoregressive models take on a CPU); the timings are cached in
``<results>/<profile>/calibration.json`` under the device's name. The plan multiplies them by each run's
step count (epochs x training images // batch) and validation passes, and adds up per experiment:
jobs (cells), runs, steps, device-hours and disk. Device-hours are what ``--resources gpu=1`` runs one
after the other; the wall time on N devices or cluster slots is bounded below by the longest cell.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import torch

from .config import check_grid, method_values, network_fields, train_config
from .data import DATASETS
from .io import read_json, write_json
from .methods import METHODS, DataInfo, build_method, count_parameters
from .pretrain import build_network, pretrain_config
from .paths import Layout
from .seeding import seed_everything
from .validation import apply_batched

CALIBRATION_STEPS = 3  # timed steps after one warm-up step
PROBE_BATCH = 8  # every configuration is first timed on this many images...
SLOW_STEP_SECONDS = 2.0  # ...and one whose full batch would take longer is extrapolated from that probe


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu x{torch.get_num_threads()}"


def _shape(spec: dict) -> tuple[int, int, int]:
    """(channels, image size, training images) of a run, without loading its data."""
    info = DATASETS.get(spec["dataset"])
    n_train = info.sizes[0] if spec["train_size"] is None else min(spec["train_size"], info.sizes[0])
    return info.channels, spec["image_size"], n_train


def _val_images(spec: dict) -> int:
    n = DATASETS.get(spec["dataset"]).sizes[1]
    return n if spec["val_size"] is None else min(spec["val_size"], n)


def _key(spec: dict) -> str:
    """Runs with equal keys cost the same per step (the seed, dataset identity and epochs do not matter)."""
    channels, size, _ = _shape(spec)
    return json.dumps({"method": spec["method"], "config": method_values(spec), "channels": channels, "size": size,
                       "batch": spec["batch_size"], "classes": DATASETS.get(spec["dataset"]).classes}, sort_keys=True)


def _synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _time(fn, repeats: int) -> float:
    """Mean seconds of ``fn`` over ``repeats`` calls after a warm-up call (allocations, kernel selection, lazy
    imports)."""
    fn()
    _synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    _synchronize()
    return (time.perf_counter() - start) / repeats


def stand_in_networks(cfg: dict, spec: dict, device: torch.device) -> dict[str, torch.nn.Module]:
    """The pretrained networks the run names, untrained and frozen: a step costs the same with any weights, so
    the plan needs neither their files nor their training."""
    out = {}
    for field_name in network_fields(METHODS.get(spec["method"])):
        if spec.get(field_name):
            with torch.random.fork_rng(devices=[]):
                net = build_network(spec[field_name], pretrain_config(cfg, spec[field_name]))
            out[field_name] = net.to(device).eval().requires_grad_(False)
    return out


def calibrate_one(spec: dict, device: torch.device, networks: dict | None = None) -> dict:
    """Seconds per training step and per evaluation batch, and the checkpoint's bytes, of one configuration
    (``networks``: the pretrained networks it reads, see stand_in_networks)."""
    channels, size, n_train = _shape(spec)
    batch = spec["batch_size"]
    height = 1 if DATASETS.get(spec["dataset"]).signal else size
    info = DataInfo(channels=channels, image_size=size, classes=DATASETS.get(spec["dataset"]).classes,
                    train_size=max(batch, min(n_train, 4 * batch)))
    seed_everything(0)
    model = build_method(spec["method"], info, networks or {}, **method_values(spec)).to(device)
    optimizers = model.configure_optimizers()

    def timings(n: int, repeats: int) -> tuple[float, float]:
        x = torch.rand(n, channels, height, size, generator=torch.Generator().manual_seed(0)).to(device)
        data = {"x": x, "y": torch.zeros(n, dtype=torch.long, device=device), "index": torch.arange(n, device=device)}
        step = _time(lambda: model.train_step(data, optimizers), repeats) if model.trains else 0.0
        return step, _time(lambda: apply_batched(model, x.clone(), n, "train", model.validation_losses), 1)

    probe = min(batch, PROBE_BATCH)
    step, evaluation = timings(probe, 1)
    scale = batch / probe
    extrapolated = probe < batch and max(step, evaluation) * scale > SLOW_STEP_SECONDS
    if extrapolated:  # per-image cost times the batch: what a slow configuration costs on a CPU, within minutes
        step, evaluation = step * scale, evaluation * scale
    else:
        step, evaluation = timings(batch, CALIBRATION_STEPS)
    state_bytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    return {"step_seconds": step, "eval_batch_seconds": evaluation, "parameters": count_parameters(model),
            # weights and two Adam moments; a measurement's initialisation is rebuilt from its seed, not stored
            "checkpoint_bytes": 3 * state_bytes if model.trains else 0,
            "extrapolated_from_batch": probe if extrapolated else None}


@dataclass
class RunCost:
    experiment: str
    cell: tuple[str, str, str]
    steps: int
    seconds: float
    disk_bytes: int


def calibrate(cfg: dict, device: torch.device, refresh: bool = False) -> tuple[dict, list[dict]]:
    """The calibration table of this device (cached in the results folder) and every run's spec."""
    specs = check_grid(cfg)
    path = Layout.of(cfg).calibration()
    name = device_name(device)
    cache = read_json(path) if path.exists() and not refresh else {}
    table = cache.setdefault(name, {})
    for spec in specs:
        key = _key(spec)
        if key not in table:
            table[key] = calibrate_one(spec, device, stand_in_networks(cfg, spec, device))
            write_json(path, cache)  # after each configuration: an interrupted calibration keeps what it timed
    return table, specs


def run_costs(cfg: dict, table: dict, specs: list[dict]) -> list[RunCost]:
    costs = []
    for spec in specs:
        c = table[_key(spec)]
        tc = train_config(spec)
        _, _, n_train = _shape(spec)
        steps = tc.epochs * (n_train // tc.batch_size)
        val_batches = -(-_val_images(spec) // tc.batch_size)
        passes = tc.epochs // tc.val_every + 3  # validation every val_every epochs, then 3 protocols at the end
        seconds = steps * c["step_seconds"] + passes * val_batches * c["eval_batch_seconds"]
        costs.append(RunCost(spec["experiment"], (spec["experiment"], spec["method_label"], spec["dataset"]),
                             steps, seconds, 2 * c["checkpoint_bytes"]))  # the checkpoint and the one before
    return costs


def summarise(cfg: dict, costs: list[RunCost], devices: list[int]) -> str:
    """The plan as text: one line per experiment, the total, and wall times on ``devices`` devices."""
    lines = [f"{'experiment':<24}{'jobs':>6}{'runs':>7}{'steps':>13}{'device-h':>11}{'disk GB':>9}"]
    for name in cfg["experiments"]:
        part = [c for c in costs if c.experiment == name]
        lines.append(f"{name:<24}{len({c.cell for c in part}):>6}{len(part):>7}{sum(c.steps for c in part):>13,}"
                     f"{sum(c.seconds for c in part) / 3600:>11.2f}{sum(c.disk_bytes for c in part) / 1e9:>9.2f}")
    total = sum(c.seconds for c in costs)
    cells: dict[tuple, float] = {}
    for c in costs:
        cells[c.cell] = cells.get(c.cell, 0.0) + c.seconds
    lines.append(f"{'total (--resources gpu=1)':<24}{len(cells):>6}{len(costs):>7}{sum(c.steps for c in costs):>13,}"
                 f"{total / 3600:>11.2f}{sum(c.disk_bytes for c in costs) / 1e9:>9.2f}")
    longest = max(cells.values(), default=0.0)
    for n in devices:
        lines.append(f"wall time on {n} device(s) or slots: >= {max(total / n, longest) / 3600:.2f} h "
                     f"(the longest cell alone: {longest / 3600:.2f} h)")
    lines.append("timed: training steps and validation passes; not timed: pretrained networks (trained once per "
                 "profile) and the samples drawn at evaluation (pixel by pixel for the autoregressive models)")
    return "\n".join(lines)


def plan(cfg: dict, device: torch.device, devices: list[int], refresh: bool = False) -> str:
    table, specs = calibrate(cfg, device, refresh)
    used = {_key(spec) for spec in specs}
    probed = sum(1 for key in used if table[key].get("extrapolated_from_batch"))
    header = (f"profile {cfg['profile']}, calibrated on {device_name(device)} ({len(used)} configurations, "
              f"{probed} of them slower than {SLOW_STEP_SECONDS:g} s per batch and extrapolated from "
              f"{PROBE_BATCH} images; cache {Layout.of(cfg).calibration()})")
    return header + "\n" + summarise(cfg, run_costs(cfg, table, specs), devices)

