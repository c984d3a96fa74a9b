# Study `prospective_configuration`: predictive coding vs backprop (Song et al., Nat. Neurosci. 2024).
# Model simulations (1-1-2 interference, 1->2 weight space, target alignment vs depth, prospective index) are analysis
# steps that compute directly with the zoo's rules; they take no file inputs. The learning experiments
# (depth, batch size, few data, CNN) are cached training runs over a learning-rate grid per rule (BP = sgd,
# PC); concept drift (relabelling) and continual learning (alternating tasks) are analysis steps on the
# prepared dataset; the behavioural models and DQN are self-contained simulations.


from learnscope.studies.prospective_configuration import plan as pc_plan
from learnscope.tiers import roots as tier_roots

PC_TIER = tier_roots(config)
PC_RESULTS = PC_TIER.study("prospective_configuration")  # results/prospective_configuration at the default tier, results/<tier>/prospective_configuration at another
PC_LOGS = PC_TIER.study_logs("prospective_configuration")

PC = config["prospective_configuration"]
PC_LR_GRIDS = {name: run_files(runs) for name, runs in pc_plan.runs(config).items()}
FIGURES["prospective_configuration"] = pc_plan.figures(config)


rule pc_interference:
    output:
        f"{PC_RESULTS}/interference.csv",
    params:
        options=pc_plan.options(config, "interference"),
        code=analysis_digest("interference"),
    log:
        f"{PC_LOGS}/interference.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "learnscope analyze interference --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_weight_space:
    output:
        f"{PC_RESULTS}/weight_space.csv",
    params:
        options=pc_plan.options(config, "weight_space"),
        code=analysis_digest("weight-space"),
    log:
        f"{PC_LOGS}/weight_space.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "learnscope analyze weight-space --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_target_alignment:
    output:
        f"{PC_RESULTS}/target_alignment.csv",
    params:
        options=pc_plan.options(config, "target_alignment"),
        code=analysis_digest("target-alignment"),
    log:
        f"{PC_LOGS}/target_alignment.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=20,
    shell:
        "learnscope analyze target-alignment --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_prospective_index:
    output:
        f"{PC_RESULTS}/prospective_index.csv",
    params:
        options=pc_plan.options(config, "prospective_index"),
        code=analysis_digest("prospective-index"),
    log:
        f"{PC_LOGS}/prospective_index.log",
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
        f"{PC_RESULTS}/{{experiment}}.csv",
    wildcard_constraints:
        experiment="|".join(pc_plan.LR_GRIDS),
    params:
        options=lambda wc: json.dumps({"metric": PC[wc.experiment].get("metric", "mean_error")}),
        code=analysis_digest("lr-grid"),
    log:
        f"{PC_LOGS}/{{experiment}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope analyze lr-grid --inputs {input} --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_concept_drift:
    input:
        PC_TIER.prepared(PC["concept_drift"]["dataset"]),
    output:
        f"{PC_RESULTS}/concept_drift.csv",
    params:
        options=pc_plan.options(config, "concept_drift"),
        code=analysis_digest("concept-drift"),
    log:
        f"{PC_LOGS}/concept_drift.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "learnscope analyze concept-drift --inputs {input} --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_continual:
    input:
        PC_TIER.prepared(PC["continual"]["dataset"]),
    output:
        f"{PC_RESULTS}/continual.csv",
    params:
        options=pc_plan.options(config, "continual"),
        code=analysis_digest("continual"),
    log:
        f"{PC_LOGS}/continual.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "learnscope analyze continual --inputs {input} --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_simulation:
    output:
        f"{PC_RESULTS}/{{simulation}}.csv",
    wildcard_constraints:
        simulation="|".join(pc_plan.SIMULATIONS),
    params:
        name=lambda wc: wc.simulation.replace("_", "-"),
        options=lambda wc: pc_plan.options(config, wc.simulation),
        code=lambda wc: analysis_digest(wc.simulation.replace("_", "-")),
    log:
        f"{PC_LOGS}/{{simulation}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "learnscope analyze {params.name} --out {output} --options {params.options:q} > {log} 2>&1"
