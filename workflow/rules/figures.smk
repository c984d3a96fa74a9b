# Figures and claims, the same for every study: each registered figure is rendered by `figure`, its
# claims merged into results/<study>/claims.json (and metrics/<study>.json, the same claims as DVC metrics),
# indexed in figures/<study>/all, and all studies tabulated in results/claims.md and figures/all.


rule figure:
    input:
        lambda wc: FIGURES[wc.study][wc.figure]["inputs"],
    output:
        png=report("figures/{study}/{figure}.png", caption="../report/figure.rst", category="{study}", labels=figure_report_labels),
        pdf="figures/{study}/{figure}.pdf",
        csv="figures/{study}/{figure}.csv",
        claims="results/{study}/claims/{figure}.json",
        caption="results/{study}/claims/{figure}.rst",
    params:
        options=lambda wc: json.dumps(FIGURES[wc.study][wc.figure]["options"], sort_keys=True),
        code=lambda wc: figure_digest(wc.study, wc.figure),
    log:
        "logs/figures/{study}/{figure}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope figure {wildcards.study} {wildcards.figure} --inputs {input} --out {output.png} "
        "--claims-out {output.claims} --caption-out {output.caption} --options {params.options:q} > {log} 2>&1"


rule study_claims:
    input:
        lambda wc: expand("results/{{study}}/claims/{figure}.json", figure=FIGURES[wc.study]),
    output:
        claims="results/{study}/claims.json",
        metrics="metrics/{study}.json",
    log:
        "logs/figures/{study}/claims.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "learnscope claims merge --study {wildcards.study} --inputs {input} --out {output.claims} --metrics-out {output.metrics} > {log} 2>&1"


rule study_index:
    input:
        claims="results/{study}/claims.json",
        figures=lambda wc: study_figures(wc.study),
        extras=lambda wc: STUDY_EXTRAS.get(wc.study, []),
    output:
        "figures/{study}/all",
    log:
        "logs/figures/{study}/index.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "learnscope claims index --study {wildcards.study} --claims {input.claims} --files {input.figures} --out {output} > {log} 2>&1"


rule figures_all:
    input:
        claims=expand("results/{study}/claims.json", study=FIGURES),
        indexes=expand("figures/{study}/all", study=FIGURES),
    output:
        index="figures/all",
        table="results/claims.md",
    log:
        "logs/figures/all.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "learnscope claims report --inputs {input.claims} --out {output.table} --index {output.index} > {log} 2>&1"
