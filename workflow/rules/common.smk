# Shared Python of the workflow: config validation, the run registry, the figure registry, code digests.
# Rule files stay declarative and call these. Every path is in the configuration's tier
# (learnscope.tiers.roots: results/..., figures/... for the default tier, results/<tier>/... otherwise);
# each rule file takes its own roots from the config, none reads another file's.

import json
from pathlib import Path

try:
    from learnscope.claims import read_claims, report_labels
    from learnscope.config import refuse_templates, validate_params
    from learnscope.data.online import is_online
    from learnscope.errors import ConfigError
    from learnscope.output_cache import ensure_output_cache, install_verified_cache
    from learnscope.provenance import step_digest
    from learnscope.steps import analysis_digest, figure_digest
    from learnscope.record.identity import run_id
    from learnscope.tiers import roots as tier_roots
except ImportError as e:
    raise WorkflowError(
        f"learnscope is not importable by the Python running Snakemake ({e}). "
        "Run `make env` (or `pip install -e .`) and use .venv/bin/snakemake."
    )


try:
    # Too late to stop Snakemake's YTE rendering of an override (done while loading it), not too late to
    # stop every job: the pre-run guard is `learnscope snakemake` (docs/reliability.md).
    refuse_templates(workflow.overwrite_configfiles)
    validate_params(config, Path(workflow.basedir) / "workflow/schemas/params.schema.yaml", source="params.yaml (+ --configfile overrides)")
except ConfigError as e:
    raise WorkflowError(str(e))


# Between-workflow output cache (rules with `cache: True`, active with --cache): a user-wide default,
# entries checked against their content digests, read-only, restored as copies (docs/reliability.md).
ensure_output_cache()
install_verified_cache()


wildcard_constraints:
    run_id=r"[A-Za-z0-9_.-]+",
    dataset=r"[A-Za-z0-9_]+",
    study=r"[a-z0-9_]+",
    figure=r"[a-z0-9_]+",


# Seed ensembles (runtime.ensemble): scheduling only; see workflow/rules/train.smk.
_ENSEMBLE = config["runtime"].get("ensemble", {"enabled": False, "max_seeds": 1})
ENSEMBLE_MAX = int(_ENSEMBLE["max_seeds"]) if _ENSEMBLE["enabled"] else 1
COMMON_TIER = tier_roots(config)


# run id -> resolved run config (the complete identity of a training run; see learnscope.config.make_run)
RUNS = {}


def run_files(runs):
    """Register runs and return their record paths, results/runs/<run_id>.h5 (in the tier's results)."""
    paths = []
    for run in runs:
        RUNS[run_id(run)] = run
        paths.append(COMMON_TIER.run(run_id(run)))
    return paths


def registered_run(run_id):
    """The run config of results/runs/<run_id>.h5; a record of another config is a clear error."""
    if run_id not in RUNS:
        raise WorkflowError(
            f"{COMMON_TIER.run(run_id)} is not a run of params.yaml with the override files given; "
            "pass the --configfile options it was built with (e.g. --configfile config/smoke.yaml)"
        )
    return RUNS[run_id]


# study -> figure -> {"inputs": [...], "options": {...}}; filled by each study's rule file.
FIGURES = {}


# study -> further files its index waits for (outputs of the study's own rules beside its figures).
STUDY_EXTRAS = {}


def study_figures(study):
    """The figure rules' outputs of one study, for its index."""
    return [f"{COMMON_TIER.study_figures(study)}/{fig}.{ext}" for fig in FIGURES[study] for ext in ("png", "pdf", "csv")]


def figure_report_labels(wildcards, output):
    """The report's columns for a figure (read from its claims file when the report is made)."""
    return report_labels(wildcards.study, wildcards.figure, read_claims(output.claims))


def datasets_in_use():
    """Prepared datasets the registered runs read (online tasks have no file)."""
    return sorted({run["dataset"]["name"] for run in RUNS.values() if not is_online(run["dataset"])})


def prepared_data(run):
    """The prepared dataset file a run reads ([] for a run on an online task). Not ancient(): with it,
    Snakemake re-prepares a changed dataset and then builds nothing downstream (Snakemake issue #4166).
    A file's modification time alone (a `dvc pull` or checkout writes it anew) retrains nothing because
    the workflow profiles leave `mtime` out of the rerun triggers (docs/reliability.md)."""
    return [] if is_online(run["dataset"]) else [COMMON_TIER.prepared(run["dataset"]["name"])]
