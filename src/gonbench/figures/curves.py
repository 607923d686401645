"""Loss-curve figures drawn from the runs' per-epoch logs."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ..aggregate import DATASET_TITLES
from .base import band, describe_runs, epoch_logs, figures_dir, register_figure, save_figure, shared_legend


@register_figure("table1_curves")
def table1_curves(cfg: dict) -> list[Path]:
    """Validation loss per epoch of every Table 1 method (the curves behind the table, cf. Figure 2b)."""
    logs = epoch_logs(cfg, "table1")
    datasets = list(dict.fromkeys(logs["dataset"])) if len(logs) else []
    fig, axes = plt.subplots(1, max(len(datasets), 1), figsize=(4.2 * max(len(datasets), 1), 3.4), squeeze=False)
    data = []
    for ax, dataset in zip(axes[0], datasets):
        sub = logs[logs["dataset"] == dataset]
        for label in dict.fromkeys(sub["method_label"]):
            data.append(band(ax, sub[sub["method_label"] == label], "epoch", "val_recon_sse", label)
                        .assign(dataset=dataset))
        ax.set(title=DATASET_TITLES.get(dataset, dataset), xlabel="epoch", yscale="log")
    shared_legend(fig, axes[0], "validation SSE per image")
    caption = (f"Validation reconstruction loss (summed squared error per image, log scale) per epoch of the "
               f"Table 1 methods. Profile `{cfg['profile']}`; datasets {', '.join(datasets)}; {describe_runs(logs)}.")
    return save_figure(fig, pd.concat(data) if data else pd.DataFrame(), caption, figures_dir(cfg), "table1_curves")
