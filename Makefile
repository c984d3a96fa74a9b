# learnscope — the two commands (see README.md):
#   make figures   create the environment if missing, then build every figure (snakemake figures/all; with
#                  ARGS="--configfile config/X.yaml" that tier's index, figures/<tier>/all: config/README.md)
#   make test      create the environment if missing, then run the whole test suite
#   make replicate    every study again on disjoint seeds (config/replicate.yaml, the replicate tier), then
#                     results/replication.md: each claim on the default seeds and on replication, side by side
#                     (after make figures; docs/claims.md)
#   make paper-shape  the paper tier's configuration on tiny real-format datasets, end to end in a temporary copy
#   make gpu-check    CPU-vs-GPU records per model kind and a paper-tier job's steps/s (skips without CUDA)
#   (both: docs/paper_tier.md)
#   make pull      fetch a published build (dvc pull) and mark it up to date for Snakemake (docs/dvc.md)
#   make publish   (maintainers) build params.yaml's tier through DVC, push every output to the DVC remote and
#                  commit dvc.lock and metrics/, so a fresh clone gets every figure with `dvc pull` (docs/dvc.md)
# Options: make figures CORES=8 ARGS="--configfile config/smoke.yaml"

PYTHON ?= python3
VENV   ?= .venv
CORES  ?= all
ARGS   ?=
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.learnscope-installed
RUN    := PATH="$(abspath $(BIN)):$$PATH" DVC_NO_ANALYTICS=1

.PHONY: env figures test repro pull publish findings replicate clean-results paper-shape gpu-check

env: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("learnscope needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

figures: $(STAMP)
	$(RUN) $(BIN)/learnscope snakemake --cores $(CORES) $(ARGS)   # the default target: the tier's index (figures/all by default)

test: $(STAMP)
	$(RUN) $(BIN)/python -m pytest tests $(ARGS)

repro: $(STAMP)
	$(RUN) $(BIN)/dvc repro $(ARGS)

# pull: `dvc pull` sets every file's time to when it arrived, in no order, so Snakemake would see inputs
# newer than outputs. Once `dvc status` confirms the pulled outputs are the lock's for this checkout's code
# and params, `snakemake --touch` restores their order (it runs nothing); then `snakemake -n` plans nothing.
pull: $(STAMP)
	$(RUN) $(BIN)/dvc pull
	@$(RUN) $(BIN)/dvc status dvc.yaml | grep -q "Data and pipelines are up to date" || { $(RUN) $(BIN)/dvc status dvc.yaml; \
	  echo "make pull: the pulled outputs are not dvc.lock's for this checkout (see above); run make figures" >&2; exit 2; }
	$(RUN) $(BIN)/snakemake --touch --cores 1 figures/all

# publish refuses uncommitted changes (untracked files too) outside dvc.lock and metrics/: the lock it
# commits must describe committed code. `dvc repro` runs each stage's Snakemake target (nothing, when
# `make figures` built params.yaml's tier already) and records every output's hash.
PUBLISHED := dvc.lock metrics

publish: $(STAMP)
	@test -z "$$(git status --porcelain -- . ':(exclude)dvc.lock' ':(exclude)metrics')" || { git status --short; \
	  echo "make publish: commit or stash these changes first (dvc.lock must describe committed code)" >&2; exit 2; }
	$(RUN) $(BIN)/dvc repro
	$(RUN) $(BIN)/dvc push
	git add $(PUBLISHED)
	git diff --cached --quiet -- $(PUBLISHED) && echo "make publish: dvc.lock and metrics/ already committed" || \
	  git commit -m "publish: dvc.lock and metrics of the build of $$(git rev-parse --short HEAD) (outputs pushed)" -- $(PUBLISHED)

findings: $(STAMP)   # docs/findings.md, the cross-study findings, from the last build's results/cross_study/findings.md
	$(RUN) $(BIN)/learnscope claims findings-page --inputs results/cross_study/findings.md --out docs/findings.md

# replicate: the replicate tier (its own tree: results/replicate/, figures/replicate/) and the side-by-side table
# of its claims with the default tier's (results/<study>/claims.json, from make figures).
replicate: $(STAMP)
	$(RUN) $(BIN)/learnscope snakemake --cores $(CORES) figures/replicate/all --configfile config/replicate.yaml $(ARGS)
	$(RUN) $(BIN)/learnscope claims replication --reference results --replicate results/replicate --out results/replication.md
	@echo "make replicate: results/replication.md"

paper-shape: $(STAMP)
	$(RUN) $(BIN)/python -m benchmarks.paper_shape --cores $(if $(filter all,$(CORES)),2,$(CORES)) $(ARGS)

gpu-check: $(STAMP)
	$(RUN) $(BIN)/python -m benchmarks.gpu_check $(ARGS)

clean-results:
	rm -rf results/runs results/rule_zoo results/claims.md figures/all figures/*/ logs
