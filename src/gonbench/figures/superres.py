"""Super-resolution examples (Ravì et al. 2018, their qualitative figure): for a few validation objects, the
simulated LR input, every method's estimate (the cubic interpolation baseline among them) and the HR image,
the same central crop of each side by side. Estimates come from the first seed of each cell, computed from the
run's trained model on its own validation images (a forward pass of a few images)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import torch

from .. import metrics as M
from ..data.fibres import HR, LR_LINEAR
from ..methods import METHODS
from ..outputs import OutputContext, register_figure
from ..tables.superres import STAND_IN
from .base import FigureResult

EXAMPLES = 4  # validation images, spread evenly over the held-out objects
CROP = 0.5  # side of the central crop, as a share of the image


def _crop(x: torch.Tensor) -> torch.Tensor:
    size = x.shape[-1]
    side = max(int(round(size * CROP)), 1)
    start = (size - side) // 2
    return x[..., start:start + side, start:start + side]


@register_figure("superres_examples")
def superres_examples(ctx: OutputContext) -> FigureResult:
    dataset = ctx.datasets[0]
    columns: list[tuple[str, torch.Tensor]] = []
    rows = []
    x = picks = None
    for label, (method, _) in ctx.variants().items():
        run = ctx.first_seed_run(label, dataset)
        if run is None:
            continue
        if x is None:
            val, _ = run.val_data()
            picks = torch.linspace(0, len(val) - 1, EXAMPLES).round().long()
            x = val[picks]
            columns.append(("LR (Delaunay linear)", x[:, LR_LINEAR:LR_LINEAR + 1]))
        with torch.no_grad():
            estimate = run.model.estimate(x.to(run.device)).clamp(0, 1).cpu()
        title = METHODS.get(method).display_title() if label == method else label
        columns.append((title, estimate))
        for i, idx in enumerate(picks.tolist()):
            rows.append({"label": label, "method": method, "seed": run.spec["seed"], "epochs": run.spec["epochs"],
                         "val_index": idx, "ssim": float(M.ssim_images(estimate[i:i + 1], x[i:i + 1, HR:HR + 1])[0]),
                         "run_dir": str(run.path)})
    if x is not None:
        columns.append(("HR", x[:, HR:HR + 1]))
    n = len(picks) if picks is not None else 1
    fig, axes = plt.subplots(n, max(len(columns), 1), figsize=(1.9 * max(len(columns), 1), 2.0 * n), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for j, (title, images) in enumerate(columns):
        for i in range(len(images)):
            axes[i][j].imshow(_crop(images[i, 0]).numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[0][j].set_title(title, fontsize=8)
    fig.tight_layout()
    frame = pd.DataFrame(rows)
    seeds = sorted(frame["seed"].unique()) if len(frame) else []
    epochs = ", ".join(f"{r.label} {r.epochs}" for r in frame.drop_duplicates("label").itertuples()) if len(frame) else "n/a"
    caption = (f"Super-resolution on {EXAMPLES} validation images of held-out objects (rows): the central "
               f"{int(CROP * 100)}% crop of the simulated LR input, each method's estimate (columns, the profile's order) "
               f"and the HR image; per-image SSIM of each whole estimate in the CSV. {STAND_IN} First seed of each "
               f"cell (seed {', '.join(map(str, seeds)) or 'n/a'}); profile `{ctx.profile}`; dataset {dataset}; "
               f"epochs: {epochs}.")
    return FigureResult(fig, frame, caption)
