"""Toy models of the three symmetries (Kunin et al., ICLR 2021, Figs. 2-3; ``theory.ipynb``).

- translation: softmax of the logits (w1 x, w2 x), scalar x ~ N(0, 1), random labels; generator (1, 1).
- scale: batch norm (no eps) of z = w1 x1 + w2 x2 over a batch of m inputs, squared error to random
  targets; generator (w1, w2).
- rescale: the linear path w2 w1 x, squared error to random targets; generator (w1, -w2).

``symmetry_fields`` (options ``part``): the gradient of each loss on a grid of [-1, 1]^2 (float64 autograd) and |cos| between the
gradient and the symmetry generator, which the gradient constraint says is 0.
``toy_trajectories``: gradient flow (adaptive RK45 at tight tolerance) and gradient descent with a finite
step from one start; the conserved quantity (w1 + w2, w1^2 + w2^2, w1^2 - w2^2) stays fixed under the
flow and drifts under GD (scale: grows as eta^2 sum |g|^2, the centrifugal effect).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.integrate import solve_ivp

from learnscope.atomic import atomic_path
from learnscope.errors import ConfigError

MODELS = ("translation", "scale", "rescale")


class Toy:
    """Random data of one toy model and its loss as a function of (w1, w2)."""

    def __init__(self, model: str, m: int, seed: int):
        g = torch.Generator().manual_seed(seed)
        self.model = model
        if model == "translation":
            self.x = torch.randn(m, generator=g, dtype=torch.float64)
            self.y = torch.randint(0, 2, (m,), generator=g)
        elif model == "scale":
            self.x = torch.randn(m, 2, generator=g, dtype=torch.float64)
            self.y = torch.randn(m, generator=g, dtype=torch.float64)
        else:
            self.x = torch.randn(m, generator=g, dtype=torch.float64)
            self.y = torch.randn(m, generator=g, dtype=torch.float64)

    def loss(self, w: torch.Tensor) -> torch.Tensor:
        if self.model == "translation":
            logits = self.x[:, None] * w[None, :]
            return torch.nn.functional.cross_entropy(logits, self.y)
        if self.model == "scale":
            z = self.x @ w
            zn = (z - z.mean()) / z.std(unbiased=False)
            return 0.5 * ((zn - self.y) ** 2).mean()
        return 0.5 * ((w[1] * w[0] * self.x - self.y) ** 2).mean()

    def grad(self, w: np.ndarray) -> np.ndarray:
        wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(self.loss(wt), wt)
        return g.numpy()

    def generator(self, w: np.ndarray) -> np.ndarray:
        return {"translation": np.ones(2), "scale": w, "rescale": np.array([w[0], -w[1]])}[self.model]

    def conserved(self, w: np.ndarray) -> float:
        return {"translation": w[0] + w[1], "scale": w[0] ** 2 + w[1] ** 2, "rescale": w[0] ** 2 - w[1] ** 2}[self.model]


def fields(n_grid: int, m: int, seed: int) -> pd.DataFrame:
    """Gradient field of each toy loss on an n_grid x n_grid grid of [-1, 1]^2 (even n_grid avoids 0)."""
    axis = np.linspace(-1, 1, n_grid)
    rows = []
    for model in MODELS:
        toy = Toy(model, m, seed)
        for w1 in axis:
            for w2 in axis:
                w = np.array([w1, w2])
                g, gen = toy.grad(w), toy.generator(w)
                cos = abs(g @ gen) / (np.linalg.norm(g) * np.linalg.norm(gen)) if np.linalg.norm(g) > 0 else 0.0
                rows.append({"model": model, "w1": w1, "w2": w2, "g1": g[0], "g2": g[1], "abs_cos_generator": cos})
    return pd.DataFrame(rows)


def trajectories(start: list[float], lr: float, steps: int, m: int, seed: int) -> pd.DataFrame:
    """Gradient flow and gradient descent (lr, steps) from ``start`` for each toy, with the conserved quantity."""
    rows = []
    times = lr * np.arange(steps + 1)
    for model in MODELS:
        toy = Toy(model, m, seed)
        w0 = np.asarray(start, dtype=np.float64)
        flow = solve_ivp(lambda t, w: -toy.grad(w), (0, times[-1]), w0, t_eval=times, rtol=1e-12, atol=1e-12)
        w = w0.copy()
        for k, t in enumerate(times):
            wf = flow.y[:, k]
            rows.append({"model": model, "method": "gradient_flow", "step": k, "time": t, "w1": wf[0], "w2": wf[1], "conserved": toy.conserved(wf)})
            rows.append({"model": model, "method": "gradient_descent", "step": k, "time": t, "w1": w[0], "w2": w[1], "conserved": toy.conserved(w)})
            w = w - lr * toy.grad(w)
    return pd.DataFrame(rows)


def main(inputs: list[str], out: str, options: dict) -> None:
    m, seed = int(options["batch"]), int(options["seed"])
    if options["part"] == "symmetry_fields":
        table = fields(int(options["n_grid"]), m, seed)
    elif options["part"] == "toy_trajectories":
        table = trajectories(list(options["start"]), float(options["lr"]), int(options["steps"]), m, seed)
    else:
        raise ConfigError(f"symmetry-fields: part {options['part']!r} is not known (allowed: symmetry_fields, toy_trajectories)")
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.17g")
