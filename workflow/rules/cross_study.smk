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
        code=analysis_digest("conservation"),
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


rule cross_study_geometry:
    input:
        RULE_ZOO_RUNS,
    output:
        table="results/cross_study/geometry.csv",
        pairs="results/cross_study/geometry.pairs.csv",
    params:
        options=json.dumps(CS["geometry"], sort_keys=True),
        code=analysis_digest("rule-geometry"),
    log:
        "logs/cross_study/geometry.log",
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    shell:
        "learnscope analyze rule-geometry --inputs {input} --out {output.table} --options {params.options:q} > {log} 2>&1"


rule cross_study_layer_dimensionality:
    input:
        RULE_ZOO_RUNS,
    output:
        "results/cross_study/dimensionality.csv",
    params:
        options=json.dumps({"layers": CS["dimensionality"]["layers"]}, sort_keys=True),
        code=analysis_digest("layer-dimensionality"),
    log:
        "logs/cross_study/dimensionality.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope analyze layer-dimensionality --inputs {input} --out {output} --options {params.options:q} > {log} 2>&1"
rule cross_study_observables_pc:
    input:
        CS_PC_RUNS + IR_DATA,
    output:
        CS_PC_OBSERVABLES,
    params:
        options=json.dumps({**IR["observables"], "variants": {"clean": {}}}, sort_keys=True),
        code=analysis_digest("observables"),
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
        code=analysis_digest("rule-classifiers"),
    log:
        "logs/cross_study/identify_pc.log",
    threads: 8  # capped at --cores on a local run; cpus per task on a cluster
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "learnscope analyze rule-classifiers --inputs {input} --out {output} --options {params.options:q} --threads {threads} > {log} 2>&1"


rule cross_study_target_alignment:
    output:
        "results/cross_study/target_alignment/{activation}.csv",
    wildcard_constraints:
        activation="[a-z_]+",
    params:
        options=lambda wc: cs_target_alignment_options(wc.activation),
        code=analysis_digest("rule-alignment"),
    log:
        "logs/cross_study/target_alignment/{activation}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    shell:
        "learnscope analyze rule-alignment --out {output} --options {params.options:q} > {log} 2>&1"
