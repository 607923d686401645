"""The run layer: from a resolved spec to a built model and its data, and a finished run back from disk.

``build_model`` and ``run_splits`` are what training, evaluation and ``gonbench.load_run`` share, so a
run is rebuilt exactly as it was trained: the same subsets, the same pretrained networks, the same method.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn

from . import paths
from .batches import to_unit
from .config import method_values, network_fields
from .data import DATASETS, ImageSplits, load_prepared, resolve_data_root, subset
from .errors import RunStateError
from .io import load_checkpoint, read_json, read_jsonl
from .methods import METHODS, DataInfo, Method, build_method
from .pretrain import load_pretrained
from .seeding import built_as_seeded
from .validation import reconstruct_all


def select_subsets(splits: ImageSplits, spec: dict) -> ImageSplits:
    train, train_y = subset(splits.train, splits.train_labels, spec["train_size"])
    val, val_y = subset(splits.val, splits.val_labels, spec["val_size"])
    return ImageSplits(train, train_y, val, val_y, splits.meta)


def data_info(splits: ImageSplits, dataset: str) -> DataInfo:
    _, c, _, w = splits.train.shape  # the last axis: images are square, 1-D signals are [N, 1, 1, n]
    return DataInfo(channels=c, image_size=w, classes=DATASETS.get(dataset).classes, train_size=len(splits.train))


def load_networks(spec: dict, device: torch.device | str = "cpu") -> dict[str, nn.Module]:
    """The pretrained networks a run names (config field -> frozen network), from the files its spec records."""
    files = spec.get("network_files", {})
    return {name: load_pretrained(files[name], spec[name], device)
            for name in network_fields(METHODS.get(spec["method"])) if spec.get(name)}


def build_model(spec: dict, info: DataInfo, device: torch.device, networks: dict[str, nn.Module] | None = None) -> Method:
    return build_method(spec["method"], info, networks, **method_values(spec)).to(device)


def load_splits(spec: dict) -> ImageSplits:
    """The run's dataset from its prepared cache (rebuilt from the data root if missing), subsets applied."""
    cache = Path(spec["data_cache"]) if spec.get("data_cache") else None
    splits = load_prepared(spec["dataset"], resolve_data_root(spec.get("data_root")), spec["image_size"], cache)
    return select_subsets(splits, spec)


@dataclass
class Run:
    """A run directory as a Python object: its spec, per-epoch log, metrics, trained model and data."""

    path: Path
    spec: dict
    log: list[dict]
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    _model: Method | None = None
    _splits: ImageSplits | None = None

    @property
    def metrics(self) -> dict:
        p = self.path / paths.METRICS
        return read_json(p) if p.exists() else {}

    def checkpoint(self) -> dict:
        path = self.path / paths.CHECKPOINT
        if not path.is_file():
            raise RunStateError(f"{self.path} has no {paths.CHECKPOINT}: the run has not completed an epoch; train it")
        return load_checkpoint(path, self.device, remedy="delete the run directory and train it again")

    @property
    def model(self) -> Method:
        """The trained method (an nn.Module holding every trained network), in eval mode."""
        if self._model is None:
            ckpt = self.checkpoint()
            info, networks = data_info(self.splits(), self.spec["dataset"]), load_networks(self.spec, self.device)
            if ckpt["model"] is None:  # a measurement at initialisation: rebuilt as training built it
                model = built_as_seeded(self.spec["seed"], lambda: build_model(self.spec, info, self.device, networks))
            else:
                model = build_model(self.spec, info, self.device, networks)
                model.load_state_dict(ckpt["model"])
            self._model = model.eval()
        return self._model

    def splits(self) -> ImageSplits:
        """The run's training and validation subsets, exactly as trained and evaluated."""
        if self._splits is None:
            self._splits = load_splits(self.spec)
        return self._splits

    def val_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The run's validation images in [0, 1] ([N, C, H, W]) and labels, exactly as evaluated."""
        splits = self.splits()
        return to_unit(splits.val), splits.val_labels

    def train_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        splits = self.splits()
        return to_unit(splits.train), splits.train_labels

    def reconstruct(self, x: torch.Tensor, bn_protocol: str | None = None) -> torch.Tensor:
        """Reconstruct images in [0, 1], batched at the training batch size under the run's BN protocol."""
        return reconstruct_all(self.model, x.to(self.device), self.spec["batch_size"],
                               bn_protocol or self.spec["bn_protocol"])


def load_run(run_dir: str | Path, device: str = "cpu") -> Run:
    path = Path(run_dir)
    if not (path / paths.CONFIG).exists():
        raise RunStateError(f"{path} is not a run directory (no {paths.CONFIG})")
    spec = read_json(path / paths.CONFIG, remedy="delete the run directory and train it again")
    missing = [k for k in ("method", "dataset", "seed", "config_hash") if k not in spec]
    if missing:
        raise RunStateError(f"{path / paths.CONFIG} lacks {', '.join(missing)}: not a gonbench run spec; "
                            f"delete the run directory and train it again")
    return Run(path=path, spec=spec, log=read_jsonl(path / paths.LOG), device=torch.device(device))
