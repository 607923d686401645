"""What a figure returns, the one helper that writes it, and drawing helpers shared by the figure modules.

A figure function takes an ``OutputContext`` (its experiment's runs) and returns a ``FigureResult``: the
matplotlib figure, the data behind it and its caption (profile, datasets, seeds, epochs). ``save_figure``
writes PNG + PDF, the data as CSV and the caption as <name>.caption.md under reports/<profile>/figures/.
Error bands are ± std over seeds.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: figures are written to files, never shown
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter, NullLocator  # noqa: E402

from ..images import make_grid  # noqa: E402
from ..io import save_with, write_text  # noqa: E402
from ..methods import METHODS  # noqa: E402
from ..paths import Layout  # noqa: E402


@dataclass
class FigureResult:
    figure: plt.Figure
    data: pd.DataFrame
    caption: str


def family_cells(ctx, family: type):
    """(label, dataset, run) of the first trained seed of every label of ``ctx``'s experiment whose method is a
    ``family`` (a Method subclass), on every dataset: what a figure of one model family draws."""
    for label, (method, _) in ctx.variants().items():
        if not issubclass(METHODS.get(method), family):
            continue
        for dataset in ctx.datasets:
            run = ctx.first_seed_run(label, dataset)
            if run is not None:
                yield label, dataset, run


def save_figure(result: FigureResult, layout: Layout, name: str) -> list[Path]:
    png, pdf, csv = layout.figure_files(name)
    save_with(png, lambda tmp: result.figure.savefig(tmp, dpi=150, bbox_inches="tight", format="png"))
    save_with(pdf, lambda tmp: result.figure.savefig(tmp, bbox_inches="tight", format="pdf"))
    save_with(csv, lambda tmp: result.data.to_csv(tmp, index=False))
    plt.close(result.figure)
    write_text(layout.caption(name), result.caption + "\n")
    return [png, pdf, csv, layout.caption(name)]


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames) if frames else pd.DataFrame()


def band(ax, frame: pd.DataFrame, x: str, y: str, label: str, **style) -> pd.DataFrame:
    """Plot mean ± std over seeds of ``y`` against ``x``; returns the aggregated data."""
    stats = frame.dropna(subset=[y]).groupby(x)[y].agg(["mean", "std", "count"]).reset_index()
    if len(stats) <= 3:  # a series validated only once or twice (GLO) must still be visible
        style.setdefault("marker", "o")
    line = ax.plot(stats[x], stats["mean"], label=label, **style)[0]
    ax.fill_between(stats[x], stats["mean"] - stats["std"].fillna(0), stats["mean"] + stats["std"].fillna(0),
                    color=line.get_color(), alpha=0.2, linewidth=0)
    return stats.assign(series=label)


def plain_log_ticks(ax, x_values=None) -> None:
    """Log axes labelled with plain numbers: the x ticks at the grid's own values (no 3x10^1 clutter)."""
    if x_values is not None:
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(sorted(x_values), labels=[f"{v:g}" for v in sorted(x_values)])
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def shared_legend(fig, axes, ylabel: str) -> None:
    """One legend below a row of panels (not repeated inside each) and the y label on the first panel only."""
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].set_ylabel(ylabel)
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 8), fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.08, 1, 1))


def describe_runs(frame: pd.DataFrame) -> str:
    seeds = sorted(frame["seed"].unique()) if len(frame) else []
    epochs = sorted(frame["epochs_planned"].unique()) if len(frame) else []
    return f"seeds {', '.join(map(str, seeds))}; epochs {', '.join(map(str, epochs))}; bands are ± std over seeds"


def show_grid(ax, images, nrow: int, title: str = "") -> None:
    """Draw a [N, C, H, W] batch in [0, 1] as one image grid on ``ax``."""
    grid = make_grid(images, nrow)
    ax.imshow(grid.permute(1, 2, 0).numpy(), cmap="gray" if grid.shape[0] == 1 else None, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)


def stand_in(datasets: list[str], paper_dataset: str = "cifar10") -> str:
    """Names the datasets, and says when they stand in for the paper's (not available offline)."""
    if paper_dataset in datasets:
        return f"datasets {', '.join(datasets)}"
    return f"datasets {', '.join(datasets)} (standing in for the paper's {paper_dataset}, not available offline)"
