# Study `robust_rnn` (Farrell et al., Nat. Mach. Intell. 2022): compression vs expansion of RNN representations
# at the edge of chaos. Runs train through the generic `train` rule (online task, no prepared data); one
# measurement job per run (participation ratio, held-out-cluster separability, Lyapunov spectrum, PCA
# snapshots); the figures compose them.


from learnscope.studies.robust_rnn import plan as robust_rnn_plan
from learnscope.tiers import roots as tier_roots

RR_TIER = tier_roots(config)
RR_RESULTS = RR_TIER.study("robust_rnn")  # results/robust_rnn at the default tier, results/<tier>/robust_rnn at another
RR_LOGS = RR_TIER.study_logs("robust_rnn")

RR = config["robust_rnn"]
run_files(robust_rnn_plan.runs(config))
FIGURES["robust_rnn"] = robust_rnn_plan.figures(config)


rule robust_rnn_measure:
    input:
        RR_TIER.run("{run_id}"),
    output:
        metrics=f"{RR_RESULTS}/runs/{{run_id}}.csv",
        snapshots=f"{RR_RESULTS}/runs/{{run_id}}.snapshots.csv",
    wildcard_constraints:
        run_id=r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(?<!\.snapshots)",
    params:
        options=json.dumps(RR["analysis"], sort_keys=True),
        code=analysis_digest("robust-rnn"),
    log:
        f"{RR_LOGS}/{{run_id}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    shell:
        "learnscope analyze robust-rnn --inputs {input} --out {output.metrics} --options {params.options:q} > {log} 2>&1"
