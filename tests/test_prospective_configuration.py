"""Study prospective_configuration: the model simulations reproduce the paper's effects, the lr-grid
selection and the figures keep the claims contract, and the study's target builds end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from learnscope.analysis import fear_conditioning, interference, lr_grid, prospective_index, reinforcement, reversal, sensorimotor, target_alignment, weight_space
from learnscope.analysis.toy_nets import linear_layers, squared_loss, weight_gradients
from learnscope.claims import KEYS
from learnscope.errors import ConfigError
from learnscope.figures import FIGURES
from learnscope.figures.prospective_configuration import scale_fit
from learnscope.models import build_model
from learnscope.rules.predictive_coding import output_error
from learnscope.train.loop import per_class_subset

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
    one, control = prospective_index.indices("linear", 5, 0, 1, opts)
    many, _ = prospective_index.indices("linear", 5, 0, 100, opts)
    assert len(one) == 4 and min(one) > 0.95 and min(many) > 0.99
    assert max(control) < 0.9  # relaxed toward an unrelated target: far from the index (shares only the -y_hat part)


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
    rows = _check_claims(FIGURES["prospective_configuration"]["batch_size"]([str(path)], str(tmp_path / "b.png"), {"samples": 100, "dataset": "digits", "loss": "squared_error", "reduction": "sum"}), "batch_size")
    assert rows["pc_not_worse_at_best_lr"]["value"] == pytest.approx(0.03)
    assert rows["pc_tolerates_large_lr"]["value"] == pytest.approx(0.5)  # at lr 1.0, above BP's best 0.3


def test_bellman_targets_by_hand():
    q_next = torch.tensor([[1.0, 3.0], [2.0, -1.0], [0.5, 0.25]])
    y = reinforcement.bellman_targets(q_next, torch.tensor([1.0, 0.0, -1.0]), torch.tensor([0.0, 1.0, 0.0]), 0.9)
    torch.testing.assert_close(y, torch.tensor([1.0 + 0.9 * 3.0, 0.0, -1.0 + 0.9 * 0.5]))


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_td_loss_counts_the_taken_action_only_and_its_closed_form_is_exact(reduction):
    q = torch.tensor([[1.0, 2.0], [0.0, -1.0]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)  # actions 1, 0; targets 0, 2
    td = reinforcement.TDLoss(reduction)
    loss = td(q, y)
    summed_by_hand = 0.5 * ((2.0 - 0.0) ** 2 + (0.0 - 2.0) ** 2)
    assert float(loss.detach()) == pytest.approx(summed_by_hand if reduction == "sum" else summed_by_hand / 2)
    (loss if reduction == "sum" else 2 * loss).backward()
    summed, grad = output_error(q.detach(), y, td, 1.0)
    assert float(summed) == pytest.approx(summed_by_hand) and torch.equal(grad, q.grad)
    assert grad[0, 0] == 0 and grad[1, 1] == 0


def test_dqn_runs_are_deterministic_per_seed():
    opts = {"episodes": 3, "max_steps": 30, "hidden": 8, "gamma": 0.98, "replay": 100, "batch_size": 8, "updates": 2,
            "epsilon_min": 0.05, "explore_fraction": 0.5, "inference_steps": 4, "inference_rate": 0.05, "inference_discount": 1.0}
    a, b = (pd.DataFrame(reinforcement.run("CartPole-v1", "pc", 0.03, 1, opts)) for _ in range(2))
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 3 and (a["return"] >= 1).all()


def test_per_class_subset_draws_n_of_every_class():
    from learnscope.data.prepare import prepare

    ds = prepare("digits", {"kind": "digits", "test_fraction": 0.25, "seed": 0})
    sub = per_class_subset(ds, 7, seed=3)
    assert np.bincount(sub.y_train).tolist() == [7] * 10
    assert np.array_equal(sub.x_test, ds.x_test)
    assert np.array_equal(per_class_subset(ds, 7, seed=3).x_train, sub.x_train)
    assert not np.array_equal(per_class_subset(ds, 7, seed=4).x_train, sub.x_train)
    with pytest.raises(ConfigError, match="per_class"):
        per_class_subset(ds, 1000, seed=0)


def _fear_bp_reference(lrs, group, mix0, iterations):
    """Backprop on fear = m_L p_L L + m_N p_N N written out by hand (p = 1 initially)."""
    p, m = np.ones(2), np.array(mix0, float)
    for cues, target in zip(fear_conditioning.GROUPS[group], (1.0, 0.0)):
        c = np.array(cues)
        for _ in range(iterations):
            err = float(m @ (p * c)) - target
            gp, gm = err * m * c, err * p * c
            p, m = p - lrs[0] * gp, m - np.array(lrs[1:]) * gm
    return float(m[1] * p[1])


def test_fear_conditioning_bp_matches_a_hand_implementation_and_only_pc_recovers_fear():
    opts = {"iterations": 16, "init_std": 0.01, "inference_steps": 64, "inference_rate": 0.5, "inference_discount": 0.5}
    lrs = (0.1, 0.1, 0.1)
    g = torch.Generator().manual_seed(0)
    mix0 = (0.1 + 0.01 * torch.randn(1, 2, generator=g, dtype=torch.float64)).abs()[0].tolist()
    bp = {grp: fear_conditioning.simulate("bp", lrs, grp, 0, opts) for grp in fear_conditioning.GROUPS}
    for grp, v in bp.items():
        assert v == pytest.approx(_fear_bp_reference(lrs, grp, mix0, 16), abs=1e-12)
    assert bp["LN+,L-"] == bp["LN+"] < bp["N+"]  # overshadowing; extinction of L cannot reach N under BP
    pc = {grp: fear_conditioning.simulate("pc", lrs, grp, 0, opts) for grp in fear_conditioning.GROUPS}
    assert pc["LN+"] < pc["N+"] and pc["LN+,L-"] > pc["LN+"] + 0.01


def test_pc_weight_gradients_of_a_linear_net_are_those_at_the_energy_minimum():
    """Linear one-hidden-layer PC: the relaxed value node solves (I + W2^T W2) x = W1 s + W2^T y."""
    g = torch.Generator().manual_seed(1)
    w1, w2 = torch.randn(3, 2, generator=g, dtype=torch.float64), torch.randn(2, 3, generator=g, dtype=torch.float64)
    s, y = torch.randn(1, 2, generator=g, dtype=torch.float64), torch.randn(1, 2, generator=g, dtype=torch.float64)
    x = torch.linalg.solve(torch.eye(3, dtype=torch.float64) + w2.T @ w2, (w1 @ s.T + w2.T @ y.T)).T
    expected = [-(x - s @ w1.T).T @ s, -(y - x @ w2.T).T @ x]
    opts = {"inference_steps": 2000, "inference_rate": 0.1, "inference_discount": 0.5}
    for got, want in zip(weight_gradients("pc", linear_layers(w1, w2), s, y, squared_loss, opts), expected):
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-8)  # 2000 steps: converged to ~1e-8
    bp = weight_gradients("bp", linear_layers(w1, w2), s, y, squared_loss, opts)
    e = s @ w1.T @ w2.T - y
    torch.testing.assert_close(bp[1], e.T @ (s @ w1.T))


def test_sensorimotor_a_cue_2_trial_moves_the_cue_1_prediction_only_under_pc():
    opts = {"inference_steps": 64, "inference_rate": 0.1, "inference_discount": 0.9}
    for rule, moved in (("bp", False), ("pc", True)):
        net = sensorimotor.Learner(rule, 0.1, 0.2, 0.5, 0, opts)
        probe = sensorimotor.trial("1", "0")[0]
        before = net.predict(probe)
        net.step(*sensorimotor.trial("2", "+"))
        change = float((net.predict(probe) - before).abs().max())
        assert (change > 1e-4) if moved else (change == 0.0)
        assert net.w1[0, 1] == 0 and net.w1[1, 0] == 0  # the cue-segregated mask holds
    wash = sensorimotor.Washout([2, 4, 6], np.random.default_rng(0))
    lengths = [len(wash.trials()) for _ in range(6)]
    assert sorted(lengths[:3]) == [2, 4, 6] and sorted(lengths[3:]) == [2, 4, 6]


def test_reversal_logs_the_trial_after_every_punishment():
    opts = {"init_std": 0.1, "trials": 60, "reverse_after": 4, "inference_steps": 8, "inference_rate": 0.1, "inference_discount": 0.9}
    rows = pd.DataFrame(reversal.simulate("bp", 0.1, 0, opts))
    assert len(rows) > 10 and rows["trial"].is_unique and rows["trial"].min() >= 1
    assert set(rows["switch"]) == {True, False}


def test_scale_fit_is_least_squares():
    k, err = scale_fit(np.array([1.0, 2.0, 0.0]), np.array([2.0, 4.0, 1.0]))
    assert k == pytest.approx(2.0) and err == pytest.approx(1.0 / 3)
    assert scale_fit(np.zeros(3), np.ones(3)) == (0.0, 1.0)


@pytest.mark.integration
def test_study_target_builds_on_smoke_config(smoke_build):
    project = smoke_build.study("prospective_configuration")
    figures = [
        "interference", "weight_space", "target_alignment", "prospective_index", "depth", "batch_size", "concept_drift", "continual",
        "few_data", "cnn", "reinforcement", "sensorimotor", "reversal", "fear_conditioning", "alignment_steps", "pc_equivalence",
    ]
    for fig in figures:
        for ext in ("png", "pdf", "csv"):
            assert project.path(f"figures/smoke/prospective_configuration/{fig}.{ext}").stat().st_size > 0
    rows = json.loads(project.path("results/smoke/prospective_configuration/claims.json").read_text())
    assert all(set(r) == set(KEYS) for r in rows)
    assert {r["figure"] for r in rows} == set(figures)
    gated = {r["id"].split(".", 1)[1]: r["pass"] for r in rows if r["gated"]}
    assert len(gated) == 11  # + reinforcement.bp_learns_cartpole: fails on smoke (4 episodes cannot learn)
    # deterministic or robust at any scale; the target-alignment gates need the default's 10 seeds
    # (PC - BP at depth 4 is 0.15 +- 0.03 over seeds, so 3 smoke seeds cannot resolve the 0.15 margin)
    robust = ("interference.pc_min_x1", "interference.bp_min_x1", "prospective_index.one_step")
    equivalence = [f"pc_equivalence.{loss}_{what}" for loss in ("squared_error", "cross_entropy") for what in ("small_beta", "differs_at_beta_one")]
    assert all(gated[k] for k in (*robust, *equivalence)), gated
    # every PC run of the lr grids recorded its relaxation's convergence; BP runs have none
    for grid in ("depth", "batch_size", "few_data", "cnn"):
        table = pd.read_csv(project.path(f"results/smoke/prospective_configuration/{grid}.csv"))
        assert table.loc[table.rule == "PC", "relax_move_max"].notna().all() and table.loc[table.rule == "BP", "relax_move_max"].isna().all(), grid
    reported = {r["id"].split(".", 1)[1]: r for r in rows if not r["gated"]}
    assert reported["fear_conditioning.bp_fear_unchanged"]["pass"]  # exact at any scale (BP cannot reach N)
    assert reported["fear_conditioning.pc_fear_recovers"]["pass"]


def test_reinforcement_figure_renders_an_environment_without_a_published_value(tmp_path):
    """The paper tier adds MountainCar-v0, for which Song et al. report no return: the figure says so
    instead of failing (a KeyError stopped the paper-shape build)."""
    rows = [
        {"env": env, "rule": rule, "lr": 0.01, "seed": seed, "episode": ep, "return": float(ep + seed + (rule == "PC"))}
        for env in ("CartPole-v1", "MountainCar-v0") for rule in ("BP", "PC") for seed in (0, 1) for ep in range(5)
    ]
    table = tmp_path / "rl.csv"
    pd.DataFrame(rows).to_csv(table, index=False)
    options = {"episodes": 5, "max_steps": 9, "updates": 2, "batch_size": 4, "seeds": [0, 1], "published": {"CartPole-v1": {"PC": 440, "BP": 335}},
               "learned": {"CartPole-v1": 150}}
    got = _check_claims(FIGURES["prospective_configuration"]["reinforcement"]([str(table)], str(tmp_path / "r.png"), options), "reinforcement")
    assert got["pc_minus_bp_mountaincar"]["value"] == pytest.approx(1.0) and "nan" in got["pc_minus_bp_mountaincar"]["claim"]
    assert (tmp_path / "r.png").stat().st_size > 0
    # BP's returns end at 4 + seed: mean over the last 10 (here all 5) episodes 2.5 over seeds, far below 150
    assert got["bp_learns_cartpole"]["value"] == pytest.approx(2.5) and not got["bp_learns_cartpole"]["pass"]
    assert "bp_learns_mountaincar" not in got
