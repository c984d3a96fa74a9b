# Training: one job per run, one HDF5 record per run. The run's whole identity (every param, the seed,
# the rule) and the digest of the training code are params, so Snakemake's params trigger and its
# between-workflow cache key are exact.


rule train:
    input:
        data=lambda wc: f"data/prepared/{RUNS[wc.run_id]['dataset']['name']}.h5",
    output:
        "results/runs/{run_id}.h5",
    params:
        run=lambda wc: json.dumps(RUNS[wc.run_id], sort_keys=True),
        code=step_digest("train"),
    log:
        "logs/train/{run_id}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
        gpu=config["runtime"]["gpus"],
    cache: True
    shell:
        "learnscope train --run {params.run:q} --data {input.data} --out {output} --threads {threads} > {log} 2>&1"


rule runs_all:
    input:
        lambda wc: sorted(f"results/runs/{run}.h5" for run in RUNS),
