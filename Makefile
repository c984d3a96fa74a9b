# learnscope — the two commands (see README.md):
#   make figures   create the environment if missing, then build every figure (snakemake figures/all)
#   make test      create the environment if missing, then run the whole test suite
#   make paper-shape  the paper tier's configuration on tiny real-format datasets, end to end in a temporary copy
#   make gpu-check    CPU-vs-GPU records per model kind and a paper-tier job's steps/s (skips without CUDA)
#   (both: docs/paper_tier.md)
# Options: make figures CORES=8 ARGS="--configfile config/smoke.yaml"

PYTHON ?= python3
VENV   ?= .venv
CORES  ?= all
ARGS   ?=
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.learnscope-installed
RUN    := PATH="$(abspath $(BIN)):$$PATH" DVC_NO_ANALYTICS=1

.PHONY: env figures test repro findings clean-results paper-shape gpu-check

env: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("learnscope needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

figures: $(STAMP)
	$(RUN) $(BIN)/snakemake --cores $(CORES) figures/all $(ARGS)

test: $(STAMP)
	$(RUN) $(BIN)/python -m pytest tests $(ARGS)

repro: $(STAMP)
	$(RUN) $(BIN)/dvc repro $(ARGS)

findings: $(STAMP)   # docs/findings.md, the cross-study findings, from the last build's results/cross_study/findings.md
	$(RUN) $(BIN)/learnscope claims findings-page --inputs results/cross_study/findings.md --out docs/findings.md

paper-shape: $(STAMP)
	$(RUN) $(BIN)/python -m benchmarks.paper_shape --cores $(if $(filter all,$(CORES)),2,$(CORES)) $(ARGS)

gpu-check: $(STAMP)
	$(RUN) $(BIN)/python -m benchmarks.gpu_check $(ARGS)

clean-results:
	rm -rf results/runs results/rule_zoo results/claims.md figures/all figures/*/ logs
