"""Shared fixtures: small datasets and run configs, and a temporary copy of the project for
integration tests that run Snakemake and DVC as a user would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

# Tiny networks: one thread is fastest, and deterministic (as in the pipeline's jobs).
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def project_files() -> list[str]:
    """Tracked files plus untracked files git does not ignore: what a fresh clone (with local edits) has."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    return [f for f in out.decode().split("\0") if f and (REPO / f).exists() or (REPO / f).is_symlink()]


class Project:
    """A copy of the project in a temporary folder, with its own git repo and output cache."""

    def __init__(self, root: Path, cache: Path):
        self.root, self.cache = root, cache
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "SNAKEMAKE_OUTPUT_CACHE": str(cache),
            "DVC_NO_ANALYTICS": "1",
            "PYTHONPATH": str(root / "src"),
        }

    def run(self, *cmd: str, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
        res = subprocess.run(list(cmd), cwd=self.root, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}")
        return res

    def snakemake(self, *args: str, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
        return self.run(str(BIN / "snakemake"), *args, check=check, timeout=timeout)

    def dvc(self, *args: str, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
        return self.run(str(BIN / "dvc"), *args, check=check, timeout=timeout)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def commit(self, message: str) -> None:
        self.run("git", "add", "-A")
        self.run("git", "-c", "user.name=learnscope-tests", "-c", "user.email=tests@learnscope.invalid", "commit", "-qm", message)


def make_project(dest: Path) -> Project:
    root = dest / "project"
    for rel in project_files():
        src, dst = REPO / rel, root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
    cache = dest / "output-cache"
    cache.mkdir()
    proj = Project(root, cache)
    proj.run("git", "init", "-q")
    proj.commit("copy of the project")
    return proj


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a Snakemake (dry) run as {rule: count}; {} when nothing is to be done."""
    m = re.search(r"Job stats:\n.*?\n-+\s+-+\n(.*?)\ntotal\s+\d+", output, re.S)
    if not m:
        return {}
    return {rule: int(n) for rule, n in (line.split() for line in m.group(1).strip().splitlines())}


SMOKE_TARGET = "figures/smoke/all"  # the smoke tier's index: its files are under results/smoke/, figures/smoke/, ...


class SmokeBuild(Project):
    """A project copy in which `snakemake --cores 2 --keep-going figures/smoke/all` ran once on config/smoke.yaml
    (the smoke tier: its files under results/smoke/, figures/smoke/, data/smoke/prepared/, logs/smoke/)."""

    def study(self, name: str) -> "SmokeBuild":
        """Fail with the build's own output unless study ``name`` was built completely."""
        if not self.path(f"figures/smoke/{name}/all").exists():
            raise AssertionError(f"the smoke build did not finish figures/smoke/{name}/all:\n{self.output[-6000:]}")
        return self


@pytest.fixture(scope="session")
def smoke_build(tmp_path_factory) -> SmokeBuild:
    """The whole workflow built once at smoke scale, shared by the study tests and tests/test_workflow.py
    (one build instead of one per study). ``planned``: the jobs Snakemake planned from scratch."""
    base = make_project(tmp_path_factory.mktemp("smoke"))
    project = SmokeBuild(base.root, base.cache)
    smoke = ("--configfile", "config/smoke.yaml")
    plan = project.snakemake("-n", SMOKE_TARGET, *smoke)
    project.planned = job_counts(plan.stdout + plan.stderr)
    res = project.snakemake("--cores", "2", "--keep-going", SMOKE_TARGET, *smoke, check=False, timeout=3600)
    project.returncode, project.output = res.returncode, res.stdout + res.stderr
    return project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A fresh temporary copy of the project (function scope)."""
    return make_project(tmp_path)
