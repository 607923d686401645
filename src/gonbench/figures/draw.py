"""DRAW figures (Gregor et al. 2015): samples of every DRAW label (Figs. 7 / 8), and the canvas sigmoid(c_t) over
the glimpses of generation with the write window drawn on each step (Fig. 1's red rectangle).

Each reads the first seed's trained run of every DRAW label (a label whose method is ``draw`` or a variant)
on every dataset of its experiment. The pictures come from the method (``DRAW.canvas_trace`` on prior
latents drawn from ``generator(seed)``), so the figure draws what the run makes and models nothing itself.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from ..data import dataset_title
from ..images import make_grid
from ..methods.draw import DRAW
from ..outputs import OutputContext, register_figure
from ..seeding import generator
from .base import FigureResult, family_cells, show_grid

SAMPLE_GRID = 8  # 8 x 8 samples per run
TRACE_ROWS, TRACE_STEPS = 4, 8  # samples per run, glimpses shown of each


def _settings(spec: dict) -> str:
    grids = f"read {spec['read_n']}x{spec['read_n']}, write {spec['write_n']}x{spec['write_n']}" \
        if spec["attention"] else "no attention"
    return (f"T={spec['time_steps']}, {spec['lstm_hidden']} LSTM units, {spec['nz']}-d z, {grids}, "
            f"{spec['epochs']} epochs")


def _panels(n: int, width: float, height: float):
    fig, axes = plt.subplots(max(n, 1), 1, figsize=(width, height * max(n, 1)), squeeze=False, layout="constrained")
    axes = [row[0] for row in axes]
    if not n:
        axes[0].set_axis_off()
    return fig, axes


@register_figure("draw_samples", needs=("draw", "draw_no_attention"))
def draw_samples(ctx: OutputContext) -> FigureResult:
    cells = list(family_cells(ctx, DRAW))
    fig, axes = plt.subplots(1, max(len(cells), 1), figsize=(2.8 * max(len(cells), 1), 3.2), squeeze=False)
    axes = list(axes[0])
    if not cells:
        axes[0].set_axis_off()
    rows, settings = [], set()
    for ax, (label, dataset, run) in zip(axes, cells):
        model = run.model
        trace = model.canvas_trace(z=model.prior_latents(SAMPLE_GRID**2, generator(run.spec["seed"])))
        samples = trace.canvases[:, -1].cpu()
        show_grid(ax, samples, SAMPLE_GRID, f"{label} - {dataset_title(dataset)}")
        settings.add(f"{label}: {_settings(run.spec)}")
        rows.append({"method_label": label, "dataset": dataset, "seed": run.spec["seed"], "run_dir": str(run.path),
                     "elbo_bpd": run.metrics.get("elbo_bpd"), "mean_pixel": float(samples.mean())})
    caption = (f"DRAW samples (paper Figs. 7-8): the image mean sigmoid(c_T) of z_t ~ N(0, I) for every glimpse, "
               f"first seed of each label. Profile `{ctx.profile}`; datasets {', '.join(ctx.datasets)} (the paper "
               f"draws binarised MNIST); {'; '.join(sorted(settings)) or 'no trained runs'}.")
    return FigureResult(fig, pd.DataFrame(rows), caption)


def _steps_shown(time_steps: int) -> list[int]:
    """TRACE_STEPS glimpse indices (0-based) from the first to the last, evenly spaced."""
    return sorted({int(round(t)) for t in np.linspace(0, time_steps - 1, min(TRACE_STEPS, time_steps))})


@register_figure("draw_canvases", needs=("draw",))
def draw_canvases(ctx: OutputContext) -> FigureResult:
    cells = list(family_cells(ctx, DRAW))
    fig, axes = _panels(len(cells), 9.0, 5.0)
    rows, settings = [], set()
    for ax, (label, dataset, run) in zip(axes, cells):
        model = run.model
        trace = model.canvas_trace(z=model.prior_latents(TRACE_ROWS, generator(run.spec["seed"])))
        steps = _steps_shown(run.spec["time_steps"])
        canvases = trace.canvases[:, steps].cpu()  # [rows, steps, C, H, W]
        size = canvases.shape[-1]
        grid = make_grid(canvases.flatten(0, 1), len(steps), padding=1)
        ax.imshow(grid.permute(1, 2, 0).numpy(), cmap="gray" if grid.shape[0] == 1 else None,
                  interpolation="nearest", vmin=0, vmax=1)
        ax.set_xticks([1 + k * (size + 1) + size / 2 for k in range(len(steps))], labels=[f"t={t + 1}" for t in steps])
        ax.set_yticks([])
        ax.set_title(f"{label} - {dataset_title(dataset)}", fontsize=9)
        settings.add(f"{label}: {_settings(run.spec)}")
        extents = trace.extents[:, steps].cpu() if trace.extents is not None else None
        for s in range(canvases.shape[0]):
            for k, t in enumerate(steps):
                top, left = 1 + s * (size + 1), 1 + k * (size + 1)
                row = {"method_label": label, "dataset": dataset, "seed": run.spec["seed"], "sample": s, "step": t + 1,
                       "canvas_mean": float(canvases[s, k].mean())}
                if extents is not None:
                    x0, y0, x1, y1 = (float(v) for v in extents[s, k])
                    row.update(x0=x0, y0=y0, x1=x1, y1=y1)
                    _rectangle(ax, left, top, size, x0, y0, x1, y1)
                rows.append(row)
    caption = (f"DRAW canvases over the glimpses of generation (paper Fig. 1): sigmoid(c_t) at the steps shown for "
               f"{TRACE_ROWS} samples z_t ~ N(0, I) per run (one per row), the red rectangle the write window "
               f"(the N x N grid's outer filter centres, centre -+ (N - 1) delta / 2; dashed where it reaches "
               f"beyond the image, cut at the border; the CSV has the uncut extents; without attention every step "
               f"writes the whole canvas). First seed of each label; profile `{ctx.profile}`; "
               f"datasets {', '.join(ctx.datasets)}; {'; '.join(sorted(settings)) or 'no trained runs'}.")
    return FigureResult(fig, pd.DataFrame(rows), caption)


def _rectangle(ax, left: int, top: int, size: int, x0: float, y0: float, x1: float, y1: float) -> None:
    """The window on its tile, cut at the image's border (drawn dashed when it reaches beyond the image)."""
    lo, hi = -0.5, size - 0.5
    cut = [min(max(v, lo), hi) for v in (x0, y0, x1, y1)]
    beyond = cut != [x0, y0, x1, y1]
    ax.add_patch(Rectangle((left + cut[0], top + cut[1]), cut[2] - cut[0], cut[3] - cut[1], fill=False,
                           edgecolor="red", linewidth=0.8, linestyle="--" if beyond else "-"))
