# gonbench: prepare_data -> train -> evaluate -> aggregate (tables) / figures.
# Default profile: the papers' grids (config/paper.yaml). Offline CPU profile:
#   snakemake --cores all --configfile config/quick.yaml
from snakemake.utils import min_version

min_version("8.20")


# The paper profile is the default; `--configfile config/quick.yaml` replaces it (never merged into it).
if not config:

    configfile: "config/paper.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/report.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
