"""Study prospective_configuration: the model simulations reproduce the paper's effects, the lr-grid
selection and the figures keep the claims contract, and the study's target builds end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from learnscope.analysis import interference, lr_grid, prospective_index, target_alignment, weight_space
from learnscope.claims import KEYS
from learnscope.figures import FIGURES
from learnscope.models import build_model

torch.set_num_threads(1)
PC_FAST = {"inference_steps": 48, "inference_rate": 0.1}


def test_interference_pc_spares_the_correct_output_bp_does_not():
    bp = interference.simulate("bp", 0.2, 64, PC_FAST)
    pc = interference.simulate("pc", 0.2, 64, PC_FAST)
    assert bp["x_1"].min() < 0.8 < 0.9 < pc["x_1"].min()
    for run in (bp, pc):  # both still learn the task
        assert abs(run["x_0"].iloc[-1]) < 0.02 and abs(run["x_1"].iloc[-1] - 1) < 0.02


def test_weight_space_bp_zigzags_pc_goes_straight():
    opts = {"w0": [0.0, 0.0], "out_weights": [1.0, 2.0], "target": [1.0, 1.0], "iterations": 16, **PC_FAST}
    bp, pc = weight_space.trajectory("BP", 0.4, opts), weight_space.trajectory("PC", 1.397, opts)
    np.testing.assert_allclose(bp[1], [0.4, 0.8])  # BP's first step: -lr * dL/dw = lr * (v_k (t_k - v_k w_k))
    assert np.all(np.diff(np.sign(np.diff(bp[:6, 1]))) != 0)  # w_2 alternates: zig-zag
    assert np.abs(pc[-1] - [1.0, 0.5]).max() < 1e-3 and np.abs(bp[-1] - [1.0, 0.5]).max() < 1e-3
    length = lambda w: np.linalg.norm(np.diff(w, axis=0), axis=1).sum() / np.linalg.norm(w[-1] - w[0])
    assert length(pc) < 1.2 < 1.8 < length(bp)


def test_target_alignment_depth_one_is_exact_and_pc_wins_deep_linear():
    opts = {"width": 64, "lr": 1e-3, **PC_FAST}
    for rule in ("bp", "pc"):
        assert target_alignment.alignment(rule, "linear", 1, 0, opts) == pytest.approx(1.0, abs=1e-6)
    diffs = [target_alignment.alignment("pc", "linear", 8, s, opts) - target_alignment.alignment("bp", "linear", 8, s, opts) for s in range(3)]
    assert np.mean(diffs) > 0.15


def test_prospective_index_one_step_and_converged():
    opts = {"width": 32, "inference_steps": 100, "inference_rate": 0.1, "lr": 0.01}
    one = prospective_index.indices("linear", 5, 0, 1, opts)
    many = prospective_index.indices("linear", 5, 0, 100, opts)
    assert len(one) == 4 and min(one) > 0.95 and min(many) > 0.99


def test_mark_best_lr_picks_lowest_mean_and_never_a_diverged_lr():
    t = pd.DataFrame(
        {
            "condition": [1] * 6,
            "rule": ["PC"] * 6,
            "lr": [0.1, 0.1, 0.3, 0.3, 1.0, 1.0],
            "seed": [0, 1] * 3,
            "mean_error": [0.30, 0.32, 0.20, 0.26, 0.05, math.nan],
        }
    )
    out = lr_grid.mark_best_lr(t)
    assert set(out[out["best"]]["lr"]) == {0.3}


def test_xavier_init_option_of_the_mlp():
    torch.manual_seed(0)
    m = build_model({"kind": "mlp", "hidden": [200], "activation": "tanh", "init": "xavier_uniform"}, (300,), 10)
    w = m.net.fc1[0].weight.detach()
    assert float(w.std()) == pytest.approx(5 / 3 * math.sqrt(2 / 500), rel=0.05)
    assert float(m.net.fc1[0].bias.detach().abs().max()) == 0.0


def _check_claims(claims, figure):
    rows = [c.to_json() for c in claims]
    assert rows and all(set(r) == set(KEYS) and r["figure"] == figure for r in rows)
    return {r["id"].split(".")[-1]: r for r in rows}


def test_figures_write_files_and_claims(tmp_path):
    toy = tmp_path / "interference.csv"
    interference.main([], str(toy), {"lrs": [0.05, 0.2], "iterations": 12, **PC_FAST})
    rows = _check_claims(FIGURES["prospective_configuration"]["interference"]([str(toy)], str(tmp_path / "i.png"), {"lr": 0.2, "claims": {"pc_min": 0.9, "bp_max": 0.8}}), "interference")
    assert rows["pc_min_x1"]["pass"] and rows["bp_min_x1"]["pass"]
    assert all((tmp_path / f"i.{ext}").stat().st_size > 0 for ext in ("png", "pdf", "csv"))

    ta = tmp_path / "ta.csv"
    target_alignment.main([], str(ta), {"seeds": [0, 1], "depths": [1, 4, 12], "activations": ["linear"], "width": 48, "lr": 1e-3, "inference_steps": 64, "inference_rate": 0.1})
    claims = {"margin": 0.15, "from_depth": 4, "pc_min": 0.85, "bp_max_deep": 0.6}
    rows = _check_claims(FIGURES["prospective_configuration"]["target_alignment"]([str(ta)], str(tmp_path / "t.png"), {"claims": claims}), "target_alignment")
    assert rows["pc_minus_bp_linear"]["spread"] is not None and rows["pc_high_linear"]["pass"]

    grid = pd.DataFrame(
        [
            {"condition": c, "rule": r, "lr": lr, "seed": s, "status": "complete", "mean_error": e + 0.01 * s, "min_error": e, "final_error": e}
            for c in (1, 32)
            for r, lrs in (("BP", {0.1: 0.3, 0.3: 0.25, 1.0: 0.8}), ("PC", {0.1: 0.3, 0.3: 0.22, 1.0: 0.3}))
            for lr, e in lrs.items()
            for s in (0, 1)
        ]
    )
    path = tmp_path / "bs.csv"
    lr_grid.mark_best_lr(grid).to_csv(path, index=False)
    rows = _check_claims(FIGURES["prospective_configuration"]["batch_size"]([str(path)], str(tmp_path / "b.png"), {"samples": 100, "dataset": "digits"}), "batch_size")
    assert rows["pc_not_worse_at_best_lr"]["value"] == pytest.approx(0.03)
    assert rows["pc_tolerates_large_lr"]["value"] == pytest.approx(0.5)  # at lr 1.0, above BP's best 0.3


@pytest.mark.integration
def test_study_target_builds_on_smoke_config(smoke_build):
    project = smoke_build.study("prospective_configuration")
    figures = ["interference", "weight_space", "target_alignment", "prospective_index", "depth", "batch_size", "concept_drift", "continual"]
    for fig in figures:
        for ext in ("png", "pdf", "csv"):
            assert project.path(f"figures/prospective_configuration/{fig}.{ext}").stat().st_size > 0
    rows = json.loads(project.path("results/prospective_configuration/claims.json").read_text())
    assert all(set(r) == set(KEYS) for r in rows)
    assert {r["figure"] for r in rows} == set(figures)
    gated = {r["id"].split(".", 1)[1]: r["pass"] for r in rows if r["gated"]}
    assert len(gated) == 6
    # deterministic or robust at any scale; the target-alignment gates need the default's 10 seeds
    # (PC - BP at depth 4 is 0.15 +- 0.03 over seeds, so 3 smoke seeds cannot resolve the 0.15 margin)
    assert all(gated[k] for k in ("interference.pc_min_x1", "interference.bp_min_x1", "prospective_index.one_step")), gated
