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


rule cross_study_observables_pc:
    input:
        CS_PC_RUNS + IR_DATA,
    output:
        CS_PC_OBSERVABLES,
    params:
        options=json.dumps({**IR["observables"], "variants": {"clean": {}}}, sort_keys=True),
        code=analysis_digest("observables", "models", "data"),
    log:
        "logs/cross_study/observables_pc.log",
    threads: 8  # capped at --cores on a local run; cpus per task on a cluster
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "learnscope analyze observables --inputs {input} --out {output} --options {params.options:q} --threads {threads} > {log} 2>&1"


rule cross_study_identify_pc:
    input:
        IR_OBSERVABLES,
        CS_PC_OBSERVABLES,
    output:
        "results/cross_study/identify_pc.csv",
    params:
        options=json.dumps(CS_PC_OPTIONS, sort_keys=True),
        code=analysis_digest("rule_classifiers", "analysis/observables.py"),
    log:
        "logs/cross_study/identify_pc.log",
    threads: 8  # capped at --cores on a local run; cpus per task on a cluster
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "learnscope analyze rule-classifiers --inputs {input} --out {output} --options {params.options:q} --threads {threads} > {log} 2>&1"
