"""Prospective index (Song et al. 2024, ``pc_pi_layered``).

PC first relaxes the value nodes with the weights frozen (x_relaxed), then learns with the value nodes
frozen. The prospective index of hidden layer l compares how learning moves the feed-forward activity
with where inference had already put it,

    PI_l = cos(x_ff,after - x_ff,before,  x_relaxed - x_ff,before),

1 when inference foresaw the activity learning produces. Reported after 1 weight step and after many
(learning to convergence), averaged over hidden layers; one row per (seed, weight steps, layer). The
negative control (``control_index``) is the same cosine with the state relaxed toward an unrelated target
y' ~ N(0, 1) (drawn after s and y): inference that did not see y cannot foresee learning toward it.
"""

from __future__ import annotations

import pandas as pd
import torch

from learnscope.analysis.toy_nets import cosine, squared_loss, toy_mlp
from learnscope.atomic import atomic_path
from learnscope.rules.predictive_coding import evaluate, feedforward_values, layer_gradient, mlp_layers, relax


@torch.no_grad()
def indices(activation: str, depth: int, seed: int, weight_steps: int, options: dict) -> tuple[list[float], list[float]]:
    """Per hidden layer: the prospective index and its negative control (see the module doc)."""
    width = int(options["width"])
    layers = mlp_layers(toy_mlp(width, [width] * (depth - 1), width, activation, seed))
    g = torch.Generator().manual_seed(10_000 + seed)
    s = torch.randn(1, width, generator=g, dtype=torch.float64)
    y = torch.randn(1, width, generator=g, dtype=torch.float64)
    unrelated = torch.randn(1, width, generator=g, dtype=torch.float64)
    before = feedforward_values(layers, s)
    relax_to = lambda target: relax(layers, s, target, squared_loss, int(options["inference_steps"]), float(options["inference_rate"])).values
    relaxed, control = relax_to(y), relax_to(unrelated)
    for _ in range(weight_steps):
        st = evaluate(layers, s, relaxed, y, squared_loss, 1.0)
        grads = [layer_gradient(layers, st, i)[0] for i in range(len(layers))]
        for (lin, _), gw in zip(layers, grads):
            lin.weight -= float(options["lr"]) * gw
    after = feedforward_values(layers, s)
    pi = lambda states: [cosine(a - b, r - b) for a, b, r in zip(after, before, states)]
    return pi(relaxed), pi(control)


def main(inputs: list[str], out: str, options: dict) -> None:
    rows = [
        {"seed": seed, "weight_steps": k, "layer": layer + 1, "prospective_index": pi, "control_index": ctl}
        for seed in options["seeds"]
        for k in options["weight_steps"]
        for layer, (pi, ctl) in enumerate(zip(*indices(options["activation"], int(options["depth"]), seed, k, options)))
    ]
    with atomic_path(out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.9g")
