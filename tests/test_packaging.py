"""pyproject.toml and environment.yml list the same dependencies with the same pins."""

import tomllib

import yaml

from conftest import REPO


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert set(pip) - {"-e ."} == pinned
    assert "-e ." in pip
    assert "torch==2.14.1" in pinned and "torchvision==0.29.1" in pinned
    assert any(str(d).startswith("python=3.11") for d in env["dependencies"])
