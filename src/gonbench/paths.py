"""Where every file of a profile lives: run directories, data caches, pretrained networks, reports.

The CLI and the Snakefile both name files through this module, so the layout is written down once:

    <results>/<profile>/<experiment>/<method label>/<dataset>/cell.json  a cell's seeds, finished together
    <results>/<profile>/<experiment>/<method label>/<dataset>/seed<k>/   one run (the files named below)
    <results>/<profile>/data/<dataset>-<size>px.pt                      a prepared dataset (+ .sha256)
    <results>/<profile>/pretrained/<network>.pt, .json                  networks runs reuse frozen
    <results>/<profile>/superseded/<config hash>/...                    runs moved aside by a changed spec
    <results>/bundles/<profile>.bundle.tar.gz                           ``gonbench export``'s default archive
    <reports>/<profile>/<table>.{md,tex,csv,caption.md}, figures/<figure>.{png,pdf,csv,caption.md}
    published/<profile>/...                                             tracked copies the README shows
    published/<profile>/bundle.tar.gz                                   the profile's runs, without checkpoints
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_PROFILE = "paper"  # the Snakefile's default configfile is config/<DEFAULT_PROFILE>.yaml
DEFAULT_RESULTS = "results"
DEFAULT_REPORTS = "reports"
DEFAULT_DATA_ROOT = "data"
PROFILES_DIR = "config"
PUBLISHED = "published"  # tracked: the reports the README shows (the DAG's own reports/ are not tracked)
README = "README.md"

CELL = "cell.json"  # one per (experiment, method label, dataset): the seeds trained and evaluated by one job

# the files of one run directory
CONFIG = "config.json"  # resolved spec and its hash
LOG = "log.jsonl"  # one record per epoch
STEPS = "steps.jsonl"  # finer records (PPGN generator steps)
CHECKPOINT = "checkpoint.pt"  # the last completed epoch
PREVIOUS_CHECKPOINT = "checkpoint.prev.pt"  # the one before it, kept in case the last is unreadable
TRAIN_SUMMARY = "train.json"  # marks a finished training
METRICS = "metrics.json"  # final metrics: marks an evaluated run
DIVERGED = "diverged.json"  # why the last training attempt stopped (removed when training finishes)
LOCK = ".lock"  # held while a process trains the run
RECONSTRUCTIONS = "reconstructions.png"
SAMPLES = "samples.png"
CLASS_SAMPLES = "class_samples.pt"
CODES = "codes.pt"  # validation codes of an autoencoder with a prior, beside prior draws
COMPLETIONS = "completions.pt"  # validation images and their bottom halves drawn by an autoregressive model
PROVENANCE = "provenance.json"  # where an imported run came from (a run without one was trained here)
BUNDLE_SUFFIX = ".bundle.tar.gz"

TABLE_EXTENSIONS = (".md", ".tex", ".csv")
FIGURE_EXTENSIONS = (".png", ".pdf", ".csv")


@dataclass(frozen=True)
class RunKey:
    """A run's identity inside a profile."""

    experiment: str
    method_label: str
    dataset: str
    seed: int


def profile_file(profile: str) -> Path:
    return Path(PROFILES_DIR) / f"{profile}.yaml"


@dataclass(frozen=True)
class Layout:
    """The folders of one profile; ``Layout.of(cfg)`` reads ``results``/``reports`` with their defaults."""

    profile: str
    results_root: Path = Path(DEFAULT_RESULTS)
    reports_root: Path = Path(DEFAULT_REPORTS)

    @classmethod
    def of(cls, cfg: dict) -> "Layout":
        return cls(cfg["profile"], Path(cfg.get("results") or DEFAULT_RESULTS),
                   Path(cfg.get("reports") or DEFAULT_REPORTS))

    @property
    def results(self) -> Path:
        return self.results_root / self.profile

    @property
    def reports(self) -> Path:
        return self.reports_root / self.profile

    # -- runs ---------------------------------------------------------------------------------------
    def run(self, key: RunKey) -> Path:
        return self.results / key.experiment / key.method_label / key.dataset / f"seed{key.seed}"

    def run_pattern(self) -> str:
        """The run directory with Snakemake wildcards ({experiment}, {method}, {dataset}, {seed})."""
        return str(self.results / "{experiment}" / "{method}" / "{dataset}" / "seed{seed}")

    def cell(self, experiment: str, method_label: str, dataset: str) -> Path:
        """The marker of a cell (every seed of one experiment, method label and dataset)."""
        return self.results / experiment / method_label / dataset / CELL

    def cell_pattern(self) -> str:
        """The cell marker with Snakemake wildcards ({experiment}, {method}, {dataset})."""
        return str(self.results / "{experiment}" / "{method}" / "{dataset}" / CELL)

    def superseded(self) -> Path:
        """Where runs replaced by a changed spec are moved, each under its old config hash."""
        return self.results / "superseded"

    def logs(self) -> Path:
        return self.results / "logs"

    # -- bundles ------------------------------------------------------------------------------------
    def bundle(self, name: str | None = None) -> Path:
        """Where ``gonbench export`` writes unless given ``--out``: beside the profiles' results, not in them."""
        return self.results_root / "bundles" / f"{name or self.profile}{BUNDLE_SUFFIX}"

    def published_bundle(self) -> Path:
        """The tracked bundle ``gonbench publish`` writes: the profile's runs without checkpoints."""
        return self.published() / "bundle.tar.gz"

    # -- shared inputs ------------------------------------------------------------------------------
    def data_cache(self, dataset: str, image_size: int | str) -> Path:
        return self.results / "data" / f"{dataset}-{image_size}px.pt"

    def pretrained(self, network: str) -> Path:
        return self.results / "pretrained" / f"{network}.pt"

    def calibration(self) -> Path:
        return self.results / "calibration.json"

    # -- reports ------------------------------------------------------------------------------------
    def table_files(self, name: str) -> list[Path]:
        return [self.reports / f"{name}{ext}" for ext in TABLE_EXTENSIONS]

    def table_caption(self, name: str) -> Path:
        return self.reports / f"{name}.caption.md"

    def figures(self) -> Path:
        return self.reports / "figures"

    def figure_files(self, name: str) -> list[Path]:
        return [self.figures() / f"{name}{ext}" for ext in FIGURE_EXTENSIONS]

    def caption(self, name: str) -> Path:
        return self.figures() / f"{name}.caption.md"

    def catalogue(self) -> Path:
        return self.reports / "runs.csv"

    def report_logs(self) -> Path:
        return self.reports / "logs"

    def published(self) -> Path:
        return Path(PUBLISHED) / self.profile


def summary_path(network_file: str | Path) -> Path:
    """The .json summary written beside a pretrained network."""
    return Path(network_file).with_suffix(".json")


def checksum_path(cache: str | Path) -> Path:
    """The digest written beside a prepared dataset cache."""
    return Path(str(cache) + ".sha256")
