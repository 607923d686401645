"""Figures of the PPGN-h thesis (Pakdaman 2018): Wasserstein estimates per generator step (Figure 4) and
class-conditional MALA-approx samples, one class per row (Figure 3 a-f). Both read files the runs already
hold (steps.jsonl from training, class_samples.pt from evaluation), so drawing them trains and samples nothing.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd

from .. import paths
from ..images import class_major_grid
from ..io import load_checkpoint
from ..methods.ppgn.model import GRID_COLUMNS
from ..outputs import OutputContext, register_figure
from .base import FigureResult, band, concat, describe_runs, show_grid

CRITIC_TITLES = {"image": "D (image)", "code": "D1 (code E_fc1)"}


def _panels(n: int) -> tuple:
    cols = min(n, 3)
    rows = max(math.ceil(n / cols), 1) if n else 1
    fig, axes = plt.subplots(rows, max(cols, 1), figsize=(4.4 * max(cols, 1), 3.6 * rows), squeeze=False,
                             layout="constrained")
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    return fig, list(axes.flat)


@register_figure("ppgn_fig4_wasserstein")
def fig4_wasserstein(ctx: OutputContext) -> FigureResult:
    """Each critic's Wasserstein estimate D(real) - D(fake) at its last iteration before every generator step."""
    steps = ctx.logs(paths.STEPS)
    labels = list(ctx.variants())
    fig, axes = _panels(len(labels))
    data = []
    for ax, label in zip(axes, labels):
        sub = steps[steps["method_label"] == label] if len(steps) else steps
        for critic, title in CRITIC_TITLES.items():
            column = f"wasserstein_{critic}"
            if len(sub) and column in sub and sub[column].notna().any():
                data.append(band(ax, sub, "gen_step", column, title).assign(method_label=label, critic=critic))
        ax.set(title=label, xlabel="generator step", ylabel="Wasserstein estimate")
        ax.legend(fontsize=8)
    last = int(steps["gen_step"].max()) if len(steps) else 0
    caption = (f"PPGN thesis Figure 4: each critic's Wasserstein estimate D(real) - D(fake), from its last "
               f"iteration before every generator step, mean ± std over seeds. Profile `{ctx.profile}`; dataset "
               f"{', '.join(ctx.datasets)}; {describe_runs(steps)}; up to {last} generator steps.")
    return FigureResult(fig, concat(data), caption)


@register_figure("ppgn_fig3_samples")
def fig3_samples(ctx: OutputContext) -> FigureResult:
    """The first seed's class-conditional samples of every variant, one class per row."""
    labels, dataset = list(ctx.variants()), ctx.datasets[0]
    fig, axes = _panels(len(labels))
    rows, settings = [], set()
    for ax, label in zip(axes, labels):
        run = ctx.first_seed_run(label, dataset)
        path = run.path / paths.CLASS_SAMPLES if run is not None else None
        if path is None or not path.is_file():
            ax.set_axis_off()
            continue
        blob = load_checkpoint(path, what="sample file")
        classes = len(blob["classes"].unique())
        show_grid(ax, class_major_grid(blob["images"].float() / 255, classes, GRID_COLUMNS), GRID_COLUMNS, label)
        spec = run.spec
        settings.add(f"{spec['sampler_steps']} steps, eps1 {spec['eps1']:g}, eps2 {spec['eps2']:g}, "
                     f"eps3 {spec['eps3']:g}, first {GRID_COLUMNS} of {spec['samples_per_class']} chains per class; "
                     f"{spec['epochs']} epochs")
        rows.append({"method_label": label, "run_dir": str(run.path), "seed": spec["seed"],
                     "sample_accuracy": run.metrics.get("sample_accuracy"), "kid": run.metrics.get("kid"),
                     "mean_pixel": float(blob["images"].float().mean() / 255)})
    caption = (f"PPGN thesis Figure 3 (a-f): class-conditional MALA-approx samples from h0 ~ N(0, I), one class "
               f"(0-9) per row, de-normalised to [0, 1]; seed 0 of each variant. Profile `{ctx.profile}`; "
               f"dataset {dataset}; sampler {' / '.join(sorted(settings)) or 'n/a'}.")
    return FigureResult(fig, pd.DataFrame(rows), caption)
