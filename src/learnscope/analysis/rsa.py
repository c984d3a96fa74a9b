"""Representational similarity across networks (Lu et al. 2018, ``qmvpa/rsa.py`` of nnsrm-neurips18).

Every response matrix is units x images (X_i, one per network, the same images in the same order).

- RSM(X)[a, b] = Pearson corr(X[:, a], X[:, b]) (images a, b).
- within-network RSM: wRSM = (1/N) sum_i RSM(X_i).
- leave-one-out inter-network RSM: iRSM[a, b] = (1/N) sum_i corr(X_i[:, a], Xbar_{-i}[:, b]),
  Xbar_{-i} = mean_{j != i} X_j (not symmetric).
- second-order similarity: Pearson r (or Kendall tau-b) between the strict lower triangles of two RSMs,
  or between all entries (the paper's simulation).
- variance explained by the mean shared response Sbar = (1/N) sum_j W_j^T X_j:
  VE_i = 1 - mean((W_i Sbar - X_i)^2) / Var(X_i), over all entries.
"""

from __future__ import annotations

import numpy as np
import scipy.stats


def zscore_images(x: np.ndarray) -> np.ndarray:
    """Z-score each image's activity vector across units (columns of units x images; ddof 0).

    A constant image (all units equal) becomes all zeros rather than NaN.
    """
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(axis=0, keepdims=True)
    return (x - x.mean(axis=0, keepdims=True)) / np.where(sd > 0, sd, 1.0)


def _standardise_columns(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    xc = x - x.mean(axis=0, keepdims=True)
    norm = np.linalg.norm(xc, axis=0, keepdims=True)
    return xc / np.where(norm > 0, norm, 1.0)


def cross_rsm(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """C[a, b] = corr(x[:, a], y[:, b]) over units; a constant column correlates 0 with everything."""
    return _standardise_columns(x).T @ _standardise_columns(y)


def rsm(x: np.ndarray) -> np.ndarray:
    """Image-by-image Pearson correlation matrix of one units x images response."""
    return cross_rsm(x, x)


def within_rsms(xs: list[np.ndarray]) -> np.ndarray:
    """RSM(X_i) of every network, stacked (N x n x n)."""
    return np.stack([rsm(x) for x in xs])


def loo_inter_rsms(xs: list[np.ndarray]) -> np.ndarray:
    """Each network's leave-one-out term corr(X_i[:, a], Xbar_{-i}[:, b]), stacked (N x n x n).

    Their mean over networks is the paper's iRSM.
    """
    if len(xs) < 2:
        raise ValueError(f"a leave-one-out inter-network RSM needs at least 2 networks, got {len(xs)}")
    total = np.sum(xs, axis=0)
    return np.stack([cross_rsm(x, (total - x) / (len(xs) - 1)) for x in xs])


def lower(m: np.ndarray) -> np.ndarray:
    """The strict lower triangle of a square matrix, as a vector."""
    return m[np.tril_indices(m.shape[0], k=-1)]


def similarity(a: np.ndarray, b: np.ndarray, *, method: str = "pearson", entries: str = "lower") -> float:
    """Second-order similarity of two RSMs: ``pearson`` r or ``kendall`` tau-b over ``lower`` (strict
    lower triangle) or ``all`` entries."""
    pick = lower if entries == "lower" else np.ravel
    u, v = pick(a), pick(b)
    if method == "pearson":
        return float(np.corrcoef(u, v)[0, 1])
    if method == "kendall":
        return float(scipy.stats.kendalltau(u, v).statistic)
    raise ValueError(f"similarity method {method!r} is not known (allowed: pearson, kendall)")


def pairwise_consistency(rsms: np.ndarray) -> np.ndarray:
    """r(RSM_i, RSM_j) on strict lower triangles for every pair i < j."""
    tri = np.stack([lower(m) for m in rsms])
    c = np.corrcoef(tri)
    return c[np.triu_indices(len(rsms), k=1)]


def variance_explained(ws: list[np.ndarray], xs: list[np.ndarray]) -> np.ndarray:
    """VE_i = 1 - mean((W_i Sbar - X_i)^2) / Var(X_i) with Sbar = (1/N) sum_j W_j^T X_j (per network)."""
    sbar = sum(w.T @ x for w, x in zip(ws, xs)) / len(xs)
    return np.array([1.0 - np.mean((w @ sbar - x) ** 2) / np.var(x) for w, x in zip(ws, xs)])


def class_rsm(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Correlation between class-mean response vectors (classes in sorted order), C x C."""
    classes = np.unique(labels)
    means = np.stack([x[:, labels == c].mean(axis=1) for c in classes], axis=1)
    return rsm(means)
