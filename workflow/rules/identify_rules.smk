# Study `identify_rules` (Nayebi et al., NeurIPS 2020): trained runs -> the observables dataset
# (results/identify_rules/observables.h5, the paper's dataset.pkl, a DVC output) -> classifier
# experiments, one table each -> figures. Observables and classifiers use the threads Snakemake grants them
# (up to 8; results do not depend on the count).


from learnscope.studies.identify_rules import plan as identify_rules_plan
from learnscope.tiers import roots as tier_roots

IR_TIER = tier_roots(config)
IR_RESULTS = IR_TIER.study("identify_rules")  # results/identify_rules at the default tier, results/<tier>/identify_rules at another
IR_LOGS = IR_TIER.study_logs("identify_rules")

IR = config["identify_rules"]
IR_RUNS = run_files(identify_rules_plan.runs(config))
run_files(identify_rules_plan.selection_runs(config))  # IA's feedback_lr selection runs (held-out seeds; figure feedback)
FIGURES["identify_rules"] = identify_rules_plan.figures(config)


rule identify_rules_observables:
    input:
        IR_RUNS + identify_rules_plan.data_files(config),
    output:
        identify_rules_plan.observables(config),
    params:
        options=json.dumps(IR["observables"], sort_keys=True),
        code=analysis_digest("observables"),
    log:
        f"{IR_LOGS}/observables.log",
    threads: 8  # capped at --cores on a local run; cpus per task on a cluster
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "learnscope analyze observables --inputs {input} --out {output} --options {params.options:q} --threads {threads} > {log} 2>&1"


rule identify_rules_classify:
    input:
        identify_rules_plan.observables(config),
    output:
        f"{IR_RESULTS}/{{experiment}}.csv",
    wildcard_constraints:
        experiment="|".join(identify_rules_plan.EXPERIMENTS),
    params:
        options=lambda wc: json.dumps({**IR["classify"], "experiment": wc.experiment}, sort_keys=True),
        code=analysis_digest("rule-classifiers"),
    log:
        f"{IR_LOGS}/{{experiment}}.log",
    threads: 8  # capped at --cores on a local run; cpus per task on a cluster
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "learnscope analyze rule-classifiers --inputs {input} --out {output} --options {params.options:q} --threads {threads} > {log} 2>&1"
