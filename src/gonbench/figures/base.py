"""Registry and helpers shared by every figure module.

Each figure is written as PNG + PDF with the data behind it as CSV and its caption (profile, datasets,
seeds, epochs) as <name>.caption.md, under reports/<profile>/figures/. Error bands are ± std over seeds.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ..config import expand_runs  # noqa: E402
from ..io import read_json, read_jsonl, save_with, write_text  # noqa: E402

FigureFn = Callable[[dict, Path], list[Path]]
FIGURES: dict[str, FigureFn] = {}


def register_figure(name: str) -> Callable[[FigureFn], FigureFn]:
    def add(fn: FigureFn) -> FigureFn:
        FIGURES[name] = fn
        return fn

    return add


def figures_dir(cfg: dict) -> Path:
    return Path(cfg.get("reports", "reports")) / cfg["profile"] / "figures"


def save_figure(fig, data: pd.DataFrame, caption: str, out_dir: Path, name: str) -> list[Path]:
    paths = [out_dir / f"{name}.{ext}" for ext in ("png", "pdf", "csv")]
    save_with(paths[0], lambda tmp: fig.savefig(tmp, dpi=150, bbox_inches="tight", format="png"))
    save_with(paths[1], lambda tmp: fig.savefig(tmp, bbox_inches="tight", format="pdf"))
    save_with(paths[2], lambda tmp: data.to_csv(tmp, index=False))
    plt.close(fig)
    write_text(out_dir / f"{name}.caption.md", caption + "\n")
    return paths + [out_dir / f"{name}.caption.md"]


def epoch_logs(cfg: dict, experiment: str, log_file: str = "log.jsonl") -> pd.DataFrame:
    """Every epoch record (or, with log_file="steps.jsonl", every per-step record) of every run of an
    experiment, with the run's identity columns."""
    results = Path(cfg.get("results", "results"))
    frames = []
    for key in expand_runs(cfg, [experiment]):
        run_dir = key.path(results, cfg["profile"])
        log = read_jsonl(run_dir / log_file)
        if not log or not (run_dir / "config.json").exists():
            continue
        spec = read_json(run_dir / "config.json")
        frame = pd.DataFrame(log)
        frame["method_label"], frame["dataset"], frame["seed"] = key.method_label, key.dataset, key.seed
        frame["epochs_planned"] = spec["epochs"]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


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
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter, NullLocator

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


def build_figures(cfg: dict, only: list[str] | None = None) -> list[Path]:
    """Draw every registered figure that an experiment of the profile lists in its ``outputs``."""
    wanted = {n for exp in cfg.get("experiments", {}).values() for n in exp.get("outputs", []) if n in FIGURES}
    written: list[Path] = []
    for name in sorted(wanted):
        if only and name not in only:
            continue
        written += FIGURES[name](cfg)
    return written


def seed0_run(cfg: dict, experiment: str, method_label: str, dataset: str):
    """The first seed's run of a cell, loaded (or None when it has not been trained)."""
    from ..runs import load_run

    keys = [k for k in expand_runs(cfg, [experiment]) if k.method_label == method_label and k.dataset == dataset]
    for key in sorted(keys, key=lambda k: k.seed):
        path = key.path(Path(cfg.get("results", "results")), cfg["profile"])
        if (path / "train.json").exists():
            return load_run(path)
    return None


def show_grid(ax, images, nrow: int, title: str = "") -> None:
    """Draw a [N, C, H, W] batch in [0, 1] as one image grid on ``ax``."""
    from ..images import make_grid

    grid = make_grid(images, nrow)
    ax.imshow(grid.permute(1, 2, 0).numpy(), cmap="gray" if grid.shape[0] == 1 else None, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
