# Study `neural_mechanics` (Kunin et al., ICLR 2021): symmetries, broken conservation laws, exact theory.
# SGD + weight decay runs (model x learning rate x weight decay) and momentum runs record the symmetry
# tracker; analyses tabulate them; the toy fields and the quadratic need no training.


from learnscope.studies.neural_mechanics import plan as neural_mechanics_plan
from learnscope.tiers import roots as tier_roots

NM_TIER = tier_roots(config)
NM_RESULTS = NM_TIER.study("neural_mechanics")  # results/neural_mechanics at the default tier, results/<tier>/neural_mechanics at another
NM_LOGS = NM_TIER.study_logs("neural_mechanics")

NM = config["neural_mechanics"]
NM_RUNS = {table: run_files(runs) for table, runs in neural_mechanics_plan.runs(config).items()}
FIGURES["neural_mechanics"] = neural_mechanics_plan.figures(config)


rule neural_mechanics_symmetry_dynamics:
    input:
        lambda wc: NM_RUNS[wc.table],
    output:
        f"{NM_RESULTS}/{{table}}.csv",
    wildcard_constraints:
        table="exact_dynamics|momentum_dynamics|sweep|momentum_sweep|equilibrium",
    params:
        options=lambda wc: json.dumps({"errors": wc.table in ("sweep", "momentum_sweep"), "control_lambda_offset": NM["claims"]["control_lambda_offset"]}),
        code=analysis_digest("symmetry-dynamics"),
    log:
        f"{NM_LOGS}/{{table}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope analyze symmetry-dynamics --inputs {input} --out {output} --options {params.options:q} > {log} 2>&1"


rule neural_mechanics_neuron_dynamics:
    input:
        NM_RUNS["neuron_dynamics"],
    output:
        f"{NM_RESULTS}/neuron_dynamics.csv",
    params:
        code=analysis_digest("neuron-dynamics"),
    log:
        f"{NM_LOGS}/neuron_dynamics.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope analyze neuron-dynamics --inputs {input} --out {output} > {log} 2>&1"


rule neural_mechanics_toys:
    output:
        f"{NM_RESULTS}/{{part}}.csv",
    wildcard_constraints:
        part="symmetry_fields|toy_trajectories",
    params:
        options=lambda wc: json.dumps({**NM["toys"], "part": wc.part}, sort_keys=True),
        code=analysis_digest("symmetry-fields"),
    log:
        f"{NM_LOGS}/{{part}}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "learnscope analyze symmetry-fields --out {output} --options {params.options:q} > {log} 2>&1"


rule neural_mechanics_modified_equation:
    output:
        f"{NM_RESULTS}/modified_equation.csv",
    params:
        options=json.dumps(NM["quadratic"], sort_keys=True),
        code=analysis_digest("modified-equation"),
    log:
        f"{NM_LOGS}/modified_equation.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "learnscope analyze modified-equation --out {output} --options {params.options:q} > {log} 2>&1"


rule neural_mechanics_lr_drop:
    input:
        NM_TIER.prepared(NM["dataset"]),
    output:
        f"{NM_RESULTS}/lr_drop.csv",
    params:
        options=json.dumps({"run": neural_mechanics_plan.lr_drop_run(config), **NM["equilibrium"]["lr_drop"]}, sort_keys=True),
        code=analysis_digest("lr-drop"),
    log:
        f"{NM_LOGS}/lr_drop.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "learnscope analyze lr-drop --inputs {input} --out {output} --options {params.options:q} > {log} 2>&1"
