"""The Snakemake DAG: it plans every run of a profile, rebuilds exactly what a profile edit changes, stops a
bad profile with one line, claims GPUs per job, lists every output in the report, and is lint- and
format-clean. Training jobs are cells: every seed of one (experiment, method, dataset)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gonbench.config import expand_runs, load_profile

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(*args: str, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(SNAKEMAKE + list(args), cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def job_counts(out: subprocess.CompletedProcess) -> dict[str, int]:
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    if "Nothing to be done" in out.stdout + out.stderr:
        return {}
    return {k: int(v) for k, v in re.findall(r"^(\w+)\s+(\d+)$", out.stdout + out.stderr, re.M)}


def dry_run(*args: str, targets: tuple[str, ...] = (), cwd: Path = REPO, env: dict | None = None) -> dict[str, int]:
    return job_counts(snakemake(*targets, "-n", "--quiet", "rules", *args, cwd=cwd, env=env))


def isolated_profile(tmp_path: Path, configfile: str) -> Path:
    """The profile with results and reports in tmp_path, so runs on this machine hide no jobs."""
    cfg = yaml.safe_load((REPO / configfile).read_text())
    cfg.update(results=str(tmp_path / "results"), reports=str(tmp_path / "reports"))
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def cells(cfg: dict, experiment: str | None = None) -> set[tuple[str, str, str]]:
    return {(k.experiment, k.method_label, k.dataset) for k in expand_runs(cfg) if experiment in (None, k.experiment)}


@pytest.mark.parametrize("profile", ["paper", "quick"])
def test_every_run_of_the_profile_is_planned_once_in_a_cell_job(tmp_path, profile):
    cfg = load_profile(profile)
    counts = dry_run("--configfile", str(isolated_profile(tmp_path, f"config/{profile}.yaml")))
    assert counts["train"] == len(cells(cfg))
    if profile == "paper":
        table1 = [k for k in expand_runs(cfg) if k.experiment == "table1"]
        assert len(table1) == 7 * 5 * 3 and len(cells(cfg, "table1")) == 7 * 5


def test_a_fresh_clone_plans_every_run_of_the_main_command(tmp_path):
    """The README's main command on a fresh clone: nothing is up to date, all 84 quick Table 1 runs (28 cells
    of 3 seeds) and their reports are planned. The clone's own code plans it."""
    subprocess.run(["git", "clone", "-q", str(REPO), str(tmp_path / "clone")], check=True)
    clone = tmp_path / "clone"
    counts = dry_run("--configfile", "config/quick.yaml", targets=("table1",), cwd=clone,
                     env={"PYTHONPATH": str(clone / "src")})
    cfg = load_profile(path=clone / "config" / "quick.yaml")
    runs = [k for k in expand_runs(cfg) if k.experiment == "table1"]
    assert len(runs) == 84 and counts["train"] == len(cells(cfg, "table1")) == 28
    assert counts["table_table1"] == 1 and counts["figure_table1_curves"] == 1
    assert not (clone / "reports").exists(), "a clone must not carry the DAG's own reports"


@pytest.mark.parametrize("edit,expected", [
    ({"defaults": {"epochs": "ten"}}, "profile defaults: epochs='ten' has the wrong type; expected int"),
    ({"experiments": {"first": {"set": {"train_size": -5}}}},
     "experiment first, gon on digits: experiments.first.set: train_size=-5 is out of range"),
    ({"experiments": {"first": {"set": {"epoch": 3}}}}, "experiment first, gon on digits: unknown key 'epoch'"),
    ({"experiments": {"first": {"methods": ["gon", "gone"]}}}, "experiment first names unknown method 'gone'"),
    ({"experiments": {"first": {"datasets": ["digitz"]}}}, "experiment first names unknown dataset 'digitz'"),
    ({"experiments": {"second": {"outputs": ["table1"]}}},
     "output table1 is listed by experiments first and second; an output is built from one experiment's runs"),
])
def test_a_bad_value_stops_the_whole_plan_with_one_line(tmp_path, edit, expected):
    cfg = yaml.safe_load((REPO / "tests" / "profiles" / "two_experiments.yaml").read_text())
    for key, value in edit.items():
        if key == "experiments":
            for name, change in value.items():
                cfg["experiments"][name].update(change)
        else:
            cfg[key].update(value)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = snakemake("-n", "--configfile", str(path))
    errors = [line for line in out.stderr.splitlines() if "error" in line.lower()]
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert len(errors) == 1 and str(path) in errors[0] and expected in errors[0], out.stderr


def test_a_profile_edit_reruns_exactly_the_runs_it_changes(tmp_path):
    """Edit `epochs` of one experiment: the dry run plans exactly that experiment's cells and reports, the real
    run retrains them (the old runs moved to superseded/, with a log line) and leaves the other untouched."""
    cfg = yaml.safe_load((REPO / "tests" / "profiles" / "two_experiments.yaml").read_text())
    cfg.update(results=str(tmp_path / "results"), reports=str(tmp_path / "reports"))
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(cfg))
    build = snakemake("--cores", "2", "--configfile", str(path))
    assert build.returncode == 0, (build.stdout + build.stderr)[-3000:]
    results = tmp_path / "results" / cfg["profile"]
    untouched = results / "second" / "ae" / "digits" / "seed0" / "checkpoint.pt"
    stamp = untouched.stat().st_mtime_ns
    assert dry_run("--configfile", str(path)) == {}  # nothing to do after a build

    cfg["experiments"]["first"]["set"] = {"epochs": 2}
    path.write_text(yaml.safe_dump(cfg))
    counts = dry_run("--configfile", str(path))
    assert counts["train"] == len(cells(cfg, "first")) == 2
    assert counts["table_table1"] == 1 and "figure_table1_curves" not in counts

    rebuild = snakemake("--cores", "2", "--configfile", str(path))
    assert rebuild.returncode == 0, (rebuild.stdout + rebuild.stderr)[-3000:]
    for method in cfg["experiments"]["first"]["methods"]:
        run = results / "first" / method / "digits" / "seed0"
        assert json.loads((run / "config.json").read_text())["epochs"] == 2
        assert json.loads((run / "train.json").read_text())["epochs"] == 2
    moved = list((results / "superseded").iterdir())
    assert len(moved) == 2 and all((m / "config.json").exists() for m in moved)
    logs = "".join(p.read_text() for p in (results / "logs").glob("train_first_*.log"))
    assert "moved it to" in logs and "superseded" in logs
    assert untouched.stat().st_mtime_ns == stamp


def test_folders_set_with_snakemake_config_reach_every_rule(tmp_path):
    """`--config results=... reports=...` is not in the profile file the CLI re-reads: the rules pass the
    folders on, so data, runs and tables all land where the DAG expects them (and nowhere else)."""
    profile = {"profile": "foldercheck", "seeds": [0], "threads": 1,
               "defaults": {"epochs": 1, "train_size": 64, "val_size": 64},
               "experiments": {"table1": {"methods": ["gon"], "datasets": ["digits"],
                                          "outputs": ["table1", "table1_curves"]}}}
    (tmp_path / "profile.yaml").write_text(yaml.safe_dump(profile))
    results, reports = tmp_path / "R", tmp_path / "P"
    out = snakemake("table1", "--cores", "2", "--configfile", str(tmp_path / "profile.yaml"),
                    "--config", f"results={results}", f"reports={reports}")
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    run = results / "foldercheck" / "table1" / "gon" / "digits" / "seed0"
    assert (run / "metrics.json").exists() and (reports / "foldercheck" / "table1.md").exists()
    assert json.loads((run / "config.json").read_text())["data_cache"] == str(results / "foldercheck" / "data" / "digits-32px.pt")
    assert not (REPO / "results" / "foldercheck").exists() and not (REPO / "reports" / "foldercheck").exists()

    # the README's single-run command reproduces the DAG's run exactly (the thread count is in the spec)
    single = tmp_path / "single"
    cli = [sys.executable, "-m", "gonbench"]
    subprocess.run(cli + ["train", "--config", str(tmp_path / "profile.yaml"), "--method", "gon", "--dataset",
                          "digits", "--seed", "0", "--results", str(results), "--out", str(single), "--no-progress"],
                   check=True, capture_output=True)
    subprocess.run(cli + ["evaluate", str(single)], check=True, capture_output=True)
    dag, alone = (json.loads((d / "metrics.json").read_text()) for d in (run, single))
    assert {k: dag[k] for k in ("recon_sse", "recon_sse_bn_eval", "psnr")} == \
        {k: alone[k] for k in ("recon_sse", "recon_sse_bn_eval", "psnr")}
    assert not (REPO / "results" / "foldercheck").exists()

    # the Snakemake report of the same build shows the table and the figure with their captions
    report = snakemake("table1", "--configfile", str(tmp_path / "profile.yaml"), "--config", f"results={results}",
                       f"reports={reports}", "--report", str(tmp_path / "report.html"))
    assert report.returncode == 0, report.stderr[-2000:]
    assert "Adding table1.md" in report.stderr and "Adding table1_curves.png" in report.stderr
    html = (tmp_path / "report.html").read_text()
    caption = (reports / "foldercheck" / "table1.caption.md").read_text().split(".")[0]
    assert caption in html


def test_each_experiment_is_a_target(tmp_path):
    counts = dry_run("--configfile", str(isolated_profile(tmp_path, "config/quick.yaml")), targets=("table2",))
    assert counts["table2"] == 1 and "fig3" not in counts
    assert counts["train"] == 2 * 4  # vgon, vae x 4 datasets, each job training its 3 seeds


def test_cheap_rules_stay_local_and_training_asks_for_a_gpu():
    """(The cluster test, `pytest -m cluster`, checks the same on a real SLURM: only GPU jobs are queued.)"""
    text = (REPO / "rules" / "train.smk").read_text() + (REPO / "rules" / "pretrain.smk").read_text()
    assert text.count("gpu=1") == 2
    localrules = re.search(r"workflow\.localrules\((.*?)\)\n", (REPO / "Snakefile").read_text(), re.S).group(1)
    assert all(name in localrules for name in ('"all"', '"prepare_data"', '"publish"', "OUTPUT_RULES"))


def test_device_is_a_schema_key_and_reaches_the_jobs(tmp_path):
    path = isolated_profile(tmp_path, "config/quick.yaml")
    out = snakemake("table1", "-n", "-p", "--configfile", str(path), "--config", "device=cpu")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "--device cpu" in out.stdout
    bad = snakemake("table1", "-n", "--configfile", str(path), "--config", "device=tpu")
    assert bad.returncode != 0 and "device" in bad.stderr


def test_the_report_lists_every_table_and_figure_with_its_caption():
    """Every output is flagged for `snakemake --report`, under its experiment, with the caption it writes."""
    from gonbench.workflow import Plan

    cfg = load_profile("quick")
    plan = Plan(cfg, "config/quick.yaml")
    report_rules = (REPO / "rules" / "report.smk").read_text()
    assert "caption=str(PLAN.caption_of(_name))" in report_rules and "category=_experiment" in report_rules
    table1 = plan.report_files("table1")
    assert {Path(f).name for f in table1} >= {"table1.md", "table1.csv", "table1_curves.png", "fig2b_steps.png"}
    assert all(Path(plan.caption_of(n)).name.endswith(".caption.md") for n in plan.outputs("table1"))


@pytest.mark.parametrize("configfile", ["config/paper.yaml", "config/quick.yaml"])
def test_lint_is_clean(configfile):
    out = snakemake("--lint", "--configfile", configfile)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]


def test_snakefmt_is_clean():
    files = [str(REPO / "Snakefile"), *map(str, sorted((REPO / "rules").glob("*.smk")))]
    out = subprocess.run([sys.executable, "-m", "snakefmt", "--check", *files], capture_output=True, text=True)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]


def test_ci_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    test_command = re.search(r"```bash\n(.*pytest)\n```", readme).group(1)
    assert test_command in (REPO / ".ci" / "run").read_text().splitlines()
