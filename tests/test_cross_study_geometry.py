"""Unit tests of the cross-rule shared-geometry analysis (analysis.rule_geometry) on synthetic networks."""

import numpy as np
import pytest
from scipy.stats import ortho_group

from learnscope.analysis.rule_geometry import shared_similarity, within_between
from learnscope.errors import ConfigError


def rotated_copies(s, n_copies, units, rng, noise=1e-3):
    """Copies of one k x n geometry S in random orthonormal frames: X_i = Q_i S (+ tiny noise)."""
    k = s.shape[0]
    return [ortho_group.rvs(units, random_state=rng)[:, :k] @ s + noise * rng.standard_normal((units, s.shape[1])) for _ in range(n_copies)]


def test_rotated_copies_of_one_geometry_are_identical_after_srm():
    rng = np.random.default_rng(0)
    s = rng.standard_normal((4, 60))
    xs = rotated_copies(s, 4, 20, rng)
    sim = shared_similarity(xs, k=4, folds=5)
    assert sim[np.triu_indices(4, 1)].min() > 0.999
    assert np.allclose(np.diag(sim), 1.0)


def test_independent_networks_share_no_geometry():
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal((20, 60)) for _ in range(4)]
    sim = shared_similarity(xs, k=4, folds=5)
    assert np.abs(sim[np.triu_indices(4, 1)]).max() < 0.3


def test_two_geometries_give_within_one_and_between_near_zero():
    rng = np.random.default_rng(1)
    s_a, s_b = rng.standard_normal((4, 60)), rng.standard_normal((4, 60))
    xs = rotated_copies(s_a, 3, 20, rng) + rotated_copies(s_b, 3, 20, rng)
    rules, seeds = ["a"] * 3 + ["b"] * 3, [0, 1, 2] * 2
    sim = shared_similarity(xs, k=4, folds=4)
    t = within_between(sim, rules, seeds).pivot_table(index=["rule", "seed"], columns="metric", values="value")
    assert (t["within"] > 0.99).all()
    assert (t["between"].abs() < 0.3).all()
    assert (t["within_minus_between"] > 0.7).all()
    # same-seed pairs across rules are reported apart: each network has exactly one, never pooled into between
    i, j = 0, 3  # rule a seed 0, rule b seed 0
    assert t.loc[("a", 0), "same_seed"] == pytest.approx(sim[i, j])
    assert t.loc[("a", 0), "between"] == pytest.approx(np.mean([sim[0, 4], sim[0, 5]]))


def test_within_between_closed_form():
    # 2 rules x 2 seeds; similarities chosen by hand
    rules, seeds = ["a", "a", "b", "b"], [0, 1, 0, 1]
    sim = np.array([
        [1.0, 0.9, 0.5, 0.2],
        [0.9, 1.0, 0.4, 0.6],
        [0.5, 0.4, 1.0, 0.7],
        [0.2, 0.6, 0.7, 1.0],
    ])
    t = within_between(sim, rules, seeds).set_index(["rule", "seed", "metric"])["value"]
    assert t[("a", 0, "within")] == pytest.approx(0.9)
    assert t[("a", 0, "between")] == pytest.approx(0.2)
    assert t[("a", 0, "same_seed")] == pytest.approx(0.5)
    assert t[("a", 0, "within_minus_between")] == pytest.approx(0.7)
    assert t[("b", 1, "between")] == pytest.approx(0.2)  # a seed 0
    assert t[("b", 1, "same_seed")] == pytest.approx(0.6)  # a seed 1
    assert t[("b", 1, "within_minus_between")] == pytest.approx(0.5)


def test_one_seed_per_rule_has_no_within_group():
    t = within_between(np.eye(2), ["a", "b"], [0, 0]).set_index(["rule", "metric"])["value"]
    assert np.isnan(t[("a", "within")]) and np.isnan(t[("a", "between")])
    assert t[("a", "same_seed")] == 0.0


def test_too_few_images_per_fold_is_a_config_error():
    xs = [np.random.default_rng(i).standard_normal((8, 10)) for i in range(3)]
    with pytest.raises(ConfigError, match="folds"):
        shared_similarity(xs, k=4, folds=5)
    with pytest.raises(ConfigError, match="srm"):
        shared_similarity([np.ones((8, 40))] * 3, k=4, folds=2, srm="bogus")


def test_geometry_figure_claims_are_seed_mean_and_sd_at_the_last_layer(tmp_path):
    import pandas as pd

    from learnscope.figures.cross_study.geometry import geometry

    rules, seeds = ["a", "b"], [0, 1, 2]
    rows, pairs = [], []
    for layer, offset in (("fc1", 0.5), ("fc2", 0.0)):
        for r in rules:
            for s in seeds:
                wmb = {"a": 0.1 * s, "b": -0.2}[r] + offset
                rows += [(layer, r, s, "within", 0.9), (layer, r, s, "between", 0.9 - wmb), (layer, r, s, "same_seed", 0.95), (layer, r, s, "within_minus_between", wmb)]
        for i, (ra, sa) in enumerate([(r, s) for r in rules for s in seeds]):
            for rb, sb in [(r, s) for r in rules for s in seeds][i + 1:]:
                pairs.append((layer, ra, sa, rb, sb, 0.9 if ra == rb else 0.8))
    table = tmp_path / "geometry.csv"
    pd.DataFrame(rows, columns=["layer", "rule", "seed", "metric", "value"]).to_csv(table, index=False)
    ptable = tmp_path / "geometry.pairs.csv"
    pd.DataFrame(pairs, columns=["layer", "rule_a", "seed_a", "rule_b", "seed_b", "similarity"]).to_csv(ptable, index=False)
    claims = {c.id: c for c in geometry([str(table), str(ptable)], str(tmp_path / "geometry.png"), {"rules": rules, "layers": ["fc1", "fc2"]})}
    a = claims["cross_study.geometry.within_minus_between.a"]
    assert a.value == pytest.approx(0.1) and a.spread == pytest.approx(0.1)  # fc2: 0, 0.1, 0.2
    assert claims["cross_study.geometry.within_minus_between.b"].value == pytest.approx(-0.2)
    assert not claims["cross_study.geometry.within_minus_between.b"].passed and not a.gated
    assert (tmp_path / "geometry.pdf").stat().st_size > 0 and (tmp_path / "geometry.csv").exists()
