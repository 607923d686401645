"""``gonbench export``: a profile's finished runs (a selection of them) in one compressed archive.

The archive is reproducible: members carry no owner or timestamp and the gzip header no date, so the same
runs give the same bytes (and the same bundle id), which lets ``published/<profile>/bundle.tar.gz`` be
tracked without churn. Members are hashed while they are written; the manifest comes last.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from .. import paths
from ..cell import cell_specs
from ..config import expand_runs
from ..errors import ConfigError
from ..io import read_json, save_with
from ..paths import Layout, RunKey
from ..rundir import is_evaluated
from ..runtime import git_state
from .manifest import CHECKPOINT_FILES, FORMAT, IMAGE_GRID, MANIFEST, RUN_FILES, TABLE_FILES, bundle_id, \
    member_name, run_environment, run_name


@dataclass(frozen=True)
class Exported:
    path: Path
    bundle_id: str
    runs: int
    skipped: int  # runs of the selection that are not finished and evaluated under the profile
    size: int  # bytes of the archive


class _Hashing:
    """A file object that hashes what tarfile reads from it and advances the progress bar."""

    def __init__(self, f: BinaryIO, bar: tqdm) -> None:
        self.f, self.bar, self.digest = f, bar, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.digest.update(data)
        self.bar.update(len(data))
        return data


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime, info.type = size, 0o644, 0, tarfile.REGTYPE
    return info


def selected_runs(cfg: dict, experiments=None, methods=None, datasets=None, seeds=None) -> list[RunKey]:
    """The profile's runs that the filters keep (each filter a list; None keeps all); a filter value the
    profile never uses is a one-line error naming the valid ones."""
    keys = expand_runs(cfg)
    for values, field in ((experiments, "experiment"), (methods, "method_label"), (datasets, "dataset"),
                          (seeds, "seed")):
        if values is None:
            continue
        known = sorted({getattr(k, field) for k in keys}, key=str)
        unknown = [v for v in values if v not in known]
        if unknown:
            raise ConfigError(f"no run of profile {cfg['profile']} has {field.replace('_label', '')} "
                              f"{unknown[0]!r}; valid choices: {', '.join(map(str, known))}")
        keys = [k for k in keys if getattr(k, field) in values]
    return keys


def run_files(run_dir: Path, checkpoints: bool, tables_only: bool = False) -> list[Path]:
    """The files of a run that travel: all it keeps (checkpoints if asked), or only what tables and curves
    read (no image grids or tensor files)."""
    names = (TABLE_FILES if tables_only else RUN_FILES) + (CHECKPOINT_FILES if checkpoints else ())
    files = [run_dir / n for n in names if (run_dir / n).is_file()]
    if not tables_only:
        files += sorted(p for p in run_dir.glob("*.png") if IMAGE_GRID.match(p.name) and p.name not in names)
    return files


def export_bundle(cfg: dict, out: Path | None = None, *, experiments=None, methods=None, datasets=None,
                  seeds=None, checkpoints: bool = False, tables_only: bool = False,
                  progress: bool = True) -> Exported:
    """Write the selected runs that are finished and evaluated under this profile (a run directory holding
    another spec's run, a superseded one, is never exported) and return what was written. ``tables_only``
    leaves out the image grids and tensor files: the tables and curve figures still regenerate from it."""
    layout = Layout.of(cfg)
    out = Path(out) if out is not None else layout.bundle()
    keys = selected_runs(cfg, experiments, methods, datasets, seeds)
    chosen: list[tuple[RunKey, dict, list[Path]]] = []
    for key in keys:
        (spec,) = cell_specs(cfg, key.experiment, key.method_label, key.dataset, [key.seed])
        run_dir = layout.run(key)
        if is_evaluated(run_dir, spec):
            chosen.append((key, spec, run_files(run_dir, checkpoints, tables_only)))
    if not chosen:
        raise ConfigError(f"none of the {len(keys)} selected runs of profile {cfg['profile']} is finished and "
                          f"evaluated under {layout.results}; build them first (snakemake --configfile ...)")
    total = sum(f.stat().st_size for _, _, files in chosen for f in files)
    members, runs = [], []
    state = {}

    def write(tmp: str) -> None:
        with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, \
                tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar, \
                tqdm(total=total, unit="B", unit_scale=True, desc=f"export {out.name}",
                     disable=None if progress else True) as bar:
            for key, spec, files in chosen:
                for path in files:
                    name, size = member_name(key, path.name), path.stat().st_size
                    with open(path, "rb") as f:
                        reader = _Hashing(f, bar)
                        tar.addfile(_info(name, size), reader)
                    members.append({"path": name, "size": size, "sha256": reader.digest.hexdigest()})
                runs.append({"run": run_name(key), "config_hash": spec["config_hash"],
                             **run_environment(read_json(layout.run(key) / paths.METRICS))})
            manifest = {"format": FORMAT, "profile": cfg["profile"], "checkpoints": checkpoints, "tables_only": tables_only,
                        "producer": {"gonbench": version("gonbench"), **git_state()}, "runs": runs, "members": members}
            data = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
            tar.addfile(_info(MANIFEST, len(data)), io.BytesIO(data))
            state["id"] = bundle_id(data)

    save_with(out, write)
    return Exported(out, state["id"], len(chosen), len(keys) - len(chosen), out.stat().st_size)
