"""Every report file a profile produces, and building one of them: the tables of aggregate.py and the
figures of figures/ in one catalogue (importing this module registers both)."""
from __future__ import annotations

from pathlib import Path

from . import aggregate, figures
from .outputs import FIGURES, TABLES, OutputContext, output_kind
from .paths import Layout


def output_files(cfg: dict, name: str) -> list[Path]:
    """The files one table or figure writes (what the DAG declares as the rule's outputs)."""
    layout = Layout.of(cfg)
    if output_kind(name) == "table":
        return layout.table_files(name)
    return layout.figure_files(name)


def report_files(cfg: dict, experiment: str | None = None) -> list[str]:
    """Every table/figure file of the profile, or of one experiment."""
    files: list[Path] = []
    for exp_name, exp in cfg["experiments"].items():
        if experiment in (None, exp_name):
            for name in exp.get("outputs", []):
                files += output_files(cfg, name)
    return [str(f) for f in files]


def build_output(cfg: dict, name: str) -> list[Path]:
    """Write one table or figure from the runs on disk; returns the written paths."""
    if output_kind(name) == "table":
        return aggregate.write_table(cfg, name)
    return figures.save_figure(FIGURES.get(name)(OutputContext.for_output(cfg, name)), Layout.of(cfg), name)


def build_outputs(cfg: dict, only: list[str] | None = None, kind: str | None = None) -> list[Path]:
    """Every table and figure the profile lists (or those named in ``only``), optionally of one kind."""
    wanted = [n for exp in cfg["experiments"].values() for n in exp.get("outputs", [])]
    written: list[Path] = []
    for name in dict.fromkeys(wanted):
        if (only and name not in only) or (kind and output_kind(name) != kind):
            continue
        written += build_output(cfg, name)
    return written


def table_names() -> list[str]:
    return TABLES.names()


def figure_names() -> list[str]:
    return FIGURES.names()
