"""The small-loss-weight limit where predictive coding equals backprop (Song et al. 2024, Methods;
Whittington & Bogacz 2017; Millidge et al. 2022).

With the output loss weighted by beta in the energy, F = sum_l 1/2 ||x_l - mu_l||^2 + beta L, the
relaxed weight gradient divided by beta tends to backprop's gradient of L as beta -> 0, with an error
O(beta); at beta = 1 it differs (prospective configuration). For a bias-free MLP ``sizes`` with
``activation`` (Xavier-uniform) and a batch of ``batch`` N(0, 1) inputs with random labels, every
(loss, beta, seed) gives per weight layer the relative error ||dW_PC / beta - dW_BP|| / ||dW_BP|| and the
cosine of the two; both use the same loss and reduction (``losses``: squared_error | cross_entropy, each
summed over the batch, the paper's reduction). PC relaxes ``inference_steps`` at ``inference_rate``,
multiplied by ``inference_discount`` (default 0.5, the rule's) whenever the energy does not fall; the limit
is an equilibrium statement, so params use a constant rate (1.0): with 0.5 the rate collapses once the
energy's steps reach rounding level and the error floors at about 1e-4 instead of falling as beta.
"""

from __future__ import annotations

import pandas as pd
import torch

from learnscope.analysis.toy_nets import cosine, toy_mlp
from learnscope.atomic import atomic_path
from learnscope.rules import build_rule
from learnscope.rules.losses import Loss
from learnscope.rules.predictive_coding import mlp_layers


def comparison(loss: str, beta: float, seed: int, options: dict) -> list[dict]:
    sizes = [int(n) for n in options["sizes"]]
    model = toy_mlp(sizes[0], sizes[1:-1], sizes[-1], options["activation"], seed)
    g = torch.Generator().manual_seed(20_000 + seed)
    x = torch.randn(int(options["batch"]), sizes[0], generator=g, dtype=torch.float64)
    labels = torch.randint(0, sizes[-1], (int(options["batch"]),), generator=g)
    loss_fn = Loss(loss, "sum", "classification")
    bp = torch.autograd.grad(loss_fn(model(x), labels), [lin.weight for lin, _ in mlp_layers(model)])
    rule = build_rule({"name": "predictive_coding", "lr": 1.0, "loss_weight": beta, "inference_steps": int(options["inference_steps"]),
                       "inference_rate": float(options["inference_rate"]), "inference_discount": float(options.get("inference_discount", 0.5))})
    rule.setup(model)
    pc = [gw for gw, _ in rule.gradients(x, labels, loss_fn)]
    return [
        {"loss": loss, "beta": beta, "seed": seed, "layer": i + 1, "relative_error": float((p - b).norm() / b.norm()), "cosine": cosine(p, b)}
        for i, (p, b) in enumerate(zip(pc, bp))
    ]


def main(inputs: list[str], out: str, options: dict) -> None:
    torch.set_num_threads(1)
    rows = [r for loss in options["losses"] for beta in options["betas"] for seed in options["seeds"] for r in comparison(loss, float(beta), int(seed), options)]
    with atomic_path(out) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False, float_format="%.9g")
