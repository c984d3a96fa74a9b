"""Robust RNN representations (Farrell et al. 2022): the participation ratio, the QR Lyapunov spectrum,
the batched logistic regression, the initialisation, the online cluster task, the epoch loop (epoch 0 is
the untrained network) and the study target on the smoke tier."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from learnscope.analysis.cluster_holdout import fit_logistic, holdout_accuracy, paper_split, random_splits
from learnscope.analysis.lyapunov import lyapunov_spectrum
from learnscope.analysis.participation_ratio import participation_ratio
from learnscope.claims import KEYS
from learnscope.data.online import build_task, is_online
from learnscope.data.synthetic import min_separation
from learnscope.errors import ConfigError
from learnscope.models import build_model
from learnscope.record import open_run
from learnscope.rules import build_rule
from learnscope.train import train_run
from learnscope.train.online import online_loss

torch.set_num_threads(1)

TASK = {"name": "c", "kind": "delayed_clusters", "dim": 5, "n_clusters": 12, "n_classes": 2, "sigma": 0.02}
RNN = {"kind": "rnn", "hidden_size": 16, "steps": 4, "recurrent_init": "identity_plus_normalized", "gain": 20.0, "dt": 0.01,
       "input_init": "orthogonal", "train_input": False, "readout_scale": 0.3, "zero_bias": True}


# --- participation ratio -------------------------------------------------------------------------------

def test_participation_ratio_isotropic_is_n_and_rank_one_is_one():
    rng = np.random.default_rng(0)
    assert participation_ratio(rng.standard_normal((200_000, 8))) == pytest.approx(8.0, rel=2e-3)
    line = np.outer(rng.standard_normal(300), rng.standard_normal(20)) + 5.0  # rank 1 after centring
    assert participation_ratio(line) == pytest.approx(1.0, abs=1e-10)


def test_participation_ratio_matches_eigenvalues_and_uses_gram_when_wide():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((30, 6)) * np.array([3.0, 2.0, 1.0, 0.5, 0.1, 0.01])
    lam = np.linalg.eigvalsh(np.cov(x, rowvar=False))
    assert participation_ratio(x) == pytest.approx(lam.sum() ** 2 / (lam**2).sum(), rel=1e-10)
    wide = rng.standard_normal((10, 50))  # M < N: the Gram-matrix route
    lam = np.linalg.eigvalsh(np.cov(wide, rowvar=False))
    assert participation_ratio(wide) == pytest.approx(lam.sum() ** 2 / (lam**2).sum(), rel=1e-10)
    np.testing.assert_allclose(participation_ratio(np.stack([x, 2 * x])), [participation_ratio(x)] * 2)


# --- Lyapunov spectrum ----------------------------------------------------------------------------------

def test_lyapunov_spectrum_of_a_linear_map_is_log2_of_eigenvalue_moduli():
    a = np.diag([1.5, 0.9, 0.5, 0.3, 0.2])
    a[0, 1], a[1, 3], a[2, 4] = 0.7, -0.4, 1.1  # non-normal: singular values differ from the eigenvalues
    expected = np.log2([1.5, 0.9, 0.5])
    for qr_every in (1, 5):
        got = lyapunov_spectrum(a, None, 3, n_iter=400, n_init=2, activation="linear", qr_every=qr_every)
        np.testing.assert_allclose(got.mean, expected, atol=5e-3)
        assert got.per_init.shape == (2, 3) and got.drift < 0.05


def test_lyapunov_spectrum_of_a_contracting_tanh_net_is_its_linearisation_at_zero():
    # b = 0: h = 0 is a fixed point, tanh'(0) = 1, and a contracting W pulls every state onto it.
    w = np.diag([0.8, 0.5, 0.25, 0.1])
    got = lyapunov_spectrum(w, np.zeros(4), 2, n_iter=3000, n_init=3, activation="tanh")
    np.testing.assert_allclose(got.mean, np.log2([0.8, 0.5]), atol=1e-2)


def test_lyapunov_exponents_are_sorted_with_a_standard_error_and_burn_in_removes_the_transient():
    # Directions start as e_1, e_2: on diag(0.3, 0.9) QR keeps them unsorted (0.3's first) unless sorted.
    w = np.diag([0.3, 0.9, 0.1])
    got = lyapunov_spectrum(w, None, 2, n_iter=50, n_init=4, activation="linear")
    assert (np.diff(got.per_init, axis=1) <= 0).all()
    np.testing.assert_allclose(got.mean, np.log2([0.9, 0.3]), atol=1e-9)
    assert got.sem == pytest.approx([0.0, 0.0], abs=1e-12)  # a linear map: every initial condition agrees
    rng = np.random.default_rng(0)
    chaotic = 3.0 * rng.standard_normal((60, 60)) / np.sqrt(60)  # tanh net with gain 3: chaotic, lambda_1 > 0
    a = lyapunov_spectrum(chaotic, None, 3, n_iter=400, n_init=6, seed=1, burn_in=0)
    b = lyapunov_spectrum(chaotic, None, 3, n_iter=400, n_init=6, seed=1, burn_in=300)
    assert a.mean[0] > 0 and b.mean[0] > 0
    assert np.isfinite(b.sem).all() and (b.sem > 0).all() and (b.sem < 0.05).all()
    assert not np.allclose(a.per_init, b.per_init)  # the burn-in moves the averaging window
    single = lyapunov_spectrum(chaotic, None, 2, n_iter=50, n_init=1)
    assert np.isnan(single.sem).all()


# --- held-out-cluster logistic regression ---------------------------------------------------------------

def test_batched_logistic_regression_matches_sklearn():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 6))
    y = (x[:, 0] + 0.8 * rng.standard_normal(300) > 0).astype(int)  # not separable: a unique, finite optimum
    weights = np.ones((2, 300))
    weights[1, :120] = 0.0
    beta = fit_logistic(x, y, weights, c=1.0, tol=1e-14)
    for s in range(2):
        ref = LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000).fit(x[weights[s] > 0], y[weights[s] > 0])
        np.testing.assert_allclose(beta[s, :-1], ref.coef_[0], atol=1e-6)
        assert beta[s, -1] == pytest.approx(ref.intercept_[0], abs=1e-6)


def test_holdout_accuracy_splits_by_cluster():
    assert paper_split(60).sum() == 49  # ids 0..48 train, as round(0.8 * 60) = 48 is inclusive
    splits = random_splits(60, 10, 0.8, seed=0)
    assert splits.shape == (10, 60) and (splits.sum(1) == 48).all() and len({tuple(s) for s in splits}) == 10
    rng = np.random.default_rng(3)
    cluster = np.arange(240) % 60
    labels = cluster % 2
    x = np.where(labels[:, None] == 1, 1.0, -1.0) * np.array([1.0, 0.0]) + 0.05 * rng.standard_normal((240, 2))
    train_acc, test_acc = holdout_accuracy(x, labels, cluster, np.concatenate([paper_split(60)[None], splits]))
    assert (train_acc == 1.0).all() and (test_acc == 1.0).all()  # classes collapsed on a line: generalises
    x_random = rng.standard_normal((240, 2))  # labels unrelated to position: held-out clusters near chance
    _, test_acc = holdout_accuracy(x_random, labels, cluster, splits)
    assert abs(test_acc.mean() - 0.5) < 0.15


# --- initialisation -------------------------------------------------------------------------------------

@pytest.mark.parametrize("gamma", [20.0, 250.0])
def test_recurrent_init_is_099_identity_plus_scaled_unit_radius_j(gamma):
    torch.manual_seed(0)
    model = build_model({**RNN, "hidden_size": 100, "gain": gamma}, (5,), 2)
    w = model.hidden.recurrent.weight.detach().double().numpy()
    j = (w - 0.99 * np.eye(100)) / (0.01 * gamma)
    assert np.abs(np.linalg.eigvals(j)).max() == pytest.approx(1.0, abs=1e-5)
    assert np.abs(np.linalg.eigvals(w) - 0.99).max() == pytest.approx(0.01 * gamma, rel=1e-5)
    assert np.abs(j).std() > 0 and abs(j.std() * math.sqrt(100) - 1.0) < 0.3  # J ~ N(0, 1/N) before scaling


def test_input_weights_orthogonal_identity_and_frozen():
    torch.manual_seed(0)
    model = build_model({**RNN, "input_scale": 2.0}, (5,), 2)
    u = model.hidden.input.weight.detach().double().numpy()
    gram = u.T @ u
    np.testing.assert_allclose(gram, gram[0, 0] * np.eye(5), atol=1e-5)  # orthogonal columns
    assert np.abs(u).mean() * math.sqrt(5) == pytest.approx(2.0, rel=1e-5)
    assert float(model.hidden.input.bias.detach().abs().max()) == 0.0 and float(model.out.bias.detach().abs().max()) == 0.0
    two = build_model({**RNN, "input_init": "identity"}, (2,), 2).hidden.input.weight.detach().numpy()
    np.testing.assert_array_equal(two, np.eye(16, 2))  # coordinate i drives unit i only
    rule = build_rule({"name": "rmsprop", "lr": 0.01, "alpha": 0.9})
    model = rule.setup(model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rule.step(model, torch.randn(8, 5), torch.randint(0, 2, (8,)), torch.nn.functional.cross_entropy)
    after = model.state_dict()
    assert torch.equal(before["hidden.input.weight"], after["hidden.input.weight"])
    for k in ("hidden.recurrent.weight", "hidden.input.bias", "out.weight", "out.bias"):
        assert not torch.equal(before[k], after[k]), k


def test_trajectory_extends_the_forward_pass_with_zero_input():
    torch.manual_seed(0)
    model = build_model(RNN, (5,), 2)
    x = torch.randn(7, 5)
    traj = model.trajectory(x, 9)
    torch.testing.assert_close(model.out(traj[:, 3]), model(x))  # steps = 4: the output at t = 4
    w, b = model.hidden.recurrent.weight, model.hidden.input.bias
    torch.testing.assert_close(traj[:, 8], torch.tanh(traj[:, 7] @ w.T + b))  # autonomous after t = 1


# --- the online task --------------------------------------------------------------------------------------

def test_cluster_task_separation_labels_and_fresh_samples():
    spec = {**TASK, "dim": 2, "n_clusters": 60}
    task = build_task(spec, seed=4)
    d = np.linalg.norm(task.centres[:, None] - task.centres[None], axis=-1)[np.triu_indices(60, 1)]
    assert d.min() >= min_separation(0.02, 2) == pytest.approx(0.02 * (0.59943537 + 4.891638480163717))
    assert np.abs(task.centres).max() <= 2.0
    np.testing.assert_array_equal(task.labels, np.arange(60) % 2)
    rng = np.random.default_rng(0)
    x1, y1, c1 = task.sample(800, rng)
    x2, _, _ = task.sample(800, rng)
    assert not np.allclose(x1, x2)  # every epoch is fresh
    np.testing.assert_array_equal(y1, c1 % 2)
    assert (x1 - task.centres[c1]).std() == pytest.approx(0.02, rel=0.05)
    _, _, cb = task.balanced(500, rng)
    assert np.bincount(cb).min() == 8 and np.bincount(cb).max() == 9
    np.testing.assert_array_equal(build_task(spec, 4).centres, task.centres)
    assert not np.allclose(build_task(spec, 5).centres, task.centres)  # centres per run seed
    assert is_online(spec) and not is_online({"kind": "digits"})
    with pytest.raises(ConfigError, match="could not place"):
        build_task({**spec, "n_clusters": 500, "sigma": 0.5}, 0)


def test_cluster_centres_follow_the_original_code_or_an_independent_stream():
    spec = {**TASK, "dim": 2, "n_clusters": 60}
    original = build_task(spec, seed=0).centres  # the default: Farrell et al.'s np.random.seed(2 * seed + 1)
    np.testing.assert_array_equal(original[0], 4 * (np.random.RandomState(1).rand(2) - 0.5))  # first draw, always kept
    np.testing.assert_array_equal(build_task({**spec, "centres": "original"}, 3).centres[0], 4 * (np.random.RandomState(7).rand(2) - 0.5))
    independent = build_task({**spec, "centres": "independent"}, seed=0).centres
    np.testing.assert_array_equal(independent[0], np.random.default_rng([0, 17]).uniform(-2, 2, size=2))
    for c in (original, independent):
        d = np.linalg.norm(c[:, None] - c[None], axis=-1)[np.triu_indices(60, 1)]
        assert d.min() >= min_separation(0.02, 2) and np.abs(c).max() <= 2.0
    with pytest.raises(ConfigError, match="centres 'legacy' is not known"):
        build_task({**spec, "centres": "legacy"}, 0)


def test_mse_onehot_loss_and_plateau_schedule():
    out, y = torch.tensor([[0.2, 0.1], [0.0, 1.0]]), torch.tensor([0, 1])
    target = torch.tensor([[0.7, 0.0], [0.0, 0.7]])
    assert float(online_loss({"loss": "mse_onehot"}, 2)(out, y)) == pytest.approx(float(((out - target) ** 2).mean()))
    rule = build_rule({"name": "rmsprop", "lr": 1e-3, "alpha": 0.9, "scheduler": {"kind": "plateau", "factor": 0.5, "patience": 5, "threshold": 1e-7}})
    rule.setup(torch.nn.Linear(2, 2))
    lrs = []
    for _ in range(13):
        rule.epoch_end(1.0)  # never improves: halved after more than `patience` bad epochs, then again
        lrs.append(rule.learning_rate())
    assert lrs[5] == 1e-3 and lrs[6] == 5e-4 and lrs[12] == 2.5e-4
    with pytest.raises(ConfigError, match="scheduler"):
        build_rule({"name": "predictive_coding", "lr": 0.1, "scheduler": {"kind": "plateau"}}).epoch_end(1.0)


def _run(tmp_path, epochs=2, seed=3):
    run = {"dataset": TASK, "model": RNN, "rule": {"name": "rmsprop", "lr": 1e-2, "alpha": 0.9, "scheduler": {"kind": "plateau"}},
           "train": {"epochs": epochs, "samples_per_epoch": 40, "validation_samples": 12, "batch_size": 10, "eval_samples": 48, "loss": "cross_entropy"},
           "record": {"probe_samples": 24, "probe_steps": 6, "trajectory_epochs": [0, 1]},
           "seed": seed, "device": "cpu", "labels": {"rule": "cce", "model": "g20"}}
    return run, train_run(run, None, tmp_path / "run.h5")


def test_epoch_zero_of_the_record_is_the_untrained_network(tmp_path):
    run, path = _run(tmp_path)
    torch.manual_seed(run["seed"])
    fresh = build_model(RNN, (TASK["dim"],), 2)
    with open_run(path) as rec:
        assert rec.status == "complete" and list(rec.steps) == [0, 4, 8]
        for k, v in fresh.state_dict().items():
            np.testing.assert_array_equal(rec.checkpoint(k)[0], v.numpy())
        assert not np.array_equal(rec.checkpoint("hidden.recurrent.weight")[2], fresh.hidden.recurrent.weight.detach().numpy())
        np.testing.assert_array_equal(rec.array("trajectories/epoch"), [0, 1, 2])
        probe = torch.as_tensor(rec.array("probe/x"))
        with torch.no_grad():
            np.testing.assert_allclose(rec.array("trajectories/hidden")[0], fresh.trajectory(probe, 6).numpy(), atol=1e-6)
        np.testing.assert_array_equal(rec.array("probe/labels"), rec.array("probe/cluster") % 2)
        assert rec.per_step("batch_loss").shape == (8,)
        assert set(rec.scalar_names) == {"acc", "loss", "val_loss", "lr"}
    _, again = _run(tmp_path / "again")
    assert again.read_bytes() == path.read_bytes()  # byte-deterministic


@pytest.mark.integration
def test_robust_rnn_target_smoke(smoke_build):
    project = smoke_build.study("robust_rnn")
    figures = ["fig2_high_d", "fig3_low_d", "fig2_high_d_independent", "fig3_low_d_independent", "fig4_two_neuron", "fig5_mse", "supp_gamma_sweep"]
    for fig in figures:
        for ext in ("png", "pdf", "csv"):
            assert project.path(f"figures/smoke/robust_rnn/{fig}.{ext}").stat().st_size > 0
    claims = json.loads(project.path("results/smoke/robust_rnn/claims.json").read_text())
    assert {c["figure"] for c in claims} == set(figures)
    assert all(set(c) == set(KEYS) for c in claims)
    # contract v2: every claim states kind and source, every gated claim of kind claim its negative control
    assert all(c["kind"] in ("claim", "check") and c["source"] for c in claims)
    assert all(c["control"] is not None for c in claims if c["gated"] and c["kind"] == "claim")
    by_id = {c["id"]: c for c in claims}
    # robust at any scale: training compresses the high-d edge-of-chaos net and it learns the task
    assert by_id["robust_rnn.fig2_high_d.pr_after_g20"]["pass"] and by_id["robust_rnn.fig2_high_d.final_acc_g20"]["pass"]
    assert by_id["robust_rnn.fig2_high_d.lyap_edge_final"]["pass"]
    # the science note's acceptance tests are gated claims, in both centre modes; the MSE gate needs a net that learnt
    for fig in ("fig2_high_d", "fig2_high_d_independent"):
        for g in (20, 250):
            assert by_id[f"robust_rnn.{fig}.acc_before_g{g}"]["gated"] and by_id[f"robust_rnn.{fig}.holdout_before_g{g}"]["gated"]
    assert by_id["robust_rnn.fig3_low_d.peak_gap"]["gated"] and by_id["robust_rnn.fig3_low_d_independent.peak_gap"]["gated"]
    assert by_id["robust_rnn.fig5_mse.learned_high-d_g20"]["gated"] and by_id["robust_rnn.fig5_mse.milder_high-d_g20"]["gated"]
    assert "pass on their own" in by_id["robust_rnn.fig2_high_d.pr_after_g20"]["claim"]
    # the gamma-sweep run at gamma 20, seed 0 is the low-d run itself: one configuration, one record
    assert len(list(project.path("results/smoke/runs").glob("cce-g20-clusters_low_d-s0-*.h5"))) == 1


# --- statistics over seeds and the gated claims ----------------------------------------------------------

def test_t_interval_and_per_seed_pass_rate():
    from scipy import stats

    from learnscope.figures.robust_rnn import _claim, mean_ci

    v = np.array([1.0, 2.0, 4.0, 7.0])
    mean, lo, hi = mean_ci(v, 0.95)
    half = stats.t.ppf(0.975, 3) * v.std(ddof=1) / 2.0
    assert (mean, lo, hi) == pytest.approx((3.5, 3.5 - half, 3.5 + half))
    assert np.isnan(mean_ci([5.0], 0.95)[1])  # one seed: no interval
    c = _claim("x", "fig", "value below 3", pd.Series([1.0, 2.0, 4.0, 7.0, np.nan]), "<", 3.0, 0.95, ref="r")
    assert not c.passed and c.value == 3.5 and "mean over 4 seeds" in c.claim and "2/4 pass on their own" in c.claim and "t-interval" in c.claim
    assert c.spread == pytest.approx(v.std(ddof=1)) and c.kind == "claim" and c.source == "pilot"
    # the negative control: its mean under the same test must fail for the claim to pass
    good = pd.Series([1.0, 2.0, 2.5])
    assert _claim("x", "fig", "t", good, "<", 3.0, 0.95, ref="r", control=("untrained", pd.Series([5.0, 6.0]))).passed
    mixed = _claim("x", "fig", "t", good, "<", 3.0, 0.95, ref="r", control=("untrained", pd.Series([1.0, 6.0])))
    assert mixed.passed and mixed.control.value == 3.5 and mixed.control.passed is False  # the control's mean is tested
    assert not _claim("x", "fig", "t", good, "<", 3.0, 0.95, ref="r", control=("untrained", pd.Series([1.0, 2.0]))).passed


def _metrics_csv(path, *, gamma, dim, loss, seed, acc_final, pr_before, pr_after, epochs=3):
    """A per-run measurement table as ``analysis.robust_rnn`` writes it (the quantities fig5 reads; t = 0 is
    the input, the same for every run of a seed)."""
    rows = [("acc", e, -1, 0.5 if e == 0 else acc_final) for e in range(epochs + 1)]
    rows += [("pr", e, t, 45.0 if t == 0 else (pr_before if e == 0 else pr_after) * (1 + 0.01 * t)) for e in (0, epochs) for t in range(12)]
    df = pd.DataFrame(rows, columns=["quantity", "epoch", "t", "value"]).assign(index=-1)
    cond = {"run_id": f"{loss}-g{gamma}-d{dim}-s{seed}", "gamma": gamma, "dim": dim, "input": "orthogonal", "loss": loss,
            "lr0": 1e-3, "seed": seed, "status": "complete"}
    for k, v in reversed(list(cond.items())):
        df.insert(0, k, v)
    df.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("mse_acc", [0.99, 0.6])
def test_mse_milder_compression_is_gated_on_the_mse_net_having_learnt(tmp_path, mse_acc):
    from learnscope.figures.robust_rnn import fig5_mse

    options = {"claims": {"mse_milder": 1.0, "mse_min_acc": 0.9}, "figures": {"eval_time": 10, "ci": 0.95}}
    inputs = []
    for seed in range(3):
        for dim in (200, 2):
            # the MSE net stays high-dimensional: "milder compression" holds whether or not it learnt
            inputs.append(_metrics_csv(tmp_path / f"m{dim}{seed}.csv", gamma=20.0, dim=dim, loss="mse_onehot", seed=seed,
                                       acc_final=mse_acc, pr_before=30.0, pr_after=20.0))
            inputs.append(_metrics_csv(tmp_path / f"c{dim}{seed}.csv", gamma=20.0, dim=dim, loss="cross_entropy", seed=seed,
                                       acc_final=1.0, pr_before=30.0, pr_after=1.2))
    claims = {c.id.split(".")[-1]: c for c in fig5_mse(inputs, str(tmp_path / "fig5.png"), options)}
    assert claims["milder_high-d_g20"].passed and claims["milder_high-d_g20"].gated
    assert claims["learned_high-d_g20"].gated and claims["learned_high-d_g20"].passed == (mse_acc >= 0.9)
    assert not claims["learned_low-d_g20"].gated
