# Shared helpers: validate the config, expand the run grid, name the files of a run.
import os
import shlex
import sys

from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

from gonbench.config import artifact_inputs, experiment_variants, expand_runs, resolve_spec, validate_profile
from gonbench.data import list_datasets
from gonbench.methods import list_methods
from gonbench.pretrain import PRETRAINED, pretrain_config
from gonbench import outputs

validate(config, schema=os.path.join(os.path.dirname(workflow.main_snakefile), "src/gonbench/schemas/config.schema.yaml"))
validate_profile(config)  # registry names: unknown methods fail here with the valid choices

if len(workflow.configfiles) != 1:
    raise ValueError(f"give exactly one profile with --configfile, got {workflow.configfiles}")
CONFIG_FILE = str(workflow.configfiles[0])  # the CLI re-reads the same profile
PROFILE = config["profile"]
RESULTS = config.get("results", "results")
REPORTS = config.get("reports", "reports")
# ... with the folders as this run sees them (`--config results=...` etc. are not in the file)
PROFILE_ARGS = " ".join(
    f"{flag} {shlex.quote(str(value))}"
    for flag, value in (("--config", CONFIG_FILE), ("--results", RESULTS), ("--reports", REPORTS),
                        ("--data-root", config.get("data_root", "data")))
)
RUN = f"{RESULTS}/{PROFILE}/{{experiment}}/{{method}}/{{dataset}}/seed{{seed}}"
RUNS = expand_runs(config)
# The interpreter running Snakemake has gonbench installed; with --sdm conda each rule's own env has it.
GONBENCH = (
    "python -m gonbench"
    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
    else f"{sys.executable} -m gonbench"
)
ENV = "../environment.yml"
TABLE_NAMES = outputs.table_names()
FIGURE_NAMES = outputs.figure_names()
PRETRAINED_NAMES = PRETRAINED.names()


def _alternatives(names):
    return "|".join(sorted(map(re.escape, names))) or "NONE"


wildcard_constraints:
    experiment=_alternatives(config["experiments"]),
    method=_alternatives({l for e in config["experiments"].values() for l in experiment_variants(e)}),
    dataset=_alternatives(list_datasets()),
    seed=r"\d+",


def run_dirs(experiment=None):
    return [r.path(RESULTS, PROFILE) for r in RUNS if experiment in (None, r.experiment)]


def run_inputs(w):
    """What a run reads: its prepared dataset (at the spec's resolution) and any pretrained network
    named by a ``*_path`` value of its spec (built by the rule that produces that file)."""
    spec = resolve_spec(config, experiment=w.experiment, method=w.method, dataset=w.dataset, seed=int(w.seed))
    return [f"{RESULTS}/{PROFILE}/data/{w.dataset}-{spec['image_size']}px.pt", *artifact_inputs(spec)]


def pretrain_data(w):
    """The prepared dataset a pretrained network learns from (its dataset at its resolution)."""
    pc = pretrain_config(config, w.network)
    return f"{RESULTS}/{PROFILE}/data/{pc.dataset}-{pc.image_size}px.pt"


def final_outputs():
    return outputs.report_files(config)


def experiment_outputs(experiment):
    return outputs.report_files(config, experiment)


def experiment_of_output(name):
    return outputs.experiment_of_output(config, name)
