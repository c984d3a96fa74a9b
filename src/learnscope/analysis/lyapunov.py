"""Lyapunov spectrum of an autonomous RNN by QR iteration (Farrell et al. 2022; their ``lyap.getSpectrum``).

Map h_{t+1} = phi(W h_t + b) (input zero), Jacobian D_t = diag(phi'(W h_t + b)) W. From an initial condition
h_0 ~ U(-init_range, init_range)^N the state first runs ``burn_in`` steps onto the attractor (the original
has no burn-in, so its estimate mixes in the transient); then, from k orthonormal directions Q_0, iterate
Q_{t+1} R_{t+1} = qr(D_t Q_t) for T = ``n_iter`` steps. Per initial condition the exponents are

    lambda_i = (1 / T) sum_{t=1}^{T} log2 |R_t[i, i]|      (bits per step),

sorted in decreasing order (QR iteration orders them only asymptotically). Reported over the ``n_init``
initial conditions: their mean, its standard error (SEM = sd / sqrt(n_init)), and a convergence measure,
the largest |lambda_i(T) - lambda_i(T / 2)| between the estimate over all T steps and over the first half.

All initial conditions run together as one batch, and the QR factorisation is taken every ``qr_every``
steps of the product of their Jacobians: the diagonal of a product of upper-triangular factors is the
product of their diagonals, so the sum of log2|R_ii| is the same (exact up to round-off while the product
stays well conditioned). For a linear map h -> A h the exponents are log2 of the moduli of A's
eigenvalues (sorted, the top k).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

DERIVATIVES = {
    "tanh": (torch.tanh, lambda h: 1.0 - h * h),
    "linear": (lambda z: z, lambda h: torch.ones_like(h)),
}


@dataclass(frozen=True)
class Spectrum:
    """The top-k exponents (bits per step, decreasing) over initial conditions."""

    per_init: np.ndarray  # (n_init, k), each row sorted in decreasing order
    drift: float  # max |lambda(T) - lambda(T / 2)| over initial conditions and exponents

    @property
    def mean(self) -> np.ndarray:
        return self.per_init.mean(0)

    @property
    def sem(self) -> np.ndarray:
        """Standard error of the mean over initial conditions (NaN for a single one)."""
        n = len(self.per_init)
        return self.per_init.std(0, ddof=1) / np.sqrt(n) if n > 1 else np.full(self.per_init.shape[1], np.nan)


def lyapunov_spectrum(
    w: np.ndarray,
    b: np.ndarray | None,
    k: int,
    n_iter: int = 1000,
    n_init: int = 5,
    init_range: float = 0.2,
    seed: int = 0,
    activation: str = "tanh",
    qr_every: int = 5,
    burn_in: int = 0,
) -> Spectrum:
    """The top ``k`` Lyapunov exponents of h -> phi(W h + b) from ``n_init`` initial conditions."""
    if n_iter < 2:
        raise ValueError(f"lyapunov_spectrum needs n_iter >= 2 (got {n_iter}): the drift compares two halves")
    phi, dphi = DERIVATIVES[activation]
    w_t = torch.as_tensor(np.asarray(w, dtype=np.float64))
    n = w_t.shape[0]
    b_t = torch.zeros(n, dtype=torch.float64) if b is None else torch.as_tensor(np.asarray(b, dtype=np.float64))
    gen = torch.Generator().manual_seed(int(seed))
    h = (torch.rand(n_init, n, generator=gen, dtype=torch.float64) * 2 - 1) * init_range
    for _ in range(int(burn_in)):
        h = phi(h @ w_t.T + b_t)
    q = torch.eye(n, k, dtype=torch.float64).expand(n_init, n, k).contiguous()
    total = torch.zeros(n_init, k, dtype=torch.float64)
    half, at_half = n_iter // 2, None
    for t in range(1, n_iter + 1):
        h = phi(h @ w_t.T + b_t)
        q = dphi(h)[:, :, None] * (w_t @ q)
        if t % qr_every == 0 or t == n_iter or t == half:
            q, r = torch.linalg.qr(q)
            total += torch.log2(torch.diagonal(r, dim1=-2, dim2=-1).abs())
        if t == half:
            at_half = np.sort((total / half).numpy(), axis=1)[:, ::-1]
    per_init = np.sort((total / n_iter).numpy(), axis=1)[:, ::-1]
    return Spectrum(np.ascontiguousarray(per_init), float(np.abs(per_init - at_half).max()))
