"""The GON paper's analysis figures: loss curves over latent size (Fig. 2a), steps (2b), the generalisation gap
(2c / Appendix E), activations (Fig. 3), wall-clock convergence (Fig. 8), architecture (Appendix B, Fig. 10),
the origin's distribution (Appendix C, Fig. 11) and latent histograms (Figs. 13/14)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from .. import metrics as M
from .. import paths
from ..data import dataset_title
from ..io import load_checkpoint
from ..outputs import OutputContext, register_figure
from ..validation import apply_batched
from .base import FigureResult, band, concat, describe_runs, plain_log_ticks, shared_legend, show_grid, stand_in
from .curves import dataset_curve_panels

COLORS = {"gon": "tab:blue", "ae": "tab:orange", "tied_ae": "tab:green", "gon_detach_1": "tab:red",
          "gon_10": "tab:purple", "gon_detach_10": "tab:brown", "glo": "tab:gray", "vae": "tab:orange"}


@register_figure("fig2a_latent_size")
def fig2a_latent_size(ctx: OutputContext) -> FigureResult:
    logs = ctx.logs()
    variants = ctx.variants()
    sizes = sorted({v[1]["nz"] for v in variants.values()})
    fig, axes = plt.subplots(1, len(sizes), figsize=(3.8 * len(sizes), 3.3), squeeze=False, sharey=True)
    data = []
    for ax, nz in zip(axes[0], sizes):
        for label, (method, extra) in variants.items():
            if extra["nz"] != nz or not len(logs):
                continue
            data.append(band(ax, logs[logs["method_label"] == label], "epoch", "val_recon_sse", method.upper(),
                             color=COLORS.get(method)).assign(nz=nz))
        ax.set(title=f"latent size {nz}", xlabel="epoch", yscale="log")
    shared_legend(fig, axes[0], "validation SSE per image")
    caption = (f"Figure 2a: validation loss per epoch of GON and an AE with the same decoder, per latent size. "
               f"Profile `{ctx.profile}`; {stand_in(ctx.datasets)}; {describe_runs(logs)}.")
    return FigureResult(fig, concat(data), caption)


@register_figure("fig2b_steps", needs=("gon", "gon_10", "gon_detach_1", "gon_detach_10"))
def fig2b_steps(ctx: OutputContext) -> FigureResult:
    fig, data, logs, _ = dataset_curve_panels(ctx, ["gon", "gon_10", "gon_detach_1", "gon_detach_10"], COLORS)
    caption = (f"Figure 2b: one gradient step (GON) against ten steps, with and without detaching the latent. "
               f"Profile `{ctx.profile}`, the runs of experiment {ctx.experiment}; {stand_in(ctx.datasets)}; "
               f"{describe_runs(logs)}.")
    return FigureResult(fig, data, caption)


@register_figure("fig2c_generalisation", needs=("gon", "ae"))
def fig2c_generalisation(ctx: OutputContext) -> FigureResult:
    """Training loss (per-image SSE: the batch loss times H*W) against validation loss, GON vs AE."""
    logs = ctx.logs()
    datasets = list(dict.fromkeys(logs["dataset"])) if len(logs) else []
    fig, axes = plt.subplots(1, max(len(datasets), 1), figsize=(3.8 * max(len(datasets), 1), 3.3), squeeze=False)
    data = []
    for ax, dataset in zip(axes[0], datasets):
        sub = logs[logs["dataset"] == dataset].copy()
        sub["train_sse"] = sub["train_loss"] * sub["image_size"] ** 2
        for m in ("gon", "ae"):
            part = sub[sub["method_label"] == m]
            data.append(band(ax, part, "epoch", "train_sse", f"{m.upper()} train", color=COLORS[m], linestyle="--")
                        .assign(dataset=dataset, split="train"))
            data.append(band(ax, part, "epoch", "val_recon_sse", f"{m.upper()} validation", color=COLORS[m])
                        .assign(dataset=dataset, split="validation"))
        ax.set(title=dataset_title(dataset), xlabel="epoch", yscale="log")
    shared_legend(fig, axes[0], "SSE per image")
    caption = (f"Figure 2c / Appendix E: training (dashed; running mean of the batch loss during each epoch) and "
               f"validation loss of GON and the AE over the Table 1 datasets. Profile `{ctx.profile}`; "
               f"{describe_runs(logs)}.")
    return FigureResult(fig, concat(data), caption)


@register_figure("fig3_activation")
def fig3_activation(ctx: OutputContext) -> FigureResult:
    runs = ctx.runs()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    data = pd.DataFrame()
    if len(runs):
        data = (runs.groupby(["activation", "nz"])["m.recon_sse"].agg(["mean", "std", "count"]).reset_index())
        for act, sub in data.groupby("activation"):
            relu = act == "relu"
            ax.errorbar(sub["nz"], sub["mean"], yerr=sub["std"].fillna(0), marker="o", capsize=3, label=act,
                        linewidth=2.5 if relu else 1.2, linestyle="--" if relu else "-")
        ax.set(xscale="log", yscale="log", xlabel="latent size", ylabel="validation SSE per image")
        plain_log_ticks(ax, data["nz"].unique())
        ax.legend(fontsize=8, title="activation")
    caption = (f"Figure 3: GON validation loss by activation and latent size. ReLU (dashed) has a zero second "
               f"derivative almost everywhere, so in the GON's second-order path (the outer loss through "
               f"z = -grad) its activations contribute no curvature, unlike the smooth activations. Profile "
               f"`{ctx.profile}`; {stand_in(ctx.datasets)}; bars ± std over seeds "
               f"({int(data['count'].max()) if len(data) else 0} per point).")
    return FigureResult(fig, data, caption)


@register_figure("fig8_wallclock")
def fig8_wallclock(ctx: OutputContext) -> FigureResult:
    dataset = ctx.datasets[0]
    cells = [(m, ctx.first_seed_run(m, dataset)) for m in ctx.variants()]
    cells = [(m, r) for m, r in cells if r is not None]
    times = sorted({round(s["seconds"]) for _, r in cells for s in _snapshots(r)})
    fig, axes = plt.subplots(len(cells), 1, figsize=(2 + 1.3 * max(len(times), 1), 2.2 * max(len(cells), 1)), squeeze=False)
    rows = []
    for ax, (method, run) in zip(axes[:, 0], cells):
        snaps = _snapshots(run)
        x = run.val_data()[0][:8]
        images = torch.cat([x] + [s["recon"].float() / 255 for s in snaps])
        show_grid(ax, images, 8, f"{method.upper()}: validation images, then reconstructions at "
                                 + ", ".join(f"{s['seconds']:.0f}s" for s in snaps))
        for s in snaps:
            rows.append({"method": method, "seconds": s["seconds"],
                         "recon_sse": float(M.recon_sse(s["recon"].float() / 255, x).mean())})
    caption = (f"Figure 8: convergence in wall-clock time; each row after the first shows reconstructions of the "
               f"same validation images at the given seconds of training (CPU, 1 thread). Profile "
               f"`{ctx.profile}`, {dataset}, seed 0.")
    return FigureResult(fig, pd.DataFrame(rows), caption)


def _snapshots(run) -> list[dict]:
    return load_checkpoint(run.path / paths.CHECKPOINT).get("snapshots", [])


@register_figure("fig10_architecture")
def fig10_architecture(ctx: OutputContext) -> FigureResult:
    runs = ctx.runs()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    data = pd.DataFrame()
    if len(runs):
        runs = runs.copy()
        runs["latent_values"] = runs["nz"] * runs["latent_hw"] ** 2
        data = runs.groupby(["method", "ngf", "nz", "latent_hw", "depth"])["m.recon_sse"].agg(["mean", "std"]).reset_index()
        base = {"ngf": 16, "nz": 32, "latent_hw": 1}
        for ax, (key, title) in zip(axes, [("ngf", "filters f"), ("nz", "latent channels"), ("latent_hw", "latent spatial size (depth)")]):
            others = [k for k in base if k != key]
            sub = data[np.logical_and.reduce([data[k] == base[k] for k in others])]
            for method, part in sub.groupby("method"):
                part = part.sort_values(key)
                ax.errorbar(part[key], part["mean"], yerr=part["std"].fillna(0), marker="o", capsize=3,
                            label=method.upper(), color=COLORS.get(method))
                if key == "latent_hw":
                    for _, r in part.iterrows():
                        ax.annotate(f"{int(r['depth'])} blocks", (r[key], r["mean"]), fontsize=6,
                                    textcoords="offset points", xytext=(3, 3))
            ax.set(xscale="log", yscale="log", xlabel=title, ylabel="validation SSE per image")
            plain_log_ticks(ax, sub[key].unique())
            ax.legend(fontsize=8)
    caption = (f"Figure 10 (Appendix B): GON against the AE while varying one architectural setting at a time "
               f"from the paper's (f=16, 32 latent channels, 1x1 latent / 3 upsampling blocks). Profile "
               f"`{ctx.profile}`; {stand_in(ctx.datasets)}; bars ± std over seeds.")
    return FigureResult(fig, data, caption)


@register_figure("fig11_origin")
def fig11_origin(ctx: OutputContext) -> FigureResult:
    runs = ctx.runs()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    data = pd.DataFrame()
    if len(runs):
        data = runs.groupby(["z0_mode", "z0_std"])["m.recon_sse"].agg(["mean", "std"]).reset_index()
        names = {"gradient": "z = -grad at z0", "step": "z = z0 - grad at z0"}
        for mode, sub in data.groupby("z0_mode"):
            shown = sub.assign(x=sub["z0_std"].replace(0.0, 1e-3))
            ax.errorbar(shown["x"], shown["mean"], yerr=shown["std"].fillna(0), marker="o", capsize=3, label=names[mode])
        ax.set(xscale="log", yscale="log", xlabel="sigma of z0 ~ N(0, sigma^2 I)  (leftmost point: sigma = 0)",
               ylabel="validation SSE per image")
        plain_log_ticks(ax)
        ax.legend(fontsize=8)
    caption = (f"Figure 11 (Appendix C): sampling the origin z0 ~ N(0, sigma^2 I) instead of zeros, with the "
               f"negative gradient as the encoding or one gradient-descent step from z0. Profile `{ctx.profile}`; "
               f"{stand_in(ctx.datasets)}; bars ± std over seeds.")
    return FigureResult(fig, data, caption)


@register_figure("fig13_latent_histograms", needs=("gon", "vae"))
def fig13_latent_histograms(ctx: OutputContext) -> FigureResult:
    dataset = ctx.datasets[0]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    rows = []
    for ax, method in zip(axes, ("gon", "vae")):
        run = ctx.first_seed_run(method, dataset)
        if run is None:
            ax.set_axis_off()
            continue
        x, _ = run.val_data()
        z = _encode_all(run, x)
        values = z.flatten().numpy()
        ax.hist(values, bins=80, color=COLORS[method], density=True)
        steps = sum(r["steps"] for r in run.log)
        ax.set(title=f"{method.upper()} latents after {steps} steps", xlabel="latent value", ylabel="density")
        rows.append({"method": method, "steps": steps, "mean": float(values.mean()), "std": float(values.std()),
                     "min": float(values.min()), "max": float(values.max()), "dims": z.shape[1]})
    caption = (f"Figures 13/14: distribution of all latent coordinates of validation images: GON's -grad at the "
               f"origin, and the VAE encoder's posterior means. Profile `{ctx.profile}`, {dataset}, seed 0.")
    return FigureResult(fig, pd.DataFrame(rows), caption)


def _encode_all(run, x: torch.Tensor) -> torch.Tensor:
    model = run.model
    if hasattr(model, "fc_mu"):
        def fn(batch):  # VAE: posterior mean
            return model.fc_mu(model.head_input(batch["x"]))
    else:
        def fn(batch):
            return model.encode(batch["x"], detach=True)
    return apply_batched(model, x, run.spec["batch_size"], run.spec["bn_protocol"], fn)
