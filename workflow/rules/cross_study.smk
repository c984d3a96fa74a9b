# Study `cross_study`: every analysis on every learning rule, and the atlas of their key numbers.
# results/cross_study/findings.md states its claims in words (README: `make findings`).


include: "cross_study_runs.smk"


rule cross_study_findings:
    input:
        "results/cross_study/claims.json",
    output:
        "results/cross_study/findings.md",
    log:
        "logs/cross_study/findings.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "learnscope claims findings --inputs {input} --out {output} > {log} 2>&1"


rule cross_study_target_alignment:
    output:
        "results/cross_study/target_alignment/{activation}.csv",
    wildcard_constraints:
        activation="[a-z_]+",
    params:
        options=lambda wc: cs_target_alignment_options(wc.activation),
        code=analysis_digest("rule_alignment", "analysis/target_alignment.py", "analysis/toy_nets.py", "rules", "models"),
    log:
        "logs/cross_study/target_alignment/{activation}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    shell:
        "learnscope analyze rule-alignment --out {output} --options {params.options:q} > {log} 2>&1"
