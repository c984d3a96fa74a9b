"""Lyapunov spectrum of an autonomous RNN by QR iteration (Farrell et al. 2022; their ``lyap.getSpectrum``).

Map h_{t+1} = phi(W h_t + b) (input zero), Jacobian D_t = diag(phi'(W h_t + b)) W. Starting from k orthonormal
directions Q_0, iterate Q_{t+1} R_{t+1} = qr(D_t Q_t); the exponents are

    lambda_i = (1 / T) sum_{t=1}^{T} log2 |R_t[i, i]|      (bits per step),

averaged over initial conditions h_0 ~ U(-init_range, init_range)^N (no burn-in, as in the original). All
initial conditions run together as one batch, and the QR factorisation is taken every ``qr_every`` steps
of the product of their Jacobians: the diagonal of a product of upper-triangular factors is the product
of their diagonals, so the sum of log2|R_ii| is the same (exact up to round-off while the product stays
well conditioned). For a linear map h -> A h the exponents are log2 of the
moduli of A's eigenvalues (sorted, the top k).
"""

from __future__ import annotations

import numpy as np
import torch

DERIVATIVES = {
    "tanh": (torch.tanh, lambda h: 1.0 - h * h),
    "linear": (lambda z: z, lambda h: torch.ones_like(h)),
}


def lyapunov_spectrum(
    w: np.ndarray, b: np.ndarray | None, k: int, n_iter: int = 1000, n_init: int = 5, init_range: float = 0.2, seed: int = 0, activation: str = "tanh", qr_every: int = 5
) -> np.ndarray:
    """The top ``k`` Lyapunov exponents (bits per step) of h -> phi(W h + b), mean over ``n_init`` initial conditions."""
    phi, dphi = DERIVATIVES[activation]
    w_t = torch.as_tensor(np.asarray(w, dtype=np.float64))
    n = w_t.shape[0]
    b_t = torch.zeros(n, dtype=torch.float64) if b is None else torch.as_tensor(np.asarray(b, dtype=np.float64))
    gen = torch.Generator().manual_seed(int(seed))
    h = (torch.rand(n_init, n, generator=gen, dtype=torch.float64) * 2 - 1) * init_range
    q = torch.eye(n, k, dtype=torch.float64).expand(n_init, n, k).contiguous()
    total = torch.zeros(n_init, k, dtype=torch.float64)
    for t in range(1, n_iter + 1):
        h = phi(h @ w_t.T + b_t)
        q = dphi(h)[:, :, None] * (w_t @ q)
        if t % qr_every == 0 or t == n_iter:
            q, r = torch.linalg.qr(q)
            total += torch.log2(torch.diagonal(r, dim1=-2, dim2=-1).abs())
    return (total / n_iter).mean(0).numpy()
