"""Run bundles are untrusted input: every bad bundle is refused with one line and writes nothing; a good one
places its runs (with provenance), leaves runs already here alone, refuses a run of another spec with the
keys that differ (``--force`` places it as foreign), and makes the plan give its cells no inputs.

The runs are written by hand (a resolved spec, metrics, a checkpoint of plain tensors), so no test here
trains; tests/test_bundle_roundtrip.py exports and imports real runs through Snakemake.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
import torch
import yaml

from gonbench import aggregate, paths, publish
from gonbench.bundles import cell_is_imported, export_bundle, manifest as mf
from gonbench.cell import cell_specs
from gonbench.cli import main
from gonbench.config import load_profile
from gonbench.io import write_json
from gonbench.paths import Layout, RunKey
from gonbench.workflow import Plan

REPO = Path(__file__).resolve().parents[1]
CELL = ("first", "gon", "digits")


def make_profile(tmp_path: Path, **edits) -> Path:
    cfg = yaml.safe_load((REPO / "tests" / "profiles" / "bundles.yaml").read_text())
    cfg.update(results=str(tmp_path / "results"), reports=str(tmp_path / "reports"), **edits)
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def fake_run(cfg: dict, key: RunKey, *, checkpoint: bool = True) -> Path:
    """A finished, evaluated run directory as training and evaluation leave it (numbers made up)."""
    (spec,) = cell_specs(cfg, key.experiment, key.method_label, key.dataset, [key.seed])
    out = Layout.of(cfg).run(key)
    write_json(out / paths.CONFIG, spec)
    write_json(out / paths.TRAIN_SUMMARY, {"epochs": 1})
    write_json(out / paths.METRICS, {
        "config_hash": spec["config_hash"], "recon_sse": 10.0 + key.seed, "psnr": 20.0, "ssim": 0.5,
        "eval_seconds": 1.0, "environment": {"device": "cuda", "git_commit": "abc123", "git_dirty": False,
                                             "torch": "2.4.0", "gonbench": "0.1.0"}})
    (out / paths.LOG).write_text(json.dumps({"epoch": 1, "train_loss": 1.0}) + "\n")
    if checkpoint:
        torch.save({"model": {"w": torch.zeros(3)}, "epoch": 1}, out / paths.CHECKPOINT)
    return out


def tree_hash(root: Path) -> str:
    """Every path (files and folders) and every file's bytes under ``root``."""
    digest = hashlib.sha256()
    for p in sorted(root.rglob("*")) if root.exists() else []:
        digest.update(str(p.relative_to(root)).encode())
        if p.is_file() and not p.is_symlink():
            digest.update(p.read_bytes())
    return digest.hexdigest()


def run_cli(capsys, argv: list[str]) -> tuple[int, list[str]]:
    rc = main(argv)
    err = capsys.readouterr().err
    return rc, [line for line in err.splitlines() if line.strip()]


@pytest.fixture
def exporter(tmp_path):
    """A profile with both seeds of first/gon/digits finished, and their bundle (with checkpoints)."""
    src = tmp_path / "src"
    src.mkdir()
    profile = make_profile(src)
    cfg = load_profile(path=profile)
    for seed in (0, 1):
        fake_run(cfg, RunKey(*CELL, seed))
    bundle = tmp_path / "good.bundle.tar.gz"
    assert main(["export", "--config", str(profile), "--experiment", "first", "--method", "gon",
                 "--with-checkpoints", "--out", str(bundle), "--no-progress"]) == 0
    return cfg, bundle


@pytest.fixture
def importer(tmp_path):
    """An importing profile whose results already hold one local run (so "unchanged" means something)."""
    dst = tmp_path / "dst"
    dst.mkdir()
    profile = make_profile(dst)
    cfg = load_profile(path=profile)
    fake_run(cfg, RunKey("first", "ae", "digits", 0))
    return profile, cfg


def members_of(bundle: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(bundle) as tar:
        return [(m, tar.extractfile(m).read()) for m in tar.getmembers()]


def rebuild(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], edit_manifest=None) -> Path:
    """A bundle of these members; the manifest (the last member of a real bundle) is edited by
    ``edit_manifest(manifest)`` and re-listed, else kept as it was."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for info, data in members:
            if info.name == mf.MANIFEST and edit_manifest is not None:
                manifest = json.loads(data)
                edit_manifest(manifest)
                data = json.dumps(manifest).encode()
            info = tarfile.TarInfo(info.name) if info.isfile() else info
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    path.write_bytes(gzip.compress(out.getvalue()))
    return path


def entry(name: str, data: bytes) -> dict:
    return {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def add_member(members, info: tarfile.TarInfo, data: bytes | None = None, listed: bool = True):
    """The members with one more before the manifest; ``listed`` also adds it to the manifest."""
    body = [m for m in members if m[0].name != mf.MANIFEST]
    manifest = json.loads(dict((m[0].name, m[1]) for m in members)[mf.MANIFEST])
    if listed and data is not None:
        manifest["members"].append(entry(info.name, data))
    return body + [(info, data), (tarfile.TarInfo(mf.MANIFEST), json.dumps(manifest).encode())]


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info


RUN0 = "runs/first/gon/digits/seed0"


class Evil:
    def __reduce__(self):
        return (print, ("this ran",))


def bad_bundle(kind: str, good: Path, tmp: Path, monkeypatch) -> tuple[Path, str]:
    """The bad bundle of ``kind`` and what its one line must say."""
    members = members_of(good)
    out = tmp / f"{kind}.tar.gz"
    if kind == "dotdot":
        return rebuild(out, add_member(members, tarfile.TarInfo("runs/../../escape.txt"), b"x")), "'..'"
    if kind == "absolute":
        return rebuild(out, add_member(members, tarfile.TarInfo("/tmp/escape.txt"), b"x")), "absolute path"
    if kind == "symlink":
        return rebuild(out, add_member(members, special(f"{RUN0}/samples.png", tarfile.SYMTYPE, "/etc/passwd"))), \
            "symbolic link"
    if kind == "hardlink":
        return rebuild(out, add_member(members, special(f"{RUN0}/samples.png", tarfile.LNKTYPE, "/etc/passwd"))), \
            "hard link"
    if kind == "device":
        return rebuild(out, add_member(members, special(f"{RUN0}/samples.png", tarfile.CHRTYPE))), "device file"
    if kind == "unlisted_member":
        return rebuild(out, add_member(members, tarfile.TarInfo(f"{RUN0}/samples.png"), b"png", listed=False)), \
            "not listed in its manifest"
    if kind == "missing_member":
        return rebuild(out, members, lambda m: m["members"].append(entry(f"{RUN0}/samples.png", b"png"))), \
            "missing from the archive"
    if kind == "sha256":
        def flip(m):
            m["members"][0]["sha256"] = "0" * 64
        return rebuild(out, members, flip), "sha256"
    if kind == "truncated":
        data = good.read_bytes()
        out.write_bytes(data[: len(data) // 2])
        return out, "truncated or damaged"
    if kind == "not_tar":
        out.write_bytes(b"this is not an archive\n" * 100)
        return out, "not a readable tar archive"
    if kind == "bomb":
        monkeypatch.setattr(mf, "MAX_MEMBER_BYTES", 1 << 20)
        return rebuild(out, add_member(members, tarfile.TarInfo(f"{RUN0}/samples.png"), bytes(16 << 20))), \
            "over the cap"
    if kind == "pickle":
        buf = io.BytesIO()
        torch.save({"model": Evil()}, buf)
        evil = [(i, buf.getvalue() if i.name.endswith(paths.CHECKPOINT) and i.name.startswith(RUN0) else d)
                for i, d in members]

        def relist(m):
            m["members"] = [entry(i.name, d) for i, d in evil if i.name != mf.MANIFEST]
        return rebuild(out, evil, relist), "pickle payload"
    if kind == "other_profile":
        return rebuild(out, members, lambda m: m.update(profile="quick")), "bundle of profile 'quick'"
    if kind == "newer_format":
        return rebuild(out, members, lambda m: m.update(format=mf.FORMAT + 1)), "newer bundle format"
    if kind == "altered_config":
        def altered(i, d):
            if i.name == f"{RUN0}/{paths.CONFIG}":
                return json.dumps({**json.loads(d), "lr": 0.5}).encode()
            return d
        changed = [(i, altered(i, d)) for i, d in members]
        return rebuild(out, changed, lambda m: m.update(
            members=[entry(i.name, d) for i, d in changed if i.name != mf.MANIFEST])), "disagree on its spec hash"
    raise AssertionError(kind)


KINDS = ["dotdot", "absolute", "symlink", "hardlink", "device", "unlisted_member", "missing_member", "sha256",
         "truncated", "not_tar", "bomb", "pickle", "other_profile", "newer_format", "altered_config"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_bundle_is_refused_with_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch, exporter,
                                                                  importer, kind):
    _, good = exporter
    profile, cfg = importer
    bad, says = bad_bundle(kind, good, tmp_path, monkeypatch)
    results = Path(cfg["results"])
    before = tree_hash(results)
    rc, lines = run_cli(capsys, ["import", "--config", str(profile), str(bad)])
    assert rc != 0 and len(lines) == 1, lines
    assert says in lines[0] and "nothing was imported" in lines[0] and "Traceback" not in lines[0], lines
    assert tree_hash(results) == before
    assert not (tmp_path / "escape.txt").exists() and not Path("/tmp/escape.txt").exists()


def test_a_good_bundle_places_its_runs_with_provenance_and_the_plan_gives_the_cell_no_inputs(
        capsys, exporter, importer):
    _, good = exporter
    profile, cfg = importer
    rc, lines = run_cli(capsys, ["import", "--config", str(profile), str(good)])
    assert rc == 0 and lines == [], lines
    layout = Layout.of(cfg)
    run = layout.run(RunKey(*CELL, 0))
    prov = json.loads((run / paths.PROVENANCE).read_text())
    assert prov["device"] == "cuda" and prov["git_commit"] == "abc123" and not prov["foreign"]
    assert (run / paths.CHECKPOINT).is_file()
    assert json.loads((run / paths.CONFIG).read_text())["data_cache"] == str(layout.data_cache("digits", 32))
    plan = Plan(cfg, str(profile))
    hashes = {s["seed"]: s["config_hash"] for s in plan.cell(*CELL).specs}
    assert cell_is_imported(layout.cell(*CELL), hashes) and plan.cell_inputs(*CELL) == []
    assert plan.cell_inputs("first", "ae", "digits") == [str(layout.data_cache("digits", 32))]

    # a second import leaves the runs as they are; --replace moves them to superseded/ and places them again
    stamp = (run / paths.METRICS).stat().st_mtime_ns
    assert main(["import", "--config", str(profile), str(good)]) == 0
    assert (run / paths.METRICS).stat().st_mtime_ns == stamp
    assert main(["import", "--config", str(profile), str(good), "--replace"]) == 0
    assert (layout.superseded() / hashes[0] / paths.METRICS).is_file()

    # the table names each cell's source, and its caption says that it mixes sources
    for seed in (0, 1):
        fake_run(cfg, RunKey("first", "ae", "digits", seed), checkpoint=False)
    aggregate.write_table(cfg, "table1")
    csv = (layout.reports / "table1.csv").read_text()
    bundle_id = prov["bundle"]
    assert f",{bundle_id},abc123,cuda," in csv and ",local,abc123,cuda," in csv
    caption = layout.table_caption("table1").read_text()
    assert "Runs from several sources" in caption and f"bundle {bundle_id}" in caption
    assert "source" in (layout.catalogue()).read_text().splitlines()[0]


def test_a_run_of_another_spec_is_not_placed_unless_forced(tmp_path, capsys, exporter):
    _, good = exporter
    dst = tmp_path / "other"
    dst.mkdir()
    profile = make_profile(dst, defaults={"epochs": 1, "train_size": 128, "val_size": 64, "lr": 0.001})
    cfg = load_profile(path=profile)
    rc, lines = run_cli(capsys, ["import", "--config", str(profile), str(good)])
    assert rc == 1 and len(lines) == 2, lines
    assert all("not placed: lr differs: bundle 0.0001, profile 0.001" in line for line in lines), lines
    assert not Layout.of(cfg).results.exists() or not any(Layout.of(cfg).results.rglob(paths.METRICS))
    assert main(["import", "--config", str(profile), str(good), "--force"]) == 0
    run = Layout.of(cfg).run(RunKey(*CELL, 0))
    assert json.loads((run / paths.PROVENANCE).read_text())["foreign"] is True
    assert json.loads((run / paths.CONFIG).read_text())["lr"] == 0.0001


def test_export_never_takes_locks_temporaries_or_superseded_runs(tmp_path, exporter):
    cfg, _ = exporter
    layout = Layout.of(cfg)
    run = layout.run(RunKey(*CELL, 0))
    for junk in (paths.LOCK, f".{paths.CHECKPOINT}.abc.tmp", paths.PREVIOUS_CHECKPOINT, paths.DIVERGED):
        (run / junk).write_text("junk")
    (layout.superseded() / "0123456789abcdef").mkdir(parents=True)
    (layout.superseded() / "0123456789abcdef" / paths.METRICS).write_text("{}")
    out = tmp_path / "b.tar.gz"
    done = export_bundle(cfg, out, progress=False)
    names = [m.name for m, _ in members_of(out)]
    assert done.runs == 2 and done.skipped == 4  # first/ae and second/ae are not built
    assert names[-1] == mf.MANIFEST and all(mf.parse_member(n) for n in names[:-1])
    assert not [n for n in names if Path(n).name in (paths.LOCK, paths.PREVIOUS_CHECKPOINT, paths.DIVERGED)
                or n.endswith(".tmp") or "superseded" in n]
    assert paths.CHECKPOINT not in {Path(n).name for n in names}  # only with --with-checkpoints
    assert export_bundle(cfg, tmp_path / "again.tar.gz", progress=False).bundle_id == done.bundle_id


def test_publish_writes_the_bundle_tables_only_when_the_grids_are_too_large_and_else_leaves_it_out(
        tmp_path, capsys, monkeypatch, exporter):
    cfg, _ = exporter
    layout = Layout.of(cfg)
    monkeypatch.chdir(tmp_path)  # published/ is relative to the checkout
    for seed in (0, 1):
        (layout.run(RunKey(*CELL, seed)) / paths.RECONSTRUCTIONS).write_bytes(torch.randint(0, 255, (1 << 16,),
                                                                            dtype=torch.uint8).numpy().tobytes())
    assert publish.publish_bundle(cfg) == [layout.published_bundle()]
    assert paths.RECONSTRUCTIONS in {Path(m.name).name for m, _ in members_of(layout.published_bundle())}
    monkeypatch.setattr(publish, "MAX_BUNDLE_BYTES", 64 << 10)
    assert publish.publish_bundle(cfg) == [layout.published_bundle()]
    names = {Path(m.name).name for m, _ in members_of(layout.published_bundle())}
    assert paths.RECONSTRUCTIONS not in names and paths.METRICS in names and paths.CHECKPOINT not in names
    monkeypatch.setattr(publish, "MAX_BUNDLE_BYTES", 100)
    capsys.readouterr()
    assert publish.publish_bundle(cfg) == [] and not layout.published_bundle().exists()
    assert "tables only: over the 0 MB" in capsys.readouterr().err
