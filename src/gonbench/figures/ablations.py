"""The GON paper's analysis figures: loss curves over latent size (Fig. 2a), steps (2b), the generalisation gap
(2c / Appendix E), activations (Fig. 3), wall-clock convergence (Fig. 8), architecture (Appendix B, Fig. 10),
the origin's distribution (Appendix C, Fig. 11) and latent histograms (Figs. 13/14)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ..aggregate import DATASET_TITLES, collect_runs
from ..config import experiment_variants
from .curves import dataset_curve_panels
from .base import band, describe_runs, epoch_logs, figures_dir, register_figure, plain_log_ticks, save_figure, seed0_run, shared_legend, show_grid

COLORS = {"gon": "tab:blue", "ae": "tab:orange", "tied_ae": "tab:green", "gon_detach_1": "tab:red",
          "gon_10": "tab:purple", "gon_detach_10": "tab:brown", "glo": "tab:gray", "vae": "tab:orange"}


def _stand_in(cfg: dict, exp: str, paper_dataset: str = "cifar10") -> str:
    datasets = cfg["experiments"][exp]["datasets"]
    if paper_dataset in datasets:
        return f"datasets {', '.join(datasets)}"
    return f"datasets {', '.join(datasets)} (standing in for the paper's {paper_dataset}, not available offline)"


def _variant_values(cfg: dict, exp: str) -> dict[str, tuple[str, dict]]:
    return experiment_variants(cfg["experiments"][exp])


@register_figure("fig2a_latent_size")
def fig2a_latent_size(cfg: dict):
    logs = epoch_logs(cfg, "fig2a")
    variants = _variant_values(cfg, "fig2a")
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
               f"Profile `{cfg['profile']}`; {_stand_in(cfg, 'fig2a')}; {describe_runs(logs)}.")
    return save_figure(fig, pd.concat(data) if data else pd.DataFrame(), caption, figures_dir(cfg), "fig2a_latent_size")


@register_figure("fig2b_steps")
def fig2b_steps(cfg: dict):
    fig, data, logs, _ = dataset_curve_panels(cfg, "table1", ["gon", "gon_10", "gon_detach_1", "gon_detach_10"], COLORS)
    caption = (f"Figure 2b: one gradient step (GON) against ten steps, with and without detaching the latent. "
               f"Profile `{cfg['profile']}`, the Table 1 runs; {_stand_in(cfg, 'table1')}; {describe_runs(logs)}.")
    return save_figure(fig, data, caption, figures_dir(cfg), "fig2b_steps")


@register_figure("fig2c_generalisation")
def fig2c_generalisation(cfg: dict):
    """Training loss (per-image SSE: the batch loss times H*W) against validation loss, GON vs AE."""
    logs = epoch_logs(cfg, "table1")
    datasets = list(dict.fromkeys(logs["dataset"])) if len(logs) else []
    size = cfg.get("defaults", {}).get("image_size", 32)
    fig, axes = plt.subplots(1, max(len(datasets), 1), figsize=(3.8 * max(len(datasets), 1), 3.3), squeeze=False)
    data = []
    for ax, dataset in zip(axes[0], datasets):
        sub = logs[logs["dataset"] == dataset].copy()
        sub["train_sse"] = sub["train_loss"] * size * size
        for m in ("gon", "ae"):
            part = sub[sub["method_label"] == m]
            data.append(band(ax, part, "epoch", "train_sse", f"{m.upper()} train", color=COLORS[m], linestyle="--")
                        .assign(dataset=dataset, split="train"))
            data.append(band(ax, part, "epoch", "val_recon_sse", f"{m.upper()} validation", color=COLORS[m])
                        .assign(dataset=dataset, split="validation"))
        ax.set(title=DATASET_TITLES.get(dataset, dataset), xlabel="epoch", yscale="log")
    shared_legend(fig, axes[0], "SSE per image")
    caption = (f"Figure 2c / Appendix E: training (dashed; running mean of the batch loss during each epoch) and "
               f"validation loss of GON and the AE over the Table 1 datasets. Profile `{cfg['profile']}`; "
               f"{describe_runs(logs)}.")
    return save_figure(fig, pd.concat(data) if data else pd.DataFrame(), caption, figures_dir(cfg), "fig2c_generalisation")


def _final_metrics(cfg: dict, experiment: str) -> pd.DataFrame:
    runs = collect_runs(cfg)
    return runs[runs["experiment"] == experiment] if len(runs) else runs


@register_figure("fig3_activation")
def fig3_activation(cfg: dict):
    runs = _final_metrics(cfg, "fig3")
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
               f"z = -grad) its activations contribute no curvature, unlike the smooth activations. Profile `{cfg['profile']}`; {_stand_in(cfg, 'fig3')}; bars ± std over seeds "
               f"({int(data['count'].max()) if len(data) else 0} per point).")
    return save_figure(fig, data, caption, figures_dir(cfg), "fig3_activation")


@register_figure("fig8_wallclock")
def fig8_wallclock(cfg: dict):
    exp = cfg["experiments"]["fig8"]
    dataset = exp["datasets"][0]
    cells = [(m, seed0_run(cfg, "fig8", m, dataset)) for m in exp["methods"]]
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
                         "recon_sse": float(((s["recon"].float() / 255 - x) ** 2).flatten(1).sum(1).mean())})
    caption = (f"Figure 8: convergence in wall-clock time; each row after the first shows reconstructions of the "
               f"same validation images at the given seconds of training (CPU, 1 thread). Profile "
               f"`{cfg['profile']}`, {dataset}, seed 0.")
    return save_figure(fig, pd.DataFrame(rows), caption, figures_dir(cfg), "fig8_wallclock")


def _snapshots(run) -> list[dict]:
    ckpt = torch.load(run.path / "checkpoint.pt", map_location="cpu", weights_only=False)
    return ckpt.get("snapshots", [])


@register_figure("fig10_architecture")
def fig10_architecture(cfg: dict):
    runs = _final_metrics(cfg, "appendix_b")
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
               f"`{cfg['profile']}`; {_stand_in(cfg, 'appendix_b')}; bars ± std over seeds.")
    return save_figure(fig, data, caption, figures_dir(cfg), "fig10_architecture")


@register_figure("fig11_origin")
def fig11_origin(cfg: dict):
    runs = _final_metrics(cfg, "appendix_c")
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
               f"negative gradient as the encoding or one gradient-descent step from z0. Profile `{cfg['profile']}`; "
               f"{_stand_in(cfg, 'appendix_c')}; bars ± std over seeds.")
    return save_figure(fig, data, caption, figures_dir(cfg), "fig11_origin")


@register_figure("fig13_latent_histograms")
def fig13_latent_histograms(cfg: dict):
    exp = cfg["experiments"]["latent_hist"]
    dataset = exp["datasets"][0]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    rows = []
    for ax, method in zip(axes, ("gon", "vae")):
        run = seed0_run(cfg, "latent_hist", method, dataset)
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
               f"origin, and the VAE encoder's posterior means. Profile `{cfg['profile']}`, {dataset}, seed 0.")
    return save_figure(fig, pd.DataFrame(rows), caption, figures_dir(cfg), "fig13_latent_histograms")


def _encode_all(run, x: torch.Tensor) -> torch.Tensor:
    from .generative import _batched

    model = run.model
    if hasattr(model, "fc_mu"):
        fn = lambda m, b: m.fc_mu(m.head_input(b))  # noqa: E731  VAE: posterior mean
    else:
        fn = lambda m, b: m.encode(b, detach=True)  # noqa: E731
    return _batched(model, x, run.spec["batch_size"], run.spec["bn_protocol"], fn)
