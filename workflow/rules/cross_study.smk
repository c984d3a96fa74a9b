# Study `cross_study`: every analysis on every learning rule, and the atlas of their key numbers.
# results/cross_study/findings.md states its claims in words (README: `make findings`).


from learnscope.studies.cross_study import plan as cross_study_plan
from learnscope.studies.identify_rules import plan as identify_rules_plan
from learnscope.studies.rule_zoo import plan as rule_zoo_plan
from learnscope.tiers import roots as tier_roots

CS_TIER = tier_roots(config)
CS_RESULTS = CS_TIER.study("cross_study")  # results/cross_study at the default tier, results/<tier>/cross_study at another
CS_LOGS = CS_TIER.study_logs("cross_study")

CS = config["cross_study"]
CS_ZOO_RUNS = run_files(rule_zoo_plan.runs(config))
CS_PC_RUNS = run_files(cross_study_plan.pc_runs(config))
CS_RNN_RUNS = run_files(r for runs in cross_study_plan.rnn_runs(config).values() for r in runs)
FIGURES["cross_study"] = cross_study_plan.figures(config)
STUDY_EXTRAS["cross_study"] = cross_study_plan.extras(config)


rule cross_study_conservation:
    input:
        run_files(cross_study_plan.conservation_runs(config)),
    output:
        f"{CS_RESULTS}/conservation.csv",
    params:
        options=json.dumps({"families": cross_study_plan.conservation_families(config)}, sort_keys=True),
        code=analysis_digest("conservation"),
    log:
        f"{CS_LOGS}/conservation.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope analyze conservation --inputs {input} --out {output} --options {params.options:q} > {log} 2>&1"


rule cross_study_findings:
    input:
        f"{CS_RESULTS}/claims.json",
    output:
        f"{CS_RESULTS}/findings.md",
    log:
        f"{CS_LOGS}/findings.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    shell:
        "learnscope claims findings --inputs {input} --out {output} > {log} 2>&1"


rule cross_study_geometry:
    input:
        CS_ZOO_RUNS,
    output:
        table=f"{CS_RESULTS}/geometry.csv",
        pairs=f"{CS_RESULTS}/geometry.pairs.csv",
    params:
        options=json.dumps(CS["geometry"], sort_keys=True),
        code=analysis_digest("rule-geometry"),
    log:
        f"{CS_LOGS}/geometry.log",
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    shell:
        "learnscope analyze rule-geometry --inputs {input} --out {output.table} --options {params.options:q} > {log} 2>&1"


rule cross_study_layer_dimensionality:
    input:
        CS_ZOO_RUNS,
    output:
        f"{CS_RESULTS}/dimensionality.csv",
    params:
        options=json.dumps({"layers": CS["dimensionality"]["layers"]}, sort_keys=True),
        code=analysis_digest("layer-dimensionality"),
    log:
        f"{CS_LOGS}/dimensionality.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope analyze layer-dimensionality --inputs {input} --out {output} --options {params.options:q} > {log} 2>&1"
rule cross_study_observables_pc:
    input:
        CS_PC_RUNS + identify_rules_plan.data_files(config),
    output:
        cross_study_plan.pc_observables(config),
    params:
        options=json.dumps({**config["identify_rules"]["observables"], "variants": {"clean": {}}}, sort_keys=True),
        code=analysis_digest("observables"),
    log:
        f"{CS_LOGS}/observables_pc.log",
    threads: 8  # capped at --cores on a local run; cpus per task on a cluster
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "learnscope analyze observables --inputs {input} --out {output} --options {params.options:q} --threads {threads} > {log} 2>&1"


rule cross_study_identify_pc:
    input:
        identify_rules_plan.observables(config),
        cross_study_plan.pc_observables(config),
    output:
        f"{CS_RESULTS}/identify_pc.csv",
    params:
        options=json.dumps(cross_study_plan.pc_classify_options(config), sort_keys=True),
        code=analysis_digest("rule-classifiers"),
    log:
        f"{CS_LOGS}/identify_pc.log",
    threads: 8  # capped at --cores on a local run; cpus per task on a cluster
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "learnscope analyze rule-classifiers --inputs {input} --out {output} --options {params.options:q} --threads {threads} > {log} 2>&1"


rule cross_study_target_alignment:
    output:
        f"{CS_RESULTS}/target_alignment/{{activation}}.csv",
    wildcard_constraints:
        activation="[a-z_]+",
    params:
        options=lambda wc: cross_study_plan.target_alignment_options(config, wc.activation),
        code=analysis_digest("rule-alignment"),
    log:
        f"{CS_LOGS}/target_alignment/{{activation}}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    shell:
        "learnscope analyze rule-alignment --out {output} --options {params.options:q} > {log} 2>&1"
