"""The cluster profile against a real one-node Slurm (tests/slurm/local-cluster.sh): a study target is
submitted through workflow/profiles/slurm, every job goes through sbatch, and the output cache restores
trained runs under the cluster executor."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from conftest import REPO, make_project

pytestmark = pytest.mark.integration

CLUSTER = REPO / "tests/slurm/local-cluster.sh"


@pytest.fixture
def slurm(tmp_path):
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("the local Slurm cluster needs root and Debian's packages")
    subprocess.run([str(CLUSTER), "install"], check=True)
    state = tmp_path / "slurm"
    up = subprocess.run([str(CLUSTER), "up", str(state)], capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    try:
        yield str(state / "slurm.conf")
    finally:
        subprocess.run([str(CLUSTER), "down", str(state)], check=True)


# The plugin waits `init-seconds-before-status-checks` (the profile's 5, sized for a real cluster's
# scheduler) before its first status check and adds 10 s after each check that finds no job finished, so
# a round of the test's few-second jobs costs about 20 s; 1 s here (a test-only override, on the command
# line) makes it about 12 s. One seed: six runs instead of the smoke tier's twelve.
SUBMIT = ("--workflow-profile", "workflow/profiles/slurm", "--slurm-no-account", "--slurm-init-seconds-before-status-checks", "1",
          "figures/smoke/rule_zoo/all", "--configfile", "config/smoke.yaml", "config/one_seed.yaml")


def test_study_runs_through_the_slurm_profile(tmp_path, slurm):
    project = make_project(tmp_path)
    project.env["SLURM_CONF"] = slurm
    project.path("config/one_seed.yaml").write_text("rule_zoo:\n  seeds: [0]\n")
    res = project.snakemake(*SUBMIT)
    out = res.stdout + res.stderr
    claims = json.loads(project.path("results/smoke/rule_zoo/claims.json").read_text())
    assert all(c["pass"] for c in claims if c["gated"])
    assert project.path("figures/smoke/rule_zoo/learning_curves.png").stat().st_size > 0
    # every job was submitted with sbatch, the many-seed training as one array job
    submitted = out.count("has been submitted with SLURM jobid")
    assert submitted >= 5, out[-3000:]
    assert "array" in out.lower()
    jobs = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i %T"], env=project.env, capture_output=True, text=True, check=True).stdout.split("\n")
    finished = [j for j in jobs if j.strip()]
    assert finished and all(j.endswith("COMPLETED") for j in finished), finished

    # the between-workflow output cache works under the cluster executor: the jobs stored their runs
    # in it, and after deleting results/ the resubmitted training jobs restore them instead of training
    runs = {p.name: p.read_bytes() for p in project.path("results/smoke/runs").glob("*.h5")}
    assert runs and len(list(project.cache.iterdir())) == len(runs)
    for d in ("results/smoke", "figures/smoke/rule_zoo", "logs/smoke"):
        shutil.rmtree(project.path(d))
    project.snakemake(*SUBMIT)
    assert {p.name: p.read_bytes() for p in project.path("results/smoke/runs").glob("*.h5")} == runs
    # a training job writes progress and its run's status to its log; a restored one leaves it empty
    train_logs = list(project.path("logs/smoke/train").glob("*.log"))
    assert len(train_logs) == len(runs) and all(p.stat().st_size == 0 for p in train_logs), "a run was retrained"
    assert project.path("figures/smoke/rule_zoo/learning_curves.png").stat().st_size > 0

