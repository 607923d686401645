"""Runs on disk -> one pandas frame -> the papers' tables (Markdown, LaTeX, CSV) with mean ± std over seeds.

Only runs with a metrics.json contribute; the caption of every table names the profile, epochs, latent
size, BatchNorm protocol, seeds and subset sizes that produced it, read from the runs themselves. Each table
(a ``tables.TableSpec``, registered in ``outputs.TABLES``) reads the experiment that lists it in the profile's
``outputs``; its rows are that experiment's labels (``tables.table_rows``).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd
import yaml
from tabulate import tabulate

from .config import expand_runs
from .data import dataset_title
from .io import save_with, write_text
from .outputs import TABLES, OutputContext, collect_runs
from .paths import Layout
from .tables import TableSpec, metric_columns, table_rows


def reference_values(name: str) -> dict:
    text = resources.files("gonbench.reference").joinpath("gon_paper.yaml").read_text()
    return yaml.safe_load(text).get(name, {})


def fmt(mean: float, std: float, decimals: int) -> str:
    """mean ± std; a value without a std (a single seed, or a paper that gives none) alone."""
    return f"{mean:.{decimals}f}" if pd.isna(std) else f"{mean:.{decimals}f} ± {std:.{decimals}f}"


def _stats(values: pd.Series) -> tuple[float, float]:
    return (values.mean() if len(values) else float("nan"), values.std(ddof=1) if len(values) > 1 else float("nan"))


def _metric_values(cell: pd.DataFrame, metric: str) -> pd.Series:
    return cell[f"m.{metric}"].astype(float) if f"m.{metric}" in cell else pd.Series(dtype=float)


def build_table(spec: TableSpec, runs: pd.DataFrame, cfg: dict, experiment: str) -> tuple[pd.DataFrame, str]:
    """Return (long-form CSV frame, caption) for one table from the runs of ``experiment`` (a frame as
    ``outputs.collect_runs`` makes it); cells are mean ± std over seeds."""
    ctx = OutputContext(cfg, experiment)
    datasets = ctx.datasets
    runs = runs[runs["experiment"] == experiment] if len(runs) else runs
    ref = reference_values(spec.reference) if spec.reference else {}
    records, rows = [], table_rows(spec, ctx.settings)
    for row in rows:
        for dataset in datasets:
            cell = runs[(runs["method_label"] == row.label) & (runs["dataset"] == dataset)] if len(runs) else runs
            for metric, column, _ in metric_columns(spec):
                raw = _metric_values(cell, metric)
                shown = (raw * spec.unit.factor(cell)) if spec.unit is not None and len(raw) else raw
                paper = ref.get("values", {}).get(row.label, {}).get(dataset)
                record = {"group": row.group, "method": row.label, "row": row.title, "dataset": dataset,
                          "metric": metric, "column": column}
                record["mean"], record["std"] = _stats(shown.dropna())
                record.update(n_seeds=len(raw.dropna()),
                              seeds=" ".join(str(s) for s in sorted(cell["seed"])) if len(cell) else "",
                              **_sources(cell),
                              paper_mean=paper[0] if paper else float("nan"),
                              paper_std=paper[1] if paper and len(paper) > 1 else float("nan"))
                if spec.unit is not None:
                    record["mean_raw"], record["std_raw"] = _stats(raw.dropna())
                for extra in spec.csv_metrics:
                    record[f"{extra}_mean"], record[f"{extra}_std"] = _stats(_metric_values(cell, extra).dropna())
                records.append(record)
    frame = pd.DataFrame(records)
    if "eval_seconds_mean" in frame and len(frame):  # cost of validation relative to the table's first row
        first, metric = frame["method"].iloc[0], frame["metric"].iloc[0]
        reference = frame[(frame["method"] == first) & (frame["metric"] == metric)].set_index("dataset")["eval_seconds_mean"]
        frame[f"eval_seconds_vs_{first}"] = frame["eval_seconds_mean"] / frame["dataset"].map(reference)
    shown = runs[runs["method_label"].isin([row.label for row in rows])] if len(runs) else runs
    caption = _caption(spec, shown, cfg, ref)  # the settings of the runs the table shows, not the experiment's
    return frame, caption


def _sources(cell: pd.DataFrame) -> dict:
    """Where a cell's runs came from (each value once, space-separated): local or bundle ids, the commits
    and devices that produced them."""
    def joined(col: str) -> str:
        return " ".join(sorted({str(v) for v in cell[col].dropna()})) if len(cell) and col in cell else ""

    return {"source": joined("source"), "source_commit": joined("source_commit"),
            "source_device": joined("source_device")}


def sources_note(runs: pd.DataFrame) -> str:
    """A caption sentence when a table's runs come from more than one place (local and bundles)."""
    if not len(runs) or "source" not in runs or runs["source"].nunique() < 2:
        return ""
    parts = []
    for source, group in runs.groupby("source"):
        where = ", ".join(sorted({f"commit {str(c)[:10]} on {d}" for c, d in
                                  zip(group["source_commit"], group["source_device"])}))
        parts.append(f"{'trained here' if source == 'local' else f'bundle {source}'} ({len(group)} runs; {where})")
    foreign = int(runs["source_foreign"].sum()) if "source_foreign" in runs else 0
    tail = f"; {foreign} imported with --force under another spec" if foreign else ""
    return f"Runs from several sources: {'; '.join(parts)}{tail} (the CSV's source columns give each cell's)."


def _caption(spec: TableSpec, runs: pd.DataFrame, cfg: dict, ref: dict) -> str:
    def values(col: str) -> str:
        """The runs' values of a spec field, or "" when some runs do not have that field."""
        if not len(runs) or col not in runs or runs[col].isna().any():
            return ""
        shown = {f"{v:g}" if isinstance(v, float) else str(v) for v in runs[col]}  # pandas turns ints into floats
        return "/".join(sorted(shown))

    sizes = "n/a"
    if len(runs):
        sizes = "; ".join(f"{d}: train {_size(g['train_size'].iloc[0])}, val {_size(g['val_size'].iloc[0])}"
                          for d, g in runs.groupby("dataset"))
    likelihood = ""
    if values("likelihood"):
        why = {"discretized_logistic": "a discrete likelihood of the 8-bit pixels, so bits/dim is comparable across "
                                       "datasets and with the literature",
               "bernoulli": "the reference code's cross-entropy on [0, 1] intensities, not a normalised likelihood "
                            "of 8-bit images: bits/dim is not comparable with the literature"}
        used = values("likelihood")
        likelihood = f" Likelihood: {used} ({why.get(used, 'mixed likelihoods')})."
    settings = [f"epochs {values('epochs')}"]
    settings += [f"latent size {values('nz')}"] if values("nz") else []
    settings += [f"batch {values('batch_size')}"]
    if spec.batchnorm:
        settings += [f"BatchNorm in {spec.bn_mode or values('bn_protocol')} mode at evaluation (every protocol is "
                     f"in each run's metrics.json)"]
    parts = [f"{spec.title}. Profile `{cfg['profile']}`: {', '.join(settings)}, seeds {values('seed')}; "
             f"mean ± std over seeds.", f"Subsets: {sizes}.{likelihood}"]
    if spec.unit is not None:
        parts.append(spec.unit.note)
    if spec.note:
        parts.append(spec.note)
    if ref:
        parts.append(f"Paper column: {ref.get('source', '')}, {ref.get('metric', '')}. {_dataset_note(cfg, runs, ref)}")
    if sources_note(runs):
        parts.append(sources_note(runs))
    return " ".join(parts)


def _dataset_note(cfg: dict, runs: pd.DataFrame, ref: dict) -> str:
    """Which of the paper's datasets this profile has, and which of ours the paper does not."""
    ours = list(dict.fromkeys(runs["dataset"])) if len(runs) else []
    paper = ref.get("datasets", [])
    missing = [dataset_title(d) for d in paper if d not in ours]
    extra = [dataset_title(d) for d in ours if d not in paper]
    parts = []
    if missing:
        parts.append(f"The paper also reports {', '.join(missing)}, not in profile `{cfg['profile']}` "
                     f"(not available offline here, or left out of this profile).")
    if extra:
        parts.append(f"{', '.join(extra)}: not in the paper (no paper value).")
    return " ".join(parts)


def _size(v) -> str:
    return "all" if v is None or (isinstance(v, float) and pd.isna(v)) else str(int(v))


def render(frame: pd.DataFrame, spec: TableSpec, caption: str, cfg: dict) -> tuple[str, str]:
    datasets = list(dict.fromkeys(frame["dataset"])) if len(frame) else []
    columns = metric_columns(spec)
    headers = ["", "Method"]
    for d in datasets:
        for _, column, _ in columns:
            title = dataset_title(d)
            headers += [column if column and len(datasets) == 1 else " ".join(filter(None, (column, title)))]
            headers += ["paper"] if spec.reference else []
    rows = []
    for _, sub in (frame.groupby("method", sort=False) if len(frame) else ()):  # one row per label, in order
        cells = [sub["group"].iloc[0], sub["row"].iloc[0]]
        for d in datasets:
            for metric, _, decimals in columns:
                r = sub[(sub["dataset"] == d) & (sub["metric"] == metric)].iloc[0]
                ours = "—" if r["n_seeds"] == 0 else (fmt(r["mean"], r["std"], decimals) if r["n_seeds"] > 1
                                                      else f"{r['mean']:.{decimals}f} (1 seed)")
                paper = "—" if pd.isna(r["paper_mean"]) else fmt(r["paper_mean"], r["paper_std"], decimals)
                cells += [ours, paper] if spec.reference else [ours]
        rows.append(cells)
    md = f"{tabulate(rows, headers=headers, tablefmt='github', disable_numparse=True)}\n\n{caption}\n"
    latex = tabulate(rows, headers=headers, tablefmt="latex_booktabs", disable_numparse=True)
    latex = ("\\begin{table}[t]\n\\centering\n\\small\n" + latex +
             f"\n\\caption{{{_latex_escape(caption)}}}\n\\label{{tab:{spec.name}-{cfg['profile']}}}\n\\end{{table}}\n")
    return md, latex


def _latex_escape(text: str) -> str:
    for a, b in (("\\", "\\textbackslash{}"), ("_", "\\_"), ("%", "\\%"), ("&", "\\&"), ("#", "\\#"),
                 ("±", "$\\pm$"), ("`", "")):
        text = text.replace(a, b)
    return text


def update_catalogue(path: Path, runs: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """runs.csv lists every run of the profile's grid with its latest metrics: rows of runs on disk now are
    refreshed, rows of grid runs that are not on disk (another experiment built elsewhere, or earlier) are
    kept, and rows of runs the grid no longer has are dropped. Aggregating one table never erases the rest."""
    layout = Layout.of(cfg)
    grid = {str(layout.run(k)): i for i, k in enumerate(expand_runs(cfg))}
    if Path(path).exists() and Path(path).stat().st_size:
        on_disk = set(runs["run_dir"]) if len(runs) else set()
        previous = pd.read_csv(path)
        previous = previous[previous["run_dir"].isin(grid) & ~previous["run_dir"].isin(on_disk)]
        runs = pd.concat([previous, runs], ignore_index=True) if len(runs) else previous
    if len(runs):  # in grid order, as collect_runs lists them
        runs = runs.sort_values("run_dir", key=lambda dirs: dirs.map(grid), ignore_index=True)
    save_with(path, lambda tmp: runs.to_csv(tmp, index=False))
    return runs


def write_table(cfg: dict, name: str) -> list[Path]:
    """Write reports/<profile>/<table>.{md,tex,csv} from the runs of the experiment that lists the table, and
    update runs.csv; returns the written paths."""
    spec = TABLES.get(name)
    ctx = OutputContext.for_output(cfg, name)
    layout = ctx.layout
    update_catalogue(layout.catalogue(), collect_runs(cfg), cfg)
    frame, caption = build_table(spec, ctx.runs(), cfg, ctx.experiment)
    md, latex = render(frame, spec, caption, cfg)
    md_path, tex_path, csv_path = layout.table_files(name)
    write_text(md_path, f"# {spec.title}\n\n{md}")
    write_text(tex_path, latex)
    save_with(csv_path, lambda tmp: frame.to_csv(tmp, index=False))
    write_text(layout.table_caption(name), caption + "\n")
    return [layout.catalogue(), md_path, tex_path, csv_path, layout.table_caption(name)]
