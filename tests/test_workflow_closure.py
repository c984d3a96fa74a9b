"""The memoization hole of issue 16, closed: an edit to a module that only figures import (here
figures/robust_rnn.py, which cross_study's dimensionality figure imports too) reruns exactly those figures
and their claims, nothing upstream, and `dvc status` calls exactly the stages holding them changed.
Runs on the session's smoke build (conftest.smoke_build)."""

from __future__ import annotations

import json

import pytest

from conftest import job_counts
from learnscope.figures import FIGURES
from learnscope.workflow_dvc import STAGES

pytestmark = pytest.mark.integration

SMOKE = ("--configfile", "config/smoke.yaml")


def changed_stages(project) -> set[str]:
    return set(json.loads(project.dvc("status", "--json", *(s.name for s in STAGES if s.figures)).stdout or "{}"))


def test_an_edit_only_figures_import_reruns_those_figures_and_dvc_agrees(smoke_build):
    built = smoke_build.study("robust_rnn").study("cross_study")
    studies = [s.name for s in STAGES if s.figures]
    built.dvc("commit", "--force", *studies)  # dvc.lock: the stages as built
    assert changed_stages(built) == set()
    res = built.snakemake("-n", "figures/all", *SMOKE)
    assert job_counts(res.stdout + res.stderr) == {}, "the build is not up to date before the edit"
    module = built.path("src/learnscope/figures/robust_rnn.py")
    original = module.read_text()
    module.write_text(original + "\n# an edit to the robust_rnn figures\n")
    try:
        res = built.snakemake("-n", "figures/all", *SMOKE)
        plan = job_counts(res.stdout + res.stderr)
        # robust_rnn's figures and the one cross_study figure that imports them; their claims and indexes
        assert plan == {"figure": len(FIGURES["robust_rnn"]) + 1, "study_claims": 2, "study_index": 2, "cross_study_findings": 1, "figures_all": 1}
        assert "figures/cross_study/dimensionality.png" in res.stdout + res.stderr
        assert changed_stages(built) == {"robust_rnn", "cross_study"}
    finally:
        module.write_text(original)
    assert changed_stages(built) == set()
    res = built.snakemake("-n", "figures/all", *SMOKE)
    assert job_counts(res.stdout + res.stderr) == {}
