"""Figures of the generative models: one 8x8 grid of samples per sampling method and dataset, and the codes
of the autoencoders with a prior against draws of that prior.

``generative_samples`` shows every label of its experiment whose run samples (any method: GANs, moment
matching, the autoencoders, DRAW, PixelCNN, VAE, VGON, PPGN), the first seed of each cell. It reads the grid
the run wrote at evaluation (samples.png: the first 64 of the samples its judge scored, drawn in full batches
with BatchNorm in the run's protocol; PPGN writes its class-conditional grid there, one class per row), so a
slow sampler is not run again; a run without one has 64 samples drawn as evaluation draws them.
``prior_codes`` reads the validation codes and prior draws each AAE / MMD-AE run kept (codes.pt).
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from PIL import Image

from .. import paths
from ..data import dataset_title
from ..evaluate import draw_samples
from ..io import load_checkpoint
from ..methods import METHODS, Method
from ..outputs import OutputContext, register_figure
from ..seeding import seed_everything
from .base import FigureResult, show_grid

GRID = 64  # samples per panel, 8 x 8


def samples_panel(run) -> tuple[np.ndarray | torch.Tensor, str] | None:
    """The run's evaluation grid (an image array), or 64 fresh samples; None when its method cannot sample."""
    path = run.path / paths.SAMPLES
    if path.is_file():
        with Image.open(path) as image:
            return np.asarray(image.convert("L" if image.mode in ("L", "I;16") else "RGB")), "samples.png"
    if METHODS.get(run.spec["method"]).sample is Method.sample:
        return None
    seed_everything(run.spec["seed"])  # as evaluate.sample_scores does, so the samples are the run's own
    return draw_samples(run.model, GRID, run.spec["batch_size"], run.spec["bn_protocol"]), "drawn"


@register_figure("generative_samples")
def generative_samples(ctx: OutputContext) -> FigureResult:
    datasets = ctx.datasets
    panels: dict[tuple[str, str], tuple] = {}
    rows = []
    for label, (method, _) in ctx.variants().items():
        for dataset in datasets:
            run = ctx.first_seed_run(label, dataset)
            panel = samples_panel(run) if run is not None else None
            if panel is None:
                continue
            panels[(label, dataset)] = panel
            image, source = panel
            rows.append({"label": label, "method": method, "dataset": dataset, "seed": run.spec["seed"],
                         "epochs": run.spec["epochs"], "source": source, "run_dir": str(run.path),
                         "mean_pixel": float(np.asarray(image, dtype=np.float64).mean() / (255 if source == "samples.png" else 1))})
    labels = list(dict.fromkeys(label for label, _ in panels))
    fig, axes = plt.subplots(max(len(labels), 1), len(datasets), figsize=(1.8 * len(datasets), 2.0 * max(len(labels), 1)),
                             squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for i, label in enumerate(labels):
        method = ctx.variants()[label][0]
        title = METHODS.get(method).display_title() if label == method else label  # a variant shows its label
        for j, dataset in enumerate(datasets):
            if (label, dataset) not in panels:
                continue
            image, source = panels[(label, dataset)]
            ax = axes[i][j]
            heading = f"{title} - {dataset_title(dataset)}"
            if source == "drawn":
                show_grid(ax, image.cpu(), 8, heading)
            else:
                ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
                ax.set_title(heading, fontsize=9)
    fig.tight_layout()
    frame = pd.DataFrame(rows)
    epochs = ", ".join(f"{r.label} {r.epochs}" for r in frame.drop_duplicates("label").itertuples()) if len(frame) else "n/a"
    seeds = sorted(frame["seed"].unique()) if len(frame) else []
    caption = (f"Samples of every sampling method of the experiment (rows) on each dataset (columns): the first seed "
               f"of each cell (seed {', '.join(map(str, seeds)) or 'n/a'}), the 8x8 grid the run wrote at evaluation "
               f"(the first 64 of the class-free samples its judge scored, BatchNorm in the run's protocol; PPGN's grid "
               f"is class-conditional, one class per row), or 64 samples drawn the same way where a run has none "
               f"(source column of the CSV). Profile `{ctx.profile}`; datasets {', '.join(datasets)}; epochs: {epochs}.")
    return FigureResult(fig, frame, caption)


def _normal_pdf(t: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * t**2) / math.sqrt(2 * math.pi)


@register_figure("prior_codes")
def prior_codes(ctx: OutputContext) -> FigureResult:
    """Per autoencoder run (first seed): validation codes against prior draws in the first two code coordinates
    (a projection whose marginal under the prior is N(0, I_2)), and every coordinate's values pooled against
    the N(0, 1) density."""
    cells = []
    for label in ctx.variants():
        for dataset in ctx.datasets:
            run = ctx.first_seed_run(label, dataset)
            if run is not None and (run.path / paths.CODES).is_file():
                cells.append((label, dataset, run, load_checkpoint(run.path / paths.CODES, what="codes file")))
    fig, axes = plt.subplots(max(len(cells), 1), 2, figsize=(8, 3.4 * max(len(cells), 1)), squeeze=False)
    rows = []
    t = np.linspace(-4, 4, 200)
    for i, (label, dataset, run, blob) in enumerate(cells):
        codes, prior = blob["codes"].double().numpy(), blob["prior"].double().numpy()
        title = f"{METHODS.get(run.spec['method']).display_title()} - {dataset_title(dataset)}"
        ax = axes[i][0]
        ax.scatter(prior[:, 0], prior[:, 1], s=4, alpha=0.4, color="0.6", label="prior draws")
        ax.scatter(codes[:, 0], codes[:, 1], s=4, alpha=0.7, c=blob["labels"].numpy(), cmap="tab10",
                   label="validation codes")
        ax.set(xlabel="z1", ylabel="z2", title=title)
        ax.legend(fontsize=7, loc="upper right", markerscale=2)
        ax = axes[i][1]
        ax.hist(codes.ravel(), bins=50, range=(-4, 4), density=True, alpha=0.7, label="code coordinates")
        ax.plot(t, _normal_pdf(t), color="k", linewidth=1, label="N(0, 1)")
        prior_mmd = run.metrics.get("prior_mmd")
        ax.set(xlabel="coordinate value", title=f"prior_mmd {prior_mmd:.4f}" if prior_mmd is not None else "")
        ax.legend(fontsize=7)
        rows.append({"label": label, "dataset": dataset, "seed": run.spec["seed"], "run_dir": str(run.path),
                     "codes": len(codes), "code_dim": codes.shape[1], "mean": float(codes.mean()),
                     "std": float(codes.std()), "prior_mmd": prior_mmd})
    for ax in axes.flat[2 * len(cells):]:
        ax.set_axis_off()
    fig.tight_layout()
    caption = (f"Codes of the validation images (coloured by class) against as many draws of the prior N(0, I), in the "
               f"first two code coordinates, and every coordinate pooled against the N(0, 1) density; the title gives "
               f"the run's prior_mmd (unbiased MMD^2, Gaussian kernel of bandwidth d). First seed of each cell. "
               f"Profile `{ctx.profile}`; datasets {', '.join(ctx.datasets)}.")
    return FigureResult(fig, pd.DataFrame(rows), caption)
