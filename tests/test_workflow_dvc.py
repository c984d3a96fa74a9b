"""dvc.yaml is generated (learnscope.workflow_dvc) and its stages declare exactly the steps their
Snakemake targets run, so its deps are the import closures behind the rules' code digests."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from learnscope.figures import FIGURES
from learnscope.workflow_dvc import REPO, STAGES, dvc_yaml

SNAKEMAKE = Path(sys.executable).parent / "snakemake"
STEP = re.compile(r"learnscope (analyze|figure|train|prepare) ([a-z][\w-]*)?(?: ([a-z0-9_]+))?")


def test_committed_dvc_yaml_is_the_generators_output():
    assert (REPO / "dvc.yaml").read_text() == dvc_yaml(), "dvc.yaml is stale or hand-edited: run `learnscope dvc-yaml`"


def planned_steps(output: str) -> dict[str, set]:
    """The steps of a `snakemake -n -p` plan: analyses, (study, figure) pairs, and data / train."""
    out: dict[str, set] = {"analysis": set(), "figure": set(), "steps": set()}
    for command, name, figure in STEP.findall(output):
        if command == "analyze":
            out["analysis"].add(name)
        elif command == "figure":
            out["figure"].add((name, figure))
        else:
            out["steps"].add("data" if command == "prepare" else "train")
    return out


def test_each_stage_declares_the_steps_its_target_runs(tmp_path):
    # one forced dry run per stage target (concurrently): every job the target can run, with its shell command;
    # the smoke scale at the default tier, whose paths dvc.yaml's targets name
    default_tier = tmp_path / "default_tier.yaml"
    default_tier.write_text("tier: default\n")
    procs = {
        s.name: subprocess.Popen(
            [str(SNAKEMAKE), "-n", "-p", "--forceall", "--nolock", s.target, "--configfile", "config/smoke.yaml", str(default_tier)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for s in STAGES
    }
    for stage in STAGES:
        output = procs[stage.name].communicate(timeout=600)[0]
        assert procs[stage.name].returncode == 0, output[-3000:]
        plan = planned_steps(output)
        figures = {(stage.figures, f) for f in FIGURES[stage.figures]} if stage.figures else set()
        assert plan["analysis"] == set(stage.analyses), stage.name
        assert plan["figure"] == figures | set(stage.other_figures), stage.name
        assert plan["steps"] == set(stage.steps), stage.name
