"""Image figures of the GON paper: samples (Fig. 7), implicit-GON super-resolution (Fig. 5/17), spherical
interpolation (Fig. 6), samples from a Gaussian fitted to training latents (Fig. 15), classifier latents (Fig. 12).
Each draws seed 0 of the cell it shows; the CSV beside it lists the runs used and per-image numbers."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import torch

from ..data import dataset_title
from ..outputs import OutputContext, register_figure
from ..seeding import generator, seed_everything
from ..validation import apply_batched, batchnorm_mode
from .base import FigureResult, show_grid


@register_figure("fig7_samples")
def fig7_samples(ctx: OutputContext) -> FigureResult:
    datasets, methods = ctx.datasets, list(ctx.variants())
    fig, axes = plt.subplots(len(methods), len(datasets), figsize=(2.6 * len(datasets), 2.8 * len(methods)), squeeze=False)
    rows = []
    for i, method in enumerate(methods):
        for j, dataset in enumerate(datasets):
            ax = axes[i][j]
            run = ctx.first_seed_run(method, dataset)
            if run is None:
                ax.set_axis_off()
                continue
            seed_everything(run.spec["seed"])
            with torch.no_grad(), batchnorm_mode(run.model, run.spec["bn_protocol"]):
                samples = run.model.sample(64)
            show_grid(ax, samples, 8, f"{method.upper()} - {dataset_title(dataset)}")
            rows.append({"method": method, "dataset": dataset, "run_dir": str(run.path),
                         "mean_pixel": float(samples.mean()), "std_pixel": float(samples.std())})
    caption = (f"Figure 7: 8x8 samples z ~ N(0, I) from VGON and the VAE (seed 0 of each cell), decoded with "
               f"BatchNorm in the runs' evaluation mode. Profile `{ctx.profile}`; datasets {', '.join(datasets)}.")
    return FigureResult(fig, pd.DataFrame(rows), caption)


def _first_seed_runs(ctx: OutputContext):
    for label in ctx.variants():
        for dataset in ctx.datasets:
            run = ctx.first_seed_run(label, dataset)
            if run is not None:
                yield label, dataset, run


def _latents(run, x: torch.Tensor) -> torch.Tensor:
    model = run.model
    return apply_batched(model, x, run.spec["batch_size"], run.spec["bn_protocol"],
                         lambda batch: model.encode(batch["x"], detach=True))


@register_figure("fig5_superres")
def fig5_superres(ctx: OutputContext) -> FigureResult:
    cells = list(_first_seed_runs(ctx))
    fig, axes = plt.subplots(len(cells), 3, figsize=(12, 1.9 * max(len(cells), 1) + 0.6), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1, 1]})
    rows = []
    for i, (label, dataset, run) in enumerate(cells):
        x, _ = run.val_data()
        x = x[:8]
        z = _latents(run, run.val_data()[0][: run.spec["batch_size"]])[:8]
        size = x.shape[-1]
        with torch.no_grad():
            low, high = run.model.render(z, size), run.model.render(z, 256)
        show_grid(axes[i][0], x, 8, f"{label} ({run.spec.get('nz')}-d latent): validation images {size}x{size}")
        show_grid(axes[i][1], low, 8, f"reconstructions at {size}x{size}")
        show_grid(axes[i][2], high, 8, "the same latents decoded at 256x256")
        for k in range(len(x)):
            rows.append({"variant": label, "dataset": dataset, "image": k, "recon_sse": float(((low[k] - x[k]) ** 2).sum()),
                         "run_dir": str(run.path)})
    caption = (f"Figures 5/17: an implicit GON trained at the native resolution reconstructs validation images "
               f"and, being a function of coordinates, decodes the same latents at 256x256. Profile `{ctx.profile}`, "
               f"seed 0.")
    return FigureResult(fig, pd.DataFrame(rows), caption)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between rows of a and b at fractions t ([T] -> [T, nz])."""
    cos = (a / a.norm()) @ (b / b.norm())
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    t = t[:, None]
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


@register_figure("fig6_slerp")
def fig6_slerp(ctx: OutputContext) -> FigureResult:
    cells = list(_first_seed_runs(ctx))
    fig, axes = plt.subplots(len(cells), 1, figsize=(9, 4.2 * max(len(cells), 1)), squeeze=False)
    rows = []
    for i, (label, dataset, run) in enumerate(cells):
        z = _latents(run, run.val_data()[0][: run.spec["batch_size"]])
        t = torch.linspace(0, 1, 10)
        paths = torch.cat([slerp(z[2 * p], z[2 * p + 1], t) for p in range(6)])
        with torch.no_grad():
            images = run.model.render(paths, 64)
        show_grid(axes[i][0], images, 10, f"{label}: slerp between validation latents, decoded at 64x64")
        rows += [{"variant": label, "pair": p, "t": float(tt)} for p in range(6) for tt in t]
    caption = (f"Figure 6: spherical interpolation between the latents of pairs of validation images (one pair "
               f"per row). Profile `{ctx.profile}`, seed 0.")
    return FigureResult(fig, pd.DataFrame(rows), caption)


@register_figure("fig15_samples")
def fig15_samples(ctx: OutputContext) -> FigureResult:
    cells = list(_first_seed_runs(ctx))
    fig, axes = plt.subplots(len(cells), 1, figsize=(5, 5.2 * max(len(cells), 1)), squeeze=False)
    rows = []
    for i, (label, dataset, run) in enumerate(cells):
        train = run.train_data()[0][:1024]
        z = _latents(run, train)
        mean, cov = z.mean(0), torch.cov(z.T) + 1e-6 * torch.eye(z.shape[1])
        normal = torch.randn(64, z.shape[1], generator=generator(run.spec["seed"]))
        samples_z = mean + normal @ torch.linalg.cholesky(cov).T
        with torch.no_grad():
            images = run.model.render(samples_z, run.spec["image_size"])
        show_grid(axes[i][0], images, 8, f"{label}: z ~ N(mean, cov) of {len(train)} training latents")
        rows.append({"variant": label, "dataset": dataset, "latents_fitted": len(train),
                     "latent_norm_mean": float(z.norm(dim=1).mean()), "run_dir": str(run.path)})
    caption = (f"Figure 15: samples from a multivariate Gaussian fitted to the latents of training images "
               f"(the paper's early-stopping sampling). Profile `{ctx.profile}`, seed 0.")
    return FigureResult(fig, pd.DataFrame(rows), caption)


@register_figure("fig12_classifier", needs=("gon_classifier",))
def fig12_classifier(ctx: OutputContext) -> FigureResult:
    dataset = ctx.datasets[0]
    run = next((r for label in ctx.variants() if (r := ctx.first_seed_run(label, dataset)) is not None), None)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    rows = pd.DataFrame()
    if run is not None:
        x, y = run.val_data()
        z = _latents(run, x)
        with torch.no_grad():
            pred = run.model.classifier(z).argmax(1)
        rows = pd.DataFrame({"z1": z[:, 0].numpy(), "z2": z[:, 1].numpy(), "label": y.numpy(), "predicted": pred.numpy()})
        sc = ax.scatter(rows["z1"], rows["z2"], c=rows["label"], cmap="tab10", s=6, alpha=0.8)
        ax.legend(*sc.legend_elements(), title="class", fontsize=7, loc="best", markerscale=0.8)
        accuracy = float((rows["label"] == rows["predicted"]).mean())
        ax.set(xlabel="z1 (= -dL/dz0, first coordinate)", ylabel="z2", title=f"GON classifier latents, accuracy {accuracy:.3f}")
    caption = (f"Figure 12: 2-D gradient-origin latents of validation images coloured by class, with the linear "
               f"softmax classifier's validation accuracy. Profile `{ctx.profile}`, {dataset}, seed 0.")
    return FigureResult(fig, rows, caption)
