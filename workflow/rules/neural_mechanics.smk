# Study `neural_mechanics` (Kunin et al., ICLR 2021): symmetries, broken conservation laws, exact theory.
# SGD + weight decay runs (model x learning rate x weight decay) and momentum runs record the symmetry
# tracker; analyses tabulate them; the toy fields and the quadratic need no training.


include: "neural_mechanics_runs.smk"


rule neural_mechanics_symmetry_dynamics:
    input:
        lambda wc: {"exact_dynamics": NM_EXACT_RUNS, "momentum_dynamics": NM_MOMENTUM_RUNS, "sweep": NM_SGD_RUNS, "momentum_sweep": NM_MOMENTUM_SWEEP_RUNS}[wc.table],
    output:
        "results/neural_mechanics/{table}.csv",
    wildcard_constraints:
        table="exact_dynamics|momentum_dynamics|sweep|momentum_sweep",
    params:
        options=lambda wc: json.dumps({"errors": wc.table in ("sweep", "momentum_sweep")}),
        code=analysis_digest("symmetry-dynamics"),
    log:
        "logs/neural_mechanics/{table}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope analyze symmetry-dynamics --inputs {input} --out {output} --options {params.options:q} > {log} 2>&1"


rule neural_mechanics_neuron_dynamics:
    input:
        NM_NEURON_RUN,
    output:
        "results/neural_mechanics/neuron_dynamics.csv",
    params:
        code=analysis_digest("neuron-dynamics"),
    log:
        "logs/neural_mechanics/neuron_dynamics.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "learnscope analyze neuron-dynamics --inputs {input} --out {output} > {log} 2>&1"


rule neural_mechanics_toys:
    output:
        "results/neural_mechanics/{part}.csv",
    wildcard_constraints:
        part="symmetry_fields|toy_trajectories",
    params:
        options=lambda wc: json.dumps({**NM["toys"], "part": wc.part}, sort_keys=True),
        code=analysis_digest("symmetry-fields"),
    log:
        "logs/neural_mechanics/{part}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "learnscope analyze symmetry-fields --out {output} --options {params.options:q} > {log} 2>&1"


rule neural_mechanics_modified_equation:
    output:
        "results/neural_mechanics/modified_equation.csv",
    params:
        options=json.dumps(NM["quadratic"], sort_keys=True),
        code=analysis_digest("modified-equation"),
    log:
        "logs/neural_mechanics/modified_equation.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    shell:
        "learnscope analyze modified-equation --out {output} --options {params.options:q} > {log} 2>&1"
