# Datasets: each name under `data` in params.yaml becomes data/prepared/<name>.h5 (tracked by DVC).


rule prepare_dataset:
    output:
        "data/prepared/{dataset}.h5",
    params:
        spec=lambda wc: json.dumps(config["data"][wc.dataset], sort_keys=True),
        code=step_digest("data"),
    log:
        "logs/data/{dataset}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "learnscope prepare --name {wildcards.dataset} --spec {params.spec:q} --out {output} > {log} 2>&1"


rule data_all:
    input:
        lambda wc: expand("data/prepared/{dataset}.h5", dataset=datasets_in_use()),
