# Study `shared_geometry` (Lu et al. 2018): per family, N seeds of one architecture recorded on the same
# held-out images; SRM + RSA per family, and per family trained on shuffled labels (the control); the XOR
# copies simulation; five figures.

from learnscope.studies.shared_geometry import plan as shared_geometry_plan
from learnscope.tiers import roots as tier_roots

SG_TIER = tier_roots(config)
SG_RESULTS = SG_TIER.study("shared_geometry")  # results/shared_geometry at the default tier, results/<tier>/shared_geometry at another
SG_LOGS = SG_TIER.study_logs("shared_geometry")

SG = config["shared_geometry"]
SG_RUNS = {family: run_files(runs) for family, runs in shared_geometry_plan.runs(config).items()}
SG_CONTROL_RUNS = {family: run_files(runs) for family, runs in shared_geometry_plan.control_runs(config).items()}
FIGURES["shared_geometry"] = shared_geometry_plan.figures(config)


rule shared_geometry_family:
    input:
        lambda wc: (SG_CONTROL_RUNS if wc.trained == "control/" else SG_RUNS)[wc.family],
    output:
        table=f"{SG_RESULTS}/{{trained}}{{family}}.csv",
        arrays=f"{SG_RESULTS}/{{trained}}{{family}}.npz",
    wildcard_constraints:
        trained="(control/)?",
        family="|".join(SG["families"]),
    params:
        options=lambda wc: json.dumps({"family": wc.family, "layers": SG["families"][wc.family]["layers"], **SG["analysis"]}, sort_keys=True),
        code=analysis_digest("shared-geometry"),
    log:
        f"{SG_LOGS}/{{trained}}{{family}}.log",
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    shell:
        "learnscope analyze shared-geometry --inputs {input} --out {output.table} --options {params.options:q} > {log} 2>&1"


rule shared_geometry_xor_simulation:
    output:
        table=shared_geometry_plan.simulation(config)[0],
        arrays=shared_geometry_plan.simulation(config)[1],
    params:
        options=json.dumps(SG["simulation"], sort_keys=True),
        code=analysis_digest("xor-simulation"),
    log:
        f"{SG_LOGS}/xor_simulation.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    shell:
        "learnscope analyze xor-simulation --out {output.table} --options {params.options:q} > {log} 2>&1"
