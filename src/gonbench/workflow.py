"""What the Snakefile asks of the package: the plan of a profile, resolved and checked before any job runs.

The unit of work is the cell: every seed of one (experiment, method label, dataset), trained and evaluated
by one job (one interpreter start, one data load). A cell's job carries the config hash of each of its runs
as a Snakemake param, so editing a profile reruns exactly the cells whose runs changed (and the reports
built from them), and nothing else. Every run's spec is resolved when the plan is built: a bad value
anywhere stops the whole plan with one line naming the file, the experiment and the key.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .bundles import cell_is_imported
from .config import check_grid, expand_runs, experiment_variants, hash_of, validate_profile
from .data import availability, dataset_title, list_datasets, resolve_data_root
from .outputs import experiment_of_output
from .paths import Layout
from .pretrain import PRETRAINED, pretrain_config
from .reports import check_outputs, figure_names, output_files, table_names


@dataclass(frozen=True)
class Cell:
    experiment: str
    method_label: str
    dataset: str
    specs: tuple[dict, ...]  # one per seed, in seed order

    @property
    def seeds(self) -> list[int]:
        return [s["seed"] for s in self.specs]

    @property
    def hashes(self) -> str:
        """The config hash of every seed's run: the param whose change makes Snakemake rerun the cell."""
        return " ".join(f"seed{s['seed']}={s['config_hash']}" for s in self.specs)

    @property
    def threads(self) -> int:
        return max(s["threads"] for s in self.specs)


class Plan:
    """The cells, outputs and shared inputs of one profile, as the DAG sees them."""

    def __init__(self, cfg: dict, source: str) -> None:
        self.cfg, self.source = validate_profile(cfg, source), source
        self.layout = Layout.of(cfg)
        specs = check_grid(cfg, source)
        self.cells: dict[tuple[str, str, str], Cell] = {}
        for key, spec in zip(expand_runs(cfg), specs):
            cell = (key.experiment, key.method_label, key.dataset)
            previous = self.cells.get(cell)
            self.cells[cell] = Cell(*cell, specs=(previous.specs if previous else ()) + (spec,))
        check_outputs(cfg, source)

    # -- cells --------------------------------------------------------------------------------------
    def cell(self, experiment: str, method: str, dataset: str) -> Cell:
        return self.cells[(experiment, method, dataset)]

    def cell_markers(self, experiment: str | None = None) -> list[str]:
        return [str(self.layout.cell(*key)) for key in self.cells if experiment in (None, key[0])]

    def cell_inputs(self, experiment: str, method: str, dataset: str) -> list[str]:
        """What a cell's job reads: its prepared dataset (at the spec's resolution) and every pretrained
        network its runs name (built by the pretrain rule).

        A cell imported from a bundle for these very config hashes reads nothing: its marker exists and has
        no Snakemake metadata (so no params trigger), and with no input no data preparation or pretraining
        can make it look out of date. An imported marker of other hashes (the profile was edited since)
        also lists the profile file, newer than the marker, so the cell retrains as an edited local one would."""
        cell = self.cell(experiment, method, dataset)
        marker = self.layout.cell(experiment, method, dataset)
        if cell_is_imported(marker, {s["seed"]: s["config_hash"] for s in cell.specs}):
            return []
        files = {str(self.layout.data_cache(dataset, s["image_size"])) for s in cell.specs}
        files |= {f for s in cell.specs for f in s.get("network_files", {}).values()}
        if cell_is_imported(marker, None):
            files.add(self.source)
        return sorted(files)

    # -- pretrained networks ------------------------------------------------------------------------
    def pretrained_names(self) -> list[str]:
        return PRETRAINED.names()

    def pretrain_data(self, network: str) -> str:
        pc = pretrain_config(self.cfg, network)
        return str(self.layout.data_cache(pc.dataset, pc.image_size))

    def pretrain_hash(self, network: str) -> str:
        return hash_of(dataclasses.asdict(pretrain_config(self.cfg, network)))

    # -- reports ------------------------------------------------------------------------------------
    def outputs(self, experiment: str | None = None) -> list[str]:
        names = [n for e, exp in self.cfg["experiments"].items() if experiment in (None, e)
                 for n in exp.get("outputs", [])]
        return list(dict.fromkeys(names))

    def output_inputs(self, name: str) -> list[str]:
        """A table or figure is rebuilt when a cell of the experiment that lists it is."""
        return self.cell_markers(experiment_of_output(self.cfg, name))

    def report_files(self, experiment: str | None = None) -> list[str]:
        return [str(f) for name in self.outputs(experiment) for f in self.report_files_of(name)]

    def table_files(self) -> list[str]:
        return [f for name in self.outputs() if name in table_names() for f in self.report_files_of(name)]

    def report_files_of(self, name: str) -> list[str]:
        return [str(f) for f in output_files(self.cfg, name)]

    def caption_of(self, name: str) -> str:
        """The caption the output writes beside its files (shown with it in ``snakemake --report``)."""
        kind = "table" if name in table_names() else "figure"
        return str(self.layout.table_caption(name) if kind == "table" else self.layout.caption(name))

    def experiment_of(self, name: str) -> str:
        return experiment_of_output(self.cfg, name)

    def dataset_note(self) -> str:
        """One line on where the profile's datasets come from on this machine (said before any job runs)."""
        root = resolve_data_root(self.cfg.get("data_root"))
        used = dict.fromkeys(d for exp in self.cfg["experiments"].values() for d in exp["datasets"])
        return "gonbench: datasets of profile {}: {}".format(
            self.cfg["profile"], "; ".join(f"{dataset_title(d)} {availability(d, root)}" for d in used))

    # -- wildcard constraints -----------------------------------------------------------------------
    def labels(self) -> list[str]:
        return sorted({label for exp in self.cfg["experiments"].values() for label in experiment_variants(exp)})

    @staticmethod
    def datasets() -> list[str]:
        return list_datasets()

    @staticmethod
    def tables() -> list[str]:
        return table_names()

    @staticmethod
    def figures() -> list[str]:
        return figure_names()

