"""Figures of the autoregressive models (van den Oord et al. 2016): samples of each architecture (paper Figs. 7-8)
and completions of occluded validation images (Fig. 1: the bottom half drawn given the top half).

Each reads the first seed's trained run of every label whose method is one of the autoregressive ones, on every
dataset of its experiment. Samples are the grid the run wrote at evaluation (samples.png; drawn afresh only
when it is missing), completions the images and draws the run kept (completions.pt, drawn from its seeded
generator), so a figure never runs the slow sequential sampler again for what the run already drew.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from .. import paths
from ..data import dataset_title
from ..io import load_checkpoint
from ..methods import METHODS
from ..methods.autoregressive import Autoregressive
from ..outputs import OutputContext, register_figure
from .base import FigureResult, family_cells, show_grid
from .samples import samples_panel

ARCHITECTURES = ("pixelcnn", "row_lstm", "diagonal_bilstm")


def _settings(spec: dict) -> str:
    return f"h={spec['hidden']}, {spec['layers']} layers, {spec['output_hidden']} output units, {spec['epochs']} epochs"


def _title(label: str, method: str) -> str:
    return METHODS.get(method).display_title() if label == method else label


@register_figure("pixel_samples", needs=ARCHITECTURES)
def pixel_samples(ctx: OutputContext) -> FigureResult:
    cells = list(family_cells(ctx, Autoregressive))
    fig, axes = plt.subplots(1, max(len(cells), 1), figsize=(2.8 * max(len(cells), 1), 3.2), squeeze=False)
    axes = list(axes[0])
    if not cells:
        axes[0].set_axis_off()
    rows, settings = [], set()
    for ax, (label, dataset, run) in zip(axes, cells):
        image, source = samples_panel(run)
        heading = f"{_title(label, run.spec['method'])} - {dataset_title(dataset)}"
        if source == "drawn":
            show_grid(ax, image.cpu(), 8, heading)
            mean = float(image.mean())
        else:
            ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
            ax.set_title(heading, fontsize=9)
            ax.set_axis_off()
            mean = float(np.asarray(image, dtype=np.float64).mean() / 255)
        settings.add(f"{label}: {_settings(run.spec)}")
        rows.append({"label": label, "dataset": dataset, "seed": run.spec["seed"], "run_dir": str(run.path),
                     "source": source, "nll_bpd": run.metrics.get("nll_bpd"), "mean_pixel": mean})
    fig.tight_layout()
    caption = (f"Samples of the autoregressive models (PixelRNN paper Figs. 7-8): every sub-pixel drawn in turn from "
               f"its 256-way softmax given all before it, the 8x8 grid each run wrote at evaluation (the first 64 of "
               f"the samples its judge scored), first seed of each label. Profile `{ctx.profile}`; datasets "
               f"{', '.join(ctx.datasets)}; {'; '.join(sorted(settings)) or 'no trained runs'}.")
    return FigureResult(fig, pd.DataFrame(rows), caption)


@register_figure("pixel_completions", needs=ARCHITECTURES)
def pixel_completions(ctx: OutputContext) -> FigureResult:
    cells = [(label, dataset, run) for label, dataset, run in family_cells(ctx, Autoregressive)
             if (run.path / paths.COMPLETIONS).is_file()]
    fig, axes = plt.subplots(max(len(cells), 1), 1, figsize=(7.0, 2.9 * max(len(cells), 1)), squeeze=False)
    axes = [row[0] for row in axes]
    if not cells:
        axes[0].set_axis_off()
    rows, settings = [], set()
    for ax, (label, dataset, run) in zip(axes, cells):
        blob = load_checkpoint(run.path / paths.COMPLETIONS, what="completions file")
        images, completions, half = blob["images"], blob["completions"], int(blob["first_row"])
        occluded = images.clone()
        occluded[:, :, half:] = 0.5
        n = len(images)
        show_grid(ax, torch.cat([images, occluded, completions]), n,
                  f"{_title(label, run.spec['method'])} - {dataset_title(dataset)}: validation images, top half "
                  f"given, bottom half drawn")
        settings.add(f"{label}: {_settings(run.spec)}")
        for k in range(n):
            rows.append({"label": label, "dataset": dataset, "seed": run.spec["seed"], "image": k,
                         "first_row": half, "run_dir": str(run.path),
                         "bottom_sse": float(((completions[k, :, half:] - images[k, :, half:]) ** 2).sum())})
    fig.tight_layout()
    caption = (f"Image completion (PixelRNN paper Fig. 1): the first validation images (top row of each panel), their "
               f"top half given (middle, the rest grey) and the bottom half drawn sub-pixel by sub-pixel by the model "
               f"(bottom), from the run's seeded generator at evaluation; bottom_sse in the CSV is the squared "
               f"distance of the drawn half to the real one (a plausible completion need not be close). First seed of "
               f"each label. Profile `{ctx.profile}`; datasets {', '.join(ctx.datasets)}; "
               f"{'; '.join(sorted(settings)) or 'no trained runs'}.")
    return FigureResult(fig, pd.DataFrame(rows), caption)
