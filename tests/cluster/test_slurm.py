"""The workflow on a real SLURM cluster: profiles/slurm submits the GPU jobs through sbatch, accounting
(slurmdbd) sees them finish, and the report appears. Needs Debian's SLURM packages: run `.ci/cluster`."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from .localslurm import ACCOUNT, PARTITION, LocalSlurm, missing_binaries

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
PROFILE = "clustertest"
SEEDS = [0, 1]
EXPERIMENT = {"methods": ["gon"], "datasets": ["digits"], "outputs": ["table1"]}
# What a site changes in profiles/slurm (partition, account), plus memory any CI machine has, and a first
# status check after 5 s instead of 40 s, so the test waits for the jobs, not for the poller.
SITE = {"slurm_partition": PARTITION, "slurm_account": ACCOUNT, "mem_mb": 1000}
TEST_SETTINGS = {"slurm-init-seconds-before-status-checks": 5}
SACCT_FIELDS = ("JobID", "JobName", "Comment", "Partition", "Account", "State", "ExitCode", "AllocTRES")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlurm]:
    """The private cluster for this module; its daemons stop even when a test fails."""
    missing = missing_binaries()
    if missing:
        pytest.fail(f"SLURM/munge/MariaDB binaries missing ({', '.join(missing)}): run .ci/cluster, "
                    "which installs them", pytrace=False)
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.fail("snakemake-executor-plugin-slurm missing: run .ci/cluster (uv sync --extra slurm)",
                    pytrace=False)
    slurm = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        slurm.start()
        yield slurm
    finally:
        slurm.stop()


@dataclass
class Job:
    """One job as Snakemake's log describes it."""
    rule: str
    local: bool
    outputs: list[str]
    gpu: bool
    slurm_id: str | None = None


def snakemake_jobs(log: str) -> dict[str, Job]:
    """Snakemake jobs by id, read from the rule blocks and submission lines of Snakemake's log."""
    jobs: dict[str, Job] = {}
    for block in re.finditer(r"^\[.*?\]\n(local)?rule (\w+):\n((?:    .*\n)+)", log, re.M):
        fields = dict(re.findall(r"^    (\w+): (.*)$", block.group(3), re.M))
        jobs[fields["jobid"]] = Job(rule=block.group(2), local=bool(block.group(1)),
                                    outputs=fields.get("output", "").split(", "),
                                    gpu=bool(re.search(r"\bgpu=[1-9]", fields.get("resources", ""))))
    for jobid, slurm_id in re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", log):
        jobs[jobid].slurm_id = slurm_id
    return jobs


@pytest.fixture(scope="module")
def workflow_run(cluster: LocalSlurm, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One build of a two-run experiment through profiles/slurm; later tests read what it left."""
    tmp = tmp_path_factory.mktemp("workflow")
    config = {"profile": PROFILE, "results": str(tmp / "results"), "reports": str(tmp / "reports"),
              "seeds": SEEDS, "threads": 1, "defaults": {"epochs": 1, "train_size": 64, "val_size": 64},
              "experiments": {"table1": EXPERIMENT}}
    configfile = tmp / "profile.yaml"
    configfile.write_text(yaml.safe_dump(config))
    # profiles/slurm as a site would edit it: same file, site values filled in.
    site_profile = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    site_profile["default-resources"] = {**site_profile.get("default-resources", {}), **SITE}
    site_profile.update(TEST_SETTINGS)
    site_profile["slurm-logdir"] = str(tmp / "slurm_logs")  # not the checkout's .snakemake/
    (tmp / "slurm_profile").mkdir()
    (tmp / "slurm_profile/config.yaml").write_text(yaml.safe_dump(site_profile))
    command = [sys.executable, "-m", "snakemake", "table1", "--configfile", str(configfile),
               "--profile", str(tmp / "slurm_profile"), "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(tmp / "work")]
    run = subprocess.run(command, cwd=REPO, env=cluster.env(), capture_output=True, text=True, timeout=1200)
    log = run.stdout + run.stderr
    (tmp / "snakemake.log").write_text(log)
    assert run.returncode == 0, f"snakemake failed; log tail:\n{log[-4000:]}\n{cluster.tail('slurmctld')}"
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    out = cluster.client("sacct", "-X", "-P", "-n", "--name", run_id, "-o", ",".join(SACCT_FIELDS))
    sacct = [dict(zip(SACCT_FIELDS, line.split("|"))) for line in out.stdout.splitlines()]
    table = cluster.client("sacct", "-X", "--name", run_id, "-o",
                           "JobID,JobName%36,Comment%45,Partition%12,Account,State,ExitCode,AllocTRES%45").stdout
    print(f"\n$ sacct -X --name {run_id}\n{table}")
    return {"jobs": snakemake_jobs(log), "sacct": sacct, "results": tmp / "results" / PROFILE,
            "reports": tmp / "reports" / PROFILE}


def test_gpu_jobs_go_through_sbatch_and_finish(workflow_run: dict):
    """What a site relies on: every queued job is in accounting and finished, in the profile's partition
    and account, with a GPU exactly when its rule asks for `gpu`; and the table is built."""
    jobs, sacct = workflow_run["jobs"], workflow_run["sacct"]
    submitted = {j.slurm_id: j for j in jobs.values() if j.slurm_id}
    assert {row["JobID"] for row in sacct} == set(submitted), "sacct and Snakemake disagree on the jobs"
    assert all(row["State"] == "COMPLETED" and row["ExitCode"] == "0:0" for row in sacct), sacct
    assert {(row["Partition"], row["Account"]) for row in sacct} == {(PARTITION, ACCOUNT)}, sacct
    # Snakemake's `gpu` resource became --gpus and SLURM handed each such job a GPU, and only those.
    for row in sacct:
        job = submitted[row["JobID"]]
        assert ("gres/gpu=1" in row["AllocTRES"]) == job.gpu, (job, row)
        assert row["Comment"].startswith(f"rule_{job.rule}"), row
    assert any(j.gpu for j in submitted.values()), f"no job asked for a GPU: {list(submitted.values())}"
    assert (workflow_run["reports"] / "table1.md").is_file()


def test_only_gpu_and_per_run_jobs_are_queued(workflow_run: dict):
    """Data preparation, tables and figures take seconds and read or write shared folders: queueing them
    costs more than running them on the submit host. Only GPU jobs and a run's own steps (its folder
    under results/<profile>/<experiment>/) belong in SLURM."""
    run_folders = f"{workflow_run['results'] / 'table1'}/"
    queued = [j for j in workflow_run["jobs"].values()
              if j.slurm_id and not j.gpu and not all(o.startswith(run_folders) for o in j.outputs)]
    rules = sorted({j.rule for j in queued})
    assert not queued, f"rules {rules} went to SLURM; declare them `localrules` so they run on the submit host"
