"""Runs on disk -> one pandas frame -> the papers' tables (Markdown, LaTeX, CSV) with mean ± std over seeds.

Only runs with a metrics.json contribute; the caption of every table names the profile, epochs, latent
size, BatchNorm protocol, seeds and subset sizes that produced it, read from the runs themselves. Each table
is registered in ``outputs.TABLES`` and reads the experiment that lists it in the profile's ``outputs``.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import pandas as pd
import yaml
from tabulate import tabulate

from .config import expand_runs
from .data import dataset_title
from .io import save_with, write_text
from .outputs import TABLES, OutputContext, collect_runs
from .paths import Layout


@dataclass(frozen=True)
class Unit:
    """The unit a table prints its cells in, when it is not the metric's own (kept raw in the CSV)."""

    note: str  # caption sentence: what the unit is and why
    factor: Callable[[pd.DataFrame], pd.Series]  # runs of a cell -> each run's conversion factor


@dataclass(frozen=True)
class TableSpec:
    name: str
    metric: str
    title: str
    groups: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (group title, ((method, row title), ...))
    reference: str | None = None  # key in reference/gon_paper.yaml
    decimals: int = 2
    # several metrics side by side, (metric, column title, decimals); empty = ``metric`` alone, one column per dataset
    columns: tuple[tuple[str, str, int], ...] = ()
    note: str = ""  # protocol sentence appended to the caption
    batchnorm: bool = True  # the networks have BatchNorm, so the caption names the evaluation protocol
    bn_mode: str | None = None  # the BatchNorm protocol of ``metric`` when it is fixed (else the runs' headline)
    unit: Unit | None = None
    csv_metrics: tuple[str, ...] = ()  # more per-cell means and stds, in the CSV only


# The GON paper's Table 1 numbers fit 100 x the per-pixel loss (see reference/gon_paper.yaml): our per-image
# sum over C x H x W times 100 / (H W), i.e. / 10.24 at 32 x 32.
PAPER_TABLE1_UNIT = Unit(
    note=("Our cells: 100 × the mean per-pixel squared error with channels summed, i.e. the per-image summed squared "
          "error × 100 / (H·W) (÷ 10.24 at 32×32): the unit the paper's numbers appear to use. That normalisation "
          "is inferred (neither the paper nor its code states it); the per-image sums are in the CSV (mean_raw)."),
    factor=lambda cell: 100.0 / cell["image_size"].astype(float) ** 2)
BN_PROTOCOLS_CSV = ("recon_sse_bn_train", "recon_sse_bn_eval", "recon_sse_bn_recal", "eval_seconds")


def metric_columns(spec: TableSpec) -> tuple[tuple[str, str, int], ...]:
    return spec.columns or ((spec.metric, "", spec.decimals),)


def register_table(spec: TableSpec) -> TableSpec:
    return TABLES.register(spec.name)(spec)


TABLE1_ROWS = (
    ("Single step", (("gon", "GON"), ("ae", "AE"), ("tied_ae", "Tied AE"), ("gon_detach_1", "1 Step Detach"))),
    ("Multiple steps", (("gon_detach_10", "10 Step Detach"), ("gon_10", "10 Step"), ("glo", "GLO"))))
BN_NOTE = ("The GON reference code evaluates with BatchNorm in train mode (it never calls eval()), so batch statistics "
           "of each validation batch set the scale; the CSV also has eval mode (running statistics) and `recal` "
           "(running statistics recomputed on the training set after training, separately for each pass through "
           "a network, which makes a cell independent of how the validation set is batched), and eval seconds.")
register_table(TableSpec(
    "table1", "recon_sse",
    "GON paper Table 1: validation reconstruction loss, BatchNorm in train mode as in the reference code",
    TABLE1_ROWS, reference="table1", unit=PAPER_TABLE1_UNIT, csv_metrics=BN_PROTOCOLS_CSV, note=BN_NOTE))
register_table(TableSpec(
    "table1_bn_eval", "recon_sse_bn_eval",
    "GON paper Table 1, companion: validation reconstruction loss with BatchNorm in eval mode (running statistics)",
    TABLE1_ROWS, reference="table1", unit=PAPER_TABLE1_UNIT, csv_metrics=BN_PROTOCOLS_CSV, bn_mode="eval",
    note=("Same runs as Table 1; only the BatchNorm protocol at evaluation differs. A GON decodes twice (at the origin "
          "and at its latent) and its running statistics average both passes; `recal` in the CSV keeps them apart.")))
register_table(TableSpec(
    "claims", "recon_sse_bn_train",
    "GON paper Table 1 orderings at 1,920 steps: validation reconstruction loss in both BatchNorm protocols",
    tuple((f"lr {lr}", tuple((f"{m}-lr{lr}", title) for m, title in (
        ("gon", "GON"), ("ae", "AE"), ("tied_ae", "Tied AE"), ("gon_detach_1", "1 Step Detach"))))
          for lr in ("0.001", "0.0001")),
    columns=(("recon_sse_bn_train", "train BN", 3), ("recon_sse_bn_eval", "eval BN", 3)),
    decimals=3, unit=PAPER_TABLE1_UNIT, csv_metrics=BN_PROTOCOLS_CSV, bn_mode="train and eval",
    note=("The paper's Table 1 claims GON < AE < Tied AE < 1 Step Detach on every dataset. These runs take 16x "
          "the steps of the quick Table 1 on 8x the images, at the quick profile's learning rate and the paper's; "
          "each cell shows its seed spread, and tests/test_claims.py decides each ordering on these runs.")))
register_table(TableSpec(
    "table2", "elbo_bpd",
    "GON paper Table 2: validation negative ELBO in bits/dim, VAE vs variational GON",
    (("Negative ELBO (bits/dim)", (("vgon", "VGON"), ("vae", "VAE"))),),
    reference="table2", decimals=3))
register_table(TableSpec(
    "table2_bernoulli", "elbo_bpd",
    "GON paper Table 2 with the reference code's Bernoulli likelihood (not comparable with the literature)",
    (("Negative ELBO (bits/dim)", (("vgon", "VGON"), ("vae", "VAE"))),),
    decimals=3,
    note=("A check of whether the VGON/VAE ordering depends on the likelihood: the same methods trained and scored "
          "with binary cross-entropy on [0, 1] intensities, as Variational-GON.py does. Its bits/dim are not those "
          "of a distribution over 8-bit images, so they are comparable neither with the paper's Table 2 nor "
          "across likelihoods.")))
register_table(TableSpec(
    "ppgn", "sample_accuracy",
    "PPGN-h with critics on encoder codes (Pakdaman 2018): class-conditional MALA-approx samples and reconstructions",
    (("Image critic", (("ppgn_vanilla", "vanilla (D)"),)),
     ("Code critic", (("ppgn_fc1", "fc1 (D1)"), ("ppgn_fc1_adv_only", "fc1, adversarial term only"),
                      ("ppgn_fc1_no_pixel", "fc1, no pixel term"))),
     ("Both critics", (("ppgn_combined", "combined (D + D1)"), ("ppgn_random", "random (D or D1)")))),
    columns=(("sample_accuracy", "accuracy", 3), ("sample_confidence", "confidence", 3), ("kid", "KID", 1),
             ("recon_mse", "recon MSE", 4), ("train_seconds", "train s", 0),
             ("critic_iter_seconds", "s / critic iter", 3), ("gen_update_seconds", "s / G update", 3)),
    note=("Samples: MALA-approx chains conditioned through E's softmax, scored by an independently trained "
          "classifier (another architecture): its top-1 agreement with the requested class, its mean top-1 "
          "probability, and KID (unbiased MMD^2, cubic polynomial kernel) between its penultimate features of "
          "the samples and of the validation digits. recon MSE: per-pixel squared error of G(E_fc1(x)) in [0, 1] "
          "on the validation split. Times: wall seconds of training, per critic iteration, per generator update. "
          "Sampler steps, chains and widths are in each run's config.json."),
    batchnorm=False))
register_table(TableSpec(
    "piecewise_datafree_table", "relative_residual",
    "Piecewise layers (Cho et al.), data-free generators: distance of G(z) to its best k-piece fit",
    (("Piecewise constant", (("datafree_constant_weak", "weak Jacobian"), ("datafree_constant_ste", "STE"))),
     ("Piecewise linear", (("datafree_linear_weak", "weak Jacobian"), ("datafree_linear_ste", "STE")))),
    columns=(("relative_residual", "relative residual", 4), ("pieces_used", "pieces used", 2),
             ("tv", "TV", 1), ("similarity", "similarity across codes", 3), ("signal_std", "raw std", 3)),
    note=("On fixed validation codes, s = G(z) standardised per signal (zero mean, unit variance). Relative "
          "residual: ||s - h(s)||² / ||s - mean(s)||² (scale-free); pieces used: the fewest j <= k whose best "
          "j-piece fit is within 1% of the signal's variance of the k-piece fit's residual; TV: total variation "
          "of s; similarity across codes: mean correlation of a signal with the other codes' signals in its "
          "validation batch (1 = the same signal for every code: neither loss rewards variety across codes); "
          "raw std: spread of the raw G(z) (a collapse towards a constant shows here). Training loss: "
          "||s - h(s)||² on the standardised s by default (normalise=standardise, our choice: the paper's loss on "
          "the raw G(z), normalise=none, has the constant signal as a global optimum); the value is in each "
          "run's config.json. With the STE the gradient of the loss is 2(s - h(s)) - 2(s - h(s)) = 0 by "
          "construction: its generator stays at its initialisation."),
    batchnorm=False))
register_table(TableSpec(
    "piecewise_dae_table", "mse",
    "Piecewise layers (Cho et al.), DAE vs DAEreg on noisy piecewise signals (validation)",
    (("", (("dae", "DAE"), ("dae_reg", "DAEreg"), ("dae_reg_l0p1", "DAEreg (λ = 0.1)"),
           ("dae_reg_l10", "DAEreg (λ = 10)"))),),
    columns=(("mse", "MSE", 5), ("piecewise_distance", "dist. to k-piece", 5), ("tv", "TV", 2)),
    note=("MSE: mean squared error of the output to the clean signal (the noisy input's is mse_noisy in each "
          "run's metrics.json); dist. to k-piece: mean squared distance of the output to its best k-piece fit; "
          "TV: total variation of the output (the clean signals': tv_clean). Noise fixed per validation signal. "
          "DAEreg without λ uses reg_weight from the run's config.json."),
    batchnorm=False))
register_table(TableSpec(
    "piecewise_seg_table", "iou",
    "Piecewise layers (Cho et al.), foreground segmentation of noisy digits with the connected-component layer",
    (("", (("seg_baseline", "Mbaseline"), ("seg_conn", "Mconn"), ("seg_reg", "Mreg"))),),
    columns=(("iou", "IoU", 4), ("boundary_f", "boundary F", 4), ("pixel_error", "pixel error", 4)),
    note=("Stand-in for the paper's segmentation data (not available offline): the target is the clean digit's "
          "foreground (intensity > mask_threshold), the input the digit plus Gaussian noise (noise_std, fixed per "
          "validation image), the prediction output > threshold. Boundary F: F-score of boundary pixels "
          "(foreground with a background 4-neighbour) matched within boundary_tolerance pixels; settings in each "
          "run's config.json."),
    batchnorm=False))


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
    records = []
    for group, members in spec.groups:
        for method, title in members:
            if method not in ctx.variants():  # method names and variant labels
                continue
            for dataset in datasets:
                cell = runs[(runs["method_label"] == method) & (runs["dataset"] == dataset)] if len(runs) else runs
                for metric, column, _ in metric_columns(spec):
                    raw = _metric_values(cell, metric)
                    shown = (raw * spec.unit.factor(cell)) if spec.unit is not None and len(raw) else raw
                    paper = ref.get("values", {}).get(method, {}).get(dataset)
                    record = {"group": group, "method": method, "row": title, "dataset": dataset,
                              "metric": metric, "column": column}
                    record["mean"], record["std"] = _stats(shown.dropna())
                    record.update(n_seeds=len(raw.dropna()),
                                  seeds=" ".join(str(s) for s in sorted(cell["seed"])) if len(cell) else "",
                                  paper_mean=paper[0] if paper else float("nan"),
                                  paper_std=paper[1] if paper and len(paper) > 1 else float("nan"))
                    if spec.unit is not None:
                        record["mean_raw"], record["std_raw"] = _stats(raw.dropna())
                    for extra in spec.csv_metrics:
                        record[f"{extra}_mean"], record[f"{extra}_std"] = _stats(_metric_values(cell, extra).dropna())
                    records.append(record)
    frame = pd.DataFrame(records)
    if "eval_seconds_mean" in frame and len(frame):  # cost of validation relative to the one-step GON
        gon = frame[frame["method"] == "gon"].set_index("dataset")["eval_seconds_mean"]
        frame["eval_seconds_vs_gon"] = frame["eval_seconds_mean"] / frame["dataset"].map(gon)
    caption = _caption(spec, runs, cfg, ref)
    return frame, caption


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
    for (group, row), sub in frame.groupby(["group", "row"], sort=False):
        cells = [group, row]
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
