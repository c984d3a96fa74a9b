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
