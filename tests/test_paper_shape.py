"""The paper tier's CI-sized subset (docs/paper_tier.md; the whole paper-shape run is `make paper-shape`):
every raw format the paper tier reads, written tiny by benchmarks/raw_datasets.py and read by the real
readers at the real shapes and class counts; the paper tier's full-width VGG-16 trained a step with its
symmetry groups; the paper-shape configuration validated and planned for every study; a paper-shape study
built end to end; the GPU check's skip without CUDA."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from benchmarks.raw_datasets import write_all
from conftest import REPO, job_counts, make_project
from learnscope.config import load_params
from learnscope.data import prepare
from learnscope.models import build_model
from learnscope.rules import build_rule
from learnscope.train.symmetry import SymmetryTracker

PAPER = [REPO / "config/paper.yaml", REPO / "config/paper_shape.yaml"]

# dataset -> (train shape after the sample axis, classes)
SHAPES = {"mnist": ((1, 28, 28), 10), "fashion_mnist": ((1, 28, 28), 10), "cifar10": ((3, 32, 32), 10),
          "cifar100": ((3, 32, 32), 100), "tiny_imagenet": ((3, 64, 64), 200)}


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    return write_all(tmp_path_factory.mktemp("raw"))


def test_every_raw_format_is_read_at_its_real_shape(raw):
    cfg = load_params(REPO / "params.yaml", PAPER)
    specs = {**{k: cfg["data"][k] for k in ("mnist", "fashion_mnist", "cifar10", "tiny_imagenet")}, "cifar100": {"kind": "cifar100"}}
    for name, spec in specs.items():
        ds = prepare(name, {**spec, "root": str(raw)})
        shape, classes = SHAPES[name]
        assert ds.input_shape == shape and ds.n_outputs == classes, name
        assert set(np.unique(ds.y_train)) == set(range(classes)), name  # every class present
        assert np.isfinite(ds.x_train).all() and len(ds.x_test) > 0, name


def test_paper_vgg16_full_width_step_and_groups():
    """config/paper.yaml's neural_mechanics models at full width on 64x64x3, 200 classes: 13 BN convs are
    scale groups, the two fully connected layers controls; one SGD step with the tracker runs."""
    cfg = load_params(REPO / "params.yaml", [REPO / "config/paper.yaml"])
    torch.manual_seed(0)
    model = build_model(cfg["neural_mechanics"]["models"]["bn"], (3, 64, 64), 200)
    rule = build_rule({"name": "sgd", "lr": 0.1, "weight_decay": 1e-4})
    model = rule.setup(model)
    model.train()
    tracker = SymmetryTracker(model, rule)
    families = {(g.family, g.layer) for g in tracker.groups}
    assert {l for f, l in families if f == "scale"} == {f"conv{i}" for i in range(1, 14)}
    assert {l for f, l in families if f == "scale_control"} == {"fc1", "fc2"}
    x, y = torch.randn(2, 3, 64, 64), torch.tensor([0, 199])
    tracker.before_step()
    res = rule.step(model, x, y, torch.nn.functional.cross_entropy)
    tracker.after_step(res)
    assert np.isfinite(float(res.loss)) and tracker.record()["scale/conv13/empirical"].shape == (512,)


@pytest.fixture(scope="module")
def shape_project(tmp_path_factory, raw):
    project = make_project(tmp_path_factory.mktemp("paper-shape"))
    write_all(project.path("data/paper_shape_raw"))
    return project


def test_paper_shape_plans_every_study(shape_project):
    res = shape_project.snakemake("-n", "figures/paper_shape/all", "--configfile", "config/paper.yaml", "config/paper_shape.yaml")
    jobs = job_counts(res.stdout + res.stderr)
    # 164 runs: 134 + the shuffled-label controls of rule_zoo (6 rules x 1 seed) and shared_geometry (3 families
    # x 3 seeds) + prospective_configuration's step-matched BP arm (4) + robust_rnn on independently drawn
    # centres (2 tasks x 2 gains) + neural_mechanics' roughness control (the net without BN at figure 1's
    # lambda) + identify_rules' feedback_lr selection (3 candidates x 2 MLPs on a held-out seed); 8 datasets:
    # 6 + mnist_shuffled_labels and cifar10_shuffled_labels.
    # 51 figures: 45 + robust_rnn's two independent-centre figures, prospective_configuration's
    # alignment_steps and pc_equivalence, identify_rules' feedback, neural_mechanics' equilibrium
    assert jobs["train"] == 164 and jobs["figure"] == 51 and jobs["prepare_dataset"] == 8, jobs
    assert jobs["study_index"] == 7  # every study's figures


def test_paper_shape_rule_zoo_end_to_end(shape_project):
    """The rule zoo at paper shape: MNIST's idx files through the workflow, every rule, figures, claims."""
    shape_project.snakemake("--cores", "2", "figures/paper_shape/rule_zoo/all", "--configfile", "config/paper.yaml", "config/paper_shape.yaml", timeout=900)
    assert shape_project.path("figures/paper_shape/rule_zoo/all").exists()   # the paper_shape tier's own tree
    assert shape_project.path("results/paper_shape/rule_zoo/claims.json").stat().st_size > 0


def test_gpu_check_skips_cleanly_without_cuda():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: `make gpu-check` runs the check itself")
    res = subprocess.run([sys.executable, "-m", "benchmarks.gpu_check"], cwd=REPO, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": f"{REPO / 'src'}:{REPO}", "PATH": "/usr/bin:/bin", "CUDA_VISIBLE_DEVICES": ""})
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("gpu-check: skipped: no CUDA device"), res.stdout
