"""Shared response model (SRM): one shared response S (k x n) and an orthonormal map per network.

Chen et al. (2015, "A reduced-dimension fMRI shared response model"), as used by Lu et al. (2018,
"Shared representational geometry across neural networks"): given X_i (m_i units x n samples) for
networks i = 1..N, find W_i (m_i x k, W_i^T W_i = I_k) and S minimising sum_i ||X_i - W_i S||_F^2.

Two fits, both reproducing BrainIAK's ``brainiak.funcalign.srm`` (v0.12) behaviour exactly, including
its seeding (``RandomState(rand_seed)`` draws one ``randint(2**32)`` seed per network; W_i starts as
the Q factor of QR(U[0,1)^{m_i x k})), its 0.001 diagonal perturbation before each Procrustes SVD and
its quirks (the probabilistic noise update uses the *uncentred* ||X_i||^2; ``transform`` does not
subtract the mean mu_i):

- ``probabilistic_srm`` (BrainIAK ``SRM``, the paper's choice): EM for x_i = W_i s + mu_i + eps,
  s ~ N(0, Sigma_s), eps ~ N(0, rho_i^2 I). With rho0 = sum_i 1/rho_i^2 and
  A = (Sigma_s^-1 + rho0 I)^-1:
    E-step  S = Sigma_s (I - rho0 A) sum_i W_i^T Xc_i / rho_i^2        (Xc_i = X_i - mu_i 1^T)
    M-step  Sigma_s = A + S S^T / n
            W_i = U V^T with U D V^T = svd(Xc_i S^T + 0.001 I)
            rho_i^2 = (||X_i||^2 - 2 <W_i, Xc_i S^T> + n tr Sigma_s) / (n m_i)
- ``deterministic_srm`` (BrainIAK ``DetSRM``): block coordinate descent on the uncentred data,
  S = (1/N) sum_i W_i^T X_i, then the same Procrustes update of each W_i.

**Convergence** (issue 20: 10 iterations, BrainIAK's default, leave the probabilistic fit unconverged).
Every fit records its objective per iteration (``SRMFit.trace``): the probabilistic SRM BrainIAK's
log-likelihood (``SRM._likelihood``, up to its constant; the parameters entering the iteration), the
deterministic SRM −sum_i ||X_i − W_i S||². With ``tol`` the fit stops as soon as the objective changes by
at most ``tol`` relative to its magnitude (``n_iter`` is then the cap) and ``converged`` says whether it
did; without ``tol`` it runs exactly ``n_iter`` iterations, as BrainIAK.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg


@dataclass(frozen=True)
class SRMFit:
    """A fitted SRM: ``w`` (list of m_i x k), shared response ``s`` (k x n); probabilistic fits also
    carry ``sigma_s`` (k x k), ``mu`` (list of m_i) and ``rho2`` (N,)."""

    w: list[np.ndarray]
    s: np.ndarray
    sigma_s: np.ndarray | None = None
    mu: list[np.ndarray] | None = None
    rho2: np.ndarray | None = None
    trace: np.ndarray | None = None      # the objective per iteration (log-likelihood; −squared error for DetSRM)
    converged: bool | None = None        # None: run for a fixed n_iter (no tol)

    @property
    def iterations(self) -> int:
        return 0 if self.trace is None else len(self.trace)

    def transform(self, xs: list[np.ndarray]) -> list[np.ndarray]:
        """Each network's data in the shared space, W_i^T X_i (no mean subtracted, as BrainIAK)."""
        if len(xs) != len(self.w):
            raise ValueError(f"transform: got {len(xs)} networks, the SRM was fitted on {len(self.w)}")
        return [w.T @ x for w, x in zip(self.w, xs)]


def _check(xs: list[np.ndarray], k: int) -> list[np.ndarray]:
    xs = [np.asarray(x, dtype=np.float64) for x in xs]
    if len(xs) < 2:
        raise ValueError(f"SRM needs at least 2 networks, got {len(xs)}")
    n = {x.shape[1] for x in xs}
    if len(n) != 1:
        raise ValueError(f"SRM needs the same samples in every network, got sample counts {sorted(n)}")
    if k > n.pop():
        raise ValueError(f"SRM: k = {k} features exceed the {xs[0].shape[1]} samples; fit on more samples or lower k")
    if any(k > x.shape[0] for x in xs):
        raise ValueError(f"SRM: k = {k} features exceed a network's {min(x.shape[0] for x in xs)} units")
    return xs


def _init_w(xs: list[np.ndarray], k: int, seed: int) -> list[np.ndarray]:
    """BrainIAK's initial W_i: Q of QR(U[0,1)^{m_i x k}), one seeded RandomState per network."""
    master = np.random.RandomState(seed)
    states = [np.random.RandomState(master.randint(2**32)) for _ in xs]
    return [np.linalg.qr(st.random_sample((x.shape[0], k)))[0] for st, x in zip(states, xs)]


def _procrustes(a: np.ndarray) -> np.ndarray:
    """argmax_W <W, A> over W^T W = I, after BrainIAK's 0.001 diagonal perturbation of A."""
    pert = np.zeros(a.shape)
    np.fill_diagonal(pert, 0.001)
    u, _, vt = np.linalg.svd(a + pert, full_matrices=False)
    return u @ vt


def _settled(trace: list[float], tol: float | None) -> bool:
    return tol is not None and len(trace) > 1 and abs(trace[-1] - trace[-2]) <= tol * max(abs(trace[-2]), 1e-300)


def probabilistic_srm(xs: list[np.ndarray], k: int, n_iter: int = 10, seed: int = 0, tol: float | None = None) -> SRMFit:
    """EM fit of the probabilistic SRM (BrainIAK ``SRM(n_iter, features=k, rand_seed=seed)``); with ``tol``,
    until the log-likelihood's relative change is at most ``tol`` (``n_iter`` iterations at most)."""
    xs = _check(xs, k)
    n = xs[0].shape[1]
    w = _init_w(xs, k, seed)
    mu = [x.mean(axis=1) for x in xs]
    xc = [x - m[:, None] for x, m in zip(xs, mu)]
    trace_xtx = np.array([np.sum(x**2) for x in xs])
    units = np.array([x.shape[0] for x in xs])
    rho2 = np.ones(len(xs))
    sigma_s = np.identity(k)
    s = np.zeros((k, n))
    eye = np.identity(k)
    trace = []
    for _ in range(n_iter):
        rho0 = (1.0 / rho2).sum()
        chol_s = scipy.linalg.cho_factor(sigma_s, check_finite=False)
        inv_sigma_s = scipy.linalg.cho_solve(chol_s, eye, check_finite=False)
        chol_a = scipy.linalg.cho_factor(inv_sigma_s + eye * rho0, check_finite=False)
        a = scipy.linalg.cho_solve(chol_a, eye, check_finite=False)
        wt_invpsi_x = np.zeros((k, n))
        for wi, xi, r in zip(w, xc, rho2):
            wt_invpsi_x += wi.T.dot(xi) / r
        # BrainIAK's SRM._likelihood (without its constant), for the parameters entering this iteration
        log_det = np.log(np.diag(chol_a[0]) ** 2).sum() + np.sum(np.log(rho2) * units) + np.log(np.diag(chol_s[0]) ** 2).sum()
        trace.append(float(-0.5 * n * log_det - 0.5 * np.sum(trace_xtx / rho2) + 0.5 * np.trace(wt_invpsi_x.T.dot(a).dot(wt_invpsi_x))))
        s = sigma_s.dot(eye - rho0 * a).dot(wt_invpsi_x)
        sigma_s = a + s.dot(s.T) / n
        trace_sigma_s = n * np.trace(sigma_s)
        for i, xi in enumerate(xc):
            a_i = xi.dot(s.T)
            w[i] = _procrustes(a_i)
            rho2[i] = (trace_xtx[i] - 2 * np.sum(w[i] * a_i) + trace_sigma_s) / (n * units[i])
        if _settled(trace, tol):
            break
    return SRMFit(w=w, s=s, sigma_s=sigma_s, mu=mu, rho2=rho2, trace=np.array(trace), converged=None if tol is None else _settled(trace, tol))


def deterministic_srm(xs: list[np.ndarray], k: int, n_iter: int = 10, seed: int = 0, tol: float | None = None) -> SRMFit:
    """Block-coordinate-descent SRM (BrainIAK ``DetSRM(n_iter, features=k, rand_seed=seed)``); with ``tol``,
    until −sum_i ||X_i − W_i S||² changes by at most ``tol`` relatively (``n_iter`` iterations at most)."""
    xs = _check(xs, k)
    w = _init_w(xs, k, seed)
    s = sum(wi.T.dot(xi) for wi, xi in zip(w, xs)) / len(xs)
    trace = []
    for _ in range(n_iter):
        w = [_procrustes(xi.dot(s.T)) for xi in xs]
        s = sum(wi.T.dot(xi) for wi, xi in zip(w, xs)) / len(xs)
        trace.append(-float(sum(np.sum((xi - wi.dot(s)) ** 2) for wi, xi in zip(w, xs))))
        if _settled(trace, tol):
            break
    return SRMFit(w=w, s=s, trace=np.array(trace), converged=None if tol is None else _settled(trace, tol))


FITS = {"probabilistic": probabilistic_srm, "deterministic": deterministic_srm}
