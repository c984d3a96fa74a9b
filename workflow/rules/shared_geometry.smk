# Study `shared_geometry` (Lu et al. 2018): per family, N seeds of one architecture recorded on the same
# held-out images; SRM + RSA per family; the XOR copies simulation; five figures.

SG = config["shared_geometry"]


SG_RUNS = {family: run_files(runs) for family, runs in family_runs(config, "shared_geometry").items()}
SG_TABLES = [f"results/shared_geometry/{family}.csv" for family in SG["families"]]
SG_ARRAYS = lambda family: f"results/shared_geometry/{family}.npz"
SG_SIM = ["results/shared_geometry/xor_simulation.csv", "results/shared_geometry/xor_simulation.npz"]
SG_FIG = SG["figures"]

FIGURES["shared_geometry"] = {
    "three_rsms": {
        "inputs": [SG_ARRAYS(SG_FIG["three_rsms"]["family"]), *SG_TABLES],
        "options": {**SG_FIG["three_rsms"], "controls": SG["controls"], "claims": SG["claims"]},
    },
    "main_grid": {
        "inputs": SG_TABLES,
        "options": {"controls": SG["controls"], "claims": SG["claims"]},
    },
    "simulation": {
        "inputs": SG_SIM,
        "options": {"claims": SG["claims"], "n_copies": SG["simulation"]["n_copies"]},
    },
    "class_rsms": {
        "inputs": [SG_ARRAYS(SG_FIG["class_rsms"]["family"])],
        "options": {**SG_FIG["class_rsms"], "controls": SG["controls"]},
    },
    "trajectories": {
        "inputs": [SG_ARRAYS(SG_FIG["trajectories"]["family"])],
        "options": SG_FIG["trajectories"],
    },
}


rule shared_geometry_family:
    input:
        lambda wc: SG_RUNS[wc.family],
    output:
        table="results/shared_geometry/{family}.csv",
        arrays="results/shared_geometry/{family}.npz",
    wildcard_constraints:
        family="|".join(SG["families"]),
    params:
        options=lambda wc: json.dumps({"family": wc.family, "layers": SG["families"][wc.family]["layers"], **SG["analysis"]}, sort_keys=True),
        code=analysis_digest("shared-geometry"),
    log:
        "logs/shared_geometry/{family}.log",
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    shell:
        "learnscope analyze shared-geometry --inputs {input} --out {output.table} --options {params.options:q} > {log} 2>&1"


rule shared_geometry_xor_simulation:
    output:
        table=SG_SIM[0],
        arrays=SG_SIM[1],
    params:
        options=json.dumps(SG["simulation"], sort_keys=True),
        code=analysis_digest("xor-simulation"),
    log:
        "logs/shared_geometry/xor_simulation.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    shell:
        "learnscope analyze xor-simulation --out {output.table} --options {params.options:q} > {log} 2>&1"
