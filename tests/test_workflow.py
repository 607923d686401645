"""The Snakemake DAG: the paper profile lists its whole grid, the quick profile its own, lint is clean."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def dry_run(*args: str, targets: tuple[str, ...] = ()) -> dict[str, int]:
    out = subprocess.run(SNAKEMAKE + [*targets, "-n", "--quiet", "rules", *args], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", out.stdout + out.stderr, re.M))
    return {k: int(v) for k, v in counts.items()}


def test_paper_profile_lists_every_table1_run():
    from gonbench.config import expand_runs, load_profile

    counts = dry_run_isolated("config/paper.yaml")
    runs = len(expand_runs(load_profile("paper")))
    assert runs >= 7 * 5 * 3
    assert counts["train"] == runs and counts["evaluate"] == runs


def dry_run_isolated(configfile: str) -> dict[str, int]:
    """Dry-run against an empty results folder, so existing runs on this machine do not hide jobs."""
    import tempfile

    import yaml

    cfg = yaml.safe_load((REPO / configfile).read_text())
    with tempfile.TemporaryDirectory() as tmp:
        cfg["results"] = str(Path(tmp) / "results")
        cfg["reports"] = str(Path(tmp) / "reports")
        path = Path(tmp) / "profile.yaml"
        path.write_text(yaml.safe_dump(cfg))
        return dry_run("--configfile", str(path))


def test_quick_profile_dag():
    from gonbench.config import expand_runs, load_profile

    counts = dry_run_isolated("config/quick.yaml")
    assert counts["train"] == len(expand_runs(load_profile("quick")))


@pytest.mark.parametrize("configfile", ["config/paper.yaml", "config/quick.yaml"])
def test_lint_is_clean(configfile):
    out = subprocess.run(SNAKEMAKE + ["--lint", "--configfile", configfile], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]


def test_ci_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    test_command = re.search(r"```bash\n(.*pytest)\n```", readme).group(1)
    assert test_command in (REPO / ".ci" / "run").read_text().splitlines()


def test_each_experiment_is_a_target(tmp_path):
    counts = dry_run("--configfile", "config/quick.yaml", "--config", f"results={tmp_path}/r",
                     f"reports={tmp_path}/p", targets=("table2",))
    assert counts["table2"] == 1 and "fig3" not in counts
    assert counts["train"] == counts["evaluate"] == 2 * 4 * 3  # vgon, vae x 4 datasets x 3 seeds


def test_folders_set_with_snakemake_config_reach_every_rule(tmp_path):
    """`--config results=... reports=...` is not in the profile file the CLI re-reads: the rules pass the
    folders on, so data, runs and tables all land where the DAG expects them (and nowhere else)."""
    import json

    import yaml

    profile = {"profile": "foldercheck", "seeds": [0], "threads": 1,
               "defaults": {"epochs": 1, "train_size": 64, "val_size": 64},
               "experiments": {"table1": {"methods": ["gon"], "datasets": ["digits"], "outputs": ["table1"]}}}
    (tmp_path / "profile.yaml").write_text(yaml.safe_dump(profile))
    results, reports = tmp_path / "R", tmp_path / "P"
    out = subprocess.run(SNAKEMAKE + ["table1", "--cores", "2", "--configfile", str(tmp_path / "profile.yaml"),
                                      "--config", f"results={results}", f"reports={reports}"],
                         cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    run = results / "foldercheck" / "table1" / "gon" / "digits" / "seed0"
    assert (run / "metrics.json").exists() and (reports / "foldercheck" / "table1.md").exists()
    assert json.loads((run / "config.json").read_text())["data_cache"] == str(results / "foldercheck" / "data" / "digits-32px.pt")
    assert not (REPO / "results" / "foldercheck").exists() and not (REPO / "reports" / "foldercheck").exists()
