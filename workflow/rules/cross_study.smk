# Study `cross_study`: every analysis on every learning rule, and the atlas of their key numbers.
# results/cross_study/findings.md states its claims in words (README: `make findings`).


include: "cross_study_runs.smk"


rule cross_study_conservation:
    input:
        CS_CONSERVATION_RUNS,
    output:
        "results/cross_study/conservation.csv",
    params:
        options=json.dumps({"families": CS_CONSERVATION_FAMILIES}, sort_keys=True),
        code=analysis_digest("conservation", "analysis/symmetry_dynamics.py"),
    log:
        "logs/cross_study/conservation.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope analyze conservation --inputs {input} --out {output} --options {params.options:q} > {log} 2>&1"


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
