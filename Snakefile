# gonbench: prepare_data -> pretrain -> train (one job per cell: every seed of an experiment x method x dataset,
# trained and evaluated) -> tables / figures -> publish.
# Default profile: the papers' grids (config/paper.yaml). Offline CPU profile, one experiment:
#   snakemake table1 --cores all --configfile config/quick.yaml
from snakemake.utils import min_version

min_version("8.20")


# The paper profile is the default; `--configfile config/quick.yaml` replaces it (never merged into it).
# (`--config key=value` alone does not name a profile, so the default still loads under it.)
if "profile" not in config:

    configfile: "config/paper.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/pretrain.smk"
include: "rules/train.smk"
include: "rules/report.smk"


# Cheap jobs run where Snakemake runs, never on a cluster's GPU partition (the `localrules:` directive as a
# call: the table/figure rules and the experiment targets are named from the profile).
workflow.localrules(
    "all", "tables", "prepare_data", "publish", *OUTPUT_RULES, *config["experiments"]
)


rule all:
    default_target: True
    input:
        PLAN.report_files(),


# Every table of the profile, no figure: after `gonbench import` of a bundle, this regenerates them all
# without training (figures that draw from a model need the bundle's checkpoints).
rule tables:
    input:
        PLAN.table_files(),


# One target per experiment, named after it: `snakemake table1 ...` builds that experiment's reports only.
for _experiment in config["experiments"]:

    rule:
        name:
            _experiment
        input:
            PLAN.report_files(_experiment),
