"""DeePSiM's reconstructions per loss (the paper's Fig. 3 in spirit): the same validation images, then their
reconstructions under each loss combination of the experiment, one column of panels per dataset.

Each panel is the first seed's run; its reconstructions come from ``validation.reconstruct_all`` over the
whole validation split (the batching and BatchNorm protocol of evaluation), so they are the images the table's
metrics were computed on. The CSV lists every shown image's squared error and gradient magnitude.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .. import metrics as M
from ..data import dataset_title
from ..methods import METHODS
from ..outputs import OutputContext, register_figure
from ..validation import reconstruct_all
from .base import FigureResult, show_grid

SHOWN = 16  # validation images per panel, two rows of 8


@register_figure("deepsim_reconstructions")
def deepsim_reconstructions(ctx: OutputContext) -> FigureResult:
    datasets, labels = ctx.datasets, list(ctx.variants())
    fig, axes = plt.subplots(len(labels) + 1, len(datasets), figsize=(3.2 * len(datasets), 1.9 * (len(labels) + 1)),
                             squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    rows, epochs = [], set()
    for j, dataset in enumerate(datasets):
        shown_data = False
        for i, label in enumerate(labels, start=1):
            run = ctx.first_seed_run(label, dataset)
            if run is None:
                continue
            x = run.val_data()[0]
            recon = reconstruct_all(run.model, x, run.spec["batch_size"], run.spec["bn_protocol"]).clamp(0, 1)[:SHOWN]
            x = x[:SHOWN]
            if not shown_data:
                show_grid(axes[0][j], x, 8, f"{dataset_title(dataset)}: validation images")
                rows += [{"label": "data", "dataset": dataset, "image": k,
                          "gradient_magnitude": float(g)} for k, g in enumerate(M.gradient_magnitude(x))]
                shown_data = True
            method = ctx.variants()[label][0]
            title = METHODS.get(method).display_title() if label == method else label
            show_grid(axes[i][j], recon, 8, f"{title} (ratio {M.sharpness_ratio(recon, x):.2f})")
            epochs.add(run.spec["epochs"])
            rows += [{"label": label, "dataset": dataset, "image": k, "seed": run.spec["seed"], "run_dir": str(run.path),
                      "recon_sse": float(e), "gradient_magnitude": float(g)}
                     for k, (e, g) in enumerate(zip(M.recon_sse(recon, x), M.gradient_magnitude(recon)))]
    fig.tight_layout()
    caption = (f"DeePSiM: the first {SHOWN} validation images (top) and their reconstructions by the autoencoder "
               f"trained with each loss combination (seed 0, {', '.join(map(str, sorted(epochs))) or '?'} epochs), with "
               f"BatchNorm in the runs' evaluation protocol; in brackets each panel's sharpness ratio (mean gradient "
               f"magnitude of the reconstructions over that of these images). Profile `{ctx.profile}`; datasets "
               f"{', '.join(datasets)}.")
    return FigureResult(fig, pd.DataFrame(rows), caption)
