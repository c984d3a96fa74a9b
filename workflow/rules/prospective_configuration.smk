# Study `prospective_configuration`: predictive coding vs backprop (Song et al., Nat. Neurosci. 2024).
# Model simulations (1-1-2 interference, target alignment vs depth, prospective index) are analysis
# steps that compute directly with the zoo's rules; they take no file inputs.

PC = config["prospective_configuration"]
PC_TOY_CODE = ("analysis/toy_nets.py", "rules", "models")


def pc_options(section):
    """An experiment's options for its analysis step: everything but its claim thresholds."""
    return json.dumps({k: v for k, v in PC[section].items() if k != "claims"}, sort_keys=True)


FIGURES["prospective_configuration"] = {
    name: {"inputs": [f"results/prospective_configuration/{name}.csv"], "options": {**PC[name]}}
    for name in ("interference", "target_alignment", "prospective_index")
}


rule pc_interference:
    output:
        "results/prospective_configuration/interference.csv",
    params:
        options=pc_options("interference"),
        code=analysis_digest("interference", *PC_TOY_CODE),
    log:
        "logs/prospective_configuration/interference.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "learnscope analyze interference --out {output} --options {params.options:q} > {log} 2>&1"


rule pc_target_alignment:
    output:
        "results/prospective_configuration/target_alignment.csv",
    params:
        options=pc_options("target_alignment"),
        code=analysis_digest("target_alignment", *PC_TOY_CODE),
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
        code=analysis_digest("prospective_index", *PC_TOY_CODE),
    log:
        "logs/prospective_configuration/prospective_index.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "learnscope analyze prospective-index --out {output} --options {params.options:q} > {log} 2>&1"
