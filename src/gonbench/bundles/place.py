"""``gonbench import``: verify a bundle whole in a temporary folder, then move its runs into the results.

Verification refuses the whole bundle, with one line, on anything unsafe or damaged: a member path with
``..`` or an absolute one, a link or device file, a name that is not a run file, a member over the size
cap, members and manifest that disagree, a checksum mismatch, a truncated or non-tar file, a config.json
that does not match its own hash, a tensor file holding anything but tensors (loaded with ``weights_only``,
never run), a bundle of another profile or of a newer format. Nothing is written to the results before all
of it passes.

Placement then decides run by run: a run whose spec does not resolve to the same hash under this checkout's
profile is not placed (one line naming the differing keys) unless ``force``, which places it flagged as
foreign; a run already on disk with the same hash is left as it is unless ``replace``; whatever a placed
run displaces is moved to ``superseded/``, never deleted. A cell whose every seed is then present gets its
``cell.json`` marker, marked as imported, so the workflow plans no training job for it.
"""
from __future__ import annotations

import hashlib
import json
import lzma
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .. import paths
from ..cell import cell_specs
from ..config import NOT_HASHED, expand_runs, experiment_seeds, spec_differences, spec_hash
from ..errors import BundleError, CorruptFileError, RunLockedError
from ..evaluate import HEADLINE
from ..io import load_checkpoint, read_json, write_json
from ..paths import Layout, RunKey
from ..rundir import is_evaluated, locked, move_aside, note, recorded_spec
from . import manifest as mf

_READ_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError)


@dataclass
class Imported:
    bundle_id: str
    placed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # already on disk with the same hash
    not_placed: list[str] = field(default_factory=list)  # one line each: why
    cells: list[str] = field(default_factory=list)  # cell markers written


class _Refused(Exception):
    pass


def _member_problem(m: tarfile.TarInfo) -> str | None:
    p = PurePosixPath(m.name)
    if m.name.startswith("/") or p.is_absolute():
        return "has an absolute path"
    if ".." in p.parts:
        return "has a path with '..'"
    if m.issym():
        return f"is a symbolic link (to {m.linkname})"
    if m.islnk():
        return f"is a hard link (to {m.linkname})"
    if m.ischr() or m.isblk():
        return "is a device file"
    if not m.isfile():
        return "is not a regular file"
    if m.size > mf.MAX_MEMBER_BYTES:
        return f"is {m.size:,} bytes, over the cap of {mf.MAX_MEMBER_BYTES:,} bytes per member"
    if m.name != mf.MANIFEST and mf.parse_member(m.name) is None:
        return "is not a run file (runs/<experiment>/<method>/<dataset>/seed<k>/<file of a run>)"
    return None


def _copy(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> str:
    """Stream a member into ``target`` (never through ``extract``: the path is ours); returns its sha256."""
    digest = hashlib.sha256()
    source = tar.extractfile(member)
    target.parent.mkdir(parents=True, exist_ok=True)
    with source, open(target, "xb") as out:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def _manifest(tar: tarfile.TarFile, member: tarfile.TarInfo, profile: str) -> tuple[dict, bytes]:
    if member.size > mf.MAX_MANIFEST_BYTES:
        raise _Refused(f"its manifest.json is {member.size:,} bytes, over the cap of {mf.MAX_MANIFEST_BYTES:,}")
    data = tar.extractfile(member).read()
    try:
        manifest = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _Refused("its manifest.json is not valid JSON") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("format"), int):
        raise _Refused("its manifest.json has no format version")
    if manifest["format"] > mf.FORMAT:
        raise _Refused(f"it was made by a newer bundle format ({manifest['format']}; this gonbench reads up to "
                       f"{mf.FORMAT}): update gonbench to import it")
    if manifest.get("profile") != profile:
        raise _Refused(f"it is a bundle of profile {manifest.get('profile')!r}, not {profile!r}: import it "
                       f"with --profile {manifest.get('profile')}")
    entries, runs = manifest.get("members"), manifest.get("runs")
    if not (isinstance(entries, list) and isinstance(runs, list) and
            all(isinstance(e, dict) and isinstance(e.get("path"), str) and isinstance(e.get("size"), int)
                and isinstance(e.get("sha256"), str) for e in entries) and
            all(isinstance(r, dict) and isinstance(r.get("run"), str) and isinstance(r.get("config_hash"), str)
                for r in runs)):
        raise _Refused("its manifest.json lacks the members (path, size, sha256) or runs (run, config_hash) lists")
    return manifest, data


def verify(bundle: Path, profile: str, stage: Path) -> tuple[dict, str]:
    """Check the bundle whole and copy its members into ``stage``; returns (manifest, bundle id)."""
    try:
        tar = tarfile.open(bundle, "r:*")
    except FileNotFoundError:
        raise BundleError(f"no bundle file {bundle}") from None
    except _READ_ERRORS as exc:
        raise _Refused(f"it is not a readable tar archive ({_reason(exc)})") from None
    with tar:
        try:
            members = tar.getmembers()
        except _READ_ERRORS as exc:
            raise _Refused(f"it is truncated or damaged ({_reason(exc)})") from None
        named: dict[str, tarfile.TarInfo] = {}
        for m in members:
            problem = _member_problem(m)
            if problem is None and m.name in named:
                problem = "appears twice"
            if problem:
                raise _Refused(f"member {m.name!r} {problem}")
            named[m.name] = m
        if sum(m.size for m in members) > mf.MAX_TOTAL_BYTES:
            raise _Refused(f"its members total over the cap of {mf.MAX_TOTAL_BYTES:,} bytes")
        if mf.MANIFEST not in named:
            raise _Refused("it has no manifest.json (truncated, or not a gonbench bundle)")
        try:
            manifest, data = _manifest(tar, named.pop(mf.MANIFEST), profile)
            entries = {e["path"]: e for e in manifest["members"]}
            extra, missing = sorted(set(named) - set(entries)), sorted(set(entries) - set(named))
            if extra:
                raise _Refused(f"member {extra[0]} is not listed in its manifest")
            if missing:
                raise _Refused(f"manifest entry {missing[0]} is missing from the archive")
            for name, entry in entries.items():
                if _copy(tar, named[name], stage / name) != entry["sha256"] or named[name].size != entry["size"]:
                    raise _Refused(f"member {name} does not match its size and sha256 in the manifest "
                                   f"(damaged or altered)")
        except _READ_ERRORS as exc:
            raise _Refused(f"it is truncated or damaged ({_reason(exc)})") from None
    _check_runs(manifest, stage)
    return manifest, mf.bundle_id(data)


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0].rstrip(":") if str(exc) else type(exc).__name__


def _check_runs(manifest: dict, stage: Path) -> None:
    """Every run is complete and self-consistent, and every tensor file is plain tensors."""
    listed = {r["run"]: r for r in manifest["runs"]}
    present = {mf.run_name(key) for key, _ in map(mf.parse_member, (e["path"] for e in manifest["members"]))}
    if set(listed) != present:
        odd = sorted(set(listed) ^ present)[0]
        raise _Refused(f"run {odd} is in the manifest's runs or its members, not both")
    for name, entry in listed.items():
        run = stage / mf.RUNS / name
        missing = [f for f in mf.REQUIRED if not (run / f).is_file()]
        if missing:
            raise _Refused(f"run {name} lacks {missing[0]} (not a finished, evaluated run)")
        try:
            config, metrics = read_json(run / paths.CONFIG), read_json(run / paths.METRICS)
            read_json(run / paths.TRAIN_SUMMARY)
        except CorruptFileError:
            raise _Refused(f"run {name} has a JSON file that does not parse") from None
        key = PurePosixPath(name).parts
        if not isinstance(config, dict) or not isinstance(metrics, dict) or \
                (config.get("experiment"), config.get("method_label"), config.get("dataset"),
                 f"seed{config.get('seed')}") != key:
            raise _Refused(f"run {name}: its config.json describes another run")
        if not (spec_hash(config) == config.get("config_hash") == entry["config_hash"] == metrics.get("config_hash")):
            raise _Refused(f"run {name}: config.json, metrics.json and the manifest disagree on its spec hash "
                           f"(altered)")
        for tensor_file in sorted(run.glob(f"*{mf.TENSOR_SUFFIX}")):
            try:
                load_checkpoint(tensor_file, "cpu", what="tensor file")
            except CorruptFileError:
                raise _Refused(f"member {mf.RUNS}/{name}/{tensor_file.name} holds a pickle payload or is not a "
                               f"plain tensor file (checked with weights_only loading, not run)") from None


def _show(value) -> str:
    return json.dumps(value, default=str) if isinstance(value, (list, dict)) else str(value)


def import_bundle(cfg: dict, bundle: Path, *, force: bool = False, replace: bool = False) -> Imported:
    """Verify ``bundle`` and place its runs under ``results/<profile>/``; a refused bundle is one
    BundleError and writes nothing."""
    layout = Layout.of(cfg)
    bundle = Path(bundle)
    with tempfile.TemporaryDirectory(prefix="gonbench-import-") as tmp:
        try:
            manifest, bid = verify(bundle, cfg["profile"], Path(tmp))
        except _Refused as exc:
            raise BundleError(f"bundle {bundle} is refused: {exc}; nothing was imported") from None
        result = Imported(bid)
        grid = set(expand_runs(cfg))
        touched: set[tuple[str, str, str]] = set()
        for entry in manifest["runs"]:
            e, m, d, s = PurePosixPath(entry["run"]).parts
            key, name = RunKey(e, m, d, int(s[4:])), entry["run"]
            if key not in grid:
                result.not_placed.append(f"{name}: not placed: profile {cfg['profile']} has no such run")
                continue
            (spec,) = cell_specs(cfg, e, m, d, [key.seed])
            staged = Path(tmp) / mf.RUNS / name
            theirs = read_json(staged / paths.CONFIG)
            differs = spec_differences(theirs, spec)
            foreign = bool(differs) or theirs["config_hash"] != spec["config_hash"]
            if foreign and not force:
                why = "; ".join(f"{k} differs: bundle {_show(theirs.get(k))}, profile {_show(spec.get(k))}"
                                for k in differs) or "its spec hash differs"
                result.not_placed.append(f"{name}: not placed: {why} (--force places it, flagged as foreign)")
                continue
            dest = layout.run(key)
            if is_evaluated(dest, spec) and not replace:
                result.left.append(name)
                continue
            try:
                _place(layout, staged, dest, spec, theirs, foreign, bid, entry, manifest)
            except RunLockedError as exc:
                result.not_placed.append(f"{name}: not placed: {exc}")
                continue
            result.placed.append(name)
            touched.add((e, m, d))
        for cell in sorted(touched):
            marker = _mark_cell(cfg, layout, *cell)
            if marker is not None:
                result.cells.append(str(marker))
    return result


def _place(layout: Layout, staged: Path, dest: Path, spec: dict, theirs: dict, foreign: bool, bid: str,
           entry: dict, manifest: dict) -> None:
    local_paths = {k: spec[k] for k in NOT_HASHED if k in spec and k != "config_hash"}
    write_json(staged / paths.CONFIG, {**theirs, **local_paths} if foreign else spec)
    write_json(staged / paths.PROVENANCE, {
        "bundle": bid, "foreign": foreign, "profile": manifest["profile"],
        **{k: entry.get(k) for k in ("gonbench", "git_commit", "git_dirty", "torch", "device")},
        "differs": spec_differences(theirs, spec) if foreign else []})
    if dest.exists():
        with locked(dest):  # a trainer holding the directory keeps it (RunLockedError names its PID)
            pass
        old = recorded_spec(dest) if (dest / paths.CONFIG).is_file() else None
        target = layout.superseded() / str((old or {}).get("config_hash", "unknown"))
        move_aside(dest, target)
        note(f"{dest} held another run; moved it to {target} before placing the imported one")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staged), str(dest))


def _mark_cell(cfg: dict, layout: Layout, experiment: str, label: str, dataset: str) -> Path | None:
    """Write the cell's marker when every seed is present (evaluated under the profile, or placed foreign)."""
    specs = cell_specs(cfg, experiment, label, dataset, experiment_seeds(cfg, experiment))
    summary: dict = {}
    bundles = set()
    for spec in specs:
        out = layout.run(RunKey(experiment, label, dataset, spec["seed"]))
        prov = mf.provenance(out) if (out / paths.METRICS).is_file() else None
        if prov is None or not (is_evaluated(out, spec) or prov["foreign"]):
            return None
        metrics = read_json(out / paths.METRICS)
        bundles.add(prov["source"])
        summary[f"seed{spec['seed']}"] = {"config_hash": spec["config_hash"], "run_dir": str(out), "seconds": 0.0,
                                          **{k: metrics[k] for k in HEADLINE if k in metrics}}
    summary["imported"] = sorted(bundles - {mf.LOCAL})
    marker = layout.cell(experiment, label, dataset)
    write_json(marker, summary)
    return marker
