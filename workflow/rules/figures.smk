# Figures and claims, the same for every study: each registered figure is rendered by `figure`, its
# claims merged into results/<study>/claims.json (and metrics/<study>.json, the same claims as DVC metrics),
# indexed in figures/<study>/all, and all studies tabulated in results/claims.md and figures/all; every path in
# the configuration's tier (learnscope.tiers: results/<tier>/..., figures/<tier>/... beyond the default tier).

import sys

from learnscope.tiers import command_line_targets, roots as tier_roots, target_problem

FIG_TIER = tier_roots(config)


rule figure:
    input:
        lambda wc: FIGURES[wc.study][wc.figure]["inputs"],
    output:
        png=report(f"{FIG_TIER.figures}/{{study}}/{{figure}}.png", caption="../report/figure.rst", category="{study}", labels=figure_report_labels),
        pdf=f"{FIG_TIER.figures}/{{study}}/{{figure}}.pdf",
        csv=f"{FIG_TIER.figures}/{{study}}/{{figure}}.csv",
        claims=f"{FIG_TIER.results}/{{study}}/claims/{{figure}}.json",
        caption=f"{FIG_TIER.results}/{{study}}/claims/{{figure}}.rst",
    params:
        options=lambda wc: json.dumps(FIGURES[wc.study][wc.figure]["options"], sort_keys=True),
        code=lambda wc: figure_digest(wc.study, wc.figure),
    log:
        f"{FIG_TIER.logs}/figures/{{study}}/{{figure}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope figure {wildcards.study} {wildcards.figure} --inputs {input} --out {output.png} "
        "--claims-out {output.claims} --caption-out {output.caption} --options {params.options:q} > {log} 2>&1"


rule study_claims:
    input:
        lambda wc: [f"{FIG_TIER.study(wc.study)}/claims/{figure}.json" for figure in FIGURES[wc.study]],
    output:
        claims=f"{FIG_TIER.results}/{{study}}/claims.json",
        metrics=f"{FIG_TIER.metrics}/{{study}}.json",
    log:
        f"{FIG_TIER.logs}/figures/{{study}}/claims.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "learnscope claims merge --study {wildcards.study} --inputs {input} --out {output.claims} --metrics-out {output.metrics} > {log} 2>&1"


rule study_index:
    input:
        claims=f"{FIG_TIER.results}/{{study}}/claims.json",
        figures=lambda wc: study_figures(wc.study),
        extras=lambda wc: STUDY_EXTRAS.get(wc.study, []),
    output:
        f"{FIG_TIER.figures}/{{study}}/all",
    log:
        f"{FIG_TIER.logs}/figures/{{study}}/index.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "learnscope claims index --study {wildcards.study} --claims {input.claims} --files {input.figures} --out {output} > {log} 2>&1"


rule figures_all:
    input:
        claims=[f"{FIG_TIER.study(study)}/claims.json" for study in FIGURES],
        indexes=[f"{FIG_TIER.study_figures(study)}/all" for study in FIGURES],
    output:
        index=FIG_TIER.index,
        table=FIG_TIER.claims_table,
    log:
        f"{FIG_TIER.logs}/figures/all.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "learnscope claims report --inputs {input.claims} --out {output.table} --index {output.index} > {log} 2>&1"


# A target of another tier (figures/all with an override file that sets another tier, or figures/<tier>/all
# without that tier's override file) is named as such before Snakemake reports a missing rule or a bare KeyError.
# Snakemake parses this file before it knows its targets, so they are read off its command line (words under
# the output folders; learnscope.tiers.command_line_targets).
if _tier_problem := target_problem(command_line_targets(sys.argv), FIG_TIER, FIGURES):
    raise WorkflowError(_tier_problem)
