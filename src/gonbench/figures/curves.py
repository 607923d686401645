"""Loss-curve figures drawn from the runs' per-epoch logs."""
from __future__ import annotations

import matplotlib.pyplot as plt

from ..data import dataset_title
from ..outputs import OutputContext, register_figure
from .base import FigureResult, band, concat, describe_runs, shared_legend


def dataset_curve_panels(ctx: OutputContext, methods: list[str] | None, colors: dict | None = None):
    """One panel per dataset with the validation loss per epoch of each method (mean ± std over seeds);
    returns (figure, curve data, epoch logs, datasets)."""
    logs = ctx.logs()
    datasets = list(dict.fromkeys(logs["dataset"])) if len(logs) else []
    fig, axes = plt.subplots(1, max(len(datasets), 1), figsize=(4.2 * max(len(datasets), 1), 3.4), squeeze=False)
    data = []
    for ax, dataset in zip(axes[0], datasets):
        sub = logs[logs["dataset"] == dataset]
        present = list(dict.fromkeys(sub["method_label"]))
        for label in [m for m in methods if m in present] if methods else present:
            style = {"color": colors[label]} if colors and label in colors else {}
            data.append(band(ax, sub[sub["method_label"] == label], "epoch", "val_recon_sse", label, **style)
                        .assign(dataset=dataset))
        ax.set(title=dataset_title(dataset), xlabel="epoch", yscale="log")
    shared_legend(fig, axes[0], "validation SSE per image")
    return fig, concat(data), logs, datasets


@register_figure("table1_curves")
def table1_curves(ctx: OutputContext) -> FigureResult:
    """Validation loss per epoch of every Table 1 method (the curves behind the table, cf. Figure 2b)."""
    fig, data, logs, datasets = dataset_curve_panels(ctx, None)
    caption = (f"Validation reconstruction loss (summed squared error per image, log scale) per epoch of the "
               f"Table 1 methods. Profile `{ctx.profile}`; datasets {', '.join(datasets)}; {describe_runs(logs)}.")
    return FigureResult(fig, data, caption)
