"""Target alignment against the number of inference steps T (Song et al. 2024, Fig. 3e, whose PC arm
relaxes T = 512 steps; their other experiments 128).

For each (activation, depth, seed) the sample and the network of ``target_alignment`` (width ``width``,
bias-free, Xavier-uniform, s and y ~ N(0, 1)) take one learning step of size ``lr``:

- PC with T in ``steps``: T inference steps at rate gamma (discount ``inference_discount``), then the SGD
  weight step at the relaxed state; recorded with it, the convergence of the relaxation: the batch energy
  at the last inference step and ||x_l(T) - x_l(T-1)|| of the lowest value node (l = 1) and the largest
  over nodes;
- BP: one SGD step on all layers (independent of T);
- the control ``BP last k`` (k in ``last_k``): one SGD step of the same size on the last k weight layers
  only. Unconverged inference moves mostly the value nodes near the output, so PC's weight change
  concentrates there; this control asks how much target alignment that alone buys.

TA = cos(y_hat_after - y_hat_before, y - y_hat_before). One row per (activation, depth, seed, rule, T);
BP rows carry T = 0.
"""

from __future__ import annotations

import pandas as pd
import torch

from learnscope.analysis.target_alignment import sample
from learnscope.analysis.toy_nets import cosine, squared_loss, toy_mlp, toy_rule
from learnscope.atomic import atomic_path
from learnscope.rules.predictive_coding import mlp_layers


def _alignment(model, s, y, before) -> float:
    with torch.no_grad():
        return cosine(model(s) - before, y - before)


def bp_last_k(model, s: torch.Tensor, y: torch.Tensor, lr: float, k: int) -> float:
    """TA of one SGD step of size ``lr`` on the last ``k`` weight layers of ``model`` (all when k >= depth)."""
    layers = mlp_layers(model)
    with torch.no_grad():
        before = model(s)
    loss = squared_loss(model(s), y)
    weights = [lin.weight for lin, _ in layers[-k:]]
    grads = torch.autograd.grad(loss, weights)
    with torch.no_grad():
        for w, g in zip(weights, grads):
            w -= lr * g
    return _alignment(model, s, y, before)


def pc_step(model, s: torch.Tensor, y: torch.Tensor, steps: int, options: dict) -> dict:
    """One PC step with T = ``steps``: its TA and the relaxation's convergence."""
    learner = toy_rule("pc", float(options["lr"]), {**options, "inference_steps": steps})
    model = learner.setup(model)
    with torch.no_grad():
        before = model(s)
    learner.step(model, s, y, squared_loss)
    moves = learner.last_convergence["moves"]
    return {
        "target_alignment": _alignment(model, s, y, before),
        "energy": learner.last_convergence["energy"],
        "move_lowest": moves[0] if moves else float("nan"),
        "move_max": max(moves) if moves else float("nan"),
    }


def rows_for(activation: str, depth: int, seed: int, options: dict) -> list[dict]:
    width, lr = int(options["width"]), float(options["lr"])
    net = lambda: toy_mlp(width, [width] * (depth - 1), width, activation, seed)
    s, y = sample(width, seed)
    key = {"activation": activation, "depth": depth, "seed": seed}
    out = [{**key, "rule": "PC", "T": int(t), **pc_step(net(), s, y, int(t), options)} for t in options["steps"]]
    out.append({**key, "rule": "BP", "T": 0, "target_alignment": bp_last_k(net(), s, y, lr, depth)})
    out += [{**key, "rule": f"BP last {k}", "T": 0, "target_alignment": bp_last_k(net(), s, y, lr, int(k))} for k in options["last_k"] if int(k) < depth]
    return out


def main(inputs: list[str], out: str, options: dict) -> None:
    torch.set_num_threads(1)
    rows = [r for act in options["activations"] for depth in options["depths"] for seed in options["seeds"] for r in rows_for(act, int(depth), int(seed), options)]
    with atomic_path(out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.9g")
