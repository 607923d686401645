"""Figures of the piecewise-layer paper (Cho et al., "Differentiable Programming for Piecewise Polynomial
Functions"): data-free generators (loss curves, generated signals; paper Figures 1-3, 7, 8), denoising
autoencoders with and without the piecewise regulariser (curves and example signals; Figures 4, 6, 9) and
segmentation with the connected-component layer (example masks; Figure 5). Curves are mean ± std over seeds;
example figures draw seed 0 of every cell, on validation inputs (the same fixed noise as evaluation).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import torch

from ..data import dataset_title
from ..data.signals import PIECES
from ..methods.datafree import standardise
from ..outputs import OutputContext, register_figure
from .base import FigureResult, band, concat, describe_runs, show_grid

SAMPLES = 6  # example signals / images per row


def _settings(ctx: OutputContext, keys: tuple[str, ...]) -> str:
    """The values of ``keys`` over the experiment's runs (our choices where the paper is silent)."""
    specs = [ctx.spec(label) for label in ctx.variants()]
    return ", ".join(f"{k} {'/'.join(sorted({str(s[k]) for s in specs if k in s}))}" for k in keys)


DATAFREE_QUANTITIES = (("val_relative_residual", "relative residual", "log"),  # (log key, axis title, y scale)
                       ("val_pieces_used", "pieces used", "linear"), ("val_tv", "total variation of s", "linear"),
                       ("val_signal_std", "std of raw G(z)", "log"))


def _datafree_setup(ctx: OutputContext) -> str:
    """The caption sentence on the normalisation and the STE, the two facts the data-free numbers rest on."""
    return (f"s is G(z) standardised per signal (zero mean, unit variance); training minimises ||s - h(s)||² "
            f"with normalise=standardise (our choice: the paper's loss ||G(z) - h(G(z))||², normalise=none, has "
            f"the constant signal as a global optimum) - these runs: {_settings(ctx, ('normalise',))}. The STE "
            f"gradient of the loss is 2(s - h(s)) - 2(s - h(s)) = 0 by construction, so its generator stays at "
            f"its initialisation.")


@register_figure("piecewise_datafree_curves")
def datafree_curves(ctx: OutputContext) -> FigureResult:
    logs = ctx.logs()
    labels = {label: ctx.spec(label) for label in ctx.variants()}
    pieces = list(dict.fromkeys(s["piece"] for s in labels.values()))
    rows = len(DATAFREE_QUANTITIES)
    fig, axes = plt.subplots(rows, len(pieces), figsize=(4.4 * len(pieces), 2.6 * rows), squeeze=False)
    data = []
    for col, piece in enumerate(pieces):
        for label, spec in labels.items():
            sub = logs[logs["method_label"] == label] if len(logs) else logs
            if spec["piece"] != piece or not len(sub):
                continue
            style = {"linestyle": "-" if spec["backward"] == "weak" else "--"}
            for row, (key, _, _) in enumerate(DATAFREE_QUANTITIES):
                data.append(band(axes[row][col], sub, "epoch", key, spec["backward"], **style).assign(
                    method_label=label, quantity=key))
        for row, (_, title, scale) in enumerate(DATAFREE_QUANTITIES):
            axes[row][col].set(yscale=scale, ylabel=title if col == 0 else None)
            axes[row][col].legend(fontsize=8, title="backward")
        axes[0][col].set_title(f"piecewise {piece}")
        axes[-1][col].set_xlabel("epoch")
    caption = (f"Data-free generators (cf. paper Figures 1-3, 7, 8), per epoch on fixed validation codes, with the "
               f"weak Jacobian (solid) or the straight-through estimator (dashed): relative residual "
               f"||s - h(s)||² / ||s - mean(s)||² (scale-free), pieces used (the fewest j <= k whose best j-piece "
               f"fit is within 1% of the variance of the k-piece fit's residual), total variation of s and the std "
               f"of the raw G(z) (a collapse towards a constant shows there). {_datafree_setup(ctx)} Profile "
               f"`{ctx.profile}`; {describe_runs(logs)}. Our choices (not stated in the paper): "
               f"{_settings(ctx, ('length', 'pieces', 'hidden', 'image_size', 'lr', 'batch_size'))} "
               f"(image_size = latent size, codes z ~ N(0, I)).")
    return FigureResult(fig, concat(data), caption)


@register_figure("piecewise_datafree_samples")
def datafree_samples(ctx: OutputContext) -> FigureResult:
    labels = list(ctx.variants())
    fig, axes = plt.subplots(len(labels), SAMPLES, figsize=(2.0 * SAMPLES, 1.6 * len(labels)), squeeze=False)
    rows = []
    for i, label in enumerate(labels):
        run = ctx.first_seed_run(label, ctx.datasets[0])
        if run is None:
            continue
        codes = run.val_data()[0][:SAMPLES]
        with torch.no_grad():
            signals = standardise(run.model.generate(codes))
            fits = run.model.h(signals)
            scores = run.model.validation_losses({"x": codes})
        for j, (s, f) in enumerate(zip(signals, fits)):
            ax = axes[i][j]
            ax.plot(s.numpy(), color="tab:blue", linewidth=1.0)
            ax.plot(f.numpy(), color="tab:red", linewidth=0.8, linestyle="--")
            row = {"method_label": label, "sample": j,
                   **{k: float(scores[k][j]) for k in ("relative_residual", "pieces_used", "tv", "signal_std")}}
            ax.set_title(f"rel {row['relative_residual']:.2g}, {row['pieces_used']:.0f} pc, "
                         f"std {row['signal_std']:.2g}", fontsize=6)
            ax.set_xticks([])
            ax.tick_params(labelsize=6)
            rows.append(row)
        axes[i][0].set_ylabel(label, fontsize=7)
    caption = (f"Data-free generators (cf. paper Figures 1-3, 7, 8): the standardised signal s (blue) for the first "
               f"{SAMPLES} validation codes and its best k-piece fit h(s) (red, dashed), one variant per row, seed 0; "
               f"panel titles: relative residual, pieces used, std of the raw G(z). {_datafree_setup(ctx)} Profile "
               f"`{ctx.profile}`; {_settings(ctx, ('epochs', 'length', 'pieces'))}.")
    return FigureResult(fig, pd.DataFrame(rows), caption)


@register_figure("piecewise_dae_curves")
def dae_curves(ctx: OutputContext) -> FigureResult:
    logs = ctx.logs()
    datasets = ctx.datasets
    quantities = (("val_mse", "MSE to the clean signal"), ("val_piecewise_distance", "distance to nearest k-piece"),
                  ("val_tv", "total variation"))
    fig, axes = plt.subplots(len(quantities), len(datasets), figsize=(4.4 * len(datasets), 3.0 * len(quantities)),
                             squeeze=False)
    data = []
    for col, dataset in enumerate(datasets):
        sub = logs[logs["dataset"] == dataset] if len(logs) else logs
        for row, (key, title) in enumerate(quantities):
            ax = axes[row][col]
            for label in dict.fromkeys(sub["method_label"]) if len(sub) else []:
                data.append(band(ax, sub[sub["method_label"] == label], "epoch", key, label).assign(
                    dataset=dataset, quantity=key))
            if key == "val_tv" and len(sub) and "val_tv_clean" in sub:
                ax.axhline(float(sub["val_tv_clean"].mean()), color="black", linewidth=0.8, linestyle=":",
                           label="clean signals")
            ax.set(ylabel=title, yscale="linear" if key == "val_tv" else "log")
            ax.legend(fontsize=7)
        axes[0][col].set_title(dataset_title(dataset))
        axes[-1][col].set_xlabel("epoch")
    caption = (f"DAE vs DAEreg (cf. paper Figures 4, 6, 9): validation metrics per epoch on noisy piecewise signals "
               f"(noise fixed per validation signal). Profile `{ctx.profile}`; datasets {', '.join(datasets)}; "
               f"{describe_runs(logs)}. Our choices (not stated in the paper): "
               f"{_settings(ctx, ('image_size', 'pieces', 'noise_std', 'hidden', 'reg_weight', 'lr'))} "
               f"(image_size = signal length n; {PIECES}-piece signals, see gonbench.data.signals).")
    return FigureResult(fig, concat(data), caption)


@register_figure("piecewise_dae_examples")
def dae_examples(ctx: OutputContext) -> FigureResult:
    labels, datasets = list(ctx.variants()), ctx.datasets
    fig, axes = plt.subplots(len(datasets), 4, figsize=(14, 2.6 * len(datasets)), squeeze=False)
    rows = []
    for i, dataset in enumerate(datasets):
        for label in labels:
            run = ctx.first_seed_run(label, dataset)
            if run is None:
                continue
            x = run.val_data()[0][:4]
            with torch.no_grad():
                clean, noisy = run.model.corrupt({"x": x, "index": torch.arange(len(x))})
                out = run.model.denoise(noisy)
            for j, ax in enumerate(axes[i]):
                if label == labels[0]:
                    ax.plot(noisy[j].numpy(), color="0.7", linewidth=0.8, label="noisy input")
                    ax.plot(clean[j].numpy(), color="black", linewidth=1.2, label="clean")
                ax.plot(out[j].numpy(), linewidth=1.0, label=label)
                rows.append({"dataset": dataset, "method_label": label, "signal": j,
                             "mse": float(((out[j] - clean[j]) ** 2).mean())})
        axes[i][0].set_ylabel(dataset_title(dataset))
        axes[i][0].legend(fontsize=7)
    caption = (f"DAE vs DAEreg (cf. paper Figures 4, 6, 9): the first four validation signals of each dataset, their fixed "
               f"noisy versions and the seed-0 denoisers' outputs. Profile `{ctx.profile}`; "
               f"{_settings(ctx, ('epochs', 'noise_std', 'reg_weight'))}.")
    return FigureResult(fig, pd.DataFrame(rows), caption)


@register_figure("piecewise_seg_examples")
def seg_examples(ctx: OutputContext) -> FigureResult:
    labels, dataset = list(ctx.variants()), ctx.datasets[0]
    runs = {label: ctx.first_seed_run(label, dataset) for label in labels}
    runs = {k: r for k, r in runs.items() if r is not None}
    fig, axes = plt.subplots(1, 2 + len(runs), figsize=(2.2 * (2 + len(runs)), 2.6 * SAMPLES / 2), squeeze=False)
    rows = []
    for i, (label, run) in enumerate(runs.items()):
        x = run.val_data()[0][:SAMPLES]
        batch = {"x": x, "index": torch.arange(len(x))}
        with torch.no_grad():
            noisy, mask = run.model.corrupt(batch)
            pred = (run.model.output(noisy) > run.spec["threshold"]).float()
            scores = run.model.validation_losses(batch)
        if i == 0:
            show_grid(axes[0][0], noisy.clamp(0, 1), 2, "noisy input")
            show_grid(axes[0][1], mask, 2, "target mask")
        show_grid(axes[0][2 + i], pred, 2, label)
        rows += [{"method_label": label, "image": j, "iou": float(scores["iou"][j]),
                  "boundary_f": float(scores["boundary_f"][j])} for j in range(len(x))]
    spec = next(iter(runs.values())).spec if runs else {}
    caption = (f"Segmentation (cf. paper Figure 5): the first {SAMPLES} validation digits with their fixed noise, "
               f"the target mask (clean intensity > {spec.get('mask_threshold')}) and each model's predicted mask "
               f"(output > {spec.get('threshold')}), seed 0. Profile `{ctx.profile}`, "
               f"{dataset_title(dataset)} at {spec.get('image_size')}px. Our choices (the paper's data "
               f"and settings are not available): "
               f"{_settings(ctx, ('epochs', 'noise_std', 'width', 'dilations', 'reg_weight', 'pixel_weight', 'lr'))}"
               f"; Mconn keeps pixel_weight x Mbaseline's loss beside the loss of its component-averaged output.")
    return FigureResult(fig, pd.DataFrame(rows), caption)
