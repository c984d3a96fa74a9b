# learnscope: datasets -> training runs (one HDF5 record each) -> analyses -> figures with claims.
#
#   snakemake --cores all figures/all            every study's figures and results/claims.md
#   snakemake --cores all figures/<study>/all    one study
#   snakemake --cores all figures/smoke/all --configfile config/smoke.yaml
#                                               another scale tier: its own tree, figures/<tier>/all its index
#                                               (learnscope.tiers; config/README.md)
#
# Training jobs are cached between workflows (rule `train`, `cache: True`): the workflow profile in
# workflow/profiles/default turns `--cache` on and common.smk points SNAKEMAKE_OUTPUT_CACHE at
# ~/.cache/learnscope/snakemake-output unless it is already set (learnscope.output_cache).

from snakemake.utils import min_version

from learnscope.tiers import roots as tier_roots

min_version("9.0")


configfile: "params.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/rule_zoo.smk"
include: "workflow/rules/neural_mechanics.smk"
include: "workflow/rules/shared_geometry.smk"
include: "workflow/rules/prospective_configuration.smk"
include: "workflow/rules/robust_rnn.smk"
include: "workflow/rules/identify_rules.smk"
include: "workflow/rules/cross_study.smk"
include: "workflow/rules/figures.smk"


rule all:  # the configuration's tier's index: figures/all at the default tier, figures/<tier>/all at another
    default_target: True
    input:
        tier_roots(config).index,
