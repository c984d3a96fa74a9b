# Training: one job per run, one HDF5 record per run. The run's whole identity (every param, the seed,
# the rule) and the digest of the training code are params, so Snakemake's params trigger and its
# between-workflow cache key are exact. Runs on an online task (learnscope.data.online) read no prepared file.
# Seed ensembles (runtime.ensemble) group jobs when they execute
# (learnscope.train.ensemble_jobs): `onstart` writes the manifests and the ensemble size under
# results/ensembles; they are no job's input, param or shell text, so no run's identity, cache entry or
# dry-run plan depends on them. Records and manifests live in the tier's results (learnscope.tiers).

from learnscope.tiers import roots as tier_roots

TRAIN_TIER = tier_roots(config)
ENSEMBLE_DIR = TRAIN_TIER.ensembles


rule train:
    input:
        data=lambda wc: prepared_data(registered_run(wc.run_id)),
    output:
        TRAIN_TIER.run("{run_id}"),
    params:
        run=lambda wc: json.dumps(registered_run(wc.run_id), sort_keys=True),
        data=lambda wc, input: f"--data {input.data}" if input.data else "",
        code=step_digest("train"),
    log:
        f"{TRAIN_TIER.logs}/train/{{run_id}}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=lambda wc, attempt: 60 * attempt,  # minutes; a retry resumes the saved state (learnscope.train.resume)
        gpu=config["runtime"]["gpus"],
    cache: True
    # the manifests' folder in the text, not a param: at the default tier the text (part of the cache key and
    # of the `code` rerun trigger) is what it was before tiers, so no default-tier run retrains for them
    shell:
        f"learnscope train --run {{params.run:q}} {{params.data}} --out {{output}} --threads {{threads}} --ensembles {TRAIN_TIER.ensembles} > {{log}} 2>&1"


rule runs_all:
    input:
        lambda wc: sorted(TRAIN_TIER.run(run) for run in RUNS),


# Imported here, not at parse time: torch stays out of every `snakemake` invocation's start-up.
onstart:
    if ENSEMBLE_MAX > 1:
        from learnscope.train.ensemble_jobs import write_manifests

        write_manifests(RUNS, ENSEMBLE_DIR, ENSEMBLE_MAX)
    else:
        Path(ENSEMBLE_DIR, "max_seeds").unlink(missing_ok=True)  # every job trains alone


onsuccess:
    if Path(ENSEMBLE_DIR, "staged").exists():
        from learnscope.train.ensemble_jobs import clean_staged

        clean_staged(ENSEMBLE_DIR)
