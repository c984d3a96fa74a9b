"""dvc.yaml, generated: one DVC stage per Snakemake target, its deps the code its jobs can execute.

Each stage runs a Snakemake target (datasets, every run, or one study's figures), so Snakemake owns the
fine-grained DAG and its output cache while DVC versions the results and shares them through the remote.
A stage's deps are

- the workflow: the Snakefile, the rule files the target reads, the params schema, ``learnscope/cli.py``
  (every job runs it), and the import closure of the ``learnscope`` modules the rule files import at parse time;
- the union of the import closures (``learnscope.steps``) of the steps its jobs run: training, each
  analysis the study's rules call, each of the study's figures -- the same closures whose digests are the
  rules' ``params.code``, so Snakemake and ``dvc status`` agree on what an edit makes stale.

No stage depends on another stage's outputs: each target builds what it lacks itself, and its code and
params deps (the data code and ``data`` keys included) invalidate it. An upstream output as a dep makes
``dvc repro --dry`` fail in a fresh clone (DVC 3.67 hashes a missing dependency in a dry run). Outputs
persist (Snakemake, not DVC, decides what is stale; ``dvc repro`` never deletes finished work). A study
stage tracks all of results/<study> and figures/<study>, so a clone that pulls them has every file of
the Snakemake DAG; its claims are metrics in metrics/<study>.json (in git, ``cache: false``). Every
figure PNG is an image plot (docs/dvc.md).

``STAGES`` below is the only hand-written part: which target, which rule files, which analyses (their CLI
names), which params and outs. ``learnscope dvc-yaml`` writes the file; tests/test_workflow_dvc.py checks
that the committed dvc.yaml is this module's output, so nobody edits its deps by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from learnscope.figures import FIGURES
from learnscope.provenance import PACKAGE_ROOT, import_closure
from learnscope.steps import step_files

REPO = PACKAGE_ROOT.parents[1]
SCHEMA = "workflow/schemas/params.schema.yaml"
RULES = "workflow/rules"
STUDY_RULES = ("common.smk", "train.smk", "figures.smk")  # what every study's target reads


@dataclass(frozen=True)
class Stage:
    """One DVC stage: ``snakemake --cores all <target>``."""

    name: str
    target: str
    rules: tuple[str, ...]  # rule files under workflow/rules (or the folder itself: "")
    params: tuple[str, ...]
    outs: tuple = ()
    comment: str = ""
    steps: tuple[str, ...] = ("data", "train")  # "data" / "train": the target prepares data / trains runs
    analyses: tuple[str, ...] = ()  # CLI names of the analyses the study's rules run
    figures: str = ""  # the study whose registered figures the target renders
    other_figures: tuple[tuple[str, str], ...] = ()  # (study, figure) of other studies it reads the claims of
    metrics: tuple[str, ...] = ()


def study(name: str, analyses: tuple[str, ...], params: tuple[str, ...], rules: tuple[str, ...] = (), **kw) -> Stage:
    """A study's stage: figures/<name>/all, its rule files (``("",)``: all of them), its analyses and figures,
    its claims as metrics."""
    return Stage(
        name=name,
        target=f"figures/{name}/all",
        rules=rules if rules == ("",) else (*STUDY_RULES, f"{name}.smk", *rules),
        params=("runtime.device", *params),
        outs=({f"results/{name}": PERSIST}, {f"figures/{name}": PERSIST}),
        analyses=analyses,
        figures=name,
        # persist: dvc repro must not delete it before Snakemake finds the study up to date
        metrics=({f"metrics/{name}.json": {"cache": False, "persist": True}},),
        **kw,
    )


PERSIST = {"persist": True}

STUDIES: tuple[Stage, ...] = (
    Stage(
        name="data",
        target="data_all",
        rules=("common.smk", "data.smk"),
        params=("data", "rule_zoo.dataset", "shared_geometry.dataset", "neural_mechanics.dataset", "identify_rules.tasks"),
        outs=({"data/prepared": PERSIST},),
        steps=("data",),
    ),
    Stage(
        name="runs",
        target="runs_all",
        comment=(
            "every training run any study registers (Snakemake target runs_all): one HDF5 record each, pushed to\n"
            "the remote so a clone can `dvc pull` the records instead of retraining. persist: DVC must not\n"
            "delete the finished records before a rerun; Snakemake trains only the runs that are missing."
        ),
        rules=("",),
        params=("runtime.device", "data", "rule_zoo", "neural_mechanics", "shared_geometry", "prospective_configuration",
                "robust_rnn", "identify_rules", "cross_study"),
        outs=({"results/runs": PERSIST},),
    ),
    study("rule_zoo", ("learning-curves",), ("data", "rule_zoo")),
    study(
        "prospective_configuration",
        ("interference", "weight-space", "target-alignment", "prospective-index", "lr-grid", "concept-drift", "continual",
         "sensorimotor", "reversal", "fear-conditioning", "reinforcement", "alignment-steps", "pc-equivalence"),
        ("data", "prospective_configuration"),
    ),
    study(
        "neural_mechanics",
        ("symmetry-dynamics", "neuron-dynamics", "symmetry-fields", "modified-equation", "lr-drop"),
        ("data", "neural_mechanics"),
    ),
    study("shared_geometry", ("shared-geometry", "xor-simulation"), ("data", "shared_geometry")),
    study(
        "robust_rnn",
        ("robust-rnn",),
        ("data.clusters_high_d", "data.clusters_low_d", "robust_rnn"),
        steps=("train",),  # online tasks: no prepared data
    ),
    study(
        "identify_rules",
        ("observables", "rule-classifiers"),
        ("data", "identify_rules"),
        comment="observables.h5 is the study's dataset (the paper's dataset.pkl): `dvc pull` gives it without retraining.",
    ),
    study(
        "cross_study",
        ("conservation", "rule-geometry", "layer-dimensionality", "observables", "rule-classifiers", "rule-alignment",
         "robust-rnn", "learning-curves"),
        ("data", "rule_zoo", "identify_rules", "robust_rnn", "prospective_configuration", "cross_study"),
        rules=("",),
        other_figures=(("rule_zoo", "learning_curves"),),
        comment=(
            "every analysis on every rule: reads the other studies' runs, analyses and claims (the rule files and\n"
            "modules are deps), trains only its own extra runs. observables_pc.h5: the PC runs' observables\n"
            "(beside identify_rules' observables.h5)."
        ),
    ),
)

STAGES: tuple[Stage, ...] = (
    *STUDIES,
    Stage(
        name="all",
        target="figures/all",
        comment="the all-studies index and claims table: every study's figures and claims (any param may change them)",
        rules=("",),
        params=({"params.yaml": None},),
        outs=({"figures/all": PERSIST}, {"results/claims.md": PERSIST}),
        analyses=tuple(sorted({a for s in STUDIES for a in s.analyses})),
        other_figures=tuple((study, figure) for study in FIGURES for figure in FIGURES[study]),
    ),
)

# Top-level plots: every figure PNG as an image plot (`dvc plots diff` shows each figure per revision). The
# long-format CSVs beside them are not declared: DVC's default template draws them as one zig-zag line.
PLOTS: tuple[str, ...] = tuple(f"figures/{study}/{figure}.png" for study in FIGURES for figure in FIGURES[study])

HEADER = """\
# Generated by `learnscope dvc-yaml` from src/learnscope/workflow_dvc.py: edit that module, not this file
# (tests/test_workflow_dvc.py checks the two agree).
#
# DVC stages: datasets, the training runs, one stage per study, then the all-studies index. Each stage runs a
# Snakemake target, so Snakemake owns the fine-grained DAG (and its output cache) while DVC versions the results
# and shares them through the remote (docs/dvc.md). deps: the workflow files and the import closure of every
# step the target runs (the closures whose digests are the rules' params.code); params: the keys it reads.
# No stage depends on another stage's outputs (`dvc repro --dry` works in a fresh clone); outputs persist;
# a study stage tracks results/<study> and figures/<study>, its claims are metrics/<study>.json (in git).
"""

_PARSE_IMPORT = re.compile(r"^\s*from (learnscope[\w.]*) import|^\s*import (learnscope[\w.]*)", re.M)


def rule_files(stage: Stage) -> list[Path]:
    """The stage's rule files (all of workflow/rules for "")."""
    rules = REPO / RULES
    return sorted(rules.glob("*.smk")) if stage.rules == ("",) else [rules / r for r in stage.rules]


def parse_time_modules(files: list[Path]) -> list[str]:
    """The ``learnscope`` modules rule files import while Snakemake parses them."""
    return sorted({a or b for f in files for a, b in _PARSE_IMPORT.findall(f.read_text())})


def source_deps(stage: Stage) -> list[str]:
    """Repository-relative source files the stage's jobs (and the parsing of its rule files) can execute."""
    files = set(import_closure(*parse_time_modules(rule_files(stage))))
    for step in stage.steps:
        files.update(step_files(step))
    for name in stage.analyses:
        files.update(step_files("analysis", name))
    if stage.figures:
        for figure in FIGURES[stage.figures]:
            files.update(step_files("figure", stage.figures, figure))
    for other, figure in stage.other_figures:
        files.update(step_files("figure", other, figure))
    return sorted(f.relative_to(REPO).as_posix() for f in files | {PACKAGE_ROOT / "cli.py"})


def stage_dict(stage: Stage) -> dict:
    workflow = ["Snakefile", *(f"{RULES}/{r}" if r else RULES for r in stage.rules), SCHEMA]
    out: dict = {
        "cmd": f"snakemake --cores all {stage.target}",
        "deps": [d for d in workflow if d] + source_deps(stage),
        "params": list(stage.params),
        "outs": list(stage.outs),
    }
    if stage.metrics:
        out["metrics"] = list(stage.metrics)
    return out


class _Dumper(yaml.SafeDumper):
    """Block style with list items indented under their key, as hand-written dvc.yaml files are."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data) -> bool:  # the shared PERSIST mapping written out each time, no &anchors
        return True


def _dump(obj) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)


def dvc_yaml() -> str:
    """The text of dvc.yaml."""
    parts = [HEADER, "stages:\n"]
    for stage in STAGES:
        body = ["  " + line for line in _dump({stage.name: stage_dict(stage)}).splitlines()]
        comment = [f"    # {line}" for line in stage.comment.splitlines()]
        parts.append("\n".join([body[0], *comment, *body[1:]]) + "\n\n")
    parts.append(_dump({"plots": list(PLOTS)}))
    return "".join(parts)
