# Study `robust_rnn` (Farrell et al., Nat. Mach. Intell. 2022): compression vs expansion of RNN representations
# at the edge of chaos. Runs train through the generic `train` rule (online task, no prepared data); one
# measurement job per run (participation ratio, held-out-cluster separability, Lyapunov spectrum, PCA
# snapshots); the figures compose them.


include: "robust_rnn_runs.smk"


rule robust_rnn_measure:
    input:
        "results/runs/{run_id}.h5",
    output:
        metrics="results/robust_rnn/runs/{run_id}.csv",
        snapshots="results/robust_rnn/runs/{run_id}.snapshots.csv",
    wildcard_constraints:
        run_id=r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(?<!\.snapshots)",
    params:
        options=json.dumps(RR["analysis"], sort_keys=True),
        code=analysis_digest("robust-rnn"),
    log:
        "logs/robust_rnn/{run_id}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    shell:
        "learnscope analyze robust-rnn --inputs {input} --out {output.metrics} --options {params.options:q} > {log} 2>&1"
