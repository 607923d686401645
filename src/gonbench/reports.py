"""Every report file a profile produces, checking a profile's outputs against its experiments, and building
one of them: the tables of tables/ (written by aggregate.py) and the figures of figures/ in one catalogue
(importing this module registers both)."""
from __future__ import annotations

from pathlib import Path

from . import aggregate, figures, tables
from .config import experiment_labels
from .errors import ConfigError
from .methods import METHODS
from .outputs import FIGURE_NEEDS, FIGURES, TABLES, OutputContext, experiment_of_output, output_kind
from .paths import Layout


def check_outputs(cfg: dict, source: str = "the profile") -> None:
    """Every output a profile lists exists, is listed by one experiment only, and finds what it needs there: a
    table a row (a label whose method reports its metric) and a reporting method for each column, a figure the
    methods it draws. One bad output stops the plan with one line."""
    for exp_name, exp in cfg["experiments"].items():
        for name in exp.get("outputs", []):
            where = f"{source}: experiment {exp_name}: outputs: {name}"
            try:
                kind = output_kind(name)
                experiment_of_output(cfg, name)
            except ConfigError as exc:
                raise ConfigError(f"{source}: experiment {exp_name}: outputs: {exc}") from None
            methods = {lab.method for lab in experiment_labels(exp).values()}
            if kind == "table":
                spec = TABLES.get(name)
                rows = tables.table_rows(spec, exp)
                wanted = " or ".join(spec.rows_with or (spec.metric,))
                if not rows:
                    reporting = [m for m in METHODS.names() if any(tables.spec.reports(m, w) for w in
                                                                   spec.rows_with or (spec.metric,))]
                    raise ConfigError(f"{where}: no method of this experiment reports {wanted}, so the table has no "
                                      f"row; methods that do: {', '.join(reporting)}")
                missing = tables.missing_metrics(spec, rows)
                if missing:
                    raise ConfigError(f"{where}: no method of this experiment reports {', '.join(missing)}, a column "
                                      f"of the table; its rows: {', '.join(r.label for r in rows)}")
            else:
                absent = [m for m in FIGURE_NEEDS.get(name, ()) if m not in methods]
                if absent:
                    raise ConfigError(f"{where}: the figure draws {', '.join(absent)}, which this experiment does not "
                                      f"list; add {'them' if len(absent) > 1 else 'it'} to its methods or variants")


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
