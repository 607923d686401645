# Shared settings: the profile is validated and every run's spec resolved before any rule is defined
# (gonbench.workflow.Plan); a bad value stops the whole plan with one line naming the file, experiment and key.
import re
import shlex
import sys

from snakemake.settings.types import DeploymentMethod

from gonbench.errors import GonbenchError
from gonbench.paths import DEFAULT_DATA_ROOT
from gonbench.workflow import Plan

if len(workflow.configfiles) != 1:
    raise ValueError(
        f"give exactly one profile with --configfile, got {workflow.configfiles}"
    )
CONFIG_FILE = str(workflow.configfiles[0])  # the CLI re-reads the same profile
try:
    PLAN = Plan(config, CONFIG_FILE)
except GonbenchError as exc:
    sys.exit(f"gonbench: error: {exc}")
print(PLAN.dataset_note(), file=sys.stderr)
LAYOUT = PLAN.layout
PROFILE = config["profile"]
DEVICE = config.get("device", "auto")
# every gonbench command sees the folders as this run does (`--config results=...` etc. are not in the file)
PROFILE_ARGS = " ".join(
    f"{flag} {shlex.quote(str(value))}"
    for flag, value in (
        ("--config", CONFIG_FILE),
        ("--results", LAYOUT.results_root),
        ("--reports", LAYOUT.reports_root),
        ("--data-root", config.get("data_root", DEFAULT_DATA_ROOT)),
    )
)
# The interpreter running Snakemake has gonbench installed; with --sdm conda each rule's own env has it.
GONBENCH = (
    "python -m gonbench"
    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
    else f"{sys.executable} -m gonbench"
)
ENV = "../environment.yml"


def _alternatives(names):
    return "|".join(sorted(map(re.escape, names))) or "NONE"


wildcard_constraints:
    experiment=_alternatives(config["experiments"]),
    method=_alternatives(PLAN.labels()),
    dataset=_alternatives(PLAN.datasets()),
