"""The studies' plans (learnscope.studies.<study>.plan): run grids and figure registrations as plain Python,
and the registries' completeness (a study is one package, its params section, its figures, its docs page)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from learnscope.config import load_params
from learnscope.errors import ConfigError
from learnscope.figures import FIGURES, STUDIES as FIGURE_STUDIES, figure_module
from learnscope.provenance import module_file
from learnscope.record.identity import run_id
from learnscope.studies import STUDIES
from learnscope.studies.cross_study import plan as cross_study
from learnscope.studies.identify_rules import plan as identify_rules
from learnscope.studies.neural_mechanics import plan as neural_mechanics
from learnscope.studies.prospective_configuration import plan as prospective_configuration
from learnscope.studies.robust_rnn import plan as robust_rnn

REPO = Path(__file__).resolve().parents[1]
NOT_STUDIES = {"tier", "runtime", "data"}


@pytest.fixture(scope="module")
def cfg() -> dict:
    return load_params(REPO / "params.yaml", [REPO / "config/smoke.yaml"])


def test_every_study_is_registered_once_everywhere(cfg):
    assert set(STUDIES) == set(cfg) - NOT_STUDIES
    assert FIGURE_STUDIES == STUDIES
    for study in STUDIES:
        plan = importlib.import_module(f"learnscope.studies.{study}.plan")
        registered = plan.figures(cfg)
        # the plan registers exactly the figures the study's figure code renders, each an importable module
        assert set(registered) == set(FIGURES[study]), study
        for figure, spec in registered.items():
            assert set(spec) == {"inputs", "options"} and module_file(figure_module(study, figure)), (study, figure)


def test_every_study_has_its_docs_page():
    pages = REPO / "docs" / "studies"
    if not pages.is_dir():
        pytest.skip("docs/studies/ is not on this branch yet (the docs pages land with the docs work)")
    assert [s for s in STUDIES if not (pages / f"{s}.md").is_file()] == []


def test_robust_rnn_runs_normalise_gamma_and_swap_only_the_rule(cfg):
    exp = cfg["robust_rnn"]["experiments"]["high_d"]
    assert run_id(robust_rnn.run(cfg, exp, 20, 0)) == run_id(robust_rnn.run(cfg, exp, 20.0, 0))
    adam = {"name": "adam", "lr": 1e-3}
    other = robust_rnn.run(cfg, exp, 20, 0, learning=adam, rule_label="adam")
    assert other["rule"]["scheduler"] == cfg["robust_rnn"]["rule"]["scheduler"] and other["rule"]["name"] == "adam"
    assert other["labels"]["rule"] == "adam-cce" and other["model"] == robust_rnn.run(cfg, exp, 20, 0)["model"]
    n = len(exp.get("gammas", cfg["robust_rnn"]["gammas"])) * len(exp.get("seeds", cfg["robust_rnn"]["seeds"]))
    assert len(robust_rnn.experiment_runs(cfg, "high_d")) == n
    tables = robust_rnn.figures(cfg)["fig2_high_d"]["inputs"]
    assert len(tables) == 2 * n and all(t.startswith("results/smoke/robust_rnn/runs/") for t in tables)   # the smoke tier's tree


def test_identify_rules_grid_and_its_reuse_by_another_study(cfg):
    ir = cfg["identify_rules"]
    runs = list(identify_rules.runs(cfg))
    per_model = len(ir["seeds"]) * len(ir["data_seeds"]) * len(ir["rules"])
    expected = sum(len(spec.get("batch_sizes", ir["batch_sizes"])) * per_model for spec in ir["tasks"].values() for _ in spec["models"])
    assert len(runs) == expected == len({run_id(r) for r in runs})
    pc = cross_study.pc_runs(cfg)
    kinds = set(cfg["cross_study"]["identify_pc"]["model_kinds"])
    assert pc and all(r["model"]["kind"] in kinds and r["labels"]["rule"] == cfg["cross_study"]["identify_pc"]["label"] for r in pc)


def test_cross_study_rejects_unknown_rules_and_doubly_measured_families(cfg):
    bad = {**cfg, "cross_study": {**cfg["cross_study"], "rules": ["not_a_rule"]}}
    with pytest.raises(ConfigError, match="not_a_rule"):
        cross_study.conservation_runs(bad)
    models = dict(cfg["cross_study"]["conservation"]["models"])
    first = next(iter(models.values()))
    models["copy"] = {**first}
    doubled = {**cfg, "cross_study": {**cfg["cross_study"], "conservation": {**cfg["cross_study"]["conservation"], "models": models}}}
    with pytest.raises(ConfigError, match="measured on both"):
        cross_study.conservation_families(doubled)


def test_prospective_configuration_grids(cfg):
    pc = cfg["prospective_configuration"]
    batch = prospective_configuration.batch_conditions(pc["batch_size"])
    assert {B * train["steps"] for B, _, train, _, _ in batch} == {pc["batch_size"]["samples"] // B * B for B in pc["batch_size"]["batch_sizes"]}
    depth = prospective_configuration.depth_conditions(pc["depth"])
    assert [len(m["hidden"]) + 1 for _, m, _, _, _ in depth] == pc["depth"]["depths"]
    assert [steps for _, _, _, steps, _ in depth] == [pc["depth"]["inference_steps_per_layer"] * L for L in pc["depth"]["depths"]]
    runs = prospective_configuration.runs(cfg)["depth"]
    assert {r["rule"]["name"] for r in runs} == {"sgd", "predictive_coding"}
    assert len(runs) == len(depth) * sum(len(v) for v in pc["depth"]["lrs"].values()) * len(pc["depth"]["seeds"])


def test_neural_mechanics_exact_runs_are_sweep_runs(cfg):
    """Figure 5's runs of the section's seed are sweep runs; the other seeds (issue 19: at least 3) add the
    same runs; the equilibrium runs reach 2 lambda t >> 1; figure 1's runs include the net without BN."""
    groups = neural_mechanics.runs(cfg)
    nm = cfg["neural_mechanics"]
    sweep = {run_id(r) for r in groups["sweep"]}
    exact = groups["exact_dynamics"]
    assert {run_id(r) for r in exact if r["seed"] == nm["seed"]} <= sweep
    assert len(load_params(REPO / "params.yaml")["neural_mechanics"]["seeds"]) >= 3  # the default tier; smoke: 2
    assert len(nm["seeds"]) >= 2 and {r["seed"] for r in exact} == set(nm["seeds"])
    assert len(exact) == len({run_id(r) for r in exact}) == len(nm["seeds"]) * 2 * len(nm["sgd"]["weight_decay"])
    eq = groups["equilibrium"]
    assert {r["seed"] for r in eq} == set(nm["seeds"])
    r = eq[0]
    assert 2 * r["rule"]["weight_decay"] * r["rule"]["lr"] * r["train"]["steps"] >= 5  # 2 lambda t at the end (default: 15)
    assert {r["labels"]["model"] for r in groups["neuron_dynamics"]} == {"bn", "nobn"}
    assert set(neural_mechanics.figures(cfg)) == set(neural_mechanics.FIGURES)
