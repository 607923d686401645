"""The round trip of a bundle between two clones: one builds and publishes a tiny two-experiment profile
(``snakemake publish`` writes its bundle), a fresh clone imports it, plans no training job, and regenerates a
table equal to the exporting clone's apart from the provenance columns; a bundle that lacks one seed of a
cell plans exactly that cell."""
from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pandas as pd

from gonbench.cli import main
from gonbench.publish import MAX_BUNDLE_BYTES

from .test_workflow import REPO, dry_run, job_counts, snakemake

PROFILE = "tests/profiles/bundles.yaml"
PROVENANCE = ["source", "source_commit", "source_device"]


def clone(tmp_path: Path, name: str) -> tuple[Path, dict]:
    """A fresh clone of the committed tree, and the environment that runs its own code."""
    target = tmp_path / name
    subprocess.run(["git", "clone", "-q", str(REPO), str(target)], check=True)
    return target, {"PYTHONPATH": str(target / "src")}


def gonbench(monkeypatch, where: Path, *argv: str) -> int:
    """A gonbench command run in ``where`` (a clone of this same tree: its code is the code under test)."""
    monkeypatch.chdir(where)
    return main(list(argv))


def without_provenance(csv: Path) -> str:
    frame = pd.read_csv(csv)
    assert set(PROVENANCE) <= set(frame.columns)
    out = io.StringIO()
    frame.drop(columns=PROVENANCE).to_csv(out, index=False)
    return out.getvalue()


def test_a_bundle_regenerates_the_tables_in_a_fresh_clone_without_training(tmp_path, monkeypatch):
    source, env = clone(tmp_path, "source")
    built = snakemake("publish", "--cores", "2", "--configfile", PROFILE, cwd=source, env=env)
    assert built.returncode == 0, (built.stdout + built.stderr)[-3000:]
    bundle = source / "published" / "bundletest" / "bundle.tar.gz"
    assert bundle.is_file() and bundle.stat().st_size < MAX_BUNDLE_BYTES

    fresh, env = clone(tmp_path, "fresh")
    assert gonbench(monkeypatch, fresh, "import", "--config", PROFILE, str(bundle)) == 0
    counts = dry_run("--configfile", PROFILE, cwd=fresh, env=env)
    assert "train" not in counts and "prepare_data" not in counts and "pretrain" not in counts, counts
    assert counts["table_table1"] == 1 and counts["figure_table1_curves"] == 1
    table = snakemake("tables", "--cores", "1", "--configfile", PROFILE, cwd=fresh, env=env)  # every table
    assert table.returncode == 0, (table.stdout + table.stderr)[-3000:]
    ours, theirs = fresh / "reports" / "bundletest", source / "reports" / "bundletest"
    assert without_provenance(ours / "table1.csv") == without_provenance(theirs / "table1.csv")
    for name in ("table1.md", "table1.tex", "table1.caption.md"):
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name
    assert set(pd.read_csv(ours / "table1.csv")["source"]) != {"local"}
    assert set(pd.read_csv(theirs / "table1.csv")["source"]) == {"local"}
    assert "source" in pd.read_csv(ours / "runs.csv").columns

    # a bundle without seed 1 of second/ae/digits: exactly that cell is planned (with the data it trains on)
    first, second = tmp_path / "first.tar.gz", tmp_path / "second.tar.gz"
    assert gonbench(monkeypatch, source, "export", "--config", PROFILE, "--experiment", "first",
                    "--out", str(first), "--no-progress") == 0
    assert gonbench(monkeypatch, source, "export", "--config", PROFILE, "--experiment", "second", "--seed", "0",
                    "--out", str(second), "--no-progress") == 0
    partial, env = clone(tmp_path, "partial")
    for part in (first, second):
        assert gonbench(monkeypatch, partial, "import", "--config", PROFILE, str(part)) == 0
    plan = snakemake("-n", "--configfile", PROFILE, cwd=partial, env=env)
    counts = job_counts(plan)
    assert counts["train"] == 1 and counts["prepare_data"] == 1, counts
    trained = re.findall(r"^rule train:\n(?:[ \t].*\n)*?[ \t]+output: (\S+)", plan.stdout, re.M)
    assert trained == ["results/bundletest/second/ae/digits/cell.json"], plan.stdout[-3000:]
