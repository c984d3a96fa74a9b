"""Neural mechanics, appendix momentum sweep: the config expansion (grid size, per-sweep train overrides,
reuse of figure 6's runs), the compact ``errors`` form of the symmetry table, and the sweep figures'
claims on synthetic tables with known errors."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from learnscope.analysis import symmetry_dynamics as sd
from learnscope.config import (
    load_params,
    momentum_sweep_points,
    neural_mechanics_momentum_runs,
    neural_mechanics_momentum_sweep,
    reuse_runs,
    study_run,
    validate_params,
)
from learnscope.errors import ConfigError, RecordError
from learnscope.figures.neural_mechanics import momentum_sweep, sweep
from learnscope.record.identity import run_id

SCHEMA = "workflow/schemas/params.schema.yaml"


@pytest.fixture(scope="module")
def cfg():
    return load_params("params.yaml")


def test_paper_sweep_is_the_published_grid_at_batch_128():
    paper = load_params("params.yaml", ["config/paper.yaml"])
    validate_params(paper, SCHEMA)
    runs = neural_mechanics_momentum_sweep(paper)
    ids = [run_id(r) for r in runs]
    assert len(runs) == 2 * 3 * 4 * 2 == len(set(ids))  # models x beta x lambda x dampening, no duplicates
    assert {r["train"]["batch_size"] for r in runs} == {128}
    assert {r["train"]["steps"] for r in runs} == {78125}  # 100 epochs of 100,000 images
    assert {(r["rule"]["momentum"], r["rule"].get("dampening", 0.0)) for r in runs} == {(b, t) for b in (0.8, 0.9, 0.99) for t in (0.0, 0.01)}
    # figure 6's four runs are points of the sweep: the same ids, trained once; the SGD sweep keeps batch 256
    fig6 = {run_id(r) for r in neural_mechanics_momentum_runs(paper).values()}
    assert len(fig6) == 4 and fig6 <= set(ids)
    assert paper["neural_mechanics"]["train"]["batch_size"] == 256


def test_default_sweep_reuses_figure6_runs_and_keeps_their_ids(cfg):
    runs = neural_mechanics_momentum_sweep(cfg)
    fig6 = neural_mechanics_momentum_runs(cfg)
    assert len(runs) == 2 * 3 * 2  # models x the paper's beta in {0.8, 0.9, 0.99} x dampening (issue 19)
    assert {r["rule"]["momentum"] for r in runs} == {0.8, 0.9, 0.99}
    reused = [r["labels"]["rule"] for r in runs if r["labels"]["rule"] in fig6]
    assert sorted(reused) == ["bn_overdamped", "nobn_overdamped"]  # beta 0.9, lambda 1e-3, dampening 0
    new = [r for r in runs if r["labels"]["rule"] not in fig6]
    assert len(new) == 10
    assert "momentum_lr0.1_b0.99_wd0.001_d0.01" in [r["labels"]["rule"] for r in new]
    # figure 6's ids are those of a run built without any override (unchanged identities)
    sec = cfg["neural_mechanics"]
    r = sec["momentum"]["bn_overdamped"]
    assert run_id(fig6["bn_overdamped"]) == run_id(study_run(cfg, "neural_mechanics", r["model"], r["rule"], "bn_overdamped"))
    # without reuse, the same point is a second run (another id) that trains identically
    off = copy.deepcopy(cfg)
    off["neural_mechanics"]["momentum_sweep"]["reuse_runs"] = False
    ids_off = {run_id(r) for r in neural_mechanics_momentum_sweep(off)}
    assert not ids_off & {run_id(r) for r in fig6.values()}


def test_smoke_sweep_is_the_beta_sweep_with_four_new_runs_and_figure6_override():
    smoke = load_params("params.yaml", ["config/smoke.yaml"])
    validate_params(smoke, SCHEMA)
    fig6 = neural_mechanics_momentum_runs(smoke)
    runs = neural_mechanics_momentum_sweep(smoke)
    assert {r["rule"]["momentum"] for r in runs} == {0.8, 0.9, 0.99} and {r["labels"]["model"] for r in runs} == {"bn", "nobn"}
    new = [r for r in runs if r["labels"]["rule"] not in fig6]
    assert len(new) == 4 and {r["train"]["steps"] for r in new} == {300}  # beta 0.9 is figure 6's over-damped runs
    # the under-damped BN run alone trains longer (a per-run override); the others keep the smoke steps
    assert {k: r["train"]["steps"] for k, r in fig6.items()} == {"bn_overdamped": 300, "bn_underdamped": 500, "nobn_overdamped": 300, "nobn_underdamped": 300}


def test_train_override_merges_and_breaks_reuse(cfg):
    c = copy.deepcopy(cfg)
    c["neural_mechanics"]["momentum_sweep"]["train"] = {"batch_size": 128}
    runs = neural_mechanics_momentum_sweep(c)
    assert all(r["train"] == {**cfg["neural_mechanics"]["train"], "batch_size": 128} for r in runs)  # steps, dtype kept
    assert not any(r["labels"]["rule"].endswith("overdamped") for r in runs)  # other batch: not figure 6's runs
    # the same override on a figure-6 run makes it a sweep point again
    c["neural_mechanics"]["momentum"]["bn_overdamped"]["train"] = {"batch_size": 128}
    assert "bn_overdamped" in {r["labels"]["rule"] for r in neural_mechanics_momentum_sweep(c)}
    # an empty override is no override
    r = cfg["neural_mechanics"]["momentum"]["bn_overdamped"]
    a = study_run(cfg, "neural_mechanics", "bn", r["rule"], "x", train={})
    assert a == study_run(cfg, "neural_mechanics", "bn", r["rule"], "x")


def test_reuse_fills_momentum_defaults_and_compares_everything_else(cfg):
    base = {"name": "momentum", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.001}
    existing = study_run(cfg, "neural_mechanics", "bn", base, "named")
    explicit = study_run(cfg, "neural_mechanics", "bn", {**base, "dampening": 0.0, "nesterov": False}, "point")
    other_model = study_run(cfg, "neural_mechanics", "nobn", base, "point")
    other_tau = study_run(cfg, "neural_mechanics", "bn", {**base, "dampening": 0.01}, "point")
    out = reuse_runs([explicit, other_model, other_tau], [existing])
    assert out[0] is existing
    assert out[1] is other_model and out[2] is other_tau


def test_sweep_config_errors(cfg):
    sweep_cfg = {**cfg["neural_mechanics"]["momentum_sweep"], "models": ["bn", "nobn"], "lr": {"bn": 0.1}}
    with pytest.raises(ConfigError, match="lr.nobn"):
        momentum_sweep_points(sweep_cfg)
    bad = copy.deepcopy(cfg)
    bad["neural_mechanics"]["momentum_sweep"]["betas"] = [0.9]
    with pytest.raises(ConfigError, match="betas"):
        validate_params(bad, SCHEMA)
    bad = copy.deepcopy(cfg)
    bad["neural_mechanics"]["momentum_sweep"]["train"] = {"batch": 128}
    with pytest.raises(ConfigError, match="batch"):
        validate_params(bad, SCHEMA)


# -- the compact symmetry table and the figures ----------------------------------------------------------


def _table(run: str, model: str, wd: float, tau: float, theory_scale: float) -> pd.DataFrame:
    """A symmetry table of one synthetic run: 2 scale channels of layer conv0 (or rescale pairs without BN)
    and 3 translation columns, 5 record points; theory = empirical * (1 + theory_scale * k/4). The law
    applied where the symmetry is missing (rescale_control with BN, scale_control without) is off by 0.4,
    and the translation law with a wrong lambda (``wrong_lambda``) by 0.3."""
    family, control = ("scale", "rescale_control") if model == "bn" else ("rescale", "scale_control")
    rows = []
    for k in range(5):
        t = 0.1 * (1 - tau) * k
        for fam, layer, n, scale in ((family, "conv0", 2, theory_scale), ("translation", "out", 3, theory_scale), (control, "conv0", 2, 0.4)):
            for u in range(n):
                emp = (u + 1.0) * np.exp(-wd * t) + k
                rows.append({"family": fam, "layer": layer, "unit": u, "step": k, "time": t, "empirical": emp,
                             "theory": emp * (1 + scale * k / 4), "gradient_flow": emp * (1 + 0.5 * k / 4),
                             "wrong_lambda": emp * (1 + 0.3 * k / 4) if fam == "translation" else np.nan})
    d = pd.DataFrame(rows)
    meta = {"run_id": run, "model": model, "rule": "momentum", "lr": 0.1, "weight_decay": wd, "momentum": 0.9, "dampening": tau, "seed": 0, "status": "complete"}
    for i, (key, value) in enumerate(meta.items()):
        d.insert(i, key, value)
    return d


def test_error_table_roundtrip_and_known_errors(tmp_path):
    full = _table("a", "bn", 0.001, 0.0, 1e-3)
    compact = sd.error_table(full)
    sums, errors = sd.split_error_table(compact)
    # layer sums: the per-unit series summed, unit -1
    conv = sums[(sums["family"] == "scale")].sort_values("step")
    assert np.allclose(conv["empirical"].to_numpy(), full[full["family"] == "scale"].groupby("step")["empirical"].sum().to_numpy())
    assert set(sums["unit"]) == {-1}
    # per-unit errors: theory off by a factor 1e-3 at the last point, where |emp| is largest -> relerr 1e-3
    lawful = errors[errors["family"].isin(["scale", "translation"])]
    assert len(lawful) == 5 and np.allclose(lawful["relerr_theory"], 1e-3) and np.allclose(errors["relerr_gradient_flow"], 0.5)
    assert np.allclose(errors[errors["family"] == "rescale_control"]["relerr_theory"], 0.4)
    # the wrong-lambda control: translation columns only
    assert np.allclose(lawful[lawful["family"] == "translation"]["relerr_wrong_lambda"], 0.3)
    assert errors[errors["family"] != "translation"]["relerr_wrong_lambda"].isna().all()
    assert set(errors["dampening"]) == {0.0} and set(errors["rule"]) == {"momentum"}
    with pytest.raises(ConfigError, match="unknown option"):
        sd.main([], str(tmp_path / "x.csv"), {"error": True})


def test_momentum_sweep_figure_claims_and_summary(tmp_path):
    tables = [_table("a", "bn", 0.001, 0.0, 1e-3), _table("b", "bn", 0.001, 0.01, 2e-2), _table("c", "nobn", 0.005, 0.0, 1e-3)]
    path = tmp_path / "momentum_sweep.csv"
    pd.concat([sd.error_table(t) for t in tables], ignore_index=True).to_csv(path, index=False)
    options = {"scale_momentum": 5e-2, "rescale_momentum": 5e-2, "translation_momentum": 1e-2, "control_lambda_offset": 1e-3}
    claims = {c.id.split(".")[-1]: c for c in momentum_sweep([str(path)], str(tmp_path / "fig.png"), options)}
    assert claims["scale"].value == pytest.approx(2e-2) and claims["scale"].passed
    assert claims["rescale"].value == pytest.approx(1e-3) and claims["rescale"].passed
    assert claims["translation"].value == pytest.approx(2e-2) and not claims["translation"].passed
    # each gated claim carries its negative control, which fails here: the law where the symmetry is missing,
    # the translation law with a wrong lambda
    assert claims["scale"].control.value == pytest.approx(0.4) and claims["scale"].control.passed is False
    assert claims["rescale"].control.value == pytest.approx(0.4) and claims["rescale"].control.passed is False
    assert claims["translation"].control.value == pytest.approx(0.3) and claims["translation"].control.passed is False
    data = pd.read_csv(tmp_path / "fig.csv")
    summary = data[data["kind"] == "summary"].sort_values(["model", "dampening"])
    assert np.allclose(summary["theory"], [2e-2 if d else 1e-3 for d in summary["dampening"]])
    assert len(summary) == 3 and (tmp_path / "fig.pdf").stat().st_size > 0
    # only the models present get a claim (a bn-only sweep has no rescale claim), and a claim whose control
    # cannot be measured (no net without BN: no scale_control) fails
    pd.concat([sd.error_table(t) for t in tables[:2]], ignore_index=True).to_csv(path, index=False)
    bn_only = {c.id.split(".")[-1]: c for c in momentum_sweep([str(path)], str(tmp_path / "fig2.png"), options)}
    assert "rescale" not in bn_only
    assert bn_only["scale"].control.passed is None and not bn_only["scale"].passed


def test_sgd_sweep_figure_reads_the_compact_table(tmp_path):
    tables = [_table("a", "bn", 0.0, 0.0, 1e-3), _table("b", "nobn", 0.0, 0.0, 4e-3)]
    for t in tables:
        t[["rule", "momentum"]] = ["sgd", 0.0]
    path = tmp_path / "sweep.csv"
    pd.concat([sd.error_table(t) for t in tables], ignore_index=True).to_csv(path, index=False)
    claims = {c.id.split(".")[-1]: c for c in sweep([str(path)], str(tmp_path / "fig.png"), {"scale_sgd": 5e-3, "rescale_sgd": 1e-2})}
    assert claims["scale"].value == pytest.approx(1e-3) and claims["rescale"].value == pytest.approx(4e-3)
    assert claims["scale"].passed and claims["rescale"].passed
    assert claims["scale"].control.value == pytest.approx(0.4) and claims["rescale"].control.value == pytest.approx(0.4)
    tables[0].to_csv(tmp_path / "full.csv", index=False)  # the per-unit table: not what the sweep reads
    with pytest.raises(RecordError, match="errors"):
        sweep([str(tmp_path / "full.csv")], str(tmp_path / "f.png"), {})
