"""What a bundle may hold, how its members are named, and the provenance an imported run keeps."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath

from .. import paths
from ..errors import CorruptFileError
from ..io import read_json
from ..paths import RunKey

FORMAT = 1  # the bundle layout this gonbench writes; it reads this version and older ones
MANIFEST = "manifest.json"
RUNS = "runs"  # members are runs/<experiment>/<method label>/<dataset>/seed<k>/<file>
LOCAL = "local"  # the source of a run trained in this checkout

# every file of a run directory that a table, a figure or a resumed cell reads back; never the lock, the
# temporary files of a write, diverged.json or the previous checkpoint
RUN_FILES = (paths.CONFIG, paths.METRICS, paths.TRAIN_SUMMARY, paths.LOG, paths.STEPS, paths.RECONSTRUCTIONS,
             paths.SAMPLES, paths.CLASS_SAMPLES, paths.CODES)
TABLE_FILES = (paths.CONFIG, paths.METRICS, paths.TRAIN_SUMMARY, paths.LOG, paths.STEPS)  # all tables and curves read
CHECKPOINT_FILES = (paths.CHECKPOINT,)
REQUIRED = (paths.CONFIG, paths.METRICS, paths.TRAIN_SUMMARY)  # a finished, evaluated run
IMAGE_GRID = re.compile(r"^[A-Za-z0-9_-]+\.png$")  # the image grids evaluations write beside the metrics
TENSOR_SUFFIX = ".pt"

# caps against a decompression bomb: a real run's files are far below them (a checkpoint of the largest
# paper network is ~100 MB)
MAX_MEMBER_BYTES = 2 << 30
MAX_TOTAL_BYTES = 64 << 30
MAX_MANIFEST_BYTES = 64 << 20


def allowed_file(name: str) -> bool:
    return name in RUN_FILES or name in CHECKPOINT_FILES or bool(IMAGE_GRID.match(name))


def member_name(key: RunKey, file: str) -> str:
    return str(PurePosixPath(RUNS, key.experiment, key.method_label, key.dataset, f"seed{key.seed}", file))


def run_name(key: RunKey) -> str:
    return str(PurePosixPath(key.experiment, key.method_label, key.dataset, f"seed{key.seed}"))


def parse_member(name: str) -> tuple[RunKey, str] | None:
    """The run and file a member names, or None when the name is not runs/<e>/<m>/<d>/seed<k>/<file>."""
    parts = PurePosixPath(name).parts
    if len(parts) != 6 or parts[0] != RUNS or not re.fullmatch(r"seed\d+", parts[4]) or not allowed_file(parts[5]):
        return None
    if any(p.startswith(".") or "\\" in p or "\0" in p for p in parts):
        return None
    return RunKey(parts[1], parts[2], parts[3], int(parts[4][4:])), parts[5]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundle_id(manifest_bytes: bytes) -> str:
    """A bundle's id: its manifest's digest, which covers every member's checksum (same runs, same id)."""
    return hashlib.sha256(manifest_bytes).hexdigest()[:12]


def run_environment(metrics: dict) -> dict:
    """Where a run was produced, as its metrics.json recorded it at evaluation."""
    env = metrics.get("environment", {}) if isinstance(metrics.get("environment"), dict) else {}
    return {k: env.get(k) for k in ("gonbench", "git_commit", "git_dirty", "torch", "device")}


def provenance(run_dir: Path, metrics: dict | None = None) -> dict:
    """Where a run's results came from: ``source`` (``local`` or a bundle id), the producing ``commit`` and
    ``device``, and ``foreign`` (imported with ``--force`` although its spec differs from the profile's)."""
    record = Path(run_dir) / paths.PROVENANCE
    if record.exists():
        prov = read_json(record)
        return {"source": prov.get("bundle", "unknown"), "commit": prov.get("git_commit"),
                "device": prov.get("device"), "foreign": bool(prov.get("foreign", False))}
    env = run_environment(metrics if metrics is not None else read_json(Path(run_dir) / paths.METRICS))
    return {"source": LOCAL, "commit": env["git_commit"], "device": env["device"], "foreign": False}


def cell_is_imported(marker: Path, hashes: dict[int, str] | None) -> bool:
    """The marker was written by an import for runs with exactly these config hashes (seed -> hash; None:
    any hashes): then the cell is final here and its job needs no input."""
    marker = Path(marker)
    if not marker.is_file():
        return False
    try:
        cell = read_json(marker)
    except CorruptFileError:
        return False
    if not isinstance(cell, dict) or not cell.get("imported"):
        return False
    if hashes is None:
        return True
    return all(isinstance(cell.get(f"seed{seed}"), dict) and cell[f"seed{seed}"].get("config_hash") == h
               for seed, h in hashes.items()) and len([k for k in cell if k.startswith("seed")]) == len(hashes)
