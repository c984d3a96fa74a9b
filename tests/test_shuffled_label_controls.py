"""Negative controls trained on shuffled training labels: rule_zoo's (every rule) and shared_geometry's
(every family), each on the study's dataset with its training labels permuted."""

from pathlib import Path

import numpy as np
import pytest

from learnscope.config import load_params, validate_params
from learnscope.data.prepare import prepare, shuffled_labels
from learnscope.errors import ConfigError
from learnscope.record.identity import run_id
from learnscope.studies.rule_zoo import plan
from learnscope.studies.shared_geometry import plan as sg_plan

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow/schemas/params.schema.yaml"


def test_shuffled_training_labels_break_every_image_label_link_and_nothing_else():
    spec = {"kind": "digits", "test_fraction": 0.25, "seed": 0, "probe_per_class": 5, "standardize": True}
    true, shuffled = prepare("d", spec), prepare("d_shuffled", {**spec, "shuffle_train_labels": 1})
    assert np.array_equal(true.x_train, shuffled.x_train) and np.array_equal(true.x_test, shuffled.x_test)
    assert np.array_equal(true.y_test, shuffled.y_test) and np.array_equal(true.probe_index, shuffled.probe_index)
    assert np.array_equal(np.bincount(true.y_train), np.bincount(shuffled.y_train))
    assert (true.y_train == shuffled.y_train).mean() < 0.2   # ~ chance agreement (0.1)
    assert np.array_equal(prepare("d_shuffled", {**spec, "shuffle_train_labels": 1}).y_train, shuffled.y_train)
    with pytest.raises(ConfigError, match="data.r.shuffle_train_labels needs a classification dataset"):
        shuffled_labels("r", "regression", np.zeros(4), 1)


@pytest.mark.parametrize("tier", [[], ["config/smoke.yaml"], ["config/paper.yaml"], ["config/paper.yaml", "config/paper_shape.yaml"]])
def test_every_tier_controls_on_its_own_dataset_with_labels_shuffled(tier):
    cfg = load_params(REPO / "params.yaml", [REPO / t for t in tier])
    validate_params(cfg, SCHEMA)
    zoo, control = plan.runs(cfg), plan.control_runs(cfg)
    assert {(r["rule"]["name"], r["model"]["kind"]) for r in control} == {(r["rule"]["name"], r["model"]["kind"]) for r in zoo}
    assert len(control) == len(cfg["rule_zoo"]["rules"]) * len(cfg["rule_zoo"]["models"]) * len(cfg["rule_zoo"]["control"]["seeds"])
    assert not {run_id(r) for r in control} & {run_id(r) for r in zoo}
    own = cfg["data"][cfg["rule_zoo"]["dataset"]]
    assert all(r["dataset"]["shuffle_train_labels"] >= 0 for r in control)
    assert all({k: v for k, v in r["dataset"].items() if k not in ("name", "shuffle_train_labels")}.items() <= own.items() for r in control)


def test_a_control_dataset_other_than_the_studys_own_is_refused():
    cfg = load_params(REPO / "params.yaml", [REPO / "config/smoke.yaml"])
    cfg["data"]["digits_shuffled_labels"]["probe_per_class"] = 20   # smoke's digits has 5
    with pytest.raises(ConfigError, match="'rule_zoo.control.dataset': 'digits_shuffled_labels' is not rule_zoo.dataset 'digits'"):
        validate_params(cfg, SCHEMA)
    cfg["rule_zoo"]["control"]["dataset"] = "digits"   # labels intact: no control
    with pytest.raises(ConfigError, match="with shuffle_train_labels added"):
        validate_params(cfg, SCHEMA)


@pytest.mark.parametrize("tier", [[], ["config/smoke.yaml"], ["config/paper.yaml"], ["config/paper.yaml", "config/paper_shape.yaml"]])
def test_shared_geometry_control_trains_every_family_on_shuffled_labels(tier):
    cfg = load_params(REPO / "params.yaml", [REPO / t for t in tier])
    validate_params(cfg, SCHEMA)
    runs, control = sg_plan.runs(cfg), sg_plan.control_runs(cfg)
    assert list(control) == list(runs)
    for family in runs:
        assert [r["seed"] for r in control[family]] == cfg["shared_geometry"]["control"]["seeds"]
        assert all(c["model"] == r["model"] and c["record"] == r["record"] for c, r in zip(control[family], runs[family]))
        assert all("shuffle_train_labels" in c["dataset"] for c in control[family])
        assert not {run_id(c) for c in control[family]} & {run_id(r) for r in runs[family]}
    results = {"default": "results", "smoke": "results/smoke", "paper": "results/paper", "paper_shape": "results/paper_shape"}[cfg["tier"]]
    assert sg_plan.table(cfg, "mlp", control=True) == f"{results}/shared_geometry/control/mlp.csv"   # in the tier's tree
    assert sg_plan.table(cfg, "mlp", control=True) in sg_plan.figures(cfg)["main_grid"]["inputs"]
