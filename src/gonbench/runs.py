"""A finished (or partial) run on disk, as a Python object: ``gonbench.load_run(run_dir)``."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from .errors import RunStateError
from .io import read_json, read_jsonl


def data_cache_path(results_profile_dir: Path, dataset: str, image_size: int) -> Path:
    """Where ``prepare_data`` caches a dataset for one profile: results/<profile>/data/<name>-<size>px.pt."""
    return Path(results_profile_dir) / "data" / f"{dataset}-{image_size}px.pt"


@dataclass
class Run:
    path: Path
    spec: dict
    log: list[dict]
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    _model: object = None
    _splits: object = None

    @property
    def metrics(self) -> dict:
        p = self.path / "metrics.json"
        return read_json(p) if p.exists() else {}

    @property
    def model(self):
        """The trained method (an nn.Module holding every trained network), in eval mode."""
        if self._model is None:
            from .data import DATASETS
            from .train import build_model, data_info, select_subsets

            ckpt = torch.load(self.path / "checkpoint.pt", map_location=self.device, weights_only=False)
            splits = select_subsets(self.splits(), self.spec)
            model = build_model(self.spec, data_info(splits, DATASETS.get(self.spec["dataset"]).classes), self.device)
            model.load_state_dict(ckpt["model"])
            self._model = model.eval()
        return self._model

    def splits(self):
        if self._splits is None:
            from .data import load_prepared, resolve_data_root

            cache = Path(self.spec["data_cache"]) if self.spec.get("data_cache") else None
            self._splits = load_prepared(self.spec["dataset"], resolve_data_root(self.spec.get("data_root")),
                                         self.spec["image_size"], cache)
        return self._splits

    def val_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The run's validation images in [0, 1] ([N, C, H, W]) and labels, exactly as evaluated."""
        from .runtime import to_unit
        from .train import select_subsets

        splits = select_subsets(self.splits(), self.spec)
        return to_unit(splits.val), splits.val_labels

    def reconstruct(self, x: torch.Tensor, bn_protocol: str | None = None) -> torch.Tensor:
        """Reconstruct images in [0, 1], batched at the training batch size under the run's BN protocol."""
        from .validation import reconstruct_all

        return reconstruct_all(self.model, x.to(self.device), self.spec["batch_size"],
                               bn_protocol or self.spec["bn_protocol"])


def load_run(run_dir: str | Path, device: str = "cpu") -> Run:
    path = Path(run_dir)
    if not (path / "config.json").exists():
        raise RunStateError(f"{path} is not a run directory (no config.json)")
    return Run(path=path, spec=read_json(path / "config.json"), log=read_jsonl(path / "log.jsonl"),
               device=torch.device(device))
