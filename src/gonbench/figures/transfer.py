"""Figures of the shattered-gradients study (Balduzzi et al. 2017: gradients of 1-D nets along an input sweep,
their correlation against depth; learning curves of deep classifiers) and of Net2Net (Chen et al. 2016:
accuracy against steps for students and randomly initialised nets; a widened GON's squared error against total
steps). Bands are ± std over seeds."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import torch
from matplotlib.ticker import NullLocator

from ..data import dataset_title
from ..io import read_json
from ..methods.shattering import SHATTERING_FILE
from ..outputs import OutputContext, register_figure
from .base import FigureResult, band, concat, describe_runs, shared_legend

CURVES_SHOWN = 3  # nets drawn per panel of the gradient figure


def _base_labels(ctx: OutputContext) -> dict[str, list[tuple[str, dict]]]:
    """Variant -> its grid labels in order with their settings (one per depth)."""
    out: dict[str, list[tuple[str, dict]]] = {}
    for label, (_, settings) in ctx.variants().items():
        out.setdefault(label.split("-")[0], []).append((label, settings))
    return out


@register_figure("shattering_gradients")
def shattering_gradients(ctx: OutputContext) -> FigureResult:
    bases = _base_labels(ctx)
    depths = sorted({s["depth"] for labels in bases.values() for _, s in labels})
    dataset = ctx.datasets[0]
    fig, axes = plt.subplots(len(bases), len(depths), figsize=(2.2 * len(depths), 2.1 * len(bases)), squeeze=False,
                             sharex=True, sharey=True)
    rows = []
    for i, (base, labels) in enumerate(bases.items()):
        for label, settings in labels:
            ax = axes[i][depths.index(settings["depth"])]
            run = ctx.first_seed_run(label, dataset)
            if run is None or not (run.path / SHATTERING_FILE).exists():
                ax.set_axis_off()
                continue
            blob = torch.load(run.path / SHATTERING_FILE, weights_only=True)
            for n in range(min(CURVES_SHOWN, len(blob["grads"]))):
                g = blob["grads"][n]
                ax.plot(blob["x"], g / g.abs().max().clamp_min(1e-30), linewidth=0.6)
            corr = read_json(run.path / "metrics.json")["grad_corr"]
            ax.set_title(f"{base}, depth {settings['depth']}\nlag-1 corr. {corr:.2f}", fontsize=7)
            ax.tick_params(labelsize=6)
            ax.set_ylim(-1.15, 1.15)
            rows.append({"label": label, "depth": settings["depth"], "grad_corr": corr, "run_dir": str(run.path)})
    fig.tight_layout()
    caption = (f"Shattered gradients: df/dx of {CURVES_SHOWN} 1-D nets at initialisation along x in [-3, 3] (each "
               f"scaled to its largest |df/dx|), per architecture (rows) and depth (columns); seed 0 of each cell, "
               f"with the lag-1 correlation of the cell. Profile `{ctx.profile}`.")
    return FigureResult(fig, pd.DataFrame(rows), caption)


@register_figure("shattering_depth")
def shattering_depth(ctx: OutputContext) -> FigureResult:
    runs = ctx.runs()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    data = []
    if len(runs):
        runs = runs.assign(base=runs["method_label"].str.split("-").str[0])
        for base in dict.fromkeys(runs["base"]):
            sub = runs[runs["base"] == base]
            data.append(band(axes[0], sub, "depth", "m.grad_corr", base, marker="o"))
            data.append(band(axes[1], sub, "depth", "m.grad_corr_far", base, marker="o"))
    depths = sorted(runs["depth"].unique()) if len(runs) else []
    far = ctx.spec(next(iter(ctx.variants())))["far_lag"]
    for ax, title in zip(axes, ("lag 1 (nearby points)", f"lag {far}")):
        ax.set(xscale="log", xlabel="depth (hidden layers)", title=f"gradient correlation, {title}")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(depths, labels=[f"{d:g}" for d in depths])
        ax.axhline(0, color="grey", linewidth=0.5)
    shared_legend(fig, axes, "correlation over initialisations")
    caption = (f"Shattered gradients: correlation of input gradients between nearby sweep points against depth, per "
               f"architecture (white noise ~0, brown noise near 1). Profile `{ctx.profile}`; "
               f"seeds {', '.join(map(str, sorted(runs['seed'].unique()))) if len(runs) else 'none'}; bands are ± std over "
               f"seeds.")
    return FigureResult(fig, concat(data), caption)


def _validation_curves(ctx: OutputContext, x: str, metric: str = "val_accuracy",
                       starts: dict[tuple[str, str], pd.DataFrame] | None = None,
                       offsets: dict[str, float] | None = None):
    """Per dataset, one band per label of ``metric`` against ``x`` (epoch, or step counted from each seed's
    first); ``starts`` are the step-0 points, ``offsets`` shift a label's steps (steps trained before the run)."""
    logs = ctx.logs()
    fig, axes = plt.subplots(1, len(ctx.datasets), figsize=(5.2 * len(ctx.datasets), 3.6), squeeze=False)
    data = []
    for j, dataset in enumerate(ctx.datasets):
        ax = axes[0][j]
        for label in ctx.variants():
            sub = logs[(logs["method_label"] == label) & (logs["dataset"] == dataset)] if len(logs) else logs
            if not len(sub):
                continue
            sub = sub.sort_values(["seed", "epoch"]).assign(step=lambda f: f.groupby("seed")["steps"].cumsum())
            if starts is not None:
                sub = pd.concat([starts.get((label, dataset), pd.DataFrame()), sub], ignore_index=True)
            if offsets:
                sub = sub.assign(step=sub["step"] + offsets.get(label, 0.0))
            style = {"linestyle": "--"} if label.endswith("random") else {}
            data.append(band(ax, sub, x, metric, label, **style).assign(dataset=dataset))
        ax.set(title=dataset_title(dataset), xlabel=x)
    return fig, axes, data, logs


def _starts(runs: pd.DataFrame, metric: str, start_metric: str) -> dict[tuple[str, str], pd.DataFrame]:
    """Each label's step-0 points: the value its runs measured before their first step."""
    return {(label, dataset): pd.DataFrame({"seed": sub["seed"], "step": 0, "epoch": 0, metric: sub[start_metric]})
            for (label, dataset), sub in (runs.groupby(["method_label", "dataset"]) if len(runs) else [])}


def _targets(ctx: OutputContext, axes, runs: pd.DataFrame, column: str) -> None:
    """The teacher's value on each dataset's panel, dotted."""
    for j, dataset in enumerate(ctx.datasets):
        target = runs[runs["dataset"] == dataset][column] if len(runs) else []
        if len(target):
            axes[0][j].axhline(float(target.mean()), color="black", linewidth=0.8, linestyle=":")


@register_figure("ll_curves")
def ll_curves(ctx: OutputContext) -> FigureResult:
    fig, axes, data, logs = _validation_curves(ctx, "epoch")
    shared_legend(fig, list(axes[0]), "validation accuracy")
    spec = ctx.spec(next(iter(ctx.variants())))
    caption = (f"Deep classifiers without skips (depth {spec['depth']}, width {spec['width']}): validation accuracy "
               f"per epoch of He-initialised ReLU, a BatchNorm ResNet and looks-linear CReLU. Profile "
               f"`{ctx.profile}`; {describe_runs(logs) if len(logs) else 'no runs'}.")
    return FigureResult(fig, concat(data), caption)


@register_figure("net2net_curves")
def net2net_curves(ctx: OutputContext) -> FigureResult:
    runs = ctx.runs()
    fig, axes, data, logs = _validation_curves(ctx, "step", starts=_starts(runs, "val_accuracy", "m.init_accuracy"))
    shared_legend(fig, list(axes[0]), "validation accuracy")
    _targets(ctx, axes, runs, "m.teacher_accuracy")
    caption = (f"Net2Net: validation accuracy against optimiser steps of students grown from the teacher (solid) and "
               f"of the same architectures from random initialisation (dashed), step 0 being the initialisation; "
               f"dotted: the teacher's accuracy (the target). Profile `{ctx.profile}`; "
               f"{describe_runs(logs) if len(logs) else 'no runs'}.")
    return FigureResult(fig, concat(data), caption)


@register_figure("net2net_gon_curves")
def net2net_gon_curves(ctx: OutputContext) -> FigureResult:
    runs = ctx.runs()
    grown = runs[runs["init"] != "random"] if len(runs) else runs
    offsets = {label: float(sub["m.teacher_steps"].mean()) for label, sub in grown.groupby("method_label")} \
        if len(grown) else {}
    fig, axes, data, logs = _validation_curves(ctx, "step", "val_recon_sse",
                                               starts=_starts(runs, "val_recon_sse", "m.init_recon_sse"),
                                               offsets=offsets)
    shared_legend(fig, list(axes[0]), "validation SSE")
    _targets(ctx, axes, runs, "m.teacher_recon_sse")
    for ax in axes[0]:
        ax.set(yscale="log", xlabel="total steps (the teacher's, then the run's)")
        for steps in sorted(set(offsets.values())):
            ax.axvline(steps, color="grey", linewidth=0.6, linestyle=":")
    teacher = f"{next(iter(offsets.values())):.0f}" if offsets else "the teacher's"
    caption = (f"Net2WiderNet applied to a GON (ours): validation squared error against total optimiser steps. A "
               f"grown GON's curve starts where its teacher stopped ({teacher} steps, grey line), with its value "
               f"before its first step; dashed: the wide GON from random initialisation, trained for as many total "
               f"steps; dotted: the teacher's error (the target). Profile `{ctx.profile}`; "
               f"{describe_runs(logs) if len(logs) else 'no runs'}.")
    return FigureResult(fig, concat(data), caption)
