"""Golden metrics: the quick profile's per-run results, committed under tests/regression/ as a regression check.

Regenerate on purpose (after a change that is meant to move the numbers) with, per experiment::

    rm -rf results/quick/table1
    uv run snakemake table1 --forceall --cores all --configfile config/quick.yaml
    uv run gonbench golden --profile quick --experiment table1

The old runs go first: a finished run directory is never retrained (and one whose spec changed is refused),
and ``--forceall`` rebuilds the reports, which Snakemake would otherwise consider up to date.

The file records the exact versions and machine that produced it next to every run's metrics: the
reconstruction and likelihood metrics below under every BatchNorm protocol, and every metric the run's method
reports (``Method.reported_metrics``: its own headline metrics, sample scores, seconds per step). Timings are
kept for the claims that compare speed; the regression test never compares them across machines.
"""
from __future__ import annotations

from pathlib import Path

import torch

from . import paths
from .config import expand_runs, resolve_spec
from .errors import RunStateError
from .io import read_json, write_json
from .methods import METHODS
from .paths import Layout
from .runtime import environment

GOLDEN_METRICS = ("recon_sse", "recon_sse_bn_train", "recon_sse_bn_eval", "recon_sse_bn_recal", "psnr", "ssim",
                  "elbo_bpd", "elbo_bpd_bn_train", "elbo_bpd_bn_eval", "elbo_bpd_bn_recal", "nll_bpd",
                  "sharpness_ratio", "recon_kid")


def build_command(experiment: str) -> str:
    return f"uv run snakemake {experiment} --forceall --cores all --configfile config/quick.yaml"


def regenerate_command(experiment: str) -> str:
    return (f"rm -rf results/quick/{experiment} && {build_command(experiment)} && "
            f"uv run gonbench golden --profile quick --experiment {experiment}")


def golden_path(profile: str, experiment: str) -> Path:
    return Path("tests") / "regression" / f"{profile}_{experiment}.json"


def collect_golden(cfg: dict, experiment: str) -> dict:
    layout = Layout.of(cfg)
    runs, missing = {}, []
    for key in expand_runs(cfg, [experiment]):
        path = layout.run(key) / paths.METRICS
        if not path.exists():
            missing.append(str(path))
            continue
        metrics = read_json(path)
        method = METHODS.get(resolve_spec(cfg, experiment=experiment, method=key.method_label, dataset=key.dataset,
                                         seed=key.seed)["method"])
        kept = set(GOLDEN_METRICS) | method.reported_metrics()
        runs[f"{key.method_label}/{key.dataset}/seed{key.seed}"] = {
            k: metrics[k] for k in sorted(kept) if k in metrics}
    if missing:
        raise RunStateError(f"{len(missing)} runs of {experiment} have no metrics.json (first: {missing[0]}); "
                            f"run the profile first: {build_command(experiment)}")
    return {"profile": cfg["profile"], "experiment": experiment, "regenerate": regenerate_command(experiment),
            "environment": environment(torch.device("cpu")), "runs": runs}


def write_goldens(cfg: dict, experiments: list[str]) -> list[Path]:
    """Every experiment's file, all collected before any is written: each records the checkout as it was
    (one written first would make the tree dirty for the next), and a missing run writes none of them."""
    records = {name: collect_golden(cfg, name) for name in experiments}
    paths_written = []
    for name, record in records.items():
        out = golden_path(cfg["profile"], name)
        write_json(out, record)
        paths_written.append(out)
    return paths_written
