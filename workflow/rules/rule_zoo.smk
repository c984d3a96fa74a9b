# Study `rule_zoo`: every learning rule of the zoo on one task (learning curves over seeds), and the same
# grid on shuffled training labels (control curves: the negative control of its learning claims).

from learnscope.studies.rule_zoo import plan as rule_zoo_plan
from learnscope.tiers import roots as tier_roots

RZ_TIER = tier_roots(config)

FIGURES["rule_zoo"] = rule_zoo_plan.figures(config)

RULE_ZOO_CURVES = {
    "learning_curves": run_files(rule_zoo_plan.runs(config)),
    "control_curves": run_files(rule_zoo_plan.control_runs(config)),
}


rule rule_zoo_curves:
    input:
        lambda wc: RULE_ZOO_CURVES[wc.curves],
    output:
        f"{RZ_TIER.study('rule_zoo')}/{{curves}}.csv",
    wildcard_constraints:
        curves="|".join(RULE_ZOO_CURVES),
    params:
        code=analysis_digest("learning-curves"),
    log:
        f"{RZ_TIER.study_logs('rule_zoo')}/{{curves}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope analyze learning-curves --inputs {input} --out {output} > {log} 2>&1"
