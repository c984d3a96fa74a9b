"""identify_rules (Nayebi et al., NeurIPS 2020): observable statistics, measurement model, splits,
metrics and classifiers, against closed forms and independent implementations; one smoke build."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import torch
from scipy.stats import norm as gaussian

from learnscope.analysis import observables as ob
from learnscope.analysis import rule_classifiers as rc
from learnscope.errors import ConfigError



# ------------------------------------------------------------------------------------------- statistics
def test_statistics_match_numpy_and_scipy():
    x = np.array([[1.0, 2.0, 3.0, 4.0, 10.0], [-3.0, 0.5, 0.5, 2.0, 7.0]])
    s = ob.statistics(x, axis=-1)
    np.testing.assert_allclose(s["norm"], np.linalg.norm(x, axis=1))
    np.testing.assert_allclose(s["mean"], x.mean(1))
    np.testing.assert_allclose(s["var"], np.var(x, axis=1, ddof=0))
    np.testing.assert_allclose(s["median"], np.median(x, axis=1))
    np.testing.assert_allclose(s["thirdquartile"], np.percentile(x, 75, axis=1))
    # Pearson's second skewness coefficient: 3 (mean - median) / sd; row 0: 3 (4 - 3) / sqrt(10)
    np.testing.assert_allclose(s["skew"][0], 3.0 * (4.0 - 3.0) / np.sqrt(10.0))
    np.testing.assert_allclose(s["skew"], 3 * (x.mean(1) - np.median(x, 1)) / x.std(1))
    # kurtosis is E[(x - mean)^4] / var^2, not excess: scipy's fisher=False
    np.testing.assert_allclose(s["kurtosis"], scipy.stats.kurtosis(x, axis=1, fisher=False))
    np.testing.assert_allclose(s["kurtosis"][0], np.mean((x[0] - 4) ** 4) / 10.0**2)


def test_statistics_reduce_any_axis_and_gaussian_kurtosis_is_three():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 200_000))
    s = ob.statistics(x.T, axis=0)
    np.testing.assert_allclose(s["kurtosis"], 3.0, atol=0.05)
    np.testing.assert_allclose(s["skew"], 0.0, atol=0.03)
    np.testing.assert_allclose(s["thirdquartile"], gaussian.ppf(0.75), atol=0.01)


def test_obs_keys_are_45_of_which_24_admissible():
    assert len(ob.OBS_KEYS) == 45 == len(set(ob.OBS_KEYS))
    assert len(ob.ADMISSIBLE) == 24 and ob.ADMISSIBLE <= set(ob.OBS_KEYS)
    by_measure = {m: sum(k.startswith(m) for k in ob.ADMISSIBLE) for m in ("weight", "act", "gradavg")}
    assert by_measure == {"weight": 13, "act": 8, "gradavg": 3}
    assert not any("skew" in k or "kurtosis" in k for k in ob.ADMISSIBLE)
    assert "weightsq_norm" not in ob.ADMISSIBLE and "actsq_mean" not in ob.ADMISSIBLE and "actraw_var" not in ob.ADMISSIBLE
    assert {len(v) for v in rc.FEATURE_SETS.values()} == {24, 13, 8, 3}


def test_layer_observables_layout():
    rng = np.random.default_rng(1)
    w, a, g = rng.normal(size=(4, 30)), rng.normal(size=(4, 5, 12)), rng.normal(size=(4, 5))
    obs = ob.layer_observables(w, a, g)
    assert obs.shape == (4, 45)
    k = ob.OBS_KEYS.index
    np.testing.assert_allclose(obs[:, k("weightabs_median")], np.median(np.abs(w), axis=1))
    np.testing.assert_allclose(obs[:, k("weightsq_mean")], (w**2).mean(1))
    # activations: statistic over the units of each example, then the mean over examples
    np.testing.assert_allclose(obs[:, k("actraw_norm")], np.linalg.norm(a, axis=2).mean(1))
    np.testing.assert_allclose(obs[:, k("gradavgsq_id")], (g**2).mean(1))
    np.testing.assert_allclose(obs[:, k("gradavgabs_id")], np.abs(g).mean(1))


def test_group_layers_thirds_with_remainder_deep():
    assert ob.group_layers(3).tolist() == [0, 1, 2]
    assert ob.group_layers(4).tolist() == [0, 1, 2, 2]
    assert ob.group_layers(5).tolist() == [0, 1, 2, 2, 2]
    assert ob.group_layers(7).tolist() == [0, 0, 1, 1, 2, 2, 2]
    with pytest.raises(ConfigError, match="at least 3"):
        ob.group_layers(2)


# ------------------------------------------------------------------------------------ measurement model
def test_subsampling_keeps_the_same_units_at_every_time_point():
    T, n = 6, 500
    w = np.arange(n)[None, :] + 1000.0 * np.arange(T)[:, None]  # entry value names the unit (+1000 t)
    kept = ob.measure_weights(w, {"count": 40}, [3, 1])
    assert kept.shape == (T, 40)
    units = kept - 1000.0 * np.arange(T)[:, None]
    assert (units == units[0]).all() and len(np.unique(units[0])) == 40
    a = np.broadcast_to(np.arange(64.0)[None, None, :] + 1000.0 * np.arange(T)[:, None, None], (T, 7, 64))
    ka = ob.measure_activations(a, {"fraction": 0.1}, [3, 1])
    assert ka.shape == (T, 7, 7)  # ceil(0.1 * 64) units, every example kept
    ua = ka - 1000.0 * np.arange(T)[:, None, None]
    assert (ua == ua[0, 0]).all()
    assert ob.n_kept(10, {"count": 32}) == 10 and ob.n_kept(64, {}) == 64 and ob.n_kept(65, {"fraction": 0.5}) == 33


def test_noise_model_is_gaussian_fresh_per_time_point_and_seeded():
    zeros = np.zeros((3, 20_000))
    noisy = ob.measure_weights(zeros, {"noise": 0.5}, [0, 0])
    assert abs(noisy.std() - 0.5) < 0.01 and abs(noisy.mean()) < 0.01
    assert not np.allclose(noisy[0], noisy[1])  # fresh at every record point
    np.testing.assert_array_equal(noisy, ob.measure_weights(zeros, {"noise": 0.5}, [0, 0]))
    assert np.array_equal(ob.measure_weights(zeros, {}, [0, 0]), zeros)  # clean: untouched


def _probe_for(model: torch.nn.Module) -> ob.LayerProbe:
    probe = ob.LayerProbe({"model": {"kind": "mlp", "hidden": [5], "activation": "tanh"}}, (4,), 3)
    probe.model.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    return probe


def test_activity_change_is_the_subset_jacobian_sum():
    torch.manual_seed(0)
    from learnscope.models import MLP

    mlp = MLP((4,), 3, [5], activation="tanh")
    probe = _probe_for(mlp)
    x = np.random.default_rng(0).normal(size=(6, 4))
    _, acts, xin = probe.forward(x)
    s_in, s_out = np.array([0, 2, 3]), np.array([1, 4])
    g = probe.activity_change("fc1", xin["fc1"], s_in, s_out)
    W = probe.model.net.fc1[0].weight.detach().numpy()
    y = acts["fc1"]
    # tanh layer: dy_j/dx_i = (1 - y_j^2) W_ji
    expected = ((1 - y[:, s_out] ** 2) * W[s_out][:, s_in].sum(1)).sum(1) / len(s_out)
    np.testing.assert_allclose(g, expected, rtol=1e-10)
    # the linear read-out: independent of x
    g_out = probe.activity_change("out", xin["out"], np.arange(5), np.arange(3))
    np.testing.assert_allclose(g_out, probe.model.net.out.weight.detach().numpy().sum() / 3, rtol=1e-10)


def test_relative_noise_scales_with_the_measured_quantity_and_absolute_noise_does_not():
    rng = np.random.default_rng(3)
    w = rng.normal(size=(5, 40, 30))
    for scale in (1e-3, 1.0, 1e3):
        rel = ob.measure_weights(w * scale, {"relative_noise": 0.5}, [0, 0]) - (w * scale).reshape(5, -1)
        np.testing.assert_allclose(rel.std() / (w * scale).std(), 0.5, rtol=0.05)
        ab = ob.measure_weights(w * scale, {"noise": 0.5}, [0, 0]) - (w * scale).reshape(5, -1)
        np.testing.assert_allclose(ab.std(), 0.5, rtol=0.05)
    assert ob.noise_sd(w, {}) == 0.0 and ob.noise_sd(w, {"noise": 0.2}) == 0.2
    np.testing.assert_allclose(ob.noise_sd(w, {"relative_noise": 2.0}), 2.0 * w.std())


# -------------------------------------------------------------------------------------------- splits
def test_balanced_splits_are_75_25_per_class_and_disjoint():
    y = np.repeat(np.arange(4), [40, 40, 44, 41])
    splits = rc.balanced_splits(y, 10, 0.25, seed=0)
    assert len(splits) == 10
    for tr, te in splits:
        assert np.bincount(y[te]).tolist() == [10] * 4
        assert np.bincount(y[tr]).tolist() == [30] * 4
        assert not set(tr) & set(te)
    assert not np.array_equal(splits[0][1], splits[1][1])
    again = rc.balanced_splits(y, 10, 0.25, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, again))


def test_network_split_never_shares_a_network_between_train_and_test():
    rules = ["a", "b", "c", "d"]
    configs, y, networks = [], [], []
    for cfg in range(12):
        for r in range(4):
            for layer in range(3 + cfg % 3):
                configs.append(f"cfg{cfg}")
                y.append(r)
                networks.append(f"{rules[r]}-cfg{cfg}")
    configs, y, networks = np.array(configs), np.array(y), np.array(networks)
    for tr, te in rc.network_splits(y, configs, 5, 0.25, seed=0):  # groups: the configurations
        assert not set(networks[tr]) & set(networks[te])
        assert len(np.unique(configs[te])) == 3
        counts = np.bincount(y[te])
        assert (counts == counts[0]).all()  # every rule of a held-out configuration is held out


def test_network_split_needs_two_groups():
    with pytest.raises(ConfigError, match="at least 2 network groups"):
        rc.network_splits(np.zeros(4, int), np.array(["g"] * 4), 2)


def test_initialisation_groups_join_networks_sharing_any_layer_init():
    """Networks a (2 layers), b (its first layer starts like a's: an MLP of another depth with the same
    seed) and c (own weights): a and b form one group although no whole network matches."""
    rng = np.random.default_rng(0)
    w1, w2, w3, w4 = (rng.normal(size=5) for _ in range(4))
    X0 = np.array([w1, w2, w1, w3, w4])
    networks = np.array(["a", "a", "b", "b", "c"])
    g = rc.initialisation_groups(X0, networks)
    assert g[0] == g[1] == g[2] == g[3] and g[4] != g[0]
    # the same weights up to float round-off (1e-14 relative) are the same initialisation
    g2 = rc.initialisation_groups(np.array([w1, w1 * (1 + 1e-14), w3]), np.array(["a", "b", "c"]))
    assert g2[0] == g2[1] != g2[2]


def test_initialisation_groups_on_real_models_follow_weights_not_labels():
    """mlp3 relu/tanh with one seed start alike, and an mlp4 with that seed shares their first layer:
    grouping by (architecture, seed) would leave those initialisations on both sides of a split."""
    from learnscope.models import build_model

    rows, nets = [], []
    for arch, hidden, act in (("mlp3_relu", [32, 16], "relu"), ("mlp3_tanh", [32, 16], "tanh"), ("mlp4_relu", [32, 24, 16], "relu")):
        for seed in (0, 1):
            torch.manual_seed(seed)
            model = build_model({"kind": "mlp", "hidden": hidden, "activation": act}, (64,), 10)
            for m in model.modules():
                if isinstance(m, torch.nn.Linear):
                    w = m.weight.detach().numpy().ravel()
                    rows.append([np.linalg.norm(w), np.median(w), np.abs(w).mean()])
                    nets.append(f"{arch}-s{seed}")
    g = rc.initialisation_groups(np.array(rows), np.array(nets))
    by_net = dict(zip(nets, g))
    assert by_net["mlp3_relu-s0"] == by_net["mlp3_tanh-s0"] == by_net["mlp4_relu-s0"]
    assert by_net["mlp3_relu-s0"] != by_net["mlp3_relu-s1"]
    assert len(set(g)) == 2


def test_shuffled_labels_permute_networks_within_configurations():
    configs, networks, y = [], [], []
    for cfg in range(30):
        for r in range(4):
            for layer in range(3):
                configs.append(f"c{cfg}")
                networks.append(f"r{r}-c{cfg}")
                y.append(r)
    configs, networks, y = np.array(configs), np.array(networks), np.array(y)
    fake = rc.shuffled_labels(y, configs, networks, seed=0)
    for c in np.unique(configs):  # one network per label in every configuration
        assert sorted(fake[configs == c]) == sorted(y[configs == c])
    for n in np.unique(networks):  # every layer of a network keeps one label
        assert len(set(fake[networks == n])) == 1
    assert 0.1 < np.mean(fake == y) < 0.45  # a permutation, not the identity (expected 1/4)
    assert np.array_equal(fake, rc.shuffled_labels(y, configs, networks, seed=0))


def test_transfer_split_trains_on_pool_and_tests_on_held_out():
    y = np.tile(np.arange(4), 30)
    held = np.arange(len(y)) >= 80
    for tr, te in rc.transfer_splits(y, ~held, held, 3):
        assert held[te].all() and not held[tr].any() and len(te) == held.sum()
        assert np.bincount(y[tr]).tolist() == [20] * 4


# ------------------------------------------------------------------------------------------- metrics
def test_dprime_and_balanced_accuracy_from_a_known_confusion():
    conf = np.array([[8.0, 2.0], [1.0, 9.0]])
    tpr0, fpr0 = 0.8, 0.1
    np.testing.assert_allclose(rc.dprime(conf)[0], gaussian.ppf(tpr0) - gaussian.ppf(fpr0))
    np.testing.assert_allclose(rc.dprime(conf)[0], 2.123172, atol=1e-6)
    np.testing.assert_allclose(rc.balanced_accuracy(conf), [(0.8 + 0.9) / 2, (0.9 + 0.8) / 2])
    perfect = np.diag([5.0, 5.0, 5.0])
    assert rc.dprime(perfect).tolist() == [5.0, 5.0, 5.0]  # +inf clipped
    assert rc.confusion(np.array([0, 1, 1, 2]), np.array([0, 2, 1, 2]), 3).tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


def test_features_are_observable_major_with_positions_first():
    X = np.zeros((2, 3, 45))
    a, b = ob.OBS_KEYS.index("weightraw_mean"), ob.OBS_KEYS.index("actabs_norm")
    X[:, :, a] = [10, 11, 12]
    X[:, :, b] = [20, 21, 22]
    f = rc.features(X, np.array([0, 2]), ["weightraw_mean", "actabs_norm"])
    assert f[0].tolist() == [1, 0, 0, 10, 11, 12, 20, 21, 22]
    assert f[1, :3].tolist() == [0, 0, 1]
    f2 = rc.features(X, np.array([0, 2]), ["actabs_norm"], times=[0, 2])
    assert f2[0].tolist() == [1, 0, 0, 20, 22]


def test_zscore_uses_train_statistics_and_skips_positions():
    rng = np.random.default_rng(0)
    tr = np.concatenate([np.eye(3)[rng.integers(0, 3, 50)], rng.normal(5, 3, (50, 4))], axis=1)
    te = tr[:5] + 1.0
    ztr, zte = rc.zscore(tr, te)
    np.testing.assert_allclose(ztr[:, 3:].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(ztr[:, 3:].std(0), 1, atol=1e-12)
    np.testing.assert_array_equal(ztr[:, :3], tr[:, :3])
    np.testing.assert_allclose(zte[:, 3:], (te[:, 3:] - tr[:, 3:].mean(0)) / tr[:, 3:].std(0))


# --------------------------------------------------------------------------------------- classifiers
SIGNAL = ["weightabs_norm", "weightraw_median", "actabs_mean", "gradavgraw_id"]


def _separable(n_per_class=40, T=7, seed=0):
    """Trajectories in which rule c raises observable SIGNAL[c] over training, plus unit noise everywhere."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), n_per_class)
    X = rng.normal(size=(len(y), T, 45))
    for c, key in enumerate(SIGNAL):
        X[y == c, :, ob.OBS_KEYS.index(key)] += 4.0 * np.linspace(0, 1, T)
    return X, y, rng.integers(0, 3, len(y))


@pytest.mark.parametrize(
    "name,grid",
    [
        ("rf", {"n_estimators": [50], "max_features": ["sqrt", "log2"]}),
        ("svm", {"C": [0.1, 1.0]}),
        ("svm_pca", {"C": [1.0], "n_components": [10]}),
        ("conv1d", {"filters": [8], "kernel": [3], "pool": ["avg"], "lr": [0.01], "epochs": [150]}),
    ],
)
def test_classifiers_separate_a_synthetic_separable_set(name, grid):
    X, y, pos = _separable()
    design = rc.features(X, pos, rc.FEATURE_SETS["all"])
    splits = rc.balanced_splits(y, 2, 0.25, seed=0)
    rows = rc.evaluate(name, grid, design, y, splits, n_times=X.shape[1], folds=3, threads=1)
    assert len(rows) == 2
    for r in rows:
        assert r["accuracy"] >= 0.9, (name, r["accuracy"])
        assert r["confusion"].sum() == 40 and r["dprime"] > 2
    if name == "rf":  # the most important columns belong to the signal observables
        cols = [3 + rc.FEATURE_SETS["all"].index(k) * 7 + t for k in SIGNAL for t in range(7)]
        assert set(np.argsort(rows[0]["importances"])[-4:]) <= set(cols)


def test_classifier_on_labels_without_signal_is_near_chance():
    X, y, pos = _separable()
    X = np.random.default_rng(5).normal(size=X.shape)
    rows = rc.evaluate("rf", {"n_estimators": [50], "max_features": ["sqrt"]}, rc.features(X, pos, rc.FEATURE_SETS["all"]), y, rc.balanced_splits(y, 4, 0.25), 7, 3, 1)
    assert np.mean([r["accuracy"] for r in rows]) < 0.45


def test_access_conditions():
    c = rc.access_conditions(21, 6)
    assert c["full"] == list(range(21)) and c["every 4th"] == [0, 4, 8, 12, 16, 20] and c["every 10th"] == [0, 10, 20]
    assert c["first 6"] == list(range(6)) and c["last 6"] == list(range(15, 21)) and c["middle 6"] == list(range(7, 13))
    assert c["endpoints"] == [0, 20] and c["init only"] == [0] and c["final only"] == [20]


def test_bad_experiment_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="experiment"):
        rc.main([str(tmp_path / "x.h5")], str(tmp_path / "out.csv"), {"experiment": "nope"})


# ------------------------------------------------------------------------------------------- figures
RULES4 = ["sgdm", "adam", "feedback", "information"]


def _accuracy_table(acc: dict[tuple[str, str, str], float], splits: int = 3) -> "pd.DataFrame":
    """A classifier table (rule_classifiers.to_table's columns) with the given accuracy per
    (split_kind, classifier, feature_set): 10 test items per rule, the correct ones on the diagonal."""
    import pandas as pd

    rows = []
    for (kind, clf, fs), a in acc.items():
        for i in range(splits):
            conf = np.full((4, 4), 10 * (1 - a) / 3)
            np.fill_diagonal(conf, 10 * a)
            rows.append({"split_kind": kind, "classifier": clf, "feature_set": fs, "condition": "full", "split": i, "accuracy": a, "confusion": conf, "best": {}})
    return rc.to_table(rows, RULES4)


ACC_OPTIONS = {"rules": RULES4, "rf_all_min": 0.9, "single_measure_min": 0.4, "svm_below_rf": 0.1, "network_split_max_gap": 0.05}


@pytest.mark.parametrize("control_acc, passes", [(0.25, True), (0.95, False)])
def test_accuracy_claims_pass_only_when_the_shuffled_label_control_fails(tmp_path, control_acc, passes):
    from learnscope.figures import identify_rules as fig

    acc = {("layer", "rf", fs): 0.95 for fs in rc.FEATURE_SETS} | {("layer", "svm", "all"): 0.7, ("network", "rf", "all"): 0.93}
    acc |= {("shuffled_labels", "rf", fs): control_acc for fs in rc.FEATURE_SETS}
    path = tmp_path / "accuracy.csv"
    _accuracy_table(acc).to_csv(path, index=False)
    claims = {c.id: c for c in fig.accuracy([str(path)], str(tmp_path / "accuracy.png"), ACC_OPTIONS)}
    for fs in ("all", "weights", "activations", "activity_change"):
        c = claims[f"identify_rules.accuracy.rf_{fs}"]
        assert c.value == pytest.approx(0.95) and c.control.value == pytest.approx(control_acc)
        assert c.kind == "claim" and c.source == "pilot" and c.passed is passes
    gap = claims["identify_rules.accuracy.network_split_gap"]
    assert gap.value == pytest.approx(0.02) and "initialisations held out" in gap.claim and not gap.gated


def test_sparse_access_claim_is_controlled_by_the_initialisation_alone(tmp_path):
    import pandas as pd

    from learnscope.figures import identify_rules as fig

    acc = {"full": 0.9, "every 4th": 0.89, "first 2": 0.7, "init only": 0.2}
    rows = [{"condition": c, "split": i, "accuracy": a} for c, a in acc.items() for i in range(2)]
    path = tmp_path / "access.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    claims = {c.id: c for c in fig.access([str(path)], str(tmp_path / "access.png"), {"rules": RULES4, "window": 2, "sparse_max_drop": 0.03, "window_min_drop": 0.0})}
    c = claims["identify_rules.access.sparse_close_to_full"]
    assert c.value == pytest.approx(0.01) and c.control.value == pytest.approx(0.7) and c.control.passed is False and c.passed
    assert claims["identify_rules.access.init_only_chance"].kind == "check"


@pytest.mark.parametrize("control_svm, passes", [(0.25, True), (0.1, False)])
def test_rf_above_svm_claim_is_controlled_by_the_same_difference_on_shuffled_labels(tmp_path, control_svm, passes):
    from learnscope.figures import identify_rules as fig

    acc = {("layer", "rf", fs): 0.95 for fs in rc.FEATURE_SETS} | {("layer", "svm", "all"): 0.7, ("layer", "svm_pca", "all"): 0.75}
    acc |= {("shuffled_labels", "rf", fs): 0.25 for fs in rc.FEATURE_SETS} | {("shuffled_labels", "svm", "all"): control_svm, ("shuffled_labels", "svm_pca", "all"): 0.05}
    path = tmp_path / "accuracy.csv"
    _accuracy_table(acc).to_csv(path, index=False)
    c = {c.id: c for c in fig.accuracy([str(path)], str(tmp_path / "accuracy.png"), ACC_OPTIONS)}["identify_rules.accuracy.svm_below_rf"]
    assert c.value == pytest.approx(0.2) and c.threshold == 0.1  # against the best SVM (with PCA)
    assert c.control.value == pytest.approx(0.25 - control_svm) and c.passed is passes and c.spread == pytest.approx(0.0)


@pytest.mark.parametrize("spread_acc, passes", [(0.89, True), (0.7, False)])
def test_early_window_claim_is_controlled_by_as_many_points_spread_over_learning(tmp_path, spread_acc, passes):
    from learnscope.figures import identify_rules as fig

    acc = {"full": [0.9, 0.92], "every 4th": [0.89, 0.91], "spread 2": [spread_acc, spread_acc + 0.02], "first 2": [0.7, 0.75], "init only": [0.2, 0.2]}
    rows = [{"condition": c, "split": i, "accuracy": a} for c, v in acc.items() for i, a in enumerate(v)]
    path = tmp_path / "access.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    options = {"rules": RULES4, "window": 2, "sparse_max_drop": 0.03, "window_min_drop": 0.03}
    c = {c.id: c for c in fig.access([str(path)], str(tmp_path / "access.png"), options)}["identify_rules.access.window_worse"]
    assert c.value == pytest.approx(0.185) and c.spread == pytest.approx(np.std([0.2, 0.17], ddof=1))
    assert c.control.value == pytest.approx(0.91 - spread_acc - 0.01) and c.passed is passes


@pytest.mark.parametrize("control_weight_drop, passes", [(0.0, True), (0.2, False)])
def test_noise_robustness_claim_is_controlled_on_shuffled_labels(tmp_path, control_weight_drop, passes):
    from learnscope.figures import identify_rules as fig

    acc = {("layer", "clean", "weights"): 0.85, ("layer", "noise_1", "weights"): 0.73, ("layer", "clean", "activations"): 0.84,
           ("layer", "noise_1", "activations"): 0.83, ("layer", "clean", "activity_change"): 0.45, ("layer", "noise_1", "activity_change"): 0.45,
           ("shuffled_labels", "clean", "weights"): 0.3, ("shuffled_labels", "noise_1", "weights"): 0.3 - control_weight_drop,
           ("shuffled_labels", "clean", "activations"): 0.25, ("shuffled_labels", "noise_1", "activations"): 0.25}
    rows = [{"split_kind": k, "condition": c, "feature_set": fs, "split": i, "accuracy": a} for (k, c, fs), a in acc.items() for i in range(3)]
    path = tmp_path / "robustness.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    options = {"rules": RULES4, "variants": {"clean": {}, "noise_1": {"noise": 1.0, "seed": 0}}, "noise_condition": "noise_1", "noise_robust_min": 0.05}
    c = {c.id: c for c in fig.robustness([str(path)], str(tmp_path / "robustness.png"), options)}["identify_rules.robustness.activations_robust_to_noise"]
    assert c.value == pytest.approx(0.11) and c.threshold == 0.05 and c.source == "pilot"
    assert c.control.value == pytest.approx(control_weight_drop) and c.passed is passes


@pytest.mark.parametrize("control_acc, passes", [(0.26, True), (0.7, False)])
def test_heldout_architecture_claim_is_controlled_on_shuffled_labels(tmp_path, control_acc, passes):
    from learnscope.figures import identify_rules as fig

    acc = {("heldout_architecture", "mlp3"): 0.7, ("heldout_architecture", "cnn"): 0.6, ("heldout_task", "digits"): 0.4,
           ("shuffled_labels", "mlp3"): control_acc, ("shuffled_labels", "cnn"): control_acc}
    rows = [{"split_kind": k, "condition": c, "feature_set": "all", "split": i, "accuracy": a} for (k, c), a in acc.items() for i in range(2)]
    path = tmp_path / "generalisation.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    claims = {c.id: c for c in fig.generalisation([str(path)], str(tmp_path / "generalisation.png"), {"rules": RULES4, "heldout_arch_min": 0.5})}
    c = claims["identify_rules.generalisation.heldout_architecture"]
    assert c.value == pytest.approx(0.65) and c.control.value == pytest.approx(control_acc) and c.passed is passes
    assert not claims["identify_rules.generalisation.heldout_task_digits"].gated


def test_a_claim_within_two_standard_errors_of_its_threshold_says_so_with_the_seeds_needed():
    from learnscope.claims import margin_note

    note = margin_note(0.91, 0.9, 0.05, 10)
    assert "within 2 s.e." in note and "about 100 independent replicates" in note and "10 splits" in note
    assert margin_note(0.95, 0.9, 0.05, 10) == ""          # 0.05 >= 2 x 0.0158
    assert "no finite number" in margin_note(0.9, 0.9, 0.05, 10)
    assert margin_note(0.91, 0.9, None, 10) == "" and margin_note(None, 0.9, 0.05, 10) == ""


def test_classifier_experiments_score_the_negative_controls(tmp_path):
    """The access experiment adds the spread-window condition; robustness and generalisation score the
    shuffled-label controls (at chance) beside the real labels (well above it); accuracy scores the SVMs'."""
    c = rc.access_conditions(21, 6)
    assert c["spread 6"] == [0, 4, 8, 12, 16, 20] and rc.access_conditions(6, 2)["spread 2"] == [0, 5]
    path = _synthetic_observables(tmp_path, two_tasks=True)
    opts = {"rules": RULES4, "splits": 2, "ablation_splits": 3, "test_fraction": 0.25, "split_seed": 0, "folds": 2, "window": 2,
            "fixed_rf": {"n_estimators": [50], "max_features": ["sqrt"]}, "heldout_architectures": {"mlp3": ["mlp3"], "mlp4": ["mlp4"]},
            "classifiers": {"rf": {"n_estimators": [30], "max_features": ["sqrt"]}, "svm": {"C": [1.0]}}}
    tables = {}
    for exp in ("access", "robustness", "generalisation", "accuracy"):
        rc.main([str(path)], str(tmp_path / f"{exp}.csv"), {**opts, "experiment": exp})
        tables[exp] = pd.read_csv(tmp_path / f"{exp}.csv")
    assert "spread 2" in set(tables["access"]["condition"])
    for exp in ("robustness", "generalisation"):  # the synthetic signal is in weight statistics
        t = tables[exp]
        acc = t[t["feature_set"].isin(["weights", "all"])].groupby("split_kind")["accuracy"].mean()
        real = "layer" if exp == "robustness" else "heldout_architecture"
        assert acc[real] > 0.8 and acc["shuffled_labels"] < 0.5, (exp, acc)
    rob = tables["robustness"]
    assert set(rob.loc[rob["split_kind"] == "shuffled_labels", "feature_set"]) == {"weights", "activations"}
    gen = tables["generalisation"]
    assert set(gen.loc[gen["split_kind"] == "shuffled_labels", "condition"]) == {"mlp3", "mlp4"}
    acc = tables["accuracy"]
    assert set(acc.loc[acc["split_kind"] == "shuffled_labels", "classifier"]) == {"rf", "svm"}


# ------------------------------------------------------------------------------------------ workflow
@pytest.mark.integration
def test_identify_rules_target_smoke(smoke_build):
    project = smoke_build.study("identify_rules")
    figures = ["trajectories", "accuracy", "importance", "access", "robustness", "generalisation", "feedback"]
    for fig in figures:
        for ext in ("png", "pdf", "csv"):
            assert project.path(f"figures/smoke/identify_rules/{fig}.{ext}").stat().st_size > 0
    data = ob.read_dataset(project.path("results/smoke/identify_rules/observables.h5"))
    assert data["X"]["clean"].shape[1:] == (6, 45) and int(data["admissible"].sum()) == 24
    assert {"clean", "units_8", "noise_1"} <= set(data["X"])  # override files merge the variants mapping
    assert sorted(set(data["meta"]["rule"])) == ["adam", "feedback", "information", "sgdm"]
    claims = json.loads(project.path("results/smoke/identify_rules/claims.json").read_text())
    assert {c["figure"] for c in claims} == set(figures)
    by_id = {c["id"]: c for c in claims}
    assert by_id["identify_rules.trajectories.shared_init"]["pass"]  # every rule starts from the same network
    assert by_id["identify_rules.accuracy.rf_all"]["value"] > 0.25  # above chance even at smoke scale


# --------------------------------------------------------------------------------- B diagnostics (IA)
def _ia_layer(gamma=1e-2, weight_decay=1e-3, feedback_lr=0.5):
    from learnscope.rules import build_rule
    from learnscope.rules.feedback import FeedbackDiagnostics

    torch.manual_seed(0)
    rule = build_rule({"name": "information_alignment", "optimizer": "sgd", "lr": 0.0, "feedback_lr": feedback_lr,
                       "alpha": 2e-3, "beta": 1e-3, "gamma": gamma, "weight_decay": weight_decay})
    model = rule.setup(torch.nn.Sequential(torch.nn.Linear(6, 4)))
    x = torch.randn(50, 6) * torch.linspace(0.5, 2.0, 6) + 0.3  # anisotropic, non-zero mean
    y = torch.randn(50, 4)
    return rule, model, FeedbackDiagnostics(model, rule), x, y


def test_feedback_fixed_point_zeroes_the_gradient_of_ia_loss_plus_weight_decay():
    rule, model, tracker, x, y = _ia_layer()
    rule.step(model, x, y, torch.nn.functional.mse_loss)
    tracker.after_step(None)
    layer = model[0]
    bstar = tracker.fixed_point("0")
    with torch.no_grad():
        layer.feedback.copy_(bstar.float())
    layer.last_input = x
    layer.feedback.grad = None
    (rule.alignment_loss(model) + 0.5e-3 * (layer.feedback**2).sum()).backward()
    grad = layer.feedback.grad
    assert float(grad.norm()) < 1e-6 * float(bstar.norm()) * 1e3  # zero up to float32 round-off
    # B* is not W: with gamma = 1e-2 it is a shrunken, input-weighted mirror of W
    assert 0 < float(bstar.norm()) < float(layer.weight.detach().norm())


def test_feedback_tracker_sees_b_converge_to_its_fixed_point_and_not_at_a_tiny_rate():
    for lr, converged in ((0.5, True), (1e-3, False)):
        rule, model, tracker, x, y = _ia_layer(feedback_lr=lr)
        first = None
        for step in range(800):
            rule.step(model, x, y, torch.nn.functional.mse_loss)
            tracker.after_step(None)
            if step == 0:
                first = tracker.record()
        rec = tracker.record()
        assert set(rec) == {f"0/{k}" for k in ("b_norm", "w_norm", "cos_b_w", "bstar_norm", "cos_b_bstar")}
        assert bool(rec["0/cos_b_bstar"] > 0.999) is converged, (lr, rec["0/cos_b_bstar"])
        assert abs(first["0/cos_b_bstar"]) < 0.9  # B starts independent of W and of B*
        assert np.isclose(rec["0/w_norm"], first["0/w_norm"])  # lr 0: W stays
    assert np.isnan(tracker.record()["0/cos_b_bstar"])  # no inputs since the last record point


def test_feedback_tracker_refuses_a_model_without_feedback_weights():
    from learnscope.rules import build_rule
    from learnscope.rules.feedback import FeedbackDiagnostics

    rule = build_rule({"name": "sgd", "lr": 0.1})
    model = rule.setup(torch.nn.Sequential(torch.nn.Linear(3, 2)))
    with pytest.raises(ConfigError, match="feedback"):
        FeedbackDiagnostics(model, rule)


def _synthetic_observables(tmp_path, two_tasks: bool = False):
    """4 rules x 2 architectures x 4 seeds, 3 layers each; rule r raises observable SIGNAL[r] over training;
    every rule's network of one (architecture, seed) starts from the same weights. Network 0 of each rule
    trained badly (test_acc 0.3). ``two_tasks``: odd seeds on a second task."""
    rng = np.random.default_rng(0)
    T, signal = 6, ["weightabs_norm", "weightraw_median", "weightsq_mean", "weightabs_var"]
    meta = {k: [] for k in ob.META_FIELDS}
    X = []
    for r, rule in enumerate(RULES4):
        for arch in ("mlp3", "mlp4"):
            for seed in range(4):
                for layer in range(3):
                    x = rng.normal(size=(T, 45))
                    x[0] = np.random.default_rng([seed, layer, len(arch)]).normal(size=45)
                    x[1:, ob.OBS_KEYS.index(signal[r])] += 4.0
                    X.append(x)
                    task = "teacher" if two_tasks and seed % 2 else "digits"
                    row = dict(rule=rule, arch=arch, task=task, batch_size=32, seed=seed, data_seed=0, network=f"{rule}-{arch}-{seed}",
                               layer=f"fc{layer}", layer_index=layer, n_layers=3, position=layer, test_acc=0.3 if seed == 0 else 0.9)
                    for k in ob.META_FIELDS:
                        meta[k].append(row[k])
    data = {"X": {"clean": np.stack(X)}, "meta": {k: np.asarray(v) for k, v in meta.items()}, "skipped": []}
    path = tmp_path / "obs.h5"
    ob.write_dataset(path, data, {"clean": {}})
    return path


def test_accuracy_experiment_adds_network_split_shuffled_control_and_accuracy_floor(tmp_path):
    """The synthetic set above; network 0 of each rule trained badly: the accuracy-floor subset leaves it out."""
    import pandas as pd

    path = _synthetic_observables(tmp_path)
    out = tmp_path / "accuracy.csv"
    opts = {"rules": RULES4, "splits": 3, "test_fraction": 0.25, "split_seed": 0, "folds": 2, "accuracy_floor": 0.8,
            "classifiers": {"rf": {"n_estimators": [50], "max_features": ["sqrt"]}}, "experiment": "accuracy"}
    rc.main([str(path)], str(out), opts)
    t = pd.read_csv(out)
    acc = t.groupby(["split_kind", "feature_set"])["accuracy"].mean()
    assert set(t["split_kind"]) == {"layer", "network", "shuffled_labels", "accuracy_floor"}
    assert acc["layer", "all"] >= 0.9 and acc["network", "all"] >= 0.9 and acc["accuracy_floor", "all"] >= 0.9
    assert acc["shuffled_labels", "all"] < 0.5  # chance 0.25
    # 8 initialisations (2 architectures x 4 seeds), 2 held out whole: 2 networks x 3 layers per rule
    conf = t[t["split_kind"] == "network"][[f"conf_{a}_{b}" for a in RULES4 for b in RULES4]].to_numpy().reshape(-1, 4, 4)
    np.testing.assert_array_equal(conf.sum(2), 6)
    # accuracy floor: 3 good networks x 2 architectures x 3 layers = 18 layers per rule; a quarter of them to test
    conf = t[t["split_kind"] == "accuracy_floor"][[f"conf_{a}_{b}" for a in RULES4 for b in RULES4]].to_numpy().reshape(-1, 4, 4)
    np.testing.assert_array_equal(conf.sum(2), round(0.25 * 18))


def test_plan_records_b_diagnostics_on_information_alignment_runs_only():
    from pathlib import Path

    from learnscope.config import load_params
    from learnscope.record.identity import run_id
    from learnscope.studies.identify_rules import plan

    root = Path(__file__).parents[1]
    cfg = load_params(root / "params.yaml", [root / "config/smoke.yaml"])
    runs = list(plan.runs(cfg))
    ia = [r for r in runs if r["rule"]["name"] == "information_alignment"]
    assert ia and all(r["record"]["trackers"] == ["feedback"] for r in ia)
    assert all("trackers" not in r["record"] for r in runs if r not in ia)
    fig = plan.figures(cfg)["feedback"]
    sel = plan.selection_runs(cfg)
    assert fig["inputs"] == [f"results/smoke/runs/{run_id(r)}.h5" for r in ia + sel]   # the smoke tier's records
    assert fig["options"]["feedback_lr"] == {"information": 0.1} and fig["options"]["feedback_converged_min"] == 0.9


def test_feedback_lr_is_selected_on_networks_outside_the_reported_set():
    """issue 20: IA's candidates train on model seeds the study does not report (params: seed 2), each with
    the feedback tracker; a selection seed among the reported ones is refused, by the plan and by the
    cross-reference validation."""
    from pathlib import Path

    from learnscope.config import load_params
    from learnscope.record.identity import run_id
    from learnscope.references import check_references
    from learnscope.studies.identify_rules import plan

    root = Path(__file__).parents[1]
    for overrides in ([], [root / "config/smoke.yaml"]):
        cfg = load_params(root / "params.yaml", overrides)
        ir = cfg["identify_rules"]
        sel = plan.selection_runs(cfg)
        spec = ir["feedback_selection"]
        assert len(sel) == len(spec["candidates"]) * len(spec["models"]) * len(spec["batch_sizes"]) * len(spec["seeds"])
        assert {r["seed"] for r in sel} == set(spec["seeds"]) and not set(spec["seeds"]) & set(ir["seeds"])
        assert sorted({r["rule"]["feedback_lr"] for r in sel}) == sorted(spec["candidates"])
        assert all(r["rule"]["name"] == "information_alignment" and r["record"]["trackers"] == ["feedback"] for r in sel)
        reported = {run_id(r) for r in plan.runs(cfg)}
        assert not reported & {run_id(r) for r in sel}
        options = plan.figures(cfg)["feedback"]["options"]["selection"]
        runs = "results/runs" if not overrides else "results/smoke/runs"   # each tier's records
        assert set(options["runs"]) == {f"{runs}/{run_id(r)}.h5" for r in sel} and options["seeds"] == spec["seeds"]
    cfg["identify_rules"]["feedback_selection"]["seeds"] = [ir["seeds"][0]]
    with pytest.raises(ConfigError, match="outside the reported set"):
        plan.selection_runs(cfg)
    assert any("feedback_selection.seeds" in p and "outside the reported set" in p for p in check_references(cfg))


def _feedback_table(curves: dict[float, float], reported: float = 0.95) -> list[dict]:
    rows = []
    for run, (lr, c) in enumerate(curves.items()):
        for layer in ("fc1", "fc2"):
            rows += [{"set": "selection", "run": f"sel{run}", "layer": layer, "point": p, "step": 10 * p, "b_over_w": 0.5,
                      "cos_b_w": 0.3, "cos_b_bstar": c if p == 2 else 0.1} for p in range(3)]
    return rows


@pytest.mark.parametrize("configured, passes", [(0.1, True), (1.0, False), (0.01, False)])
def test_feedback_check_requires_the_configured_lr_to_be_the_smallest_converging_one_on_held_out_seeds(tmp_path, monkeypatch, configured, passes):
    from learnscope.figures import identify_rules as fig

    curves = {0.01: 0.4, 0.1: 0.93, 1.0: 0.99}
    sel_paths = {f"results/runs/sel{i}.h5": lr for i, lr in enumerate(curves)}

    def rows(paths, **labels):
        if labels["set"] == "selection":
            return [r for r in _feedback_table(curves) if f"results/runs/{r['run']}.h5" in paths]
        return [{**labels, "run": "rep", "layer": "fc1", "point": p, "step": 10 * p, "b_over_w": 0.2, "cos_b_w": 0.4, "cos_b_bstar": 0.97}
                for p in range(3)] if paths else []

    monkeypatch.setattr(fig, "_feedback_rows", rows)
    options = {"feedback_converged_min": 0.9, "feedback_lr": {"information": configured},
               "selection": {"runs": sel_paths, "task": "digits", "models": ["mlp4_relu"], "batch_sizes": [32], "seeds": [2], "candidates": list(curves)}}
    claims = {c.id: c for c in fig.feedback(["results/runs/rep.h5", *sel_paths], str(tmp_path / "feedback.png"), options)}
    sel = claims["identify_rules.feedback.lr_selected_held_out"]
    assert sel.kind == "check" and sel.gated and sel.passed is passes and "selected: 0.1" in sel.claim and "seeds 2" in sel.claim
    assert claims["identify_rules.feedback.b_converged"].value == pytest.approx(0.97)
    assert len(pd.read_csv(tmp_path / "feedback.csv")) == 3 + 3 * 2 * 3
