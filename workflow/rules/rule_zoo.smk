# Study `rule_zoo`: every learning rule of the zoo on one task (learning curves over seeds).

from learnscope.studies.rule_zoo import plan as rule_zoo_plan

FIGURES["rule_zoo"] = rule_zoo_plan.figures(config)


rule rule_zoo_learning_curves:
    input:
        run_files(rule_zoo_plan.runs(config)),
    output:
        "results/rule_zoo/learning_curves.csv",
    params:
        code=analysis_digest("learning-curves"),
    log:
        "logs/rule_zoo/learning_curves.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope analyze learning-curves --inputs {input} --out {output} > {log} 2>&1"
