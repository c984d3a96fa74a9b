"""Participation ratio, the effective dimensionality of a cloud of points (Farrell et al. 2022, SI; their
``utils.get_effdim``): with C the covariance of the centred points X~ (M x N),

    PR = (sum_i lambda_i)^2 / sum_i lambda_i^2 = (tr C)^2 / tr(C^2),

which is N for isotropic points and 1 for points on a line. The normalisation of C cancels, and C = X~^T X~
and the Gram matrix X~ X~^T share their non-zero eigenvalues, so the smaller of the two is used.
"""

from __future__ import annotations

import numpy as np


def participation_ratio(x: np.ndarray) -> np.ndarray:
    """PR of the points in ``x`` (..., M, N): one value per leading index (NaN for a single repeated point)."""
    x = np.asarray(x, dtype=np.float64)
    xc = x - x.mean(axis=-2, keepdims=True)
    m, n = xc.shape[-2:]
    gram = np.swapaxes(xc, -1, -2) @ xc if n <= m else xc @ np.swapaxes(xc, -1, -2)
    tr = np.trace(gram, axis1=-2, axis2=-1)
    tr2 = np.sum(gram * gram, axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tr2 > 0, tr**2 / np.where(tr2 > 0, tr2, 1.0), np.nan)
