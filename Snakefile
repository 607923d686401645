# gonbench: prepare_data -> train -> evaluate -> aggregate (tables) / figures.
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
include: "rules/train.smk"
include: "rules/pretrain.smk"
include: "rules/report.smk"


rule all:
    input:
        final_outputs(),
    default_target: True


# One target per experiment, named after it: `snakemake table1 ...` builds that experiment's reports only.
for _experiment in config["experiments"]:

    rule:
        name:
            _experiment
        input:
            experiment_outputs(_experiment),
