"""Linear separability and generalisation to held-out clusters (Farrell et al. 2022, Figs 2f-g, 3f-g).

At one time step, a logistic regression is fitted on the hidden states of samples from the training
clusters; its accuracy there is the "LR training" (linear separability) and on samples of the held-out
clusters the "LR testing" accuracy. The paper's split trains on cluster ids <= round(0.8 K) and tests on the
rest; random 80/20 cluster splits average out which clusters happen to be held out.

The fit is sklearn's ``LogisticRegression(C=1)`` objective, solved exactly by Newton's method with
step halving, for many splits at once (one weighted problem per split over the same points):

    min_{w, c}  0.5 |w|^2 + C sum_i s_i log(1 + exp(-y_i (w . x_i + c))),   y_i in {-1, +1}, s_i in {0, 1}

(the intercept c is not penalised).
"""

from __future__ import annotations

import numpy as np
import torch


def fit_logistic(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, c: float = 1.0, n_iter: int = 50, tol: float = 1e-6, dtype: torch.dtype = torch.float64
) -> np.ndarray:
    """Weighted L2 logistic regressions on shared points: x (M, D), y (M,) in {0, 1}, weights (S, M).
    Returns (S, D + 1) coefficients, the intercept last. Stops when the objective falls by less than
    ``tol`` (relative); ``dtype`` float32 halves the cost where only the predictions matter."""
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64)).to(dtype)
    xa = torch.cat([xt, torch.ones(len(xt), 1, dtype=dtype)], 1)
    ys = torch.as_tensor(2.0 * np.asarray(y, dtype=np.float64) - 1.0).to(dtype)
    s = c * torch.as_tensor(np.asarray(weights, dtype=np.float64)).to(dtype)
    n_s, d1 = s.shape[0], xa.shape[1]
    reg = torch.ones(d1, dtype=dtype)
    reg[-1] = 0.0

    def objective(beta):
        margins = ys * (beta @ xa.T)
        return 0.5 * (beta * beta * reg).sum(1) + (s * torch.nn.functional.softplus(-margins)).sum(1)

    beta = torch.zeros(n_s, d1, dtype=dtype)
    f = objective(beta)
    for _ in range(n_iter):
        margins = ys * (beta @ xa.T)
        p = torch.sigmoid(-margins)  # d/dm softplus(-m) = -sigmoid(-m)
        grad = reg * beta - (s * p * ys) @ xa
        curv = s * p * (1 - p)
        hess = (xa.T[None] * curv[:, None, :]) @ xa + torch.diag_embed(reg.expand(n_s, d1)) + 1e-12 * torch.eye(d1, dtype=dtype)
        step = torch.linalg.solve(hess, grad.unsqueeze(-1)).squeeze(-1)
        scale = torch.ones(n_s, 1, dtype=dtype)
        for _ in range(30):  # halve per problem until the objective does not increase
            f_new = objective(beta - scale * step)
            bad = f_new > f + 1e-12 * f.abs()
            if not bool(bad.any()):
                break
            scale[bad] *= 0.5
        beta = beta - scale * step
        decrease = (f - f_new).abs().max()
        f = f_new
        if float(decrease) < tol * max(1.0, float(f.abs().max())):
            break
    return beta.double().numpy()


def predict(beta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Predicted labels (S, M) in {0, 1} of coefficients (S, D + 1) on points (M, D)."""
    return (np.asarray(x, dtype=np.float64) @ beta[:, :-1].T + beta[:, -1]).T > 0


def paper_split(n_clusters: int, fraction: float = 0.8) -> np.ndarray:
    """The original's split: clusters with id <= round(fraction * K) train (True), the rest are held out."""
    return np.arange(n_clusters) <= round(fraction * n_clusters)


def random_splits(n_clusters: int, n_splits: int, fraction: float, seed: int) -> np.ndarray:
    """(n_splits, K) boolean masks, each with round(fraction * K) random training clusters."""
    rng = np.random.default_rng([seed, 41])
    n_train = round(fraction * n_clusters)
    out = np.zeros((n_splits, n_clusters), dtype=bool)
    for i in range(n_splits):
        out[i, rng.permutation(n_clusters)[:n_train]] = True
    return out


def holdout_accuracy(
    x: np.ndarray, labels: np.ndarray, cluster: np.ndarray, splits: np.ndarray, c: float = 1.0, dtype: torch.dtype = torch.float64
) -> tuple[np.ndarray, np.ndarray]:
    """(train accuracy, held-out accuracy), each (S,), of a logistic regression per cluster split (S, K)."""
    train = splits[:, cluster]  # (S, M)
    beta = fit_logistic(x, labels, train.astype(np.float64), c=c, dtype=dtype)
    correct = predict(beta, x) == labels.astype(bool)
    acc = lambda mask: (correct & mask).sum(1) / mask.sum(1)
    return acc(train), acc(~train)
