"""Publishing a profile's reports: the DAG writes reports/<profile>/ (never tracked, so a fresh clone always
regenerates them); ``gonbench publish`` copies the tables and figures into the tracked published/<profile>/
and rewrites the README's block of current tables from them, saying which profile they came from. Beside
them goes the profile's runs as a bundle without checkpoints (``published/<profile>/bundle.tar.gz``), from
which a reader regenerates every table without training; a bundle over ``MAX_BUNDLE_BYTES`` is left out,
with a line giving its size."""
from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from . import paths
from .bundles import export_bundle
from .errors import RunStateError
from .io import write_text
from .outputs import TABLES, output_kind
from .paths import Layout
from .rundir import note

MAX_BUNDLE_BYTES = 5 << 20  # a tracked file: larger bundles are shared some other way

BEGIN, END = "<!-- tables:begin -->", "<!-- tables:end -->"


def publish(cfg: dict, readme: Path = Path(paths.README)) -> list[Path]:
    """Copy every table (md, tex, csv, caption) and figure (png, csv, caption) the profile lists, and the
    catalogue of runs (runs.csv), replacing what was published before; returns the copies. The README's
    table block is replaced when the README has the markers."""
    layout = Layout.of(cfg)
    names = list(dict.fromkeys(n for exp in cfg["experiments"].values() for n in exp.get("outputs", [])))
    sources: list[Path] = [layout.catalogue()]
    for name in names:
        if output_kind(name) == "table":
            sources += [*layout.table_files(name), layout.table_caption(name)]
        else:
            png, _, csv = layout.figure_files(name)
            sources += [png, csv, layout.caption(name)]
    missing = [s for s in sources if not s.is_file()]
    if missing:
        raise RunStateError(f"{len(missing)} report files are missing (first: {missing[0]}); build them first: "
                            f"snakemake --cores all --configfile <profile>")
    copies = []
    if layout.published().is_dir():  # what the profile no longer produces must not linger as if current
        wanted = {layout.published() / src.relative_to(layout.reports) for src in sources}
        wanted.add(layout.published_bundle())
        for old in layout.published().rglob("*"):
            if old.is_file() and old not in wanted and old.name != ".published":
                old.unlink()
    for src in sources:
        dst = layout.published() / src.relative_to(layout.reports)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        copies.append(dst)
    copies += publish_bundle(cfg)
    tables = [n for n in names if output_kind(n) == "table"]
    if readme.is_file() and BEGIN in readme.read_text():
        write_text(readme, replace_block(readme.read_text(), readme_tables(layout, tables)))
        copies.append(readme)
    return copies


def publish_bundle(cfg: dict) -> list[Path]:
    """Write the profile's runs, without checkpoints, to published/<profile>/bundle.tar.gz when the bundle
    stays under MAX_BUNDLE_BYTES; if it does not, the same runs without image grids and tensor files (what
    every table needs); if neither does, say their sizes and leave it out (removing an older one)."""
    layout = Layout.of(cfg)
    target = layout.published_bundle()
    sizes = []
    with tempfile.TemporaryDirectory(prefix="gonbench-publish-") as tmp:
        for tables_only in (False, True):
            done = export_bundle(cfg, Path(tmp) / f"{tables_only}.tar.gz", tables_only=tables_only, progress=False)
            sizes.append(f"{done.size / 2**20:.1f} MB{' tables only' if tables_only else ''}")
            if done.size <= MAX_BUNDLE_BYTES:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(done.path, target)
                note(f"bundle {done.bundle_id} of profile {cfg['profile']}: {done.runs} runs"
                     f"{' (tables only)' if tables_only else ''}, {done.size / 2**20:.2f} MB -> {target}")
                return [target]
    target.unlink(missing_ok=True)
    note(f"the bundle of profile {cfg['profile']} is {', '.join(sizes)}: over the {MAX_BUNDLE_BYTES / 2**20:.0f} MB "
         f"a tracked file may take, so it is left out of {layout.published()} (share it with gonbench export)")
    return []


def readme_tables(layout: Layout, tables: list[str]) -> str:
    """Each table's Markdown (its title as a heading) as the README shows it."""
    parts = [f"Published from `reports/{layout.profile}/` by `snakemake publish --configfile config/"
             f"{layout.profile}.yaml` (copies in `published/{layout.profile}/`); each caption names the "
             f"profile, epochs, seeds and subsets of its runs."]
    for name in tables:
        text = (layout.published() / f"{name}.md").read_text().strip()
        parts.append(re.sub(r"^# ", "### ", text, count=1) if text.startswith("# ") else
                     f"### {TABLES.get(name).title}\n\n{text}")
    return "\n\n".join(parts)


def replace_block(text: str, block: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return f"{text[:start]}\n{block}\n{text[end:]}"
