# Study `rule_zoo`: every learning rule of the zoo on one task (learning curves over seeds).

RULE_ZOO_RUNS = run_files(grid_runs(config, "rule_zoo"))

FIGURES["rule_zoo"] = {
    "learning_curves": {
        "inputs": ["results/rule_zoo/learning_curves.csv"],
        "options": config["rule_zoo"]["claims"],
    },
}


rule rule_zoo_learning_curves:
    input:
        RULE_ZOO_RUNS,
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
