"""What a table is (a metric, its columns, unit and caption note) and which rows it has in an experiment.

A table never names a method: its rows are the labels of the experiment that lists it in ``outputs``, in
the profile's order, that report the table's metric (``Method.metrics``). A row's title and group come from
the method's class (``Method.title``, ``Method.row_group``) unless the experiment's ``rows`` settings say
otherwise (``titles``/``groups`` per label, or ``group_by`` a grid key). Adding a method to a table is one
profile line.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from ..config import Label, experiment_labels
from ..methods import METHODS
from ..outputs import TABLES

PROTOCOL_SUFFIXES = ("_bn_train", "_bn_eval", "_bn_recal")


@dataclass(frozen=True)
class Unit:
    """The unit a table prints its cells in, when it is not the metric's own (kept raw in the CSV)."""

    note: str  # caption sentence: what the unit is and why
    factor: Callable[[pd.DataFrame], pd.Series]  # runs of a cell -> each run's conversion factor


@dataclass(frozen=True)
class TableSpec:
    name: str
    metric: str
    title: str
    reference: str | None = None  # key in reference/gon_paper.yaml
    decimals: int = 2
    # several metrics side by side, (metric, column title, decimals); empty = ``metric`` alone, one column per dataset
    columns: tuple[tuple[str, str, int], ...] = ()
    note: str = ""  # protocol sentence appended to the caption
    batchnorm: bool = True  # the networks have BatchNorm, so the caption names the evaluation protocol
    bn_mode: str | None = None  # the BatchNorm protocol of ``metric`` when it is fixed (else the runs' headline)
    unit: Unit | None = None
    csv_metrics: tuple[str, ...] = ()  # more per-cell means and stds, in the CSV only
    rows_with: tuple[str, ...] = ()  # a label is a row if its method reports one of these; empty = (metric,)


@dataclass(frozen=True)
class Row:
    label: str  # the method label in the experiment (the CSV's "method" column)
    method: str  # the registered method
    title: str
    group: str


def register_table(spec: TableSpec) -> TableSpec:
    return TABLES.register(spec.name)(spec)


def metric_columns(spec: TableSpec) -> tuple[tuple[str, str, int], ...]:
    return spec.columns or ((spec.metric, "", spec.decimals),)


def base_metric(metric: str) -> str:
    """``recon_sse_bn_eval`` -> ``recon_sse``: a method reports a metric under every BatchNorm protocol."""
    for suffix in PROTOCOL_SUFFIXES:
        if metric.endswith(suffix):
            return metric[: -len(suffix)]
    return metric


def reports(method: str, metric: str) -> bool:
    return base_metric(metric) in METHODS.get(method).reported_metrics()


def _title(label: str, lab: Label, group_by: str | None) -> str:
    """The class's title, with the grid values that are not the group (``GON (nz 8)``); a variant's label."""
    title = METHODS.get(lab.method).display_title() if lab.base == lab.method else lab.base
    extra = [f"{k} {v}" for k, v in lab.grid.items() if k != group_by]
    return f"{title} ({', '.join(extra)})" if extra else title


def table_rows(spec: TableSpec, exp: dict) -> list[Row]:
    """The rows of ``spec`` in an experiment (its profile entry), grouped in the order groups first appear."""
    settings = exp.get("rows", {})
    titles, groups, group_by = settings.get("titles", {}), settings.get("groups", {}), settings.get("group_by")
    wanted = spec.rows_with or (spec.metric,)
    rows = []
    for label, lab in experiment_labels(exp).items():
        if not any(reports(lab.method, m) for m in wanted):
            continue
        group = (groups[label] if label in groups else f"{group_by} {lab.grid[group_by]}" if group_by
                 else METHODS.get(lab.method).row_group)
        rows.append(Row(label, lab.method, titles.get(label, _title(label, lab, group_by)), group))
    order = list(dict.fromkeys(r.group for r in rows))
    return sorted(rows, key=lambda r: order.index(r.group))  # stable: labels keep their order within a group


def missing_metrics(spec: TableSpec, rows: list[Row]) -> list[str]:
    """Column metrics that no row's method reports (the plan refuses the table)."""
    return [m for m, _, _ in metric_columns(spec) if not any(reports(r.method, m) for r in rows)]
