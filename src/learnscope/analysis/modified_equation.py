"""Modified equation analysis on a quadratic (Kunin et al., ICLR 2021, Fig. 4; ``theory.ipynb``).

Loss 1/2 w^T A w with A = V^-1 diag(4, 1) V, V = [[-1, 1], [1, 1]] (so A = [[2.5, -1.5], [-1.5, 2.5]]),
solved per eigen-direction sigma at time t = eta k:

- ``gd``: gradient descent w <- w - eta A w; gradient flow e^{-sigma t}; modified loss
  L + (eta/4)|grad L|^2 (Barrett & Dherin), i.e. e^{-sigma (1 + eta sigma / 2) t}; modified flow
  (eta/2) w'' + w' = -A w (Kovachki & Stuart) started with the gradient-flow velocity.
- ``momentum``: heavy ball v <- beta v + A w, w <- w - eta v; momentum gradient flow
  e^{-sigma t/(1 - beta)}; modified flow w'' + 2 gamma w' + omega^2 w = 0 with
  gamma = (1 - beta)/(eta (1 + beta)), omega^2 = 2 sigma (1 + eta sigma/2)/(eta (1 + beta)), w'(0) = 0.
- negative controls (``control_*``): for ``gd`` the modified loss with its correction's sign reversed,
  L - (eta/4)|grad L|^2, i.e. e^{-sigma (1 - eta sigma / 2) t}; for ``momentum`` the modified flow built
  for a wrong momentum ``control_beta`` (the iterates keep ``beta``).
- ``rotation``: descent on the rotational field w <- w + eta J w spirals out as |w| = e^{eta t/2} to
  first order, where the flow stays on the unit circle: the finite-step mechanism of norm growth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from learnscope.atomic import atomic_path

V = np.array([[-1.0, 1.0], [1.0, 1.0]])
A = np.linalg.inv(V) @ np.diag([4.0, 1.0]) @ V


def second_order(sigma_ts: np.ndarray, damping: float, omega2: float, x0: float, v0: float) -> np.ndarray:
    """x(t) of x'' + 2 damping x' + omega2 x = 0 with x(0) = x0, x'(0) = v0 (distinct roots)."""
    disc = complex(damping**2 - omega2) ** 0.5
    r1, r2 = -damping + disc, -damping - disc
    c1 = (v0 - r2 * x0) / (r1 - r2)
    return (c1 * np.exp(r1 * sigma_ts) + (x0 - c1) * np.exp(r2 * sigma_ts)).real


def _in_eigenbasis(w0: np.ndarray, t: np.ndarray, solve) -> np.ndarray:
    """Apply per-eigen-direction solutions solve(sigma, x0, t) and map back to w coordinates, (len(t), 2)."""
    sig, vec = np.linalg.eigh(A)
    coords = vec.T @ w0
    return np.stack([solve(s, c, t) for s, c in zip(sig, coords)], axis=1) @ vec.T


def gd_panel(w0: np.ndarray, lr: float, steps: int) -> dict[str, np.ndarray]:
    t = lr * np.arange(steps + 1)
    it = [w0]
    for _ in range(steps):
        it.append(it[-1] - lr * A @ it[-1])
    return {
        "iterates": np.array(it),
        "gradient_flow": _in_eigenbasis(w0, t, lambda s, c, t: c * np.exp(-s * t)),
        "modified_loss": _in_eigenbasis(w0, t, lambda s, c, t: c * np.exp(-s * (1 + lr * s / 2) * t)),
        "modified_flow": _in_eigenbasis(w0, t, lambda s, c, t: second_order(t, 1.0 / lr, 2.0 * s / lr, c, -s * c)),
        "control_modified_loss": _in_eigenbasis(w0, t, lambda s, c, t: c * np.exp(-s * (1 - lr * s / 2) * t)),
    }


def _momentum_flow(w0: np.ndarray, t: np.ndarray, lr: float, beta: float) -> np.ndarray:
    """The heavy ball's modified (damped oscillator) flow for momentum ``beta``."""
    gamma = (1 - beta) / (lr * (1 + beta))
    return _in_eigenbasis(w0, t, lambda s, c, t: second_order(t, gamma, 2 * s * (1 + lr * s / 2) / (lr * (1 + beta)), c, 0.0))


def momentum_panel(w0: np.ndarray, lr: float, beta: float, steps: int, control_beta: float | None = None) -> dict[str, np.ndarray]:
    t = lr * np.arange(steps + 1)
    it, v = [w0], np.zeros(2)
    for _ in range(steps):
        v = beta * v + A @ it[-1]
        it.append(it[-1] - lr * v)
    out = {
        "iterates": np.array(it),
        "gradient_flow": _in_eigenbasis(w0, t, lambda s, c, t: c * np.exp(-s * t / (1 - beta))),
        "modified_flow": _momentum_flow(w0, t, lr, beta),
    }
    if control_beta is not None:
        out["control_modified_flow"] = _momentum_flow(w0, t, lr, control_beta)
    return out


def rotation_panel(lr: float, steps: int) -> dict[str, np.ndarray]:
    t = lr * np.arange(steps + 1)
    J = np.array([[0.0, -1.0], [1.0, 0.0]])
    it = [np.array([1.0, 0.0])]
    for _ in range(steps):
        it.append(it[-1] + lr * J @ it[-1])
    circle = np.stack([np.cos(t), np.sin(t)], axis=1)
    return {"iterates": np.array(it), "gradient_flow": circle, "modified_flow": circle * np.exp(lr * t / 2)[:, None]}


def table(options: dict) -> pd.DataFrame:
    w0 = np.asarray(options["w0"], dtype=np.float64)
    panels = {
        "gd": (float(options["gd_lr"]), gd_panel(w0, float(options["gd_lr"]), int(options["gd_steps"]))),
        "momentum": (float(options["momentum_lr"]), momentum_panel(w0, float(options["momentum_lr"]), float(options["beta"]), int(options["momentum_steps"]), float(options["control_beta"]))),
        "rotation": (float(options["rotation_lr"]), rotation_panel(float(options["rotation_lr"]), int(options["rotation_steps"]))),
    }
    rows = []
    for panel, (lr, curves) in panels.items():
        for method, w in curves.items():
            k = np.arange(len(w))
            rows.append(pd.DataFrame({"panel": panel, "method": method, "step": k, "time": lr * k, "w1": w[:, 0], "w2": w[:, 1]}))
    return pd.concat(rows, ignore_index=True)


def main(inputs: list[str], out: str, options: dict) -> None:
    with atomic_path(out) as tmp:
        table(options).to_csv(tmp, index=False, float_format="%.17g")
