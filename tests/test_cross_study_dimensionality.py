"""Unit tests of the per-layer participation ratio (analysis.layer_dimensionality) on synthetic activations."""

import numpy as np
import pytest

from learnscope.analysis.layer_dimensionality import layer_pr


def test_isotropic_k_dim_cloud_has_pr_k_at_every_point():
    rng = np.random.default_rng(0)
    k, units, images = 5, 30, 20000
    basis = np.linalg.qr(rng.standard_normal((units, k)))[0]  # k orthonormal directions in 30 units
    acts = np.stack([rng.standard_normal((images, k)) @ basis.T * scale for scale in (1.0, 3.0)])
    pr = layer_pr(acts)
    assert pr.shape == (2,)
    assert pr == pytest.approx([k, k], rel=0.02)  # PR is scale-free


def test_pr_follows_the_eigenvalue_formula_and_flattens_units():
    # variances 4, 1, 1 on three axes: PR = (4+1+1)^2 / (16+1+1) = 2
    rng = np.random.default_rng(1)
    z = rng.standard_normal((50000, 3)) * np.array([2.0, 1.0, 1.0])
    acts = np.concatenate([z, np.zeros((50000, 1))], axis=1).reshape(1, 50000, 2, 2)  # conv-like units
    assert layer_pr(acts)[0] == pytest.approx(2.0, rel=0.03)


def test_a_line_has_pr_one():
    t = np.linspace(-1, 1, 100)[:, None]
    acts = (t @ np.array([[1.0, -2.0, 0.5]]))[None]
    assert layer_pr(acts)[0] == pytest.approx(1.0)


def test_dimensionality_figure_claims(tmp_path):
    import pandas as pd

    from learnscope.figures.cross_study.dimensionality import dimensionality

    rows = []
    for rule, final in (("a", 3.0), ("b", 8.0)):
        for seed in (0, 1):
            for depth, layer in enumerate(["fc1", "fc2", "out"]):
                for point, step in enumerate([0, 50, 100]):
                    pr = 6.0 if point == 0 else (final + seed if layer == "fc2" else 5.0)
                    rows.append((rule, seed, layer, depth, point, step, pr))
    table = tmp_path / "dims.csv"
    pd.DataFrame(rows, columns=["rule", "seed", "layer", "depth", "point", "step", "pr"]).to_csv(table, index=False)
    rnn = []
    for seed in (0, 1):
        t = tmp_path / f"rnn{seed}.csv"
        r = [("acc", e, -1, 0, 0.5, "x" + str(seed), seed) for e in (0, 1, 2)]
        r += [("pr", e, tt, 0, (20.0 if e == 0 else 2.0 + seed) if tt == 10 else 1.0, "x" + str(seed), seed) for e in (0, 2) for tt in (1, 10)]
        pd.DataFrame(r, columns=["quantity", "epoch", "t", "index", "value", "run_id", "seed"]).to_csv(t, index=False)
        rnn.append(str(t))
    options = {"rules": ["a", "b", "c"], "layers": ["fc1", "fc2", "out"], "claim_layer": "fc2", "rnn_tables": {"a": rnn}, "eval_time": 10}
    claims = {c.id: c for c in dimensionality([str(table), *rnn], str(tmp_path / "dims_fig.png"), options)}
    a, b = claims["cross_study.dimensionality.pr_last_hidden.a"], claims["cross_study.dimensionality.pr_last_hidden.b"]
    assert (a.value, a.spread, a.threshold, a.passed) == (pytest.approx(3.5), pytest.approx(0.5**0.5), 6.0, True)
    assert (b.value, b.passed) == (pytest.approx(8.5), False)
    assert "cross_study.dimensionality.pr_last_hidden.c" not in claims  # no runs of rule c: no claim
    r = claims["cross_study.dimensionality.rnn_pr_after.a"]
    assert (r.value, r.threshold, r.passed) == (pytest.approx(2.5), 20.0, True)
    assert "cross_study.dimensionality.rnn_pr_after.b" not in claims
