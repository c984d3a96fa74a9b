# Study `prospective_configuration`: predictive coding vs backprop (Song et al., Nat. Neurosci. 2024).
# Model simulations (1-1-2 interference, 1->2 weight space, target alignment vs depth, prospective index) are analysis
# steps that compute directly with the zoo's rules; they take no file inputs. The learning experiments
# (depth, batch size, few data, CNN) are cached training runs over a learning-rate grid per rule (BP = sgd,
# PC); concept drift (relabelling) and continual learning (alternating tasks) are analysis steps on the
# prepared dataset; the behavioural models and DQN are self-contained simulations.


include: "prospective_configuration_runs.smk"


rule pc_interference:
    output:
        "results/prospective_configuration/interference.csv",
    params:
        options=pc_options("interference"),
        code=analysis_digest("interference"),
    log:
        "logs/prospective_configuration/interference.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "learnscope analyze interference --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_weight_space:
    output:
        "results/prospective_configuration/weight_space.csv",
    params:
        options=pc_options("weight_space"),
        code=analysis_digest("weight-space"),
    log:
        "logs/prospective_configuration/weight_space.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "learnscope analyze weight-space --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_target_alignment:
    output:
        "results/prospective_configuration/target_alignment.csv",
    params:
        options=pc_options("target_alignment"),
        code=analysis_digest("target-alignment"),
    log:
        "logs/prospective_configuration/target_alignment.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=20,
    shell:
        "learnscope analyze target-alignment --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_prospective_index:
    output:
        "results/prospective_configuration/prospective_index.csv",
    params:
        options=pc_options("prospective_index"),
        code=analysis_digest("prospective-index"),
    log:
        "logs/prospective_configuration/prospective_index.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "learnscope analyze prospective-index --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_lr_grid:
    input:
        lambda wc: PC_LR_GRIDS[wc.experiment],
    output:
        "results/prospective_configuration/{experiment}.csv",
    wildcard_constraints:
        experiment="depth|batch_size|few_data|cnn",
    params:
        options=lambda wc: json.dumps({"metric": PC[wc.experiment].get("metric", "mean_error")}),
        code=analysis_digest("lr-grid"),
    log:
        "logs/prospective_configuration/{experiment}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope analyze lr-grid --inputs {input} --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_concept_drift:
    input:
        f"data/prepared/{PC['concept_drift']['dataset']}.h5",
    output:
        "results/prospective_configuration/concept_drift.csv",
    params:
        options=pc_options("concept_drift"),
        code=analysis_digest("concept-drift"),
    log:
        "logs/prospective_configuration/concept_drift.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "learnscope analyze concept-drift --inputs {input} --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_continual:
    input:
        f"data/prepared/{PC['continual']['dataset']}.h5",
    output:
        "results/prospective_configuration/continual.csv",
    params:
        options=pc_options("continual"),
        code=analysis_digest("continual"),
    log:
        "logs/prospective_configuration/continual.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "learnscope analyze continual --inputs {input} --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_simulation:
    output:
        "results/prospective_configuration/{simulation}.csv",
    wildcard_constraints:
        simulation="|".join(PC_SIMULATIONS),
    params:
        name=lambda wc: wc.simulation.replace("_", "-"),
        options=lambda wc: pc_options(wc.simulation),
        code=lambda wc: analysis_digest(wc.simulation.replace("_", "-")),
    log:
        "logs/prospective_configuration/{simulation}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "learnscope analyze {params.name} --out {output} --options {params.options:q} > {log} 2>&1"
