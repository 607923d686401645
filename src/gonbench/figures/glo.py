"""GLO's validation fit: validation SSE against the Adam steps that fit the latents with the decoder frozen.

The GON paper says GLO takes orders of magnitude longer than a gradient step to reconstruct validation data;
this figure shows how long the fit runs before the loss stops improving, and what it costs in seconds.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .. import paths
from ..data import dataset_title
from ..io import load_checkpoint, read_json
from ..methods.glo import CURVE_FILE
from ..outputs import OutputContext, register_figure
from .base import FigureResult, band, concat, plain_log_ticks


def fit_curves(ctx: OutputContext, labels: list[str]) -> pd.DataFrame:
    """One row per (run, fit step): validation SSE per image under the run's headline BatchNorm protocol.
    A seed whose fit stopped earlier keeps its last value at later steps (its latents no longer moved)."""
    frames = []
    for key in ctx.run_keys():
        run_dir = ctx.layout.run(key)
        if key.method_label not in labels or not (run_dir / CURVE_FILE).exists():
            continue
        suffix = f"_bn_{read_json(run_dir / paths.CONFIG)['bn_protocol']}"
        curve = load_checkpoint(run_dir / CURVE_FILE, what="GLO fit curve")
        frames.append(pd.DataFrame({"steps": curve[f"steps{suffix}"].numpy(), "sse": curve[f"sse{suffix}"].numpy(),
                                    "label": key.method_label, "dataset": key.dataset, "seed": key.seed}))
    if not frames:
        return pd.DataFrame(columns=["steps", "sse", "label", "dataset", "seed"])
    wide = concat(frames).pivot_table(index=["label", "dataset", "steps"], columns="seed", values="sse")
    held = wide.groupby(level=["label", "dataset"]).ffill()
    return held.stack().rename("sse").reset_index()


def measured(ctx: OutputContext, labels: list[str]) -> str:
    """Per dataset, over seeds: mean fit steps per batch, batches at the cap, fitting and evaluation seconds."""
    runs = ctx.runs()
    if not len(runs):
        return "no evaluated runs yet"
    parts: list[str] = []
    for dataset, sub in runs[runs["method_label"].isin(labels)].groupby("dataset", sort=False):
        p = f"_bn_{sub['bn_protocol'].iloc[0]}"
        if f"m.glo_fit_steps_mean{p}" not in sub:
            continue  # evaluated before the fit was recorded
        parts.append(f"{dataset_title(dataset)}: {sub[f'm.glo_fit_steps_mean{p}'].mean():.0f} steps per batch "
                     f"(max {sub[f'm.glo_fit_steps_max{p}'].max():.0f}), {sub[f'm.glo_fit_capped{p}'].sum():.0f} "
                     f"of {sub[f'm.glo_fit_batches{p}'].sum():.0f} batches at the cap, "
                     f"{sub[f'm.glo_fit_seconds{p}'].mean():.1f} s of fitting in this protocol and "
                     f"{sub['m.glo_fit_seconds'].mean():.1f} s in all of evaluation's protocols "
                     f"(evaluation {sub['m.eval_seconds'].mean():.1f} s)")
    return "; ".join(parts) or "no GLO run evaluated with the fit recorded yet"


@register_figure("glo_fit_curve", needs=("glo",))
def glo_fit_curve(ctx: OutputContext) -> FigureResult:
    labels = [label for label, (method, _) in ctx.variants().items() if method == "glo"]
    curves = fit_curves(ctx, labels)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    data = []
    for (label, dataset), part in curves.groupby(["label", "dataset"], sort=False):
        name = dataset_title(dataset) if len(labels) == 1 else f"{label} {dataset_title(dataset)}"
        data.append(band(ax, part, "steps", "sse", name, marker="o", markersize=3)
                    .assign(label=label, dataset=dataset))
    ax.set_xscale("symlog", linthresh=10)  # step 0 (the decoder at z = 0) on the linear part
    ax.set(yscale="log", xlabel="Adam steps on the validation latents", ylabel="validation SSE per image")
    plain_log_ticks(ax)
    if data:
        ax.legend(fontsize=8)
    spec = ctx.spec(labels[0]) if labels else {}
    seeds = sorted(curves["seed"].unique()) if len(curves) else []
    caption = (f"GLO validation latents fitted by Adam (lr {spec.get('fit_lr')}) from z = 0 with the decoder frozen, "
               f"in the run's headline BatchNorm protocol: validation SSE per image against fit steps, mean ± std "
               f"over seeds {', '.join(map(str, seeds))}. A batch stops when its loss improves by less than "
               f"{spec.get('fit_tolerance')} (relative) over {spec.get('fit_window')} steps, or at "
               f"{spec.get('fit_max_steps')} steps. Profile `{ctx.profile}`; datasets {', '.join(ctx.datasets)}. "
               f"Measured: {measured(ctx, labels)}.")
    fig.tight_layout()
    return FigureResult(fig, concat(data), caption)
