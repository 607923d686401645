"""Tables and figures as registered outputs, and what an output sees of its experiment's runs.

An output (a table in aggregate.py, a figure in figures/) is registered under its name and never names an
experiment: the profile's ``outputs:`` lists decide which experiment feeds it, and the output receives an
``OutputContext`` for that experiment. Renaming an experiment, or feeding a table from another one, is a
profile edit only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

from . import paths
from .bundles import provenance
from .config import expand_runs, experiment_seeds, experiment_variants, resolve_spec
from .errors import ConfigError
from .io import read_json, read_jsonl
from .paths import Layout, RunKey
from .registry import Registry
from .runs import Run, load_run

TABLES: Registry[Any] = Registry("table")  # name -> aggregate.TableSpec
FIGURES: Registry[Callable[["OutputContext"], Any]] = Registry("figure")  # name -> fn(ctx) -> figures.FigureResult


FIGURE_NEEDS: dict[str, tuple[str, ...]] = {}  # figure -> methods its experiment must have (checked by the plan)


def register_figure(name: str, *, needs: tuple[str, ...] = ()):
    """Register a figure function ``fn(ctx: OutputContext) -> FigureResult`` under ``name``; ``needs`` names
    the registered methods it draws, which its experiment must list (under any label)."""
    FIGURE_NEEDS[name] = tuple(needs)
    return FIGURES.register(name)


def output_kind(name: str) -> str:
    if name in TABLES:
        return "table"
    if name in FIGURES:
        return "figure"
    raise ConfigError(f"unknown output {name!r}; valid choices: {', '.join(sorted(TABLES.names() + FIGURES.names()))}")


def experiment_of_output(cfg: dict, name: str) -> str:
    """The one experiment whose ``outputs`` list the output: an output is built from one experiment's runs, so
    two experiments listing it is an error (rename one experiment's copy, or list it once)."""
    owners = [e for e, exp in cfg["experiments"].items() if name in exp.get("outputs", [])]
    if not owners:
        raise ConfigError(f"no experiment of profile {cfg['profile']} lists output {name!r}")
    if len(owners) > 1:
        raise ConfigError(f"output {name} is listed by experiments {' and '.join(owners)}; an output is built "
                          f"from one experiment's runs: list it in one of them")
    return owners[0]


@dataclass(frozen=True)
class OutputContext:
    """One output's view of the profile: its experiment, the runs of that experiment and where files go."""

    cfg: dict
    experiment: str

    @classmethod
    def for_output(cls, cfg: dict, name: str) -> "OutputContext":
        return cls(cfg, experiment_of_output(cfg, name))

    @property
    def layout(self) -> Layout:
        return Layout.of(self.cfg)

    @property
    def profile(self) -> str:
        return self.cfg["profile"]

    @property
    def settings(self) -> dict:
        return self.cfg["experiments"][self.experiment]

    @property
    def datasets(self) -> list[str]:
        return list(self.settings["datasets"])

    @property
    def seeds(self) -> list[int]:
        return experiment_seeds(self.cfg, self.experiment)

    def variants(self) -> dict[str, tuple[str, dict]]:
        """Method label -> (registered method, its extra settings)."""
        return experiment_variants(self.settings)

    def run_keys(self) -> list[RunKey]:
        return expand_runs(self.cfg, [self.experiment])

    def spec(self, label: str, dataset: str | None = None) -> dict:
        """The resolved spec of a label's first seed (what the runs were configured with)."""
        return resolve_spec(self.cfg, experiment=self.experiment, method=label, dataset=dataset or self.datasets[0],
                            seed=self.seeds[0])

    def runs(self) -> pd.DataFrame:
        """One row per evaluated run: identity, resolved spec and every scalar metric (prefixed ``m.``)."""
        return collect_runs(self.cfg, [self.experiment])

    def logs(self, log_file: str = paths.LOG) -> pd.DataFrame:
        """Every epoch record (or, with ``paths.STEPS``, every per-step record) of every run, with the run's
        identity, planned epochs and image size."""
        frames = []
        for key in self.run_keys():
            run_dir = self.layout.run(key)
            log = read_jsonl(run_dir / log_file)
            if not log or not (run_dir / paths.CONFIG).exists():
                continue
            spec = read_json(run_dir / paths.CONFIG)
            frame = pd.DataFrame(log)
            frame["method_label"], frame["dataset"], frame["seed"] = key.method_label, key.dataset, key.seed
            frame["epochs_planned"], frame["image_size"] = spec["epochs"], spec["image_size"]
            frames.append(frame)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def first_seed_run(self, label: str, dataset: str) -> Run | None:
        """The lowest seed's trained run of a cell, loaded (None when none has been trained)."""
        keys = [k for k in self.run_keys() if k.method_label == label and k.dataset == dataset]
        for key in sorted(keys, key=lambda k: k.seed):
            path = self.layout.run(key)
            if (path / paths.TRAIN_SUMMARY).exists():
                return load_run(path)
        return None


PROVENANCE_COLUMNS = ("source", "source_commit", "source_device", "source_foreign")


def collect_runs(cfg: dict, experiments: list[str] | None = None) -> pd.DataFrame:
    """One row per run of the grid that has metrics.json: identity, resolved spec, every scalar metric and
    where the run came from (``source``: local, or the id of the bundle it was imported from; the commit and
    device that produced it; whether it was imported foreign, with ``--force``)."""
    layout = Layout.of(cfg)
    rows = []
    for key in expand_runs(cfg, experiments):
        run_dir = layout.run(key)
        if not (run_dir / paths.METRICS).exists():
            continue
        spec = read_json(run_dir / paths.CONFIG)
        metrics = read_json(run_dir / paths.METRICS)
        row = {k: v for k, v in spec.items() if not isinstance(v, (list, dict))}
        row.update({f"m.{k}": v for k, v in metrics.items() if isinstance(v, (int, float))})
        prov = provenance(run_dir, metrics)
        row.update(source=prov["source"], source_commit=prov["commit"], source_device=prov["device"],
                   source_foreign=prov["foreign"], run_dir=str(run_dir))
        rows.append(row)
    return pd.DataFrame(rows)

