"""The memoization hole of issue 16, closed: an edit to a module that only figures import (here
figures/robust_rnn.py) reruns exactly those figures and their claims, nothing upstream, and `dvc status`
calls exactly that study's stage changed. On a project copy that builds only robust_rnn's smoke tier
(7 small RNN runs); the transitive case (cross_study's dimensionality figure imports the module too) is
covered by tests/test_provenance.py."""

from __future__ import annotations

import json

import pytest

from conftest import job_counts
from learnscope.figures import FIGURES

pytestmark = pytest.mark.integration

# the smoke scale at the default tier (files where dvc.yaml's robust_rnn stage expects them)
TARGET = ("figures/robust_rnn/all", "--configfile", "config/smoke.yaml", "config/default_tier.yaml")


def plan(project) -> dict[str, int]:
    res = project.snakemake("-n", *TARGET)
    return job_counts(res.stdout + res.stderr)


def test_an_edit_only_figures_import_reruns_those_figures_and_dvc_agrees(project):
    project.path("config/default_tier.yaml").write_text("tier: default\n")
    project.snakemake("--cores", "2", *TARGET, timeout=1800)
    project.dvc("commit", "--force", "robust_rnn")  # dvc.lock: the stage as built
    status = lambda: json.loads(project.dvc("status", "--json", "robust_rnn").stdout or "{}")
    assert plan(project) == {} and status() == {}
    module = project.path("src/learnscope/figures/robust_rnn.py")
    original = module.read_text()
    module.write_text(original + "\n# an edit to the robust_rnn figures\n")
    try:
        assert plan(project) == {"figure": len(FIGURES["robust_rnn"]), "study_claims": 1, "study_index": 1}
        changed = status()["robust_rnn"]
        assert changed == [{"changed deps": {"src/learnscope/figures/robust_rnn.py": "modified"}}]
    finally:
        module.write_text(original)
    assert plan(project) == {} and status() == {}
