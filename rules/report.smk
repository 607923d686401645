rule aggregate:
    wildcard_constraints:
        name=_alternatives(TABLE_NAMES),
    input:
        lambda w: [f"{d}/metrics.json" for d in run_dirs(experiment_of_output(w.name))],
    output:
        multiext(f"{REPORTS}/{PROFILE}/{{name}}", ".md", ".tex", ".csv"),
    log:
        f"{REPORTS}/{PROFILE}/logs/aggregate_{{name}}.log",
    params:
        gonbench=GONBENCH,
        profile=PROFILE_ARGS,
    conda:
        ENV
    shell:
        "{params.gonbench} aggregate {params.profile} --table {wildcards.name} > {log} 2>&1"


rule figure:
    wildcard_constraints:
        name=_alternatives(FIGURE_NAMES),
    input:
        lambda w: [f"{d}/metrics.json" for d in run_dirs(experiment_of_output(w.name))],
    output:
        multiext(f"{REPORTS}/{PROFILE}/figures/{{name}}", ".png", ".pdf", ".csv"),
    log:
        f"{REPORTS}/{PROFILE}/logs/figure_{{name}}.log",
    params:
        gonbench=GONBENCH,
        profile=PROFILE_ARGS,
    conda:
        ENV
    shell:
        "{params.gonbench} figures {params.profile} --figure {wildcards.name} > {log} 2>&1"
