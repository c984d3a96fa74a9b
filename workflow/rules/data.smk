# Datasets: each name under `data` in params.yaml becomes data/prepared/<name>.h5 (tracked by DVC) at the
# default tier, data/<tier>/prepared/<name>.h5 at another (learnscope.tiers: a dataset of the same name with
# another tier's parameters never overwrites this one).

from learnscope.tiers import roots as tier_roots

DATA_TIER = tier_roots(config)


rule prepare_dataset:
    output:
        DATA_TIER.prepared("{dataset}"),
    params:
        spec=lambda wc: json.dumps(config["data"][wc.dataset], sort_keys=True),
        code=step_digest("data"),
    log:
        f"{DATA_TIER.logs}/data/{{dataset}}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "learnscope prepare --name {wildcards.dataset} --spec {params.spec:q} --out {output} > {log} 2>&1"


rule data_all:
    input:
        lambda wc: [DATA_TIER.prepared(d) for d in datasets_in_use()],
