# One rule per table and figure, each rebuilt when a cell of the experiment that lists it is, and shown in
# `snakemake --report` under its experiment with its caption (written by the output itself).
OUTPUT_RULES = []

for _name in PLAN.outputs():
    _kind = "table" if _name in PLAN.tables() else "figure"
    _files = [str(f) for f in PLAN.report_files_of(_name)]
    _experiment = PLAN.experiment_of(_name)

    rule:
        name:
            f"{_kind}_{_name}"
        input:
            PLAN.output_inputs(_name),
        output:
            [
                (
                    report(
                        f,
                        caption=str(PLAN.caption_of(_name)),
                        category=_experiment,
                        subcategory=f"{_kind}s",
                    )
                    if f.endswith((".md", ".png"))
                    else f
                )
                for f in _files
            ],
            PLAN.caption_of(_name),
        log:
            str(LAYOUT.report_logs() / f"{_kind}_{_name}.log"),
        conda:
            ENV
        params:
            gonbench=GONBENCH,
            profile=PROFILE_ARGS,
            command="aggregate --table" if _kind == "table" else "figures --figure",
            name=_name,
        shell:
            "{params.gonbench} {params.command} {params.name} {params.profile} > {log} 2>&1"

    OUTPUT_RULES.append(f"{_kind}_{_name}")


rule publish:
    input:
        PLAN.report_files(),
    output:
        touch(str(LAYOUT.published() / ".published")),
    log:
        str(LAYOUT.report_logs() / "publish.log"),
    conda:
        ENV
    params:
        gonbench=GONBENCH,
        profile=PROFILE_ARGS,
    shell:
        "{params.gonbench} publish {params.profile} > {log} 2>&1"
